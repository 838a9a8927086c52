// Rule docs: the list of rules, and one rule's documentation (the Markdown the service serves).
import { getRule, listRules, statusOf } from './api';
import { renderMarkdown } from './markdown';
import { byId, errorText, h } from './util';

export async function ruleDoc(code: string): Promise<HTMLElement[]> {
  const rule = await getRule(code);
  const meta = [rule.name && h('code', {}, rule.name), rule.severity && `default severity ${rule.severity}`,
    rule.summary].filter(Boolean).flatMap((x, i) => (i ? [' · ', x] : [x]));
  return [h('p', { class: 'rule-meta' }, meta), ...renderMarkdown(rule.doc || '')];
}

/** Open a rule's docs in the dialog (keeps the report open underneath). */
export async function openRuleDialog(code: string): Promise<void> {
  const dialog = byId<HTMLDialogElement>('doc-dialog');
  const body = byId('doc-body');
  byId('doc-title').textContent = code;
  body.replaceChildren(h('p', {}, 'Loading…'));
  if (!dialog.open) dialog.showModal();
  try {
    body.replaceChildren(...await ruleDoc(code));
  } catch (err) {
    body.replaceChildren(h('p', { class: 'error', role: 'alert' }, `No docs for ${code}: ${errorText(err)}`));
  }
}

export async function renderRules(main: HTMLElement, code: string | undefined): Promise<void> {
  const page = h('div', { class: 'page rules-page' });
  main.replaceChildren(page);
  if (code) {
    page.append(h('p', {}, h('a', { href: '#/rules' }, 'All rules')), h('h1', {}, code));
    try {
      page.append(...await ruleDoc(code));
    } catch (err) {
      if (statusOf(err) === 401) throw err;
      page.append(h('p', { class: 'error', role: 'alert' }, `No docs for ${code}: ${errorText(err)}`));
    }
    return;
  }
  page.append(h('h1', {}, 'Rules'), h('p', { class: 'lead' }, 'What graphlint checks. Codes are stable.'));
  try {
    const list = await listRules();
    page.append(h('table', { class: 'rules' }, h('thead', {}, h('tr', {}, ['code', 'name', 'severity', 'summary']
      .map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, list.map((r) => h('tr', {},
      h('td', {}, h('a', { href: `#/rules/${r.code}` }, r.code)), h('td', {}, h('code', {}, r.name || '')),
      h('td', {}, r.severity || ''), h('td', {}, r.summary || ''))))));
  } catch (err) {
    if (statusOf(err) === 401) throw err;
    page.append(h('p', { class: 'error', role: 'alert' }, `Could not load the rules: ${errorText(err)}`));
  }
}
