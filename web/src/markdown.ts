// A small Markdown renderer for rule docs (headings, paragraphs, lists, code, emphasis, links). It builds
// DOM nodes, never HTML strings, so a rule's text cannot inject markup.
import { h } from './util';

const HEADINGS = ['h2', 'h3', 'h4', 'h5', 'h6'] as const; // a document's # is the page's h2
const LIST_ITEM = /^\s*([-*]|\d+\.)\s/;

type Block = { el: HTMLElement; next: number };

function codeBlock(lines: string[], start: number): Block {
  const body: string[] = [];
  let i = start + 1;
  for (; i < lines.length && !/^```/.test(lines[i] ?? ''); i += 1) body.push(lines[i] ?? '');
  return { el: h('pre', {}, h('code', {}, body.join('\n'))), next: i + 1 };
}

function list(lines: string[], start: number): Block {
  const ordered = /^\s*\d+\./.test(lines[start] ?? '');
  const items: HTMLLIElement[] = [];
  let i = start;
  while (i < lines.length && LIST_ITEM.test(lines[i] ?? '')) {
    let item = (lines[i] ?? '').replace(LIST_ITEM, '');
    for (i += 1; i < lines.length && /^\s{2,}\S/.test(lines[i] ?? '') && !LIST_ITEM.test(lines[i] ?? ''); i += 1) {
      item += ` ${(lines[i] ?? '').trim()}`;
    }
    items.push(h('li', {}, inline(item)));
  }
  return { el: h(ordered ? 'ol' : 'ul', {}, items), next: i };
}

function table(lines: string[], start: number): Block {
  const rows: string[][] = [];
  let i = start;
  for (; i < lines.length && /^\|/.test(lines[i] ?? ''); i += 1) {
    const line = lines[i] ?? '';
    if (!/^\|[\s:|-]+\|$/.test(line)) rows.push(line.slice(1, -1).split('|').map((c) => c.trim()));
  }
  return { el: h('table', {}, rows.map((r, ri) => h('tr', {}, r.map((c) => h(ri ? 'td' : 'th', {}, inline(c)))))),
    next: i };
}

function paragraph(lines: string[], start: number): Block {
  const para = [lines[start] ?? '']; // the first line always, even one like "#word" that is no heading
  let i = start + 1;
  for (; i < lines.length && (lines[i] ?? '').trim() && !/^(#|```|\s*[-*]\s|\|)/.test(lines[i] ?? ''); i += 1) {
    para.push(lines[i] ?? '');
  }
  return { el: h('p', {}, inline(para.join(' '))), next: i };
}

export function renderMarkdown(text: string): HTMLElement[] {
  const out: HTMLElement[] = [];
  const lines = String(text || '').replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    let block: Block | null = null;
    if (/^```/.test(line)) block = codeBlock(lines, i);
    else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(HEADINGS.length - 1, (/^#+/.exec(line)?.[0].length ?? 1) - 1);
      block = { el: h(HEADINGS[level] ?? 'h6', {}, inline(line.replace(/^#+\s*/, ''))), next: i + 1 };
    } else if (LIST_ITEM.test(line)) block = list(lines, i);
    else if (/^\|/.test(line)) block = table(lines, i);
    else if (line.trim() !== '') block = paragraph(lines, i);
    if (block) {
      out.push(block.el);
      i = block.next;
    } else {
      i += 1;
    }
  }
  return out;
}

function inline(text: string): (string | HTMLElement)[] {
  const nodes: (string | HTMLElement)[] = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|\*([^*]+)\*/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) nodes.push(text.slice(last, m.index));
    if (m[1] !== undefined) nodes.push(h('code', {}, m[1]));
    else if (m[2] !== undefined) nodes.push(h('strong', {}, m[2]));
    else if (m[3] !== undefined) {
      const href = m[4] ?? '';
      const safe = /^(https?:|#|\/)/.test(href) ? href : '#';
      nodes.push(h('a', { href: safe, rel: 'noopener' }, m[3]));
    } else nodes.push(h('em', {}, m[5]));
    last = re.lastIndex;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}
