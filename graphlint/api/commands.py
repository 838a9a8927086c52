"""``graphlint serve``: run the service with uvicorn; ``graphlint worker``: run team-mode jobs; ``graphlint gc``.
Heavy imports stay inside the commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

EXIT_OK, EXIT_ERROR = 0, 2
_V = TypeVar("_V")
Command = Callable[[argparse.Namespace], int]  # runs a subcommand and returns its exit code

# flag -> (settings field, help)
_FLAGS = {
    "--host": ("host", "address to listen on (default 127.0.0.1)"),
    "--port": ("port", "port to listen on (default 8000)"),
    "--data-dir": ("data_dir", "reports database, model store and job files (default ~/.local/share/graphlint)"),
    "--max-upload-mb": ("max_upload_mb", "largest model accepted, in MB (default 256)"),
    "--token-file": ("token_file", "file of NAME:TOKEN lines; when set, every /v1 call needs a Bearer token"),
    "--database-url": ("database_url", "postgresql://user@host/db for a shared database (default: SQLite in "
                                       "the data dir)"),
    "--blob-store": ("blob_store", "directory of model files and job files that every replica and worker mounts "
                                   "(default: the data dir)"),
    "--queue-url": ("queue_url", "PostgreSQL database of the job queue (default: --database-url); with either, "
                                 "jobs run in `graphlint worker` processes"),
    "--max-queued-per-token": ("max_queued_per_token", "with --token-file: jobs one token may have queued or "
                                                       "running; more get 429 (default 8)"),
    "--lint-workers": ("lint_workers", "lint worker processes (default: number of CPUs, at most 4)"),
    "--cors-origin": ("cors_origins", "allow browser calls from this origin, repeatable (default: CORS off)"),
    "--allowed-host": ("allowed_hosts", "also answer for this Host name, repeatable; * for any (default: the bound "
                                        "address, localhost, 127.0.0.1, ::1)"),
    "--store-max-mb": ("store_max_mb", "keep the model store and job files under this size, deleting the least "
                                       "recently used models and job folders (reports stay; default: no cap)"),
    "--store-max-age-days": ("store_max_age_days", "delete models and job folders not used for this many days "
                                                   "(default: never)"),
    "--log-level": ("log_level", "uvicorn log level (default info)"),
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Command]:
    """Add ``serve``, ``gc`` and ``worker`` to the CLI."""
    parser = subparsers.add_parser("serve", help="run the REST service (needs the `api` extra)",
                                   description="Run the graphlint service. Every option can also be set through "
                                               "its GRAPHLINT_* environment variable (GRAPHLINT_DATA_DIR, ...).")
    for flag, (field, text) in _FLAGS.items():
        env = "GRAPHLINT_" + field.upper()
        action = "append" if field in ("cors_origins", "allowed_hosts") else "store"
        parser.add_argument(flag, dest=field, default=None, action=action, help=f"{text} [{env}]")
    gc = subparsers.add_parser("gc", help="evict model files and job files from the service's store (reports stay)",
                               description="Delete stored model files and job folders (conversion outputs) over the "
                                           "store's size cap or age limit, least recently used first. Reports, "
                                           "their graphs and job records stay. Safe while the server runs.")
    for flag in ("--data-dir", "--store-max-mb", "--store-max-age-days"):
        field, text = _FLAGS[flag]
        gc.add_argument(flag, dest=field, default=None, help=f"{text} [GRAPHLINT_{field.upper()}]")
    gc.add_argument("--dry-run", action="store_true", help="say what would be evicted, evict nothing")
    for flag in ("--database-url", "--blob-store"):
        field, text = _FLAGS[flag]
        gc.add_argument(flag, dest=field, default=None, help=f"{text} [GRAPHLINT_{field.upper()}]")
    _register_worker(subparsers)
    return {"serve": serve, "gc": collect, "worker": work}


class _WorkerFlag(Generic[_V]):
    """A flag of ``graphlint worker``, its ``GRAPHLINT_`` environment variable, its type and its default.

    A plain class, not a dataclass: this module is imported by every ``graphlint`` command, and making a dataclass
    costs more start-up time than all the rest of the module.
    """

    __slots__ = ("default", "env", "flag", "kind", "text")

    def __init__(self, flag: str, env: str, kind: Callable[[str], _V], default: _V, text: str) -> None:
        self.flag, self.env, self.kind, self.default = flag, env, kind, default  # the variable is GRAPHLINT_<env>
        self.text = text  # the help

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments that holds the flag's value."""
        return self.flag[2:].replace("-", "_")

    def value(self, args: argparse.Namespace) -> _V:
        """The flag's value: the flag, else its GRAPHLINT_ variable, else its default.

        Raises:
            ValueError: the variable does not parse as the flag's type.
        """
        given: _V | None = getattr(args, self.dest, None)
        if given is not None:
            return given
        text = os.environ.get("GRAPHLINT_" + self.env)
        return self.kind(text) if text else self.default


_DATABASE_URL: _WorkerFlag[str | None] = _WorkerFlag(
    "--database-url", "DATABASE_URL", str, None, "postgresql://user@host/db: the service's database (required)")
_QUEUE_URL: _WorkerFlag[str | None] = _WorkerFlag(
    "--queue-url", "QUEUE_URL", str, None, "PostgreSQL database of the job queue (default: --database-url)")
_BLOB_STORE: _WorkerFlag[str | None] = _WorkerFlag(
    "--blob-store", "BLOB_STORE", str, None, "the directory of model files and job files the replicas use (required)")
_CONCURRENCY = _WorkerFlag("--concurrency", "WORKER_CONCURRENCY", int, 1,
                           "jobs this worker runs at the same time (default 1; each conversion takes about 1 GB)")
_HEARTBEAT_S = _WorkerFlag("--heartbeat-s", "WORKER_HEARTBEAT_S", float, 10.0,
                           "seconds between this worker's heartbeats (default 10)")
_STALLED_S = _WorkerFlag("--stalled-s", "WORKER_STALLED_S", float, 30.0,
                         "a worker silent this long is dead and its job is queued again (default 30)")
_MAX_ATTEMPTS = _WorkerFlag("--max-attempts", "WORKER_MAX_ATTEMPTS", int, 2,
                            "runs of a job whose worker dies before it fails (default 2)")
_WORKER_FLAGS: tuple[_WorkerFlag[str | None] | _WorkerFlag[int] | _WorkerFlag[float], ...] = (
    _DATABASE_URL, _QUEUE_URL, _BLOB_STORE, _CONCURRENCY, _HEARTBEAT_S, _STALLED_S, _MAX_ATTEMPTS)


def _register_worker(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = subparsers.add_parser("worker", help="run fix-and-convert and verify jobs of team-mode servers",
                                   description="Take jobs from the PostgreSQL job queue of `graphlint serve "
                                               "--database-url` replicas and run them (TensorFlow runs here, in "
                                               "child processes). Run any number, on any machine that reaches the "
                                               "database and mounts the blob store. SIGTERM stops after the "
                                               "current jobs.")
    for spec in _WORKER_FLAGS:
        worker.add_argument(spec.flag, dest=spec.dest, type=spec.kind, default=None,
                            help=f"{spec.text} [GRAPHLINT_{spec.env}]")


def _missing_extra(what: str, extra: str, err: ImportError) -> int:
    """Say which extra ``what`` needs, in one line, and return the error exit code."""
    print(f"graphlint: error: {what} needs the {extra} extra ({err.name} is missing): "
          f"pip install 'graphlint[{extra}]'", file=sys.stderr)
    return EXIT_ERROR


def work(args: argparse.Namespace) -> int:
    """``graphlint worker``: run queued jobs until interrupted."""
    import logging  # here, not at the top: every `graphlint` command imports this module, only this one logs

    try:
        from .blobs import BlobStore
        from .jobs import JobRunner
        from .store import Store
        from .taskqueue import WorkerOptions, conninfo, run_worker
    except ImportError as err:
        return _missing_extra("the worker", "team", err)
    try:
        # Every value is read before any is checked, so a variable that does not parse is named first.
        database_url, queue_url, blob_store = _DATABASE_URL.value(args), _QUEUE_URL.value(args), _BLOB_STORE.value(args)
        options = WorkerOptions(concurrency=max(1, _CONCURRENCY.value(args)), heartbeat_s=_HEARTBEAT_S.value(args),
                                stalled_s=_STALLED_S.value(args), max_attempts=max(1, _MAX_ATTEMPTS.value(args)))
        if not database_url or not blob_store:
            raise ValueError("give --database-url and --blob-store (or GRAPHLINT_DATABASE_URL, GRAPHLINT_BLOB_STORE)")
        conninfo(database_url)
        blobs = BlobStore.in_dir(Path(blob_store), shared=True)
        store = Store(database_url)
    except ValueError as err:
        print(f"graphlint: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # noqa: BLE001 - e.g. the database refuses the connection: one line, exit 2
        print(f"graphlint: error: cannot start: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
              file=sys.stderr)
        return EXIT_ERROR
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runner = JobRunner(store, blobs, blobs.jobs, workers=0)
    try:
        run_worker(queue_url or database_url, runner, options)
    finally:
        store.close()
    return EXIT_OK


def collect(args: argparse.Namespace) -> int:
    """``graphlint gc``: one collection of the model store with the given (or configured) limits."""
    try:
        from pydantic import ValidationError

        from .blobs import BlobStore
        from .retention import from_settings
        from .settings import Settings
    except ImportError as err:
        print(f"graphlint: error: gc needs the api extra ({err.name} is missing): pip install 'graphlint[api]'",
              file=sys.stderr)
        return EXIT_ERROR
    overrides = {f: getattr(args, f) for f in ("data_dir", "store_max_mb", "store_max_age_days", "database_url",
                                               "blob_store") if getattr(args, f, None) is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        print(f"graphlint: error: {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return EXIT_ERROR
    models = (settings.blob_store or settings.data_dir).expanduser().resolve() / "models"
    if not models.is_dir():
        print(f"graphlint: error: no model store at {models}", file=sys.stderr)
        return EXIT_ERROR
    if settings.store_max_mb is None and settings.store_max_age_days is None:
        print("graphlint: error: give --store-max-mb or --store-max-age-days (or their GRAPHLINT_ variables)",
              file=sys.stderr)
        return EXIT_ERROR
    jobs = models.parent / "jobs"
    active = _active_jobs(settings.db_url) if jobs.is_dir() else None
    blobs = BlobStore(models, shared=settings.blob_store is not None)
    retention = from_settings(blobs, settings.store_max_mb, settings.store_max_age_days,
                              jobs=jobs if active else None, active_jobs=active)
    done = retention.collect(dry_run=args.dry_run)
    verb = "would evict" if args.dry_run else "evicted"
    print(f"{verb} {done.evicted} model(s) and {done.jobs_evicted} job folder(s), {done.freed / 1e6:.1f} MB; "
          f"{'would keep' if args.dry_run else 'kept'} {done.models} model(s) and {done.jobs} job folder(s), "
          f"{done.bytes / 1e6:.1f} MB in {models.parent}")
    return EXIT_OK


def _active_jobs(db_url: str) -> Callable[[], set[str]] | None:
    """``Store.active_job_ids`` of the server's database (job folders are collected only when it answers)."""
    from .problems import database_errors
    from .store import Store

    refusals: tuple[type[Exception], ...] = (*database_errors(), ValueError)
    try:
        return Store(db_url).active_job_ids
    except refusals as err:
        print(f"graphlint: warning: job folders kept: the database does not answer ({type(err).__name__})",
              file=sys.stderr)
        return None


def _keep_freed_memory() -> None:
    """Let glibc's allocator reuse freed memory instead of handing it back to the kernel at once.

    An upload reaches the app as a stream of buffers of a few hundred KB, each allocated, filled and freed
    within a millisecond. With glibc's default, adaptive thresholds many of them land in fresh ``mmap``
    regions or in heap memory that was just trimmed, so their pages fault in again for every buffer: thousands
    of page faults per upload, over a quarter of the server's CPU. A fixed 1 MB mmap threshold and a 64 MB
    trim threshold keep those pages in the heap for the next buffer (RSS stays bounded by the upload traffic
    in flight). Elsewhere than glibc this does nothing.
    """
    import ctypes
    import platform

    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    mallopt(m_mmap_threshold, 1 << 20)
    mallopt(m_trim_threshold, 64 << 20)


def serve(args: argparse.Namespace) -> int:
    """Build the settings from flags over the environment, then run uvicorn until interrupted."""
    try:
        import uvicorn
        from pydantic import ValidationError

        from .app import create_app
        from .auth import TokenFileError
        from .http import HeadLimits, uvicorn_options
        from .settings import Settings
    except ImportError as err:
        return _missing_extra("the service", "api", err)
    overrides = {field: getattr(args, field) for _, (field, _) in _FLAGS.items()
                 if getattr(args, field, None) is not None}
    try:
        settings = Settings(**overrides)
        app = create_app(settings)
    except ValidationError as err:
        first = err.errors()[0]
        print(f"graphlint: error: {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return EXIT_ERROR
    except (TokenFileError, ValueError, OSError) as err:
        print(f"graphlint: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # noqa: BLE001 - e.g. the database refuses the connection: one line, exit 2
        print(f"graphlint: error: cannot start: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
              file=sys.stderr)
        return EXIT_ERROR
    _keep_freed_memory()
    limits = HeadLimits(settings.max_header_kb << 10, settings.max_headers, settings.header_timeout_s)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False,
                timeout_graceful_shutdown=10, server_header=False, **uvicorn_options(limits))
    return EXIT_OK
