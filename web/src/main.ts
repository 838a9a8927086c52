// The viewer's entry point: a hash router over the views (check, report, compare, history, rules).
import { getGraph, getReport, getToken, setToken, statusOf } from './api';
import { renderCompare } from './compare';
import type { Loaded } from './compare';
import { warmLayout } from './graph/layout-client';
import { historyTable, renderHistory } from './history';
import { renderReport } from './report';
import { openRuleDialog, renderRules } from './rules';
import type { Report } from './types';
import { renderUpload } from './upload';
import { byId, errorText, h } from './util';

const cache = new Map<string, Promise<Loaded>>(); // report id -> its report and graph

function load(id: string): Promise<Loaded> {
  let p = cache.get(id);
  if (!p) {
    p = Promise.all([getReport(id), getGraph(id).catch(() => null)]);
    p.catch(() => cache.delete(id));
    cache.set(id, p);
  }
  return p;
}

const main = (): HTMLElement => byId('main');
const openRule = (code: string): void => { void openRuleDialog(code); };

/** The service wants a token: ask for it, keep it for this tab, and retry. `err` is the refusal, if any. */
function askToken(err: unknown): void {
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', required: true });
  const form = h('form', { class: 'token-form' },
    h('label', { for: 'token' }, 'Access token'), input,
    h('button', { type: 'submit', class: 'primary' }, 'Continue'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    cache.clear();
    if (location.hash.startsWith('#/token')) {
      location.hash = sessionStorage.getItem('graphlint-return') ?? '#/';
      sessionStorage.removeItem('graphlint-return');
    } else {
      void route();
    }
  });
  main().replaceChildren(h('div', { class: 'page' }, h('h1', {}, 'This graphlint service needs an access token'),
    h('p', { class: 'lead' }, 'Ask whoever runs it for one. It is kept in this browser tab only.'),
    getToken() ? h('p', { class: 'error', role: 'alert' },
      err ? `The token was refused: ${errorText(err)}` : 'The token was refused.') : null,
    form));
  input.focus();
}

function showError(err: unknown, what: string): void {
  if (statusOf(err) === 401) {
    askToken(err);
    return;
  }
  main().replaceChildren(h('div', { class: 'page' }, h('h1', {}, `Cannot open ${what}`),
    h('p', { class: 'error', role: 'alert' }, errorText(err)), h('p', {}, h('a', { href: '#/' }, 'Check a model'))));
}

function compareWith(report: Report): HTMLElement {
  return historyTable({ compact: true, exclude: report.id, onPick: (item) => {
    location.hash = `#/compare/${report.id}/${item.id}`;
  } });
}

function showUpload(root: HTMLElement): void {
  document.title = 'graphlint: check a TensorFlow model before converting it to TFLite';
  renderUpload(root, { onUnauthorized: askToken, onReport: (report) => {
    cache.set(report.id, getGraph(report.id).catch(() => null).then((graph): Loaded => [report, graph]));
    location.hash = `#/report/${report.id}`;
  } });
}

async function route(): Promise<void> {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [view = '', a, b] = parts;
  const root = main();
  document.querySelectorAll('header nav a').forEach((link) => {
    link.toggleAttribute('aria-current', link.getAttribute('href') === `#/${view}`);
  });
  try {
    if (view === 'report' && a) {
      root.replaceChildren(h('p', { class: 'loading' }, 'Loading the report…'));
      const [report, graph] = await load(a);
      document.title = `graphlint: ${report.model.path || a}`;
      renderReport(root, report, graph, { openRule, compareWith });
    } else if (view === 'compare' && a && b) {
      root.replaceChildren(h('p', { class: 'loading' }, 'Loading both reports…'));
      const [ra, rb] = await Promise.all([load(a), load(b)]);
      document.title = 'graphlint: compare';
      renderCompare(root, ra, rb, { openRule });
    } else if (view === 'history') {
      document.title = 'graphlint: history';
      renderHistory(root);
    } else if (view === 'token') {
      askToken(null);
    } else if (view === 'rules') {
      document.title = 'graphlint: rules';
      await renderRules(root, a);
    } else {
      showUpload(root);
    }
  } catch (err) {
    showError(err, parts.slice(0, 3).join(' '));
  }
}

warmLayout();
window.addEventListener('hashchange', () => {
  void route();
  main().focus({ preventScroll: true });
});
void route();
