"""Frozen GraphDef (binary ``.pb`` or text ``.pbtxt``) → :class:`~graphlint.ir.ModelGraph`.

Binary files are not parsed as one message. A scan of the top-level wire format (``_wire.py``) finds each
``NodeDef``'s byte range; each node is then parsed on its own, its facts are kept and the parsed message (with any
weights it holds) is dropped. Peak memory therefore stays near the size of the mapped file, and constant
values are re-read from their node's byte range only when a rule asks (:meth:`ModelGraph.value`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from graphlint import ops
from graphlint.ir import Adjacency, ModelGraph, ModelInfo, Shape, TensorInfo, add_edge

from . import LoadError, ModelBytes, check_memory, check_nodes
from . import graphdef_schema as pb
from ._nodes import Attrs, AttrValue, GraphDefNode, TensorSummary
from ._wire import Range, node_ranges, parse_node
from .shapes import infer_shapes
from .tensors import DTYPES, PlainValue, nbytes, proto_shape, tensor_list, tensor_value

if TYPE_CHECKING:
    import numpy.typing as npt

# Ops that produce no data outputs (only control), so they are never inferred as graph outputs.
_NO_OUTPUT = frozenset({
    "NoOp", "Assert", "SaveV2", "Save", "SaveSlices", "MergeV2Checkpoints", "AssignVariableOp",
    "AssignAddVariableOp", "AssignSubVariableOp", "Print", "PrintV2", "ResourceScatterUpdate",
})
# Ops whose dangling outputs are not model outputs when guessing outputs.
_NOT_OUTPUT = _NO_OUTPUT | {"Const", "Placeholder", "PlaceholderWithDefault", "VariableV2", "Variable",
                            "VarHandleOp", "RestoreV2", "Restore", "RestoreSlice", "Identity",
                            # v1 loop plumbing: a loop variable nobody reads after the loop is no output
                            "Exit", "RefExit", "NextIteration", "RefNextIteration", "LoopCond"}
_LOOP_PLUMBING = frozenset({"Enter", "RefEnter", "Exit", "RefExit", "Merge", "RefMerge", "Switch", "RefSwitch",
                            "NextIteration", "RefNextIteration", "LoopCond"})

# Output dtype attribute per op, for ops whose first output dtype is not attr "T" or "dtype".
_OUT_DTYPE_ATTR = {
    "Cast": "DstT", "Shape": "out_type", "ShapeN": "out_type", "Size": "out_type", "ArgMax": "output_type",
    "ArgMin": "output_type", "Range": "Tidx", "Bitcast": "type", "StringToNumber": "out_type",
    "Bucketize": None, "Unique": "T", "Dequantize": "dtype", "FakeQuantWithMinMaxVars": None,
    "Fill": "T", "RandomUniform": "dtype", "RandomStandardNormal": "dtype", "TruncatedNormal": "dtype",
    "TensorArrayReadV3": "dtype", "TensorArrayGatherV3": "dtype", "ReadVariableOp": "dtype",
    "VarHandleOp": None, "OneHot": "T", "Einsum": "T", "Multinomial": "output_dtype", "GatherV2": "Tparams",
    "Gather": "Tparams", "GatherNd": "Tparams", "FFT": "Tcomplex", "IFFT": "Tcomplex", "RFFT": "Tcomplex",
    "RFFT2D": "Tcomplex", "RFFT3D": "Tcomplex", "IRFFT": "Treal", "IRFFT2D": "Treal", "IRFFT3D": "Treal",
    "ComplexAbs": "Tout", "Real": "Tout", "Imag": "Tout", "Angle": "Tout", "TensorListGetItem": "element_dtype",
    "TensorListStack": "element_dtype",
}
_FIXED_DTYPE = {
    "Equal": "bool", "NotEqual": "bool", "Less": "bool", "LessEqual": "bool", "Greater": "bool",
    "GreaterEqual": "bool", "LogicalAnd": "bool", "LogicalOr": "bool", "LogicalNot": "bool", "IsFinite": "bool",
    "IsNan": "bool", "IsInf": "bool", "Any": "bool", "All": "bool", "LoopCond": "bool", "Where": "int64",
    "Rank": "int32", "VarHandleOp": "resource", "FakeQuantWithMinMaxVars": "float32",
    "FakeQuantWithMinMaxArgs": "float32", "FakeQuantWithMinMaxVarsPerChannel": "float32",
    "NonMaxSuppressionV3": "int32", "NonMaxSuppressionV4": "int32", "NonMaxSuppressionV5": "int32",
    "Bucketize": "int32", "DecodeWav": "float32", "AudioSpectrogram": "float32", "Mfcc": "float32",
    "TensorArrayV3": "resource", "TensorArraySizeV3": "int32", "ReadFile": "string",
    **dict.fromkeys(("HashTableV2", "MutableHashTableV2", "MutableHashTableOfTensorsV2", "MutableDenseHashTableV2"),
                    "resource"),
    **dict.fromkeys(("TensorListReserve", "EmptyTensorList", "TensorListFromTensor", "TensorListSetItem",
                     "TensorListPushBack"), "variant"), "TensorListLength": "int32",
}
# Extra outputs of multi-output ops: slot → dtype (attr name or fixed name prefixed with "=").
_EXTRA_OUTPUTS = {
    "TopKV2": {1: "=int32"}, "Unique": {1: "out_idx"}, "Switch": {1: "T"}, "Merge": {1: "=int32"},
    "FusedBatchNorm": dict.fromkeys(range(1, 5), "T"), "FusedBatchNormV2": dict.fromkeys(range(1, 5), "U"),
    "FusedBatchNormV3": dict.fromkeys(range(1, 6), "U"), "DecodeWav": {1: "=int32"},
    "TensorArrayV3": {1: "=float32"}, "NonMaxSuppressionV4": {1: "=int32"},
    "NonMaxSuppressionV5": {1: "T", 2: "=int32"}, "QuantizeV2": {1: "=float32", 2: "=float32"},
}
# Output arg names of multi-output ops, used to resolve ``node:arg:index`` inputs inside function bodies.
OUTPUT_ARGS = {
    "TopKV2": ("values", "indices"), "Unique": ("y", "idx"), "Switch": ("output_false", "output_true"),
    "Merge": ("output", "value_index"),
    "FusedBatchNormV3": ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2",
                         "reserve_space_3"),
    "FusedBatchNorm": ("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"),
}
# Function-calling ops whose outputs take their dtypes, slot by slot, from a list attr.
_LIST_DTYPE_ATTR = {"While": "T", "StatelessWhile": "T", "If": "Tout", "StatelessIf": "Tout",
                    "PartitionedCall": "Tout", "StatefulPartitionedCall": "Tout"}
_FUNC_SEP = "::"
_NODE_KINDS = {"Placeholder": "input", "PlaceholderV2": "input", "Const": "const"}
_MAX_OUTPUTS = 1 << 16  # output slots of one node; more is a corrupt or hostile file
_MEMORY_CHECK_EVERY = 4095  # the memory budget is checked once per 4096 nodes (a mask)
_TENSORS_PER_NODE = 16  # average output slots per node allowed on top of _MAX_OUTPUTS


def _list_value(value: pb.Message) -> list[AttrValue]:
    # The first non-empty kind of s, i, f, b, type, shape, func: ListFields gives only the non-empty ones,
    # in field-number order, which is that order (with tensor lists, which are skipped, before func).
    for field, container in value.list.ListFields():
        kind = field.name
        if kind != "tensor":
            # A slice is one call; iterating a protobuf container ends in an IndexError.
            items: list[AttrValue] = container[:]
            if kind == "s":
                return [x.decode("utf-8", "replace") for x in items]
            if kind == "type":
                return [DTYPES.get(x, str(x)) for x in items]
            if kind == "shape":
                return [proto_shape(x) for x in items]
            if kind == "func":
                return [{"func": x.name} for x in items]
            return items
    return []


# A decoder for each kind of the AttrValue ``value`` oneof (None: no kind is set).
_ATTR_DECODERS: Mapping[str | None, Callable[[pb.Message], AttrValue]] = {
    "list": _list_value,
    "s": lambda v: v.s.decode("utf-8", "replace"),
    "i": attrgetter("i"),
    "f": attrgetter("f"),
    "b": attrgetter("b"),
    "type": lambda v: DTYPES.get(v.type, str(v.type)),
    "shape": lambda v: proto_shape(v.shape),
    "tensor": lambda v: _tensor_summary(v.tensor),
    "placeholder": attrgetter("placeholder"),
    "func": lambda v: {"func": v.func.name},
    None: lambda v: None,
}


def _tensor_summary(tensor: pb.Message) -> TensorSummary:
    return {"dtype": DTYPES.get(tensor.dtype), "shape": proto_shape(tensor.tensor_shape)}


def _attr_value(value: pb.Message, which: str | None) -> AttrValue:
    """Decode an AttrValue whose ``value`` oneof is ``which`` into plain Python (tensors become a small summary,
    never their data)."""
    return _ATTR_DECODERS[which](value)


def _parse_text(data: ModelBytes) -> tuple[list[pb.Message], pb.Message, int]:
    from google.protobuf import text_format

    text = bytes(data).decode("utf-8", "replace")
    graph = pb.GraphDef()
    text_format.Parse(text, graph, allow_unknown_field=True, allow_unknown_extension=True)
    return list(graph.node), graph.library, graph.versions.producer


def _read_graph(data: ModelBytes, path: str, text: bool
                ) -> tuple[Iterable[pb.Message], int, pb.Message | None, int, list[Range] | None]:
    """The file's NodeDefs (a binary file's parsed one at a time, as they are iterated) and how many there are,
    its function library, its producer version and, for a binary file, each NodeDef's byte range."""
    try:
        if text:
            node_defs, library, producer = _parse_text(data)
            return node_defs, len(node_defs), library, producer, None
        ranges, lib_range, producer = node_ranges(data)
        view = memoryview(data)
        nodes = (parse_node(view, a, b) for a, b in ranges)
        library = pb.FunctionDefLibrary.FromString(view[lib_range[0]:lib_range[1]]) if lib_range else None
        return nodes, len(ranges), library, producer, ranges
    except LoadError as err:
        raise LoadError(f"{path}: not a valid GraphDef ({err})" if str(err) != "not a GraphDef"
                        else f"{path}: not a valid GraphDef", err.kind) from None


def load_graphdef(data: ModelBytes, path: str, digest: str, *, text: bool,
                  input_shapes: Mapping[str, Shape], inputs: Sequence[str] = (), outputs: Sequence[str] = (),
                  max_nodes: int | None = None) -> ModelGraph:
    """Build the IR of a frozen GraphDef held in ``data`` (bytes or an mmap).

    More than ``max_nodes`` NodeDefs (functions included) raise :class:`BudgetExceeded`; a binary file is
    refused from its top-level scan, before any node is parsed.
    """
    node_defs, count, library, producer, ranges = _read_graph(data, path, text)
    check_nodes(path, count, max_nodes)
    builder = _Builder(path)
    for i, node in enumerate(node_defs):
        if not i & _MEMORY_CHECK_EVERY:
            check_memory(path)
        builder.add_node(node, i)
    if builder.count == 0:
        raise LoadError(f"{path}: the GraphDef has no nodes", "empty")
    functions: list[str] = []
    if library is not None:
        check_nodes(path, builder.count + sum(len(f.node_def) for f in library.function), max_nodes)
        for fdef in library.function:
            functions.append(fdef.signature.name)
            builder.add_function(fdef)
    nodes, succ, tensors = builder.finish()
    for attrs in nodes.values():
        if attrs["op"] in functions:
            attrs["calls"] = sorted({*attrs["calls"], attrs["op"]})
    const_nodes = builder.const_index
    # A text graph is parsed whole, so its NodeDefs are at hand; a binary one's constants are parsed again from
    # their byte ranges when a value is asked for (their weights are never held).
    text_defs: Sequence[pb.Message] | None = node_defs if isinstance(node_defs, list) else None

    def const_node(tensor: TensorInfo) -> pb.Message | None:
        pos = const_nodes.get(tensor.producer)
        if pos is None:
            return None
        if ranges is not None:
            a, b = ranges[pos]
            return pb.NodeDef.FromString(memoryview(data)[a:b])
        return (text_defs if text_defs is not None else _parse_text(data)[0])[pos]

    def read_value(tensor: TensorInfo) -> npt.NDArray[Any] | None:
        node = const_node(tensor)
        return None if node is None else tensor_value(node.attr["value"].tensor)

    def read_operand(tensor: TensorInfo) -> PlainValue:
        node = const_node(tensor)
        return None if node is None else tensor_list(node.attr["value"].tensor)

    model_inputs, model_outputs, inferred = _io(nodes, tensors, inputs, outputs)
    infer_shapes(nodes, succ, tensors, input_shapes, model_inputs, read_operand)
    info = ModelInfo(path=path, format="graphdef", digest=digest, size_bytes=len(data), inputs=model_inputs,
                     outputs=model_outputs, outputs_inferred=inferred, producer=str(producer),
                     subgraphs=("main", *functions), text_format=text)
    _add_output_nodes(nodes, succ, tensors, model_outputs)
    # The IR types its node table loosely, as rules read it (see _nodes.py).
    return ModelGraph(cast("dict[str, dict[str, Any]]", nodes), succ, tensors, info, read_value)


class _Builder:
    """Accumulates nodes and tensors while NodeDefs stream in."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.nodes: dict[str, GraphDefNode] = {}
        self.succ: Adjacency = {}
        self.tensors: dict[str, TensorInfo] = {}
        self.pending: list[tuple[str, list[str], str]] = []  # (node id, raw inputs, subgraph)
        self.count = 0
        # Const node id → its position in the file. Looked up by a tensor's producer, which is None for a tensor
        # that nothing produces.
        self.const_index: dict[str | None, int] = {}
        self.max_slot: dict[str, int] = {}
        self.recorded_shapes: dict[str, AttrValue] = {}  # node id → its _output_shapes, when the file has them
        self.index = 0

    def add_node(self, node: pb.Message, file_pos: int, subgraph: str = "main", prefix: str = "") -> None:
        name = node.name
        node_id = prefix + name
        if node_id in self.nodes:
            raise LoadError(f"{self.path}: not a valid GraphDef (two nodes are named `{name}`)")
        op = node.op
        attrs: Attrs = {}
        output_shapes: AttrValue = None
        calls: set[str] = set()
        attr = node.attr
        for key in attr:  # keys and lookups: a third of the cost of the map's items()
            value = attr[key]
            if key[:1] == "_":
                if key == "_output_shapes":
                    output_shapes = _attr_value(value, value.WhichOneof("value"))
                if key != "_class":
                    continue
            which = value.WhichOneof("value")
            if which == "type":  # most attrs (T, dtype): decoded here, without a call
                attrs[key] = DTYPES.get(value.type) or str(value.type)
                continue
            decoded = attrs[key] = _attr_value(value, which)
            if which == "func":
                calls.add(decoded["func"])
            elif which == "list" and decoded and decoded[0].__class__ is dict:
                calls.update(f["func"] for f in decoded)
        if op == "Const" and not prefix:
            self.const_index[node_id] = file_pos
        if output_shapes is not None:
            self.recorded_shapes[node_id] = output_shapes
        self._add(node_id, _NODE_KINDS.get(op, "op"), op, ops.family(op, "graphdef"), name, attrs, subgraph,
                  node.device, sorted(calls) if calls else [])
        self.count += 1
        self.pending.append((node_id, node.input[:], subgraph))  # a slice: see _list_value

    def _add(self, node_id: str, kind: str, op: str, family: str, name: str, attrs: Attrs, subgraph: str,
             device: str, calls: list[str]) -> GraphDefNode:
        """Add a node (next in file order, inputs and outputs filled by :meth:`finish`) and return its dict."""
        node = self.nodes[node_id] = {"kind": kind, "op": op, "family": family, "name": name, "attrs": attrs,
                                      "subgraph": subgraph, "device": device, "custom": False, "calls": calls,
                                      "index": self.index, "inputs": [], "outputs": []}
        self.succ[node_id] = {}
        self.index += 1
        return node

    def add_function(self, fdef: pb.Message) -> None:
        fname = fdef.signature.name
        prefix = fname + _FUNC_SEP
        for arg in fdef.signature.input_arg:
            node_id = prefix + arg.name
            dtype = DTYPES.get(arg.type) if arg.type else None
            self._add(node_id, "input", "_Arg", "input", arg.name, {}, fname, "", [])["arg_dtype"] = dtype
        for node in fdef.node_def:
            self.add_node(node, -1, subgraph=fname, prefix=prefix)
        for out_arg in fdef.signature.output_arg:
            src = fdef.ret.get(out_arg.name)
            if src:
                node_id = prefix + "ret/" + out_arg.name
                self._add(node_id, "output", "_Retval", "output", out_arg.name, {}, fname, "", [])
                self.pending.append((node_id, [src], fname))

    def _resolve(self, raw: str, subgraph: str) -> tuple[str, int, bool]:
        """Turn an input string into (producer node id, slot, is_control)."""
        control = raw.startswith("^")
        if control:
            raw = raw[1:]
        prefix = "" if subgraph == "main" else subgraph + _FUNC_SEP
        parts = raw.split(":")
        if subgraph != "main" and len(parts) == 3:
            node, arg, idx = parts[0], parts[1], int(parts[2]) if parts[2].isdigit() else 0
            op = self.nodes[prefix + node]["op"] if prefix + node in self.nodes else ""
            names = OUTPUT_ARGS.get(op)
            slot = (names.index(arg) if names and arg in names else 0) + idx
            return prefix + node, slot, control
        if len(parts) >= 2 and parts[-1].isdigit():
            return prefix + ":".join(parts[:-1]), int(parts[-1]), control
        return prefix + raw, 0, control

    def finish(self) -> tuple[dict[str, GraphDefNode], Adjacency, dict[str, TensorInfo]]:
        resolved = self._resolve_inputs()
        self._make_tensors()
        self._connect(resolved)
        return self.nodes, self.succ, self.tensors

    def _resolve_inputs(self) -> list[tuple[str, list[tuple[str, int, bool]]]]:
        """Pass 1: each node's inputs as (producer, slot, is_control); how many outputs each node has (from
        ``_output_shapes`` and from what consumers read)."""
        max_slot = self.max_slot
        resolved: list[tuple[str, list[tuple[str, int, bool]]]] = []
        resolve = self._resolve
        for node_id, raw_inputs, subgraph in self.pending:
            edges: list[tuple[str, int, bool]] = []
            main = subgraph == "main"
            for raw in raw_inputs:
                if main and ":" not in raw and raw[:1] != "^":  # most inputs: output 0 of a main-graph node
                    src, src_slot, control = raw, 0, False
                else:
                    src, src_slot, control = resolve(raw, subgraph)
                edges.append((src, src_slot, control))
                if not control:
                    if src_slot >= _MAX_OUTPUTS:
                        raise LoadError(f"{self.path}: not a valid GraphDef (`{node_id}` reads output {src_slot} "
                                        f"of `{src}`)")
                    if src_slot > max_slot.get(src, -1):
                        max_slot[src] = src_slot
            resolved.append((node_id, edges))
        return resolved

    def _make_tensors(self) -> None:
        """Every output slot below the highest one read becomes a tensor: bound the total so that a small
        hostile file cannot ask for millions of them."""
        budget = _TENSORS_PER_NODE * len(self.nodes) + _MAX_OUTPUTS
        for i, (node_id, attrs) in enumerate(self.nodes.items()):
            if not i & _MEMORY_CHECK_EVERY:
                check_memory(self.path)
            if attrs["kind"] == "output":
                continue
            shapes = self.recorded_shapes.get(node_id)
            op = attrs["op"]
            count = max(len(shapes) if shapes is not None else 0, self.max_slot.get(node_id, -1) + 1,
                        _declared_outputs(attrs) if op in _COUNT_ATTR_OPS else 0, _MIN_OUTPUTS.get(op, 1))
            budget -= count
            if budget < 0:
                raise LoadError(f"{self.path}: not a valid GraphDef (its nodes declare too many outputs)")
            self._node_tensors(node_id, attrs, shapes, count)

    def _node_tensors(self, node_id: str, attrs: GraphDefNode, shapes: AttrValue, count: int) -> None:
        """Make a node's ``count`` output tensors (a Const's first one takes its value's shape and size)."""
        tensors = self.tensors
        outputs = attrs["outputs"]
        op = attrs["op"]
        name, subgraph, is_const = attrs["name"], attrs["subgraph"], op == "Const"
        # Split, SplitV, Unpack and ShapeN may declare 65,536 outputs of one dtype: look it up once.
        same_dtype = _output_dtype(attrs, 0) if op in _ONE_DTYPE_OPS else None
        for slot in range(count):
            tid = f"{node_id}:{slot}"
            recorded = shapes is not None and slot < len(shapes)
            dtype = same_dtype if same_dtype is not None else _output_dtype(attrs, slot)
            tensors[tid] = TensorInfo(tid, f"{name}:{slot}" if slot else name, dtype,
                                      shapes[slot] if recorded else None, node_id, is_const=is_const,
                                      subgraph=subgraph, shape_source="file" if recorded else "unknown")
            outputs.append(tid)
        if is_const and "value" in attrs["attrs"]:
            value = attrs["attrs"]["value"]
            tensor = tensors[outputs[0]]
            tensor.shape = value["shape"]
            tensor.shape_source = "file"
            tensor.nbytes = nbytes(value["dtype"], value["shape"])

    def _connect(self, resolved: list[tuple[str, list[tuple[str, int, bool]]]]) -> None:
        """Pass 2: edges."""
        nodes, succ, tensors = self.nodes, self.succ, self.tensors
        for node_id, edges in resolved:
            node_attrs = nodes[node_id]
            for slot, (src, src_slot, control) in enumerate(edges):
                if control:
                    if src in nodes:
                        add_edge(succ, src, node_id, f"^{src}#{slot}", None, -1, slot, True)
                    node_attrs.setdefault("missing_control", [])
                    if src not in nodes:
                        node_attrs["missing_control"].append(src)
                    continue
                producer = nodes.get(src)
                outs = producer["outputs"] if producer is not None else ()
                tid = outs[src_slot] if src_slot < len(outs) else f"{src}:{src_slot}"
                tensor = tensors.get(tid)
                if tensor is None:  # the producer does not exist in the graph
                    tensor = tensors[tid] = TensorInfo(id=tid, name=tid, dtype=None, shape=None,
                                                       producer=None, subgraph=node_attrs["subgraph"])
                tensor.consumers.append(node_id)
                node_attrs["inputs"].append(tid)
                if tensor.producer is not None:
                    add_edge(succ, src, node_id, f"{tid}#{slot}", tid, src_slot, slot, False)


# Ops whose output count is an attr, and the fewest outputs any other op has.
_COUNT_ATTR_OPS = frozenset({*_LIST_DTYPE_ATTR, "IdentityN", "Split", "SplitV", "Unpack", "ShapeN"})
_ONE_DTYPE_OPS = frozenset({"Split", "SplitV", "Unpack", "ShapeN"})  # every output has the dtype of the first
_MIN_OUTPUTS = {**dict.fromkeys(_NO_OUTPUT, 0), **{op: 1 + max(slots) for op, slots in _EXTRA_OUTPUTS.items()}}


def _declared_outputs(attrs: GraphDefNode) -> int:
    """Number of outputs of an op whose output count is an attr (0 when it is not)."""
    op, a = attrs["op"], attrs["attrs"]
    key = _LIST_DTYPE_ATTR.get(op) or ("T" if op == "IdentityN" else None)
    if key is not None:
        value = a.get(key)
        return len(value) if isinstance(value, list) else 0
    value = a.get({"Split": "num_split", "SplitV": "num_split", "Unpack": "num", "ShapeN": "N"}.get(op, ""))
    return min(value, _MAX_OUTPUTS) if isinstance(value, int) and value > 0 else 0


def _output_dtype(attrs: GraphDefNode, slot: int) -> AttrValue:
    """The dtype name of output ``slot``, or None when it is unknown. It is read from the attrs as the file gives
    them (a graph TensorFlow wrote has a dtype name there; only _first_dtype checks), so it is an attr value."""
    op, a = attrs["op"], attrs["attrs"]
    if not slot and op not in _SPECIAL_DTYPE_OPS:  # most ops
        return _first_dtype(a)
    if op == "_Arg":
        return attrs.get("arg_dtype")
    if op in _LIST_DTYPE_ATTR:  # one dtype per output slot
        types = a.get(_LIST_DTYPE_ATTR[op])
        return types[slot] if isinstance(types, list) and slot < len(types) else None
    if slot:
        spec = _EXTRA_OUTPUTS.get(op, {}).get(slot)
        if spec is None:
            if op in ("Split", "SplitV", "Unpack", "IdentityN", "ShapeN"):
                return _output_dtype(attrs, 0) if op != "IdentityN" else (a.get("T") or [None] * (slot + 1))[slot]
            return None
        return spec[1:] if spec.startswith("=") else a.get(spec)
    if op in _FIXED_DTYPE:
        return _FIXED_DTYPE[op]
    if op in _OUT_DTYPE_ATTR:
        key = _OUT_DTYPE_ATTR[op]
        if key is None:
            return None
        return a.get(key, "int32" if key in ("out_type", "output_type", "out_idx") else None)
    if op == "IdentityN":
        return (a.get("T") or [None])[0]
    return _first_dtype(a)


def _first_dtype(a: Attrs) -> str | None:
    """The first of _DTYPE_ATTRS that is a single dtype."""
    for key in _DTYPE_ATTRS:
        value = a.get(key)
        if isinstance(value, str):
            return value
    return None


_DTYPE_ATTRS = ("T", "dtype", "Tout", "out_type", "output_type")
# Ops whose output dtypes _output_dtype finds otherwise than through _DTYPE_ATTRS.
_SPECIAL_DTYPE_OPS = frozenset({"_Arg", "IdentityN", *_LIST_DTYPE_ATTR, *_FIXED_DTYPE, *_OUT_DTYPE_ATTR})


def _io(nodes: dict[str, GraphDefNode], tensors: dict[str, TensorInfo], inputs: Sequence[str],
        outputs: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """Model inputs and outputs: the user's choice, else every Placeholder and every dangling output."""
    if inputs:
        model_inputs = tuple(_canonical(n) for n in inputs)
    else:
        # A placeholder nothing reads (freezing leaves `unused_control_flow_input*` ones) is pruned by the
        # converter unless it is named as an input.
        model_inputs = tuple(attrs["outputs"][0] for attrs in nodes.values()
                             if attrs["kind"] == "input" and attrs["subgraph"] == "main" and attrs["outputs"]
                             and tensors[attrs["outputs"][0]].consumers)
    if outputs:
        return model_inputs, tuple(_canonical(n) for n in outputs), False
    found: list[str] = []
    for attrs in nodes.values():
        if attrs["subgraph"] != "main" or attrs["op"] in _NOT_OUTPUT or attrs["kind"] != "op":
            continue
        # A node none of whose outputs is read (a While whose loop counter dangles is not an output).
        outs = attrs["outputs"]
        if outs and not [t for t in outs if tensors[t].consumers] and not ops.is_training_op(attrs["op"]):
            found.append(outs[0])
    if not found:  # e.g. an Identity at the end of the graph: accept it, unless it only passes on a constant
        found = [attrs["outputs"][0] for attrs in nodes.values()  # (a frozen variable read) or loop plumbing
                 if attrs["subgraph"] == "main" and attrs["op"] == "Identity" and attrs["outputs"]
                 and not tensors[attrs["outputs"][0]].consumers and not _passes_on_plumbing(nodes, tensors, attrs)]
    return model_inputs, tuple(found), True


def _passes_on_plumbing(nodes: dict[str, GraphDefNode], tensors: dict[str, TensorInfo],
                        attrs: GraphDefNode) -> bool:
    """An Identity of a constant (what freezing makes of a variable read) or of v1 loop plumbing."""
    source = tensors[attrs["inputs"][0]] if attrs["inputs"] and attrs["inputs"][0] is not None else None
    producer = nodes.get(source.producer) if source is not None and source.producer else None
    return producer is None or producer["kind"] == "const" or producer["op"] in _LOOP_PLUMBING


def _canonical(name: str) -> str:
    name = name.strip()
    head, _, tail = name.rpartition(":")
    return name if head and tail.isdigit() else f"{name}:0"


def _add_output_nodes(nodes: dict[str, GraphDefNode], succ: Adjacency, tensors: dict[str, TensorInfo],
                      outputs: tuple[str, ...]) -> None:
    for tid in outputs:
        tensor = tensors.get(tid)
        if tensor is None or tensor.producer is None:
            continue
        node_id = f"output:{tid}"
        nodes[node_id] = {"kind": "output", "op": "OUTPUT", "family": "output", "name": tensor.name, "attrs": {},
                          "subgraph": "main", "index": len(nodes), "device": "", "custom": False, "calls": [],
                          "inputs": [tid], "outputs": []}
        succ[node_id] = {}
        tensor.consumers.append(node_id)
        add_edge(succ, tensor.producer, node_id, f"{tid}#0", tid, int(tid.rsplit(":", 1)[1]), 0, False)
