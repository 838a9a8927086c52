"""Lint in worker processes, so a model is never parsed in the server process and the event loop never waits.

Linting is CPU-bound Python: threads would serialize on the GIL, so a pool of ``lint_workers`` processes
(started with ``spawn``, warmed at start-up) does the work and the server only moves bytes. Each worker runs
with an address-space cap; a lint that overruns its time limit, or a worker that dies, gets the pool
restarted and the request answered with a problem document, never a hung worker.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

from .problems import ProblemError


@dataclasses.dataclass(frozen=True)
class LintOptions:
    """What a lint run depends on besides the model (part of a report's content address)."""

    targets: tuple[str, ...]
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    preview: bool = False
    severity: tuple[tuple[str, str], ...] = ()  # code or name -> error | warning | info
    per_node_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # node glob -> codes


@dataclasses.dataclass(frozen=True)
class LintResult:
    """What a worker sends back: the report encoded as it is stored and sent (the server never re-encodes it),
    the facts the store indexes, the packed viewer graph and how long it took."""

    report: bytes  # pack(Report.to_dict())
    format: str | None  # model.format (None when the model could not be read)
    verdicts: dict[str, str]  # target -> pass | warn | fail
    findings: int
    graph: bytes | None
    seconds: float


# -- in the worker process -------------------------------------------------------------------------------------

_REGISTRY = None


def _init_worker(memory_mb: int) -> None:
    """Load the rules once and cap the worker's memory, so a hostile model fails alone."""
    global _REGISTRY
    import resource

    from graphlint.engine.registry import default_registry
    from graphlint.engine.runner import lint  # noqa: F401 - import the lint path now, not on the first request
    from graphlint.loaders import graphdef, tflite  # noqa: F401
    from graphlint.viewer import graph_json  # noqa: F401

    _REGISTRY = default_registry()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="graphlint-parent-watch",
                     daemon=True).start()
    limit = memory_mb << 20
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _exit_with_parent(parent: int) -> None:
    """Exit when the server dies (even by SIGKILL): the pool's pipes alone would keep an orphan alive."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _lint_in_worker(path: str, sha256: str, name: str, options: LintOptions) -> LintResult:
    from graphlint.engine.runner import lint
    from graphlint.engine.select import Selection

    from .store import pack

    start = time.perf_counter()
    selection = Selection(select=options.select, ignore=options.ignore, extend_select=options.extend_select,
                          preview=options.preview, severity=dict(options.severity),
                          per_node_ignores=dict(options.per_node_ignores))
    report = lint(path, targets=options.targets, inputs=options.inputs, outputs=options.outputs,
                  selection=selection, registry=_REGISTRY, name=name, sha256=sha256)
    data = report.to_dict()
    graph = None
    if report.model_graph is not None:
        try:
            from graphlint.viewer import graph_json
        except ImportError:  # pragma: no cover - an install without the viewer module
            graph_json = None
        if graph_json is not None:
            graph = pack(graph_json(report.model_graph, report))
    return LintResult(report=pack(data, strict=True), format=data.get("model", {}).get("format"),
                      verdicts={t: v["verdict"] for t, v in data.get("targets", {}).items()},
                      findings=len(data.get("findings", ())), graph=graph, seconds=time.perf_counter() - start)


def _ping() -> bool:
    return True


# -- in the server process -------------------------------------------------------------------------------------

_CLOSE_GRACE_S = 5.0  # how long a stopping server waits for a busy lint worker before it terminates it


class LintPool:
    """A process pool for lint runs, restarted when a run times out or a worker dies."""

    def __init__(self, workers: int, timeout_s: float, memory_mb: int) -> None:
        self.workers, self.timeout_s, self.memory_mb = workers, timeout_s, memory_mb
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.restarts = 0
        self.busy = 0

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
            initargs=(self.memory_mb,))

    def start(self) -> None:
        """Start the workers and wait until each has loaded the rules."""
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool()
            pool = self._pool
        for future in [pool.submit(_ping) for _ in range(self.workers)]:
            future.result(timeout=120)

    def _restart(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not broken:
                return  # another request restarted it already
            self._pool = self._new_pool()
            self.restarts += 1
        for process in list((getattr(broken, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
        broken.shutdown(wait=False, cancel_futures=True)

    @property
    def alive(self) -> bool:
        """True when the pool can take work."""
        return self._pool is not None

    async def _run(self, fn, *args):
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool()
            pool = self._pool
        try:
            future = pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):
            self._restart(pool)
            raise ProblemError(503, "the lint workers are restarting; try again", slug="unavailable",
                               headers={"Retry-After": "1"}) from None
        self.busy += 1
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except TimeoutError:
            self._restart(pool)
            raise ProblemError(422, f"linting this model took longer than {self.timeout_s:g} s; it was stopped",
                               slug="lint-timeout", title="Lint timed out") from None
        except BrokenProcessPool:
            self._restart(pool)
            raise ProblemError(422, "a lint worker died while reading this model (it may need more memory "
                                    "than the server allows); nothing was stored",
                               slug="lint-crashed", title="Lint failed") from None
        finally:
            self.busy -= 1

    async def lint(self, path: str, sha256: str, name: str, options: LintOptions) -> LintResult:
        """Lint the model file at ``path`` in a worker (``sha256``, already computed, is not computed again)."""
        return await self._run(_lint_in_worker, path, sha256, name, options)

    def close(self) -> None:
        """Stop the workers."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + _CLOSE_GRACE_S  # idle workers exit at once; a busy one gets this long
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                with contextlib.suppress(Exception):
                    process.terminate()
        pool.shutdown(wait=True)  # the pool's queues and their semaphores are released, not left to leak
