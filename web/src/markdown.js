// A small Markdown renderer for rule docs (headings, paragraphs, lists, code, emphasis, links). It builds
// DOM nodes, never HTML strings, so a rule's text cannot inject markup.
import { h } from './util.js';

export function renderMarkdown(text) {
  const out = [];
  const lines = String(text || '').replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^```/.test(line)) {
      const body = [];
      for (i += 1; i < lines.length && !/^```/.test(lines[i]); i += 1) body.push(lines[i]);
      i += 1;
      out.push(h('pre', {}, h('code', {}, body.join('\n'))));
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(6, line.match(/^#+/)[0].length + 1);
      out.push(h(`h${level}`, {}, inline(line.replace(/^#+\s*/, ''))));
      i += 1;
    } else if (/^\s*([-*]|\d+\.)\s/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items = [];
      while (i < lines.length && /^\s*([-*]|\d+\.)\s/.test(lines[i])) {
        let item = lines[i].replace(/^\s*([-*]|\d+\.)\s/, '');
        for (i += 1; i < lines.length && /^\s{2,}\S/.test(lines[i]) && !/^\s*([-*]|\d+\.)\s/.test(lines[i]); i += 1) {
          item += ` ${lines[i].trim()}`;
        }
        items.push(h('li', {}, inline(item)));
      }
      out.push(h(ordered ? 'ol' : 'ul', {}, items));
    } else if (/^\|/.test(line)) {
      const rows = [];
      for (; i < lines.length && /^\|/.test(lines[i]); i += 1) {
        if (!/^\|[\s:|-]+\|$/.test(lines[i])) rows.push(lines[i].slice(1, -1).split('|').map((c) => c.trim()));
      }
      out.push(h('table', {}, rows.map((r, ri) => h('tr', {}, r.map((c) => h(ri ? 'td' : 'th', {}, inline(c)))))));
    } else if (line.trim() === '') {
      i += 1;
    } else {
      const para = [];
      for (; i < lines.length && lines[i].trim() && !/^(#|```|\s*[-*]\s|\|)/.test(lines[i]); i += 1) para.push(lines[i]);
      out.push(h('p', {}, inline(para.join(' '))));
    }
  }
  return out;
}

function inline(text) {
  const nodes = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|\*([^*]+)\*/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) nodes.push(text.slice(last, m.index));
    if (m[1] !== undefined) nodes.push(h('code', {}, m[1]));
    else if (m[2] !== undefined) nodes.push(h('strong', {}, m[2]));
    else if (m[3] !== undefined) {
      const safe = /^(https?:|#|\/)/.test(m[4]) ? m[4] : '#';
      nodes.push(h('a', { href: safe, rel: 'noopener' }, m[3]));
    } else nodes.push(h('em', {}, m[5]));
    last = re.lastIndex;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}
