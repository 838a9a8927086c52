// Graph layout with dagre, run in a Web Worker (layout-worker.js) so the page stays responsive.
// Small drawings use dagre's compound mode (scopes are real clusters); large ones are laid out flat and each
// open scope is drawn as the box around its members, which is several times faster.
import { Graph, layout } from '@dagrejs/dagre';

export const COMPOUND_LIMIT = 150; // units; above this, flat layout + bounding boxes
const PAD = 8;

/**
 * job: {units: [{id, width, height, parent}], clusters: [{id, parent, head}], edges: [[src, dst]], head}
 * returns {units: {id: box}, clusters: {id: box}, edges: [points], width, height, compound, ms}
 */
export function runLayout(job) {
  const t0 = performance.now();
  const compound = job.units.length <= COMPOUND_LIMIT;
  const g = new Graph({ compound, multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 22, edgesep: 6, marginx: 24, marginy: 24,
    ranker: compound ? 'network-simplex' : 'tight-tree' });
  g.setDefaultEdgeLabel(() => ({}));
  if (compound) {
    for (const c of job.clusters) g.setNode(`cluster:${c.id}`, {});
    for (const c of job.clusters) if (c.parent) g.setParent(`cluster:${c.id}`, `cluster:${c.parent}`);
  }
  for (const u of job.units) {
    g.setNode(u.id, { width: u.width, height: u.height });
    if (compound && u.parent) g.setParent(u.id, `cluster:${u.parent}`);
  }
  for (const [a, b] of job.edges) g.setEdge(a, b);
  layout(g);
  const units = {};
  for (const u of job.units) {
    const n = g.node(u.id);
    units[u.id] = { x: n.x, y: n.y, width: n.width, height: n.height };
  }
  const clusters = {};
  if (compound) {
    for (const c of job.clusters) {
      const n = g.node(`cluster:${c.id}`);
      clusters[c.id] = { x: n.x, y: n.y, width: n.width, height: n.height };
    }
  } else {
    // Boxes around members, innermost first so a parent encloses its children with padding.
    const depth = new Map();
    const byId = new Map(job.clusters.map((c) => [c.id, c]));
    const d = (c) => (c.parent ? 1 + (depth.get(c.parent) ?? d(byId.get(c.parent))) : 0);
    for (const c of job.clusters) depth.set(c.id, d(c));
    const ext = new Map();
    const grow = (id, x0, y0, x1, y1) => {
      const e = ext.get(id);
      if (!e) ext.set(id, [x0, y0, x1, y1]);
      else { e[0] = Math.min(e[0], x0); e[1] = Math.min(e[1], y0); e[2] = Math.max(e[2], x1); e[3] = Math.max(e[3], y1); }
    };
    for (const u of job.units) {
      if (!u.parent) continue;
      const b = units[u.id];
      grow(u.parent, b.x - b.width / 2 - PAD, b.y - b.height / 2, b.x + b.width / 2 + PAD, b.y + b.height / 2 + PAD);
    }
    const order = [...job.clusters].sort((a, b) => depth.get(b.id) - depth.get(a.id));
    for (const c of order) {
      const e = ext.get(c.id);
      if (!e) continue;
      if (c.parent) grow(c.parent, e[0] - PAD, e[1] - job.head, e[2] + PAD, e[3] + PAD);
      clusters[c.id] = { x: (e[0] + e[2]) / 2, y: (e[1] + e[3]) / 2, width: e[2] - e[0], height: e[3] - e[1] };
    }
  }
  const edges = job.edges.map(([a, b]) => g.edge(a, b).points.map((p) => [p.x, p.y]));
  const gg = g.graph();
  const size = (v) => (Number.isFinite(v) && v > 0 ? v : 100);
  return { units, clusters, edges, width: size(gg.width), height: size(gg.height), compound,
    ms: +(performance.now() - t0).toFixed(1) };
}
