"""Slice and StridedSlice (with every mask: begin, end, shrink, ellipsis, new axis)."""

from __future__ import annotations

from typing import NamedTuple

from graphlint.ir import Shape
from graphlint.loaders._nodes import Attrs
from graphlint.loaders.tensors import PlainValue

from ._table import Node, rule, unknown_dims

_NEW_AXIS = -1
_SHRINK = -2


@rule("Slice")
def slice_(node: Node) -> Shape:
    x, begin, size = node.shapes[0], node.value(1), node.value(2)
    if x is None or size is None:
        return unknown_dims(x)
    return tuple((d - b if d is not None and begin is not None else None) if n == -1 else n
                 for d, b, n in zip(x, begin or [None] * len(x), size))


class _Dense(NamedTuple):
    """One dim of the input, as StridedSlice reads it once the sparse spec is made dense."""

    begin: int
    end: int
    stride: int
    begin_masked: bool
    end_masked: bool
    shrink: bool


@rule("StridedSlice")
def strided_slice(node: Node) -> Shape:
    """TensorFlow's dense spec: an ellipsis (one is implied at the end when none is given) stands for as many
    full dims as the others leave; a new axis adds a dim of 1; a shrunk dim is dropped."""
    x = node.shapes[0]
    begin, end = node.value(1), node.value(2)
    if x is None or begin is None or end is None:
        return None
    strides = node.value(3) if len(node.ins) > 3 else None
    dense, gather = _dense_spec(node.attrs, len(x), begin, end, strides or [1] * len(begin))
    sizes = [_dim(d, spec) for d, spec in zip(x, dense)]
    return tuple(1 if g == _NEW_AXIS else sizes[g] for g in gather if g != _SHRINK)


def _dense_spec(attrs: Attrs, rank: int, begin: list[PlainValue], end: list[PlainValue],
                strides: list[PlainValue]) -> tuple[list[_Dense], list[int]]:
    """The spec of each input dim, and for each output dim the input dim it shows (or _NEW_AXIS; _SHRINK marks
    a dim that is dropped)."""
    masks = [attrs.get(k, 0) for k in ("begin_mask", "end_mask", "shrink_axis_mask", "ellipsis_mask",
                                       "new_axis_mask")]
    bm, em, sm, ellipsis, new_axis = masks
    n = len(begin)
    if not ellipsis & ((1 << n) - 1):  # no ellipsis: one is implied after the last index
        ellipsis |= 1 << n
        n += 1
    dense: list[_Dense] = []
    gather: list[int] = []
    for i in range(n):
        if ellipsis >> i & 1:
            after = sum(new_axis >> j & 1 for j in range(i + 1, n))
            stop = min(rank - (n - i) + 1 + after, rank)
            while len(dense) < stop:
                gather.append(len(dense))
                dense.append(_Dense(0, 0, 1, True, True, False))
        elif new_axis >> i & 1:
            gather.append(_NEW_AXIS)
        else:
            shrink = bool(sm >> i & 1)
            gather.append(_SHRINK if shrink else len(dense))
            dense.append(_Dense(int(begin[i]), int(end[i]), int(strides[i]), bool(bm >> i & 1), bool(em >> i & 1),
                                shrink))
    if len(dense) != rank:
        raise ValueError("the slice does not match the input's rank")
    return dense, gather


def _dim(d: int | None, spec: _Dense) -> int | None:
    """The size of one sliced dim (Python's slice arithmetic is TensorFlow's)."""
    if spec.shrink:
        return 1
    if d is None:
        return None
    st = spec.stride
    b = (0 if st > 0 else d - 1) if spec.begin_masked else spec.begin
    e = (d if st > 0 else -d - 1) if spec.end_masked else spec.end
    return len(range(d)[slice(b, e, st)])
