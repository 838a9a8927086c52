"""Build small models in code, without TensorFlow: for tests and for rules' executable examples.

Example::

    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    b.output(b.op("Relu", [x], name="y"))
    model = b.build()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .ir import ModelGraph
from .loaders import _graphdef_schema as pb
from .loaders.graphdef import DTYPES

_TYPE_IDS = {name: num for num, name in DTYPES.items()}
_TYPE_ATTRS = {"T", "dtype", "DstT", "SrcT", "out_type", "Tidx", "Tshape", "Tpaddings", "Index", "Tmultiples",
               "Taxis", "Tparams", "Tindices", "U", "output_type", "Tperm", "Tblock_shape", "Tcrops", "Tdim",
               "Tcomplex", "TI", "Tlen", "Tout", "Tsplits", "out_idx", "Tsegmentids", "Tnumsegments"}


class DType(str):
    """Marks a string attr value as a dtype (for attrs whose key is not a known type attr)."""


def _attr(key: str, value) -> pb.AttrValue:
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
        _set_shape(attr.shape, value)
    elif isinstance(value, (list, tuple)):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            attr.list.i.extend(value)
        elif all(isinstance(v, float) for v in value):
            attr.list.f.extend(value)
        elif all(isinstance(v, str) for v in value) and key in ("T", "Tin", "Tout", "dtypes"):
            attr.list.type.extend(_TYPE_IDS[v] for v in value)
        else:
            attr.list.s.extend(str(v).encode() for v in value)
    elif isinstance(value, dict) and "func" in value:
        attr.func.name = value["func"]
    else:
        raise TypeError(f"cannot encode attr {key}={value!r}")
    return attr


def _set_shape(proto, shape) -> None:
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
             attrs: Mapping | None = None, control: Iterable[str] = (), device: str = "") -> str:
        """Add a node and return its name (which is also its first output tensor)."""
        name = self._unique(name or op)
        node = self.graph.node.add(name=name, op=op, device=device)
        node.input.extend([*inputs, *(f"^{c}" for c in control)])
        for key, value in (attrs or {}).items():
            node.attr[key].CopyFrom(_attr(key, value))
        return name

    def op(self, op: str, inputs: Sequence[str] = (), *, name: str | None = None, dtype: str = "float32",
           attrs: Mapping | None = None, control: Iterable[str] = ()) -> str:
        """Add a typed compute op (attr ``T`` = ``dtype`` unless given)."""
        return self.node(op, inputs, name=name, attrs={"T": dtype, **(attrs or {})}, control=control)

    def placeholder(self, name: str, dtype: str = "float32", shape: Sequence[int | None] | None = (1, 4)) -> str:
        """Add a graph input; ``None`` dims are unknown and ``shape=None`` is an unknown rank."""
        return self.node("Placeholder", name=name, attrs={"dtype": dtype, "shape": None if shape is None
                                                                        else tuple(shape)})

    def const(self, value, *, name: str | None = None, dtype: str | None = None) -> str:
        """Add a Const node holding ``value`` (anything numpy can turn into an array)."""
        import numpy as np

        arr = np.asarray(value, dtype=dtype)
        name = self._unique(name or "Const")
        node = self.graph.node.add(name=name, op="Const")
        dname = "float32" if arr.dtype == np.float64 and dtype is None else str(arr.dtype)
        if dname == "float32":
            arr = arr.astype(np.float32)
        node.attr["dtype"].type = _TYPE_IDS[dname]
        tensor = node.attr["value"].tensor
        tensor.dtype = _TYPE_IDS[dname]
        _set_shape(tensor.tensor_shape, arr.shape)
        tensor.tensor_content = arr.tobytes()
        return name

    def output(self, *names: str) -> None:
        """Declare graph outputs (passed to the loader as the user's ``--output``)."""
        self.outputs.extend(names)

    def to_bytes(self) -> bytes:
        """Serialize as a binary frozen GraphDef."""
        return self.graph.SerializeToString()

    def to_text(self) -> str:
        """Serialize as a text GraphDef (``.pbtxt``)."""
        from google.protobuf import text_format

        return text_format.MessageToString(self.graph)

    def build(self, **load_kwargs) -> ModelGraph:
        """Load the graph through graphlint's GraphDef loader."""
        from .loaders import load

        load_kwargs.setdefault("outputs", tuple(self.outputs))
        return load(self.to_bytes(), name="<builder>", **load_kwargs)
