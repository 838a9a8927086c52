"""Where reports and jobs live: SQLite by default (one file, WAL), PostgreSQL for teams; models on disk.

Every write is one transaction, so a report is either stored whole or not at all; a crash (even ``kill -9``)
loses nothing that was committed. Reports are content-addressed per owner: the unique ``(owner, cache_key)``
pair makes two uploads of the same model with the same options one report, even when they race.

Model files go to :class:`graphlint.api.blobs.BlobStore`, named by their SHA-256 only: no user-supplied name
or path ever reaches the filesystem.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import queue
import re
import secrets
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NotRequired, Protocol, TypedDict

import orjson

from graphlint.report import JSONObject, JSONValue

from .blobs import BlobStore as BlobStore  # where model files live (imported from here before)

if TYPE_CHECKING:
    from typing_extensions import TypeIs

SCHEMA_VERSION = 1
_ID = re.compile(r"[0-9a-f]{32}")

_TABLES = """
CREATE TABLE IF NOT EXISTS graphlint_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
    seq {serial},
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    format TEXT,
    created_at TEXT NOT NULL,
    verdicts TEXT NOT NULL,
    findings INTEGER NOT NULL,
    report {blob} NOT NULL,
    graph {blob},
    UNIQUE (owner, cache_key)
);
CREATE INDEX IF NOT EXISTS reports_owner_seq ON reports (owner, seq);
CREATE INDEX IF NOT EXISTS reports_owner_sha ON reports (owner, sha256, seq);
CREATE INDEX IF NOT EXISTS reports_owner_name ON reports (owner, name, seq);
CREATE TABLE IF NOT EXISTS jobs (
    seq {serial},
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL,
    message TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    earlier_attempts TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_owner_status ON jobs (owner, status);
"""
# Columns added to a table after it first shipped: added to databases created before them at start-up.
_ADDED_COLUMNS = (("jobs", "attempts", "INTEGER NOT NULL DEFAULT 0"), ("jobs", "earlier_attempts", "TEXT"))


# A database row as the driver returns it: its column values, whose types the SELECT that read them fixes.
Row = tuple[Any, ...]
# The values a query binds to its parameter markers.
Params = Sequence[str | int | float | bytes | None]

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
VerificationStatus = Literal["queued", "running", "done", "failed"]  # of a report's verification job


class EarlierAttempt(TypedDict):
    """A run of a job that ended without a result (its worker died), as ``jobs.earlier_attempts`` stores it."""

    attempt: int
    ended_at: str
    reason: str


class ConvertJobRequest(TypedDict):
    """The stored request of a fix-and-convert job (:func:`graphlint.api.jobs.job_request` writes it)."""

    sha256: str
    name: str
    report_id: str | None
    target: str
    fix: bool
    unsafe_fixes: bool
    inputs: list[str]
    outputs: list[str]
    calibration: str
    input_ranges: list[tuple[str, float, float]]  # JSON arrays [name, min, max]


class VerifyJobRequest(TypedDict):
    """The stored request of a job that verifies a report's verdicts with the real tools."""

    kind: Literal["verify"]
    report_id: str
    sha256: str
    name: str
    inputs: list[str]
    outputs: list[str]


# Jobs of both kinds share the table; only a verify job's request has a ``kind`` (convert jobs predate it).
JobRequest = ConvertJobRequest | VerifyJobRequest


def is_verify(request: JobRequest) -> TypeIs[VerifyJobRequest]:
    """True for the request of a verify job."""
    return request.get("kind") == "verify"


class ReportSummary(TypedDict):
    """A report in the list (``GET /v1/reports``)."""

    id: str
    name: str
    sha256: str
    created_at: str
    format: str | None
    targets: dict[str, str]
    findings: int


class VerificationState(TypedDict):
    """A report's ``verification`` member: the verification job and how it stands."""

    job: str | None
    status: VerificationStatus
    message: str | None
    summary: NotRequired[dict[str, int]]  # confirmed, contradicted and not_run counts once done


class JobJSON(TypedDict):
    """A job as the API returns it (``GET /v1/jobs/{id}``)."""

    id: str
    status: JobStatus
    progress: float
    message: str
    attempts: int
    earlier_attempts: list[EarlierAttempt]
    request: JobRequest
    result: JSONObject | None
    created_at: str
    updated_at: str


def now() -> str:
    """The current UTC time as ISO 8601 with microseconds (sorts as text)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    """A random id: 32 hex digits."""
    return secrets.token_hex(16)


def is_id(value: str) -> bool:
    """True for a string shaped like :func:`new_id`'s output."""
    return bool(_ID.fullmatch(value))


def pack(obj: object, *, strict: bool = False) -> bytes:
    """Compact UTF-8 JSON, compressed (reports and graphs are stored this way).

    By default it is written with orjson, several times faster than :mod:`json` on a graph of thousands of nodes
    (a NaN becomes ``null``); what orjson refuses (keys that are not strings, integers over 64 bits) goes through
    :mod:`json`. ``strict`` writes with :mod:`json` and raises ValueError on a NaN or an infinity, as a JSON
    response would.
    """
    if not strict:
        try:
            return zlib.compress(orjson.dumps(obj), 1)
        except TypeError:  # orjson.JSONEncodeError
            pass
    text = json.dumps(obj, ensure_ascii=False, allow_nan=not strict, separators=(",", ":"))
    return zlib.compress(text.encode(), 1)


def unpack(blob: bytes | memoryview | None) -> JSONValue:
    """The inverse of :func:`pack`."""
    return None if blob is None else json.loads(packed_json(blob))


def packed_json(blob: bytes | memoryview) -> bytes:
    """The JSON text of a :func:`pack` blob, not decoded (the blob itself is that text in HTTP's ``deflate``
    coding)."""
    return zlib.decompress(bytes(blob))


@dataclasses.dataclass(frozen=True)
class ReportRow:
    """A stored report's metadata and its compressed JSON."""

    id: str
    owner: str
    sha256: str
    name: str
    format: str | None
    created_at: str
    verdicts: dict[str, str]
    findings: int
    report: bytes  # pack(report dict)
    has_graph: bool = False

    def summary(self) -> ReportSummary:
        """The list-item form (``GET /v1/reports``)."""
        return {"id": self.id, "name": self.name, "sha256": self.sha256, "created_at": self.created_at,
                "format": self.format, "targets": self.verdicts, "findings": self.findings}


@dataclasses.dataclass(frozen=True)
class JobRow:
    """A fix-and-convert or verify job."""

    id: str
    owner: str
    status: JobStatus
    progress: float
    message: str
    request: JobRequest
    result: JSONObject | None
    created_at: str
    updated_at: str
    attempts: int = 0  # how many times a worker started it
    earlier_attempts: tuple[EarlierAttempt, ...] = ()  # each run that ended without a result

    def public(self) -> JobJSON:
        """The JSON form (``GET /v1/jobs/{id}``)."""
        return {"id": self.id, "status": self.status, "progress": self.progress, "message": self.message,
                "attempts": self.attempts, "earlier_attempts": list(self.earlier_attempts),
                "request": self.request, "result": self.result, "created_at": self.created_at,
                "updated_at": self.updated_at}


class Cursor(Protocol):
    """What the store uses of a DB-API cursor; :mod:`sqlite3`'s and psycopg's both have it."""

    def execute(self, query: str, params: Params = ..., /) -> object: ...

    def fetchall(self) -> list[Row]: ...

    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    """What the store uses of a DB-API connection; :mod:`sqlite3`'s and psycopg's both have it."""

    def execute(self, query: str, params: Params = ..., /) -> object: ...

    def cursor(self) -> Cursor: ...

    def close(self) -> None: ...


class _Dialect:
    """What differs between SQLite and PostgreSQL: connecting, DDL types and the parameter marker."""

    name = "sqlite"
    serial, blob = "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self) -> Connection:
        """A new connection, set up for this store."""
        path = self.url.removeprefix("sqlite:///").removeprefix("sqlite://")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a crash keeps commits
        conn.execute("PRAGMA synchronous=NORMAL")  # durable against process crashes; fsync at checkpoints
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def sql(self, query: str) -> str:
        """The query with this driver's parameter marker."""
        return query

    def begin(self, conn: Connection) -> None:
        """Start a write transaction."""
        conn.execute("BEGIN IMMEDIATE")

    def lock(self, conn: Connection, key: int) -> None:
        """Take the lock ``key`` for this connection's session (SQLite: nothing; a SQLite store serves one
        process, whose threads the caller serializes)."""

    def unlock(self, conn: Connection, key: int) -> None:
        """Release what :meth:`lock` took."""

    def add_column(self, cur: Cursor, table: str, column: str, ddl: str) -> None:
        """Add a column to a table unless it has it (a database created by an older version)."""
        cur.execute(f"PRAGMA table_info({table})")
        if column not in {row[1] for row in cur.fetchall()}:
            cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")


class _Postgres(_Dialect):
    name = "postgresql"
    serial, blob = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BYTEA"

    def connect(self) -> Connection:
        import psycopg

        url = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        return psycopg.connect(url, autocommit=True, connect_timeout=10)

    def sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def begin(self, conn: Connection) -> None:
        conn.execute("BEGIN")

    def lock(self, conn: Connection, key: int) -> None:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))

    def unlock(self, conn: Connection, key: int) -> None:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def add_column(self, cur: Cursor, table: str, column: str, ddl: str) -> None:
        cur.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {ddl}")


def dialect_for(url: str) -> _Dialect:
    """The dialect of a database URL (``sqlite:///path`` or ``postgresql://...``).

    Raises:
        ValueError: any other scheme.
    """
    if url.startswith("sqlite:"):
        return _Dialect(url)
    if url.startswith(("postgresql:", "postgres:", "postgresql+psycopg:")):
        return _Postgres(url.replace("postgres://", "postgresql://", 1))
    raise ValueError(f"unsupported database URL `{url.split(':', 1)[0]}:...` (use sqlite:///PATH or postgresql://)")


class Store:
    """Reports and jobs in a SQL database. Thread-safe: each call borrows a connection from a small pool."""

    def __init__(self, url: str, pool_size: int = 8) -> None:
        self.dialect = dialect_for(url)
        self._pool: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._closed = False
        # CREATE TABLE IF NOT EXISTS is not safe against itself on PostgreSQL: two processes starting together on
        # a new database both create a table's row type and one fails (pg_type_typname_nsp_index)
        with self.exclusive("schema"), self._tx() as cur:
            for statement in _TABLES.format(serial=self.dialect.serial, blob=self.dialect.blob).split(";"):
                if statement.strip():
                    cur.execute(statement)
            for table, column, ddl in _ADDED_COLUMNS:
                self.dialect.add_column(cur, table, column, ddl)
            cur.execute(self.dialect.sql("INSERT INTO graphlint_meta (key, value) VALUES (?, ?) "
                                         "ON CONFLICT (key) DO NOTHING"), ("schema_version", str(SCHEMA_VERSION)))

    @contextlib.contextmanager
    def _conn(self) -> Iterator[Connection]:
        self._slots.acquire()
        try:
            try:
                conn = self._pool.get_nowait()
            except queue.Empty:
                conn = self.dialect.connect()
            try:
                yield conn
            except BaseException:
                conn.close()  # it may be mid-transaction or broken: never hand it out again
                raise
            if self._closed:
                conn.close()
            else:
                self._pool.put(conn)
        finally:
            self._slots.release()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Cursor]:
        """A cursor inside one transaction: committed on success, rolled back on any error."""
        with self._conn() as conn:
            self.dialect.begin(conn)
            cur = conn.cursor()
            try:
                yield cur
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock ``name`` against every process on this database while the block runs (a PostgreSQL
        advisory lock): a read-check-write of one row by several replicas and workers. It holds one pooled
        connection; callers take one such lock at a time."""
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
        with self._conn() as conn:
            self.dialect.lock(conn, key)
            try:
                yield
            finally:
                self.dialect.unlock(conn, key)

    def _query(self, query: str, params: Params = ()) -> list[Row]:
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(self.dialect.sql(query), params)
            return cur.fetchall()

    def ping(self) -> None:
        """Raise when the database cannot be reached."""
        self._query("SELECT 1")

    def close(self) -> None:
        """Close pooled connections."""
        self._closed = True
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    # -- reports ---------------------------------------------------------------------------------------------

    _REPORT_COLS = "id, owner, sha256, name, format, created_at, verdicts, findings, report, graph IS NOT NULL"

    @staticmethod
    def _report(row: Row) -> ReportRow:
        return ReportRow(id=row[0], owner=row[1], sha256=row[2], name=row[3], format=row[4], created_at=row[5],
                         verdicts=json.loads(row[6]), findings=int(row[7]), report=bytes(row[8]),
                         has_graph=bool(row[9]))

    def find_report(self, owner: str, cache_key: str) -> ReportRow | None:
        """The report stored for this owner under this content address, if any."""
        rows = self._query(f"SELECT {self._REPORT_COLS} FROM reports WHERE owner = ? AND cache_key = ?",
                           (owner, cache_key))
        return self._report(rows[0]) if rows else None

    def add_report(self, *, owner: str, cache_key: str, sha256: str, name: str, report: bytes, format: str | None,
                   verdicts: dict[str, str], findings: int, graph: bytes | None) -> tuple[ReportRow, bool]:
        """Store a report; when the same ``(owner, cache_key)`` is already stored, return that one.

        Args:
            report: the report dict (``Report.to_dict()``), already packed with :func:`pack`.
            format: its ``model.format``; verdicts: the verdict of each target; findings: how many it has.
            graph: the viewer graph, already packed with :func:`pack`, or None.

        Returns:
            The stored row and True when this call created it.
        """
        row = ReportRow(id=new_id(), owner=owner, sha256=sha256, name=name, format=format, created_at=now(),
                        verdicts=verdicts, findings=findings, report=report, has_graph=graph is not None)
        with self._tx() as cur:
            cur.execute(self.dialect.sql(
                "INSERT INTO reports (id, owner, cache_key, sha256, name, format, created_at, verdicts, findings, "
                "report, graph) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, cache_key) DO NOTHING"),
                (row.id, owner, cache_key, sha256, name, format, row.created_at, json.dumps(verdicts), findings,
                 report, graph))
            created = cur.rowcount == 1
        if created:
            return row, True
        stored = self.find_report(owner, cache_key)
        if stored is None:  # pragma: no cover - the conflicting row was committed before our insert
            raise RuntimeError("report vanished after insert")
        return stored, False

    def get_report(self, owner: str, report_id: str) -> ReportRow | None:
        """A report by id, only when ``owner`` stored it."""
        rows = self._query(f"SELECT {self._REPORT_COLS} FROM reports WHERE id = ? AND owner = ?", (report_id, owner))
        return self._report(rows[0]) if rows else None

    def replace_report(self, report_id: str, report: bytes) -> None:
        """Replace a stored report's packed JSON (verification results arriving later); its verdicts, the
        predicted ones, stay."""
        with self._tx() as cur:
            cur.execute(self.dialect.sql("UPDATE reports SET report = ? WHERE id = ?"), (report, report_id))

    def get_graph(self, owner: str, report_id: str) -> tuple[bool, bytes | None]:
        """``(report exists, packed graph or None)``."""
        rows = self._query("SELECT graph FROM reports WHERE id = ? AND owner = ?", (report_id, owner))
        if not rows:
            return False, None
        return True, None if rows[0][0] is None else bytes(rows[0][0])

    def list_reports(self, owner: str, *, limit: int, before: int | None = None, sha256: str | None = None,
                     name: str | None = None) -> tuple[list[ReportRow], int | None]:
        """Newest first; ``before`` is the cursor (a sequence number) from the previous page.

        Returns:
            The page and the cursor of the next page (None on the last one).
        """
        params: list[str | int]
        where, params = ["owner = ?"], [owner]
        if sha256 is not None:
            where.append("sha256 = ?")
            params.append(sha256)
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if before is not None:
            where.append("seq < ?")
            params.append(before)
        rows = self._query(f"SELECT {self._REPORT_COLS}, seq FROM reports WHERE {' AND '.join(where)} "
                           f"ORDER BY seq DESC LIMIT ?", (*params, limit + 1))
        page = [self._report(r) for r in rows[:limit]]
        return page, (int(rows[limit - 1][-1]) if len(rows) > limit else None)

    # -- jobs ------------------------------------------------------------------------------------------------

    _JOB_COLS = "id, owner, status, progress, message, request, result, created_at, updated_at, attempts, " \
                "earlier_attempts"

    @staticmethod
    def _job(row: Row) -> JobRow:
        return JobRow(id=row[0], owner=row[1], status=row[2], progress=float(row[3]), message=row[4],
                      request=json.loads(row[5]), result=json.loads(row[6]) if row[6] else None,
                      created_at=row[7], updated_at=row[8], attempts=int(row[9]),
                      earlier_attempts=tuple(json.loads(row[10])) if row[10] else ())

    def add_job(self, owner: str, request: JobRequest) -> JobRow:
        """Store a new queued job."""
        job_id, stamp = new_id(), now()
        with self._tx() as cur:
            cur.execute(self.dialect.sql(
                "INSERT INTO jobs (id, owner, status, progress, message, request, result, created_at, updated_at) "
                "VALUES (?, ?, 'queued', 0, 'queued', ?, NULL, ?, ?)"), (job_id, owner, json.dumps(request), stamp,
                                                                         stamp))
        job = self.get_job(owner, job_id)
        if job is None:  # pragma: no cover - the row was committed above and jobs are never deleted
            raise RuntimeError("job vanished after insert")
        return job

    def get_job(self, owner: str | None, job_id: str) -> JobRow | None:
        """A job by id (only ``owner``'s unless owner is None)."""
        if owner is None:
            rows = self._query(f"SELECT {self._JOB_COLS} FROM jobs WHERE id = ?", (job_id,))
        else:
            rows = self._query(f"SELECT {self._JOB_COLS} FROM jobs WHERE id = ? AND owner = ?", (job_id, owner))
        return self._job(rows[0]) if rows else None

    def list_jobs(self, owner: str, limit: int) -> list[JobRow]:
        """The owner's most recent jobs, newest first."""
        return [self._job(r) for r in self._query(
            f"SELECT {self._JOB_COLS} FROM jobs WHERE owner = ? ORDER BY seq DESC LIMIT ?", (owner, limit))]

    def update_job(self, job_id: str, *, status: JobStatus | None = None, progress: float | None = None,
                   message: str | None = None, result: JSONObject | None = None,
                   only_if: tuple[JobStatus, ...] | None = None) -> bool:
        """Change some fields of a job; with ``only_if``, only while its status is one of those (a job cancelled
        meanwhile keeps its state). True when the job was changed."""
        params: list[str | float]
        sets, params = ["updated_at = ?"], [now()]
        for column, value in (("status", status), ("progress", progress), ("message", message)):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        if result is not None:
            sets.append("result = ?")
            params.append(json.dumps(result))
        where, where_params = "id = ?", [job_id]
        if only_if is not None:
            where += f" AND status IN ({', '.join('?' * len(only_if))})"
            where_params += only_if
        with self._tx() as cur:
            cur.execute(self.dialect.sql(f"UPDATE jobs SET {', '.join(sets)} WHERE {where}"),
                        (*params, *where_params))
            return cur.rowcount == 1

    def start_job(self, job_id: str) -> JobRow | None:
        """Mark a queued job running and count the attempt; None when it is not queued (cancelled, finished, or
        taken by another worker)."""
        with self._tx() as cur:
            cur.execute(self.dialect.sql("UPDATE jobs SET status = 'running', progress = 0, message = 'starting', "
                                         "attempts = attempts + 1, updated_at = ? WHERE id = ? AND status = 'queued'"),
                        (now(), job_id))
            if cur.rowcount != 1:
                return None
        return self.get_job(None, job_id)

    def requeue_job(self, job_id: str, attempt: int, reason: str, message: str) -> bool:
        """Queue a running job again after its ``attempt``-th run ended without a result, recording why; False
        when that run is no longer the job's current one (cancelled, or another worker requeued it first)."""
        job = self.get_job(None, job_id)
        if job is None or job.status != "running" or job.attempts != attempt:
            return False
        history = [*job.earlier_attempts, EarlierAttempt(attempt=attempt, ended_at=now(), reason=reason)]
        with self._tx() as cur:
            cur.execute(self.dialect.sql(
                "UPDATE jobs SET status = 'queued', progress = 0, message = ?, earlier_attempts = ?, updated_at = ? "
                "WHERE id = ? AND status = 'running' AND attempts = ?"),
                (message, json.dumps(history), now(), job_id, attempt))
            return cur.rowcount == 1

    def cancel_job(self, owner: str, job_id: str, message: str) -> tuple[JobRow | None, bool]:
        """Cancel an owner's job while it is queued or running.

        Returns:
            The job as it is now (None when the owner has no such job) and True when this call cancelled it.
        """
        with self._tx() as cur:
            cur.execute(self.dialect.sql(
                "UPDATE jobs SET status = 'cancelled', message = ?, updated_at = ? "
                "WHERE id = ? AND owner = ? AND status IN ('queued', 'running')"), (message, now(), job_id, owner))
            changed = cur.rowcount == 1
        return self.get_job(owner, job_id), changed

    def job_statuses(self, job_ids: list[str]) -> dict[str, str]:
        """The status of each of these jobs that exists."""
        if not job_ids:
            return {}
        marks = ", ".join("?" * len(job_ids))
        return {r[0]: r[1] for r in self._query(f"SELECT id, status FROM jobs WHERE id IN ({marks})", tuple(job_ids))}

    def count_jobs(self, status: JobStatus) -> int:
        """How many jobs of all owners have this status."""
        return int(self._query("SELECT COUNT(*) FROM jobs WHERE status = ?", (status,))[0][0])

    def count_active_jobs(self, owner: str) -> int:
        """How many of an owner's jobs are queued or running."""
        return int(self._query("SELECT COUNT(*) FROM jobs WHERE owner = ? AND status IN ('queued', 'running')",
                               (owner,))[0][0])

    def active_job_ids(self) -> set[str]:
        """The ids of the jobs queued or running (retention leaves their files alone)."""
        return {r[0] for r in self._query("SELECT id FROM jobs WHERE status IN ('queued', 'running')")}

    def recover_jobs(self) -> list[str]:
        """After a restart: jobs that were running failed; return the ids of those still queued, oldest first."""
        with self._tx() as cur:
            cur.execute(self.dialect.sql(
                "UPDATE jobs SET status = 'failed', message = ?, updated_at = ? WHERE status = 'running'"),
                ("the server stopped while this job ran; start it again", now()))
        return [r[0] for r in self._query("SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq")]
