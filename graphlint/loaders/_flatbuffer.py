"""Read FlatBuffers tables in place: the binary format, with field ids supplied by the caller.

A table starts with a signed offset back to its vtable; the vtable lists, per field id, the field's offset
inside the table (0 = absent, use the default). Scalars sit in the table; strings, vectors and sub-tables
sit behind an unsigned offset relative to the field. Every read is a ``struct.unpack_from`` on the file
buffer, so nothing is copied, and a read outside the buffer raises ``struct.error`` (a corrupt file).

This replaces the generated accessor classes on hot paths: they go through several Python calls and a
numpy array per field, which made reading a model's structure most of the cost of linting it.
"""

from __future__ import annotations

import struct
from typing import Any, Literal, overload

from . import ModelBytes

_IntCode = Literal["b", "B", "h", "H", "i", "I", "q", "Q"]  # struct letters of the integer scalars
_FloatCode = Literal["f", "d"]

_I32 = struct.Struct("<i").unpack_from
_U32 = struct.Struct("<I").unpack_from
_U16 = struct.Struct("<H").unpack_from
_SCALARS = {code: struct.Struct("<" + code).unpack_from for code in "bBhHiIqQfd?"}


class Table:
    """One table of a FlatBuffer, read in place."""

    __slots__ = ("_vsize", "_vtable", "buf", "pos")

    def __init__(self, buf: ModelBytes, pos: int) -> None:
        vtable = pos - _I32(buf, pos)[0]
        if vtable < 0 or pos < 0:
            raise struct.error("table offset outside the buffer")
        self.buf = buf
        self.pos = pos
        self._vtable = vtable
        self._vsize = _U16(buf, vtable)[0]

    @classmethod
    def root(cls, buf: ModelBytes) -> Table:
        """The root table of a FlatBuffer."""
        return cls(buf, _U32(buf, 0)[0])

    def _field(self, field_id: int) -> int:
        """Absolute position of a field, or 0 when it is absent."""
        slot = 4 + 2 * field_id
        if slot >= self._vsize:
            return 0
        offset = _U16(self.buf, self._vtable + slot)[0]
        return self.pos + offset if offset else 0

    def has(self, field_id: int) -> bool:
        """True when the field is present."""
        return self._field(field_id) != 0

    @overload
    def scalar(self, field_id: int, code: _IntCode, default: int = 0) -> int: ...
    @overload
    def scalar(self, field_id: int, code: _FloatCode, default: float = 0) -> float: ...
    @overload
    def scalar(self, field_id: int, code: Literal["?"], default: bool = False) -> bool: ...
    def scalar(self, field_id: int, code: str, default: Any = 0) -> Any:
        """A scalar field (``code`` is a struct format letter: ``b`` int8, ``I`` uint32, ``?`` bool ...)."""
        pos = self._field(field_id)
        return _SCALARS[code](self.buf, pos)[0] if pos else default

    def _target(self, field_id: int) -> int:
        pos = self._field(field_id)
        return pos + _U32(self.buf, pos)[0] if pos else 0

    def table(self, field_id: int) -> Table | None:
        """A sub-table field, or None."""
        pos = self._target(field_id)
        return Table(self.buf, pos) if pos else None

    def string(self, field_id: int) -> str | None:
        """A string field decoded as UTF-8 (invalid bytes replaced), or None."""
        pos = self._target(field_id)
        if not pos:
            return None
        length = _U32(self.buf, pos)[0]
        if pos + 4 + length > len(self.buf):
            raise struct.error("string outside the buffer")
        return bytes(self.buf[pos + 4:pos + 4 + length]).decode("utf-8", "replace")

    def vector(self, field_id: int, itemsize: int = 1) -> tuple[int, int] | None:
        """``(start, length)`` of a vector field's elements, or None when the field is absent."""
        pos = self._target(field_id)
        if not pos:
            return None
        length = _U32(self.buf, pos)[0]
        if pos + 4 + length * itemsize > len(self.buf):
            raise struct.error("vector outside the buffer")
        return pos + 4, length

    @overload
    def numbers(self, field_id: int, code: _IntCode) -> tuple[int, ...] | None: ...
    @overload
    def numbers(self, field_id: int, code: _FloatCode) -> tuple[float, ...] | None: ...
    def numbers(self, field_id: int, code: str) -> tuple[Any, ...] | None:
        """A vector of scalars as a tuple, or None when the field is absent."""
        span = self.vector(field_id, struct.calcsize(code))
        if span is None:
            return None
        start, length = span
        return struct.unpack_from(f"<{length}{code}", self.buf, start)

    def tables(self, field_id: int) -> list[Table]:
        """A vector of tables (empty when the field is absent)."""
        span = self.vector(field_id, 4)
        if span is None:
            return []
        start, length = span
        buf = self.buf
        return [Table(buf, start + 4 * i + _U32(buf, start + 4 * i)[0]) for i in range(length)]
