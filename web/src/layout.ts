// Graph layout with dagre, run in a Web Worker (layout-worker.ts) so the page stays responsive.
// Small drawings use dagre's compound mode (scopes are real clusters); large ones are laid out flat and each
// open scope is drawn as the box around its members, which is several times faster.
import { Graph, layout } from '@dagrejs/dagre';
import type { EdgeLabel, GraphLabel, NodeLabel } from '@dagrejs/dagre';

export const COMPOUND_LIMIT = 150; // units; above this, flat layout + bounding boxes
const PAD = 8;

/** A box to place: a node or a collapsed scope, inside the open scope `parent` (or at the top). */
export interface LayoutUnit {
  id: string;
  width: number;
  height: number;
  parent: string | null;
}

/** An open scope, drawn as a box around its members. */
export interface LayoutCluster {
  id: string;
  parent: string | null;
}

export interface LayoutJob {
  units: LayoutUnit[];
  clusters: LayoutCluster[];
  edges: [string, string][];
  head: number; // room above every box, for the header of a scope that starts there
}

/** A placed box: its centre and size. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LayoutResult {
  units: Record<string, Box>;
  clusters: Record<string, Box>;
  edges: [number, number][][]; // the points of each job edge, in job order
  width: number;
  height: number;
  compound: boolean;
  ms: number;
}

/** A message to the layout worker, and its answer. */
export interface LayoutRequest {
  seq: number;
  job: LayoutJob;
}

export type LayoutReply = { seq: number; result: LayoutResult; error?: undefined } | { seq: number; error: string };

type Extent = [number, number, number, number]; // x0, y0, x1, y1

function placed(n: NodeLabel | undefined): Box {
  return { x: n?.x ?? 0, y: n?.y ?? 0, width: n?.width ?? 0, height: n?.height ?? 0 };
}

/** Boxes around members, innermost first so a parent encloses its children with padding (flat layout). */
function clusterBoxes(job: LayoutJob, units: Record<string, Box>): Record<string, Box> {
  const depth = new Map<string, number>();
  const byId = new Map(job.clusters.map((c) => [c.id, c]));
  const d = (c: LayoutCluster | undefined): number => {
    if (!c?.parent) return 0;
    return 1 + (depth.get(c.parent) ?? d(byId.get(c.parent)));
  };
  for (const c of job.clusters) depth.set(c.id, d(c));
  const ext = new Map<string, Extent>();
  const grow = (id: string, x0: number, y0: number, x1: number, y1: number): void => {
    const e = ext.get(id);
    if (!e) ext.set(id, [x0, y0, x1, y1]);
    else ext.set(id, [Math.min(e[0], x0), Math.min(e[1], y0), Math.max(e[2], x1), Math.max(e[3], y1)]);
  };
  for (const u of job.units) {
    const b = units[u.id];
    if (!u.parent || !b) continue;
    grow(u.parent, b.x - b.width / 2 - PAD, b.y - b.height / 2, b.x + b.width / 2 + PAD, b.y + b.height / 2 + PAD);
  }
  const clusters: Record<string, Box> = {};
  const order = [...job.clusters].sort((a, b) => (depth.get(b.id) ?? 0) - (depth.get(a.id) ?? 0));
  for (const c of order) {
    const e = ext.get(c.id);
    if (!e) continue;
    if (c.parent) grow(c.parent, e[0] - PAD, e[1] - job.head, e[2] + PAD, e[3] + PAD);
    clusters[c.id] = { x: (e[0] + e[2]) / 2, y: (e[1] + e[3]) / 2, width: e[2] - e[0], height: e[3] - e[1] };
  }
  return clusters;
}

function buildGraph(job: LayoutJob, compound: boolean): Graph<GraphLabel, NodeLabel, EdgeLabel> {
  const g = new Graph<GraphLabel, NodeLabel, EdgeLabel>({ compound, multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 22, edgesep: 6, marginx: 24, marginy: 24,
    ranker: compound ? 'network-simplex' : 'tight-tree' });
  g.setDefaultEdgeLabel(() => ({}));
  if (compound) {
    for (const c of job.clusters) g.setNode(`cluster:${c.id}`, { width: 0, height: 0 });
    for (const c of job.clusters) if (c.parent) g.setParent(`cluster:${c.id}`, `cluster:${c.parent}`);
  }
  for (const u of job.units) {
    g.setNode(u.id, { width: u.width, height: u.height });
    if (compound && u.parent) g.setParent(u.id, `cluster:${u.parent}`);
  }
  for (const [a, b] of job.edges) g.setEdge(a, b);
  return g;
}

export function runLayout(job: LayoutJob): LayoutResult {
  const t0 = performance.now();
  const compound = job.units.length <= COMPOUND_LIMIT;
  const g = buildGraph(job, compound);
  layout(g);
  const units: Record<string, Box> = {};
  for (const u of job.units) units[u.id] = placed(g.node(u.id));
  let clusters: Record<string, Box> = {};
  if (compound) {
    for (const c of job.clusters) clusters[c.id] = placed(g.node(`cluster:${c.id}`));
  } else {
    clusters = clusterBoxes(job, units);
  }
  const edges = job.edges.map(([a, b]) => (g.edge(a, b)?.points ?? []).map((p): [number, number] => [p.x, p.y]));
  const gg = g.graph();
  const size = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v > 0 ? v : 100);
  return { units, clusters, edges, width: size(gg.width), height: size(gg.height), compound,
    ms: +(performance.now() - t0).toFixed(1) };
}
