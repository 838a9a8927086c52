// The JSON the graphlint service sends (/v1): reports, findings, targets, the graph of a report, jobs, rules.
// graphlint/api/schemas.py describes the same shapes for the OpenAPI document; graphlint/viewer.py writes the graph.

export type Severity = 'error' | 'warning' | 'info';
export type Verdict = 'pass' | 'warn' | 'fail';

// --- reports --------------------------------------------------------------------------------------------

/** A finding's suggested fix. */
export interface Fix {
  title: string;
  applicability: string; // safe | unsafe | ...
  edits?: unknown[]; // graph edits, applied by the fix-and-convert job; the viewer only counts on their presence
}

/** One problem at one place in a model (report schema 1). */
export interface Finding {
  code: string; // GL101
  rule: string; // unfrozen-variable
  severity: Severity; // worst over its targets
  message: string; // names nodes and tensors in `backticks`
  node: string | null; // node id; null for a model-level finding
  op: string | null;
  tensor: string | null;
  targets: string[]; // the targets it affects; empty = every target
  target_severity?: Record<string, Severity> | null; // per target, where it differs from `severity`
  fix: Fix | null;
  fingerprint: string;
  confidence: string; // certain | likely
  data?: Record<string, unknown>;
}

/** A tensor as the report's model section lists it (the model's inputs and outputs). */
export interface TensorSummary {
  name: string;
  dtype: string | null;
  shape: (number | null)[] | null;
  quantization?: { scale: number[]; zero_point: number[]; axis: number | null };
}

export interface ModelInfo {
  path: string;
  format: string | null; // graphdef | tflite | savedmodel | keras | keras-h5 | ...; null when unreadable
  sha256: string;
  size_bytes: number | null;
  nodes: number;
  ops: number;
  tensors: number;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  outputs_inferred: boolean;
  subgraphs: string[];
}

/** What the real converter, LiteRT and TFLite Micro did for one target (a report checked with `verify`). */
export interface Verified {
  status: 'confirmed' | 'contradicted' | 'not-run';
  actual: Verdict | null;
  message: string | null;
  reproduce: string | null;
}

export interface TargetVerdict {
  verdict: Verdict;
  blocking: string[];
  warnings?: string[];
  verified?: Verified | null;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** The verification job of a report. */
export interface Verification {
  job: string | null;
  status: JobStatus;
  message: string | null;
  summary?: { confirmed?: number; contradicted?: number; not_run?: number } | null;
}

export interface ReportStats {
  by_severity: Partial<Record<Severity, number>>;
  by_code: Record<string, number>;
  findings: number;
}

/** A stored report: the CLI's JSON report plus where it is stored. */
export interface Report {
  id: string;
  name: string;
  created_at: string;
  schema_version: number;
  graphlint_version: string;
  model: ModelInfo;
  targets: Record<string, TargetVerdict>;
  findings: Finding[];
  stats: ReportStats;
  timings_ms: Record<string, number>;
  rules_run?: string[];
  verification?: Verification | null;
}

/** One item of the report list (`GET /v1/reports`). */
export interface ReportSummary {
  id: string;
  name: string;
  sha256: string;
  created_at: string;
  format: string | null;
  targets: Record<string, Verdict>;
  findings: number;
}

export interface ReportList {
  items: ReportSummary[];
  next: string | null; // the cursor of the next page; null on the last
}

// --- targets and rules ----------------------------------------------------------------------------------

export interface TargetInfo {
  name: string;
  description: string;
  recipe: string | null;
  runtimes: string[];
  integer: boolean;
  fallback: boolean;
  converts_as: string | null;
  default: boolean; // checked when a request names no target
}

export interface RuleMeta {
  code: string;
  name: string;
  summary: string;
  category: string;
  severity: Severity;
  formats: string[];
  targets?: string[];
  fix?: string;
  status: string;
  since?: string;
}

export interface RuleDoc extends RuleMeta {
  doc: string; // Markdown
}

// --- jobs -----------------------------------------------------------------------------------------------

export interface JobError {
  kind?: string;
  message?: string;
  node?: string | null;
}

export interface JobResult {
  status?: string;
  error?: string | JobError | null;
  files?: string[];
}

/** A fix-and-convert (or verify) job. */
export interface Job {
  id: string;
  status: JobStatus;
  progress: number; // 0..1
  message: string;
  attempts: number;
  request: Record<string, unknown>;
  result: JobResult | null;
  created_at: string;
  updated_at: string;
}

// --- the graph of a report (GET /v1/reports/{id}/graph, graphlint/viewer.py) -----------------------------

/** How a tensor is stored, as the graph colours it. */
export type TensorClass = 'float' | 'float16' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int32q' | 'other'
  | 'unknown';

export type NodeKind = 'op' | 'input' | 'const' | 'output';

export interface QuantJson {
  scale: (number | string)[]; // a non-finite scale is sent as its text ("inf")
  zero_point: number[];
  axis: number | null;
  channels: number;
  per_axis: boolean;
  truncated: boolean;
  range: [number | string, number | string] | null; // the float range its integers stand for
  recorded_range?: [number | string, number | string];
  channel_ranges?: [number | string, number | string][];
}

export interface GraphTensor {
  name: string;
  dtype: string | null;
  shape: (number | null)[] | null;
  shape_signature?: (number | null)[];
  producer: string | null;
  consumers: number;
  const: boolean;
  subgraph: SubgraphId;
  class: TensorClass;
  quant: QuantJson | null;
  nbytes?: number;
}

/** TFLite subgraphs are numbered; GraphDef ones are "main" or a function's name. */
export type SubgraphId = number | string;

/** An attribute value as the graph JSON gives it: plain JSON. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };

export interface GraphNode {
  id: string;
  name: string;
  label: string; // the last part of its name
  op: string | null;
  family: string | null;
  kind: NodeKind;
  subgraph: SubgraphId;
  scope: string | null; // innermost scope id; null at the top level
  index: number;
  attrs: Record<string, AttrValue>;
  inputs: (string | null)[]; // tensor ids in slot order (null: an absent optional input)
  outputs: string[];
  calls: string[];
  severity: Severity | null; // worst of its findings
  findings: number[]; // indices into the report's findings
  version?: number;
  device?: string;
  custom?: boolean;
}

export interface GraphEdge {
  tensor: string | null; // null for a control edge
  src: string;
  dst: string;
  src_slot: number;
  dst_slot: number;
  control: boolean;
}

export interface GraphScope {
  id: string; // <subgraph>::<path>
  path: string;
  name: string;
  parent: string | null;
  subgraph: SubgraphId;
  depth: number;
  nodes: number; // nodes below it, at any depth
  severity: Severity | null;
  findings: number;
}

export interface Subgraph {
  id: SubgraphId;
  name: string;
  main: boolean;
}

export interface GraphJson {
  schema_version: number;
  format: string | null;
  subgraphs: Subgraph[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  tensors: Record<string, GraphTensor>;
  scopes: GraphScope[];
  inputs: string[]; // tensor ids of the (main subgraph) inputs
  outputs: string[];
  model_findings: number[];
  unplaced_findings: number[];
  counts: Record<string, number>;
}

/** The service's errors: RFC 9457 problem+json. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: unknown; // a sentence, or FastAPI's list of validation errors
}
