// The findings list: grouped by severity, then by rule; each finding goes to its node, each rule to its docs.
import type { Finding, Report, Severity } from './types';
import { SEVERITIES, SEVERITY_TEXT, h } from './util';

/** Severity of a finding for one target (null when it does not affect it), or its worst when target is ''. */
export function severityFor(f: Finding, target: string): Severity | null {
  if (!target) return f.severity;
  if (f.targets.length && !f.targets.includes(target)) return null;
  return f.target_severity?.[target] ?? f.severity;
}

export interface FindingsOptions {
  target?: string;
  onNode: (nodeId: string, index: number) => void;
  onRule: (code: string) => void;
  nodeNames?: Map<string, string>;
}

/** The rendered list: marks the findings of the selected node, and finds a finding's item. */
export interface FindingsList {
  highlight(indices: readonly number[], scroll?: boolean): void;
  item(index: number): HTMLLIElement | undefined;
}

type Group = Map<string, [Finding, number][]>; // rule code -> findings with their index

function groupBySeverity(report: Report, target: string): Map<Severity, Group> {
  const groups = new Map<Severity, Group>();
  report.findings.forEach((f, i) => {
    const sev = severityFor(f, target);
    if (!sev) return;
    let bySev = groups.get(sev);
    if (!bySev) groups.set(sev, (bySev = new Map<string, [Finding, number][]>()));
    let list = bySev.get(f.code);
    if (!list) bySev.set(f.code, (list = []));
    list.push([f, i]);
  });
  return groups;
}

function findingItem(f: Finding, i: number, sev: Severity, opts: FindingsOptions): HTMLLIElement {
  const names = opts.nodeNames ?? new Map<string, string>();
  const node = f.node;
  const where = node ? h('button', { type: 'button', class: 'goto', 'data-finding': String(i),
    'aria-label': `Show node ${names.get(node) ?? node} on the graph`,
    onclick: () => opts.onNode(node, i) }, names.get(node) ?? node)
    : h('span', { class: 'model-level' }, 'whole model');
  return h('li', { class: `finding sev-${sev}`, id: `finding-${i}`, 'data-index': String(i) },
    where,
    h('p', { class: 'message' }, richText(f.message)),
    f.fix ? h('p', { class: 'fix' }, h('span', { class: 'fix-kind' }, `fix (${f.fix.applicability})`), ' ',
      richText(f.fix.title)) : null,
    f.targets.length ? h('p', { class: 'targets' }, `targets: ${f.targets.join(', ')}`) : null);
}

function ruleGroup(code: string, list: [Finding, number][], rows: HTMLLIElement[],
  onRule: (code: string) => void): HTMLDetailsElement {
  return h('details', { class: 'rule-group', open: true },
    h('summary', {}, h('span', { class: 'code' }, code), ' ', list[0]?.[0].rule,
      h('span', { class: 'count' }, ` (${list.length})`)),
    h('p', { class: 'rule-link' }, h('a', { href: `#/rules/${code}`, 'data-rule': code,
      onclick: (e: MouseEvent) => { e.preventDefault(); onRule(code); } }, `What ${code} means and how to fix it`)),
    h('ul', { class: 'finding-list' }, rows));
}

/** Render findings into `root`. Returns the list, to mark the findings of the selected node. */
export function renderFindings(root: HTMLElement, report: Report, opts: FindingsOptions): FindingsList {
  const groups = groupBySeverity(report, opts.target ?? '');
  const items = new Map<number, HTMLLIElement>();
  const sections: HTMLElement[] = [];
  for (const sev of SEVERITIES) {
    const bySev = groups.get(sev);
    if (!bySev) continue;
    const total = [...bySev.values()].reduce((n, l) => n + l.length, 0);
    const rules = [...bySev.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([code, list]) => {
      const rows = list.map(([f, i]) => {
        const li = findingItem(f, i, sev, opts);
        items.set(i, li);
        return li;
      });
      return ruleGroup(code, list, rows, opts.onRule);
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
      const first = indices[0];
      if (scroll && first !== undefined) items.get(first)?.scrollIntoView({ block: 'nearest' });
    },
    item: (i) => items.get(i),
  };
}

/** Message text with `code spans` kept as <code>. */
export function richText(text: string | null | undefined): (string | HTMLElement)[] {
  const parts = String(text ?? '').split('`');
  return parts.map((p, i) => (i % 2 ? h('code', {}, p) : p));
}
