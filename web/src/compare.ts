// Two reports side by side: verdicts, which ops were fused or rewritten, which stayed float, and which findings
// are new or gone. The diff is computed from the two graphs and reports alone.
import { richText } from './findings';
import { renderInspector } from './inspector';
import { graphPane, modelLine } from './report';
import type { GraphPane } from './report';
import type { Finding, GraphJson, GraphNode, GraphTensor, Report } from './types';
import { baseName, h } from './util';

/** A report and its graph (null when the service has none). */
export type Loaded = [Report, GraphJson | null];

const QUANT_CLASSES = new Set(['int8', 'uint8', 'int16', 'int32q']);

function opCounts(graph: GraphJson): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of graph.nodes) {
    if (n.kind === 'op') counts.set(n.family ?? '', (counts.get(n.family ?? '') ?? 0) + 1);
  }
  return counts;
}

/** Ops that carry a fused activation (TFLite `fused_activation_function`), as "RELU into CONV_2D" → count. */
function fusedActivations(graph: GraphJson): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of graph.nodes) {
    const act = n.attrs.fused_activation_function;
    if (n.kind === 'op' && (typeof act === 'string' || typeof act === 'number') && act && act !== 'NONE') {
      const key = `${act} fused into ${n.op}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  }
  return out;
}

function dataTensors(graph: GraphJson, ids: readonly (string | null)[]): GraphTensor[] {
  return ids.flatMap((t) => {
    const tensor = t === null ? undefined : graph.tensors[t];
    return tensor && !tensor.const ? [tensor] : [];
  });
}

/** Whether a model is quantized, and its ops that compute in float (float data inputs or outputs). */
export function floatOps(graph: GraphJson): { quantized: boolean; ops: GraphNode[]; total: number } {
  const quantized = Object.values(graph.tensors).some((t) => QUANT_CLASSES.has(t.class) || t.quant);
  const ops = graph.nodes.filter((n) => n.kind === 'op' && [...dataTensors(graph, n.inputs),
    ...dataTensors(graph, n.outputs)].some((t) => t.class === 'float' || t.class === 'float16'));
  const total = graph.nodes.filter((n) => n.kind === 'op').length;
  return { quantized, ops, total };
}

export interface Keyed {
  f: Finding;
  i: number;
  keys: [string, string, string];
}

/** Match findings across two reports: by fingerprint, then by code and node name, then by code and message. */
export function diffFindings(ra: Report, ga: GraphJson | null, rb: Report, gb: GraphJson | null):
  { gone: Keyed[]; added: Keyed[]; common: Keyed[] } {
  const names = (g: GraphJson | null): Map<string, string> => new Map(g ? g.nodes.map((n) => [n.id, n.name]) : []);
  const keyed = (r: Report, nm: Map<string, string>): Keyed[] => r.findings.map((f, i) => ({ f, i,
    keys: [f.fingerprint, `${f.code}|${(f.node === null ? undefined : nm.get(f.node)) ?? ''}`, `${f.code}|${f.message}`] }));
  const a = keyed(ra, names(ga));
  const b = keyed(rb, names(gb));
  const matchedA = new Set<number>();
  const matchedB = new Set<number>();
  for (const k of [0, 1, 2] as const) {
    const index = new Map<string, Keyed[]>();
    for (const x of b) {
      if (matchedB.has(x.i)) continue;
      const list = index.get(x.keys[k]);
      if (list) list.push(x);
      else index.set(x.keys[k], [x]);
    }
    for (const x of a) {
      if (matchedA.has(x.i)) continue;
      const y = index.get(x.keys[k])?.find((c) => !matchedB.has(c.i));
      if (y) { matchedA.add(x.i); matchedB.add(y.i); }
    }
  }
  return { gone: a.filter((x) => !matchedA.has(x.i)), added: b.filter((x) => !matchedB.has(x.i)),
    common: a.filter((x) => matchedA.has(x.i)) };
}

type Change = 'new' | 'gone' | 'count';

export interface OpRow {
  family: string;
  a: number;
  b: number;
  change: Change;
}

export interface OpsDiff {
  rows: OpRow[];
  fusedA: Map<string, number>;
  fusedB: Map<string, number>;
}

export function diffOps(ga: GraphJson, gb: GraphJson): OpsDiff {
  const ca = opCounts(ga);
  const cb = opCounts(gb);
  const rows: OpRow[] = [];
  for (const fam of [...new Set([...ca.keys(), ...cb.keys()])].sort()) {
    const x = ca.get(fam) ?? 0;
    const y = cb.get(fam) ?? 0;
    if (x !== y) rows.push({ family: fam, a: x, b: y, change: !x ? 'new' : !y ? 'gone' : 'count' });
  }
  return { rows, fusedA: fusedActivations(ga), fusedB: fusedActivations(gb) };
}

const ACTIVATIONS: Record<string, string> = { relu: 'RELU', relu6: 'RELU6', relu_n1_to_1: 'RELU_N1_TO_1',
  tanh: 'TANH' };
const NO_OPS = new Set(['identity', 'no_op', 'stop_gradient', 'placeholder_with_default']);

/** Why an op family went away or appeared, when the two graphs say it. */
function explain(r: OpRow, ops: OpsDiff): HTMLDivElement | null {
  const note = (text: string): HTMLDivElement => h('div', { class: 'via' }, text);
  const act = ACTIVATIONS[r.family];
  if (r.change !== 'new' && act) {
    const fused = [...ops.fusedB.entries()].filter(([k]) => k.startsWith(`${act} fused into`));
    const n = fused.reduce((sum, [, v]) => sum + v, 0);
    if (n) return note(`fused as the activation of ${n} ${fused.map(([k]) => k.split(' ').pop()).join(', ')} op(s)`);
  }
  if (r.change !== 'new' && act === undefined && r.b < r.a && NO_OPS.has(r.family)) {
    return note('removed: does nothing at inference');
  }
  const bnGone = ops.rows.some((x) => x.change === 'gone' && (x.family === 'rsqrt' || x.family === 'batch_norm'));
  if (r.change === 'gone' && bnGone && ['add', 'sub', 'mul', 'rsqrt', 'batch_norm'].includes(r.family)) {
    return note('batch-norm arithmetic: folded into the weights and biases');
  }
  if (r.change === 'gone' && r.family === 'bias_add') return note('folded into the bias of the op before it');
  return null;
}

function table(caption: string, head: string[], rows: HTMLElement[], empty: string): HTMLTableElement {
  return h('table', { class: 'diff' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: String(head.length) }, empty))));
}

interface Side {
  side: 0 | 1;
  report: Report;
  graph: GraphJson | null;
  name: string;
}

/** The page's sections, and the buttons that reveal a node on either side's graph. */
class ComparePage {
  readonly panes: (GraphPane | undefined)[] = [];
  readonly sides: [Side, Side];
  private readonly openRule: (code: string) => void;

  constructor(a: Loaded, b: Loaded, openRule: (code: string) => void) {
    const name = (r: Report): string => baseName(r.model.path) || r.id;
    this.sides = [{ side: 0, report: a[0], graph: a[1], name: name(a[0]) },
      { side: 1, report: b[0], graph: b[1], name: name(b[0]) }];
    this.openRule = openRule;
  }

  nodeBtn(s: Side, nodeId: string | null): HTMLButtonElement | string {
    if (!nodeId) return 'whole model';
    const n = s.graph?.nodes.find((x) => x.id === nodeId);
    return h('button', { type: 'button', class: 'link', onclick: () => { void this.panes[s.side]?.view.reveal(nodeId); } },
      n ? n.name : nodeId);
  }

  verdicts(): HTMLTableElement {
    const [A, B] = this.sides;
    const targets = [...new Set([...Object.keys(A.report.targets), ...Object.keys(B.report.targets)])];
    return table('Verdicts', ['target', A.name, B.name], targets.map((t) => {
      const va = A.report.targets[t]?.verdict ?? '—';
      const vb = B.report.targets[t]?.verdict ?? '—';
      return h('tr', { class: va !== vb ? 'changed' : '' }, h('th', { scope: 'row' }, t),
        h('td', { class: `v-${va}` }, va), h('td', { class: `v-${vb}` }, vb));
    }), 'no targets');
  }

  opsTables(): [HTMLTableElement, HTMLTableElement] {
    const [A, B] = this.sides;
    const ops: OpsDiff = A.graph && B.graph ? diffOps(A.graph, B.graph) : { rows: [], fusedA: new Map(), fusedB: new Map() };
    const change: Record<Change, string> = { new: `only in ${B.name}`, gone: `only in ${A.name}`,
      count: 'count changed' };
    const opsTable = table('Ops that changed (by op family)', ['op family', A.name, B.name, 'change'],
      ops.rows.map((r) => h('tr', { class: `op-${r.change}` }, h('th', { scope: 'row' }, r.family),
        h('td', {}, String(r.a)), h('td', {}, String(r.b)), h('td', {}, change[r.change], explain(r, ops)))),
      'The same ops in both.');
    const fusedRows: HTMLElement[] = [];
    for (const [map, nm] of [[ops.fusedA, A.name], [ops.fusedB, B.name]] as const) {
      for (const [k, v] of [...map.entries()].sort()) {
        fusedRows.push(h('tr', {}, h('td', {}, nm), h('td', {}, k), h('td', {}, String(v))));
      }
    }
    return [opsTable, table('Fused activations', ['model', 'fusion', 'ops'], fusedRows, 'None.')];
  }

  floats(s: Side): HTMLElement {
    const g = s.graph;
    if (!g) return h('p', {}, `${s.name}: no graph.`);
    const f = floatOps(g);
    if (!f.quantized) {
      return h('p', {}, h('strong', {}, `${s.name}: `), `not quantized; all ${f.total} ops compute in float.`);
    }
    return h('div', { class: 'stayed-float' }, h('p', {}, h('strong', {}, `${s.name}: `),
      `quantized; ${f.ops.length} of ${f.total} ops still compute in float`, f.ops.length ? ':' : '.'),
    f.ops.length ? h('ul', {}, f.ops.slice(0, 100).map((n) => h('li', {}, h('span', { class: 'op' }, n.op), ' ',
      this.nodeBtn(s, n.id)))) : null);
  }

  findings(): HTMLElement {
    const [A, B] = this.sides;
    const fd = diffFindings(A.report, A.graph, B.report, B.graph);
    const head = ['severity', 'rule', 'node', 'message'];
    const frow = (x: Keyed, s: Side): HTMLTableRowElement => h('tr', { class: `sev-${x.f.severity}` },
      h('td', {}, x.f.severity), h('td', {}, h('a', { href: `#/rules/${x.f.code}`,
        onclick: (e: MouseEvent) => { e.preventDefault(); this.openRule(x.f.code); } }, x.f.code)),
      h('td', {}, this.nodeBtn(s, x.f.node)), h('td', {}, richText(x.f.message)));
    return h('section', { class: 'findings-diff', 'aria-label': 'Findings compared' },
      table(`New in ${B.name} (${fd.added.length})`, head, fd.added.map((x) => frow(x, B)), 'None.'),
      table(`Gone since ${A.name} (${fd.gone.length})`, head, fd.gone.map((x) => frow(x, A)), 'None.'),
      h('p', {}, `${fd.common.length} findings in both.`));
  }

  /** Each side's graph with its own inspector. */
  graphColumn(s: Side): HTMLElement {
    const g = s.graph;
    if (!g?.nodes.length) return h('p', {}, `${s.name}: no graph.`);
    const letter = s.side ? 'B' : 'A';
    const inspector = h('div', { class: 'inspector compact', 'aria-label': `Node inspector of ${letter}` });
    const p: GraphPane = graphPane(s.report, g, { label: `Graph of ${letter}, ${s.name}`,
      onSelect: (nodeId) => renderInspector(inspector, p.view.model, s.report, nodeId, {
        onNode: (id) => { void p.view.reveal(id); }, onRule: this.openRule }) });
    renderInspector(inspector, p.view.model, s.report, null, {});
    this.panes[s.side] = p;
    return h('div', { class: 'compare-col' }, p.root, inspector);
  }
}

export function renderCompare(main: HTMLElement, a: Loaded, b: Loaded,
  { openRule }: { openRule: (code: string) => void }): void {
  const page = new ComparePage(a, b, openRule);
  const [A, B] = page.sides;
  const [opsTable, fusedTable] = page.opsTables();
  const head = (label: string, s: Side): HTMLParagraphElement => h('p', {}, h('strong', {}, label), s.name, ' · ',
    modelLine(s.report), ' ', h('a', { href: `#/report/${s.report.id}` }, 'open'));
  const columns = h('div', { class: 'compare-graphs' });
  main.replaceChildren(h('div', { class: 'page compare-page' },
    h('h1', {}, `Compare ${A.name} with ${B.name}`),
    h('div', { class: 'compare-heads' }, head('A: ', A), head('B: ', B)),
    h('div', { class: 'compare-grid' }, page.verdicts(), h('section', { 'aria-label': 'Which ops stayed float' },
      h('h2', {}, 'Which ops compute in float'), page.floats(A), page.floats(B))),
    h('h2', {}, 'Ops fused or rewritten'), h('div', { class: 'compare-grid' }, opsTable, fusedTable),
    h('h2', {}, 'Findings new and gone'), page.findings(),
    h('h2', {}, 'Side by side'), columns));
  for (const s of page.sides) columns.append(page.graphColumn(s));
}
