// Findings as Google Model Explorer node data, the same shape graphlint.viewer.model_explorer_node_data writes:
// {graph id: {results: {node key: {value, bgColor}}, thresholds: [{value, bgColor, textColor}]}}.
import type { GraphJson, GraphNode, Report, Severity } from './types';

export const SEVERITY_RANK: Record<Severity, number> = { info: 1, warning: 2, error: 3 };
export const SEVERITY_COLOR: Record<Severity, string> = { info: '#5b8def', warning: '#f0a020', error: '#d93025' };

/** A severity's rank: 0 for none, 3 for an error. */
export function rankOf(sev: Severity | null | undefined): number {
  return sev ? SEVERITY_RANK[sev] : 0;
}

export interface NodeDataResult {
  value: number;
  bgColor: string;
}

export interface NodeDataThreshold {
  value: number;
  bgColor: string;
  textColor: string;
}

export type NodeData = Record<string, { results: Record<string, NodeDataResult>; thresholds: NodeDataThreshold[] }>;

function nodeKey(node: GraphNode, graph: GraphJson): string {
  // TFLite: Model Explorer numbers ops itself, so the first output tensor's name is the stable key.
  if (graph.format === 'tflite' && node.outputs.length) {
    const t = graph.tensors[node.outputs[0] ?? ''];
    if (t?.name) return t.name;
  }
  if (node.kind !== 'op' || graph.format !== 'graphdef' || !node.id.includes('::')) return node.id;
  return node.id.split('::').slice(1).join('::');
}

export function modelExplorerNodeData(report: Report, graph: GraphJson): NodeData {
  const worst = new Map<string, Severity>();
  for (const f of report.findings) {
    if (f.node === null || f.node === undefined) continue;
    if (rankOf(f.severity) > rankOf(worst.get(f.node))) worst.set(f.node, f.severity);
  }
  const thresholds = (Object.entries(SEVERITY_RANK) as [Severity, number][]).map(([sev, rank]) => ({
    value: rank, bgColor: SEVERITY_COLOR[sev], textColor: rank > 1 ? '#ffffff' : '#000000' }));
  const names = new Map(graph.subgraphs.map((s) => [String(s.id), s.name]));
  const out: NodeData = {};
  for (const node of graph.nodes) {
    const sev = worst.get(node.id);
    if (!sev) continue;
    const gid = names.get(String(node.subgraph)) || String(node.subgraph);
    out[gid] ??= { results: {}, thresholds };
    out[gid].results[nodeKey(node, graph)] = { value: SEVERITY_RANK[sev], bgColor: SEVERITY_COLOR[sev] };
  }
  return out;
}
