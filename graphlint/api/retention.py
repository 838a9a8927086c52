"""Retention of the model store: a size cap and an age limit, least recently used models evicted first.

Only model files go; reports (and their viewer graphs, which live in the database) stay. A model is "used" when
it is uploaded again or a job reads it (:meth:`BlobStore.get` and :meth:`BlobStore.put` set its modification
time), so eviction goes by modification time. Models used within the last ``grace_s`` seconds are never evicted
for size: they may be about to be read by a job that was just queued. A job whose model was evicted fails with
"no longer stored"; uploading the model again brings it back.

The server collects in a background thread every ``interval_s`` seconds and after an upload that takes the
store over its cap; ``graphlint gc`` does the same once, from the command line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import threading
import time
from pathlib import Path

from . import metrics
from .store import BlobStore

log = logging.getLogger("graphlint.api")
DAY_S = 86400.0


@dataclasses.dataclass(frozen=True)
class Collected:
    """What one collection found and did."""

    models: int  # stored after the collection
    bytes: int
    evicted: int
    freed: int


@dataclasses.dataclass(frozen=True)
class _Entry:
    path: Path
    size: int
    mtime_ns: int


class Retention:
    """Evicts model files over the size cap or the age limit; keeps the store-size metrics current."""

    def __init__(self, blobs: BlobStore, *, max_bytes: int | None = None, max_age_s: float | None = None,
                 grace_s: float = 300.0, interval_s: float = 60.0) -> None:
        self.blobs, self.max_bytes, self.max_age_s = blobs, max_bytes, max_age_s
        self.grace_s, self.interval_s = grace_s, interval_s
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
        return entries

    def _evict(self, entry: _Entry) -> bool:
        """Delete one model unless it was used after it was chosen (moved aside first, then checked)."""
        aside = self.blobs.tmp / f"evict-{secrets.token_hex(8)}"
        try:
            os.rename(entry.path, aside)
        except OSError:
            return False
        if aside.stat().st_mtime_ns != entry.mtime_ns:  # put or read again meanwhile: it stays
            os.replace(aside, entry.path)
            return False
        aside.unlink(missing_ok=True)
        return True

    def _victims(self, entries: list[_Entry], now: float) -> list[_Entry]:
        """The models to evict: those over the age limit, then the least recently used over the size cap."""
        entries = sorted(entries, key=lambda e: e.mtime_ns)
        victims: list[_Entry] = []
        if self.max_age_s is not None:
            oldest_kept = (now - self.max_age_s) * 1e9
            victims = [e for e in entries if e.mtime_ns < oldest_kept]
        if self.max_bytes is not None:
            total = sum(e.size for e in entries) - sum(e.size for e in victims)
            chosen = {e.path for e in victims}
            protected = (now - self.grace_s) * 1e9
            for e in entries:
                if total <= self.max_bytes or e.mtime_ns >= protected:
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
            evicted = freed = 0
            for entry in victims:
                if dry_run or self._evict(entry):
                    evicted += 1
                    freed += entry.size
            self.models = len(entries) - evicted
            self.bytes = sum(e.size for e in entries) - freed
        metrics.STORE_BYTES.set(self.bytes)
        metrics.STORE_MODELS.set(self.models)
        if not dry_run:
            metrics.STORE_EVICTIONS.inc(evicted)
        if evicted:
            log.info("model store: %s %d model(s), %d bytes; %d model(s), %d bytes kept",
                     "would evict" if dry_run else "evicted", evicted, freed, self.models, self.bytes)
        return Collected(models=self.models, bytes=self.bytes, evicted=evicted, freed=freed)

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


def from_settings(blobs: BlobStore, store_max_mb: float | None, store_max_age_days: float | None) -> Retention:
    """The retention a server's or ``graphlint gc``'s settings ask for."""
    return Retention(blobs, max_bytes=int(store_max_mb * (1 << 20)) if store_max_mb else None,
                     max_age_s=store_max_age_days * DAY_S if store_max_age_days else None)
