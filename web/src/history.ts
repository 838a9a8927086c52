// Report history from the store, newest first, with paging, a name filter and "compare two".
import { listReports, statusOf } from './api';
import type { ReportSummary, Verdict } from './types';
import { errorText, h } from './util';

function verdictSummary(targets: Record<string, Verdict>): string {
  return Object.entries(targets).map(([t, v]) => `${t}: ${v}`).join(', ');
}

export interface HistoryOptions {
  onPick?: (item: ReportSummary) => void; // pick mode: a button per row instead of the compare checkboxes
  exclude?: string; // a report id to leave out
  compact?: boolean;
}

/** The cells of one row: a pick button or a compare checkbox, then the report's facts. */
function historyRow(item: ReportSummary, box: HTMLElement, compact: boolean): HTMLTableRowElement {
  return h('tr', {}, h('td', {}, box),
    h('td', {}, h('a', { href: `#/report/${item.id}` }, item.name || item.id)),
    h('td', {}, item.format ?? 'unreadable'), h('td', {}, verdictSummary(item.targets)),
    h('td', {}, String(item.findings)),
    compact ? null : h('td', {}, item.created_at ? new Date(item.created_at).toLocaleString() : ''),
    compact ? null : h('td', { class: 'mono' }, item.sha256.slice(0, 12)));
}

/** A list of stored reports; `pick` mode calls onPick(item) instead of offering compare. */
export function historyTable({ onPick, exclude, compact = false }: HistoryOptions = {}): HTMLDivElement {
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Show older reports');
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const filter = h('input', { type: 'search', 'aria-label': 'Filter reports by file name', placeholder: 'file name' });
  const chosen = new Set<string>();
  const compare = h('button', { type: 'button', class: 'primary', disabled: true }, 'Compare the two selected');
  const pickBox = (item: ReportSummary): HTMLElement => {
    if (onPick) return h('button', { type: 'button', onclick: () => onPick(item) }, 'Compare with this');
    const box = h('input', { type: 'checkbox', 'aria-label': `Select ${item.name} for comparing` });
    box.addEventListener('change', () => {
      if (box.checked) chosen.add(item.id); else chosen.delete(item.id);
      compare.disabled = chosen.size !== 2;
    });
    return box;
  };
  let cursor: string | null = null;
  const load = async (reset: boolean): Promise<void> => {
    if (reset) { body.replaceChildren(); cursor = null; }
    status.textContent = 'Loading…';
    try {
      const page = await listReports({ cursor, name: filter.value.trim() || undefined, limit: compact ? 10 : 25 });
      for (const item of page.items) if (item.id !== exclude) body.append(historyRow(item, pickBox(item), compact));
      cursor = page.next ?? null;
      more.hidden = !cursor;
      status.textContent = body.children.length ? '' : 'No reports stored yet: check a model first.';
    } catch (err) {
      if (statusOf(err) === 401) {
        sessionStorage.setItem('graphlint-return', location.hash);
        location.hash = '#/token';
        return;
      }
      status.textContent = `Could not load the history: ${errorText(err)}`;
    }
  };
  more.addEventListener('click', () => { void load(false); });
  let timer: ReturnType<typeof setTimeout> | undefined;
  filter.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { void load(true); }, 250); });
  compare.addEventListener('click', () => { location.hash = `#/compare/${[...chosen].join('/')}`; });
  const head = ['', 'file', 'format', 'verdicts', 'findings', ...(compact ? [] : ['checked', 'sha256'])];
  const root = h('div', { class: 'history' },
    h('div', { class: 'row' }, filter, onPick ? null : compare),
    h('table', { class: 'history-table' }, h('caption', { class: 'sr-only' }, 'Stored reports'),
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))), body),
    more, status);
  void load(true);
  return root;
}

export function renderHistory(main: HTMLElement): void {
  main.replaceChildren(h('div', { class: 'page' }, h('h1', {}, 'Report history'),
    h('p', { class: 'lead' }, 'Every model checked by this service. Open one, or tick two and compare them.'),
    historyTable()));
}
