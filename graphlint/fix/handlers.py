"""One handler per edit kind of :data:`graphlint.engine.edits.KINDS`: each rewrites the GraphDef protobuf.

A handler checks everything it needs first and raises :class:`FixError` (the edit is skipped, the graph is
unchanged) when the edit does not fit the graph; then it changes the graph and returns one line saying what it
did. Model outputs keep their names: when the node that produces an output goes away, the node that takes its
place is renamed to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from graphlint.engine.edits import KINDS, Edit
from graphlint.ops import is_fake_quant

from .graph import Array, AttrInput, FixError, Graph, canonical, node_of, short

if TYPE_CHECKING:
    from graphlint.loaders.graphdef_schema import Message

_BATCHNORM = ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")
_PLACEHOLDERS = ("Placeholder", "PlaceholderV2", "PlaceholderWithDefault")
_FOLD_INTO = ("Conv2D", "DepthwiseConv2dNative", "MatMul")


@dataclasses.dataclass
class Context:
    """What handlers know about the model beyond the graph."""

    inputs: tuple[str, ...]  # input node names the caller named (kept by prune); placeholders are never dropped
    outputs: tuple[str, ...]  # output tensor names (``name:k``)
    ranges: Mapping[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # measured, by tensor

    @property
    def output_nodes(self) -> set[str]:
        """Nodes whose output is a model output."""
        return {node_of(t) for t in self.outputs}

    @property
    def protected(self) -> set[str]:
        """Nodes no cleanup may remove."""
        return self.output_nodes | set(self.inputs)


def _only_output0_read(g: Graph, name: str) -> None:
    for node in g.nodes():
        for inp in node.input:
            if not inp.startswith("^") and node_of(inp) == name and canonical(inp) != f"{name}:0":
                raise FixError(f"`{node.name}` reads `{short(canonical(inp))}`, an output other than the first")


def _replace(g: Graph, ctx: Context, name: str, src: str) -> None:
    """Remove node ``name``; its readers read tensor ``src`` instead. An output keeps its name.

    Checked by the caller: only output 0 of ``name`` is read.
    """
    src_node = node_of(src)
    if name in ctx.output_nodes:
        producer = g.node(src_node)
        if canonical(src) != f"{src_node}:0" or producer.op in _PLACEHOLDERS or src_node in ctx.protected:
            raise FixError(f"`{name}` is a model output and `{short(src)}` cannot take its name")
        g.remove([name])
        g.rename(src_node, name)
        return
    for node in g.nodes():
        for i, inp in enumerate(node.input):
            if inp == f"^{name}":
                node.input[i] = f"^{src_node}"
    g.rewire(f"{name}:0", src)
    g.remove([name])


def bypass(g: Graph, edit: Edit, ctx: Context) -> str:
    """Readers of the node's output 0 read its data input ``input`` (default 0); the node goes."""
    node = g.node(edit.node)
    data = g.data_inputs(node)
    slot = int(edit.param("input", 0))
    if slot >= len(data):
        raise FixError(f"`{node.name}` has no data input {slot}")
    if node.op == "Cast" and g.attr(node, "SrcT") != g.attr(node, "DstT"):
        raise FixError(f"`{node.name}` casts {g.attr(node, 'SrcT')} to {g.attr(node, 'DstT')}; only a no-op Cast "
                       "can be bypassed")
    _only_output0_read(g, node.name)
    src = data[slot]
    _replace(g, ctx, node.name, src)
    g.drop_dead([node_of(i) for i in data[:slot] + data[slot + 1:]], ctx.protected)
    return f"bypassed `{edit.node}` ({node.op})"


def prune(g: Graph, edit: Edit, ctx: Context) -> str:
    """Drop every node no output depends on (by data); control dependencies on dropped nodes go too."""
    keep: set[str] = set()
    stack = [node_of(t) for t in ctx.outputs]
    if not stack:
        raise FixError("the outputs are not known; name them with --output")
    for name in stack:
        if name not in g:
            raise FixError(f"output `{name}` is not in the graph")
    while stack:
        name = stack.pop()
        if name in keep or name not in g:
            continue
        keep.add(name)
        stack.extend(node_of(i) for i in g.node(name).input if not i.startswith("^"))
    keep |= {n for n in ctx.inputs if n in g}
    drop = [n.name for n in g.nodes() if n.name not in keep]
    if not drop:
        raise FixError("nothing to prune")
    g.remove(drop)
    return f"pruned {len(drop)} node(s) no output depends on: " + ", ".join(f"`{n}`" for n in drop[:8]) + \
        (" ..." if len(drop) > 8 else "")


def _dropout_input(g: Graph, name: str) -> str:
    """The tensor entering the dropout block that ends at ``name``: the first non-constant float input that
    comes from outside the block's name scope."""
    scope = name.rsplit("/", 1)[0] + "/" if "/" in name else name + "/"
    stack, seen = [name], set()
    while stack:
        current = stack.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for inp in g.data_inputs(g.node(current)):
            src = node_of(inp)
            if not src.startswith(scope) and g.node(src).op != "Const":
                return inp
            if src.startswith(scope):
                stack.append(src)
    raise FixError(f"cannot find the input of the dropout block ending at `{name}`; give it as `input`")


def remove_dropout(g: Graph, edit: Edit, ctx: Context) -> str:
    """Replace the dropout block ending at the node by its input tensor."""
    node = g.node(edit.node)
    src = edit.param("input") or _dropout_input(g, node.name)
    if node_of(src) not in g:
        raise FixError(f"`{src}` is not in the graph")
    _only_output0_read(g, node.name)
    inputs = [node_of(i) for i in node.input]
    _replace(g, ctx, node.name, src)
    removed = g.drop_dead(inputs, ctx.protected | {node_of(src)})
    return f"removed dropout `{edit.node}` ({len(removed) + 1} node(s)), reading `{short(src)}` directly"


def _batchnorm_params(g: Graph, node: Message) -> tuple[Array, Array, str]:
    data = g.data_inputs(node)
    if len(data) < 5:
        raise FixError(f"`{node.name}` has {len(data)} inputs; a batch norm has 5")
    values = [g.const_value(t) for t in data[1:5]]
    consts = [v for v in values if v is not None]
    if len(consts) < len(values):
        raise FixError(f"`{node.name}`: scale, offset, mean and variance must be constants")
    scale, offset, mean, var = (v.astype(np.float64).reshape(-1) for v in consts)
    eps = float(g.attr(node, "epsilon", 1e-4))
    if np.any(var + eps <= 0):
        raise FixError(f"`{node.name}` has a variance + epsilon that is not positive")
    a = scale / np.sqrt(var + eps)
    b = offset - mean * a
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise FixError(f"`{node.name}`: folding gives non-finite values")
    return a, b, g.attr(node, "data_format", "NHWC")


def _sole_reader(g: Graph, name: str, reader: str) -> bool:
    readers = g.readers(name)
    return len(readers) == 1 and readers[0].name == reader


def _scaled_weights(g: Graph, conv: Message, a: Array) -> tuple[str, Array]:
    """The weights of ``conv`` with output channel k multiplied by a[k], checked against the originals."""
    w_tensor = g.data_inputs(conv)[1]
    w = g.const_value(w_tensor)
    if w is None:
        raise FixError(f"the weights of `{conv.name}` are not a constant")
    w = w.astype(np.float64)
    if conv.op == "Conv2D":
        if w.shape[-1] != a.size:
            raise FixError(f"`{conv.name}` has {w.shape[-1]} output channels, the batch norm {a.size}")
        scale = a.reshape((1,) * (w.ndim - 1) + (-1,))
    elif conv.op == "DepthwiseConv2dNative":
        if w.shape[2] * w.shape[3] != a.size:
            raise FixError(f"`{conv.name}` has {w.shape[2] * w.shape[3]} output channels, the batch norm {a.size}")
        scale = a.reshape(1, 1, w.shape[2], w.shape[3])
    else:  # MatMul
        if g.attr(conv, "transpose_b", False):
            scale = a.reshape(-1, 1)
        else:
            scale = a.reshape(1, -1)
        if scale.size != (w.shape[0] if g.attr(conv, "transpose_b", False) else w.shape[1]):
            raise FixError(f"`{conv.name}` and its batch norm disagree on the number of channels")
    folded = (w * scale).astype(np.float32)
    # The numeric check of the fold: undoing the per-channel scale gives back the original weights.
    nonzero = np.broadcast_to(scale != 0, w.shape)
    back = np.where(nonzero, folded.astype(np.float64) / np.where(scale == 0, 1, scale), w)
    if not np.all(np.isfinite(folded)) or not np.allclose(back, w, rtol=1e-5, atol=1e-6):
        raise FixError(f"folding into `{conv.name}` is not exact in float32")
    return w_tensor, folded


def fold_batchnorm(g: Graph, edit: Edit, ctx: Context) -> str:
    """Fold an inference-mode batch norm into the preceding conv/matmul (through a BiasAdd), else Mul + Add."""
    node = g.node(edit.node)
    if node.op not in _BATCHNORM:
        raise FixError(f"`{node.name}` is a {node.op}, not a FusedBatchNorm")
    if g.attr(node, "is_training", True):
        raise FixError(f"`{node.name}` is in training mode (batch statistics); decompose it instead")
    _only_output0_read(g, node.name)
    a, b, fmt = _batchnorm_params(g, node)
    x = g.data_inputs(node)[0]
    producer = g.node(node_of(x))
    bias_add = None
    conv = None
    if producer.op == "BiasAdd" and _sole_reader(g, producer.name, node.name) and canonical(x).endswith(":0"):
        inner = g.node(node_of(g.data_inputs(producer)[0]))
        if inner.op in _FOLD_INTO and _sole_reader(g, inner.name, producer.name) \
                and g.const_value(g.data_inputs(producer)[1]) is not None:
            bias_add, conv = producer, inner
    elif producer.op in _FOLD_INTO and _sole_reader(g, producer.name, node.name):
        conv = producer
    dtype = g.attr(node, "T", "float32")
    if conv is not None and g.const_value(g.data_inputs(conv)[1]) is not None:
        w_tensor, folded = _scaled_weights(g, conv, a)
        new_w = g.const(f"{conv.name}/folded_weights", folded, "float32")
        conv.input[1] = new_w
        if bias_add is not None:
            bias = g.constant(g.data_inputs(bias_add)[1]).astype(np.float64).reshape(-1)
            old_bias = g.data_inputs(bias_add)[1]
            bias_add.input[1] = g.const(f"{bias_add.name}/folded_bias", (bias * a + b).astype(np.float32))
            _replace(g, ctx, node.name, bias_add.name)
            g.drop_dead([node_of(w_tensor), node_of(old_bias), *(node_of(i) for i in node.input)], ctx.protected)
            return f"folded batch norm `{edit.node}` into `{conv.name}` and `{bias_add.name}`"
        old_inputs = [node_of(i) for i in node.input[1:]]
        _retype(node, "BiasAdd", [x, g.const(f"{node.name}/folded_bias", b.astype(np.float32))],
                {"T": ("type", dtype), "data_format": fmt})
        g.drop_dead([node_of(w_tensor), *old_inputs], ctx.protected)
        return f"folded batch norm `{edit.node}` into `{conv.name}` (a BiasAdd carries the offset)"
    shape = (-1, 1, 1) if fmt == "NCHW" else (-1,)
    old_inputs = [node_of(i) for i in node.input[1:]]
    mul = g.add("Mul", f"{node.name}/scale", [x, g.const(f"{node.name}/scale/value", a.reshape(shape))], dtype=dtype)
    _retype(node, "AddV2", [mul.name, g.const(f"{node.name}/offset/value", b.reshape(shape))], {"T": ("type", dtype)})
    g.drop_dead(old_inputs, ctx.protected)
    return f"rewrote batch norm `{edit.node}` as one Mul and one Add with constants"


def _retype(node: Message, op: str, inputs: list[str], attrs: Mapping[str, AttrInput]) -> None:
    """Turn ``node`` in place into ``op`` with new data inputs (control inputs kept) and only ``attrs``."""
    from .graph import set_attr

    control = [i for i in node.input if i.startswith("^")]
    node.op = op
    del node.input[:]
    node.input.extend([*inputs, *control])
    node.attr.clear()
    for key, value in attrs.items():
        set_attr(node, key, value)


def decompose_batchnorm(g: Graph, edit: Edit, ctx: Context) -> str:
    """Rewrite a training-mode FusedBatchNorm with the batch statistics as Mean/Sub/Mul/Rsqrt ops."""
    node = g.node(edit.node)
    if node.op not in _BATCHNORM:
        raise FixError(f"`{node.name}` is a {node.op}, not a FusedBatchNorm")
    _only_output0_read(g, node.name)
    data = g.data_inputs(node)
    x, scale, offset = data[0], data[1], data[2]
    fmt = g.attr(node, "data_format", "NHWC")
    dtype = g.attr(node, "T", "float32")
    eps = float(g.attr(node, "epsilon", 1e-4))
    axes = [0, 2, 3] if fmt == "NCHW" else [0, 1, 2]
    base = node.name
    old_inputs = [node_of(i) for i in data[3:]]
    if fmt == "NCHW":
        gamma, beta = g.const_value(scale), g.const_value(offset)
        if gamma is None or beta is None:
            raise FixError(f"`{node.name}` (NCHW): scale and offset must be constants")
        scale = g.const(f"{base}/gamma", gamma.reshape(-1, 1, 1))
        offset = g.const(f"{base}/beta", beta.reshape(-1, 1, 1))
        old_inputs += [node_of(i) for i in data[1:3]]
    axes_c = g.const(f"{base}/axes", np.array(axes, np.int32), "int32")

    def add(op: str, suffix: str, inputs: list[str], **attrs: AttrInput) -> str:
        added: str = g.add(op, f"{base}/{suffix}", inputs, {"T": ("type", dtype), **attrs}).name
        return added

    mean = add("Mean", "mean", [x, axes_c], keep_dims=True, Tidx=("type", "int32"))
    centered = add("Sub", "centered", [x, mean])
    square = add("Mul", "square", [centered, centered])
    var = add("Mean", "variance", [square, axes_c], keep_dims=True, Tidx=("type", "int32"))
    var_eps = add("AddV2", "variance_eps", [var, g.const(f"{base}/epsilon", np.float32(eps))])
    inv = add("Rsqrt", "rsqrt", [var_eps])
    factor = add("Mul", "factor", [inv, scale])
    scaled = add("Mul", "scaled", [centered, factor])
    _retype(node, "AddV2", [scaled, offset], {"T": ("type", dtype)})
    g.drop_dead(old_inputs, ctx.protected)
    return f"decomposed training-mode batch norm `{edit.node}` into Mean/Sub/Mul/Rsqrt on the batch statistics"


def squared_difference(g: Graph, edit: Edit, ctx: Context) -> str:
    """SquaredDifference(a, b) → d = Sub(a, b); Mul(d, d)."""
    node = g.node(edit.node)
    if node.op != "SquaredDifference":
        raise FixError(f"`{node.name}` is a {node.op}, not a SquaredDifference")
    a, b = g.data_inputs(node)[:2]
    dtype = g.attr(node, "T", "float32")
    diff = g.add("Sub", f"{node.name}/diff", [a, b], dtype=dtype).name
    _retype(node, "Mul", [diff, diff], {"T": ("type", dtype)})
    return f"rewrote `{edit.node}` as Sub then Mul"


def neg_to_mul(g: Graph, edit: Edit, ctx: Context) -> str:
    """Neg(x) → Mul(x, -1)."""
    node = g.node(edit.node)
    if node.op != "Neg":
        raise FixError(f"`{node.name}` is a {node.op}, not a Neg")
    dtype = g.attr(node, "T", "float32")
    minus_one = g.const(f"{node.name}/minus_one", np.array(-1, dtype=dtype), dtype)
    _retype(node, "Mul", [g.data_inputs(node)[0], minus_one], {"T": ("type", dtype)})
    return f"rewrote `{edit.node}` as Mul by -1"


def set_input_shape(g: Graph, edit: Edit, ctx: Context) -> str:
    """Give a placeholder a fixed shape; stale ``_output_shapes`` hints are dropped from every node."""
    node = g.node(edit.node)
    if node.op not in _PLACEHOLDERS:
        raise FixError(f"`{node.name}` is a {node.op}, not a Placeholder")
    shape = edit.param("shape")
    if not isinstance(shape, (list, tuple)) or not all(isinstance(d, int) or d is None for d in shape):
        raise FixError(f"set-input-shape on `{node.name}` needs `shape`, a list of dims")
    proto = node.attr["shape"].shape
    proto.Clear()
    for dim in shape:
        proto.dim.add(size=-1 if dim is None or dim < 0 else int(dim))
    for other in g.nodes():
        if "_output_shapes" in other.attr:
            del other.attr["_output_shapes"]
    return f"set the shape of input `{edit.node}` to [{', '.join('?' if d is None else str(d) for d in shape)}]"


def add_fake_quant(g: Graph, edit: Edit, ctx: Context) -> str:
    """Insert FakeQuantWithMinMaxVars after the node's output, with the given or measured range."""
    node = g.node(edit.node)
    tensor = canonical(edit.param("tensor") or node.name)
    if is_fake_quant(node.op):
        raise FixError(f"`{node.name}` is already a FakeQuant")
    lo, hi = edit.param("min"), edit.param("max")
    if lo is None or hi is None:
        if tensor not in ctx.ranges:
            raise FixError(f"no range for `{short(tensor)}`: give min and max, or calibration data to measure it")
        lo, hi = ctx.ranges[tensor]
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)  # FakeQuant ranges must hold 0.0
    if hi <= lo:
        hi = lo + 1e-6
    readers = g.consumers(tensor)
    if any(is_fake_quant(r.op) for r, _ in readers):
        raise FixError(f"`{short(tensor)}` already goes through a FakeQuant")
    name = node.name
    bits, narrow = int(edit.param("num_bits", 8)), bool(edit.param("narrow_range", False))
    if tensor in ctx.outputs:  # the output keeps its name: the FakeQuant takes it, the producer is renamed
        if not tensor.endswith(":0"):
            raise FixError(f"`{short(tensor)}` is a model output that is not an output 0")
        float_name = g.unique(f"{name}/float")
        g.rename(name, float_name)
        fq = g.add("FakeQuantWithMinMaxVars", name, [float_name, g.const(f"{name}/fq_min", np.float32(lo)),
                                                     g.const(f"{name}/fq_max", np.float32(hi))],
                   {"num_bits": bits, "narrow_range": narrow})
        g.rewire(f"{float_name}:0", fq.name, skip={fq.name})
        return f"added FakeQuant [{lo:.4g}, {hi:.4g}] after output `{name}`"
    fq = g.add("FakeQuantWithMinMaxVars", f"{name}/fake_quant",
               [short(tensor), g.const(f"{name}/fq_min", np.float32(lo)), g.const(f"{name}/fq_max", np.float32(hi))],
               {"num_bits": bits, "narrow_range": narrow})
    g.rewire(tensor, fq.name, skip={fq.name})
    return f"added FakeQuant [{lo:.4g}, {hi:.4g}] after `{short(tensor)}`"


def drop_fake_quant(g: Graph, edit: Edit, ctx: Context) -> str:
    """Remove the FakeQuant node (or every FakeQuant node when no node is given)."""
    names = [edit.node] if edit.node else [n.name for n in g.nodes() if is_fake_quant(n.op)]
    if not names:
        raise FixError("the graph has no FakeQuant nodes")
    for name in names:
        node = g.node(name)
        if not is_fake_quant(node.op):
            raise FixError(f"`{name}` is a {node.op}, not a FakeQuant")
        _only_output0_read(g, name)
    for name in names:
        node = g.node(name)
        data = g.data_inputs(node)
        _replace(g, ctx, name, data[0])
        g.drop_dead([node_of(i) for i in data[1:]], ctx.protected)
    return f"removed {len(names)} FakeQuant node(s)"


HANDLERS: dict[str, Callable[[Graph, Edit, Context], str]] = {
    "bypass": bypass, "prune": prune, "remove-dropout": remove_dropout, "fold-batchnorm": fold_batchnorm,
    "decompose-batchnorm": decompose_batchnorm, "squared-difference": squared_difference, "neg-to-mul": neg_to_mul,
    "set-input-shape": set_input_shape, "add-fake-quant": add_fake_quant, "drop-fake-quant": drop_fake_quant,
}
assert set(HANDLERS) == set(KINDS), "every edit kind needs exactly one handler"
