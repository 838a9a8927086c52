// The findings list: grouped by severity, then by rule; each finding goes to its node, each rule to its docs.
import { SEVERITIES, SEVERITY_TEXT, h } from './util.js';

/** Severity of a finding for one target (null when it does not affect it), or its worst when target is ''. */
export function severityFor(f, target) {
  if (!target) return f.severity;
  if (f.targets && f.targets.length && !f.targets.includes(target)) return null;
  return (f.target_severity && f.target_severity[target]) || f.severity;
}

/**
 * Render findings into `root`. Handlers: onNode(nodeId, index), onRule(code).
 * Returns {highlight(indices)} to mark the findings of the selected node.
 */
export function renderFindings(root, report, { target = '', onNode, onRule, nodeNames = new Map() }) {
  const groups = new Map();
  report.findings.forEach((f, i) => {
    const sev = severityFor(f, target);
    if (!sev) return;
    const bySev = groups.get(sev) || groups.set(sev, new Map()).get(sev);
    const list = bySev.get(f.code) || bySev.set(f.code, []).get(f.code);
    list.push([f, i]);
  });
  const items = new Map();
  const sections = [];
  for (const sev of SEVERITIES) {
    const bySev = groups.get(sev);
    if (!bySev) continue;
    const total = [...bySev.values()].reduce((n, l) => n + l.length, 0);
    const rules = [...bySev.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([code, list]) => {
      const rows = list.map(([f, i]) => {
        const where = f.node ? h('button', { type: 'button', class: 'goto', 'data-finding': String(i),
          'aria-label': `Show node ${nodeNames.get(f.node) || f.node} on the graph`,
          onclick: () => onNode(f.node, i) }, nodeNames.get(f.node) || f.node)
          : h('span', { class: 'model-level' }, 'whole model');
        const li = h('li', { class: `finding sev-${sev}`, id: `finding-${i}`, 'data-index': String(i) },
          where,
          h('p', { class: 'message' }, richText(f.message)),
          f.fix ? h('p', { class: 'fix' }, h('span', { class: 'fix-kind' }, `fix (${f.fix.applicability})`), ' ',
            richText(f.fix.title)) : null,
          f.targets && f.targets.length ? h('p', { class: 'targets' }, `targets: ${f.targets.join(', ')}`) : null);
        items.set(i, li);
        return li;
      });
      return h('details', { class: 'rule-group', open: true },
        h('summary', {}, h('span', { class: 'code' }, code), ' ', list[0][0].rule,
          h('span', { class: 'count' }, ` (${list.length})`)),
        h('p', { class: 'rule-link' }, h('a', { href: `#/rules/${code}`, 'data-rule': code,
          onclick: (e) => { e.preventDefault(); onRule(code); } }, `What ${code} means and how to fix it`)),
        h('ul', { class: 'finding-list' }, rows));
    });
    sections.push(h('section', { class: `sev-section sev-${sev}`, 'aria-label': `${total} ${sev} findings` },
      h('h3', { title: SEVERITY_TEXT[sev] }, h('span', { class: `sev-dot sev-${sev}`, 'aria-hidden': 'true' }),
        `${total} ${sev}${total > 1 ? (sev === 'info' ? '' : 's') : ''}`),
      h('p', { class: 'sev-help' }, SEVERITY_TEXT[sev]), rules));
  }
  if (!sections.length) sections.push(h('p', { class: 'empty' }, 'No findings for this selection: nothing '
    + 'graphlint knows of stands in the way.'));
  root.replaceChildren(...sections);
  return {
    highlight(indices, scroll = false) {
      for (const li of items.values()) li.classList.remove('current');
      for (const i of indices) items.get(i)?.classList.add('current');
      if (scroll && indices.length) items.get(indices[0])?.scrollIntoView({ block: 'nearest' });
    },
    item: (i) => items.get(i),
  };
}

/** Message text with `code spans` kept as <code>. */
export function richText(text) {
  const parts = String(text || '').split('`');
  return parts.map((p, i) => (i % 2 ? h('code', {}, p) : p));
}
