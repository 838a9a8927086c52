"""The one table of shape rules: op name -> the function that derives the node's output shapes.

A rule reads a :class:`Node` and returns the output shape (a tuple, ``None`` when nothing can be derived), or a
list with one shape per output (``None`` for an output it cannot derive). Each op has exactly one rule;
registering a second one for the same op name is an error at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Union, overload

from graphlint.ir import Shape, TensorInfo
from graphlint.loaders._nodes import Attrs
from graphlint.loaders.tensors import PlainValue

_SMALL_CONST = 4096  # bytes: only constants this small (shape operands) are read during inference
MAX_RANK = 254  # the most dims a TensorFlow tensor has (TensorShape::MaxDimensions)

Result = Union[Shape, list[Shape]]  # noqa: UP007 (a runtime alias)


class Consts:
    """Reads small constant operands (shape vectors, axes) during inference, and the values worked out for
    small integer tensors that are not constants (see ``_values.py``): ``known`` maps a tensor id to a value
    known in full, ``partial`` to a vector with unknown elements (None)."""

    __slots__ = ("known", "partial", "reader")

    def __init__(self, reader: Callable[[TensorInfo], PlainValue] | None) -> None:
        self.reader = reader
        self.known: dict[str, int | list[int]] = {}
        self.partial: dict[str, list[int | None]] = {}

    def __call__(self, tensor: TensorInfo | None) -> PlainValue:
        if tensor is None:
            return None
        if not tensor.is_const:
            return self.known.get(tensor.id)
        if self.reader is None:
            return None
        if tensor.nbytes is None or tensor.nbytes > _SMALL_CONST:
            return None
        return self.reader(tensor)


class Node(NamedTuple):
    """What a rule sees of one node. ``n_out`` is how many outputs the loader made for it, bounded, so an attr
    that claims a billion outputs never sizes a list in a rule."""

    op: str
    attrs: Attrs
    ins: list[TensorInfo]
    shapes: list[Shape]
    const: Consts
    n_out: int

    def value(self, i: int) -> PlainValue:
        """The value of input ``i`` when it is known in full (a small constant, or worked out), else None."""
        return self.const(self.ins[i]) if i < len(self.ins) else None

    def partial(self, i: int) -> PlainValue:
        """The value of input ``i``, known in full or in part (unknown elements are None), else None."""
        value = self.value(i)
        return self.const.partial.get(self.ins[i].id) if value is None and i < len(self.ins) else value


Rule = Callable[[Node], Result]
RULES: dict[str, Rule] = {}


def rule(*ops: str) -> Callable[[Rule], Rule]:
    """Register the decorated function as the shape rule of ``ops``."""
    def register(fn: Rule) -> Rule:
        taken = [op for op in ops if op in RULES]
        if taken:  # nothing is registered: the table stays as it was
            raise ValueError(f"two shape rules for {taken[0]}: {RULES[taken[0]].__name__} and {fn.__name__}")
        RULES.update(dict.fromkeys(ops, fn))
        return fn
    return register


# -- helpers shared by the rules --------------------------------------------------------------------------------

def axis(a: int, rank: int) -> int:
    """A non-negative axis."""
    return a + rank if a < 0 else a


def scalar(value: PlainValue) -> int | None:
    """An int from a constant that is a scalar or a one-element vector; None otherwise."""
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return None if value is None or isinstance(value, (list, bool)) else int(value)


def unknown_dims(shape: Shape) -> Shape:
    """The same rank with every dim unknown (None stays None)."""
    return None if shape is None else (None,) * len(shape)


def dims_of_operand(operand: TensorInfo) -> Shape:
    """Unknown dims, as many as a 1-D shape operand (Reshape's shape, Fill's dims ...) holds values: the rank it
    gives the output. Unknown when its length is, or when it is beyond any real rank (a hostile file)."""
    shape = operand.shape
    if shape is None or len(shape) != 1 or shape[0] is None or shape[0] > MAX_RANK:
        return None
    return (None,) * shape[0]


def shape_operand(node: Node, i: int) -> Shape:
    """The output shape a 1-D shape operand gives: its values when constant (-1 is an unknown dim), else as
    many unknown dims as it has values."""
    value = node.partial(i)
    if value is None:
        return dims_of_operand(node.ins[i])
    if not isinstance(value, list) or len(value) > MAX_RANK:
        return None
    return tuple(d if type(d) is int and d >= 0 else None for d in value)


@overload
def broadcast(a: tuple[int | None, ...], b: tuple[int | None, ...]) -> tuple[int | None, ...]: ...
@overload
def broadcast(a: Shape, b: Shape) -> Shape: ...
def broadcast(a: Shape, b: Shape) -> Shape:
    """NumPy broadcasting of two shapes with unknown dims."""
    if a is None or b is None:
        return None
    if a == b or not b:  # the same shape, or a scalar: nothing to work out
        return a
    out = []
    for i in range(max(len(a), len(b))):
        x = a[-1 - i] if i < len(a) else 1
        y = b[-1 - i] if i < len(b) else 1
        if x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        else:
            raise ValueError("incompatible shapes")
    return tuple(reversed(out))
