// Drawing the laid-out graph as SVG: open scopes as boxes with a header, edges coloured by the tensor's storage
// type, nodes coloured by their worst finding with a type badge, collapsed scopes as stacked boxes.
import type { Box, LayoutJob, LayoutResult } from '../layout';
import type { GraphNode, Severity } from '../types';
import { CLASS_BADGE, h } from '../util';
import type { GraphModel, UnitEdge, ViewScope, Visible } from './model';

const SEV_GLYPH: Record<Severity, string> = { error: '!', warning: '▲', info: 'i' };
const NODE_H = 38;
const SCOPE_H = 46;
export const HEAD = 14; // room above every box, where the header of a scope that starts there is drawn

/** What a drawing is made from, and where clicks on it go. */
export interface DrawInput {
  model: GraphModel;
  expanded: ReadonlySet<string>;
  vis: Visible;
  box: LayoutResult;
  arrowId: string;
  onUnit: (unitId: string) => void; // a node or a collapsed scope was clicked
  onClusterHead: (scopeId: string) => void; // the header of an open scope was clicked
}

export interface Drawing {
  layers: SVGGElement[];
  unitEls: Map<string, SVGGElement>;
}

function textWidth(s: string): number {
  return Math.min(260, Math.max(70, s.length * 7 + 30));
}

function longest(a: string | null, b: string | null): string {
  return (a ?? '').length > (b ?? '').length ? a ?? '' : b ?? '';
}

function clip(s: string, width: number): string {
  const max = Math.max(4, Math.floor((width - 16) / 7));
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const plural = (n: number, word: string): string => `${n} ${word}${n > 1 ? 's' : ''}`;

/** The layout job for what is visible: each unit's size from its text, clusters and edges. */
export function layoutJobFor(model: GraphModel, vis: Visible, expanded: ReadonlySet<string>): LayoutJob {
  const units = [...vis.units.values()].map((u) => {
    const text = u.node ? longest(u.node.op, model.labelOf(u.node, expanded))
      : longest(`▸ ${u.scope.name}`, `${u.scope.visible} nodes · 99 findings`);
    const sev = u.node ? model.severityOf(u.node.id) : model.scopeSeverity(u.scope.id);
    const glyph = sev ? 24 : 0; // room for the severity mark
    return { id: u.id, width: textWidth(text) + 14 + glyph, height: (u.node ? NODE_H : SCOPE_H) + HEAD,
      parent: u.parent };
  });
  return { units, head: HEAD, edges: [...vis.edges.values()].map((e): [string, string] => [e.src, e.dst]),
    clusters: [...vis.clusters.keys()].map((id) => ({ id, parent: vis.clusterParent.get(id) ?? null })) };
}

/** The empty SVG a graph is drawn into: the arrowhead marker and the pan-and-zoom group. */
export function graphSvg(label: string, arrowId: string): { svg: SVGSVGElement; viewport: SVGGElement } {
  const svg = h('svg', { class: 'graph-svg', tabindex: '0', role: 'application',
    'aria-label': `${label}. Arrow keys move between nodes, Enter opens a node or a scope, Escape closes `
      + 'a scope, plus and minus zoom, 0 fits the graph.' });
  svg.append(h('defs', {}, h('marker', { id: arrowId, viewBox: '0 0 10 10', refX: '10', refY: '5',
    markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, h('path', { d: 'M0,0 L10,5 L0,10 z',
    class: 'arrowhead' }))));
  const viewport = h('g', { class: 'viewport' });
  svg.append(viewport);
  return { svg, viewport };
}

/** Draw everything visible, from the layout. */
export function drawGraph(input: DrawInput): Drawing {
  const unitEls = new Map<string, SVGGElement>();
  const nodeLayer = h('g', { class: 'nodes' });
  for (const u of input.vis.units.values()) {
    const b = input.box.units[u.id];
    if (!b) continue;
    const el = u.node ? drawNode(input, u.node, b) : drawScope(input, u.scope, b);
    el.dataset.unit = u.id;
    el.addEventListener('click', (e) => { e.stopPropagation(); input.onUnit(u.id); });
    unitEls.set(u.id, el);
    nodeLayer.append(el);
  }
  return { layers: [drawClusters(input), drawEdges(input), nodeLayer], unitEls };
}

function drawClusters({ vis, box, model, onClusterHead }: DrawInput): SVGGElement {
  const layer = h('g', { class: 'clusters' });
  for (const [sid, s] of vis.clusters) {
    const b = box.clusters[sid];
    if (!b) continue;
    const x = b.x - b.width / 2;
    const y = b.y - b.height / 2;
    const sev = model.scopeSeverity(sid);
    const header = h('g', { class: `cluster-head${sev ? ` sev-${sev}` : ''}`, 'data-scope': sid },
      h('title', {}, `Scope ${s.path}: click to collapse`),
      h('rect', { x, y, width: b.width, height: HEAD, rx: 3 }),
      h('text', { x: x + 6, y: y + 11 }, `▾ ${s.name}`));
    header.addEventListener('click', (e) => { e.stopPropagation(); onClusterHead(sid); });
    layer.append(h('g', { class: 'cluster' }, h('rect', { class: 'cluster-box', x, y, width: b.width,
      height: b.height, rx: 6 }), header));
  }
  return layer;
}

function edgeTitle(model: GraphModel, e: UnitEdge): string {
  const tensor = e.tensor === undefined ? undefined : model.tensors[e.tensor];
  return `${tensor ? `${tensor.name}: ${tensor.dtype}${tensor.quant ? ' (quantized)' : ''}` : ''}`
    + `${e.count > 1 ? ` and ${e.count - 1} more` : ''}`;
}

function drawEdges({ vis, box, model, arrowId }: DrawInput): SVGGElement {
  const layer = h('g', { class: 'edges' });
  [...vis.edges.values()].forEach((e, i) => {
    const pts = (box.edges[i] ?? []).map(([x, y]) => ({ x, y }));
    const nb = box.units[e.dst];
    const last = pts[pts.length - 1];
    if (!last || !nb) return;
    if (last.y <= nb.y - nb.height / 2 + 1) last.y += HEAD; // boxes are drawn HEAD below their layout top
    const d = pts.map((p, j) => `${j ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
    const only = e.classes.size === 1 ? [...e.classes][0] : undefined;
    layer.append(h('path', { class: `edge ${only ? `dt-${only}` : 'dt-mixed'}`, d, 'marker-end': `url(#${arrowId})` },
      h('title', {}, edgeTitle(model, e))));
  });
  return layer;
}

/** The box drawn for a unit: its layout box less the HEAD above it. */
function drawnBox(b: Box): Box & { left: number; top: number } {
  return { ...b, left: b.x - b.width / 2, top: b.y - b.height / 2 + HEAD, height: b.height - HEAD };
}

function nodeLabel(model: GraphModel, n: GraphNode, badge: string): string {
  const sev = model.severityOf(n.id);
  const count = model.shownFindings(n.id).length;
  const cls = model.outputClass(n);
  return `${n.op} ${n.name}${sev ? `, worst finding ${sev}, ${plural(count, 'finding')}` : ''}`
    + `${badge ? `, output ${cls}${model.isQuantized(n) ? ' quantized' : ''}` : ''}`;
}

function drawNode({ model, expanded }: DrawInput, n: GraphNode, layoutBox: Box): SVGGElement {
  const b = drawnBox(layoutBox);
  const { left: x, top: y } = b;
  const sev = model.severityOf(n.id);
  const cls = model.outputClass(n);
  const badge = n.kind === 'output' ? '' : CLASS_BADGE[cls];
  const label = nodeLabel(model, n, badge);
  return h('g', { class: `unit node kind-${n.kind}${sev ? ` sev-${sev}` : ''}`, role: 'button',
    'aria-label': label, tabindex: '-1', 'data-node': n.id },
  h('title', {}, label),
  h('rect', { x, y, width: b.width, height: b.height, rx: n.kind === 'op' ? 5 : 14 }),
  sev ? h('text', { class: 'glyph', x: x + 9, y: y + 15 }, SEV_GLYPH[sev]) : null,
  h('text', { class: 'op', x: b.x, y: y + 15, 'text-anchor': 'middle' }, clip(n.op ?? '', b.width)),
  h('text', { class: 'name', x: b.x, y: y + 30, 'text-anchor': 'middle' },
    clip(model.labelOf(n, expanded), b.width)),
  badge ? h('g', { class: `badge dt-${cls}` },
    h('rect', { x: x + b.width - 30, y: y - 7, width: 30, height: 14, rx: 7 }),
    h('text', { x: x + b.width - 15, y: y + 4, 'text-anchor': 'middle' }, badge)) : null);
}

function drawScope({ model }: DrawInput, s: ViewScope, layoutBox: Box): SVGGElement {
  const b = drawnBox(layoutBox);
  const { left: x, top: y } = b;
  const sev = model.scopeSeverity(s.id);
  const label = `Scope ${s.path}, ${s.visible} nodes, collapsed${sev ? `, worst finding ${sev}, `
    + `${plural(s.findings, 'finding')}` : ''}. Enter expands it.`;
  return h('g', { class: `unit scope${sev ? ` sev-${sev}` : ''}`, role: 'button', 'aria-label': label,
    'aria-expanded': 'false', tabindex: '-1', 'data-scope': s.id },
  h('title', {}, label),
  h('rect', { class: 'stack', x: x + 4, y: y + 4, width: b.width, height: b.height, rx: 6 }),
  h('rect', { x, y, width: b.width, height: b.height, rx: 6 }),
  sev ? h('text', { class: 'glyph', x: x + 9, y: y + 16 }, SEV_GLYPH[sev]) : null,
  h('text', { class: 'op', x: b.x, y: y + 18, 'text-anchor': 'middle' }, `▸ ${clip(s.name, b.width - 12)}`),
  h('text', { class: 'name', x: b.x, y: y + 35, 'text-anchor': 'middle' },
    `${s.visible} nodes${s.findings ? ` · ${plural(s.findings, 'finding')}` : ''}`));
}
