"""Fuzz targets: each takes arbitrary bytes and must either load them or raise :class:`LoadError`.

Anything else escaping a target is a crash. The same targets run under atheris (``run_atheris.py``, coverage
guided), under ``bench/fuzz.py`` (a million inputs per loader) and in the short pytest run (``test_fuzz.py``).

``shapes`` does not feed the bytes to a loader: it decodes them into a small GraphDef, one op from the shape
rule table with fuzzed input shapes, constant operands and attrs, so that shape inference sees well-formed but
hostile graphs rather than parse errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from graphlint.loaders import LoadError, load

MAX_NODES = 10_000  # the fuzzed inputs are small: a larger claim is refused like a service would


def _load(data: bytes, head: bytes) -> None:
    with contextlib.suppress(LoadError):
        load(head + data, name="fuzz", max_nodes=MAX_NODES)


def graphdef(data: bytes) -> None:
    """Binary GraphDef: the bytes as they are (the format is sniffed, so text-like bytes go to pbtxt)."""
    _load(data, b"")


def pbtxt(data: bytes) -> None:
    """Text GraphDef: the bytes as UTF-8 text without NULs behind a comment line, so the sniffer reads them as
    text."""
    _load(data.replace(b"\0", b" ").decode("utf-8", "replace").encode(), b"#\n")


def tflite(data: bytes) -> None:
    """TFLite: the bytes with the ``TFL3`` identifier at offset 4 so the sniffer reads them as a flatbuffer."""
    if len(data) >= 8:
        data = data[:4] + b"TFL3" + data[8:]
    _load(data, b"")


# Dims a fuzzed shape picks from: unknown, empty, small, and claims no tensor could have.
_DIMS = (None, 0, 1, 2, 3, 4, 7, 64, 1 << 31, 1 << 62)
_VALUES = (-1, 0, 1, 2, 3, -2, 4, 1 << 30, -(1 << 40), 255)
_ATTRS = ("axis", "num_split", "N", "keep_dims", "begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
          "shrink_axis_mask", "squeeze_dims", "strides", "ksize", "padding", "data_format", "dilations",
          "transpose_a", "transpose_b", "num", "batch_dims", "block_size", "perm", "equation", "k", "depth")


class _Bytes:
    """Reads small numbers from the fuzz input; past its end every read is 0."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        b = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        return b

    def pick(self, items):
        return items[self.byte() % len(items)]


def _attr_value(r: _Bytes, key: str):
    kind = r.byte() % 6
    if key in ("padding",):
        return r.pick(("SAME", "VALID", "EXPLICIT", "bogus"))
    if key == "data_format":
        return r.pick(("NHWC", "NCHW", "NDHWC", "x"))
    if key == "equation":
        return r.pick(("ij,jk->ik", "...ij,...jk->...ik", "i,i->", "bij,bjk->bik", "ii->i", "->", ",->"))
    if kind == 0:
        return bool(r.byte() & 1)
    if kind in (1, 2):
        return r.pick(_VALUES)
    return [r.pick(_VALUES) for _ in range(r.byte() % 6)]


def graph_from_bytes(data: bytes) -> bytes:
    """A GraphDef of one op from the shape rule table with operands and attrs read from ``data``."""
    from graphlint.loaders.shapes import RULES
    from graphlint.testing import GraphBuilder

    r = _Bytes(data)
    op = r.pick(sorted(RULES))
    b = GraphBuilder()
    inputs = []
    for i in range(r.byte() % 5):
        if r.byte() % 3:
            rank = r.byte() % 7
            shape = None if rank == 6 else tuple(r.pick(_DIMS) for _ in range(rank))
            inputs.append(b.placeholder(f"x{i}", r.pick(("float32", "int32", "int64", "bool")), shape))
        else:
            values = [r.pick(_VALUES) for _ in range(r.byte() % 7)]
            value = values if r.byte() & 1 or not values else values[0]
            inputs.append(b.const(value, name=f"c{i}", dtype=r.pick(("int32", "int64"))))
    attrs = {key: _attr_value(r, key) for key in (r.pick(_ATTRS) for _ in range(r.byte() % 5))}
    for _ in range(r.byte() % 3):
        attrs["T"] = r.pick(("float32", "int32", "int8"))
    b.op(op, inputs, name="y", attrs=attrs)
    return b.to_bytes()


def shapes(data: bytes) -> None:
    """Shape inference on one fuzzed op (see the module docstring)."""
    try:
        model = graph_from_bytes(data)
    except (TypeError, ValueError, OverflowError):
        return  # the builder cannot encode that combination: not an input for the loader
    _load(model, b"")


TARGETS: dict[str, Callable[[bytes], None]] = {"graphdef": graphdef, "pbtxt": pbtxt, "tflite": tflite,
                                                 "shapes": shapes}
