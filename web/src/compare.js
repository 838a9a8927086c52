// Two reports side by side: verdicts, which ops were fused or rewritten, which stayed float, and which findings
// are new or gone. The diff is computed from the two graphs and reports alone.
import { richText } from './findings.js';
import { renderInspector } from './inspector.js';
import { graphPane, modelLine } from './report.js';
import { baseName, h } from './util.js';

const QUANT_CLASSES = new Set(['int8', 'uint8', 'int16', 'int32q']);

function opCounts(graph) {
  const counts = new Map();
  for (const n of graph.nodes) if (n.kind === 'op') counts.set(n.family, (counts.get(n.family) || 0) + 1);
  return counts;
}

/** Ops that carry a fused activation (TFLite `fused_activation_function`), as "RELU into CONV_2D" → count. */
function fusedActivations(graph) {
  const out = new Map();
  for (const n of graph.nodes) {
    const act = n.attrs && n.attrs.fused_activation_function;
    if (n.kind === 'op' && act && act !== 'NONE') {
      const key = `${act} fused into ${n.op}`;
      out.set(key, (out.get(key) || 0) + 1);
    }
  }
  return out;
}

function dataTensors(graph, ids) {
  return ids.map((t) => graph.tensors[t]).filter((t) => t && !t.const);
}

/** Whether a model is quantized, and its ops that compute in float (float data inputs or outputs). */
export function floatOps(graph) {
  const quantized = Object.values(graph.tensors).some((t) => QUANT_CLASSES.has(t.class) || t.quant);
  const ops = graph.nodes.filter((n) => n.kind === 'op' && [...dataTensors(graph, n.inputs),
    ...dataTensors(graph, n.outputs)].some((t) => t.class === 'float' || t.class === 'float16'));
  const total = graph.nodes.filter((n) => n.kind === 'op').length;
  return { quantized, ops, total };
}

/** Match findings across two reports: by fingerprint, then by code and node name, then by code and message. */
export function diffFindings(ra, ga, rb, gb) {
  const names = (g) => new Map(g ? g.nodes.map((n) => [n.id, n.name]) : []);
  const na = names(ga);
  const nb = names(gb);
  const keyed = (r, nm) => r.findings.map((f, i) => ({ f, i, keys: [f.fingerprint, `${f.code}|${nm.get(f.node) || ''}`,
    `${f.code}|${f.message}`] }));
  const a = keyed(ra, na);
  const b = keyed(rb, nb);
  const matchedA = new Set();
  const matchedB = new Set();
  for (let k = 0; k < 3; k += 1) {
    const index = new Map();
    for (const x of b) if (!matchedB.has(x.i)) (index.get(x.keys[k]) || index.set(x.keys[k], []).get(x.keys[k])).push(x);
    for (const x of a) {
      if (matchedA.has(x.i)) continue;
      const cands = index.get(x.keys[k]);
      const y = cands && cands.find((c) => !matchedB.has(c.i));
      if (y) { matchedA.add(x.i); matchedB.add(y.i); }
    }
  }
  return { gone: a.filter((x) => !matchedA.has(x.i)), added: b.filter((x) => !matchedB.has(x.i)),
    common: a.filter((x) => matchedA.has(x.i)) };
}

export function diffOps(ga, gb) {
  const ca = opCounts(ga);
  const cb = opCounts(gb);
  const rows = [];
  for (const fam of [...new Set([...ca.keys(), ...cb.keys()])].sort()) {
    const x = ca.get(fam) || 0;
    const y = cb.get(fam) || 0;
    if (x !== y) rows.push({ family: fam, a: x, b: y, change: !x ? 'new' : !y ? 'gone' : 'count' });
  }
  return { rows, fusedA: fusedActivations(ga), fusedB: fusedActivations(gb) };
}

const ACTIVATIONS = { relu: 'RELU', relu6: 'RELU6', relu_n1_to_1: 'RELU_N1_TO_1', tanh: 'TANH' };
const NO_OPS = new Set(['identity', 'no_op', 'stop_gradient', 'placeholder_with_default']);

/** Why an op family went away or appeared, when the two graphs say it. */
function explain(r, ops) {
  const note = (text) => h('div', { class: 'via' }, text);
  const fusedInto = (map, act) => [...map.entries()].filter(([k]) => k.startsWith(`${act} fused into`));
  if (r.change !== 'new' && ACTIVATIONS[r.family]) {
    const fused = fusedInto(ops.fusedB, ACTIVATIONS[r.family]);
    const n = fused.reduce((sum, [, v]) => sum + v, 0);
    if (n) return note(`fused as the activation of ${n} ${fused.map(([k]) => k.split(' ').pop()).join(', ')} op(s)`);
  }
  if (r.change !== 'new' && ACTIVATIONS[r.family] === undefined && r.b < r.a && NO_OPS.has(r.family)) {
    return note('removed: does nothing at inference');
  }
  const bnGone = ops.rows.some((x) => x.change === 'gone' && (x.family === 'rsqrt' || x.family === 'batch_norm'));
  if (r.change === 'gone' && bnGone && ['add', 'sub', 'mul', 'rsqrt', 'batch_norm'].includes(r.family)) {
    return note('batch-norm arithmetic: folded into the weights and biases');
  }
  if (r.change === 'gone' && r.family === 'bias_add') return note('folded into the bias of the op before it');
  return null;
}

function table(caption, head, rows, empty) {
  return h('table', { class: 'diff' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: String(head.length) }, empty))));
}

export function renderCompare(main, a, b, { openRule }) {
  const [ra, ga] = a;
  const [rb, gb] = b;
  const nameA = baseName(ra.model.path) || ra.id;
  const nameB = baseName(rb.model.path) || rb.id;
  const panes = [];
  const goto = (side, nodeId) => panes[side] && panes[side].view.reveal(nodeId);
  const nodeBtn = (side, graph, nodeId) => {
    const n = graph && graph.nodes.find((x) => x.id === nodeId);
    return nodeId ? h('button', { type: 'button', class: 'link', onclick: () => goto(side, nodeId) },
      n ? n.name : nodeId) : 'whole model';
  };
  const targets = [...new Set([...Object.keys(ra.targets || {}), ...Object.keys(rb.targets || {})])];
  const verdicts = table('Verdicts', ['target', nameA, nameB], targets.map((t) => {
    const va = ra.targets[t]?.verdict || '—';
    const vb = rb.targets[t]?.verdict || '—';
    return h('tr', { class: va !== vb ? 'changed' : '' }, h('th', { scope: 'row' }, t),
      h('td', { class: `v-${va}` }, va), h('td', { class: `v-${vb}` }, vb));
  }), 'no targets');

  const ops = ga && gb ? diffOps(ga, gb) : { rows: [], fusedA: new Map(), fusedB: new Map() };
  const change = { new: `only in ${nameB}`, gone: `only in ${nameA}`, count: 'count changed' };
  const opsTable = table('Ops that changed (by op family)', ['op family', nameA, nameB, 'change'],
    ops.rows.map((r) => h('tr', { class: `op-${r.change}` }, h('th', { scope: 'row' }, r.family), h('td', {}, String(r.a)),
      h('td', {}, String(r.b)), h('td', {}, change[r.change], explain(r, ops)))), 'The same ops in both.');
  const fusedRows = [];
  for (const [side, map, nm] of [[0, ops.fusedA, nameA], [1, ops.fusedB, nameB]]) {
    for (const [k, v] of [...map.entries()].sort()) fusedRows.push(h('tr', {}, h('td', {}, nm), h('td', {}, k), h('td', {}, String(v))));
  }
  const fusedTable = table('Fused activations', ['model', 'fusion', 'ops'], fusedRows, 'None.');

  const floats = [[0, ga, nameA], [1, gb, nameB]].map(([side, g, nm]) => {
    if (!g) return h('p', {}, `${nm}: no graph.`);
    const f = floatOps(g);
    if (!f.quantized) return h('p', {}, h('strong', {}, `${nm}: `), `not quantized; all ${f.total} ops compute in float.`);
    return h('div', { class: 'stayed-float' }, h('p', {}, h('strong', {}, `${nm}: `),
      `quantized; ${f.ops.length} of ${f.total} ops still compute in float`, f.ops.length ? ':' : '.'),
    f.ops.length ? h('ul', {}, f.ops.slice(0, 100).map((n) => h('li', {}, h('span', { class: 'op' }, n.op), ' ',
      nodeBtn(side, g, n.id)))) : null);
  });

  const fd = diffFindings(ra, ga, rb, gb);
  const frow = (x, side, graph) => h('tr', { class: `sev-${x.f.severity}` },
    h('td', {}, x.f.severity), h('td', {}, h('a', { href: `#/rules/${x.f.code}`,
      onclick: (e) => { e.preventDefault(); openRule(x.f.code); } }, x.f.code)),
    h('td', {}, nodeBtn(side, graph, x.f.node)), h('td', {}, richText(x.f.message)));
  const findingsSection = h('section', { class: 'findings-diff', 'aria-label': 'Findings compared' },
    table(`New in ${nameB} (${fd.added.length})`, ['severity', 'rule', 'node', 'message'], fd.added.map((x) => frow(x, 1, gb)), 'None.'),
    table(`Gone since ${nameA} (${fd.gone.length})`, ['severity', 'rule', 'node', 'message'], fd.gone.map((x) => frow(x, 0, ga)), 'None.'),
    h('p', {}, `${fd.common.length} findings in both.`));

  const columns = h('div', { class: 'compare-graphs' });
  main.replaceChildren(h('div', { class: 'page compare-page' },
    h('h1', {}, `Compare ${nameA} with ${nameB}`),
    h('div', { class: 'compare-heads' },
      h('p', {}, h('strong', {}, 'A: '), nameA, ' · ', modelLine(ra), ' ', h('a', { href: `#/report/${ra.id}` }, 'open')),
      h('p', {}, h('strong', {}, 'B: '), nameB, ' · ', modelLine(rb), ' ', h('a', { href: `#/report/${rb.id}` }, 'open'))),
    h('div', { class: 'compare-grid' }, verdicts, h('section', { 'aria-label': 'Which ops stayed float' },
      h('h2', {}, 'Which ops compute in float'), floats)),
    h('h2', {}, 'Ops fused or rewritten'), h('div', { class: 'compare-grid' }, opsTable, fusedTable),
    h('h2', {}, 'Findings new and gone'), findingsSection,
    h('h2', {}, 'Side by side'), columns));
  for (const [side, r, g, nm] of [[0, ra, ga, nameA], [1, rb, gb, nameB]]) {
    if (!g || !g.nodes.length) { columns.append(h('p', {}, `${nm}: no graph.`)); continue; }
    const inspector = h('div', { class: 'inspector compact', 'aria-label': `Node inspector of ${side ? 'B' : 'A'}` });
    const p = graphPane(r, g, { label: `Graph of ${side ? 'B' : 'A'}, ${nm}`,
      onSelect: (nodeId) => renderInspector(inspector, p.view.model, r, nodeId, {
        onNode: (id) => p.view.reveal(id), onRule: openRule }) });
    columns.append(h('div', { class: 'compare-col' }, p.root, inspector));
    renderInspector(inspector, p.view.model, r, null, {});
    panes[side] = p;
  }
}
