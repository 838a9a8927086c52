// Web Worker: lays out one drawing per message ({seq, job}) and posts {seq, result} or {seq, error}.
import { runLayout } from './layout.js';

self.onmessage = (e) => {
  const { seq, job } = e.data;
  try {
    self.postMessage({ seq, result: runLayout(job) });
  } catch (err) {
    self.postMessage({ seq, error: String((err && err.message) || err) });
  }
};
