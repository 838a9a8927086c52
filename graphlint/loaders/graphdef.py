"""Frozen GraphDef (binary ``.pb`` or text ``.pbtxt``) → :class:`~graphlint.ir.ModelGraph`.

Binary files are not parsed as one message. A scan of the top-level wire format finds each ``NodeDef``'s
byte range; each node is then parsed on its own, its facts are kept and the parsed message (with any
weights it holds) is dropped. Peak memory therefore stays near the size of the mapped file, and constant
values are re-read from their node's byte range only when a rule asks (:meth:`ModelGraph.value`).
"""

from __future__ import annotations

import array
from collections.abc import Mapping, Sequence

from google.protobuf.message import DecodeError

from graphlint import ops
from graphlint.ir import Adjacency, ModelGraph, ModelInfo, Shape, TensorInfo, add_edge

from . import LoadError, check_memory, check_nodes
from . import _graphdef_schema as pb
from .shapes import infer_shapes

_DTYPE_NAMES = {
    "DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_INT32": "int32", "DT_UINT8": "uint8", "DT_INT16": "int16",
    "DT_INT8": "int8", "DT_STRING": "string", "DT_COMPLEX64": "complex64", "DT_INT64": "int64", "DT_BOOL": "bool",
    "DT_QINT8": "qint8", "DT_QUINT8": "quint8", "DT_QINT32": "qint32", "DT_BFLOAT16": "bfloat16",
    "DT_QINT16": "qint16", "DT_QUINT16": "quint16", "DT_UINT16": "uint16", "DT_COMPLEX128": "complex128",
    "DT_HALF": "float16", "DT_RESOURCE": "resource", "DT_VARIANT": "variant", "DT_UINT32": "uint32",
    "DT_UINT64": "uint64", "DT_INT4": "int4", "DT_UINT4": "uint4",
}
# Reference dtypes (DT_FLOAT_REF = DT_FLOAT + 100) appear on unfrozen variables.
DTYPES: dict[int, str] = {num: _DTYPE_NAMES.get(name, name[3:].lower()) for name, num in pb.DATA_TYPES.items()}
DTYPES.update({num + 100: f"{DTYPES[num]}_ref" for num in list(DTYPES) if num})

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
_OUTPUT_ARGS = {
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


def read_varint(buf, pos: int, end: int) -> tuple[int, int]:
    """A protobuf varint at ``pos`` before ``end``: (value, next position)."""
    result = shift = 0
    while True:
        if pos >= end:
            raise LoadError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise LoadError("varint too long")


def _field_at(buf, pos: int, end: int) -> tuple[int, int, int, int]:
    """The field whose key is at ``buf[pos]``: ``(field number, wire type, value start, value end)``."""
    key, pos = read_varint(buf, pos, end)
    number, wire = key >> 3, key & 7
    if number == 0:
        raise LoadError("field number 0")
    if wire == 0:
        _, after = read_varint(buf, pos, end)
    elif wire == 1:
        after = pos + 8
    elif wire == 2:
        length, pos = read_varint(buf, pos, end)
        after = pos + length
    elif wire == 5:
        after = pos + 4
    else:
        raise LoadError(f"unsupported wire type {wire}")
    if after > end:
        raise LoadError("truncated")
    return number, wire, pos, after


def scan_fields(buf, start: int = 0, end: int | None = None):
    """Yield ``(field number, wire type, value start, value end)`` for a message's top-level fields."""
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        field = _field_at(buf, pos, end)
        yield field
        pos = field[3]


# A NodeDef larger than this is parsed without the values of its tensor attrs (its weights): the IR keeps
# only their dtype and shape, and copying the values out of the file is most of the parse time of a
# large model. read_value parses the whole node again when a rule asks for the values.
_SKIP_VALUES_ABOVE = 1 << 16
# TensorProto fields that hold values. One is left out unparsed only when the full parse could not reject
# it: bytes (tensor_content, string_val), packed fixed-width numbers of a whole number of elements, or a
# single unpacked number (checked by scan_fields). A node with packed varints is parsed in full.
_VALUE_FIELDS = frozenset({4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17})
_BYTES_FIELDS = frozenset({4, 8})
_PACKED_WIDTH = {5: 4, 6: 8, 9: 4, 12: 8}  # float, double, complex64 (as floats), complex128 (as doubles)
# Where tensor attrs sit: NodeDef.attr (5) → AttrEntry.value (2) → AttrValue.tensor (8) → TensorProto.
_TENSOR_PATH = (5, 2, 8)


class _KeepValues(Exception):
    """A value field that only the full parse may judge: parse the node in full."""


def _parse_node(view, start: int, end: int):
    """Parse the NodeDef at ``view[start:end]``; a large one without the values of its tensor attrs."""
    if end - start > _SKIP_VALUES_ABOVE:
        try:
            return pb.NodeDef.FromString(_without_values(view, start, end, 0))
        except (LoadError, _KeepValues, DecodeError):
            pass  # the full parse below gives the result, or the error, it always gave
    return pb.NodeDef.FromString(view[start:end])


def _without_values(buf, start: int, end: int, depth: int) -> bytes:
    """Re-encode the message at ``buf[start:end]`` with the value fields of its tensor attrs left out.

    ``depth`` is how far along _TENSOR_PATH the message sits; fields off the path are copied byte for byte.
    """
    out = bytearray()
    field_start = start
    for number, wire, value_start, value_end in scan_fields(buf, start, end):
        key_start, field_start = field_start, value_end
        if depth == len(_TENSOR_PATH) and number in _VALUE_FIELDS:
            if wire == 2 and number not in _BYTES_FIELDS:
                width = _PACKED_WIDTH.get(number)
                if width is None or (value_end - value_start) % width:
                    raise _KeepValues
        elif depth < len(_TENSOR_PATH) and number == _TENSOR_PATH[depth] and wire == 2:
            body = _without_values(buf, value_start, value_end, depth + 1)
            out += _encode_varint(number << 3 | 2) + _encode_varint(len(body)) + body
        else:
            out += buf[key_start:value_end]
    return bytes(out)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _shape(proto) -> Shape:
    if proto.unknown_rank:
        return None
    return tuple([size if size >= 0 else None for size in [d.size for d in proto.dim[:]]])


def _list_value(value):
    # The first non-empty kind of s, i, f, b, type, shape, func: ListFields gives only the non-empty ones,
    # in field-number order, which is that order (with tensor lists, which are skipped, before func).
    for field, container in value.list.ListFields():
        kind = field.name
        if kind != "tensor":
            items = container[:]  # a slice is one call; iterating a protobuf container ends in an IndexError
            if kind == "s":
                return [x.decode("utf-8", "replace") for x in items]
            if kind == "type":
                return [DTYPES.get(x, str(x)) for x in items]
            if kind == "shape":
                return [_shape(x) for x in items]
            if kind == "func":
                return [{"func": x.name} for x in items]
            return items
    return []


_ATTR_DECODERS = {
    "list": _list_value,
    "s": lambda v: v.s.decode("utf-8", "replace"),
    "type": lambda v: DTYPES.get(v.type, str(v.type)),
    "shape": lambda v: _shape(v.shape),
    "tensor": lambda v: _tensor_summary(v.tensor),
    "func": lambda v: {"func": v.func.name},
    None: lambda v: None,
}


def _tensor_summary(tensor) -> dict:
    return {"dtype": DTYPES.get(tensor.dtype), "shape": _shape(tensor.tensor_shape)}


def _attr_value(value, which: str | None):
    """Decode an AttrValue whose ``value`` oneof is ``which`` into plain Python (tensors become a small summary,
    never their data)."""
    decode = _ATTR_DECODERS.get(which)
    return decode(value) if decode is not None else getattr(value, which)


def _parse_text(data) -> tuple[list, object, int]:
    from google.protobuf import text_format

    text = bytes(data).decode("utf-8", "replace")
    graph = pb.GraphDef()
    text_format.Parse(text, graph, allow_unknown_field=True, allow_unknown_extension=True)
    return list(graph.node), graph.library, graph.versions.producer


_NODE_KEY = 1 << 3 | 2  # GraphDef.node: field 1, length-delimited


def _node_ranges(data) -> tuple[list[tuple[int, int]], tuple[int, int] | None, int]:
    """Find each NodeDef's byte range, the library's range and the producer version."""
    nodes: list[tuple[int, int]] = []
    library = None
    producer = 0
    seen_other = False
    pos, size = 0, len(data)
    while pos < size:
        if data[pos] == _NODE_KEY:  # most fields: a node, its length read here without the generic path
            length, start = read_varint(data, pos + 1, size)
            pos = start + length
            if pos > size:
                raise LoadError("truncated")
            nodes.append((start, pos))
            continue
        number, wire, start, end = _field_at(data, pos, size)
        pos = end
        if number == 1 and wire == 2:
            nodes.append((start, end))
        elif number == 2 and wire == 2:
            library = (start, end)
        elif number == 4 and wire == 2:
            producer = pb.VersionDef.FromString(memoryview(data)[start:end]).producer
        elif number in (1, 2, 4):
            _raise_not_graphdef(data)
        else:
            seen_other = True
    if not nodes and seen_other:
        _raise_not_graphdef(data)
    return nodes, library, producer


def _raise_not_graphdef(data) -> None:
    """Name what the file is when it is a protobuf but not a GraphDef."""
    fields = {}
    try:
        for number, wire, _, _ in scan_fields(data):
            fields.setdefault(number, wire)
    except LoadError:
        pass
    if all(fields.get(n) == 0 for n in range(1, 6)) and fields.get(6) == 2:
        raise LoadError("this is a SavedModel's fingerprint.pb, not a model; check the SavedModel directory that "
                        "holds it", "unsupported")
    # ONNX's ModelProto: ir_version, then strings (producer, version, domain), the graph and its opset imports
    if fields.get(1) == 0 and (fields.get(8) == 2 or fields.get(7) == 2) and all(
            fields.get(n, 2) == 2 for n in (2, 3, 4)):
        raise LoadError("this is an ONNX model, not a TensorFlow GraphDef", "unsupported")
    if fields.get(1) == 0 and fields.get(2) == 2:
        raise LoadError("this is a SavedModel's saved_model.pb, not a frozen graph; check it as saved_model.pb "
                        "in its directory, beside its variables/", "unsupported")
    raise LoadError("not a GraphDef")


def load_graphdef(data, path: str, digest: str, *, text: bool, input_shapes: Mapping[str, Shape],
                  inputs: Sequence[str] = (), outputs: Sequence[str] = (),
                  max_nodes: int | None = None) -> ModelGraph:
    """Build the IR of a frozen GraphDef held in ``data`` (bytes or an mmap).

    More than ``max_nodes`` NodeDefs (functions included) raise :class:`BudgetExceeded`; a binary file is
    refused from its top-level scan, before any node is parsed.
    """
    ranges: list[tuple[int, int]] | None = None
    try:
        if text:
            nodes, library, producer = _parse_text(data)
        else:
            ranges, lib_range, producer = _node_ranges(data)
            view = memoryview(data)
            nodes = (_parse_node(view, a, b) for a, b in ranges)
            library = pb.FunctionDefLibrary.FromString(view[lib_range[0]:lib_range[1]]) if lib_range else None
    except LoadError as err:
        raise LoadError(f"{path}: not a valid GraphDef ({err})" if str(err) != "not a GraphDef"
                        else f"{path}: not a valid GraphDef", err.kind) from None
    check_nodes(path, len(ranges) if ranges is not None else len(nodes), max_nodes)
    builder = _Builder(path)
    for i, node in enumerate(nodes):
        if not i & _MEMORY_CHECK_EVERY:
            check_memory(path)
        builder.add_node(node, i)
    if builder.count == 0:
        raise LoadError(f"{path}: the GraphDef has no nodes", "empty")
    functions = []
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

    def const_node(tensor: TensorInfo, text_nodes: list | None = None):
        pos = const_nodes.get(tensor.producer)
        if pos is None:
            return None
        if ranges is not None:
            a, b = ranges[pos]
            return pb.NodeDef.FromString(memoryview(data)[a:b])
        return (text_nodes if text_nodes is not None else _parse_text(data)[0])[pos]

    def read_value(tensor: TensorInfo):
        node = const_node(tensor)
        return None if node is None else tensor_value(node.attr["value"].tensor)

    def read_operand(tensor: TensorInfo):
        # Shape inference runs while a text graph's nodes are still parsed: read them from there.
        node = const_node(tensor, nodes if text else None)
        return None if node is None else tensor_list(node.attr["value"].tensor)

    model_inputs, model_outputs, inferred = _io(nodes, tensors, inputs, outputs)
    infer_shapes(nodes, succ, tensors, input_shapes, model_inputs, read_operand)
    info = ModelInfo(path=path, format="graphdef", digest=digest, size_bytes=len(data), inputs=model_inputs,
                     outputs=model_outputs, outputs_inferred=inferred, producer=str(producer),
                     subgraphs=("main", *functions), text_format=text)
    _add_output_nodes(nodes, succ, tensors, model_outputs)
    return ModelGraph(nodes, succ, tensors, info, read_value)


class _Builder:
    """Accumulates nodes and tensors while NodeDefs stream in."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.nodes: dict[str, dict] = {}
        self.succ: Adjacency = {}
        self.tensors: dict[str, TensorInfo] = {}
        self.pending: list[tuple[str, list[str], str]] = []  # (node id, raw inputs, subgraph)
        self.count = 0
        self.const_index: dict[str, int] = {}
        self.max_slot: dict[str, int] = {}
        self.recorded_shapes: dict[str, list] = {}  # node id → its _output_shapes, when the file has them
        self.index = 0

    def add_node(self, node, file_pos: int, subgraph: str = "main", prefix: str = "") -> None:
        name = node.name
        node_id = prefix + name
        if node_id in self.nodes:
            raise LoadError(f"{self.path}: not a valid GraphDef (two nodes are named `{name}`)")
        op = node.op
        attrs: dict = {}
        output_shapes = None
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

    def _add(self, node_id: str, kind: str, op: str, family: str, name: str, attrs: dict, subgraph: str,
             device: str, calls: list[str]) -> dict:
        """Add a node (next in file order, inputs and outputs filled by :meth:`finish`) and return its dict."""
        node = self.nodes[node_id] = {"kind": kind, "op": op, "family": family, "name": name, "attrs": attrs,
                                      "subgraph": subgraph, "device": device, "custom": False, "calls": calls,
                                      "index": self.index, "inputs": [], "outputs": []}
        self.succ[node_id] = {}
        self.index += 1
        return node

    def add_function(self, fdef) -> None:
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
            names = _OUTPUT_ARGS.get(op)
            slot = (names.index(arg) if names and arg in names else 0) + idx
            return prefix + node, slot, control
        if len(parts) >= 2 and parts[-1].isdigit():
            return prefix + ":".join(parts[:-1]), int(parts[-1]), control
        return prefix + raw, 0, control

    def finish(self) -> tuple[dict[str, dict], Adjacency, dict[str, TensorInfo]]:
        resolved = self._resolve_inputs()
        self._make_tensors()
        self._connect(resolved)
        return self.nodes, self.succ, self.tensors

    def _resolve_inputs(self) -> list[tuple[str, list[tuple[str, int, bool]]]]:
        """Pass 1: each node's inputs as (producer, slot, is_control); how many outputs each node has (from
        ``_output_shapes`` and from what consumers read)."""
        max_slot = self.max_slot
        resolved = []
        resolve = self._resolve
        for node_id, raw_inputs, subgraph in self.pending:
            edges = []
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

    def _node_tensors(self, node_id: str, attrs: dict, shapes: list | None, count: int) -> None:
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
            tensor.nbytes = _nbytes(value["dtype"], value["shape"])

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


def _declared_outputs(attrs: dict) -> int:
    """Number of outputs of an op whose output count is an attr (0 when it is not)."""
    op, a = attrs["op"], attrs["attrs"]
    key = _LIST_DTYPE_ATTR.get(op) or ("T" if op == "IdentityN" else None)
    if key is not None:
        value = a.get(key)
        return len(value) if isinstance(value, list) else 0
    value = a.get({"Split": "num_split", "SplitV": "num_split", "Unpack": "num", "ShapeN": "N"}.get(op, ""))
    return min(value, _MAX_OUTPUTS) if isinstance(value, int) and value > 0 else 0


def _output_dtype(attrs: dict, slot: int) -> str | None:
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


def _first_dtype(a: dict) -> str | None:
    """The first of _DTYPE_ATTRS that is a single dtype."""
    for key in _DTYPE_ATTRS:
        value = a.get(key)
        if isinstance(value, str):
            return value
    return None


_DTYPE_ATTRS = ("T", "dtype", "Tout", "out_type", "output_type")
# Ops whose output dtypes _output_dtype finds otherwise than through _DTYPE_ATTRS.
_SPECIAL_DTYPE_OPS = frozenset({"_Arg", "IdentityN", *_LIST_DTYPE_ATTR, *_FIXED_DTYPE, *_OUT_DTYPE_ATTR})


_ITEMSIZE = {"float32": 4, "float64": 8, "int32": 4, "uint8": 1, "int16": 2, "int8": 1, "int64": 8,
             "bool": 1, "float16": 2, "bfloat16": 2, "uint16": 2, "uint32": 4, "uint64": 8, "complex64": 8,
             "complex128": 16}


def _nbytes(dtype: str | None, shape: Shape) -> int | None:
    if shape is None or None in shape or dtype not in _ITEMSIZE:
        return None
    n = 1
    for d in shape:
        n *= d
    return n * _ITEMSIZE[dtype]


def tensor_value(proto):
    """Decode a TensorProto into a numpy array (from ``tensor_content`` or the typed value fields)."""
    import numpy as np

    dtype_name = DTYPES.get(proto.dtype)
    shape = _shape(proto.tensor_shape) or ()
    if dtype_name == "string":
        arr = np.array(list(proto.string_val), dtype=object)
        return arr.reshape(shape) if arr.size == int(np.prod(shape)) else arr
    np_dtype = np.dtype("float16" if dtype_name == "bfloat16" else dtype_name)
    count = int(np.prod(shape)) if shape else 1
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=np_dtype).reshape(shape)
    field = {"float32": "float_val", "float64": "double_val", "int64": "int64_val", "bool": "bool_val",
             "float16": "half_val", "bfloat16": "half_val", "uint32": "uint32_val", "uint64": "uint64_val",
             "complex64": "scomplex_val", "complex128": "dcomplex_val"}.get(dtype_name, "int_val")
    values = list(getattr(proto, field))
    if dtype_name == "float16":
        arr = np.array(values, dtype=np.uint16).view(np.float16)
    else:
        arr = np.array(values, dtype=np_dtype)
    if arr.size == 0:
        return np.zeros(shape, dtype=np_dtype)
    if arr.size < count:  # TensorFlow repeats the last value to fill the shape
        arr = np.concatenate([arr, np.full(count - arr.size, arr[-1], dtype=arr.dtype)])
    return arr[:count].reshape(shape)


# Typed-value field and array typecode of the dtypes tensor_list decodes itself (typecodes by item size, so
# they match numpy's on any platform; a dtype whose typecode has another size is left to numpy).
_LIST_FIELDS = {"int32": ("int_val", 4), "int64": ("int64_val", 8), "float32": ("float_val", 4),
                "float64": ("double_val", 8)}
_TYPECODES = {name: code for name, code in (("int32", "i"), ("int64", "q"), ("float32", "f"), ("float64", "d"))
              if array.array(code).itemsize == _LIST_FIELDS[name][1]}


def tensor_list(proto):
    """``tensor_value(proto).tolist()``, without importing numpy for the common case.

    Shape inference reads only small operands (shape vectors, axes, paddings): 32/64-bit ints or floats of
    rank 0 to 2. Importing numpy costs more than loading a typical model, so those are decoded here; every
    other case goes through :func:`tensor_value` and gives exactly what it gives (or raises what it raises).
    """
    dtype_name = DTYPES.get(proto.dtype)
    shape = _shape(proto.tensor_shape) or ()
    code = _TYPECODES.get(dtype_name)
    if code is None or len(shape) > 2 or None in shape or 0 in shape:
        return tensor_value(proto).tolist()
    count = 1
    for d in shape:
        count *= d
    content = proto.tensor_content
    if content:
        if len(content) != count * _LIST_FIELDS[dtype_name][1]:  # numpy refuses it: let it say so
            return tensor_value(proto).tolist()
        flat = array.array(code, content).tolist()
    else:
        flat = list(getattr(proto, _LIST_FIELDS[dtype_name][0]))
        if not flat:
            flat = [0 if code in "iq" else 0.0] * count
        elif len(flat) < count:  # TensorFlow repeats the last value to fill the shape
            flat += [flat[-1]] * (count - len(flat))
        flat = flat[:count]
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    cols = shape[1]
    return [flat[i:i + cols] for i in range(0, count, cols)]


def _io(nodes, tensors, inputs: Sequence[str], outputs: Sequence[str]):
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
    found = []
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


def _passes_on_plumbing(nodes, tensors, attrs) -> bool:
    """An Identity of a constant (what freezing makes of a variable read) or of v1 loop plumbing."""
    source = tensors[attrs["inputs"][0]] if attrs["inputs"] and attrs["inputs"][0] is not None else None
    producer = nodes.get(source.producer) if source is not None and source.producer else None
    return producer is None or producer["kind"] == "const" or producer["op"] in _LOOP_PLUMBING


def _canonical(name: str) -> str:
    name = name.strip()
    head, _, tail = name.rpartition(":")
    return name if head and tail.isdigit() else f"{name}:0"


def _add_output_nodes(nodes, succ, tensors, outputs) -> None:
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
