"""A pool of warm conversion workers: TensorFlow is imported once per worker, never in the caller.

Workers (:mod:`graphlint.convert.worker`) start on demand and stay warm between jobs. Each job has a timeout;
each worker caps its own address space. A worker that aborts, segfaults, runs out of memory or overruns its
timeout is killed and replaced (a fresh one starts in the background so the pool stays warm), and the job
becomes a structured failure with the converter's own last words and the node they name. The pool is safe to
use from several threads; at most ``size`` jobs run at once.

Settings come from the arguments or the environment: ``GRAPHLINT_CONVERT_WORKERS`` (default 1),
``GRAPHLINT_CONVERT_TIMEOUT`` seconds per job (default 600), ``GRAPHLINT_WORKER_MEMORY_MB`` (default 8192;
0 = no cap).

A caller that may have to stop its conversions early (a service job cancelled by its user) runs them inside
``with cancel_on(event):``: once ``event`` is set, the worker running a job of that thread is killed within about
a second, and every job it starts after that returns at once, as a failure of kind ``cancelled``.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import itertools
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, TypedDict

from .errors import crash_message, node_from_message

if TYPE_CHECKING:
    from .protocol import Job, Result

Progress = Callable[[float, str], None]
_TAIL = 64 << 10


class WorkerGone(Exception):
    """The worker process ended (crash, abort, kill) before it answered."""


class _Timeout(Exception):
    """The job overran its deadline."""


class _Cancelled(Exception):
    """The caller cancelled the job (see :func:`cancel_on`)."""


_CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("graphlint_convert_cancel",
                                                                                 default=None)


@contextlib.contextmanager
def cancel_on(event: threading.Event) -> Iterator[None]:
    """Inside the block, this thread's conversion jobs stop once ``event`` is set (their worker is killed)."""
    token = _CANCEL.set(event)
    try:
        yield
    finally:
        _CANCEL.reset(token)


class WorkerInfo(TypedDict):
    """Which worker ran a job (a result's ``worker``, with ``replaced``)."""

    pid: int
    warm: bool  # it had served or was ready before this job
    job: int  # how many jobs it has had, this one included


class PoolStats(TypedDict):
    """The pool's counts, for health checks."""

    size: int
    idle: int
    busy: int
    started: int
    replaced: int
    timeout_s: float
    memory_mb: int


def _cancelled_result(info: WorkerInfo | None = None) -> Result:
    """The failure a cancelled job returns."""
    result: Result = {"status": "failed", "error": {"kind": "cancelled", "node": None,
                                                    "message": "the job was cancelled; its conversion was stopped"}}
    if info is not None:
        result["worker"] = {**info, "replaced": True}
    return result


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """A pipe ``Popen`` opened (it opens one for every stream given ``PIPE``, so there always is one)."""
    if stream is None:
        raise WorkerGone("the worker process has no pipe")
    return stream


class Worker:
    """One worker process and the pipe protocol to it."""

    def __init__(self, memory_mb: int) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
               "CUDA_VISIBLE_DEVICES": "", "GRAPHLINT_WORKER_MEMORY_MB": str(memory_mb),
               "PYTHONUNBUFFERED": "1"}
        # Its own session: a Ctrl-C in the caller's terminal reaches the caller, which then closes the pool.
        self.proc = subprocess.Popen([sys.executable, "-m", "graphlint.convert.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, env=env, start_new_session=True)
        self._to_worker: IO[bytes] = _pipe(self.proc.stdin)
        self._from_worker: IO[bytes] = _pipe(self.proc.stdout)
        self._buf = b""
        self.jobs = 0
        self.ready: Result | None = None

    @property
    def pid(self) -> int:
        """Process id."""
        return self.proc.pid

    def wait_ready(self, timeout: float, cancel: threading.Event | None = None) -> Result:
        """Wait until TensorFlow is imported; raise WorkerGone, _Timeout or _Cancelled."""
        message = self._read(time.monotonic() + timeout, cancel)
        if message.get("type") != "ready":
            raise WorkerGone(f"unexpected first message {message!r}")
        self.ready = message
        return message

    def _read(self, deadline: float, cancel: threading.Event | None = None) -> Result:
        while b"\n" not in self._buf:
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout
            ready, _, _ = select.select([self._from_worker], [], [], min(left, 1.0))
            if not ready:
                if self.proc.poll() is not None:
                    raise WorkerGone
                continue
            chunk = os.read(self._from_worker.fileno(), 1 << 16)
            if not chunk:
                raise WorkerGone
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        message: Result = json.loads(line)
        return message

    def request(self, job: Job, timeout: float, progress: Progress | None,
                cancel: threading.Event | None = None) -> Result:
        """Send a job and wait for its result; raise WorkerGone, _Timeout or _Cancelled."""
        deadline = time.monotonic() + timeout
        try:
            self._to_worker.write((json.dumps(job) + "\n").encode())
            self._to_worker.flush()
        except (BrokenPipeError, OSError):
            raise WorkerGone from None
        self.jobs += 1
        while True:
            message = self._read(deadline, cancel)
            if message.get("type") == "progress" and progress is not None:
                with contextlib.suppress(Exception):  # a broken callback must not break the job
                    progress(float(message["fraction"]), str(message["stage"]))
            elif message.get("type") == "result":
                result: Result = message["result"]
                return result

    def stderr_tail(self, since: int = 0) -> str:
        """What the worker wrote to stderr since offset ``since`` (at most the last 64 KB)."""
        with contextlib.suppress(OSError, ValueError):  # ValueError: the log is already closed
            size = os.fstat(self.stderr.fileno()).st_size
            start = max(since, size - _TAIL)
            return os.pread(self.stderr.fileno(), size - start, start).decode("utf-8", "replace")
        return ""

    def stderr_size(self) -> int:
        """Current length of the stderr log."""
        return os.fstat(self.stderr.fileno()).st_size

    def kill(self) -> None:
        """Stop the process (SIGKILL if it does not leave on its own) and reap it."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self._to_worker.close()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(OSError):
            self._from_worker.close()
        with contextlib.suppress(OSError):
            self.stderr.close()

    def terminate_now(self) -> None:
        """Kill at once (timeouts: the worker may be stuck inside the converter)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.kill()


class WorkerPool:
    """Warm, sandboxed conversion workers shared by the CLI and the service."""

    def __init__(self, size: int | None = None, timeout: float | None = None, memory_mb: int | None = None,
                 startup_timeout: float = 300.0, max_jobs: int = 200, keep_warm: bool = True) -> None:
        self.size = max(1, size or int(os.environ.get("GRAPHLINT_CONVERT_WORKERS") or 1))
        self.timeout = timeout or float(os.environ.get("GRAPHLINT_CONVERT_TIMEOUT") or 600)
        env_mem = os.environ.get("GRAPHLINT_WORKER_MEMORY_MB")
        self.memory_mb = memory_mb if memory_mb is not None else int(env_mem) if env_mem else 8192
        self.startup_timeout = startup_timeout
        self.max_jobs = max_jobs
        self.keep_warm = keep_warm
        self._slots = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._starting: list[threading.Thread] = []
        self._busy: set[Worker] = set()
        self._all: set[Worker] = set()  # every live process, including ones still importing TensorFlow
        self._ids = itertools.count(1)
        self._closed = False
        self.started = 0  # worker processes started
        self.replaced = 0  # workers killed after a crash, OOM or timeout

    # -- workers -----------------------------------------------------------------------------------------
    def _spawn(self) -> Worker:
        with self._lock:
            self.started += 1
            worker = Worker(self.memory_mb)
            self._all.add(worker)
            return worker

    def _warm_one(self) -> None:
        """Start a worker in the background and park it idle once TensorFlow is imported."""
        def target() -> None:
            worker = self._spawn()
            try:
                worker.wait_ready(self.startup_timeout)
            except (WorkerGone, _Timeout, ValueError, OSError):
                with self._lock:
                    self._all.discard(worker)
                worker.terminate_now()
                return
            with self._lock:
                if not self._closed and len(self._idle) < self.size:
                    self._idle.append(worker)
                    return
                self._all.discard(worker)
            worker.kill()

        thread = threading.Thread(target=target, name="graphlint-worker-start", daemon=True)
        with self._lock:
            self._starting = [t for t in self._starting if t.is_alive()] + [thread]
        thread.start()

    def warm(self) -> None:
        """Start a worker now, so the first job does not pay for the TensorFlow import."""
        with self._lock:
            if self._idle or self._busy or any(t.is_alive() for t in self._starting):
                return
        self._warm_one()

    def _take(self) -> tuple[Worker, bool]:
        """An idle worker (warm) or a new one; waits for one being warmed in the background."""
        while True:
            with self._lock:
                if self._idle:
                    worker = self._idle.pop(0)
                    self._busy.add(worker)
                    return worker, True
                starting = [t for t in self._starting if t.is_alive()]
            if not starting:
                worker = self._spawn()
                with self._lock:
                    self._busy.add(worker)
                return worker, False
            starting[0].join(timeout=1.0)

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (idle and busy), for monitoring and tests."""
        with self._lock:
            return sorted(w.pid for w in [*self._idle, *self._busy])

    def stats(self) -> PoolStats:
        """Counts for health checks."""
        with self._lock:
            return {"size": self.size, "idle": len(self._idle), "busy": len(self._busy), "started": self.started,
                    "replaced": self.replaced, "timeout_s": self.timeout, "memory_mb": self.memory_mb}

    # -- jobs --------------------------------------------------------------------------------------------
    def run(self, job: Job, *, timeout: float | None = None, progress: Progress | None = None,
            on_worker: Callable[[int], None] | None = None) -> Result:
        """Run a job in a worker; never raises for what happens in the worker.

        Args:
            job: the job dict of :func:`graphlint.convert.worker.run_job`.
            timeout: seconds for this job (default: the pool's), not counting the worker's start.
            progress: called with (fraction, stage) as the worker reports.
            on_worker: called with the worker's pid once it has the job (monitoring, tests).

        Returns:
            The worker's result, or a structured failure (kind timeout | crash | memory | worker | cancelled)
            with the worker's last words; ``worker`` holds its pid and whether it was warm.
        """
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        job = {**job, "id": job.get("id") or f"job-{next(self._ids)}"}
        timeout = timeout or self.timeout
        cancel = _CANCEL.get()
        if cancel is not None and cancel.is_set():
            return _cancelled_result()
        with self._slots:
            worker, warm = self._take()
            if worker.ready is None:
                start_error = self._wait_started(worker, progress, cancel)
                if start_error is not None:
                    return start_error
            if on_worker is not None:
                on_worker(worker.pid)
            since = worker.stderr_size()
            info: WorkerInfo = {"pid": worker.pid, "warm": warm, "job": worker.jobs + 1}
            try:
                result = worker.request(job, timeout, progress, cancel)
            except _Cancelled:
                worker.terminate_now()
                self._release(worker, broken=True)
                return _cancelled_result(info)
            except _Timeout:
                worker.terminate_now()
                self._release(worker, broken=True)
                return {"status": "failed", "worker": {**info, "replaced": True}, "error": {
                    "kind": "timeout", "node": None,
                    "message": f"the conversion did not finish within {timeout:g} s; the worker was stopped"}}
            except (WorkerGone, ValueError):
                worker.proc.wait()
                tail = worker.stderr_tail(since)
                kind, message = crash_message(worker.proc.returncode, tail)
                worker.kill()
                self._release(worker, broken=True)
                return {"status": "failed", "worker": {**info, "replaced": True}, "error": {
                    "kind": kind, "message": message, "node": node_from_message(tail),
                    "returncode": worker.proc.returncode, "stderr": tail[-2000:]}}
            restart = bool(result.pop("restart", False)) or worker.jobs >= self.max_jobs
            self._release(worker, broken=restart)
            result["worker"] = {**info, "replaced": restart}
            return result

    def _wait_started(self, worker: Worker, progress: Progress | None, cancel: threading.Event | None
                      ) -> Result | None:
        """Wait until a starting worker is ready; None when it is, else (the worker released) the job's result:
        cancelled, or a ``worker`` failure saying why it did not start."""
        if progress is not None:
            progress(0.0, "starting a conversion worker")
        try:
            worker.wait_ready(self.startup_timeout, cancel)
        except _Cancelled:
            worker.terminate_now()
            self._release(worker, broken=True)
            return _cancelled_result()
        except (WorkerGone, _Timeout, ValueError) as gone:
            if not isinstance(gone, _Timeout):  # it is exiting: let it, so its status is its own
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.proc.wait(timeout=2)
            tail = worker.stderr_tail()  # before terminate_now closes the log
            worker.terminate_now()
            _, how = crash_message(worker.proc.returncode, tail)
            missing = [line for line in tail.splitlines() if line.startswith("ModuleNotFoundError")]
            if missing:
                how += f" ({missing[-1]}; install the convert extra: pip install 'graphlint[convert]')"
            self._release(worker, broken=True)
            return {"status": "failed", "error": {
                "kind": "worker", "message": f"the conversion worker did not start: {how}", "node": None}}
        return None

    def _release(self, worker: Worker, broken: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            if not broken and not self._closed:
                self._idle.append(worker)
                return
            if broken:
                self.replaced += 1
            closed = self._closed
            self._all.discard(worker)
        worker.kill()
        if broken and self.keep_warm and not closed:
            self._warm_one()

    def close(self) -> None:
        """Stop every worker: idle and starting ones now, busy ones when their job ends."""
        with self._lock:
            self._closed = True
            self._idle = []
            stop = [w for w in self._all if w not in self._busy]
            self._all -= set(stop)
        for worker in stop:
            worker.terminate_now()


_DEFAULT: WorkerPool | None = None
_DEFAULT_LOCK = threading.Lock()


def default_pool() -> WorkerPool:
    """The process-wide pool (created on first use, closed at exit)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None or _DEFAULT._closed:
            _DEFAULT = WorkerPool()
            atexit.register(_DEFAULT.close)
        return _DEFAULT
