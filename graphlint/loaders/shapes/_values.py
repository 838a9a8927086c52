"""Values of small integer tensors that shapes are computed from (``tf.shape(x)[0]``, ``tf.stack([n, -1])``,
``tf.range(tf.rank(x))`` ...), so the shape rules can read them as they read constants.

TensorFlow's shape inference evaluates these small subgraphs too. A value is recorded only when every input
it depends on is known in full: a constant, or the shape, rank or size of a tensor whose shape is known.
Values are scalars or 1-D lists of at most ``MAX_VALUES`` ints. A vector known in part (``tf.shape(x)`` when
x's batch is None) keeps its unknown elements as None, and flows on only where TensorFlow's shape inference
carries one (its ConstantPartialShape): through Cast, StridedSlice, Pack and ConcatV2, read with
``Node.partial``. Other ops need their inputs known in full, as TensorFlow evaluates them; an unknown element
never cancels against the input's unknown batch in Reshape's -1 either.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import cast

from graphlint.loaders.tensors import PlainValue

from ._table import Node

MAX_VALUES = 1024
INT_DTYPES = frozenset({"int32", "int64"})

ValueRule = Callable[[Node], object]
VALUE_RULES: dict[str, ValueRule] = {}


def value_rule(*ops: str) -> Callable[[ValueRule], ValueRule]:
    """Register the decorated function as the value rule of ``ops`` (one rule per op)."""
    def register(fn: ValueRule) -> ValueRule:
        taken = [op for op in ops if op in VALUE_RULES]
        if taken:
            raise ValueError(f"two value rules for {taken[0]}")
        VALUE_RULES.update(dict.fromkeys(ops, fn))
        return fn
    return register


_INT64 = range(-(1 << 63), 1 << 63)


def checked(value: object) -> int | list[int] | None:
    """``value`` when it is an int64 or a short flat list of them, else None (so no chain of products can grow
    a number without bound)."""
    if type(value) is int:
        return value if value in _INT64 else None
    if isinstance(value, list) and len(value) <= MAX_VALUES and all(type(v) is int and v in _INT64 for v in value):
        return value
    return None


def checked_partial(value: object) -> list[int | None] | None:
    """``value`` when it is a vector known in part: a short list of int64s and Nones."""
    if isinstance(value, list) and len(value) <= MAX_VALUES and all(
            v is None or (type(v) is int and v in _INT64) for v in value):
        return value
    return None


@value_rule("Shape")
def shape_value(node: Node) -> list[int | None] | None:
    x = node.shapes[0]
    if x is None:
        return None
    return list(x)


@value_rule("Rank")
def rank_value(node: Node) -> int | None:
    x = node.shapes[0]
    return None if x is None else len(x)


@value_rule("Size")
def size_value(node: Node) -> int | None:
    x = node.shapes[0]
    if x is None or None in x:
        return None
    n = 1
    for d in cast("tuple[int, ...]", x):  # every dim is known: checked above
        n *= d
    return n


@value_rule("Identity", "StopGradient", "Snapshot")
def same_value(node: Node) -> PlainValue:
    return node.value(0)


@value_rule("Cast")
def cast_value(node: Node) -> PlainValue:
    return node.partial(0)


@value_rule("Pack")
def pack_value(node: Node) -> list[int | None] | None:
    """Scalars stacked into a vector (axis 0); a scalar of unknown value is an unknown element."""
    if node.attrs.get("axis", 0) != 0 or any(x != () for x in node.shapes):
        return None
    parts = [node.partial(i) for i in range(len(node.ins))]
    return [p if type(p) is int else None for p in parts]


@value_rule("ConcatV2")
def concat_value(node: Node) -> list[PlainValue] | None:
    """Vectors joined; one of unknown value but known length adds as many unknown elements."""
    if node.value(len(node.ins) - 1) not in (0, -1):
        return None
    out: list[PlainValue] = []
    for i, x in enumerate(node.shapes[:-1]):
        part = node.partial(i)
        if part is None and x is not None and len(x) == 1 and x[0] is not None and x[0] <= MAX_VALUES:
            part = [None] * x[0]  # bounded: a file may declare a vector of a billion
        if not isinstance(part, list):
            return None
        out.extend(part)
    return out


@value_rule("StridedSlice")
def strided_slice_value(node: Node) -> PlainValue:
    """A 1-D value sliced with one index (no ellipsis or new axis), as ``tf.shape(x)[1:3]`` writes it."""
    x, begin, end, strides = node.partial(0), node.value(1), node.value(2), node.value(3)
    a = node.attrs
    if not isinstance(x, list) or a.get("ellipsis_mask") or a.get("new_axis_mask") or [len(v) for v in (
            begin or (), end or (), strides or ())] != [1, 1, 1]:
        return None
    if a.get("shrink_axis_mask", 0) & 1:
        return x[begin[0]]
    b = None if a.get("begin_mask", 0) & 1 else begin[0]
    e = None if a.get("end_mask", 0) & 1 else end[0]
    return x[b:e:strides[0]]


@value_rule("Slice")
def slice_value(node: Node) -> list[PlainValue] | None:
    x, begin, size = node.value(0), node.value(1), node.value(2)
    if not isinstance(x, list) or not isinstance(begin, list) or not isinstance(size, list):
        return None
    return x[begin[0]:] if size[0] == -1 else x[begin[0]:begin[0] + size[0]]


@value_rule("GatherV2")
def gather_value(node: Node) -> PlainValue:
    x, indices = node.value(0), node.value(1)
    if not isinstance(x, list) or node.value(2) != 0 or node.attrs.get("batch_dims"):
        return None
    if isinstance(indices, list):
        return [x[i] for i in indices]
    return None if indices is None else x[indices]


@value_rule("ExpandDims")
def expand_dims_value(node: Node) -> list[int] | None:
    x = node.value(0)
    return [x] if type(x) is int and node.value(1) in (0, -1, [0], [-1]) else None


@value_rule("Range")
def range_value(node: Node) -> list[int] | None:
    start, limit, delta = node.value(0), node.value(1), node.value(2)
    if not all(type(v) is int for v in (start, limit, delta)) or not delta:
        return None
    values = range(start, limit, delta)
    return list(values) if len(values) <= MAX_VALUES else None


_BINARY: Mapping[str, Callable[[int, int], int]] = {
    "Add": operator.add, "AddV2": operator.add, "Sub": operator.sub, "Mul": operator.mul, "FloorDiv": operator.floordiv,
    "Maximum": max, "Minimum": min}


@value_rule(*_BINARY)
def binary_value(node: Node) -> PlainValue:
    """Elementwise integer arithmetic on scalars and vectors, broadcasting as NumPy does."""
    a, b = node.value(0), node.value(1)
    fn = _BINARY[node.op]
    if isinstance(a, list) and isinstance(b, list) and 1 in (len(a), len(b)) and len(a) != len(b):
        a, b = (a[0], b) if len(a) == 1 else (a, b[0])  # a vector of one broadcasts like a scalar
    if type(a) is int and type(b) is int:
        return fn(a, b)
    if isinstance(a, list) and isinstance(b, list):
        return [fn(x, y) for x, y in zip(a, b)] if len(a) == len(b) else None
    if isinstance(a, list) and type(b) is int:
        return [fn(x, b) for x in a]
    if type(a) is int and isinstance(b, list):
        return [fn(a, y) for y in b]
    return None


_REDUCE: Mapping[str, Callable[[list[int]], int]] = {"Sum": sum, "Max": max, "Min": min}


@value_rule("Prod", "Sum", "Max", "Min")
def reduce_value(node: Node) -> int | None:
    """A vector reduced over its only axis, as ``tf.reduce_prod(tf.shape(x))`` writes it."""
    x, axes = node.value(0), node.value(1)
    if not isinstance(x, list) or not x or axes not in (0, -1, [0], [-1]) or node.attrs.get("keep_dims"):
        return None
    if node.op == "Prod":
        n = 1
        for v in x:
            n *= v
        return n
    return _REDUCE[node.op](x)


@value_rule("Reshape")
def reshape_value(node: Node) -> PlainValue:
    """A scalar made a vector of one, or back (``tf.reshape(n, [])``); a vector flattened."""
    x, target = node.value(0), node.value(1)
    flat = [x] if type(x) is int else x
    if not isinstance(flat, list) or not isinstance(target, list):
        return None
    if not target:
        return flat[0] if len(flat) == 1 else None
    return flat if len(target) == 1 and target[0] in (-1, len(flat)) else None


@value_rule("Squeeze")
def squeeze_value(node: Node) -> PlainValue:
    x = node.value(0)
    return x[0] if isinstance(x, list) and len(x) == 1 else None
