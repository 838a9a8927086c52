// The model graph: name scopes collapse into single boxes, only what is visible is laid out (dagre) and
// drawn (SVG). Nodes are coloured by their worst finding; edges and badges by the tensor's storage type.
import { severityFor } from './findings.js';
import { runLayout } from './layout.js';
import { SEVERITY_RANK } from './nodedata.js';
import { CLASS_BADGE, h } from './util.js';

const SEV_GLYPH = { error: '!', warning: '▲', info: 'i' };
const NODE_H = 38;
const SCOPE_H = 46;
const HEAD = 14; // room above every box, where the header of a scope that starts there is drawn
export const AUTO_BUDGET = 160; // units drawn when a graph opens: scopes are expanded while under this
const NEARLY_EMPTY = 8; // ...or, while fewer than this many units show, up to HARD_CAP (one wide scope at the top)
const HARD_CAP = 450;
export const EXPAND_ALL_LIMIT = 2500; // above this many nodes, "expand all" would not stay usable

/** Scope tree, unit mapping and visible-graph computation, independent of the DOM. */
export class GraphModel {
  constructor(graph, findings = [], { showConstants = false } = {}) {
    this.graph = graph;
    this.findings = findings;
    this.nodes = new Map(graph.nodes.map((n) => [n.id, n]));
    this.tensors = graph.tensors || {};
    this.scopes = new Map(graph.scopes.map((s) => [s.id, { ...s, childScopes: [], members: [], visible: 0 }]));
    this.showConstants = showConstants;
    this.pinned = new Set(); // constants shown because they were asked for (search, inspector links)
    this.inEdges = new Map();
    this.outEdges = new Map();
    for (const e of graph.edges) {
      push(this.outEdges, e.src, e);
      push(this.inEdges, e.dst, e);
    }
    for (const s of this.scopes.values()) if (s.parent) this.scopes.get(s.parent).childScopes.push(s.id);
    for (const n of graph.nodes) if (n.scope) this.scopes.get(n.scope).members.push(n.id);
    this.target = '';
    for (const n of graph.nodes) n.shown = n.findings;
    this.refreshHidden();
  }

  /**
   * Colour and count only the findings that affect `target` ('' = every target), as the findings list shows
   * them: each node takes its worst such finding, each scope the worst below it.
   */
  setTarget(target) {
    this.target = target;
    const worse = (a, b) => ((SEVERITY_RANK[b] || 0) > (SEVERITY_RANK[a] || 0) ? b : a);
    for (const s of this.scopes.values()) {
      s.severity = null;
      s.findings = 0;
    }
    for (const n of this.graph.nodes) {
      n.shown = n.findings.filter((i) => severityFor(this.findings[i], target));
      n.severity = n.shown.reduce((w, i) => worse(w, severityFor(this.findings[i], target)), null);
      if (!n.shown.length) continue;
      for (let sid = n.scope; sid; sid = this.scopes.get(sid).parent) {
        const s = this.scopes.get(sid);
        s.findings += n.shown.length;
        s.severity = worse(s.severity, n.severity);
      }
    }
  }

  /** Constants without findings are folded into their consumers (the inspector lists them as inputs). */
  refreshHidden() {
    this.hidden = new Set();
    for (const n of this.graph.nodes) {
      if (n.kind === 'const' && !this.showConstants && !n.findings.length && !this.pinned.has(n.id)) {
        this.hidden.add(n.id);
      }
    }
    for (const s of this.scopes.values()) s.visible = 0;
    for (const n of this.graph.nodes) {
      if (this.hidden.has(n.id)) continue;
      for (let sid = n.scope; sid; sid = this.scopes.get(sid).parent) this.scopes.get(sid).visible += 1;
    }
  }

  chain(scopeId) {
    const out = [];
    for (let sid = scopeId; sid; sid = this.scopes.get(sid).parent) out.push(sid);
    return out.reverse();
  }

  /** The visible unit a node is drawn in: itself, or its outermost collapsed scope. */
  unitOf(nodeId, expanded) {
    const n = this.nodes.get(nodeId);
    if (!n.scope) return nodeId;
    for (let sid = n.scope, top = null; ; sid = this.scopes.get(sid).parent) {
      if (!sid) return top ? `scope:${top}` : nodeId;
      if (!this.isOpen(sid, expanded)) top = sid;
    }
  }

  /** A scope with a single visible node is never drawn as a box: the node stands for it. */
  isOpen(sid, expanded) {
    return expanded.has(sid) || this.scopes.get(sid).visible <= 1;
  }

  isCluster(sid, expanded) {
    return expanded.has(sid) && this.scopes.get(sid).visible > 1;
  }

  /** The innermost scope drawn as a box around a unit (or null at the top). */
  clusterOf(scopeId, expanded) {
    for (let sid = scopeId; sid; sid = this.scopes.get(sid).parent) if (this.isCluster(sid, expanded)) return sid;
    return null;
  }

  /** A node's label: its last name part, with the scope it stands for when that scope is not drawn. */
  labelOf(n, expanded) {
    if (n.scope && !this.isCluster(n.scope, expanded) && this.scopes.get(n.scope).visible <= 1) {
      return `${this.scopes.get(n.scope).name}/${n.label}`;
    }
    return n.label;
  }

  /** Units, clusters (expanded scopes) and aggregated edges to draw for one subgraph. */
  visible(subgraph, expanded) {
    const units = new Map();
    const unitOf = new Map();
    for (const n of this.graph.nodes) {
      if (n.subgraph !== subgraph || this.hidden.has(n.id)) continue;
      const u = this.unitOf(n.id, expanded);
      unitOf.set(n.id, u);
      if (!units.has(u)) {
        units.set(u, u.startsWith('scope:') ? { id: u, scope: this.scopes.get(u.slice(6)) } : { id: u, node: n });
      }
    }
    const clusters = new Map();
    for (const u of units.values()) {
      u.parent = this.clusterOf(u.node ? u.node.scope : u.scope.parent, expanded);
      for (let sid = u.parent; sid && !clusters.has(sid); sid = this.scopes.get(sid).parent) {
        if (this.isCluster(sid, expanded)) clusters.set(sid, this.scopes.get(sid));
      }
    }
    for (const c of clusters.values()) c.cluster = this.clusterOf(c.parent, expanded);
    const edges = new Map();
    for (const e of this.graph.edges) {
      // Control dependencies are listed in the inspector, not drawn: a NoOp that waits on hundreds of nodes
      // would otherwise tie the whole layout together.
      if (e.control) continue;
      const a = unitOf.get(e.src);
      const b = unitOf.get(e.dst);
      if (!a || !b || a === b) continue;
      const key = `${a}\u0000${b}`;
      let agg = edges.get(key);
      if (!agg) edges.set(key, (agg = { id: key, src: a, dst: b, count: 0, classes: new Set(), control: true }));
      agg.count += 1;
      if (!e.control) {
        agg.control = false;
        const t = this.tensors[e.tensor];
        agg.classes.add(t ? t.class : 'unknown');
        agg.tensor = agg.tensor || e.tensor;
      }
    }
    return { units, clusters, edges };
  }

  /** Expand scopes breadth-first while the drawing stays under `budget` units. */
  autoExpand(subgraph, budget = AUTO_BUDGET) {
    const expanded = new Set();
    let count = this.visible(subgraph, expanded).units.size;
    let frontier = [...this.scopes.values()].filter((s) => !s.parent && s.subgraph === subgraph && s.visible);
    while (frontier.length) {
      frontier.sort((a, b) => a.visible - b.visible || (a.path < b.path ? -1 : 1));
      const next = [];
      for (const s of frontier) {
        const grow = s.members.filter((m) => !this.hidden.has(m)).length
          + s.childScopes.filter((c) => this.scopes.get(c).visible).length - 1;
        // a scope holding a single child scope costs nothing to open; a lone wide scope is opened anyway
        if (count + grow <= budget || grow <= 0 || (count < NEARLY_EMPTY && count + grow <= HARD_CAP)) {
          expanded.add(s.id);
          count += grow;
          next.push(...s.childScopes.map((c) => this.scopes.get(c)).filter((c) => c.visible));
        }
      }
      frontier = next;
    }
    return expanded;
  }

  outputClass(node) {
    const t = this.tensors[node.outputs[0]];
    return t ? t.class : 'unknown';
  }

  isQuantized(node) {
    const t = this.tensors[node.outputs[0]];
    return Boolean(t && t.quant);
  }
}

function push(map, key, value) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function textWidth(s) {
  return Math.min(260, Math.max(70, s.length * 7 + 30));
}

/** The interactive drawing. Calls onSelect(nodeId) when a node is chosen. */
export class GraphView {
  constructor(container, graph, findings, { onSelect = () => {}, label = 'Model graph' } = {}) {
    this.container = container;
    this.model = new GraphModel(graph, findings);
    this.onSelect = onSelect;
    this.subgraph = graph.subgraphs.length ? graph.subgraphs[0].id : 0;
    this.expanded = this.model.autoExpand(this.subgraph);
    this.view = { x: 0, y: 0, k: 1 };
    this.selected = null;
    this.focusedUnit = null;
    this.timings = [];
    this.label = label;
    this.seq = 0;
    this.bounds = { width: 100, height: 100 };
    this.build();
    this.ready = this.relayout().then(() => this.fit());
  }

  build() {
    this.svg = h('svg', { class: 'graph-svg', tabindex: '0', role: 'application',
      'aria-label': `${this.label}. Arrow keys move between nodes, Enter opens a node or a scope, Escape closes `
        + 'a scope, plus and minus zoom, 0 fits the graph.' });
    this.svg.append(h('defs', {}, h('marker', { id: `arrow-${uid}`, viewBox: '0 0 10 10', refX: '10', refY: '5',
      markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, h('path', { d: 'M0,0 L10,5 L0,10 z',
      class: 'arrowhead' }))));
    this.arrowId = `arrow-${uid++}`;
    this.viewport = h('g', { class: 'viewport' });
    this.svg.append(this.viewport);
    this.status = h('p', { class: 'graph-status', 'aria-live': 'polite' });
    this.container.replaceChildren(this.svg, this.status);
    this.bindPanZoom();
    this.svg.addEventListener('keydown', (e) => this.onKey(e));
  }

  async setSubgraph(id) {
    this.subgraph = id;
    this.expanded = this.model.autoExpand(id);
    if (await this.relayout()) this.fit();
  }

  /** Recolour nodes and scopes for the findings of one target ('' = all) and redraw. */
  async setTarget(target) {
    this.model.setTarget(target);
    await this.relayout();
  }

  async setShowConstants(on) {
    this.model.showConstants = on;
    this.model.refreshHidden();
    await this.relayout();
  }

  /** Lay out (in a worker) and draw what is visible now; resolves when drawn. Records the time each step took. */
  async relayout() {
    const t0 = performance.now();
    const seq = ++this.seq;
    const vis = this.model.visible(this.subgraph, this.expanded);
    const units = [...vis.units.values()].map((u) => {
      const text = u.node ? longest(u.node.op, this.model.labelOf(u.node, this.expanded))
        : longest(`▸ ${u.scope.name}`, `${u.scope.visible} nodes · 99 findings`);
      const glyph = (u.node ? u.node.severity : u.scope.severity) ? 24 : 0; // room for the severity mark
      return { id: u.id, width: textWidth(text) + 14 + glyph, height: (u.node ? NODE_H : SCOPE_H) + HEAD,
        parent: u.parent };
    });
    const job = { units, head: HEAD, edges: [...vis.edges.values()].map((e) => [e.src, e.dst]),
      clusters: [...vis.clusters.values()].map((c) => ({ id: c.id, parent: c.cluster })) };
    this.status.textContent = `Laying out ${units.length} boxes…`;
    this.svg.setAttribute('aria-busy', 'true');
    const t1 = performance.now();
    const result = await layoutJob(job);
    if (seq !== this.seq) return false; // a newer layout was asked for meanwhile
    const t2 = performance.now();
    this.box = result;
    this.vis = vis;
    this.draw();
    const t3 = performance.now();
    const total = this.model.graph.nodes.length;
    const timing = { units: vis.units.size, edges: vis.edges.size, clusters: vis.clusters.size, nodes: total,
      compound: result.compound, prepareMs: +(t1 - t0).toFixed(1), layoutMs: result.ms,
      layoutWallMs: +(t2 - t1).toFixed(1), drawMs: +(t3 - t2).toFixed(1) };
    this.timings.push(timing);
    (window.graphlintTimings ||= []).push(timing);
    const hiddenConst = this.model.hidden.size;
    this.status.textContent = !vis.units.size ? 'Nothing to draw in this subgraph.'
      : `${vis.units.size} boxes drawn for ${total} nodes`
      + `${vis.clusters.size ? `, ${vis.clusters.size} scopes open` : ''}`
      + `${hiddenConst ? `, ${hiddenConst} constants folded into their consumers` : ''}`
      + ` · layout ${timing.layoutMs} ms, drawing ${timing.drawMs} ms`;
    if (this.focusedUnit && !vis.units.has(this.focusedUnit)) this.focusedUnit = null;
    this.svg.removeAttribute('aria-busy');
    this.svg.dataset.ready = String(seq);
    this.applySelection();
    return true;
  }

  node(id) {
    return this.box && this.box.units[id];
  }

  draw() {
    const box = this.box;
    const clusterLayer = h('g', { class: 'clusters' });
    for (const [sid, s] of this.vis.clusters) {
      const b = box.clusters[sid];
      if (!b) continue;
      const x = b.x - b.width / 2;
      const y = b.y - b.height / 2;
      const sev = s.severity ? ` sev-${s.severity}` : '';
      const header = h('g', { class: `cluster-head${sev}`, 'data-scope': sid },
        h('title', {}, `Scope ${s.path}: click to collapse`),
        h('rect', { x, y, width: b.width, height: HEAD, rx: 3 }),
        h('text', { x: x + 6, y: y + 11 }, `▾ ${s.name}`));
      header.addEventListener('click', (e) => { e.stopPropagation(); this.toggleScope(sid); });
      clusterLayer.append(h('g', { class: 'cluster' }, h('rect', { class: 'cluster-box', x, y, width: b.width,
        height: b.height, rx: 6 }), header));
    }
    const edgeLayer = h('g', { class: 'edges' });
    [...this.vis.edges.values()].forEach((e, i) => {
      const pts = box.edges[i].map(([x, y]) => ({ x, y }));
      const nb = box.units[e.dst];
      const last = pts[pts.length - 1];
      if (last.y <= nb.y - nb.height / 2 + 1) last.y += HEAD; // boxes are drawn HEAD below their layout top
      const d = pts.map((p, j) => `${j ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
      const cls = e.classes.size === 1 ? `dt-${[...e.classes][0]}` : 'dt-mixed';
      const tensor = e.tensor && this.model.tensors[e.tensor];
      const title = `${tensor ? `${tensor.name}: ${tensor.dtype}${tensor.quant ? ' (quantized)' : ''}` : ''}`
        + `${e.count > 1 ? ` and ${e.count - 1} more` : ''}`;
      edgeLayer.append(h('path', { class: `edge ${cls}`, d, 'marker-end': `url(#${this.arrowId})` },
        h('title', {}, title)));
    });
    const nodeLayer = h('g', { class: 'nodes' });
    this.unitEls = new Map();
    for (const u of this.vis.units.values()) {
      const b = box.units[u.id];
      const el = u.node ? this.drawNode(u.node, b) : this.drawScope(u.scope, b);
      el.dataset.unit = u.id;
      el.addEventListener('click', (e) => { e.stopPropagation(); this.activate(u.id); });
      this.unitEls.set(u.id, el);
      nodeLayer.append(el);
    }
    this.viewport.replaceChildren(clusterLayer, edgeLayer, nodeLayer);
    this.bounds = { width: box.width, height: box.height };
  }

  drawNode(n, b) {
    const x = b.x - b.width / 2;
    const y = b.y - b.height / 2 + HEAD;
    b = { ...b, height: b.height - HEAD };
    const sev = n.severity;
    const cls = this.model.outputClass(n);
    const badge = n.kind === 'output' ? '' : CLASS_BADGE[cls] || '';
    const count = n.shown.length;
    const label = `${n.op} ${n.name}${sev ? `, worst finding ${sev}, ${count} finding${count > 1 ? 's' : ''}` : ''}`
      + `${badge ? `, output ${cls}${this.model.isQuantized(n) ? ' quantized' : ''}` : ''}`;
    return h('g', { class: `unit node kind-${n.kind}${sev ? ` sev-${sev}` : ''}`, role: 'button',
      'aria-label': label, tabindex: '-1', 'data-node': n.id },
    h('title', {}, label),
    h('rect', { x, y, width: b.width, height: b.height, rx: n.kind === 'op' ? 5 : 14 }),
    sev ? h('text', { class: 'glyph', x: x + 9, y: y + 15 }, SEV_GLYPH[sev]) : null,
    h('text', { class: 'op', x: b.x, y: y + 15, 'text-anchor': 'middle' }, clip(n.op, b.width)),
    h('text', { class: 'name', x: b.x, y: y + 30, 'text-anchor': 'middle' },
      clip(this.model.labelOf(n, this.expanded), b.width)),
    badge ? h('g', { class: `badge dt-${cls}` },
      h('rect', { x: x + b.width - 30, y: y - 7, width: 30, height: 14, rx: 7 }),
      h('text', { x: x + b.width - 15, y: y + 4, 'text-anchor': 'middle' }, badge)) : null);
  }

  drawScope(s, b) {
    const x = b.x - b.width / 2;
    const y = b.y - b.height / 2 + HEAD;
    b = { ...b, height: b.height - HEAD };
    const sev = s.severity;
    const label = `Scope ${s.path}, ${s.visible} nodes, collapsed${sev ? `, worst finding ${sev}, `
      + `${s.findings} finding${s.findings > 1 ? 's' : ''}` : ''}. Enter expands it.`;
    return h('g', { class: `unit scope${sev ? ` sev-${sev}` : ''}`, role: 'button', 'aria-label': label,
      'aria-expanded': 'false', tabindex: '-1', 'data-scope': s.id },
    h('title', {}, label),
    h('rect', { class: 'stack', x: x + 4, y: y + 4, width: b.width, height: b.height, rx: 6 }),
    h('rect', { x, y, width: b.width, height: b.height, rx: 6 }),
    sev ? h('text', { class: 'glyph', x: x + 9, y: y + 16 }, SEV_GLYPH[sev]) : null,
    h('text', { class: 'op', x: b.x, y: y + 18, 'text-anchor': 'middle' }, `▸ ${clip(s.name, b.width - 12)}`),
    h('text', { class: 'name', x: b.x, y: y + 35, 'text-anchor': 'middle' },
      `${s.visible} nodes${s.findings ? ` · ${s.findings} finding${s.findings > 1 ? 's' : ''}` : ''}`));
  }

  /** Click or Enter on a unit: a node is selected, a collapsed scope opens. */
  activate(unitId) {
    this.focusedUnit = unitId;
    if (unitId.startsWith('scope:')) {
      const sid = unitId.slice(6);
      const before = this.node(unitId);
      this.toggleScope(sid, before);
    } else {
      this.select(unitId);
    }
  }

  async toggleScope(sid, anchor) {
    const wasOpen = this.expanded.has(sid);
    if (wasOpen) {
      for (const e of [...this.expanded]) if (e === sid || e.startsWith(`${sid}/`)) this.expanded.delete(e);
    } else {
      this.expanded.add(sid);
    }
    const screen = anchor ? this.toScreen(anchor) : null;
    const hadFocus = this.hasFocus();
    if (!await this.relayout()) return;
    const target = wasOpen ? `scope:${sid}` : this.firstUnitIn(sid);
    if (target) {
      this.focusedUnit = target;
      if (screen) this.keepAt(target, screen);
      this.focusUnitEl(target, hadFocus);
    }
  }

  firstUnitIn(sid) {
    const kids = [...this.vis.units.values()].filter((u) => {
      const sc = u.node ? u.node.scope : u.scope.id;
      return sc === sid || (sc && sc.startsWith(`${sid}/`));
    }).map((u) => [u.id, this.node(u.id)]);
    kids.sort((a, b) => a[1].y - b[1].y || a[1].x - b[1].x);
    return kids.length ? kids[0][0] : null;
  }

  async expandAll() {
    for (const s of this.model.scopes.values()) if (s.subgraph === this.subgraph && s.visible) this.expanded.add(s.id);
    if (await this.relayout()) this.fit();
  }

  async collapseAll() {
    this.expanded = new Set();
    if (await this.relayout()) this.fit();
  }

  /** Select a node, opening the scopes around it, and centre the view on it. */
  async reveal(nodeId, { select = true } = {}) {
    const n = this.model.nodes.get(nodeId);
    if (!n) return false;
    let relayout = n.subgraph !== this.subgraph;
    if (relayout) {
      this.subgraph = n.subgraph;
      this.expanded = this.model.autoExpand(n.subgraph);
      this.container.dispatchEvent(new CustomEvent('subgraph', { detail: n.subgraph }));
    }
    if (this.model.hidden.has(nodeId)) {
      this.model.pinned.add(nodeId);
      this.model.refreshHidden();
      relayout = true;
    }
    for (const sid of this.model.chain(n.scope)) {
      if (!this.expanded.has(sid)) {
        this.expanded.add(sid);
        relayout = true;
      }
    }
    if (relayout && !await this.relayout()) return false;
    this.focusedUnit = nodeId;
    if (select) this.select(nodeId);
    this.centerOn(nodeId);
    return true;
  }

  select(nodeId) {
    this.selected = nodeId;
    this.focusedUnit = nodeId;
    this.applySelection();
    this.onSelect(nodeId);
  }

  applySelection() {
    if (!this.unitEls) return;
    for (const [id, el] of this.unitEls) {
      el.classList.toggle('selected', id === this.selected);
      el.setAttribute('tabindex', id === this.focusedUnit ? '0' : '-1');
    }
  }

  hasFocus() {
    return this.container.contains(document.activeElement);
  }

  /** Give a unit the graph's tab stop, and keyboard focus when the graph has it (or `force`). */
  focusUnitEl(unitId, force = false) {
    const el = this.unitEls.get(unitId);
    this.applySelection();
    if (el && (force || this.hasFocus())) el.focus({ preventScroll: true });
  }

  // --- pan and zoom ------------------------------------------------------------------------------------
  apply() {
    const { x, y, k } = this.view;
    this.viewport.setAttribute('transform', `translate(${x.toFixed(1)},${y.toFixed(1)}) scale(${k.toFixed(4)})`);
  }

  size() {
    const r = this.svg.getBoundingClientRect();
    return { w: r.width || 800, h: r.height || 600 };
  }

  /** Fit the drawing in the window; a drawing too tall to read that way fits its width and shows its top. */
  fit() {
    const { w, h: hh } = this.size();
    let k = Math.min(1.2, Math.min(w / this.bounds.width, hh / this.bounds.height) * 0.95);
    if (k < 0.45) k = Math.max(k, Math.min(0.9, (w / this.bounds.width) * 0.95));
    k = Math.max(0.03, k);
    this.view = { k, x: (w - this.bounds.width * k) / 2, y: Math.max(8, (hh - this.bounds.height * k) / 2) };
    this.apply();
  }

  zoom(factor, cx, cy) {
    const { w, h: hh } = this.size();
    const px = cx ?? w / 2;
    const py = cy ?? hh / 2;
    const k = Math.min(4, Math.max(0.03, this.view.k * factor));
    this.view.x = px - ((px - this.view.x) * k) / this.view.k;
    this.view.y = py - ((py - this.view.y) * k) / this.view.k;
    this.view.k = k;
    this.apply();
  }

  toScreen(p) {
    return { x: p.x * this.view.k + this.view.x, y: p.y * this.view.k + this.view.y };
  }

  keepAt(unitId, screen) {
    const p = this.node(unitId);
    if (!p) return;
    this.view.x = screen.x - p.x * this.view.k;
    this.view.y = screen.y - p.y * this.view.k;
    this.apply();
  }

  centerOn(unitId) {
    const p = this.node(unitId);
    if (!p) return;
    const { w, h: hh } = this.size();
    if (this.view.k < 0.6) this.view.k = 0.9;
    this.view.x = w / 2 - p.x * this.view.k;
    this.view.y = hh / 2 - p.y * this.view.k;
    this.apply();
  }

  bindPanZoom() {
    // Scroll pans, Ctrl+scroll (and a trackpad pinch) zooms around the pointer.
    this.svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      if (e.ctrlKey || e.metaKey) {
        const r = this.svg.getBoundingClientRect();
        this.zoom(Math.exp(-e.deltaY * 0.004), e.clientX - r.left, e.clientY - r.top);
      } else {
        this.view.x -= e.shiftKey ? e.deltaY : e.deltaX;
        this.view.y -= e.shiftKey ? 0 : e.deltaY;
        this.apply();
      }
    }, { passive: false });
    let drag = null;
    this.svg.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || e.target.closest('.unit, .cluster-head')) return;
      drag = { x: e.clientX, y: e.clientY, vx: this.view.x, vy: this.view.y };
      this.svg.setPointerCapture(e.pointerId);
      this.svg.classList.add('dragging');
    });
    this.svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.view.x = drag.vx + e.clientX - drag.x;
      this.view.y = drag.vy + e.clientY - drag.y;
      this.apply();
    });
    const end = () => { drag = null; this.svg.classList.remove('dragging'); };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', end);
  }

  onKey(e) {
    const step = 60;
    const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    if (moves[e.key] && e.shiftKey) {
      const [dx, dy] = moves[e.key];
      this.view.x -= dx * step;
      this.view.y -= dy * step;
      this.apply();
    } else if (moves[e.key]) {
      this.moveFocus(...moves[e.key]);
    } else if (e.key === 'Enter' || e.key === ' ') {
      if (!this.focusedUnit) return;
      this.activate(this.focusedUnit);
    } else if (e.key === 'Escape') {
      const u = this.focusedUnit && this.vis.units.get(this.focusedUnit);
      const parent = u && u.parent;
      if (!parent) return;
      const anchor = this.toScreen(this.node(u.id));
      const hadFocus = this.hasFocus();
      this.expanded.delete(parent);
      for (const s of [...this.expanded]) if (s.startsWith(`${parent}/`)) this.expanded.delete(s);
      this.relayout().then((done) => {
        if (!done) return;
        this.focusedUnit = `scope:${parent}`;
        this.keepAt(this.focusedUnit, anchor);
        this.focusUnitEl(this.focusedUnit, hadFocus);
      });
    } else if (e.key === '+' || e.key === '=') {
      this.zoom(1.25);
    } else if (e.key === '-' || e.key === '_') {
      this.zoom(0.8);
    } else if (e.key === '0') {
      this.fit();
    } else {
      return;
    }
    e.preventDefault();
  }

  /** Move keyboard focus to the nearest unit in a direction (or the first one when none has focus). */
  moveFocus(dx, dy) {
    const units = [...this.vis.units.keys()];
    if (!units.length) return;
    const cur = this.focusedUnit && this.node(this.focusedUnit);
    let best = null;
    if (!cur) {
      best = units.map((id) => [id, this.node(id)]).sort((a, b) => a[1].y - b[1].y || a[1].x - b[1].x)[0][0];
    } else {
      let bestScore = Infinity;
      for (const id of units) {
        if (id === this.focusedUnit) continue;
        const p = this.node(id);
        const ax = p.x - cur.x;
        const ay = p.y - cur.y;
        const along = ax * dx + ay * dy;
        if (along <= 1) continue;
        const across = Math.abs(ax * dy) + Math.abs(ay * dx);
        const score = along + across * 2.5;
        if (score < bestScore) { bestScore = score; best = id; }
      }
    }
    if (!best) return;
    this.focusedUnit = best;
    this.focusUnitEl(best);
    const p = this.toScreen(this.node(best));
    const { w, h: hh } = this.size();
    if (p.x < 40 || p.y < 40 || p.x > w - 40 || p.y > hh - 40) this.centerOn(best);
  }
}

let uid = 0;

// One layout worker for the page; without worker support, the layout runs on the page itself.
let worker = null;
let jobSeq = 0;
const pending = new Map();

/** Start the layout worker ahead of the first drawing. */
export function warmLayout() {
  if (worker === null) startWorker();
}

function startWorker() {
  try {
    worker = new Worker(new URL('./layout-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (e) => {
      const p = pending.get(e.data.seq);
      pending.delete(e.data.seq);
      if (p) (e.data.error ? p.reject(new Error(e.data.error)) : p.resolve(e.data.result));
    };
    worker.onerror = () => { worker = false; for (const p of pending.values()) p.fallback(); pending.clear(); };
  } catch {
    worker = false;
  }
}

function layoutJob(job) {
  if (worker === null) startWorker();
  if (!worker) return Promise.resolve(runLayout(job));
  return new Promise((resolve, reject) => {
    const seq = ++jobSeq;
    pending.set(seq, { resolve, reject, fallback: () => resolve(runLayout(job)) });
    worker.postMessage({ seq, job });
  });
}

function longest(a, b) {
  return (a || '').length > (b || '').length ? a : b;
}

function clip(s, width) {
  const max = Math.max(4, Math.floor((width - 16) / 7));
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
