// The viewer's entry point: a hash router over the views (check, report, compare, history, rules).
import { getGraph, getReport, getToken, setToken } from './api.js';
import { renderCompare } from './compare.js';
import { warmLayout } from './graph.js';
import { historyTable, renderHistory } from './history.js';
import { renderReport } from './report.js';
import { openRuleDialog, renderRules } from './rules.js';
import { renderUpload } from './upload.js';
import { h } from './util.js';

const cache = new Map(); // report id -> Promise<[report, graph]>

function load(id) {
  if (!cache.has(id)) {
    const p = Promise.all([getReport(id), getGraph(id).catch(() => null)]);
    p.catch(() => cache.delete(id));
    cache.set(id, p);
  }
  return cache.get(id);
}

const main = () => document.getElementById('main');

/** The service wants a token: ask for it, keep it for this tab, and retry. */
function askToken(err) {
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', required: true });
  const form = h('form', { class: 'token-form' },
    h('label', { for: 'token' }, 'Access token'), input,
    h('button', { type: 'submit', class: 'primary' }, 'Continue'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    cache.clear();
    if (location.hash.startsWith('#/token')) {
      location.hash = sessionStorage.getItem('graphlint-return') || '#/';
      sessionStorage.removeItem('graphlint-return');
    } else {
      route();
    }
  });
  main().replaceChildren(h('div', { class: 'page' }, h('h1', {}, 'This graphlint service needs an access token'),
    h('p', { class: 'lead' }, 'Ask whoever runs it for one. It is kept in this browser tab only.'),
    getToken() ? h('p', { class: 'error', role: 'alert' }, `The token was refused: ${err.detail || err.message}`) : null,
    form));
  input.focus();
}

function showError(err, what) {
  if (err.status === 401) {
    askToken(err);
    return;
  }
  main().replaceChildren(h('div', { class: 'page' }, h('h1', {}, `Cannot open ${what}`),
    h('p', { class: 'error', role: 'alert' }, err.detail || err.message), h('p', {}, h('a', { href: '#/' }, 'Check a model'))));
}

function compareWith(report) {
  return historyTable({ compact: true, exclude: report.id, onPick: (item) => {
    location.hash = `#/compare/${report.id}/${item.id}`;
  } });
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const root = main();
  document.querySelectorAll('header nav a').forEach((a) => {
    a.toggleAttribute('aria-current', a.getAttribute('href') === `#/${parts[0] || ''}`);
  });
  try {
    if (parts[0] === 'report' && parts[1]) {
      root.replaceChildren(h('p', { class: 'loading' }, 'Loading the report…'));
      const [report, graph] = await load(parts[1]);
      document.title = `graphlint: ${report.model?.path || parts[1]}`;
      renderReport(root, report, graph, { openRule: openRuleDialog, compareWith });
    } else if (parts[0] === 'compare' && parts[1] && parts[2]) {
      root.replaceChildren(h('p', { class: 'loading' }, 'Loading both reports…'));
      const [a, b] = await Promise.all([load(parts[1]), load(parts[2])]);
      document.title = 'graphlint: compare';
      renderCompare(root, a, b, { openRule: openRuleDialog });
    } else if (parts[0] === 'history') {
      document.title = 'graphlint: history';
      renderHistory(root);
    } else if (parts[0] === 'token') {
      askToken({});
    } else if (parts[0] === 'rules') {
      document.title = 'graphlint: rules';
      await renderRules(root, parts[1]);
    } else {
      document.title = 'graphlint: check a TensorFlow model before converting it to TFLite';
      renderUpload(root, { onUnauthorized: askToken, onReport: (report) => {
        cache.set(report.id, Promise.all([report, getGraph(report.id).catch(() => null)]));
        location.hash = `#/report/${report.id}`;
      } });
    }
  } catch (err) {
    showError(err, parts.slice(0, 3).join(' '));
  }
}

warmLayout();
window.addEventListener('hashchange', () => {
  route();
  main().focus({ preventScroll: true });
});
route();
