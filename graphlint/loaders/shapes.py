"""Static shape propagation for GraphDef tensors that the file gives no ``_output_shapes`` for.

Shapes start at the Placeholders (or the user's ``--input name:shape``) and flow through the common ops.
A dim that cannot be derived stays ``None``; a rank that cannot be derived stays unknown. Nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from graphlint.ir import Adjacency, Shape, TensorInfo

_SMALL_CONST = 4096  # bytes: only constants this small (shape operands) are read during inference

_SAME_AS_INPUT = frozenset({
    "Identity", "StopGradient", "Snapshot", "PreventGradient", "CheckNumerics", "Relu", "Relu6", "Elu", "Selu",
    "LeakyRelu", "Sigmoid", "Tanh", "Neg", "Abs", "Square", "Sqrt", "Rsqrt", "Exp", "Log", "Softmax", "LogSoftmax",
    "Softplus", "Softsign", "Cast", "FakeQuantWithMinMaxVars", "FakeQuantWithMinMaxArgs",
    "FakeQuantWithMinMaxVarsPerChannel", "BiasAdd", "BiasAddV1", "Floor", "Ceil", "Round", "Sin", "Cos", "Erf",
    "Sign", "Reciprocal", "Inv", "ZerosLike", "OnesLike", "ClipByValue", "LRN", "AddN", "Log1p", "Expm1",
    "IsFinite", "LogicalNot", "Relu1",
    "Cumsum", "ReverseV2", "PlaceholderWithDefault", "EnsureShape", "Dequantize", "QuantizeV2", "Enter", "Exit",
    "NextIteration", "Switch", "RandomShuffle",
})
_BROADCAST = frozenset({
    "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "Maximum", "Minimum", "Pow", "SquaredDifference",
    "FloorDiv", "FloorMod", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
    "LogicalOr", "SelectV2", "Atan2", "TruncateDiv", "BiasAddGrad",
})
_REDUCE = frozenset({"Mean", "Sum", "Max", "Min", "Prod", "Any", "All", "EuclideanNorm"})


def infer_shapes(nodes: dict[str, dict], succ: Adjacency, tensors: dict[str, TensorInfo],
                 user_shapes: Mapping[str, Shape], inputs: tuple[str, ...],
                 const_value: Callable[[TensorInfo], object] | None = None) -> None:
    """Fill unknown output shapes of main-graph nodes in topological order (in place).

    ``const_value`` reads a small constant as plain Python (a scalar or nested lists, as ``ndarray.tolist``
    gives), or returns None.
    """
    for name, shape in user_shapes.items():
        tid = name if name.rpartition(":")[2].isdigit() and ":" in name else f"{name}:0"
        if tid in tensors:
            tensors[tid].shape = shape
            tensors[tid].shape_source = "user"
    consts = _Consts(const_value)
    for node_id in _topological(nodes, succ, tensors):
        attrs = nodes[node_id]
        if attrs["kind"] == "output" or attrs["subgraph"] != "main":
            continue
        outs = [tensors[t] for t in attrs["outputs"]]
        if not [t for t in outs if t.shape_source != "user" and (t.shape_source != "file" or not _complete(t.shape))]:
            continue  # every output has a shape the user gave or the file recorded in full
        if attrs["op"] in ("Placeholder", "PlaceholderV2"):
            shape = attrs["attrs"].get("shape")
            if outs[0].shape_source != "file" and (shape is not None or "shape" in attrs["attrs"]):
                outs[0].shape, outs[0].shape_source = shape, "placeholder"
            continue
        ins = [tensors[t] for t in attrs["inputs"]]
        try:
            result = _infer(attrs["op"], attrs["attrs"], ins, consts, len(outs))
        except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError):
            result = None
        if result is None:
            continue
        if not isinstance(result, list):
            result = [result]
        for tensor, shape in zip(outs, result):
            if shape is _UNKNOWN or tensor.shape_source == "user":
                continue
            if tensor.shape_source == "file":
                # A recorded shape is kept; only its unknown dims are filled (e.g. after ``--input x:1,...``).
                shape = _refine(tensor.shape, shape)
                if shape == tensor.shape:
                    continue
            tensor.shape, tensor.shape_source = shape, "inferred"


_UNKNOWN = object()


def _complete(shape: Shape) -> bool:
    return shape is not None and None not in shape


def _refine(recorded: Shape, inferred: Shape) -> Shape:
    """``recorded`` with its unknown dims (or unknown rank) taken from ``inferred``; known dims never change."""
    if recorded is None:
        return inferred
    if inferred is None or len(inferred) != len(recorded):
        return recorded
    return tuple(r if r is not None else i for r, i in zip(recorded, inferred))


class _Consts:
    """Reads small constant operands (shape vectors, axes) during inference."""

    def __init__(self, reader) -> None:
        self.reader = reader

    def __call__(self, tensor: TensorInfo | None):
        if tensor is None or not tensor.is_const or self.reader is None:
            return None
        if tensor.nbytes is None or tensor.nbytes > _SMALL_CONST:
            return None
        return self.reader(tensor)


def _topological(nodes: dict[str, dict], adj: Adjacency, tensors: dict[str, TensorInfo]) -> list[str]:
    """An order over data edges: file order when it is one (frozen graphs are usually written that way),
    else Kahn's order, with nodes on cycles (v1 while loops) following in file order."""
    seen: set[str] = set()
    for node_id, attrs in nodes.items():
        for tid in attrs["inputs"]:
            producer = tensors[tid].producer
            if producer is not None and producer not in seen:
                return _kahn(nodes, adj)
        seen.add(node_id)
    return list(nodes)


def _kahn(nodes: dict[str, dict], adj: Adjacency) -> list[str]:
    indeg = dict.fromkeys(nodes, 0)
    for successors in adj.values():
        for v, edges in successors.items():
            for d in edges.values():
                if not d.get("control"):
                    indeg[v] += 1
    ready = [n for n in nodes if indeg[n] == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for v, edges in adj[n].items():
            for d in edges.values():
                if not d.get("control"):
                    indeg[v] -= 1
                    if indeg[v] == 0:
                        ready.append(v)
    if len(order) < len(indeg):
        seen = set(order)
        order.extend(n for n in nodes if n not in seen)
    return order


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


def _conv_dim(size, k, stride, dilation, padding, pads=(0, 0)):
    if size is None or k is None:
        return None
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        return -(-size // stride)
    if padding == "EXPLICIT":
        return (size + pads[0] + pads[1] - eff) // stride + 1
    return (size - eff) // stride + 1


def _spatial(attrs, shape: Shape, kernel: tuple, out_channels) -> Shape:
    """Output shape of a 2-D window op (conv or pool) for NHWC or NCHW."""
    if shape is None or len(shape) != 4:
        return None
    nchw = attrs.get("data_format") == "NCHW"
    h_i, w_i, c_i = (2, 3, 1) if nchw else (1, 2, 3)
    strides = attrs.get("strides") or [1, 1, 1, 1]
    dil = attrs.get("dilations") or [1, 1, 1, 1]
    padding = attrs.get("padding", "VALID")
    explicit = attrs.get("explicit_paddings") or [0] * 8
    h = _conv_dim(shape[h_i], kernel[0], strides[h_i], dil[h_i], padding, explicit[2 * h_i:2 * h_i + 2])
    w = _conv_dim(shape[w_i], kernel[1], strides[w_i], dil[w_i], padding, explicit[2 * w_i:2 * w_i + 2])
    c = shape[c_i] if out_channels is _UNKNOWN else out_channels
    return (shape[0], c, h, w) if nchw else (shape[0], h, w, c)


def _axis(a, rank):
    return a + rank if a < 0 else a


def _infer(op: str, attrs: dict, ins: list[TensorInfo], const, n_out: int):
    """The output shape of a node (a list, one per output, for ops with several; ``n_out`` is how many outputs the
    loader gave the node, bounded, so an attr that claims a billion outputs never sizes a list here)."""
    s = [t.shape for t in ins]
    if op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"):
        # y is shaped like x; batch mean/variance and the reserve spaces are per-channel vectors, except
        # V3's reserve_space_3, whose shape TensorFlow leaves unknown.
        x = s[0]
        channels = x[1 if str(attrs.get("data_format", "NHWC")).startswith("NC") else -1] if x else None
        if channels is None and s[1] is not None and len(s[1]) == 1:
            channels = s[1][0]
        return [x, *[(channels,)] * 4, _UNKNOWN]
    if op == "Merge":
        return [s[0], ()]
    if op == "IdentityN":  # e.g. the custom gradient of Keras' swish: output i is input i
        return list(s)
    if op in ("While", "StatelessWhile", "If", "StatelessIf") and attrs.get("output_shapes"):
        return list(attrs["output_shapes"])  # recorded by TensorFlow from the function bodies
    if op in _SAME_AS_INPUT:
        return [s[0]] * (2 if op == "Switch" else 1)
    if op in _BROADCAST:
        out = s[0]
        for other in s[1:]:
            out = broadcast(out, other)
        return out
    if op == "Select":
        return s[1]
    if op in ("VariableV2", "Variable", "PlaceholderV2"):
        return attrs.get("shape")
    if op in ("Conv2D", "DepthwiseConv2dNative"):
        f = s[1]
        if f is None or len(f) != 4:
            return _spatial(attrs, s[0], (None, None), None) if s[0] is not None else None
        oc = f[3] if op == "Conv2D" else (f[2] * f[3] if f[2] is not None and f[3] is not None else None)
        return _spatial(attrs, s[0], (f[0], f[1]), oc)
    if op in ("MaxPool", "AvgPool"):
        k = attrs.get("ksize") or [1, 1, 1, 1]
        nchw = attrs.get("data_format") == "NCHW"
        return _spatial(attrs, s[0], (k[2], k[3]) if nchw else (k[1], k[2]), _UNKNOWN)
    if op == "MatMul":
        a, b = s[0], s[1]
        if a is None or b is None or len(a) != 2 or len(b) != 2:
            return None
        m = a[1] if attrs.get("transpose_a") else a[0]
        n = b[0] if attrs.get("transpose_b") else b[1]
        return (m, n)
    if op in ("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        a, b = s[0], s[1]
        if a is None or b is None or len(a) < 2 or len(b) < 2:
            return None
        batch = broadcast(a[:-2], b[:-2])
        m = a[-1] if attrs.get("adj_x") else a[-2]
        n = b[-2] if attrs.get("adj_y") else b[-1]
        return (*batch, m, n)
    if op == "Reshape":
        target = const(ins[1])
        if target is None:
            return _dims_of_operand(ins[1])
        target = [int(x) for x in target]
        if -1 in target:
            known = s[0] is not None and None not in s[0]
            rest = 1
            for d in target:
                if d != -1:
                    rest *= d
            total = 1
            for d in s[0] or ():
                total *= d or 1
            fill = total // rest if known and rest else None
            return tuple(fill if d == -1 else d for d in target)
        return tuple(target)
    if op == "Transpose":
        perm = const(ins[1])
        if s[0] is None:
            return None
        if perm is None:
            return (None,) * len(s[0])
        return tuple(s[0][p] for p in perm)
    if op in ("ConcatV2", "Concat"):
        parts, axis_t = (ins[:-1], ins[-1]) if op == "ConcatV2" else (ins[1:], ins[0])
        axis = const(axis_t)
        shapes = [t.shape for t in parts]
        known = [x for x in shapes if x is not None]
        if not known:
            return None
        rank = len(known[0])
        if axis is None:
            return (None,) * rank
        axis = _axis(int(axis), rank)
        out = list(known[0])
        for i in range(rank):
            if i == axis:
                dims = [x[i] if x is not None else None for x in shapes]
                out[i] = None if None in dims else sum(dims)
            else:
                out[i] = next((x[i] for x in known if x[i] is not None), None)
        return tuple(out)
    if op in ("Pad", "PadV2", "MirrorPad"):
        pads = const(ins[1])
        if s[0] is None:
            return None
        if pads is None:
            return (None,) * len(s[0])
        return tuple(None if d is None else d + p[0] + p[1] for d, p in zip(s[0], pads))
    if op in _REDUCE or op in ("ArgMax", "ArgMin"):
        axes = const(ins[1])
        if s[0] is None:
            return None
        rank = len(s[0])
        keep = bool(attrs.get("keep_dims")) and op not in ("ArgMax", "ArgMin")
        if axes is None:
            return (None,) * rank if keep else None
        axes = {_axis(int(a), rank) for a in (axes if isinstance(axes, list) else [axes])}
        return tuple(1 if i in axes else d for i, d in enumerate(s[0]) if keep or i not in axes)
    if op in ("ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea"):
        size = const(ins[1])
        if s[0] is None or len(s[0]) != 4:
            return None
        size = size or [None, None]
        return (s[0][0], size[0], size[1], s[0][3])
    if op == "Squeeze":
        if s[0] is None:
            return None
        dims = {_axis(d, len(s[0])) for d in attrs.get("squeeze_dims") or []}
        if not dims:
            if None in s[0]:
                return None
            return tuple(d for d in s[0] if d != 1)
        return tuple(d for i, d in enumerate(s[0]) if i not in dims)
    if op == "ExpandDims":
        dim = const(ins[1])
        if s[0] is None or dim is None:
            return None
        dim = int(dim[0] if isinstance(dim, list) else dim)
        out = list(s[0])
        out.insert(dim if dim >= 0 else len(out) + dim + 1, 1)
        return tuple(out)
    if op == "Shape":
        return (len(s[0]),) if s[0] is not None else (None,)
    if op in ("Size", "Rank"):
        return ()
    if op == "Pack":
        known = next((x for x in s if x is not None), None)
        if known is None:
            return None
        axis = _axis(attrs.get("axis", 0), len(known) + 1)
        out = list(known)
        out.insert(axis, len(ins))
        return tuple(out)
    if op == "Unpack":
        if s[0] is None:
            return None
        axis = _axis(attrs.get("axis", 0), len(s[0]))
        shape = tuple(d for i, d in enumerate(s[0]) if i != axis)
        return [shape] * n_out
    if op == "Split":
        axis, shape = const(ins[0]), s[1]
        n = attrs.get("num_split") or 1
        if shape is None:
            return None
        if axis is None:
            return [(None,) * len(shape)] * n_out
        axis = _axis(int(axis), len(shape))
        out = list(shape)
        out[axis] = None if shape[axis] is None else shape[axis] // n
        return [tuple(out)] * n_out
    if op == "StridedSlice":
        return _strided_slice(attrs, s[0], const(ins[1]), const(ins[2]),
                              const(ins[3]) if len(ins) > 3 else None)
    if op == "Slice":
        begin, size = const(ins[1]), const(ins[2])
        if s[0] is None:
            return None
        if size is None:
            return (None,) * len(s[0])
        return tuple((d - b if d is not None and begin is not None else None) if n == -1 else n
                     for d, b, n in zip(s[0], begin or [None] * len(s[0]), size))
    if op == "Tile":
        mult = const(ins[1])
        if s[0] is None:
            return None
        if mult is None:
            return (None,) * len(s[0])
        return tuple(None if d is None else d * m for d, m in zip(s[0], mult))
    if op == "Fill":
        dims = const(ins[0])
        if dims is None:
            return _dims_of_operand(ins[0])
        return tuple(dims)
    if op in ("GatherV2", "Gather"):
        return _gather(attrs, s[0], s[1], const(ins[2]) if op == "GatherV2" and len(ins) > 2 else 0)
    if op == "SplitV":
        return _split_v(s[0], const(ins[1]), const(ins[2]), attrs.get("num_split") or 1, n_out)
    if op == "TopKV2":
        k = const(ins[1])
        if s[0] is None or not s[0]:
            return None
        out = (*s[0][:-1], None if k is None else int(k))
        return [out, out]
    if op == "Conv2DBackpropInput":  # a transposed conv: its output shape is its first operand
        sizes = const(ins[0])
        return tuple(int(d) for d in sizes) if sizes is not None else _dims_of_operand(ins[0])
    if op in ("SpaceToBatchND", "BatchToSpaceND"):
        return _space_batch(op, s[0], const(ins[1]), const(ins[2]))
    if op in ("DepthToSpace", "SpaceToDepth"):
        x, b = s[0], attrs.get("block_size") or 1
        if x is None or len(x) != 4 or attrs.get("data_format", "NHWC") != "NHWC":
            return None
        n, h, w, c = x
        if op == "DepthToSpace":
            return (n, h and h * b, w and w * b, c and c // (b * b))
        return (n, h and h // b, w and w // b, c and c * b * b)
    return None


_MAX_RANK = 254  # the most dims a TensorFlow tensor has (TensorShape::MaxDimensions)


def _dims_of_operand(operand: TensorInfo) -> Shape:
    """Unknown dims, as many as a 1-D shape operand (Reshape's shape, Fill's dims ...) holds values: the rank it
    gives the output. Unknown when its length is, or when it is beyond any real rank (a hostile file)."""
    shape = operand.shape
    if shape is None or len(shape) != 1 or shape[0] is None or shape[0] > _MAX_RANK:
        return None
    return (None,) * shape[0]


def _gather(attrs, params: Shape, indices: Shape, axis) -> Shape:
    """GatherV2: params' dims before ``axis``, then the indices' dims (after ``batch_dims``), then the rest."""
    if params is None or indices is None or axis is None:
        return None
    axis = _axis(int(axis), len(params))
    batch_dims = _axis(attrs.get("batch_dims") or 0, len(indices))
    return (*params[:axis], *indices[batch_dims:], *params[axis + 1:])


def _split_v(shape: Shape, sizes, axis, n: int, n_out: int):
    """SplitV into ``n`` parts: each output is the input with the split axis resized (one size may be -1: the
    remainder)."""
    if shape is None:
        return None
    if axis is None or sizes is None or len(sizes) != n:
        return [(None,) * len(shape)] * n_out
    axis = _axis(int(axis), len(shape))
    sizes = [int(x) for x in sizes]
    if -1 in sizes:
        known = sum(x for x in sizes if x != -1)
        sizes = [(None if shape[axis] is None else shape[axis] - known) if x == -1 else x for x in sizes]
    return [(*shape[:axis], size, *shape[axis + 1:]) for size in sizes]


def _space_batch(op: str, shape: Shape, block, pads) -> Shape:
    """SpaceToBatchND / BatchToSpaceND (dilated convolutions are written with them): the rank never changes."""
    if shape is None:
        return None
    if block is None or pads is None or len(block) + 1 > len(shape):
        return (None,) * len(shape)
    block = [int(b) for b in block]
    out = list(shape)
    size = 1
    for b in block:
        size *= b
    for i, (b, (start, end)) in enumerate(zip(block, pads), start=1):
        d = shape[i]
        if d is not None:
            out[i] = (d + start + end) // b if op == "SpaceToBatchND" else d * b - start - end
    if shape[0] is not None:
        out[0] = shape[0] * size if op == "SpaceToBatchND" else shape[0] // size
    return tuple(out)


def _strided_slice(attrs, shape, begin, end, strides):
    """Basic StridedSlice: const begin/end/strides, begin/end/shrink masks; no ellipsis or new axes."""
    if shape is None or begin is None or end is None:
        return None
    if attrs.get("ellipsis_mask") or attrs.get("new_axis_mask"):
        return None
    strides = strides or [1] * len(begin)
    bm, em, sm = attrs.get("begin_mask", 0), attrs.get("end_mask", 0), attrs.get("shrink_axis_mask", 0)
    out = []
    for i, d in enumerate(shape):
        if i >= len(begin):
            out.append(d)
            continue
        if sm >> i & 1:
            continue
        if d is None:
            out.append(None)
            continue
        st = strides[i]
        b = (0 if st > 0 else d - 1) if bm >> i & 1 else begin[i]
        e = (d if st > 0 else -d - 1) if em >> i & 1 else end[i]
        out.append(len(range(d)[slice(b, e, st)]))
    return tuple(out)
