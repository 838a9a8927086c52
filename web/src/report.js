// One report: verdicts, findings by severity and rule, the graph with the findings on it, and the inspector.
import { getSarif } from './api.js';
import { renderFindings } from './findings.js';
import { EXPAND_ALL_LIMIT, GraphView } from './graph.js';
import { renderInspector } from './inspector.js';
import { renderJobs } from './jobs.js';
import { modelExplorerNodeData } from './nodedata.js';
import { VERDICT_TEXT, baseName, download, fmtBytes, h, toast } from './util.js';
import { verdictSection, verifiedLine } from './verify.js';

export function verdictCards(report) {
  return h('ul', { class: 'verdicts', 'aria-label': 'Verdict per target' },
    Object.entries(report.targets || {}).map(([t, v]) => h('li', { class: `verdict v-${v.verdict}` },
      h('span', { class: 'vt' }, t), h('span', { class: 'vv' }, v.verdict),
      h('span', { class: 'vh' }, VERDICT_TEXT[v.verdict] || ''),
      v.blocking && v.blocking.length ? h('span', { class: 'vb' }, `blocked by ${v.blocking.join(', ')}`) : null,
      verifiedLine(v.verified))));
}

export function modelLine(report) {
  const m = report.model || {};
  return [m.format || 'unreadable', m.size_bytes != null ? fmtBytes(m.size_bytes) : null,
    m.ops != null ? `${m.ops} ops` : null, m.sha256 ? `sha256 ${m.sha256.slice(0, 12)}…` : null]
    .filter(Boolean).join(' · ');
}

/** A toolbar + graph + search bound to one GraphView; returns {view, root}. */
export function graphPane(report, graph, { onSelect, label }) {
  const container = h('div', { class: 'graph-host' });
  const root = h('section', { class: 'graph-pane', 'aria-label': label });
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Search node name or op',
    'aria-label': `Search ${label} by node name or op`, autocomplete: 'off' });
  const results = h('ul', { class: 'search-results', role: 'list', hidden: true });
  const showConst = h('input', { type: 'checkbox', 'aria-label': 'Show constants' });
  const subgraphs = graph.subgraphs.length > 1 ? h('select', { 'aria-label': 'Subgraph' },
    graph.subgraphs.map((s) => h('option', { value: String(s.id) }, `subgraph ${s.name}`))) : null;
  const btn = (text, aria, fn) => h('button', { type: 'button', 'aria-label': aria, title: aria, onclick: fn }, text);
  const visibleNodes = graph.nodes.length;
  let view;
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': `${label} tools` },
    h('div', { class: 'search-box' }, search, results),
    subgraphs,
    btn('−', 'Zoom out', () => view.zoom(0.8)), btn('+', 'Zoom in', () => view.zoom(1.25)),
    btn('Fit', 'Fit the graph to the window', () => view.fit()),
    btn('Collapse', 'Collapse every name scope', () => view.collapseAll()),
    visibleNodes <= EXPAND_ALL_LIMIT ? btn('Expand', 'Expand every name scope', () => view.expandAll()) : null,
    h('label', { class: 'check' }, showConst, ' constants'),
    legend());
  root.append(toolbar, container);
  view = new GraphView(container, graph, report.findings, { onSelect, label });
  showConst.addEventListener('change', () => view.setShowConstants(showConst.checked));
  if (subgraphs) {
    container.addEventListener('subgraph', (e) => { subgraphs.value = String(e.detail); });
    subgraphs.addEventListener('change', () => {
      const s = graph.subgraphs.find((x) => String(x.id) === subgraphs.value);
      view.setSubgraph(s.id);
    });
  }
  const runSearch = () => {
    const q = search.value.trim().toLowerCase();
    if (!q) { results.hidden = true; return; }
    const hits = [];
    for (const n of graph.nodes) {
      if (n.name.toLowerCase().includes(q) || (n.op || '').toLowerCase().includes(q)) hits.push(n);
      if (hits.length > 50) break;
    }
    results.replaceChildren(
      h('li', { class: 'count' }, hits.length ? `${hits.length > 50 ? 'first 50' : hits.length} matches` : 'no match'),
      ...hits.slice(0, 50).map((n) => h('li', {}, h('button', { type: 'button', class: 'hit', 'data-node': n.id,
        onclick: () => { view.reveal(n.id); results.hidden = true; } },
      h('span', { class: 'op' }, n.op), ' ', n.name, n.severity ? h('span', { class: `sev-dot sev-${n.severity}`,
        'aria-label': n.severity }) : null))));
    results.hidden = false;
  };
  search.addEventListener('input', runSearch);
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
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'ArrowDown' && i < buttons.length - 1) { e.preventDefault(); buttons[i + 1].focus(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); (i > 0 ? buttons[i - 1] : search).focus(); }
    if (e.key === 'Escape') { results.hidden = true; search.focus(); }
  });
  return { view, root };
}

function legend() {
  const item = (cls, text) => h('li', {}, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
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

export function renderReport(main, report, graph, { openRule, compareWith }) {
  const m = report.model || {};
  const fatal = report.findings.find((f) => f.code === 'GL001' || f.code === 'GL002');
  const nodeNames = new Map(graph ? graph.nodes.map((n) => [n.id, n.name]) : []);
  const findingsRoot = h('div', { class: 'findings' });
  const inspector = h('aside', { class: 'inspector', 'aria-label': 'Node inspector', tabindex: '-1' });
  const targetFilter = h('select', { id: 'target-filter' }, h('option', { value: '' }, 'all targets'),
    Object.keys(report.targets || {}).map((t) => h('option', { value: t }, t)));
  let pane = null;
  let list;
  const inspect = (nodeId) => {
    renderInspector(inspector, pane.view.model, report, nodeId, {
      onNode: (id) => { pane.view.reveal(id); },
      onFinding: (i) => { list.highlight([i], true); list.item(i)?.querySelector('button, p')?.focus(); },
      onRule: openRule,
    });
    const node = pane.view.model.nodes.get(nodeId);
    list.highlight(node ? node.findings : []);
  };
  const drawFindings = () => {
    list = renderFindings(findingsRoot, report, { target: targetFilter.value, nodeNames, onRule: openRule,
      onNode: async (nodeId) => {
        if (!pane) return;
        if (await pane.view.reveal(nodeId)) inspector.querySelector('h2')?.focus({ preventScroll: true });
      } });
  };
  targetFilter.addEventListener('change', async () => {
    drawFindings();
    if (!pane) return;
    await pane.view.setTarget(targetFilter.value);
    if (pane.view.selected) inspect(pane.view.selected);
  });
  const name = baseName(m.path) || 'model';
  const exportsRow = h('div', { class: 'row wrap' },
    h('button', { type: 'button', onclick: () => download(`${name}.graphlint.json`, report) }, 'Report JSON'),
    h('button', { type: 'button', onclick: async () => {
      try { download(`${name}.sarif`, await getSarif(report.id)); } catch (e) { toast(`SARIF: ${e.message}`); }
    } }, 'SARIF'),
    graph ? h('button', { type: 'button', onclick: () => download(`${name}.node_data.json`,
      modelExplorerNodeData(report, graph)) }, 'Model Explorer node data') : null);
  const jobsRoot = h('div', { class: 'jobs' });
  const side = h('aside', { class: 'side', 'aria-label': 'Report' },
    h('h1', { class: 'model-name' }, name),
    h('p', { class: 'model-line' }, modelLine(report)),
    fatal ? h('div', { class: 'error', role: 'alert' }, h('strong', {}, 'This file could not be read as a model. '),
      fatal.message) : null,
    h('h2', {}, 'Verdict per target'), verdictSection(report, verdictCards),
    h('h2', {}, 'Findings'),
    h('p', { class: 'help' }, 'Grouped by severity, then by rule. Click a node name to see it on the graph.'),
    h('div', { class: 'row' }, h('label', { for: 'target-filter' }, 'Show findings for '), targetFilter),
    findingsRoot,
    h('details', { class: 'panel' }, h('summary', {}, 'Export'), h('p', { class: 'help' }, 'Download the '
      + 'findings: the JSON report, SARIF for code scanning, or node data to overlay in Google\'s Model Explorer.'),
    exportsRow),
    h('details', { class: 'panel' }, h('summary', {}, 'Compare with another report'),
      h('p', { class: 'help' }, 'For example a .pb and the .tflite made from it, or two versions of a model.'),
      compareWith(report)),
    h('details', { class: 'panel', id: 'jobs-panel' }, h('summary', {}, 'Fix and convert'), jobsRoot));
  renderJobs(jobsRoot, report);
  const layout = h('div', { class: 'report-layout' }, side);
  if (graph && graph.nodes.length) {
    pane = graphPane(report, graph, { onSelect: inspect, label: 'Model graph' });
    layout.append(pane.root, inspector);
  } else {
    layout.append(h('section', { class: 'graph-pane empty' }, h('p', {}, 'No graph to show for this report.')));
  }
  main.replaceChildren(layout);
  drawFindings();
  if (pane) {
    renderInspector(inspector, pane.view.model, report, null, {});
  }
  return pane;
}
