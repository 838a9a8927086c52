"""The report service: validate lint options, content-address, lint in the pool, store. Routes stay thin."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TypedDict

from anyio import to_thread

from graphlint import __version__
from graphlint.engine.options import LintOptions, OptionsError
from graphlint.engine.registry import Registry

from . import metrics
from .blobs import BlobStore
from .linting import LintPool, LintResult
from .problems import ProblemError
from .retention import Retention
from .store import ReportRow, ReportSummary, Store, is_id, packed_json
from .uploads import Upload

MAX_NAME = 255
MAX_LIST = 200
_SHA = re.compile(r"[0-9a-f]{64}")


class ReportPage(TypedDict):
    """A page of the report list (``GET /v1/reports``)."""

    items: list[ReportSummary]
    next: str | None  # the cursor of the next page; None on the last one


def lint_options(params: Mapping[str, Sequence[str] | None]) -> LintOptions:
    """The options of ``POST /v1/reports`` from its query parameters and form fields (:meth:`LintOptions.from_query`).

    Raises:
        ProblemError: 422 naming the first bad value.
    """
    try:
        return LintOptions.from_query({k: v for k, v in params.items() if v})
    except OptionsError as err:
        raise ProblemError(422, str(err)) from None


def clean_name(name: str | None) -> str:
    """A model name for display: control characters dropped, length bounded. It never becomes a path."""
    text = "".join(c for c in (name or "") if unicodedata.category(c)[0] != "C").strip()
    return text[:MAX_NAME] or "upload"


class ReportService:
    """Stores and finds reports for one owner at a time."""

    def __init__(self, store: Store, blobs: BlobStore, pool: LintPool, registry: Registry,
                 retention: Retention | None = None) -> None:
        self.store, self.blobs, self.pool, self.registry = store, blobs, pool, registry
        self.retention = retention
        self._rules_key = ",".join(r.code for r in registry.rules)

    def cache_key(self, sha256: str, options: LintOptions) -> str:
        """The content address: the model's hash, the options, the graphlint version and the rule set."""
        key = json.dumps({"model": sha256, "options": options.to_dict(), "version": __version__,
                          "rules": self._rules_key}, sort_keys=True, default=list)
        return hashlib.sha256(key.encode()).hexdigest()

    async def create(self, owner: str, upload: Upload, name: str, options: LintOptions) -> tuple[ReportRow, bool]:
        """Lint and store an upload, or find the report already stored for the same model and options.

        Returns:
            The stored row and True when this call stored it.
        """
        key = self.cache_key(upload.sha256, options)
        metrics.UPLOAD_BYTES.inc(upload.size)
        try:
            existing = await to_thread.run_sync(self._stored, owner, key, upload)
            if existing is not None:
                metrics.REPORTS.labels("cached").inc()
                return existing, False
            # Lint the upload's own temporary file, then keep it: the stored copy is never read mid-move.
            result = await self.pool.lint(str(upload.path), upload.sha256, name, options)
            row, created = await to_thread.run_sync(self._keep, owner, key, upload, name, result)
        except BaseException:
            upload.discard()
            raise
        metrics.LINT_SECONDS.observe(result.seconds)
        metrics.REPORTS.labels("created" if created else "cached").inc()
        return row, created

    def _stored(self, owner: str, key: str, upload: Upload) -> ReportRow | None:
        """The report stored under ``key``, if any; the upload is then dropped, or kept as the report's model when
        that was evicted (runs in a thread)."""
        row = self.store.find_report(owner, key)
        if row is None:
            return None
        if self.blobs.get(upload.sha256) is not None:  # marks the model as used again: the last to be evicted
            upload.discard()
        else:  # its model was evicted: this upload brings it back (for jobs on the report)
            self.blobs.put(upload.sha256, upload.path)
            if self.retention is not None:
                self.retention.stored(upload.size)
        return row

    def _keep(self, owner: str, key: str, upload: Upload, name: str, result: LintResult) -> tuple[ReportRow, bool]:
        """Move the upload into the model store and store its report (runs in a thread)."""
        new = not self.blobs.path(upload.sha256).is_file()
        self.blobs.put(upload.sha256, upload.path)
        if new and self.retention is not None:
            self.retention.stored(upload.size)
        return self.store.add_report(owner=owner, cache_key=key, sha256=upload.sha256, name=name,
                                     report=result.report, format=result.format, verdicts=result.verdicts,
                                     findings=result.findings, graph=result.graph)

    async def get(self, owner: str, report_id: str) -> ReportRow:
        """A stored report of this owner.

        Raises:
            ProblemError: 404 when there is none (or another owner's).
        """
        row = await to_thread.run_sync(self.store.get_report, owner, report_id) if is_id(report_id) else None
        if row is None:
            raise ProblemError(404, f"no report `{report_id[:64]}`")
        return row

    async def graph(self, owner: str, report_id: str) -> bytes:
        """The packed viewer graph of a stored report.

        Raises:
            ProblemError: 404 when there is no such report, or its model could not be read (no graph).
        """
        found, graph = (await to_thread.run_sync(self.store.get_graph, owner, report_id)
                        if is_id(report_id) else (False, None))
        if not found:
            raise ProblemError(404, f"no report `{report_id[:64]}`")
        if graph is None:
            raise ProblemError(404, "this report has no graph: its model could not be read, or its graph was over "
                                    "the server's limits (GRAPHLINT_MAX_GRAPH_MB, the lint memory cap)",
                               slug="no-graph", title="No graph")
        return graph

    async def list(self, owner: str, *, limit: int, cursor: str | None, sha256: str | None,
                   name: str | None) -> ReportPage:
        """A page of report summaries, newest first.

        Raises:
            ProblemError: 422 for a malformed cursor or hash.
        """
        before = None
        if cursor is not None:
            if not cursor.isdigit() or len(cursor) > 18:
                raise ProblemError(422, "cursor: not a cursor returned by this endpoint")
            before = int(cursor)
        if sha256 is not None and not _SHA.fullmatch(sha256.lower()):
            raise ProblemError(422, "sha256: 64 hex digits expected")
        rows, nxt = await to_thread.run_sync(lambda: self.store.list_reports(
            owner, limit=limit, before=before, sha256=sha256.lower() if sha256 else None, name=name))
        return {"items": [r.summary() for r in rows], "next": str(nxt) if nxt is not None else None}


def accepts_encoding(header: str | None, coding: str) -> bool:
    """True when an ``Accept-Encoding`` header accepts ``coding``: named, else through ``*``, with q above 0."""
    q: dict[str, float] = {}
    for part in (header or "").lower().split(","):
        name, _, params = part.partition(";")
        value = params.replace(" ", "").partition("q=")[2]
        try:
            q.setdefault(name.strip(), float(value) if value else 1.0)
        except ValueError:
            q.setdefault(name.strip(), 0.0)
    return q.get(coding, q.get("*", 0.0)) > 0


INFLATE_CHUNK = 256 << 10


def inflate(blob: bytes) -> Iterator[bytes]:
    """The JSON text of a packed blob, a piece at a time: at most ``INFLATE_CHUNK`` bytes of it in memory.

    Given to a streaming response, each piece is decompressed in a worker thread, off the event loop.
    """
    decompressor = zlib.decompressobj()
    data = blob
    while data:
        piece = decompressor.decompress(data, INFLATE_CHUNK)
        data = decompressor.unconsumed_tail
        if piece:
            yield piece
    tail = decompressor.flush()
    if tail:
        yield tail


def stored_report(row: ReportRow) -> bytes:
    """The API form of a stored report as JSON: the CLI's JSON plus ``id``, ``name`` and ``created_at``.

    The stored JSON is spliced in as it is, never decoded and encoded again.
    """
    head = json.dumps({"id": row.id, "name": row.name, "created_at": row.created_at}, ensure_ascii=False,
                      separators=(",", ":")).encode()
    body = packed_json(row.report)
    return head[:-1] + b"," + body[1:] if body != b"{}" else head
