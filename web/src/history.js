// Report history from the store, newest first, with paging, a name filter and "compare two".
import { listReports } from './api.js';
import { h } from './util.js';

function verdictSummary(targets) {
  if (!targets) return '';
  if (Array.isArray(targets)) return targets.join(', ');
  return Object.entries(targets).map(([t, v]) => `${t}: ${typeof v === 'string' ? v : v.verdict}`).join(', ');
}

function findingSummary(f) {
  if (f === null || f === undefined) return '';
  if (typeof f === 'number') return String(f);
  if (typeof f === 'object') {
    const by = f.by_severity || f;
    return ['error', 'warning', 'info'].filter((s) => by[s]).map((s) => `${by[s]} ${s}`).join(', ') || '0';
  }
  return String(f);
}

/** A list of stored reports; `pick` mode calls onPick(item) instead of offering compare. */
export function historyTable({ onPick, exclude, compact = false } = {}) {
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Show older reports');
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const filter = h('input', { type: 'search', 'aria-label': 'Filter reports by file name', placeholder: 'file name' });
  const chosen = new Set();
  const compare = h('button', { type: 'button', class: 'primary', disabled: true }, 'Compare the two selected');
  let cursor = null;
  const load = async (reset) => {
    if (reset) { body.replaceChildren(); cursor = null; }
    status.textContent = 'Loading…';
    try {
      const page = await listReports({ cursor, name: filter.value.trim() || undefined, limit: compact ? 10 : 25 });
      for (const item of page.items || []) {
        if (item.id === exclude) continue;
        const box = onPick ? h('button', { type: 'button', onclick: () => onPick(item) }, 'Compare with this')
          : h('input', { type: 'checkbox', 'aria-label': `Select ${item.name} for comparing`, onchange: (e) => {
            if (e.target.checked) chosen.add(item.id); else chosen.delete(item.id);
            compare.disabled = chosen.size !== 2;
          } });
        body.append(h('tr', {}, h('td', {}, box),
          h('td', {}, h('a', { href: `#/report/${item.id}` }, item.name || item.id)),
          h('td', {}, item.format || 'unreadable'), h('td', {}, verdictSummary(item.targets)),
          h('td', {}, findingSummary(item.findings)),
          compact ? null : h('td', {}, item.created_at ? new Date(item.created_at).toLocaleString() : ''),
          compact ? null : h('td', { class: 'mono' }, (item.sha256 || '').slice(0, 12))));
      }
      cursor = page.next || null;
      more.hidden = !cursor;
      status.textContent = body.children.length ? '' : 'No reports stored yet: check a model first.';
    } catch (err) {
      if (err.status === 401) {
        sessionStorage.setItem('graphlint-return', location.hash);
        location.hash = '#/token';
        return;
      }
      status.textContent = `Could not load the history: ${err.detail || err.message}`;
    }
  };
  more.addEventListener('click', () => load(false));
  let timer;
  filter.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => load(true), 250); });
  compare.addEventListener('click', () => { location.hash = `#/compare/${[...chosen].join('/')}`; });
  const head = ['', 'file', 'format', 'verdicts', 'findings', ...(compact ? [] : ['checked', 'sha256'])];
  const root = h('div', { class: 'history' },
    h('div', { class: 'row' }, filter, onPick ? null : compare),
    h('table', { class: 'history-table' }, h('caption', { class: 'sr-only' }, 'Stored reports'),
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))), body),
    more, status);
  load(true);
  return root;
}

export function renderHistory(main) {
  main.replaceChildren(h('div', { class: 'page' }, h('h1', {}, 'Report history'),
    h('p', { class: 'lead' }, 'Every model checked by this service. Open one, or tick two and compare them.'),
    historyTable()));
}
