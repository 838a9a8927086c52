// What the real converter, LiteRT and TFLite Micro said about each target (a report uploaded with "verify"):
// confirmed / contradicted / not run under each verdict, and the job's state while it runs (polled).
import { getReport } from './api';
import type { JobStatus, Report, Verification, Verified } from './types';
import { h } from './util';

const POLL_MS = 1500;
const RUNNING = new Set<JobStatus | undefined>(['queued', 'running']);

/** The line under a verdict card: what the real tools did for this target. */
export function verifiedLine(verified: Verified | null | undefined): HTMLSpanElement | null {
  if (!verified) return null;
  const status = verified.status;
  const text = status === 'confirmed' ? `confirmed by the real tools (${verified.actual})`
    : status === 'contradicted' ? `contradicted: the real tools say ${verified.actual}`
      : 'not run';
  return h('span', { class: `vver ver-${status}`, dataset: { verified: status } }, text,
    verified.message && status !== 'confirmed' ? h('span', { class: 'vmsg' }, `: ${verified.message}`) : null,
    status === 'contradicted' && verified.reproduce
      ? h('code', { class: 'vrepro', title: 'reproduce it' }, verified.reproduce) : null);
}

function stateText(v: Verification): string {
  if (RUNNING.has(v.status)) return 'Verifying with the real converter, LiteRT and TFLite Micro…';
  if (v.status === 'failed') return `The verification could not run: ${v.message || 'it failed'}`;
  const s = v.summary ?? {};
  return `Verified: ${s.confirmed ?? 0} confirmed, ${s.contradicted ?? 0} contradicted, ${s.not_run ?? 0} not run.`;
}

/**
 * The verdict cards (``cards(report)``) with the verification state; while the verification job runs, the report
 * is fetched again every 1.5 s and the cards are redrawn when it is done. ``onUpdate(report)`` sees the new report.
 */
export function verdictSection(report: Report, cards: (r: Report) => HTMLElement,
  onUpdate: (r: Report) => void = () => {}): HTMLDivElement {
  const root = h('div', { class: 'verdict-section' });
  let stopped = false;
  const draw = (r: Report): void => {
    const v = r.verification;
    root.replaceChildren(cards(r), ...(v ? [h('p', { class: `verification vs-${v.status}`, role: 'status',
      'aria-live': 'polite' }, stateText(v))] : []));
  };
  const poll = async (): Promise<void> => {
    if (stopped || (!root.isConnected && root.dataset.started)) return;
    root.dataset.started = '1';
    try {
      const fresh = await getReport(report.id);
      draw(fresh);
      if (RUNNING.has(fresh.verification?.status)) setTimeout(() => { void poll(); }, POLL_MS);
      else onUpdate(fresh);
    } catch {
      stopped = true;
    }
  };
  draw(report);
  if (RUNNING.has(report.verification?.status)) setTimeout(() => { void poll(); }, POLL_MS);
  return root;
}
