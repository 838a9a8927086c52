"""Read a TensorFlow tensor bundle (``variables.index`` + ``variables.data-*``) without TensorFlow.

The index is a LevelDB-format table (an SSTable): data blocks of prefix-compressed ``key -> value`` entries, an
index block naming each data block, and a 48-byte footer ending in a magic number. TensorFlow writes it without
compression. The empty key holds the ``BundleHeaderProto``; every other key a tensor's ``BundleEntryProto``
(dtype, shape, shard, offset and size of its bytes in ``variables.data-SSSSS-of-NNNNN``). Values are read from
the data shards only when asked.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import LoadError
from . import graphdef_schema as gpb
from . import savedmodel_schema as spb
from ._wire import read_varint

if TYPE_CHECKING:
    import numpy.typing as npt

_MAGIC = 0xDB4775248B80FB57
_FOOTER = 48
_TRAILER = 5  # a block's compression byte and CRC
MAX_INDEX_BYTES = 256 << 20
MAX_ENTRIES = 1_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """Where one tensor of the bundle lies, and its dtype (TensorFlow's DataType number) and shape."""

    key: str
    dtype: int
    shape: tuple[int, ...] | None
    shard: int
    offset: int
    size: int


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """A protobuf/LevelDB varint at ``pos``: (value, next position); the GraphDef reader's, bounded by ``buf``."""
    try:
        return read_varint(buf, pos, len(buf))
    except LoadError as err:
        raise LoadError("truncated index") from err


def _block(data: bytes, handle: bytes) -> bytes:
    """The block a ``BlockHandle`` (varint offset, varint size) names, checked to lie inside the file."""
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    if offset + size + _TRAILER > len(data) - _FOOTER or size < 4:
        raise LoadError("truncated index (a block lies past the end of the file)")
    if data[offset + size] != 0:
        raise LoadError("compressed index blocks are not supported")
    return data[offset:offset + size]


def _entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(key, value)`` of one block, undoing the prefix compression."""
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * restarts
    if end < 0:
        raise LoadError("truncated index (bad block)")
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        own, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        if shared > len(key) or pos + own + vlen > end:
            raise LoadError("truncated index (bad entry)")
        key = key[:shared] + block[pos:pos + own]
        pos += own
        yield key, block[pos:pos + vlen]
        pos += vlen


def _shape(raw: bytes) -> tuple[int, ...] | None:
    proto = gpb.TensorShapeProto.FromString(raw)
    if proto.unknown_rank:
        return None
    return tuple(d.size for d in proto.dim)


def read_index(path: str) -> tuple[int, Mapping[str, Entry]]:
    """Parse ``variables.index``: the number of data shards and the entries by key."""
    size = os.path.getsize(path)
    if size > MAX_INDEX_BYTES:
        raise LoadError(f"variables index is larger than {MAX_INDEX_BYTES >> 20} MB", "too-large")
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < _FOOTER or struct.unpack_from("<Q", data, len(data) - 8)[0] != _MAGIC:
        raise LoadError("truncated or not a tensor-bundle index (no table footer)")
    footer = data[-_FOOTER:]
    pos = 0
    for _ in range(2):  # the metaindex handle (offset, size): unused
        _, pos = _varint(footer, pos)
    index = _block(data, footer[pos:])
    shards = 1
    entries: dict[str, bytes] = {}
    for _, handle in _entries(index):
        for key, value in _entries(_block(data, handle)):
            if len(entries) >= MAX_ENTRIES:
                raise LoadError(f"variables index has more than {MAX_ENTRIES:,} entries", "too-large")
            if not key:
                shards = max(1, spb.BundleHeaderProto.FromString(value).num_shards)
                continue
            entries[key.decode("utf-8", "replace")] = value
    return shards, _Entries(entries)


class _Entries(Mapping[str, Entry]):
    """The index's entries by key, each parsed when first looked up (a model reads few of a checkpoint's)."""

    def __init__(self, raw: dict[str, bytes]) -> None:
        self._raw = raw
        self._parsed: dict[str, Entry] = {}

    def __getitem__(self, key: str) -> Entry:
        entry = self._parsed.get(key)
        if entry is None:
            proto = spb.BundleEntryProto.FromString(self._raw[key])
            entry = self._parsed[key] = Entry(key, proto.dtype, _shape(proto.shape), proto.shard_id, proto.offset,
                                              proto.size)
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


class Bundle:
    """A tensor bundle: its entries (read at construction) and the values, read on demand."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.shards, self.entries = read_index(prefix + ".index")
        for i in range(self.shards):
            if not os.path.isfile(self.shard_path(i)):
                raise LoadError(f"variables data shard {os.path.basename(self.shard_path(i))} is missing", "missing")

    def shard_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.shards:05d}"

    def check(self, entry: Entry, itemsize: int | None) -> None:
        """Raise :class:`LoadError` unless ``entry`` lies inside its shard and (for a dtype of ``itemsize`` bytes)
        holds as many bytes as its shape needs."""
        if not 0 <= entry.shard < self.shards:
            raise LoadError(f"variable {entry.key}: shard {entry.shard} does not exist")
        if entry.offset < 0 or entry.offset + entry.size > os.path.getsize(self.shard_path(entry.shard)):
            raise LoadError(f"variable {entry.key}: lies past the end of its data shard")
        if itemsize is not None:
            count = 1
            for dim in entry.shape or ():
                count *= dim
            if entry.shape is None or min(entry.shape, default=0) < 0 or count * itemsize != entry.size:
                raise LoadError(f"variable {entry.key}: the index gives {entry.size} bytes for shape "
                                f"{list(entry.shape or [])}")

    def raw(self, entry: Entry) -> bytes:
        """The bytes of one tensor (checked to be as long as the index says)."""
        if not 0 <= entry.shard < self.shards:
            raise LoadError(f"variable {entry.key}: shard {entry.shard} does not exist")
        with open(self.shard_path(entry.shard), "rb") as fh:
            fh.seek(entry.offset)
            data = fh.read(entry.size)
        if len(data) != entry.size:
            raise LoadError(f"variable {entry.key}: its data shard is truncated")
        return data

    def string(self, key: str) -> bytes | None:
        """A scalar string tensor (a varint length, a 4-byte checksum, the bytes), or None when absent."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        data = self.raw(entry)
        length, pos = _varint(data, 0)
        return data[pos + 4:pos + 4 + length]

    def value(self, entry: Entry, dtype: str | None) -> npt.NDArray[Any]:
        """A numeric tensor as a numpy array of ``dtype`` (a numpy dtype name; None gives numpy's default,
        float64)."""
        import numpy as np

        np_dtype = np.dtype("float16" if dtype == "bfloat16" else dtype)
        arr = np.frombuffer(self.raw(entry), dtype=np_dtype)
        return arr.reshape(entry.shape or ())
