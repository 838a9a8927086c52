// One report: verdicts, findings by severity and rule, the graph with the findings on it, and the inspector.
import { getSarif } from './api';
import { renderFindings } from './findings';
import type { FindingsList } from './findings';
import { EXPAND_ALL_LIMIT } from './graph/model';
import { GraphView } from './graph/view';
import { renderInspector } from './inspector';
import { renderJobs } from './jobs';
import { modelExplorerNodeData } from './nodedata';
import type { GraphJson, GraphNode, Report, SubgraphId } from './types';
import { VERDICT_TEXT, baseName, download, errorText, fmtBytes, h, toast } from './util';
import { verdictSection, verifiedLine } from './verify';

export function verdictCards(report: Report): HTMLUListElement {
  return h('ul', { class: 'verdicts', 'aria-label': 'Verdict per target' },
    Object.entries(report.targets).map(([t, v]) => h('li', { class: `verdict v-${v.verdict}` },
      h('span', { class: 'vt' }, t), h('span', { class: 'vv' }, v.verdict),
      h('span', { class: 'vh' }, VERDICT_TEXT[v.verdict]),
      v.blocking.length ? h('span', { class: 'vb' }, `blocked by ${v.blocking.join(', ')}`) : null,
      verifiedLine(v.verified))));
}

export function modelLine(report: Report): string {
  const m = report.model;
  return [m.format ?? 'unreadable', m.size_bytes !== null ? fmtBytes(m.size_bytes) : null,
    `${m.ops} ops`, m.sha256 ? `sha256 ${m.sha256.slice(0, 12)}…` : null]
    .filter(Boolean).join(' · ');
}

export interface GraphPane {
  view: GraphView;
  root: HTMLElement;
}

const MAX_HITS = 50;

/** The search box over a graph's nodes: a list of matches, each revealing its node. */
function searchBox(graph: GraphJson, label: string, view: GraphView): HTMLDivElement {
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Search node name or op',
    'aria-label': `Search ${label} by node name or op`, autocomplete: 'off' });
  const results = h('ul', { class: 'search-results', role: 'list', hidden: true });
  const hit = (n: GraphNode): HTMLLIElement => {
    const sev = view.model.severityOf(n.id);
    return h('li', {}, h('button', { type: 'button', class: 'hit', 'data-node': n.id,
      onclick: () => { void view.reveal(n.id); results.hidden = true; } },
    h('span', { class: 'op' }, n.op), ' ', n.name, sev ? h('span', { class: `sev-dot sev-${sev}`,
      'aria-label': sev }) : null));
  };
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    if (!q) { results.hidden = true; return; }
    const hits: GraphNode[] = [];
    for (const n of graph.nodes) {
      if (n.name.toLowerCase().includes(q) || (n.op ?? '').toLowerCase().includes(q)) hits.push(n);
      if (hits.length > MAX_HITS) break;
    }
    results.replaceChildren(h('li', { class: 'count' },
      hits.length ? `${hits.length > MAX_HITS ? `first ${MAX_HITS}` : hits.length} matches` : 'no match'),
    ...hits.slice(0, MAX_HITS).map(hit));
    results.hidden = false;
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'Enter') {
      const first = results.querySelector('button');
      if (first) { e.preventDefault(); if (e.key === 'Enter') first.click(); else first.focus(); }
    } else if (e.key === 'Escape') {
      results.hidden = true;
    }
  });
  results.addEventListener('keydown', (e) => {
    const buttons = [...results.querySelectorAll('button')];
    const i = buttons.findIndex((b) => b === document.activeElement);
    if (e.key === 'ArrowDown' && i < buttons.length - 1) { e.preventDefault(); buttons[i + 1]?.focus(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); (i > 0 ? buttons[i - 1] ?? search : search).focus(); }
    if (e.key === 'Escape') { results.hidden = true; search.focus(); }
  });
  return h('div', { class: 'search-box' }, search, results);
}

/** A toolbar + graph + search bound to one GraphView. */
export function graphPane(report: Report, graph: GraphJson,
  { onSelect, label }: { onSelect: (nodeId: string) => void; label: string }): GraphPane {
  const container = h('div', { class: 'graph-host' });
  const view = new GraphView(container, graph, report.findings, { onSelect, label });
  const showConst = h('input', { type: 'checkbox', 'aria-label': 'Show constants' });
  const subgraphs = graph.subgraphs.length > 1 ? h('select', { 'aria-label': 'Subgraph' },
    graph.subgraphs.map((s) => h('option', { value: String(s.id) }, `subgraph ${s.name}`))) : null;
  const btn = (text: string, aria: string, fn: () => unknown): HTMLButtonElement =>
    h('button', { type: 'button', 'aria-label': aria, title: aria, onclick: () => { void fn(); } }, text);
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': `${label} tools` },
    searchBox(graph, label, view),
    subgraphs,
    btn('−', 'Zoom out', () => view.zoom(0.8)), btn('+', 'Zoom in', () => view.zoom(1.25)),
    btn('Fit', 'Fit the graph to the window', () => view.fit()),
    btn('Collapse', 'Collapse every name scope', () => view.collapseAll()),
    graph.nodes.length <= EXPAND_ALL_LIMIT ? btn('Expand', 'Expand every name scope', () => view.expandAll()) : null,
    h('label', { class: 'check' }, showConst, ' constants'),
    legend());
  const root = h('section', { class: 'graph-pane', 'aria-label': label }, toolbar, container);
  showConst.addEventListener('change', () => { void view.setShowConstants(showConst.checked); });
  if (subgraphs) {
    container.addEventListener('subgraph', (e) => {
      subgraphs.value = String((e as CustomEvent<SubgraphId>).detail);
    });
    subgraphs.addEventListener('change', () => {
      const s = graph.subgraphs.find((x) => String(x.id) === subgraphs.value);
      if (s) void view.setSubgraph(s.id);
    });
  }
  return { view, root };
}

function legend(): HTMLDetailsElement {
  const item = (cls: string, text: string): HTMLLIElement => h('li', {},
    h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
  return h('details', { class: 'legend' }, h('summary', {}, 'Legend'),
    h('p', {}, 'Node colour: worst finding on it (or inside a collapsed scope), for the target the findings '
      + 'are shown for.'),
    h('ul', {}, item('sev-error', 'error'), item('sev-warning', 'warning'), item('sev-info', 'info'),
      item('sev-none', 'no finding')),
    h('p', {}, 'Edge colour and badge: the tensor\'s type.'),
    h('ul', {}, item('dt-float', 'float32 (f32)'), item('dt-float16', 'float16 (f16)'), item('dt-int8', 'int8 (i8)'),
      item('dt-uint8', 'uint8 (u8)'), item('dt-int16', 'int16 (i16)'), item('dt-int32', 'int32 (i32)'),
      item('dt-mixed', 'several types (collapsed)'), item('control', 'control dependency')),
    h('p', {}, 'Mouse: drag or scroll to pan, Ctrl+scroll to zoom, click a box to open it. Keyboard on the '
      + 'graph: arrows move, Enter opens, Escape closes a scope, + − zoom, 0 fits, Shift+arrows pan.'));
}

export interface ReportHandlers {
  openRule: (code: string) => void;
  compareWith: (report: Report) => HTMLElement;
}

function exportsRow(report: Report, graph: GraphJson | null, name: string): HTMLDivElement {
  return h('div', { class: 'row wrap' },
    h('button', { type: 'button', onclick: () => download(`${name}.graphlint.json`, report) }, 'Report JSON'),
    h('button', { type: 'button', onclick: () => {
      getSarif(report.id).then((sarif) => download(`${name}.sarif`, sarif))
        .catch((e: unknown) => toast(`SARIF: ${errorText(e)}`));
    } }, 'SARIF'),
    graph ? h('button', { type: 'button', onclick: () => download(`${name}.node_data.json`,
      modelExplorerNodeData(report, graph)) }, 'Model Explorer node data') : null);
}

function sidePanel(report: Report, graph: GraphJson | null, parts: { findingsRoot: HTMLElement;
  targetFilter: HTMLSelectElement; jobsRoot: HTMLElement }, { compareWith }: ReportHandlers): HTMLElement {
  const fatal = report.findings.find((f) => f.code === 'GL001' || f.code === 'GL002');
  const name = baseName(report.model.path) || 'model';
  return h('aside', { class: 'side', 'aria-label': 'Report' },
    h('h1', { class: 'model-name' }, name),
    h('p', { class: 'model-line' }, modelLine(report)),
    fatal ? h('div', { class: 'error', role: 'alert' }, h('strong', {}, 'This file could not be read as a model. '),
      fatal.message) : null,
    h('h2', {}, 'Verdict per target'), verdictSection(report, verdictCards),
    h('h2', {}, 'Findings'),
    h('p', { class: 'help' }, 'Grouped by severity, then by rule. Click a node name to see it on the graph.'),
    h('div', { class: 'row' }, h('label', { for: 'target-filter' }, 'Show findings for '), parts.targetFilter),
    parts.findingsRoot,
    h('details', { class: 'panel' }, h('summary', {}, 'Export'), h('p', { class: 'help' }, 'Download the '
      + 'findings: the JSON report, SARIF for code scanning, or node data to overlay in Google\'s Model Explorer.'),
    exportsRow(report, graph, name)),
    h('details', { class: 'panel' }, h('summary', {}, 'Compare with another report'),
      h('p', { class: 'help' }, 'For example a .pb and the .tflite made from it, or two versions of a model.'),
      compareWith(report)),
    h('details', { class: 'panel', id: 'jobs-panel' }, h('summary', {}, 'Fix and convert'), parts.jobsRoot));
}

export function renderReport(main: HTMLElement, report: Report, graph: GraphJson | null,
  handlers: ReportHandlers): GraphPane | null {
  const { openRule } = handlers;
  const nodeNames = new Map(graph ? graph.nodes.map((n) => [n.id, n.name]) : []);
  const findingsRoot = h('div', { class: 'findings' });
  const inspector = h('aside', { class: 'inspector', 'aria-label': 'Node inspector', tabindex: '-1' });
  const targetFilter = h('select', { id: 'target-filter' }, h('option', { value: '' }, 'all targets'),
    Object.keys(report.targets).map((t) => h('option', { value: t }, t)));
  const pane = graph?.nodes.length ? graphPane(report, graph, { onSelect: (id) => inspect(id), label: 'Model graph' })
    : null;
  let list: FindingsList | null = null;
  function inspect(nodeId: string): void {
    if (!pane) return;
    renderInspector(inspector, pane.view.model, report, nodeId, {
      onNode: (id) => { void pane.view.reveal(id); },
      onFinding: (i) => { list?.highlight([i], true); list?.item(i)?.querySelector<HTMLElement>('button, p')?.focus(); },
      onRule: openRule,
    });
    list?.highlight(pane.view.model.nodes.get(nodeId)?.findings ?? []);
  }
  const drawFindings = (): void => {
    list = renderFindings(findingsRoot, report, { target: targetFilter.value, nodeNames, onRule: openRule,
      onNode: (nodeId) => {
        if (!pane) return;
        void pane.view.reveal(nodeId).then((shown) => {
          if (shown) inspector.querySelector('h2')?.focus({ preventScroll: true });
        });
      } });
  };
  targetFilter.addEventListener('change', () => {
    drawFindings();
    if (!pane) return;
    void pane.view.setTarget(targetFilter.value).then(() => {
      if (pane.view.selected) inspect(pane.view.selected);
    });
  });
  const jobsRoot = h('div', { class: 'jobs' });
  const side = sidePanel(report, graph, { findingsRoot, targetFilter, jobsRoot }, handlers);
  renderJobs(jobsRoot, report);
  const layout = h('div', { class: 'report-layout' }, side);
  if (pane) layout.append(pane.root, inspector);
  else layout.append(h('section', { class: 'graph-pane empty' }, h('p', {}, 'No graph to show for this report.')));
  main.replaceChildren(layout);
  drawFindings();
  if (pane) renderInspector(inspector, pane.view.model, report, null, {});
  return pane;
}
