// The node inspector: op, attributes, input and output tensors with quantization, and the node's findings.
import { richText, severityFor } from './findings';
import type { GraphModel } from './graph/model';
import type { AttrValue, GraphTensor, Report } from './types';
import { fmtBytes, fmtNum, fmtShape, h } from './util';

type Role = 'input' | 'output';

export interface InspectorHandlers {
  onNode?: (nodeId: string) => void;
  onFinding?: (index: number) => void;
  onRule?: (code: string) => void;
}

export function quantText(t: GraphTensor): string | null {
  const q = t.quant;
  if (!q) return null;
  const nums = q.scale.map(Number);
  const scale = q.per_axis
    ? `per-axis (axis ${q.axis}, ${q.channels} channels), scale ${fmtNum(Math.min(...nums))}…${fmtNum(Math.max(...nums))}`
    : `scale ${fmtNum(q.scale[0] ?? '?')}, zero point ${q.zero_point[0]}`;
  const range = q.range ? ` → float [${fmtNum(q.range[0])}, ${fmtNum(q.range[1])}]` : '';
  return `${scale}${range}`;
}

function consumers(model: GraphModel, tid: string): string[] {
  const out: string[] = [];
  const t = model.tensors[tid];
  const edges = t?.producer ? model.outEdges.get(t.producer) ?? [] : [];
  for (const e of edges) if (e.tensor === tid && !out.includes(e.dst)) out.push(e.dst);
  return out;
}

function nodeLink(model: GraphModel, nid: string, role: Role, onNode: (id: string) => void): HTMLButtonElement {
  const n = model.nodes.get(nid);
  return h('button', { type: 'button', class: 'link', onclick: () => onNode(nid),
    'aria-label': `Go to ${role === 'input' ? 'producer' : 'consumer'} ${n ? n.name : nid}` },
  n ? (n.kind === 'const' ? `${n.name} (constant)` : n.name) : nid);
}

function tensorRows(model: GraphModel, ids: readonly (string | null)[], role: Role,
  onNode: (id: string) => void): HTMLTableRowElement[] {
  return ids.map((tid, slot) => {
    const t = tid === null ? undefined : model.tensors[tid];
    if (!t || tid === null) return h('tr', {}, h('td', {}, String(slot)), h('td', { colspan: '4' }, tid));
    const other = role === 'input' ? (t.producer ? [t.producer] : []) : consumers(model, tid);
    const links = other.map((nid) => nodeLink(model, nid, role, onNode));
    const q = quantText(t);
    return h('tr', {},
      h('td', {}, String(slot)),
      h('td', { class: 'tname' }, t.name, links.length ? h('div', { class: 'via' },
        role === 'input' ? 'from ' : 'to ', links) : null),
      h('td', {}, h('span', { class: `dtype dt-${t.class}` }, t.dtype ?? '?'),
        t.const ? h('span', { class: 'const-tag' }, ` const ${fmtBytes(t.nbytes)}`) : null),
      h('td', {}, fmtShape(t.shape), t.shape_signature ? h('div', { class: 'via' },
        `signature ${fmtShape(t.shape_signature)}`) : null),
      h('td', { class: 'quant' }, q ?? (t.class === 'float' ? 'float, not quantized' : '—')));
  });
}

function tensorTable(caption: string, rows: HTMLTableRowElement[]): HTMLTableElement {
  return h('table', { class: 'tensors' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['#', 'tensor', 'dtype', 'shape', 'quantization'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: '5' }, 'none'))));
}

function controlDeps(model: GraphModel, nodeId: string, onNode: (id: string) => void): HTMLDivElement | null {
  const before = (model.inEdges.get(nodeId) ?? []).filter((e) => e.control).map((e) => e.src);
  const after = (model.outEdges.get(nodeId) ?? []).filter((e) => e.control).map((e) => e.dst);
  if (!before.length && !after.length) return null;
  const link = (id: string): HTMLButtonElement => h('button', { type: 'button', class: 'link', onclick: () => onNode(id) },
    model.nodes.get(id)?.name ?? id);
  const list = (ids: string[]): (string | HTMLButtonElement)[] => ids.slice(0, 50)
    .flatMap((id, i): (string | HTMLButtonElement)[] => (i ? [', ', link(id)] : [link(id)]))
    .concat(ids.length > 50 ? [` and ${ids.length - 50} more`] : []);
  return h('div', { class: 'control-deps' }, h('h3', {}, 'Control dependencies (not drawn)'),
    before.length ? h('p', {}, 'runs after: ', list(before)) : null,
    after.length ? h('p', {}, 'runs before: ', list(after)) : null);
}

function attrValue(v: AttrValue | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The node's findings that concern the target the report is filtered to (all of them when it is not). */
function findingsSection(model: GraphModel, report: Report, nodeId: string,
  { onFinding, onRule }: InspectorHandlers): HTMLElement {
  const n = model.nodes.get(nodeId);
  const target = model.target;
  const findings = model.shownFindings(nodeId).flatMap((i) => {
    const f = report.findings[i];
    return f ? [{ f, i, sev: severityFor(f, target) }] : [];
  });
  const others = (n?.findings.length ?? 0) - findings.length;
  const title = findings.length ? `Findings on this node (${findings.length})` : 'No findings on this node';
  return h('section', { class: 'node-findings', 'aria-labelledby': 'nf-title' },
    h('h3', { id: 'nf-title' }, target ? `${title} for ${target}` : title),
    others ? h('p', { class: 'help other-targets' },
      `${others} more for other targets: choose "all targets" under Findings to see ${others > 1 ? 'them' : 'it'}.`)
      : null,
    h('ul', {}, findings.map(({ f, i, sev }) => h('li', { class: `finding sev-${sev}` },
      h('span', { class: `sev-dot sev-${sev}`, 'aria-hidden': 'true' }),
      h('strong', {}, `${sev} ${f.code} `), h('span', {}, richText(f.message)),
      f.fix ? h('p', { class: 'fix' }, `Fix (${f.fix.applicability}): `, richText(f.fix.title)) : null,
      h('div', { class: 'row' },
        onFinding ? h('button', { type: 'button', class: 'link', onclick: () => onFinding(i) },
          'Show in the findings list') : null,
        h('button', { type: 'button', class: 'link', onclick: () => onRule?.(f.code) }, `Docs for ${f.code}`))))));
}

/** Render the inspector for one node (or, for null, what to do to see one). */
export function renderInspector(root: HTMLElement, model: GraphModel, report: Report, nodeId: string | null,
  handlers: InspectorHandlers): void {
  const n = nodeId === null ? undefined : model.nodes.get(nodeId);
  if (!n) {
    root.replaceChildren(h('p', { class: 'empty' }, 'Select a node on the graph, or a finding, to inspect it.'));
    return;
  }
  const onNode = handlers.onNode ?? (() => {});
  const scope = n.scope ? model.scope(n.scope).path : '';
  const attrs = Object.entries(n.attrs);
  const parts: (HTMLElement | null)[] = [
    h('h2', { id: 'inspector-title', tabindex: '-1' }, h('span', { class: 'op' }, n.op), ' ', h('span', { class: 'nm' }, n.label)),
    h('dl', { class: 'facts' },
      h('dt', {}, 'name'), h('dd', {}, n.name),
      h('dt', {}, 'kind'), h('dd', {}, n.kind === 'op' ? `op (${n.family})` : n.kind),
      scope ? [h('dt', {}, 'scope'), h('dd', {}, scope)] : null,
      model.graph.subgraphs.length > 1 ? [h('dt', {}, 'subgraph'), h('dd', {}, String(n.subgraph))] : null,
      n.version ? [h('dt', {}, 'op version'), h('dd', {}, String(n.version))] : null,
      n.calls.length ? [h('dt', {}, 'calls'), h('dd', {}, n.calls.join(', '))] : null),
    findingsSection(model, report, n.id, handlers),
    tensorTable('Inputs', tensorRows(model, n.inputs, 'input', onNode)),
    controlDeps(model, n.id, onNode),
    tensorTable('Outputs', tensorRows(model, n.outputs, 'output', onNode)),
    h('table', { class: 'attrs' }, h('caption', {}, `Attributes (${attrs.length})`),
      h('tbody', {}, attrs.length ? attrs.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k),
        h('td', {}, attrValue(v)))) : h('tr', {}, h('td', {}, 'none')))),
  ];
  root.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
}
