"""Fix-and-convert jobs: a bounded queue worked by background threads; state and results in the store.

A job calls ``graphlint.convert.service.convert_model``, which runs TensorFlow in its own worker processes
(never in this one), writes its files under ``<data dir>/jobs/<job id>/`` and returns ``{status, error,
files, ...}``. The queue is bounded (503 when it is full); a job that was running when the server died is
marked failed at the next start, and jobs still queued then are queued again.

A job's state in the store is the one truth every process reads: a worker starts a job only by moving it from
``queued`` to ``running`` (counting the attempt), and finishes it only while it is still queued or running, so a
job cancelled meanwhile (``DELETE /v1/jobs/{id}``, from any replica) stays cancelled. A worker polls the state
of the jobs it runs and stops the conversion child of one that was cancelled.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import re
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from graphlint.engine.targets import TARGETS

from . import metrics
from .blobs import BlobStore
from .problems import ProblemError
from .store import (
    ConvertJobRequest,
    JobRequest,
    JobRow,
    JobStatus,
    ReportRow,
    Store,
    VerificationState,
    VerificationStatus,
    VerifyJobRequest,
    is_id,
    is_verify,
    pack,
    unpack,
)

if TYPE_CHECKING:
    from graphlint.report import JSONObject, Verified

log = logging.getLogger("graphlint.api.jobs")
# Calibration data over the API is generated only: the conversion service also takes a path, which a client must
# never be able to point at the server's filesystem.
_CALIBRATION = re.compile(r"random(:[1-9][0-9]{0,3})?")
_QUEUE_SLACK = 4  # ids the in-process queue holds per queued job it admits (the rest: cancelled ones)
# A job in these states can still run; done, failed and cancelled are final.
ACTIVE: tuple[JobStatus, ...] = ("queued", "running")
CANCELLED_MESSAGE = "cancelled by its owner"
QUOTA_RETRY_AFTER_S = 30  # Retry-After of a 429 for a token over its quota of queued jobs


def job_request(*, sha256: str, name: str, report_id: str | None, target: str | None, fix: bool,
                unsafe_fixes: bool, inputs: list[str], outputs: list[str], calibration: str | None,
                input_ranges: list[str]) -> ConvertJobRequest:
    """Validate a job's parameters into the JSON stored with it.

    Raises:
        ProblemError: 422 naming the first bad value.
    """
    target = target or "int8"
    if target not in TARGETS:
        raise ProblemError(422, f"unknown target `{target[:100]}` (known: {', '.join(TARGETS)})")
    calibration = calibration or "random"
    if not _CALIBRATION.fullmatch(calibration):
        raise ProblemError(422, f"calibration is `random` or `random:N` (N samples), got `{calibration[:100]}`")
    ranges: list[tuple[str, float, float]] = []
    for spec in input_ranges:
        name_part, _, rest = spec.partition(":")
        low, _, high = rest.partition(":")
        try:
            bounds = float(low), float(high)
        except ValueError:
            raise ProblemError(422, f"input_range takes NAME:MIN:MAX, got `{spec[:100]}`") from None
        if not name_part or not bounds[0] < bounds[1]:
            raise ProblemError(422, f"input_range takes NAME:MIN:MAX with MIN < MAX, got `{spec[:100]}`")
        ranges.append((name_part, *bounds))
    return {"sha256": sha256, "name": name, "report_id": report_id, "target": target, "fix": fix,
            "unsafe_fixes": unsafe_fixes, "inputs": inputs, "outputs": outputs,
            "calibration": calibration, "input_ranges": ranges}


class CancelWatch:
    """Notices when a job running in this process is cancelled, by this process or any other: polls the store for
    the states of the jobs it watches (one thread, only while some job is watched)."""

    def __init__(self, store: Store, interval_s: float = 0.5) -> None:
        self.store, self.interval_s = store, interval_s
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watching(self, job_id: str) -> Iterator[threading.Event]:
        """An event set once the job is cancelled, for the time of the block."""
        event = threading.Event()
        with self._lock:
            self._events[job_id] = event
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="graphlint-job-cancel", daemon=True)
                self._thread.start()
        try:
            yield event
        finally:
            with self._lock:
                self._events.pop(job_id, None)

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval_s)
            with self._lock:
                if not self._events:
                    self._thread = None
                    return
                watched = list(self._events)
            try:
                statuses = self.store.job_statuses(watched)
            except Exception as err:  # noqa: BLE001 - the database is down: look again next round
                log.warning("cannot read the state of running jobs: %s: %s", type(err).__name__, err)
                continue
            with self._lock:
                for job_id, status in statuses.items():
                    if status == "cancelled" and job_id in self._events:
                        self._events[job_id].set()


class JobRunner:
    """Runs queued jobs one (or ``workers``) at a time.

    Subclasses put jobs on another queue by overriding :meth:`_enqueue` and :meth:`_full` (team mode,
    :mod:`graphlint.api.taskqueue`); :meth:`run_one` runs one job wherever it was taken from.
    ``per_owner`` bounds the jobs one owner (token name) may have queued or running (429 beyond; None: no bound).
    """

    def __init__(self, store: Store, blobs: BlobStore, root: Path, workers: int = 1, capacity: int = 16,
                 per_owner: int | None = None) -> None:
        self.store, self.blobs, self.root = store, blobs, root
        self.capacity, self.per_owner = capacity, per_owner
        self.cancels = CancelWatch(store)
        self.root.mkdir(parents=True, exist_ok=True)
        # Room for cancelled jobs a thread has yet to take and skip: ``capacity`` bounds the jobs queued. None asks
        # the thread that takes it to stop.
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=capacity * _QUEUE_SLACK)
        self._threads = [threading.Thread(target=self._loop, name=f"graphlint-job-{i}", daemon=True)
                         for i in range(workers)]
        self._reports = threading.Lock()  # read-modify-write of a report's verification state

    def start(self) -> None:
        """Fail jobs a dead server left running, queue again those it left queued, start the threads."""
        for job_id in self.store.recover_jobs():
            try:
                self._queue.put_nowait(job_id)
            except queue.Full:
                self.store.update_job(job_id, status="failed", message="the job queue was full after a restart")
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5) -> None:
        """Ask the threads to stop after their current job."""
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def submit(self, owner: str, request: JobRequest) -> JobRow:
        """Store a job and queue it.

        Raises:
            ProblemError: 429 when the owner has its quota of jobs queued or running, 503 when the queue is full.
        """
        self.check_quota(owner)
        if self._full():
            raise ProblemError(503, "too many jobs are waiting; try again later", headers={"Retry-After": "30"})
        job = self.store.add_job(owner, request)
        if not self._enqueue(job.id):
            self.store.update_job(job.id, status="failed", message="the job queue was full")
            raise ProblemError(503, "too many jobs are waiting; try again later",
                               headers={"Retry-After": "30"}) from None
        return job

    def verify(self, row: ReportRow, inputs: list[str], outputs: list[str]) -> ReportRow:
        """Queue the verification of a stored report (``POST /v1/reports?verify=true``) unless one is queued,
        running or done; the report's ``verification`` says which job and its state. Runs in a thread.

        A server without TensorFlow, or a full queue, gives ``verification.status: failed`` with the reason.
        """
        with self._reports, self.store.exclusive(f"verification:{row.id}"):
            row = self.store.get_report(row.owner, row.id) or row  # as another replica may have left it
            data: JSONObject = unpack(row.report)
            state = data.get("verification") or {}
            if state.get("status") == "done" or (state.get("status") in ("queued", "running")
                                                 and self._alive(state.get("job"))):
                return row
            problem = self._tools_problem()
            if problem:
                return self._set_verification(row, data, {"job": None, "status": "failed", "message": problem})
            request = VerifyJobRequest(kind="verify", report_id=row.id, sha256=row.sha256, name=row.name,
                                       inputs=list(inputs), outputs=list(outputs))
            try:
                self.check_quota(row.owner)
            except ProblemError as over:
                return self._set_verification(row, data, {"job": None, "status": "failed", "message": over.detail})
            if self._full():
                return self._set_verification(row, data, {"job": None, "status": "failed", "message":
                                                          "too many jobs are waiting; ask again later"})
            job = self.store.add_job(row.owner, request)
            row = self._set_verification(row, data, {"job": job.id, "status": "queued", "message": None})
        if not self._enqueue(job.id):
            self.store.update_job(job.id, status="failed", message="the job queue was full")
            self._verification_state(row.owner, row.id, job.id, "failed", "too many jobs are waiting; ask again later")
        return row

    def _full(self) -> bool:
        """No room for another job: ``capacity`` jobs are queued (a cancelled one no longer counts, though its id
        waits in this process's queue until a thread skips it)."""
        return self.store.count_jobs("queued") >= self.capacity

    def check_quota(self, owner: str) -> None:
        """Refuse a job of an owner who has its quota of jobs queued or running (on all replicas together).

        Raises:
            ProblemError: 429 with ``Retry-After`` and a ``quota`` member (``limit``, ``active``, ``setting``).
        """
        if self.per_owner is None:
            return
        active = self.store.count_active_jobs(owner)
        if active < self.per_owner:
            return
        raise ProblemError(
            429, f"this token has {active} job(s) queued or running, its quota is {self.per_owner}; wait for one "
                 "to finish or cancel one (DELETE /v1/jobs/{id})",
            slug="job-quota", title="Too many jobs queued", headers={"Retry-After": str(QUOTA_RETRY_AFTER_S)},
            extra={"quota": {"limit": self.per_owner, "active": active,
                             "setting": "GRAPHLINT_MAX_QUEUED_PER_TOKEN"}})

    def _enqueue(self, job_id: str) -> bool:
        """Queue a stored job; False when there is no room."""
        try:
            self._queue.put_nowait(job_id)
        except queue.Full:
            return False
        return True

    @staticmethod
    def _tools_problem() -> str | None:
        """Why jobs cannot verify here, or None."""
        return _missing_tools()

    def _alive(self, job_id: str | None) -> bool:
        """The job is still queued or running (not lost to a server restart)."""
        job = self.store.get_job(None, job_id) if job_id else None
        return job is not None and job.status in ("queued", "running")

    def _set_verification(self, row: ReportRow, data: JSONObject, state: VerificationState,
                          verified: Mapping[str, Verified] | None = None) -> ReportRow:
        data["verification"] = state
        for target, entry in (verified or {}).items():
            if target in data.get("targets", {}):
                data["targets"][target]["verified"] = entry
        packed = pack(data)
        self.store.replace_report(row.id, packed)
        return dataclasses.replace(row, report=packed)

    def _verification_state(self, owner: str, report_id: str, job_id: str, status: VerificationStatus,
                            message: str | None, verified: Mapping[str, Verified] | None = None) -> None:
        """Write a verification job's state (and results) into its report, unless a newer job owns it."""
        with self._reports, self.store.exclusive(f"verification:{report_id}"):
            row = self.store.get_report(owner, report_id)
            if row is None:
                return
            data: JSONObject = unpack(row.report)
            if (data.get("verification") or {}).get("job") not in (job_id, None):
                return
            state = VerificationState(job=job_id, status=status, message=message)
            if verified is not None:
                from graphlint.convert.verify import summary

                state["summary"] = summary(verified)
            self._set_verification(row, data, state, verified)

    def get(self, owner: str, job_id: str) -> JobRow:
        """A job of this owner.

        Raises:
            ProblemError: 404 when there is none.
        """
        job = self.store.get_job(owner, job_id) if is_id(job_id) else None
        if job is None:
            raise ProblemError(404, f"no job `{job_id[:64]}`")
        return job

    def cancel(self, owner: str, job_id: str) -> JobRow:
        """Cancel a queued or running job of this owner: a queued one never runs, a running one is stopped by its
        worker within a second or so (:class:`CancelWatch`).

        Raises:
            ProblemError: 404 when there is no such job, 409 when it has already ended.
        """
        job, cancelled = self.store.cancel_job(owner, job_id, CANCELLED_MESSAGE) if is_id(job_id) else (None, False)
        if job is None:
            raise ProblemError(404, f"no job `{job_id[:64]}`")
        if not cancelled:
            raise ProblemError(409, f"job `{job_id}` has already ended ({job.status}): there is nothing to cancel",
                               slug="job-ended", title="Job already ended", extra={"job_status": job.status})
        metrics.JOBS.labels("cancelled").inc()
        if is_verify(job.request):
            self._verification_state(owner, job.request["report_id"], job.id, "failed",
                                     "the verification job was cancelled")
        return job

    def file(self, owner: str, job_id: str, name: str) -> Path:
        """A file a finished job wrote, by one of the names its result lists.

        Raises:
            ProblemError: 404 unless the job lists ``name`` and the file exists.
        """
        job = self.get(owner, job_id)
        files = (job.result or {}).get("files") or []
        if name not in files or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
            raise ProblemError(404, f"job `{job_id}` has no file `{name[:100]}`")
        path = self.root / job.id / name
        if not path.is_file():
            raise ProblemError(404, f"job `{job_id}` has no file `{name[:100]}`")
        return path

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            self.run_one(job_id)

    def run_one(self, job_id: str) -> None:
        """Run one queued job to its end, unless it was cancelled (then it stops, and its files go); an unexpected
        error fails it with its reason."""
        from graphlint.convert.pool import cancel_on

        with self.cancels.watching(job_id) as cancelled, cancel_on(cancelled):
            try:
                self._run(job_id)
            except Exception as err:
                log.exception("job %s failed", job_id)
                self._finish(job_id, "failed", f"internal error: {type(err).__name__}: {err}"[:500], None)
        if cancelled.is_set():
            log.info("job %s: cancelled while it ran; stopped", job_id)
            shutil.rmtree(self.root / job_id, ignore_errors=True)
            shutil.rmtree(self.root / f"{job_id}.input", ignore_errors=True)

    def _finish(self, job_id: str, status: Literal["done", "failed"], message: str, result: JSONObject | None) -> None:
        """Store a job's end, unless it already ended (cancelled meanwhile)."""
        if self.store.update_job(job_id, status=status, message=message, result=result,
                                 progress=1.0 if status == "done" else None, only_if=ACTIVE):
            metrics.JOBS.labels(status).inc()

    def _progress(self, job_id: str, fraction: float, message: str) -> None:
        """Store a running job's progress (not over a cancellation)."""
        self.store.update_job(job_id, progress=min(1.0, max(0.0, float(fraction))), message=str(message)[:500],
                              only_if=("running",))

    def _input_copy(self, job_id: str, model: Path, name: str = "") -> Path:
        """The stored model under a name with the extension of its format (converters and Keras look at it)."""
        folder = self.root / f"{job_id}.input"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / ("model" + _suffix(model, name))
        if not target.exists():
            try:
                target.hardlink_to(model)
            except OSError:
                shutil.copyfile(model, target)
        return target

    def _run(self, job_id: str) -> None:
        job = self.store.start_job(job_id)
        if job is None:  # cancelled before it started, or already taken
            log.info("job %s is not queued (cancelled or taken); skipped", job_id)
            return
        req = job.request
        model = self.blobs.get(req["sha256"])
        if model is None:
            self._finish(job_id, "failed", "the model of this job is no longer stored", None)
            if is_verify(req):
                self._verification_state(job.owner, req["report_id"], job_id, "failed",
                                         "the model of this report is no longer stored")
            return
        if is_verify(req):
            self._run_verify(job, req, model)
            return
        try:
            from graphlint.convert.service import ConvertRequest, convert_model
        except ImportError as err:
            self._finish(job_id, "failed", f"this server cannot convert models ({err}); install graphlint[convert]",
                         None)
            return
        out_dir = self.root / job_id
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        last = [0.0]

        def progress(fraction: float, message: str) -> None:
            now = time.monotonic()
            if now - last[0] < 0.25:
                return  # bound the writes a chatty converter causes
            last[0] = now
            self._progress(job_id, fraction, message)

        request = ConvertRequest(model_path=self._input_copy(job_id, model, req.get("name") or ""),
                                 target=req["target"], fix=req["fix"],
                                 unsafe_fixes=req["unsafe_fixes"], inputs=tuple(req["inputs"]),
                                 outputs=tuple(req["outputs"]), calibration=req["calibration"],
                                 input_ranges=tuple((n, lo, hi) for n, lo, hi in req["input_ranges"]))
        result = convert_model(request, out_dir, progress=progress)
        ok = result.get("status") == "ok"
        error = result.get("error")
        message = "done" if ok else str((error.get("message") if isinstance(error, dict) else error) or "failed")
        if ok and (result.get("fix") or {}).get("status") == "not-applied":
            message = f"done; {result['fix']['reason']}"
        self._finish(job_id, "done" if ok else "failed", message[:500], result)

    def _run_verify(self, job: JobRow, req: VerifyJobRequest, model: Path) -> None:
        """Judge every target of the job's report with the real tools and store the results in the report."""
        from graphlint.convert.verify import verify_targets

        row = self.store.get_report(job.owner, req["report_id"])
        if row is None:
            self._finish(job.id, "failed", "the report was deleted", None)
            return
        data: JSONObject = unpack(row.report)
        predicted = {t: v["verdict"] for t, v in data["targets"].items()}
        self._verification_state(job.owner, row.id, job.id, "running", None)

        def progress(done: int, total: int, target: str) -> None:
            self._progress(job.id, done / max(total, 1), f"verifying {target}")

        try:
            verified = verify_targets(predicted, str(self._input_copy(job.id, model, req.get("name") or "")),
                                      data["model"].get("format"),
                                      name=req["name"], inputs=req["inputs"], outputs=req["outputs"],
                                      progress=progress)
        except Exception as err:
            self._verification_state(job.owner, row.id, job.id, "failed", f"internal error: {type(err).__name__}")
            raise
        if self.store.job_statuses([job.id]).get(job.id) != "running":
            return  # cancelled meanwhile: the report says so already
        self._verification_state(job.owner, row.id, job.id, "done", None, verified)
        self._finish(job.id, "done", "done", {"status": "ok", "error": None, "report_id": row.id,
                                              "verified": verified, "files": []})


_ARCHIVE_SUFFIX = {"zip": ".zip", "tar": ".tar", "gzip": ".tar.gz"}
_KERAS_SUFFIX = {"keras": ".keras", "keras-h5": ".h5"}


def _suffix(model: Path, name: str) -> str:
    """The file extension of a stored model's format, judged as the loader judges it (the upload's name, then
    the content)."""
    from graphlint.loaders import read_bytes, sniff
    from graphlint.loaders._archive import archive_kind
    from graphlint.loaders.keras import keras_kind

    data = read_bytes(model)
    keras = keras_kind(data, name)
    if keras:
        return _KERAS_SUFFIX[keras]
    head = bytes(data[:4096])
    archive = archive_kind(head)
    if archive:
        return _ARCHIVE_SUFFIX[archive]
    kind = sniff(head)
    return ".tflite" if kind == "tflite" else ".pbtxt" if kind == "pbtxt" else ".pb"


def _missing_tools() -> str | None:
    """Why this server cannot verify (TensorFlow, LiteRT or TFLite Micro missing), or None."""
    from graphlint.convert.verify import missing_tools

    return missing_tools("verification on this server")
