"""TFLite flatbuffer → :class:`~graphlint.ir.ModelGraph`.

Reads every subgraph (WHILE / IF bodies included), per-tensor and per-axis quantization, ``shape_signature``,
custom ops and op versions in place, with :class:`~graphlint.loaders._flatbuffer.Table` and the field ids of
TFLite's ``schema.fbs``; LiteRT's generated schema supplies the enum names and decodes builtin options.
Constant data is never copied: the IR records each buffer's offset and length in the file and
:meth:`ModelGraph.value` reads it on demand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from ai_edge_litert import schema_py_generated as fb

from graphlint import ops
from graphlint.ir import Adjacency, ModelGraph, ModelInfo, QuantParams, Shape, TensorInfo, add_edge

from . import LoadError, ModelBytes, check_memory, check_nodes
from ._flatbuffer import Table
from ._nodes import Attrs, TFLiteNode

if TYPE_CHECKING:
    import numpy.typing as npt

_MAX_OPTION_LIST = 64  # option vectors longer than this are summarized by length


@cache
def _enum_names(enum_cls: type) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


def builtin_name(code: int) -> str:
    """The TFLite builtin operator name for an integer code (``BUILTIN_<n>`` when unknown)."""
    return _enum_names(fb.BuiltinOperator).get(code, f"BUILTIN_{code}")


def dtype_name(tensor_type: int) -> str:
    """Canonical dtype name (``float32``, ``int8`` ...) of a TFLite ``TensorType`` value."""
    return _enum_names(fb.TensorType).get(tensor_type, f"type{tensor_type}").lower()


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@cache
def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


_ENUM_FIELDS = {"padding": fb.Padding, "fused_activation_function": fb.ActivationFunctionType}


def _decode_options(data: ModelBytes, table: Table) -> Attrs:
    """Decode an operator's builtin options into plain, JSON-able Python values."""
    op = fb.Operator()
    op.Init(data, table.pos)
    attrs: Attrs = {}
    for type_fn, table_fn, creator in (
        (op.BuiltinOptionsType, op.BuiltinOptions, fb.BuiltinOptionsCreator),
        (op.BuiltinOptions2Type, op.BuiltinOptions2, fb.BuiltinOptions2Creator),
    ):
        kind = type_fn()
        if not kind:
            continue
        table = table_fn()
        obj = creator(kind, table) if table is not None else None
        if obj is None:
            continue
        for key, value in vars(obj).items():
            name = _snake(key)
            if name in _ENUM_FIELDS and isinstance(value, int):
                value = _enum_names(_ENUM_FIELDS[name]).get(value, value)
            elif hasattr(value, "tolist"):
                value = value.tolist()
            if isinstance(value, list) and len(value) > _MAX_OPTION_LIST:
                value = f"<{len(value)} values>"
            if isinstance(value, (int, float, str, bool, list)) or value is None:
                attrs[name] = value
    return attrs


def _quant(q: Table | None) -> QuantParams | None:
    if q is None:
        return None
    scale = q.numbers(2, "f") or ()
    mins = q.numbers(0, "f") or ()
    maxs = q.numbers(1, "f") or ()
    if not scale and not mins:
        return None
    zero = q.numbers(3, "q") or (0,) * len(scale)
    return QuantParams(scale=scale, zero_point=zero, axis=q.scalar(6, "i") if len(scale) > 1 else None,
                       min=mins, max=maxs)


def _length(table: Table, field_id: int) -> int:
    """Length of a vector-of-tables field (0 when absent)."""
    span = table.vector(field_id, 4)
    return span[1] if span else 0


def _buffer_span(buffers: list[Table], index: int) -> tuple[int, int] | None:
    """(offset, length) of a buffer's data in the file, or None when the buffer is empty."""
    if index <= 0 or index >= len(buffers):
        return None
    buf = buffers[index]
    offset = buf.scalar(1, "Q")
    if offset > 1:  # large models keep data after the flatbuffer
        size = buf.scalar(2, "Q")
        return (offset, size) if size else None
    span = buf.vector(0)
    return span if span and span[1] else None


def _tensor(tensor: Table, tid: str, s: int, buffers: list[Table]) -> tuple[TensorInfo, tuple[int, int] | None]:
    raw_shape = tensor.numbers(0, "i")
    shape = raw_shape or ()
    raw_signature = tensor.numbers(7, "i")
    signature = tuple(None if d < 0 else d for d in raw_signature) if raw_signature else None
    shape_val: Shape
    if not shape and not tensor.scalar(8, "?", False) and signature is None:
        shape_val = None if raw_shape is None else shape  # no shape field at all: unknown rank
    else:
        shape_val = shape
    if signature is not None:
        shape_val = signature
    span = _buffer_span(buffers, tensor.scalar(2, "I"))
    info = TensorInfo(
        id=tid, name=tensor.string(3) or "", dtype=dtype_name(tensor.scalar(1, "b")), shape=shape_val,
        is_const=span is not None, nbytes=span[1] if span else None, quant=_quant(tensor.table(4)),
        subgraph=s, shape_signature=signature, shape_source="file", is_variable=tensor.scalar(5, "?", False),
        stored_shape=shape if signature is not None else None)
    return info, span


def _opcodes(model: Table) -> list[tuple[str | None, str | None, int]]:
    """(builtin name or None for a custom op, custom code, version) per operator code."""
    codes = []
    for oc in model.tables(1):
        code = max(oc.scalar(3, "i"), oc.scalar(0, "b"))
        codes.append((builtin_name(code) if code != fb.BuiltinOperator.CUSTOM else None, oc.string(1) or None,
                      oc.scalar(2, "i", 1)))
    return codes


def _pseudo_node(kind: str, op: str, name: str, s: int, index: int, inputs: list[str | None],
                 outputs: list[str]) -> TFLiteNode:
    return {"kind": kind, "op": op, "family": kind, "name": name, "attrs": {}, "subgraph": s, "index": index,
            "inputs": inputs, "outputs": outputs, "calls": []}


class _Reader:
    """Builds the IR tables of one model, subgraph by subgraph, in file order."""

    def __init__(self, data: ModelBytes, path: str, codes: list[tuple[str | None, str | None, int]],
                 buffers: list[Table]) -> None:
        self.data, self.path, self.codes, self.buffers = data, path, codes, buffers
        self.nodes: dict[str, TFLiteNode] = {}
        self.tensors: dict[str, TensorInfo] = {}
        self.spans: dict[str, tuple[int, int]] = {}
        self.index = 0

    def _add(self, node: str, attrs: TFLiteNode) -> None:
        self.nodes[node] = attrs
        self.index += 1

    def subgraph(self, s: int, sg: Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Read subgraph ``s``; return its input and output tensor ids."""
        sg_tensors = self._read_tensors(s, sg)
        inputs = tuple(f"{s}/{t}" for t in sg.numbers(1, "i") or ())
        outputs = tuple(f"{s}/{t}" for t in sg.numbers(2, "i") or ())
        for tid in (*inputs, *outputs):
            if tid not in self.tensors:
                raise LoadError(f"{self.path}: not a valid TFLite flatbuffer (subgraph {s} names a tensor that does "
                                "not exist)")
        for tid in inputs:
            self.tensors[tid].producer = f"input:{tid}"
            self._add(f"input:{tid}", _pseudo_node("input", "INPUT", self.tensors[tid].name, s, self.index, [],
                                                   [tid]))
        for tid in sg_tensors:
            info = self.tensors[tid]
            if info.is_const:
                info.producer = f"const:{tid}"
                self._add(f"const:{tid}", _pseudo_node("const", "CONST", info.name, s, self.index, [], [tid]))
        for k, op in enumerate(sg.tables(3)):
            if not k & 4095:
                check_memory(self.path)
            self._operator(s, k, op)
        for tid in outputs:
            self._add(f"output:{tid}", _pseudo_node("output", "OUTPUT", self.tensors[tid].name, s, self.index,
                                                    [tid], []))
        return inputs, outputs

    def _read_tensors(self, s: int, sg: Table) -> list[str]:
        sg_tensors = []
        for t, tensor in enumerate(sg.tables(0)):
            tid = f"{s}/{t}"
            sg_tensors.append(tid)
            self.tensors[tid], span = _tensor(tensor, tid, s, self.buffers)
            if span:
                self.spans[tid] = span
        return sg_tensors

    def _operator(self, s: int, k: int, op: Table) -> None:
        opcode = op.scalar(0, "I")
        if opcode >= len(self.codes):
            raise LoadError(f"{self.path}: not a valid TFLite flatbuffer (operator {s}:{k} names opcode "
                            f"{opcode} of {len(self.codes)})")
        builtin, custom, version = self.codes[opcode]
        op_name = builtin or custom or "CUSTOM"
        if builtin:
            attrs = _decode_options(self.data, op) if op.scalar(3, "B") or op.scalar(11, "B") else {}
        else:
            custom_options = op.vector(5)
            attrs = {"custom_options_bytes": custom_options[1] if custom_options else 0}
        calls = [v for key, v in attrs.items() if key.endswith("subgraph_index") and isinstance(v, int)]
        node = f"{s}:{k}"
        in_ids = [f"{s}/{t}" if t >= 0 else None for t in op.numbers(1, "i") or ()]
        out_ids = [f"{s}/{t}" for t in op.numbers(2, "i") or ()]
        tensors = self.tensors
        for tid in [t for t in in_ids if t] + out_ids:
            if tid not in tensors:
                raise LoadError(f"{self.path}: not a valid TFLite flatbuffer (operator {node} names a tensor "
                                "that does not exist)")
        for tid in out_ids:
            tensors[tid].producer = node
        first_in = tensors[in_ids[0]] if in_ids and in_ids[0] else None
        self._add(node, {"kind": "op", "op": op_name, "family": ops.family(op_name, "tflite"),
                         "name": (tensors[out_ids[0]].name if out_ids else op_name), "attrs": attrs,
                         "subgraph": s, "index": self.index, "version": version, "custom": builtin is None,
                         "calls": sorted(set(calls)), "inputs": in_ids, "outputs": out_ids,
                         "in_dtype": first_in.dtype if first_in else None})


def _value_reader(data: ModelBytes, spans: dict[str, tuple[int, int]]) -> Callable[[TensorInfo], npt.NDArray[Any]]:
    """``read_value(tensor)``: a constant tensor's data as a numpy array viewing ``data``."""

    def read_value(tensor: TensorInfo) -> npt.NDArray[Any]:
        import numpy as np

        offset, length = spans[tensor.id]
        # A string, resource or variant tensor is read as its raw bytes.
        dtype = np.dtype(tensor.dtype if tensor.dtype not in ("string", "resource", "variant") else np.uint8)
        count = length // dtype.itemsize
        arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
        shape = tensor.shape
        if shape and None not in shape:
            dims = cast("tuple[int, ...]", shape)  # every dim is known: checked above
            if int(np.prod(dims)) == count:
                arr = arr.reshape(dims)
        return arr

    return read_value


def load_tflite(data: ModelBytes, path: str, digest: str, *, max_nodes: int | None = None) -> ModelGraph:
    """Build the IR of a TFLite model held in ``data`` (bytes or an mmap).

    More than ``max_nodes`` operators plus tensors, over all subgraphs, raise :class:`BudgetExceeded` before
    any of them is read.

    The structure is read with :class:`~graphlint.loaders._flatbuffer.Table` (field ids from TFLite's
    ``schema.fbs``); only builtin options go through LiteRT's generated classes, to decode every option
    table by name.
    """
    if len(data) < 16:
        raise LoadError(f"{path}: not a valid TFLite flatbuffer (file is truncated)")
    if int.from_bytes(data[:4], "little") >= len(data):
        raise LoadError(f"{path}: not a valid TFLite flatbuffer (file is truncated)")
    model = Table.root(data)
    reader = _Reader(data, path, _opcodes(model), model.tables(4))
    subgraphs = model.tables(2)
    if not subgraphs:
        raise LoadError(f"{path}: TFLite model has no subgraphs", "empty")
    check_nodes(path, sum(_length(sg, 0) + _length(sg, 3) for sg in subgraphs), max_nodes)
    subgraph_names = []
    main_inputs: tuple[str, ...] = ()
    main_outputs: tuple[str, ...] = ()
    for s, sg in enumerate(subgraphs):
        subgraph_names.append(sg.string(4) or ("main" if s == 0 else f"subgraph_{s}"))
        inputs, outputs = reader.subgraph(s, sg)
        if s == 0:
            main_inputs, main_outputs = inputs, outputs
    succ = _connect(reader.nodes, reader.tensors)
    info = ModelInfo(path=path, format="tflite", digest=digest, size_bytes=len(data), inputs=main_inputs,
                     outputs=main_outputs, producer=model.string(3) or "", schema_version=model.scalar(0, "I"),
                     subgraphs=tuple(subgraph_names))
    # The IR types its node table loosely, as rules read it (see _nodes.py).
    return ModelGraph(cast("dict[str, dict[str, Any]]", reader.nodes), succ, reader.tensors, info,
                      _value_reader(data, reader.spans))


def _connect(nodes: dict[str, TFLiteNode], tensors: dict[str, TensorInfo]) -> Adjacency:
    """Return the adjacency with one edge per (tensor, consumer slot); fill each tensor's consumer list.

    Linear in the number of slots: a tensor's slot among its producer's outputs comes from one table built up
    front (looking it up in the producer's output list per edge made one op with K outputs feeding one op
    with K inputs cost K^2).
    """
    succ: Adjacency = {node: {} for node in nodes}
    src_slots: dict[str, int] = {}
    for node, attrs in nodes.items():
        for slot, out in enumerate(attrs["outputs"]):
            if tensors[out].producer == node:
                src_slots.setdefault(out, slot)  # the first slot, when an op lists a tensor twice
    for node, attrs in nodes.items():
        for slot, tid in enumerate(attrs["inputs"]):
            if tid is None:
                continue
            tensor = tensors[tid]
            tensor.consumers.append(node)
            if tensor.producer is not None:
                add_edge(succ, tensor.producer, node, f"{tid}#{slot}", tid, src_slots[tid], slot, False)
    return succ
