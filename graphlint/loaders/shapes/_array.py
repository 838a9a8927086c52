"""Ops that rearrange, combine or build tensors: reshape, transpose, concat, pad, reductions, pack ..."""

from __future__ import annotations

from typing import cast

from graphlint.ir import Shape
from graphlint.loaders.tensors import PlainValue

from ._table import MAX_RANK, Node, axis, broadcast, dims_of_operand, rule, scalar, shape_operand, unknown_dims


@rule("Reshape")
def reshape(node: Node) -> Shape:
    target = node.partial(1)
    if not isinstance(target, list):
        return dims_of_operand(node.ins[1])
    if -1 not in target:
        return tuple(d if type(d) is int else None for d in target)
    fill = _reshape_fill(node, target)
    return tuple(fill if d == -1 else d if type(d) is int else None for d in target)


def _reshape_fill(node: Node, target: list[PlainValue]) -> int | None:
    """The size of the -1 dim: the input's elements over the target's other dims, when all are known."""
    x = node.shapes[0]
    if x is None or None in x or any(type(d) is not int for d in target):
        return None
    total = rest = 1
    for d in cast("tuple[int, ...]", x):  # every dim is known: checked above
        total *= d
    for d in target:
        rest *= d if d != -1 else 1
    return total // rest if rest else None


@rule("Transpose")
def transpose(node: Node) -> Shape:
    x, perm = node.shapes[0], node.value(1)
    if x is None or perm is None:
        return unknown_dims(x)
    return tuple(x[p] for p in perm)


@rule("ConcatV2", "Concat")
def concat(node: Node) -> Shape:
    parts, axis_t = (node.shapes[:-1], -1) if node.op == "ConcatV2" else (node.shapes[1:], 0)
    known = [x for x in parts if x is not None]
    if not known:
        return None
    a = node.value(axis_t % len(node.ins))
    if a is None:
        return unknown_dims(known[0])
    a = axis(int(a), len(known[0]))
    out = []
    for i in range(len(known[0])):
        dims = [x[i] if x is not None else None for x in parts]
        if i == a:
            out.append(None if None in dims else sum(cast("list[int]", dims)))
        else:
            out.append(next((d for d in dims if d is not None), None))
    return tuple(out)


@rule("Pad", "PadV2", "MirrorPad")
def pad(node: Node) -> Shape:
    x, pads = node.shapes[0], node.value(1)
    if x is None or pads is None:
        return unknown_dims(x)
    return tuple(None if d is None else d + p[0] + p[1] for d, p in zip(x, pads))


def _reduced(x: Shape, axes: PlainValue, keep: bool) -> Shape:
    if x is None:
        return None
    if axes is None:
        return unknown_dims(x) if keep else None
    rank = len(x)
    axes = {axis(int(a), rank) for a in (axes if isinstance(axes, list) else [axes])}
    return tuple(1 if i in axes else d for i, d in enumerate(x) if keep or i not in axes)


@rule("Mean", "Sum", "Max", "Min", "Prod", "Any", "All", "EuclideanNorm")
def reduce(node: Node) -> Shape:
    return _reduced(node.shapes[0], node.value(1), bool(node.attrs.get("keep_dims")))


@rule("ArgMax", "ArgMin")
def arg_reduce(node: Node) -> Shape:
    return _reduced(node.shapes[0], node.value(1), False)


@rule("Squeeze")
def squeeze(node: Node) -> Shape:
    x = node.shapes[0]
    if x is None:
        return None
    dims = {axis(d, len(x)) for d in node.attrs.get("squeeze_dims") or []}
    if dims:
        return tuple(d for i, d in enumerate(x) if i not in dims)
    return None if None in x else tuple(d for d in x if d != 1)


@rule("ExpandDims")
def expand_dims(node: Node) -> Shape:
    x, dim = node.shapes[0], scalar(node.value(1))
    if x is None or dim is None:
        return None
    out = list(x)
    out.insert(dim if dim >= 0 else len(out) + dim + 1, 1)
    return tuple(out)


@rule("Shape")
def shape(node: Node) -> Shape:
    x = node.shapes[0]
    return (len(x),) if x is not None else (None,)


@rule("ShapeN")
def shape_n(node: Node) -> list[Shape]:
    return [(len(x),) if x is not None else (None,) for x in node.shapes[:node.n_out]]


@rule("Size", "Rank")
def scalar_of(node: Node) -> Shape:
    return ()


@rule("Pack")
def pack(node: Node) -> Shape:
    known = next((x for x in node.shapes if x is not None), None)
    if known is None:
        return None
    out = list(known)
    out.insert(axis(node.attrs.get("axis", 0), len(known) + 1), len(node.ins))
    return tuple(out)


@rule("Unpack")
def unpack(node: Node) -> list[Shape] | None:
    x = node.shapes[0]
    if x is None:
        return None
    a = axis(node.attrs.get("axis", 0), len(x))
    return [tuple(d for i, d in enumerate(x) if i != a)] * node.n_out


@rule("Split")
def split(node: Node) -> list[Shape] | None:
    a, x = node.value(0), node.shapes[1]
    n = node.attrs.get("num_split") or 1
    if x is None:
        return None
    if a is None:
        return [unknown_dims(x)] * node.n_out
    a = axis(int(a), len(x))
    out = list(x)
    dim = x[a]
    out[a] = None if dim is None else dim // n
    return [tuple(out)] * node.n_out


@rule("SplitV")
def split_v(node: Node) -> list[Shape] | None:
    """Each output is the input with the split axis resized (one size may be -1: the remainder)."""
    x, sizes, a = node.shapes[0], node.value(1), node.value(2)
    if x is None:
        return None
    if a is None or sizes is None or len(sizes) != (node.attrs.get("num_split") or 1):
        return [unknown_dims(x)] * node.n_out
    a = axis(int(a), len(x))
    sizes = [int(s) for s in sizes]
    if -1 in sizes:
        known = sum(s for s in sizes if s != -1)
        sizes = [(None if x[a] is None else x[a] - known) if s == -1 else s for s in sizes]
    return [(*x[:a], size, *x[a + 1:]) for size in sizes]


@rule("Tile")
def tile(node: Node) -> Shape:
    x, mult = node.shapes[0], node.value(1)
    if x is None or mult is None:
        return unknown_dims(x)
    return tuple(None if d is None else d * m for d, m in zip(x, mult))


@rule("Fill", "Conv2DBackpropInput", "Conv3DBackpropInputV2")
def shape_from_first_operand(node: Node) -> Shape:
    """The output shape is the first operand (Fill's dims; a transposed conv's output size)."""
    return shape_operand(node, 0)


@rule("BroadcastTo")
def broadcast_to(node: Node) -> Shape:
    return shape_operand(node, 1)


@rule("ScatterNd")
def scatter_nd(node: Node) -> Shape:
    return shape_operand(node, 2)


@rule("GatherV2", "Gather")
def gather(node: Node) -> Shape:
    """Params' dims before ``axis``, then the indices' dims (after ``batch_dims``), then the rest."""
    params, indices = node.shapes[0], node.shapes[1]
    a = node.value(2) if node.op == "GatherV2" else 0
    if params is None or indices is None or a is None:
        return None
    a = axis(int(a), len(params))
    batch_dims = axis(node.attrs.get("batch_dims") or 0, len(indices))
    return (*params[:a], *indices[batch_dims:], *params[a + 1:])


@rule("GatherNd")
def gather_nd(node: Node) -> Shape:
    params, indices = node.shapes[0], node.shapes[1]
    if params is None or not indices or indices[-1] is None:
        return None
    return (*indices[:-1], *params[indices[-1]:])


@rule("TopKV2")
def top_k(node: Node) -> list[Shape] | None:
    x, k = node.shapes[0], scalar(node.value(1))
    if not x:
        return None
    out = (*x[:-1], k)
    return [out, out]


@rule("Range")
def range_(node: Node) -> Shape:
    start, limit, delta = node.value(0), node.value(1), node.value(2)
    if any(v is None or isinstance(v, list) for v in (start, limit, delta)) or not delta:
        return (None,)
    if all(isinstance(v, int) for v in (start, limit, delta)):
        return (max(0, -(-abs(limit - start) // abs(delta))) if (limit - start) * delta > 0 else 0,)
    size = (limit - start) / delta
    return (max(0, int(-(-size // 1))),)


@rule("LinSpace")
def lin_space(node: Node) -> Shape:
    return (scalar(node.value(2)),)


@rule("OneHot")
def one_hot(node: Node) -> Shape:
    indices = node.shapes[0]
    if indices is None:
        return None
    out = list(indices)
    a = node.attrs.get("axis", -1)
    out.insert(len(out) if a == -1 else a, scalar(node.value(1)))
    return tuple(out)


@rule("Where")
def where(node: Node) -> Shape:
    """The coordinates of the true elements: one row each, as many as only the data tells."""
    x = node.shapes[0]
    return (None, None if x is None else len(x))


@rule("Einsum")
def einsum(node: Node) -> Shape:
    """Each output label takes its size from the inputs; ``...`` is the broadcast of the inputs' ellipses."""
    equation = node.attrs.get("equation")
    if not isinstance(equation, str) or "->" not in equation:
        return None
    lhs, out = equation.replace(" ", "").split("->")
    terms = lhs.split(",")
    if len(terms) != len(node.shapes):
        return None
    sizes: dict[str, int | None] = {}
    ellipsis: Shape = ()
    for term, x in zip(terms, node.shapes):
        ellipsis = _einsum_term(term, x, sizes, ellipsis)
    return _einsum_output(out, sizes, ellipsis)


def _einsum_term(term: str, x: Shape, sizes: dict[str, int | None], ellipsis: Shape) -> Shape:
    """Record the sizes ``x`` gives the labels of ``term``; the broadcast ellipsis so far."""
    pre, dots, post = term.partition("...")
    if x is None:
        for label in pre + post:
            sizes.setdefault(label, None)
        return None if dots else ellipsis
    n = len(x) - len(pre) - len(post)
    if n < 0 or (n and not dots):
        raise ValueError("rank does not match the equation")
    for label, d in zip(pre + post, x[:len(pre)] + x[len(x) - len(post):]):
        if sizes.get(label) is None:
            sizes[label] = d
    return broadcast(ellipsis, x[len(pre):len(pre) + n]) if dots else ellipsis


def _einsum_output(out: str, sizes: dict[str, int | None], ellipsis: Shape) -> Shape:
    pre, dots, post = out.partition("...")
    middle: tuple[int | None, ...] = ()
    if dots:
        if ellipsis is None:
            return None
        middle = ellipsis
    dims = (*(sizes.get(c) for c in pre), *middle, *(sizes.get(c) for c in post))
    return dims if len(dims) <= MAX_RANK else None
