"""Model files by SHA-256: the one interface every part of the service stores and reads models through.

A blob store is a directory: ``models/ab/abcdef...`` (each model named by its SHA-256 only, so no user-supplied
name or path ever reaches the filesystem), ``tmp/`` for uploads being received (on the same filesystem, so a
finished upload is renamed into place atomically) and ``jobs/`` for the files jobs write. By default it is the
service's data dir; ``graphlint serve --blob-store DIR`` (``GRAPHLINT_BLOB_STORE``) and ``graphlint worker``
put it on a directory every replica and worker mounts (NFS, a shared volume). In that shared mode other
processes write to ``tmp/`` too, so a starting process removes only partial uploads older than an hour.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_HEX64 = re.compile(r"[0-9a-f]{64}")
STALE_TMP_S = 3600.0  # in a shared store, a partial upload this old was left by a process that died


class BlobStore:
    """Model files by SHA-256 under ``root``: ``root/ab/abcdef...``. Written once, atomically."""

    def __init__(self, root: Path, *, shared: bool = False) -> None:
        self.root = root
        self.tmp = root.parent / "tmp"
        self.jobs = root.parent / "jobs"
        self.shared = shared
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    @classmethod
    def in_dir(cls, directory: Path, *, shared: bool = False) -> BlobStore:
        """The store of a data dir or shared directory (models in ``directory/models``)."""
        return cls(directory.expanduser().resolve() / "models", shared=shared)

    def clean_tmp(self, now: float | None = None) -> None:
        """Remove partial uploads left by a crash (in a shared store, only those older than an hour)."""
        oldest = (time.time() if now is None else now) - STALE_TMP_S
        for entry in self.tmp.iterdir():
            try:
                if self.shared and entry.lstat().st_mtime > oldest:
                    continue
            except OSError:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the model with this hash lives.

        Raises:
            ValueError: ``sha256`` is not 64 lowercase hex digits.
        """
        if not _HEX64.fullmatch(sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, tmp_file: Path) -> Path:
        """Move an uploaded temporary file into place. When that model is already stored the rename replaces it
        with the same bytes, which also marks it as just used (retention evicts by modification time)."""
        final = self.path(sha256)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp_file, final)
        return final

    def get(self, sha256: str) -> Path | None:
        """The stored model file, if there is one; it is marked as used now."""
        try:
            final = self.path(sha256)
        except ValueError:
            return None
        return final if self.touch(final) else None

    def exists(self, sha256: str) -> bool:
        """True when the model is stored (without marking it as used)."""
        try:
            return self.path(sha256).is_file()
        except ValueError:
            return False

    def size(self, sha256: str) -> int | None:
        """The stored model's size in bytes, or None when it is not stored."""
        try:
            return self.path(sha256).stat().st_size
        except (ValueError, OSError):
            return None

    @contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        """The stored model opened for reading; it is marked as used now.

        Raises:
            FileNotFoundError: the model is not stored.
        """
        final = self.get(sha256)
        if final is None:
            raise FileNotFoundError(f"no stored model {sha256[:64]}")
        with final.open("rb") as handle:
            yield handle

    def delete(self, sha256: str) -> bool:
        """Remove a stored model; False when it was not stored."""
        try:
            self.path(sha256).unlink()
        except (ValueError, OSError):
            return False
        return True

    @staticmethod
    def touch(final: Path) -> bool:
        """Mark a stored model as used now (least recently used models are evicted first); False if absent."""
        try:
            os.utime(final)
        except OSError:
            return False
        return True
