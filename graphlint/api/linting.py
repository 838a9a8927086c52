"""Lint and render in worker processes, so a model is never parsed in the server process and the event loop
never waits.

Linting is CPU-bound Python: threads would serialize on the GIL, so ``lint_workers`` processes (started with
``spawn``, warmed at start-up) do the work and the server only moves bytes. Each worker has its own pipe and
runs one request at a time, under an address-space cap (``lint_memory_mb``) and a time limit
(``lint_timeout_s``) that cover everything it does: the lint, the viewer graph, a SARIF rendering. So a failure
is always the fault of the one request the worker was running: that request alone gets a problem document
(422 naming the budget it overran: time, memory or nodes), the worker is replaced, and every other request,
running on another worker or waiting for one, goes on untouched. A worker whose memory ran out exits after
answering (its heap stays fragmented otherwise) and is replaced too. A worker that dies without answering
(killed from outside, or by the kernel) is replaced and the call is tried once more on another worker: only a
model that kills a worker twice gets 422 ``lint-crashed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import queue
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple

from anyio import to_thread

from graphlint.engine.options import LintOptions
from graphlint.loaders import DEFAULT_MAX_NODES

from .problems import ProblemError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnContext

    from graphlint.engine.registry import Registry
    from graphlint.report import JSONObject, Report

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")
# What a worker sends back, unpickled from its pipe: what the call returned, the name of a budget, an error
# message or nothing, as the status beside it says. Only that status tells which, so the value stays open.
_Payload = Any
_Answer = tuple[str, _Payload]  # (status, payload); the worker's first message is ("ready", its pid)
_Call = tuple[Callable[..., object], tuple[object, ...]]  # (function, its arguments), run by the worker


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

_REGISTRY: Registry | None = None
_RECYCLE = False  # set when this worker should be replaced after its answer (its memory ran out mid-way)


class OverBudget(Exception):
    """Raised in a worker when the lint stopped at a per-model budget (GL005): the request gets 422 naming
    ``budget`` (``max-nodes`` or ``max-memory``) and nothing is stored."""

    def __init__(self, budget: str) -> None:
        super().__init__(budget)
        self.budget = budget


WORKER_NICE = 10  # lint workers run this much nicer than the server, whose event loop answers every request


def _init_worker(memory_mb: int) -> None:
    """Load the rules once, cap the worker's memory, so a hostile model fails alone, and lower its priority, so
    that on a busy machine the server's event loop (``/healthz``, uploads, streamed answers) runs first."""
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
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)


def _exit_with_parent(parent: int) -> None:
    """Exit when the server dies (even by SIGKILL) while this worker is busy."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _worker_main(conn: Connection[_Answer, _Call], memory_mb: int) -> None:
    """Answer ``(fn, args)`` calls on ``conn`` with ``(status, payload)`` until the server closes it.

    Statuses: ``ok`` (payload: the result), ``ok-last`` (the same, and this worker exits: the memory cap was
    hit in a part the answer does without, the viewer graph), ``memory`` (the memory cap was hit: this worker
    exits after answering), ``budget`` (payload: the budget other than memory the lint stopped at, such as
    ``max-nodes``), ``recursion`` (the model nests deeper than Python's stack), ``error`` (payload: the message).
    """
    _init_worker(memory_mb)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        answer: _Answer
        try:
            answer = ("ok", fn(*args))
            if _RECYCLE:  # the memory cap was hit in a part the answer can do without: answer, then exit
                answer = ("ok-last", answer[1])
        except MemoryError:
            answer = ("memory", None)  # the frames that held the memory are gone once this block ends
        except OverBudget as err:  # the memory budget: the heap grew to the cap, so this worker exits too
            answer = ("memory", None) if err.budget == "max-memory" else ("budget", err.budget)
        except RecursionError:
            answer = ("recursion", None)
        except Exception as err:  # noqa: BLE001 - any failure is this request's answer, never the worker's end
            answer = ("error", f"{type(err).__name__}: {str(err)[:300]}")
        try:
            conn.send(answer)
        except MemoryError:  # half an answer may be in the pipe: the server reads it as this worker's death
            os._exit(0)
        if answer[0] == "memory" or _RECYCLE:
            conn.close()
            os._exit(0)


def _pack_graph(graph: Mapping[str, object], max_bytes: int) -> bytes | None:
    """The graph as :func:`~graphlint.api.store.pack` stores it, or None when its JSON is over ``max_bytes``."""
    import json

    import orjson

    try:
        text = orjson.dumps(graph)
    except TypeError:  # what orjson refuses, as store.pack writes it
        text = json.dumps(graph, ensure_ascii=False, separators=(",", ":")).encode()
    return zlib.compress(text, 1) if len(text) <= max_bytes else None


def _graph_in_worker(report: Report, max_bytes: int) -> bytes | None:
    """The packed viewer graph; None when it is over ``max_bytes`` or does not fit the worker's memory (the
    report is kept all the same, and the worker is replaced after answering)."""
    global _RECYCLE
    try:
        from graphlint.viewer import graph_json
    except ImportError:  # pragma: no cover - an install without the viewer module
        return None
    if report.model_graph is None:
        return None
    try:
        return _pack_graph(graph_json(report.model_graph, report), max_bytes)
    except MemoryError:
        _RECYCLE = True
        return None


def _check_budget(report: Report) -> None:
    """Raise :class:`OverBudget` when the lint stopped at a budget (its one finding is a fatal GL005)."""
    fatal = report.fatal_finding if report.fatal else None
    if fatal is not None and fatal.code == "GL005":
        raise OverBudget(str(dict(fatal.data or {}).get("budget", "max-memory")))


def _lint_in_worker(path: str, sha256: str, name: str, options: LintOptions, max_graph_bytes: int,
                    max_nodes: int | None = DEFAULT_MAX_NODES) -> LintResult:
    from graphlint.engine.runner import Budgets, lint

    from .store import pack

    start = time.perf_counter()
    report = lint(path, options, registry=_REGISTRY, name=name, sha256=sha256, budgets=Budgets(max_nodes=max_nodes))
    _check_budget(report)
    data = report.to_dict()
    graph = _graph_in_worker(report, max_graph_bytes)
    return LintResult(report=pack(data, strict=True), format=data.get("model", {}).get("format"),
                      verdicts={t: v["verdict"] for t, v in data.get("targets", {}).items()},
                      findings=len(data.get("findings", ())), graph=graph, seconds=time.perf_counter() - start)


def cap_findings(data: JSONObject, per_rule: int) -> JSONObject:
    """The report dict with at most ``per_rule`` findings of each rule; the rest of a rule's findings become one
    summary finding that says how many were left out (on the targets they concerned, at their worst severity)."""
    kept: list[JSONObject] = []
    counts: dict[str, int] = {}
    dropped: dict[str, list[JSONObject]] = {}
    for finding in data.get("findings", ()):
        code = finding["code"]
        counts[code] = counts.get(code, 0) + 1
        if counts[code] <= per_rule:
            kept.append(finding)
        else:
            dropped.setdefault(code, []).append(finding)
    if not dropped:
        return data
    order = ("info", "warning", "error")
    for code, rest in dropped.items():
        targets = sorted({t for f in rest for t in f.get("targets", ())})
        kept.append({**rest[0], "severity": max((f["severity"] for f in rest), key=order.index), "node": None,
                     "op": None, "tensor": None, "targets": targets, "fix": None, "target_severity": None,
                     "data": {"omitted": len(rest)},
                     "message": f"{len(rest)} more {code} findings are not listed here (at most {per_rule} per rule "
                                f"in this rendering; the JSON report has all {counts[code]})"})
    return {**data, "findings": kept}


def _sarif_in_worker(packed_report: bytes, per_rule: int) -> bytes:
    """The SARIF rendering of a stored report, compressed as :func:`~graphlint.api.store.pack` compresses."""
    from graphlint.formats import renderer
    from graphlint.report import report_from_dict

    from .store import unpack

    data = cap_findings(unpack(packed_report), per_rule)
    text = renderer("sarif")([report_from_dict(data)], registry=_REGISTRY)
    return zlib.compress(text.encode(), 1)


def _ping() -> bool:
    return True


# -- in the server process -------------------------------------------------------------------------------------

log = logging.getLogger("graphlint.api")
_CLOSE_GRACE_S = 5.0  # how long a stopping server waits for a busy lint worker before it terminates it
_START_S = 120.0  # how long a new worker may take to load the rules
_WAIT_S = 300.0  # how long a request waits for a worker when every one is being replaced
_ATTEMPTS = 2  # a call whose worker dies without answering is tried once more, on another worker


class _Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(self, ctx: SpawnContext, memory_mb: int) -> None:
        self.conn: Connection[_Call, _Answer]
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, memory_mb), name="graphlint-lint", daemon=True)
        self.process.start()
        child.close()

    def ready(self, timeout: float) -> bool:
        """Wait for the worker's first message (sent once it has loaded the rules)."""
        try:
            return self.conn.poll(timeout) and self.conn.recv()[0] == "ready"
        except (EOFError, OSError):
            return False

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(5)


class LintPool:
    """``workers`` lint processes, one request at a time each; a worker that fails is replaced alone."""

    def __init__(self, workers: int, timeout_s: float, memory_mb: int, *, max_graph_mb: float = 256,
                 max_findings_per_rule: int = 1000, max_nodes: int | None = DEFAULT_MAX_NODES) -> None:
        self.workers, self.timeout_s, self.memory_mb = workers, timeout_s, memory_mb
        self.max_nodes = max_nodes
        self.max_graph_bytes = int(max_graph_mb * (1 << 20))
        self.max_findings_per_rule = max_findings_per_rule
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._slots: asyncio.Semaphore | None = None
        self._started = self._closed = False
        self.restarts = 0
        self.busy = 0

    def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx, self.memory_mb)
        with self._lock:
            self._all.add(worker)
        return worker

    def start(self) -> None:
        """Start the workers and wait until each has loaded the rules.

        Raises:
            RuntimeError: a worker did not start.
        """
        with self._lock:
            if self._started:
                return
            self._started = True
        workers = [self._spawn() for _ in range(self.workers)]
        for worker in workers:
            if not worker.ready(_START_S):
                raise RuntimeError("a lint worker did not start")
            self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and start another in its place (in a thread: the caller does not wait for it)."""
        with self._lock:
            self._all.discard(worker)
            self.restarts += 1
        worker.kill()
        threading.Thread(target=self._respawn, name="graphlint-lint-respawn", daemon=True).start()

    def _respawn(self) -> None:
        for attempt in range(5):
            if self._closed:
                return
            worker = self._spawn()
            if worker.ready(_START_S):
                self._idle.put(worker)
                return
            log.warning("a new lint worker did not start (attempt %d)", attempt + 1)
            with self._lock:
                self._all.discard(worker)
            worker.kill()
            time.sleep(1)

    @property
    def alive(self) -> bool:
        """True when the pool can take work."""
        return self._started and not self._closed

    def _call(self, worker: _Worker, fn: Callable[..., object], args: tuple[object, ...]) -> _Answer:
        """Send one call and wait for its answer within the time limit; ``("died", None)`` when the worker died
        without answering."""
        try:
            worker.conn.send((fn, args))
            if not worker.conn.poll(self.timeout_s):
                raise self._over("time", "lint-timeout", "Lint timed out",
                                 f"this model took longer than the lint time limit of {self.timeout_s:g} s "
                                 "(GRAPHLINT_LINT_TIMEOUT_S); it was stopped and nothing was stored")
            return worker.conn.recv()
        except (EOFError, OSError):
            if self._closed:
                raise ProblemError(503, "the server is stopping", headers={"Retry-After": "5"}) from None
            return "died", None

    def _take(self) -> _Worker:
        """An idle worker (waits for one when all are busy or being replaced)."""
        try:
            return self._idle.get(timeout=_WAIT_S)
        except queue.Empty:
            raise ProblemError(503, "the lint workers are restarting; try again", headers={"Retry-After": "5"}) \
                from None

    def _exchange(self, fn: Callable[[*_Ts], _T], args: tuple[*_Ts]) -> _T:
        """Run ``fn(*args)`` on an idle worker (runs in a thread). A worker that dies without answering is
        replaced and the call runs once more on another: a worker killed from outside (or by the kernel) fails
        no request; a model that kills two workers gets 422 ``lint-crashed``."""
        for attempt in range(1, _ATTEMPTS + 1):
            worker = self._take()
            try:
                status, payload = self._call(worker, fn, args)
            except BaseException:
                self._replace(worker)
                raise
            if status in ("ok", "budget"):
                self._idle.put(worker)
            else:
                self._replace(worker)  # it has exited (memory, died) or will (ok-last), or an error left it unwell
            if status in ("ok", "ok-last"):
                result: _T = payload  # the worker answers a call with what the function returned
                return result
            if status != "died":
                raise self._failure(status, payload)
            log.warning("a lint worker died without answering (attempt %d of %d)", attempt, _ATTEMPTS)
        raise ProblemError(422, f"the lint worker died {_ATTEMPTS} times while reading this model (the system may have "
                                "killed it for its memory); nothing was stored", slug="lint-crashed",
                           title="Lint failed")

    _SETTINGS = {"time": "GRAPHLINT_LINT_TIMEOUT_S", "max-memory": "GRAPHLINT_LINT_MEMORY_MB",
                 "max-nodes": "GRAPHLINT_MAX_NODES"}

    def _over(self, budget: str, slug: str, title: str, detail: str) -> ProblemError:
        """A 422 naming ``budget``: the problem's ``budget`` member gives its name, this server's limit, the
        unit and the setting that raises it."""
        limit, unit = {"time": (self.timeout_s, "s"), "max-memory": (self.memory_mb, "MB"),
                       "max-nodes": (self.max_nodes, "nodes")}.get(budget, (None, None))
        member = {"name": budget, "limit": limit, "unit": unit, "setting": self._SETTINGS.get(budget)}
        member = {key: value for key, value in member.items() if value is not None}
        return ProblemError(422, detail, slug=slug, title=title, extra={"budget": member})

    def _failure(self, status: str, payload: _Payload) -> ProblemError:
        """The problem a call that did not succeed answers with."""
        if status == "memory":
            return self._over("max-memory", "too-large", "Model too large",
                              f"this model needs more memory than the lint memory cap of {self.memory_mb} MB "
                              "(GRAPHLINT_LINT_MEMORY_MB); nothing was stored")
        if status == "budget" and payload == "max-nodes":
            return self._over("max-nodes", "too-large", "Model too large",
                              f"this model has more nodes than the {self.max_nodes:,} this server lints "
                              "(GRAPHLINT_MAX_NODES); nothing was stored")
        if status == "recursion":
            return self._over("depth", "too-large", "Model too large",
                              "this model nests deeper than the lint stack allows; nothing was stored")
        if status == "budget":
            return self._over(str(payload), "too-large", "Model too large",
                              f"this model is over the lint budget `{payload}`; nothing was stored")
        return ProblemError(422, f"linting this model failed: {payload}", slug="lint-failed", title="Lint failed")

    async def _run(self, fn: Callable[[*_Ts], _T], *args: *_Ts) -> _T:
        if self._closed:
            raise ProblemError(503, "the server is stopping", headers={"Retry-After": "5"})
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            self.busy += 1
            try:
                return await to_thread.run_sync(self._exchange, fn, args)
            finally:
                self.busy -= 1

    async def lint(self, path: str, sha256: str, name: str, options: LintOptions) -> LintResult:
        """Lint the model file at ``path`` in a worker (``sha256``, already computed, is not computed again)."""
        return await self._run(_lint_in_worker, path, sha256, name, options, self.max_graph_bytes, self.max_nodes)

    async def sarif(self, packed_report: bytes) -> bytes:
        """A stored report's SARIF rendering, compressed (a worker decodes the report and renders it)."""
        return await self._run(_sarif_in_worker, packed_report, self.max_findings_per_rule)

    def close(self) -> None:
        """Stop the workers: idle ones at once, a busy one after a grace period."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.close()  # an idle worker reads EOF and exits
        deadline = time.monotonic() + _CLOSE_GRACE_S
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.process.is_alive():
                with contextlib.suppress(Exception):
                    worker.process.terminate()
                    worker.process.join(5)
