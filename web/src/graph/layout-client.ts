// One layout worker for the page (assets/layout-worker.js); without worker support, the layout runs on the page.
import { runLayout } from '../layout';
import type { LayoutJob, LayoutReply, LayoutRequest, LayoutResult } from '../layout';

interface Pending {
  resolve: (result: LayoutResult) => void;
  reject: (err: Error) => void;
  fallback: () => void;
}

let worker: Worker | null | false = null; // null: not started yet; false: none to be had
let jobSeq = 0;
const pending = new Map<number, Pending>();

/** Start the layout worker ahead of the first drawing. */
export function warmLayout(): void {
  if (worker === null) startWorker();
}

function startWorker(): void {
  try {
    // The bundle's name: build.mjs writes the worker next to app.js as assets/layout-worker.js.
    const w = new Worker(new URL('./layout-worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<LayoutReply>) => {
      const p = pending.get(e.data.seq);
      pending.delete(e.data.seq);
      if (!p) return;
      if (e.data.error !== undefined) p.reject(new Error(e.data.error));
      else p.resolve(e.data.result);
    };
    w.onerror = () => {
      worker = false;
      for (const p of pending.values()) p.fallback();
      pending.clear();
    };
    worker = w;
  } catch {
    worker = false;
  }
}

/** Lay out one drawing, in the worker when there is one. */
export function layoutJob(job: LayoutJob): Promise<LayoutResult> {
  if (worker === null) startWorker();
  const w = worker;
  if (!w) return Promise.resolve(runLayout(job));
  return new Promise((resolve, reject) => {
    const seq = ++jobSeq;
    pending.set(seq, { resolve, reject, fallback: () => resolve(runLayout(job)) });
    const message: LayoutRequest = { seq, job };
    w.postMessage(message);
  });
}
