// Small DOM and formatting helpers shared by the views.

/** Create an element: h('div', {class: 'x', onclick: fn}, child, 'text', [more]). */
export function h(tag, props = {}, ...children) {
  const el = tag === 'svg' || SVG_TAGS.has(tag)
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

const SVG_TAGS = new Set(['g', 'rect', 'path', 'text', 'title', 'circle', 'line', 'defs', 'marker', 'polygon',
  'tspan']);

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export const SEVERITIES = ['error', 'warning', 'info'];
export const SEVERITY_TEXT = {
  error: 'Error: the target fails (the converter refuses, or the result cannot run)',
  warning: 'Warning: converts and runs, but falls short of the target',
  info: 'Info: worth knowing, never changes a verdict',
};
export const VERDICT_TEXT = {
  pass: 'no finding matters for this target',
  warn: 'converts and runs, but some findings matter',
  fail: 'the converter refuses the model, or the converted model cannot run',
};

/** Short text for a tensor's storage class, shown as a badge on the graph. */
export const CLASS_BADGE = {
  float: 'f32', float16: 'f16', int8: 'i8', uint8: 'u8', int16: 'i16', int32: 'i32', int32q: 'i32q',
  other: '', unknown: '',
};

export function fmtShape(shape) {
  if (shape === null || shape === undefined) return '?';
  return `[${shape.map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

export function fmtNum(x) {
  if (typeof x !== 'number') return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(4) : String(+x.toPrecision(6));
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1 << 20)).toFixed(1)} MB`;
}

export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('show'), 6000);
}

/** Offer JSON or text as a file download (no network: a blob URL). */
export function download(name, content, type = 'application/json') {
  const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function baseName(path) {
  return (path || '').split(/[\\/]/).pop();
}
