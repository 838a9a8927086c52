// Fix and convert from the page: start a job for the open report, follow its progress, offer its files.
import { getJob, getJobFile, getToken, jobFileUrl, startJob } from './api.js';
import { h } from './util.js';

export function renderJobs(root, report) {
  const targets = Object.keys(report.targets || {});
  const select = h('select', { id: 'job-target' }, targets.map((t) => h('option', { value: t }, t)));
  const fix = h('input', { type: 'checkbox', id: 'job-fix', checked: true });
  const unsafe = h('input', { type: 'checkbox', id: 'job-unsafe' });
  const start = h('button', { type: 'button', class: 'primary' }, 'Fix and convert');
  const progress = h('progress', { max: '1', value: '0', hidden: true, 'aria-label': 'Conversion progress' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const files = h('ul', { class: 'job-files', 'aria-label': 'Files the job wrote' });
  start.addEventListener('click', async () => {
    start.disabled = true;
    files.replaceChildren();
    status.textContent = 'Starting…';
    progress.hidden = false;
    progress.value = 0;
    try {
      // A frozen graph converts with the outputs it was checked with.
      const outputs = report.model?.format === 'graphdef' ? (report.model.outputs || []).map((o) => o.name) : [];
      let job = await startJob({ reportId: report.id, target: select.value, fix: fix.checked,
        unsafeFixes: unsafe.checked, outputs });
      while (job.status === 'queued' || job.status === 'running') {
        progress.value = job.progress || 0;
        status.textContent = `${job.status === 'queued' ? 'Waiting for a worker' : 'Running'}`
          + `${job.message ? `: ${job.message}` : '…'}`;
        await new Promise((r) => setTimeout(r, 500));
        job = await getJob(job.id);
      }
      progress.value = job.progress ?? (job.status === 'done' ? 1 : progress.value);
      const err = job.result && job.result.error;
      const error = err && (typeof err === 'string' ? err : err.message || JSON.stringify(err));
      status.textContent = job.status === 'done' && !error ? `Done${job.message ? `: ${job.message}` : '.'}`
        : `Failed: ${error || job.message || 'the conversion did not finish'}`;
      const list = (job.result && job.result.files) || [];
      files.replaceChildren(...list.map((f) => {
        const name = typeof f === 'string' ? f : f.name;
        const link = h('a', { href: jobFileUrl(job.id, name), download: name }, `Download ${name}`);
        if (getToken()) {
          link.addEventListener('click', async (e) => {
            e.preventDefault();
            const url = URL.createObjectURL(await getJobFile(job.id, name));
            const a = h('a', { href: url, download: name });
            document.body.append(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 1000);
          });
        }
        return h('li', {}, link,
          f.size ? ` (${f.size} bytes)` : '');
      }));
    } catch (err) {
      status.textContent = `Could not run: ${err.detail || err.message}`;
      progress.hidden = true;
    } finally {
      start.disabled = false;
    }
  });
  // Fixes rewrite frozen graphs; a SavedModel or a Keras file converts as it is (from_saved_model).
  const savedModel = ['savedmodel', 'keras', 'keras-h5'].includes(report.model?.format);
  root.replaceChildren(
    h('p', { class: 'help' }, 'Applies the fixes graphlint knows, converts with the real TFLite converter in a '
      + 'sandboxed worker, and checks the converted model\'s numbers against the original.'
      + (savedModel ? ' Fixes rewrite frozen graphs only: this model converts as it is, with its serving_default '
        + 'signature.' : '')),
    h('div', { class: 'form-grid' },
      h('label', { for: 'job-target' }, 'Target'), select,
      h('label', { for: 'job-fix' }, fix, ' apply safe fixes'), h('span'),
      h('label', { for: 'job-unsafe' }, unsafe, ' also apply unsafe fixes (may change results)'), h('span')),
    h('div', { class: 'row' }, start, progress), status, files);
}
