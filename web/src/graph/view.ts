// The interactive graph: name scopes collapse into single boxes, only what is visible is laid out (dagre, in a
// worker) and drawn (SVG). It ties together the model (model.ts), the drawing (draw.ts), pan and zoom
// (viewport.ts), the keyboard (keyboard.ts) and opening and closing scopes (scopes.ts).
import type { Box, LayoutResult } from '../layout';
import type { Finding, GraphJson, SubgraphId } from '../types';
import { h } from '../util';
import { drawGraph, graphSvg, layoutJobFor } from './draw';
import { bindKeyboard, firstUnit } from './keyboard';
import { layoutJob } from './layout-client';
import { GraphModel } from './model';
import type { Visible } from './model';
import { closeScopeAround, openAll, openChain, toggleScope } from './scopes';
import { Viewport } from './viewport';
import type { Rect } from './viewport';

export interface LayoutTiming {
  units: number;
  edges: number;
  clusters: number;
  nodes: number;
  compound: boolean;
  prepareMs: number;
  layoutMs: number;
  layoutWallMs: number;
  drawMs: number;
}

declare global {
  interface Window {
    graphlintTimings?: LayoutTiming[]; // every layout's timings, for the benchmarks and tests
  }
}

export interface GraphViewOptions {
  onSelect?: (nodeId: string) => void;
  label?: string;
}

let uid = 0;

/** The interactive drawing. Calls onSelect(nodeId) when a node is chosen. */
export class GraphView {
  readonly model: GraphModel;
  readonly viewport: Viewport;
  readonly ready: Promise<void>; // resolves once the first drawing is shown
  readonly timings: LayoutTiming[] = [];
  expanded: Set<string>;
  subgraph: SubgraphId;
  selected: string | null = null;
  focusedUnit: string | null = null;
  vis: Visible | null = null;
  private readonly container: HTMLElement;
  private readonly onSelect: (nodeId: string) => void;
  private readonly svg: SVGSVGElement;
  private readonly group: SVGGElement;
  private readonly status: HTMLParagraphElement;
  private readonly arrowId = `arrow-${uid++}`;
  private box: LayoutResult | null = null;
  private unitEls = new Map<string, SVGGElement>();
  private seq = 0;

  constructor(container: HTMLElement, graph: GraphJson, findings: Finding[],
    { onSelect = () => {}, label = 'Model graph' }: GraphViewOptions = {}) {
    this.container = container;
    this.model = new GraphModel(graph, findings);
    this.onSelect = onSelect;
    this.subgraph = graph.subgraphs[0]?.id ?? 0;
    this.expanded = this.model.openingScopes(this.subgraph, this.model.firstFailing(this.subgraph));
    ({ svg: this.svg, viewport: this.group } = graphSvg(label, this.arrowId));
    this.status = h('p', { class: 'graph-status', 'aria-live': 'polite' });
    this.container.replaceChildren(this.svg, this.status);
    this.viewport = new Viewport(this.svg, this.group);
    bindKeyboard(this.svg, this);
    this.ready = this.relayout().then(() => this.home());
  }

  async setSubgraph(id: SubgraphId): Promise<void> {
    this.subgraph = id;
    this.expanded = this.model.openingScopes(id, this.model.firstFailing(id));
    if (await this.relayout()) this.home();
  }

  /** Recolour nodes and scopes for the findings of one target ('' = all) and redraw. */
  async setTarget(target: string): Promise<void> {
    this.model.setTarget(target);
    await this.relayout();
  }

  async setShowConstants(on: boolean): Promise<void> {
    this.model.showConstants = on;
    this.model.refreshHidden();
    await this.relayout();
  }

  zoom(factor: number): void {
    this.viewport.zoom(factor);
  }

  /** Fit the whole graph in the pane, however small that makes it (the "0" key and the Fit button). */
  fit(): void {
    this.viewport.fit();
  }

  /** Lay out (in a worker) and draw what is visible now; resolves when drawn. Records the time each step took. */
  async relayout(): Promise<boolean> {
    const t0 = performance.now();
    const seq = ++this.seq;
    const vis = this.model.visible(this.subgraph, this.expanded);
    const job = layoutJobFor(this.model, vis, this.expanded);
    this.status.textContent = `Laying out ${job.units.length} boxes…`;
    this.svg.setAttribute('aria-busy', 'true');
    const t1 = performance.now();
    const result = await layoutJob(job);
    if (seq !== this.seq) return false; // a newer layout was asked for meanwhile
    const t2 = performance.now();
    this.box = result;
    this.vis = vis;
    this.draw(vis, result);
    const t3 = performance.now();
    const timing: LayoutTiming = { units: vis.units.size, edges: vis.edges.size, clusters: vis.clusters.size,
      nodes: this.model.graph.nodes.length, compound: result.compound, prepareMs: +(t1 - t0).toFixed(1),
      layoutMs: result.ms, layoutWallMs: +(t2 - t1).toFixed(1), drawMs: +(t3 - t2).toFixed(1) };
    this.timings.push(timing);
    (window.graphlintTimings ??= []).push(timing);
    this.status.textContent = this.statusText(vis, timing);
    if (this.focusedUnit && !vis.units.has(this.focusedUnit)) this.focusedUnit = null;
    this.svg.removeAttribute('aria-busy');
    this.svg.dataset.ready = String(seq);
    this.applySelection();
    return true;
  }

  private statusText(vis: Visible, timing: LayoutTiming): string {
    if (!vis.units.size) return 'Nothing to draw in this subgraph.';
    const hiddenConst = this.model.hidden.size;
    return `${vis.units.size} boxes drawn for ${timing.nodes} nodes`
      + `${vis.clusters.size ? `, ${vis.clusters.size} scopes open` : ''}`
      + `${hiddenConst ? `, ${hiddenConst} constants folded into their consumers` : ''}`
      + ` · layout ${timing.layoutMs} ms, drawing ${timing.drawMs} ms`;
  }

  private draw(vis: Visible, box: LayoutResult): void {
    const drawing = drawGraph({ model: this.model, expanded: this.expanded, vis, box, arrowId: this.arrowId,
      onUnit: (id) => this.activate(id),
      onClusterHead: (sid) => { void toggleScope(this, sid); } });
    this.unitEls = drawing.unitEls;
    this.group.replaceChildren(...drawing.layers);
    this.viewport.bounds = { width: box.width, height: box.height };
  }

  unitIds(): string[] {
    return this.vis ? [...this.vis.units.keys()] : [];
  }

  unitBox(unitId: string): Box | undefined {
    return this.box?.units[unitId];
  }

  /** Click or Enter on a unit: a node is selected, a collapsed scope opens. */
  activate(unitId: string): void {
    this.focusedUnit = unitId;
    if (unitId.startsWith('scope:')) void toggleScope(this, unitId.slice(6), this.unitBox(unitId));
    else this.select(unitId);
  }

  closeScopeAround(unitId: string): boolean {
    return closeScopeAround(this, unitId);
  }

  async expandAll(): Promise<void> {
    openAll(this.model, this.expanded, this.subgraph);
    if (await this.relayout()) this.home();
  }

  async collapseAll(): Promise<void> {
    this.expanded.clear();
    if (await this.relayout()) this.home();
  }

  /** Show the whole drawing as it opens: readable, on the first failing node or else the inputs (viewport.open). */
  home(): void {
    this.viewport.open(this.openingFocus());
  }

  /**
   * The box to open on: the first node failing a target (or the collapsed scope it is in), else the inputs, else
   * the top left unit.
   */
  private openingFocus(): Rect | null {
    const vis = this.vis;
    if (!vis) return null;
    const unitOf = (nodeId: string): string | null => {
      const n = this.model.nodes.get(nodeId);
      if (!n || n.subgraph !== this.subgraph || this.model.hidden.has(nodeId)) return null;
      const u = this.model.unitOf(nodeId, this.expanded);
      return vis.units.has(u) ? u : null;
    };
    const failing = this.model.firstFailing(this.subgraph);
    const failingUnit = failing === null ? null : unitOf(failing);
    if (failingUnit) return this.unitBox(failingUnit) ?? null;
    const inputs = this.inputNodes().map(unitOf).filter((u): u is string => u !== null);
    const first = firstUnit(this, inputs.length ? inputs : undefined);
    const box = first ? this.unitBox(first) : undefined;
    return box ?? null;
  }

  /** The model's inputs in the subgraph shown: the producers of its input tensors, else its input nodes. */
  private inputNodes(): string[] {
    const { graph } = this.model;
    const producers = graph.inputs.map((t) => graph.tensors[t]?.producer).filter((p): p is string => Boolean(p));
    const here = producers.filter((id) => this.model.nodes.get(id)?.subgraph === this.subgraph);
    if (here.length) return here;
    return graph.nodes.filter((n) => n.kind === 'input' && n.subgraph === this.subgraph).map((n) => n.id);
  }

  /** Select a node, opening the scopes around it, and centre the view on it. */
  async reveal(nodeId: string, { select = true } = {}): Promise<boolean> {
    const n = this.model.nodes.get(nodeId);
    if (!n) return false;
    let relayout = n.subgraph !== this.subgraph;
    if (relayout) {
      this.subgraph = n.subgraph;
      this.expanded = this.model.autoExpand(n.subgraph);
      this.container.dispatchEvent(new CustomEvent<SubgraphId>('subgraph', { detail: n.subgraph }));
    }
    if (this.model.hidden.has(nodeId)) {
      this.model.pinned.add(nodeId);
      this.model.refreshHidden();
      relayout = true;
    }
    if (openChain(this.model, this.expanded, n.scope)) relayout = true;
    if (relayout && !await this.relayout()) return false;
    this.focusedUnit = nodeId;
    if (select) this.select(nodeId);
    const box = this.unitBox(nodeId);
    if (box) this.viewport.centerOn(box);
    return true;
  }

  select(nodeId: string): void {
    this.selected = nodeId;
    this.focusedUnit = nodeId;
    this.applySelection();
    this.onSelect(nodeId);
  }

  private applySelection(): void {
    for (const [id, el] of this.unitEls) {
      el.classList.toggle('selected', id === this.selected);
      el.setAttribute('tabindex', id === this.focusedUnit ? '0' : '-1');
    }
  }

  hasFocus(): boolean {
    return this.container.contains(document.activeElement);
  }

  /** Give a unit the graph's tab stop, and keyboard focus when the graph has it (or `force`). */
  focusUnitEl(unitId: string, force = false): void {
    const el = this.unitEls.get(unitId);
    this.applySelection();
    if (el && (force || this.hasFocus())) el.focus({ preventScroll: true });
  }
}
