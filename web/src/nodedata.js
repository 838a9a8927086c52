// Findings as Google Model Explorer node data, the same shape graphlint.viewer.model_explorer_node_data writes:
// {graph id: {results: {node key: {value, bgColor}}, thresholds: [{value, bgColor, textColor}]}}.
export const SEVERITY_RANK = { info: 1, warning: 2, error: 3 };
export const SEVERITY_COLOR = { info: '#5b8def', warning: '#f0a020', error: '#d93025' };

function nodeKey(node, graph) {
  // TFLite: Model Explorer numbers ops itself, so the first output tensor's name is the stable key.
  if (graph.format === 'tflite' && node.outputs.length) {
    const t = graph.tensors[node.outputs[0]];
    if (t && t.name) return t.name;
  }
  if (node.kind !== 'op' || graph.format !== 'graphdef' || !node.id.includes('::')) return node.id;
  return node.id.split('::').slice(1).join('::');
}

export function modelExplorerNodeData(report, graph) {
  const worst = new Map();
  for (const f of report.findings) {
    if (f.node == null) continue;
    if ((SEVERITY_RANK[f.severity] || 0) > (SEVERITY_RANK[worst.get(f.node)] || 0)) worst.set(f.node, f.severity);
  }
  const thresholds = Object.entries(SEVERITY_RANK).map(([sev, rank]) => ({
    value: rank, bgColor: SEVERITY_COLOR[sev], textColor: rank > 1 ? '#ffffff' : '#000000' }));
  const names = new Map((graph.subgraphs || []).map((s) => [String(s.id), s.name]));
  const out = {};
  for (const node of graph.nodes) {
    const sev = worst.get(node.id);
    if (!sev) continue;
    const gid = names.get(String(node.subgraph ?? 0)) || String(node.subgraph ?? 0);
    out[gid] ||= { results: {}, thresholds };
    out[gid].results[nodeKey(node, graph)] = { value: SEVERITY_RANK[sev], bgColor: SEVERITY_COLOR[sev] };
  }
  return out;
}
