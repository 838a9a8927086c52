"""Build small models in code, without TensorFlow: for tests and for rules' executable examples.

Example::

    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    b.output(b.op("Relu", [x], name="y"))
    model = b.build()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, SupportsInt, TypedDict, cast

from .ir import ModelGraph
from .loaders import graphdef_schema as pb
from .loaders.tensors import DTYPES

if TYPE_CHECKING:
    import numpy.typing as npt

_TYPE_IDS = {name: num for num, name in DTYPES.items()}
_TYPE_ATTRS = {"T", "dtype", "DstT", "SrcT", "out_type", "Tidx", "Tshape", "Tpaddings", "Index", "Tmultiples",
               "Taxis", "Tparams", "Tindices", "U", "output_type", "Tperm", "Tblock_shape", "Tcrops", "Tdim",
               "Tcomplex", "TI", "Tlen", "Tout", "Tsplits", "out_idx", "Tsegmentids", "Tnumsegments"}

# An attr value as the builder writes it: a scalar; a dtype name (under a type attr's key, or as a DType); a shape
# (dims with None for an unknown one, or None for an unknown rank, under a shape key); a list of ints, floats or
# strings; or ``{"func": name}`` for a function attr.
AttrSpec = str | bytes | bool | int | float | Sequence[int | float | str | None] | Mapping[str, str] | None
Dims = Iterable[SupportsInt | None]  # a shape's dims; None is an unknown dim
# The quantization of a TFLiteBuilder tensor: (scales, zero points), and the quantized axis when per channel.
Quant = tuple[Sequence[float], Sequence[int]] | tuple[Sequence[float], Sequence[int], int]
OpOptions = tuple[str, Mapping[str, Any]]  # (options table name, its fields, whose types the schema gives)
# LiteRT's flatbuffers schema module (the generated object API) and its objects ship no type information.
Schema = Any
SchemaObject = Any


class DType(str):
    """Marks a string attr value as a dtype (for attrs whose key is not a known type attr)."""


def _attr(key: str, value: AttrSpec) -> pb.Message:
    attr = pb.AttrValue()
    if isinstance(value, DType) or (key in _TYPE_ATTRS and isinstance(value, str)):
        attr.type = _TYPE_IDS[str(value)]
    elif isinstance(value, bool):
        attr.b = value
    elif isinstance(value, int):
        attr.i = value
    elif isinstance(value, float):
        attr.f = value
    elif isinstance(value, str):
        attr.s = value.encode()
    elif isinstance(value, bytes):
        attr.s = value
    elif key in ("shape", "element_shape") or (isinstance(value, tuple) and key.endswith("shape")):
        _set_shape(attr.shape, cast("Dims | None", value))  # a shape key: the caller gives dims
    elif isinstance(value, (list, tuple)):
        _set_list(attr.list, key, value)
    elif isinstance(value, dict) and "func" in value:
        attr.func.name = value["func"]
    else:
        raise TypeError(f"cannot encode attr {key}={value!r}")
    return attr


def _set_list(proto: pb.Message, key: str, value: Sequence[int | float | str | None]) -> None:
    """Fill a list attr: ints, floats, dtypes (for the type-list attrs) or else strings."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        proto.i.extend(value)
    elif all(isinstance(v, float) for v in value):
        proto.f.extend(value)
    elif all(isinstance(v, str) for v in value) and key in ("T", "Tin", "Tout", "dtypes"):
        proto.type.extend(_TYPE_IDS[str(v)] for v in value)
    else:
        proto.s.extend(str(v).encode() for v in value)


def _set_shape(proto: pb.Message, shape: Dims | None) -> None:
    proto.SetInParent()  # a scalar has no dims: without this its shape attr would be left unset
    if shape is None:
        proto.unknown_rank = True
        return
    for dim in shape:
        proto.dim.add(size=-1 if dim is None else int(dim))


class GraphBuilder:
    """Assemble a frozen GraphDef node by node and load it as graphlint would load the file."""

    def __init__(self) -> None:
        self.graph = pb.GraphDef()
        self.graph.versions.producer = 1
        self.outputs: list[str] = []
        self._names: set[str] = set()

    def _unique(self, base: str) -> str:
        name, i = base, 0
        while name in self._names:
            i += 1
            name = f"{base}_{i}"
        self._names.add(name)
        return name

    def node(self, op: str, inputs: Sequence[str] = (), *, name: str | None = None,
             attrs: Mapping[str, AttrSpec] | None = None, control: Iterable[str] = (), device: str = "") -> str:
        """Add a node and return its name (which is also its first output tensor)."""
        name = self._unique(name or op)
        node = self.graph.node.add(name=name, op=op, device=device)
        node.input.extend([*inputs, *(f"^{c}" for c in control)])
        for key, value in (attrs or {}).items():
            node.attr[key].CopyFrom(_attr(key, value))
        return name

    def op(self, op: str, inputs: Sequence[str] = (), *, name: str | None = None, dtype: str = "float32",
           attrs: Mapping[str, AttrSpec] | None = None, control: Iterable[str] = ()) -> str:
        """Add a typed compute op (attr ``T`` = ``dtype`` unless given)."""
        return self.node(op, inputs, name=name, attrs={"T": dtype, **(attrs or {})}, control=control)

    def placeholder(self, name: str, dtype: str = "float32", shape: Sequence[int | None] | None = (1, 4)) -> str:
        """Add a graph input; ``None`` dims are unknown and ``shape=None`` is an unknown rank."""
        return self.node("Placeholder", name=name, attrs={"dtype": dtype, "shape": None if shape is None
                                                                        else tuple(shape)})

    def const(self, value: npt.ArrayLike, *, name: str | None = None, dtype: str | None = None) -> str:
        """Add a Const node holding ``value`` (anything numpy can turn into an array)."""
        import numpy as np

        arr = np.asarray(value, dtype=dtype)
        name = self._unique(name or "Const")
        node = self.graph.node.add(name=name, op="Const")
        if arr.dtype.kind in "OSU":  # strings: a string_val per element
            node.attr["dtype"].type = _TYPE_IDS["string"]
            tensor = node.attr["value"].tensor
            tensor.dtype = _TYPE_IDS["string"]
            _set_shape(tensor.tensor_shape, arr.shape)
            tensor.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in arr.reshape(-1))
            return name
        dname = "float32" if arr.dtype == np.float64 and dtype is None else str(arr.dtype)
        if dname == "float32":
            arr = arr.astype(np.float32)
        node.attr["dtype"].type = _TYPE_IDS[dname]
        tensor = node.attr["value"].tensor
        tensor.dtype = _TYPE_IDS[dname]
        _set_shape(tensor.tensor_shape, arr.shape)
        tensor.tensor_content = arr.tobytes()
        return name

    def function(self, name: str, args: Sequence[tuple[str, str]], body: Callable[[GraphBuilder], Iterable[str]]
                 ) -> str:
        """Add a function to the graph's library and return its name.

        ``args`` are ``(name, dtype)`` pairs; ``body(fb)`` builds the function's nodes with a fresh builder
        ``fb`` (inputs refer to the args by name) and returns its output tensor names.
        """
        fb = GraphBuilder()
        fb._names.update(a for a, _ in args)
        outputs = list(body(fb))
        fn = self.graph.library.function.add()
        fn.signature.name = name
        for arg, dtype in args:
            fn.signature.input_arg.add(name=arg, type=_TYPE_IDS[dtype])
        for i, out in enumerate(outputs):
            fn.signature.output_arg.add(name=f"output_{i}", type=_TYPE_IDS["float32"])
            node, _, slot = out.partition(":")
            fn.ret[f"output_{i}"] = f"{node}:output:{slot or 0}"
        fn.node_def.extend(fb.graph.node)
        return name

    def output(self, *names: str) -> None:
        """Declare graph outputs (passed to the loader as the user's ``--output``)."""
        self.outputs.extend(names)

    def to_bytes(self) -> bytes:
        """Serialize as a binary frozen GraphDef."""
        data: bytes = self.graph.SerializeToString(deterministic=True)  # map fields (attrs) in key order
        return data

    def to_text(self) -> str:
        """Serialize as a text GraphDef (``.pbtxt``)."""
        from google.protobuf import text_format

        text: str = text_format.MessageToString(self.graph)
        return text

    def build(self, **load_kwargs: Any) -> ModelGraph:
        """Load the graph through graphlint's GraphDef loader."""
        from .loaders import load

        load_kwargs.setdefault("outputs", tuple(self.outputs))
        return load(self.to_bytes(), name="<builder>", **load_kwargs)


def savedmodel_view(b: GraphBuilder) -> ModelGraph:
    """``b``'s graph as the SavedModel loader's IR of a SavedModel frozen the same way: the format is
    ``savedmodel`` and each ``VarHandleOp`` is a captured variable its checkpoint never restores (the loader
    turns the restored ones into constants)."""
    import dataclasses

    model = b.build()
    handles = tuple(node for node, attrs in model.ops() if attrs["op"] == "VarHandleOp")
    info = dataclasses.replace(model.info, format="savedmodel", unrestored_variables=handles)
    return ModelGraph(model.nodes, model.succ, model.tensors, info, model._value_reader)


class _TensorSpec(TypedDict):
    """A tensor as :meth:`TFLiteBuilder.tensor` records it."""

    name: str
    dtype: str
    shape: list[int]
    data: npt.ArrayLike | None
    quant: Quant | None
    signature: list[int] | None


# An operator as TFLiteBuilder.op records it: (builtin, inputs, outputs, custom code, options).
_OpSpec = tuple[str, list[str], list[str], str | None, OpOptions | None]


class TFLiteBuilder:
    """Assemble a small ``.tflite`` flatbuffer tensor by tensor and op by op (LiteRT's schema object API).

    Tensors are named; ops refer to them by name. ``data`` makes a tensor constant (a buffer), ``quant`` gives it
    ``(scales, zero_points[, axis])``. Nothing is checked against kernels: it writes what you describe.
    """

    fmt = "tflite"

    def __init__(self) -> None:
        self._tensors: list[_TensorSpec] = []
        self._ops: list[_OpSpec] = []
        self._inputs: list[str] = []
        self.outputs: list[str] = []

    def tensor(self, name: str, dtype: str = "float32", shape: Sequence[int] = (1, 4), *,
               data: npt.ArrayLike | None = None, quant: Quant | None = None,
               signature: Sequence[int] | None = None) -> str:
        """Add a tensor; ``signature`` is its ``shape_signature`` (-1 for dynamic dims)."""
        self._tensors.append({"name": name, "dtype": dtype, "shape": list(shape), "data": data, "quant": quant,
                              "signature": list(signature) if signature is not None else None})
        return name

    def input(self, name: str, dtype: str = "float32", shape: Sequence[int] = (1, 4), *,
              data: npt.ArrayLike | None = None, quant: Quant | None = None,
              signature: Sequence[int] | None = None) -> str:
        """Add a model input tensor."""
        self._inputs.append(self.tensor(name, dtype, shape, data=data, quant=quant, signature=signature))
        return name

    def op(self, builtin: str, inputs: Sequence[str], outputs: Sequence[str], *, custom: str | None = None,
           options: OpOptions | None = None) -> None:
        """Add an operator (``builtin`` is a BuiltinOperator name such as ``CONV_2D``; ``CUSTOM`` with ``custom``).
        ``options`` is ``(options table name, fields)``, e.g. ``("SoftmaxOptions", {"beta": 1.0})``."""
        self._ops.append((builtin, list(inputs), list(outputs), custom, options))

    def output(self, *names: str) -> None:
        """Declare model outputs."""
        self.outputs.extend(names)

    def to_bytes(self) -> bytes:
        """Serialize the model."""
        import flatbuffers
        from ai_edge_litert import schema_py_generated as s

        types = {v: k for k, v in vars(s.TensorType).items() if not k.startswith("_")}
        type_ids = {name.lower(): code for code, name in types.items()}
        model = s.ModelT()
        model.version = 3
        model.buffers = [s.BufferT()]
        index = {t["name"]: i for i, t in enumerate(self._tensors)}
        sub = s.SubGraphT()
        sub.tensors = [self._tensor_t(s, t, type_ids, model.buffers) for t in self._tensors]
        codes: list[tuple[str, str | None]] = []
        sub.operators = [self._operator_t(s, spec, index, codes) for spec in self._ops]
        sub.inputs = [index[n] for n in self._inputs]
        sub.outputs = [index[n] for n in self.outputs]
        sub.name = "main"
        model.subgraphs = [sub]
        model.operatorCodes = []
        for builtin, custom in codes:
            oc = s.OperatorCodeT()
            code = getattr(s.BuiltinOperator, builtin)
            oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
            oc.customCode = custom
            model.operatorCodes.append(oc)
        fb = flatbuffers.Builder(1024)
        fb.Finish(model.Pack(fb), file_identifier=b"TFL3")
        return bytes(fb.Output())

    @staticmethod
    def _tensor_t(s: Schema, t: _TensorSpec, type_ids: dict[str, int], buffers: list[SchemaObject]) -> SchemaObject:
        """A tensor of LiteRT's object API; its data, if any, goes to a new buffer appended to ``buffers``."""
        import numpy as np

        tt = s.TensorT()
        tt.name, tt.shape, tt.type = t["name"], t["shape"], type_ids[t["dtype"]]
        tt.shapeSignature = t["signature"]
        if t["data"] is not None:
            buf = s.BufferT()
            data = t["data"]  # bytes are a string tensor's raw buffer, anything else is converted to the dtype
            buf.data = data if isinstance(data, bytes) else np.asarray(data, dtype=t["dtype"]).tobytes()
            buffers.append(buf)
            tt.buffer = len(buffers) - 1
        quant = t["quant"]
        if quant is not None:
            q = s.QuantizationParametersT()
            q.scale, q.zeroPoint = list(quant[0]), list(quant[1])
            q.quantizedDimension = quant[2] if len(quant) > 2 else 0
            tt.quantization = q
        return tt

    @staticmethod
    def _operator_t(s: Schema, spec: _OpSpec, index: dict[str, int], codes: list[tuple[str, str | None]]
                    ) -> SchemaObject:
        """An operator of LiteRT's object API; its (builtin, custom) code is added to ``codes`` when new."""
        builtin, inputs, outputs, custom, options = spec
        key = (builtin, custom)
        if key not in codes:
            codes.append(key)
        op = s.OperatorT()
        op.opcodeIndex = codes.index(key)
        op.inputs = [index[n] for n in inputs]
        op.outputs = [index[n] for n in outputs]
        if options is not None:
            table, fields = options
            op.builtinOptionsType = getattr(s.BuiltinOptions, table)
            op.builtinOptions = getattr(s, table + "T")()
            for field, value in fields.items():
                setattr(op.builtinOptions, field, value)
        return op
