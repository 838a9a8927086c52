"""Retention of the model store: a size cap and an age limit, least recently used models evicted first.

Only files go: model files and the files jobs wrote (a job's folder of conversion outputs, and the folder that
holds its input under the name converters want); reports (and their viewer graphs, which live in the database)
and job records stay. A model is "used" when it is uploaded again or a job reads it (:meth:`BlobStore.get` and
:meth:`BlobStore.put` set its modification time); a job's folder when a file in it was last written. Eviction
goes by that time, models and job folders alike, under one cap. Models and folders used within the last
``grace_s`` seconds are not evicted for size while the store stays within ``GRACE_HEADROOM`` times its cap: a
model may be about to be read by a job that was just queued. Beyond that (a burst of uploads), recent ones go
too, least recently used first, so the store never grows past the headroom; the folders of jobs still queued or
running (which hold a hard link to their input) are never evicted. A job whose model was evicted fails with "no
longer stored" (uploading the model again brings it back); a file of a job whose folder was evicted is 404.
A job's input is a hard link to the stored model where the filesystem allows: its bytes count once, with the
model, until the model is evicted.

The server collects in a background thread every ``interval_s`` seconds and after an upload that takes the
store over its cap; ``graphlint gc`` does the same once, from the command line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import metrics
from .blobs import BlobStore

GRACE_HEADROOM = 1.25  # recently used models are kept over the cap only up to this many times the cap
log = logging.getLogger("graphlint.api")
DAY_S = 86400.0


@dataclasses.dataclass(frozen=True)
class Collected:
    """What one collection found and did."""

    models: int  # stored after the collection
    bytes: int  # models and job files
    evicted: int  # models
    freed: int  # bytes, models and job files
    jobs: int = 0  # job folders kept
    jobs_evicted: int = 0


@dataclasses.dataclass(frozen=True)
class _Entry:
    path: Path
    size: int
    mtime_ns: int
    job: bool = False  # a job's folder, not a model file
    pinned: bool = False  # the folder of a job queued or running: counted, never evicted


def _folder_entry(path: Path, pinned: bool = False) -> _Entry | None:
    """A job folder as one entry: the bytes only it holds (a file linked from the model store counts there) and
    the time its last file was written; None when it is gone."""
    try:
        size, mtime_ns = 0, path.stat().st_mtime_ns
        for item in path.rglob("*"):
            st = item.lstat()
            if not item.is_dir():
                size += st.st_size if st.st_nlink == 1 else 0
            mtime_ns = max(mtime_ns, st.st_mtime_ns)
    except OSError:
        return None
    return _Entry(path, size, mtime_ns, job=True, pinned=pinned)


class Retention:
    """Evicts model files and job folders over the size cap or the age limit; keeps the store-size metrics
    current. ``jobs`` is the folder of job outputs and ``active_jobs`` says which jobs are queued or running."""

    def __init__(self, blobs: BlobStore, *, max_bytes: int | None = None, max_age_s: float | None = None,
                 grace_s: float = 300.0, interval_s: float = 60.0, jobs: Path | None = None,
                 active_jobs: Callable[[], set[str]] | None = None) -> None:
        self.blobs, self.max_bytes, self.max_age_s = blobs, max_bytes, max_age_s
        self.grace_s, self.interval_s = grace_s, interval_s
        self.jobs, self.active_jobs = jobs, active_jobs
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bytes = self.models = 0

    @property
    def enabled(self) -> bool:
        """True when there is a cap or an age limit."""
        return self.max_bytes is not None or self.max_age_s is not None

    def _scan(self) -> list[_Entry]:
        entries = []
        for folder in self.blobs.root.iterdir():
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                with contextlib.suppress(OSError):
                    st = path.stat()
                    entries.append(_Entry(path, st.st_size, st.st_mtime_ns))
        return entries + self._scan_jobs()

    def _scan_jobs(self) -> list[_Entry]:
        """The folders of jobs (``ID`` for its outputs, ``ID.input`` for its input); those of jobs queued or
        running are pinned."""
        if self.jobs is None or not self.jobs.is_dir():
            return []
        folders = [p for p in self.jobs.iterdir() if p.is_dir()]
        if not folders:
            return []
        try:
            active = self.active_jobs() if self.active_jobs is not None else set()
        except Exception as err:  # noqa: BLE001 - the database is down: leave the job folders for the next round
            log.warning("model store retention: cannot tell which jobs run (%s); job folders kept", type(err).__name__)
            return []
        entries = (_folder_entry(p, p.name.removesuffix(".input") in active) for p in folders)
        return [e for e in entries if e is not None]

    def _evict(self, entry: _Entry) -> bool:
        """Delete one model or job folder unless it was used after it was chosen (moved aside first, then
        checked)."""
        aside = self.blobs.tmp / f"evict-{secrets.token_hex(8)}"
        try:
            os.rename(entry.path, aside)
        except OSError:
            return False
        now = _folder_entry(aside) if entry.job else _Entry(aside, 0, aside.stat().st_mtime_ns)
        if now is None or now.mtime_ns != entry.mtime_ns:  # put, read or written again meanwhile: it stays
            os.replace(aside, entry.path)
            return False
        if entry.job:
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink(missing_ok=True)
        return True

    def _victims(self, entries: list[_Entry], now: float) -> list[_Entry]:
        """The models to evict: those over the age limit, then the least recently used over the size cap."""
        pinned = sum(e.size for e in entries if e.pinned)
        entries = sorted((e for e in entries if not e.pinned), key=lambda e: e.mtime_ns)
        victims: list[_Entry] = []
        if self.max_age_s is not None:
            oldest_kept = (now - self.max_age_s) * 1e9
            victims = [e for e in entries if e.mtime_ns < oldest_kept]
        if self.max_bytes is not None:
            total = pinned + sum(e.size for e in entries) - sum(e.size for e in victims)
            chosen = {e.path for e in victims}
            protected = (now - self.grace_s) * 1e9
            for e in entries:
                recent_kept = e.mtime_ns >= protected and total <= self.max_bytes * GRACE_HEADROOM
                if total <= self.max_bytes or recent_kept:
                    break
                if e.path not in chosen:
                    victims.append(e)
                    total -= e.size
        return victims

    def collect(self, *, now: float | None = None, dry_run: bool = False) -> Collected:
        """One collection: evict what the limits say, update the metrics."""
        with self._lock:
            entries = self._scan()
            victims = self._victims(entries, time.time() if now is None else now)
            gone = [entry for entry in victims if dry_run or self._evict(entry)]
            evicted = sum(1 for e in gone if not e.job)
            jobs_evicted = len(gone) - evicted
            freed = sum(e.size for e in gone)
            self.models = sum(1 for e in entries if not e.job) - evicted
            self.bytes = sum(e.size for e in entries) - freed
            jobs = sum(1 for e in entries if e.job) - jobs_evicted
        metrics.STORE_BYTES.set(self.bytes)
        metrics.STORE_MODELS.set(self.models)
        if not dry_run:
            metrics.STORE_EVICTIONS.inc(evicted)
            metrics.STORE_JOB_EVICTIONS.inc(jobs_evicted)
        if gone:
            log.info("model store: %s %d model(s) and %d job folder(s), %d bytes; %d model(s), %d job folder(s), "
                     "%d bytes kept", "would evict" if dry_run else "evicted", evicted, jobs_evicted, freed,
                     self.models, jobs, self.bytes)
        return Collected(models=self.models, bytes=self.bytes, evicted=evicted, freed=freed, jobs=jobs,
                         jobs_evicted=jobs_evicted)

    def stored(self, size: int) -> None:
        """A model of ``size`` bytes was stored: count it, and collect soon when the store is over its cap."""
        self.bytes += size
        self.models += 1
        metrics.STORE_BYTES.set(self.bytes)
        metrics.STORE_MODELS.set(self.models)
        if self.max_bytes is not None and self.bytes > self.max_bytes:
            self._wake.set()

    def start(self) -> None:
        """Collect now and then every ``interval_s`` seconds (or when woken), in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="graphlint-retention", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.collect()  # without limits this only counts (for the metrics), once; stored() keeps count
            except OSError as err:
                log.warning("model store retention failed: %s", err)
            self._wake.wait(self.interval_s if self.enabled else None)
            self._wake.clear()

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)


def from_settings(blobs: BlobStore, store_max_mb: float | None, store_max_age_days: float | None, *,
                  jobs: Path | None = None, active_jobs: Callable[[], set[str]] | None = None) -> Retention:
    """The retention a server's or ``graphlint gc``'s settings ask for."""
    return Retention(blobs, max_bytes=int(store_max_mb * (1 << 20)) if store_max_mb else None,
                     max_age_s=store_max_age_days * DAY_S if store_max_age_days else None, jobs=jobs,
                     active_jobs=active_jobs)
