// Fix and convert from the page: start a job for the open report, follow its progress, offer its files.
import { getJob, getJobFile, getToken, jobFileUrl, startJob } from './api';
import type { Job, Report } from './types';
import { errorText, h, saveBlob, toast } from './util';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Why a finished job failed, in words (null when it did not). */
function jobError(job: Job): string | null {
  const err = job.result?.error;
  if (!err) return null;
  return typeof err === 'string' ? err : err.message ?? JSON.stringify(err);
}

/** A download link for one of a job's files; with a token, the file is fetched with it and saved. */
function fileLink(job: Job, name: string): HTMLLIElement {
  const link = h('a', { href: jobFileUrl(job.id, name), download: name }, `Download ${name}`);
  if (getToken()) {
    link.addEventListener('click', (e) => {
      e.preventDefault();
      getJobFile(job.id, name).then((blob) => saveBlob(name, blob))
        .catch((err: unknown) => toast(`Download: ${errorText(err)}`));
    });
  }
  return h('li', {}, link);
}

interface JobControls {
  select: HTMLSelectElement;
  fix: HTMLInputElement;
  unsafe: HTMLInputElement;
  progress: HTMLProgressElement;
  status: HTMLElement;
  files: HTMLElement;
}

/** Start a job, follow it until it ends, and show its outcome and files. */
async function runJob(report: Report, c: JobControls): Promise<void> {
  // A frozen graph converts with the outputs it was checked with.
  const outputs = report.model.format === 'graphdef' ? report.model.outputs.map((o) => o.name) : [];
  let job = await startJob({ reportId: report.id, target: c.select.value, fix: c.fix.checked,
    unsafeFixes: c.unsafe.checked, outputs });
  while (job.status === 'queued' || job.status === 'running') {
    c.progress.value = job.progress || 0;
    c.status.textContent = `${job.status === 'queued' ? 'Waiting for a worker' : 'Running'}`
      + `${job.message ? `: ${job.message}` : '…'}`;
    await sleep(500);
    job = await getJob(job.id);
  }
  c.progress.value = job.progress;
  const error = jobError(job);
  c.status.textContent = job.status === 'done' && !error ? `Done${job.message ? `: ${job.message}` : '.'}`
    : `Failed: ${error || job.message || 'the conversion did not finish'}`;
  c.files.replaceChildren(...(job.result?.files ?? []).map((name) => fileLink(job, name)));
}

export function renderJobs(root: HTMLElement, report: Report): void {
  const targets = Object.keys(report.targets);
  const c: JobControls = {
    select: h('select', { id: 'job-target' }, targets.map((t) => h('option', { value: t }, t))),
    fix: h('input', { type: 'checkbox', id: 'job-fix', checked: true }),
    unsafe: h('input', { type: 'checkbox', id: 'job-unsafe' }),
    progress: h('progress', { max: '1', value: '0', hidden: true, 'aria-label': 'Conversion progress' }),
    status: h('p', { class: 'status', role: 'status', 'aria-live': 'polite' }),
    files: h('ul', { class: 'job-files', 'aria-label': 'Files the job wrote' }),
  };
  const start = h('button', { type: 'button', class: 'primary' }, 'Fix and convert');
  start.addEventListener('click', () => {
    start.disabled = true;
    c.files.replaceChildren();
    c.status.textContent = 'Starting…';
    c.progress.hidden = false;
    c.progress.value = 0;
    runJob(report, c).catch((err: unknown) => {
      c.status.textContent = `Could not run: ${errorText(err)}`;
      c.progress.hidden = true;
    }).finally(() => { start.disabled = false; });
  });
  // Fixes rewrite frozen graphs; a SavedModel or a Keras file converts as it is (from_saved_model).
  const savedModel = ['savedmodel', 'keras', 'keras-h5'].includes(report.model.format ?? '');
  root.replaceChildren(
    h('p', { class: 'help' }, 'Applies the fixes graphlint knows, converts with the real TFLite converter in a '
      + 'sandboxed worker, and checks the converted model\'s numbers against the original.'
      + (savedModel ? ' Fixes rewrite frozen graphs only: this model converts as it is, with its serving_default '
        + 'signature.' : '')),
    h('div', { class: 'form-grid' },
      h('label', { for: 'job-target' }, 'Target'), c.select,
      h('label', { for: 'job-fix' }, c.fix, ' apply safe fixes'), h('span'),
      h('label', { for: 'job-unsafe' }, c.unsafe, ' also apply unsafe fixes (may change results)'), h('span')),
    h('div', { class: 'row' }, start, c.progress), c.status, c.files);
}
