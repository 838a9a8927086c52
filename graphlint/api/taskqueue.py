"""Team mode: fix-and-convert and verify jobs on procrastinate, a task queue in PostgreSQL.

``graphlint serve`` replicas given a PostgreSQL database store each job in the ``jobs`` table as before and defer
a procrastinate task naming it; ``graphlint worker`` processes, on any machine that reaches the database and the
shared blob store, take those tasks and run them with the same code as the embedded queue
(:meth:`graphlint.api.jobs.JobRunner.run_one`). A task is taken under a row lock, so one worker runs it; job
state and progress stay in the ``jobs`` table, which every replica reads.

A worker that dies mid-job (``kill -9``, out of memory, its machine gone) stops sending heartbeats; after
``stalled_s`` seconds another worker finds its job stalled and queues it again (the job's ``earlier_attempts``
record why the run ended), up to ``max_attempts`` runs in all, then fails it with a message saying why.

Cancellation (``DELETE /v1/jobs/{id}`` on any replica) is a state change in the ``jobs`` table: a worker that takes
the task of a cancelled job skips it, and a worker running one notices within a second and stops its conversion
child (:class:`graphlint.api.jobs.CancelWatch`). procrastinate's schema is created at the first start (under an
advisory lock, so replicas starting together do not race).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING

from .jobs import ACTIVE, JobRunner
from .problems import ProblemError
from .store import JobRow, JobStatus

if TYPE_CHECKING:
    from pathlib import Path

    from procrastinate import App, JobContext
    from procrastinate.jobs import Job, Status

    from .blobs import BlobStore
    from .store import Store

log = logging.getLogger("graphlint.api.taskqueue")
QUEUE = "graphlint-jobs"
TASK = "graphlint.run_job"
_SCHEMA_LOCK = 0x67726C6E  # pg_advisory_lock key held while procrastinate's schema is created
STALLED = "its worker stopped (killed, out of memory or gone)"


def conninfo(url: str) -> str:
    """A libpq URL from a database URL of the settings (``postgres://``, ``postgresql+psycopg://``).

    Raises:
        ValueError: the URL is not PostgreSQL.
    """
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql://" + url.removeprefix(prefix)
    if not url.startswith("postgresql://"):
        raise ValueError(f"the job queue needs a PostgreSQL URL (postgresql://...), got `{url.split(':', 1)[0]}:...`")
    return url


def ensure_schema(url: str) -> None:
    """Create procrastinate's tables and functions in the database unless they are there."""
    import psycopg
    from procrastinate.schema import SchemaManager

    with psycopg.connect(conninfo(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if found is None or found[0] is None:
                with conn.transaction():
                    conn.execute(SchemaManager.get_schema())
                log.info("created the job queue's tables")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


def make_app(url: str) -> App:
    """A procrastinate app on the queue database (not opened)."""
    import procrastinate

    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))


class QueuedJobs(JobRunner):
    """The API side: jobs stored as before, deferred to procrastinate instead of this process's threads.

    ``capacity`` bounds the jobs queued across all replicas (503 beyond it), counted in the database as for the
    embedded queue.
    """

    def __init__(self, store: Store, blobs: BlobStore, root: Path, *, capacity: int = 16,
                 per_owner: int | None = None, queue_url: str) -> None:
        super().__init__(store, blobs, root, workers=0, capacity=capacity, per_owner=per_owner)
        self.queue_url = queue_url
        self._app: App | None = None

    def start(self) -> None:
        """Create the queue's schema if needed and open the connection pool (no threads: workers run jobs)."""
        ensure_schema(self.queue_url)
        self._app = make_app(self.queue_url).open()

    def stop(self, timeout: float = 5) -> None:
        """Close the queue's connections."""
        if self._app is not None:
            self._app.close()
            self._app = None

    def _enqueue(self, job_id: str) -> bool:
        try:
            if self._app is None:
                raise RuntimeError("the job queue is not open")
            self._app.configure_task(TASK, queue=QUEUE).defer(job_id=job_id)
        except Exception as err:
            # The stored job would wait for ever: fail it (if the database takes that) and answer 503.
            log.warning("job %s not queued: %s: %s", job_id, type(err).__name__, err)
            with contextlib.suppress(Exception):
                self.store.update_job(job_id, status="failed", message="the job queue did not take this job")
            raise ProblemError(503, f"the job queue is unavailable ({type(err).__name__}); try again",
                               headers={"Retry-After": "30"}) from err
        return True

    @staticmethod
    def _tools_problem() -> str | None:
        return None  # the workers have TensorFlow, not this replica; a worker without it fails the job saying so


@dataclasses.dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs and when it treats another worker's job as lost."""

    concurrency: int = 1
    heartbeat_s: float = 10.0  # each worker writes its heartbeat this often
    stalled_s: float = 30.0  # a worker silent this long is dead: its running jobs are queued again
    max_attempts: int = 2  # runs of one job, the first included, before it fails for good


def run_worker(url: str, runner: JobRunner, options: WorkerOptions) -> None:
    """Run jobs from the queue until SIGINT or SIGTERM (a job in progress finishes first)."""
    ensure_schema(url)
    app = make_app(url)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    def run_job(context: JobContext, job_id: str) -> None:
        attempt = context.job.attempts + 1
        log.info("job %s: attempt %d", job_id, attempt)
        runner.run_one(job_id)

    asyncio.run(_work(app, runner, options))


async def _work(app: App, runner: JobRunner, options: WorkerOptions) -> None:
    async with app.open_async():
        recovery = asyncio.create_task(_recover_stalled(app, runner, options))
        try:
            await app.run_worker_async(queues=[QUEUE], concurrency=options.concurrency, wait=True,
                                       update_heartbeat_interval=options.heartbeat_s,
                                       stalled_worker_timeout=options.stalled_s)
        finally:
            recovery.cancel()


async def _recover_stalled(app: App, runner: JobRunner, options: WorkerOptions) -> None:
    """Every few seconds: queue again (or fail) the jobs of workers that stopped sending heartbeats."""
    while True:
        try:
            stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE, task_name=TASK,
                                                             seconds_since_heartbeat=options.stalled_s)
            for job in stalled:
                await _recover(app, runner, job, options.max_attempts)
        except Exception as err:  # noqa: BLE001 - the database is down: try again next round
            log.warning("stalled-job check failed: %s: %s", type(err).__name__, err)
        await asyncio.sleep(max(0.5, options.heartbeat_s))


async def _recover(app: App, runner: JobRunner, job: Job, max_attempts: int) -> None:
    """Queue one stalled job again, or fail it once it has had ``max_attempts`` runs; the task of a job that has
    ended meanwhile (cancelled, say) is closed."""
    job_id = str(job.task_kwargs.get("job_id", ""))
    row = await asyncio.to_thread(runner.store.get_job, None, job_id) if job_id else None
    runs = job.attempts + 1
    try:
        if row is None or row.status not in ACTIVE:
            await app.job_manager.finish_job(job, status=_task_status(row.status if row else "failed"),
                                             delete_job=False)
            return
        if runs < max_attempts:
            await _requeue(app, runner, job, row, f"{STALLED}; queued again, run {runs + 1} of {max_attempts}")
            return
        await app.job_manager.finish_job(job, status=_task_status("failed"), delete_job=False)
    except Exception as err:  # noqa: BLE001 - another worker recovered it first
        log.debug("stalled job %s already handled: %s", job.id, err)
        return
    message = f"{STALLED} in each of {runs} run(s); start it again, or give the workers more memory"
    log.warning("job %s: %s", job_id, message)
    await asyncio.to_thread(runner.store.update_job, job_id, status="failed", message=message, only_if=ACTIVE)


async def _requeue(app: App, runner: JobRunner, job: Job, row: JobRow, message: str) -> None:
    """Queue a stalled job again: first in the ``jobs`` table, recording why its run ended (one worker wins
    that), then in procrastinate, so that the worker taking the task finds the job queued."""
    if row.status == "running" and not await asyncio.to_thread(runner.store.requeue_job, row.id, row.attempts,
                                                               STALLED, message):
        return  # cancelled meanwhile, or another worker requeued it
    log.warning("job %s: %s", row.id, message)
    await app.job_manager.retry_job(job)


def _task_status(status: JobStatus) -> Status:
    """The final procrastinate status of a task whose job ended with ``status``."""
    from procrastinate.jobs import Status

    return {"done": Status.SUCCEEDED, "cancelled": Status.ABORTED}.get(status, Status.FAILED)
