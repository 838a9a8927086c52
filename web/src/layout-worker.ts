// Web Worker: lays out one drawing per message ({seq, job}) and posts {seq, result} or {seq, error}.
import { runLayout } from './layout';
import type { LayoutReply, LayoutRequest } from './layout';

// The DOM lib types `self` as a Window; here it is a DedicatedWorkerGlobalScope, whose type lives in the WebWorker
// lib, which cannot be loaded together with the DOM one. These two members are all the worker uses.
interface WorkerScope {
  onmessage: ((e: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: LayoutReply): void;
}
const scope = self as unknown as WorkerScope;

scope.onmessage = (e) => {
  const { seq, job } = e.data;
  try {
    scope.postMessage({ seq, result: runLayout(job) });
  } catch (err) {
    scope.postMessage({ seq, error: err instanceof Error ? err.message : String(err) });
  }
};
