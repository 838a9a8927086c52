"""Unpack a SavedModel sent as a ``.zip`` / ``.tar`` / ``.tar.gz`` archive, safely, into a temporary directory.

Refused, each with one line: an entry whose path is absolute or leaves the directory (``..``), a link or device
entry, more than :data:`MAX_ENTRIES` entries (counted before anything is written; a zip's central directory is
read without reading its entries), more than :data:`MAX_TOTAL_BYTES` unpacked, or an entry that unpacks to more
than :data:`MAX_RATIO` times its compressed size. The archive may hold the SavedModel at its top or in one folder.
"""

from __future__ import annotations

import io
import mmap
import os
import posixpath
import struct
import tarfile
import tempfile
import zipfile
from collections.abc import Sized
from typing import IO, TYPE_CHECKING, cast

from . import LoadError, ModelBytes

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200
_CHUNK = 1 << 20


def archive_kind(head: bytes) -> str | None:
    """``zip``, ``tar``, ``gzip`` (a .tar.gz, judged by its first bytes) or None."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def _safe_name(name: str, path: str) -> str:
    clean = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or clean == ".." or clean.startswith("../") or ":" in clean.split("/")[0]:
        raise LoadError(f"{path}: archive entry `{name[:200]}` points outside the archive", "unsupported")
    return clean


class _MapReader(io.RawIOBase):
    """A read-only, seekable file over a mapped file (zipfile and tarfile want a file object)."""

    def __init__(self, data: ModelBytes) -> None:
        super().__init__()
        self._view = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer)
        chunk = self._view[self._pos:self._pos + len(view)]
        view[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view.release()
        super().close()


class _Budget:
    def __init__(self, path: str) -> None:
        self.path = path
        self.total = 0

    def add(self, size: int) -> None:
        self.total += size
        if self.total > MAX_TOTAL_BYTES:
            raise LoadError(f"{self.path}: archive unpacks to more than {MAX_TOTAL_BYTES >> 30} GB", "too-large")


def _copy(src: IO[bytes], dst_path: str, budget: _Budget, limit: int) -> None:
    written = 0
    with open(dst_path, "wb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            budget.add(len(chunk))
            if written > limit:
                raise LoadError(f"{budget.path}: archive entry unpacks to more than {MAX_RATIO}x its compressed "
                                "size (an archive bomb?)", "too-large")
            out.write(chunk)


def _target(root: str, clean: str) -> str:
    dst = os.path.join(root, *clean.split("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    return dst


def zip_entry_count(data: ModelBytes) -> int | None:
    """The entry count a zip's end-of-central-directory record declares (zip64 included), read from the last
    64 KB without reading the entries; None when there is no such record."""
    tail = bytes(data[-(65536 + 22):])
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        return None
    count: int
    (count,) = struct.unpack_from("<H", tail, end + 10)
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
        (record,) = struct.unpack_from("<Q", tail, locator + 8)
        if 0 <= record <= len(data) - 56 and bytes(data[record:record + 4]) == b"PK\x06\x06":
            (count,) = struct.unpack_from("<Q", bytes(data[record + 32:record + 40]))
    return count


def _unzip(data: ModelBytes, root: str, path: str) -> None:
    declared = zip_entry_count(data)
    if declared is not None:
        _check_count(range(declared), path)
    try:
        archive = zipfile.ZipFile(_MapReader(data))
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise LoadError(f"{path}: not a valid zip archive ({err})") from None
    with archive:
        _check_count(archive.filelist, path)  # the central directory only: nothing is unpacked yet
        budget = _Budget(path)
        for info in archive.infolist():
            clean = _safe_name(info.filename, path)
            if info.is_dir() or clean == ".":
                continue
            limit = max(info.compress_size, 1) * MAX_RATIO + _CHUNK
            with archive.open(info) as src:
                _copy(src, _target(root, clean), budget, limit)


def _check_count(entries: Sized, path: str) -> None:
    if len(entries) > MAX_ENTRIES:
        raise LoadError(f"{path}: archive has {len(entries):,} entries, more than the {MAX_ENTRIES:,} allowed",
                        "too-large")


def _untar(data: ModelBytes, root: str, path: str, compressed: bool) -> None:
    fileobj = _MapReader(data)
    try:
        archive = tarfile.open(fileobj=fileobj, mode="r:gz" if compressed else "r:")  # noqa: SIM115 - with below
    except (tarfile.TarError, OSError, EOFError) as err:
        raise LoadError(f"{path}: not a valid tar archive ({err})") from None
    budget, count = _Budget(path), 0
    with archive:
        try:
            for member in archive:  # streamed: the count is checked as entries arrive
                count += 1
                if count > MAX_ENTRIES:
                    raise LoadError(f"{path}: archive has more than the {MAX_ENTRIES:,} entries allowed", "too-large")
                _untar_member(archive, member, root, path, budget)
        except (tarfile.TarError, OSError, EOFError) as err:
            raise LoadError(f"{path}: not a valid tar archive ({err})") from None


def _untar_member(archive: tarfile.TarFile, member: tarfile.TarInfo, root: str, path: str, budget: _Budget) -> None:
    clean = _safe_name(member.name, path)
    if member.isdir() or clean == ".":
        return
    if not member.isfile():
        raise LoadError(f"{path}: archive entry `{member.name[:200]}` is a link or device, not a file", "unsupported")
    src = cast("IO[bytes]", archive.extractfile(member))  # a regular file always has its contents
    _copy(src, _target(root, clean), budget, MAX_TOTAL_BYTES)


def _savedmodel_root(root: str, path: str) -> str:
    if os.path.isfile(os.path.join(root, "saved_model.pb")):
        return root
    entries = [e for e in os.listdir(root) if not e.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and os.path.isfile(os.path.join(root, entries[0], "saved_model.pb")):
        return os.path.join(root, entries[0])
    if os.path.isfile(os.path.join(root, "config.json")) and os.path.isfile(os.path.join(root, "model.weights.h5")):
        raise LoadError(f"{path}: this is a Keras .keras file; export it as a SavedModel (model.export(DIR)) and "
                        "check the directory", "unsupported")
    raise LoadError(f"{path}: the archive holds no saved_model.pb (at its top or in one folder)", "unsupported")


class Unpacked:
    """A temporary directory holding an unpacked SavedModel; removed by :meth:`close` or when collected."""

    def __init__(self, data: ModelBytes, kind: str, path: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="graphlint-sm-")
        try:
            if kind == "zip":
                _unzip(data, self._tmp.name, path)
            else:
                _untar(data, self._tmp.name, path, compressed=kind == "gzip")
            self.root = _savedmodel_root(self._tmp.name, path)
        except LoadError:
            self.close()
            raise
        except Exception as err:  # noqa: BLE001 - a corrupt or unsupported archive, in one line
            self.close()
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise LoadError(f"{path}: cannot unpack the archive ({detail[:200]})") from None

    def close(self) -> None:
        self._tmp.cleanup()



def check_archive(path: str) -> str | None:
    """Why the archive file at ``path`` would be refused (entry count, a path escape, a link, the declared unpacked
    size), judged from its directory without unpacking it; None when it is not an archive or looks acceptable.
    The unpacking checks the real sizes again."""
    with open(path, "rb") as fh:
        kind = archive_kind(fh.read(4096))
    if kind is None:
        return None
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            _check_listing(data, kind, "the archive")
    except LoadError as err:
        return str(err).removeprefix("the archive: ")
    except Exception as err:  # noqa: BLE001 - a corrupt archive
        return f"cannot read the archive ({str(err).splitlines()[0][:200] if str(err) else type(err).__name__})"
    return None


def _check_listing(data: ModelBytes, kind: str, path: str) -> None:
    budget = _Budget(path)
    if kind == "zip":
        declared = zip_entry_count(data)
        if declared is not None:
            _check_count(range(declared), path)
        with zipfile.ZipFile(_MapReader(data)) as archive:
            _check_count(archive.filelist, path)
            for info in archive.infolist():
                _safe_name(info.filename, path)
                budget.add(info.file_size)
        return
    with tarfile.open(fileobj=_MapReader(data), mode="r:gz" if kind == "gzip" else "r:") as archive:
        for count, member in enumerate(archive, 1):
            if count > MAX_ENTRIES:
                raise LoadError(f"{path}: archive has more than the {MAX_ENTRIES:,} entries allowed", "too-large")
            _safe_name(member.name, path)
            if not (member.isdir() or member.isfile()):
                raise LoadError(f"{path}: archive entry `{member.name[:200]}` is a link or device, not a file",
                                "unsupported")
            budget.add(member.size)
