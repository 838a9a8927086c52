// Small DOM and formatting helpers shared by the views.
import type { Severity, TensorClass, Verdict } from './types';

/** An attribute value; null, undefined and false leave the attribute out, true sets it empty. */
type AttrValue = string | number | boolean | null | undefined;
// An event handler: `onclick: (e: MouseEvent) => ...`. Its parameter is typed `never` so that a handler of any
// event type fits; h() registers it for the event its name says, which is the event it then receives.
type Listener = (event: never) => void;
export type Props = Record<string, AttrValue | Listener | Record<string, string>>;
export type Child = Node | string | number | boolean | null | undefined | readonly Child[];

const SVG_TAGS = new Set(['svg', 'g', 'rect', 'path', 'text', 'title', 'circle', 'line', 'defs', 'marker',
  'polygon', 'tspan']);
type SvgTag = 'svg' | 'g' | 'rect' | 'path' | 'text' | 'title' | 'circle' | 'line' | 'defs' | 'marker' | 'polygon'
  | 'tspan';
type HtmlTag = Exclude<keyof HTMLElementTagNameMap, SvgTag>;

/** Create an element: h('div', {class: 'x', onclick: fn}, child, 'text', [more]). */
export function h<K extends SvgTag>(tag: K, props?: Props | null, ...children: Child[]): SVGElementTagNameMap[K];
export function h<K extends HtmlTag>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, props: Props | null = {}, ...children: Child[]): Element {
  const el = SVG_TAGS.has(tag)
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') {
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v as EventListener);
    } else if (typeof v === 'object') {
      if (k === 'dataset') Object.assign(el.dataset, v);
    } else if (k === 'text') {
      el.textContent = String(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (c instanceof Node) el.append(c);
    else if (typeof c === 'object') append(el, c);
    else el.append(String(c));
  }
}

/** The element with this id, which the page (index.html) always has. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** The message of anything thrown: an ApiError's detail, an Error's message, or its text. */
export function errorText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { detail?: unknown; message?: unknown };
    if (typeof e.detail === 'string' && e.detail) return e.detail;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];
export const SEVERITY_TEXT: Record<Severity, string> = {
  error: 'Error: the target fails (the converter refuses, or the result cannot run)',
  warning: 'Warning: converts and runs, but falls short of the target',
  info: 'Info: worth knowing, never changes a verdict',
};
export const VERDICT_TEXT: Record<Verdict, string> = {
  pass: 'no finding matters for this target',
  warn: 'converts and runs, but some findings matter',
  fail: 'the converter refuses the model, or the converted model cannot run',
};

/** Short text for a tensor's storage class, shown as a badge on the graph. */
export const CLASS_BADGE: Record<TensorClass, string> = {
  float: 'f32', float16: 'f16', int8: 'i8', uint8: 'u8', int16: 'i16', int32: 'i32', int32q: 'i32q',
  other: '', unknown: '',
};

export function fmtShape(shape: readonly (number | null)[] | null | undefined): string {
  if (shape === null || shape === undefined) return '?';
  return `[${shape.map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

export function fmtNum(x: number | string): string {
  if (typeof x !== 'number') return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(4) : String(+x.toPrecision(6));
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1 << 20)).toFixed(1)} MB`;
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;

export function toast(message: string): void {
  const el = byId('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 6000);
}

/** Offer a Blob as a file download (no network: a blob URL). */
export function saveBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Offer JSON or text as a file download. */
export function download(name: string, content: unknown, type = 'application/json'): void {
  const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
  saveBlob(name, new Blob([text], { type }));
}

export function baseName(path: string | null | undefined): string {
  return (path ?? '').split(/[\\/]/).pop() ?? '';
}
