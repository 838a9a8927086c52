"""A small editing layer over a GraphDef protobuf (graphlint's own schema, no TensorFlow).

Names follow GraphDef conventions: a node is read as ``name`` (output 0) or ``name:k``, a control dependency as
``^name``. Every handler checks what it needs before it changes anything, so a refused edit leaves the graph as
it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from graphlint.loaders import graphdef_schema as pb
from graphlint.loaders.tensors import DTYPES, tensor_value

_TYPE_IDS = {name: num for num, name in DTYPES.items() if num < 100}

Array = npt.NDArray[Any]
# What :meth:`Graph.attr` gives: an int, float, bool, str (bytes decoded), dtype name, list or message, by the
# attr's kind; which one a key holds is the op's to say, so the handler that reads it knows.
PlainAttr = Any
# What :func:`set_attr` writes: an AttrValue message as it is, a ``("type", dtype name)`` pair, or a scalar.
AttrInput = pb.Message | tuple[str, str] | bool | int | float | str


class FixError(Exception):
    """An edit cannot be applied (one line saying why), or the fixed graph is not valid."""


def canonical(tensor: str) -> str:
    """``name`` → ``name:0``; ``name:1`` unchanged (control inputs are not tensors)."""
    head, _, tail = tensor.rpartition(":")
    return tensor if head and tail.isdigit() else f"{tensor}:0"


def node_of(tensor: str) -> str:
    """The node name of a tensor or input string."""
    tensor = tensor.lstrip("^")
    head, _, tail = tensor.rpartition(":")
    return head if head and tail.isdigit() else tensor


def short(tensor: str) -> str:
    """``name:0`` → ``name`` (GraphDef's spelling of output 0)."""
    return tensor[:-2] if tensor.endswith(":0") else tensor


class Graph:
    """A mutable view of a GraphDef with name lookups, rewiring and constant helpers."""

    def __init__(self, graph_def: pb.Message) -> None:
        self.gd = graph_def
        self._index: dict[str, int] | None = None

    # -- lookups ---------------------------------------------------------------------------------------
    def _names(self) -> dict[str, int]:
        if self._index is None:
            self._index = {n.name: i for i, n in enumerate(self.gd.node)}
        return self._index

    def __contains__(self, name: str) -> bool:
        return name in self._names()

    def node(self, name: str | None) -> pb.Message:
        """The NodeDef named ``name``; FixError when there is none (None, an edit's missing node, names none)."""
        pos = self._names().get(name) if name is not None else None
        if pos is None:
            raise FixError(f"no node `{name}` in the graph")
        return self.gd.node[pos]

    def nodes(self) -> list[pb.Message]:
        """All NodeDefs, in file order."""
        return list(self.gd.node)

    @staticmethod
    def data_inputs(node: pb.Message) -> list[str]:
        """A node's data inputs (control inputs left out)."""
        return [i for i in node.input if not i.startswith("^")]

    def consumers(self, tensor: str) -> list[tuple[pb.Message, int]]:
        """(node, input position) of every data read of ``tensor``."""
        want = canonical(tensor)
        return [(n, i) for n in self.gd.node for i, inp in enumerate(n.input)
                if not inp.startswith("^") and canonical(inp) == want]

    def readers(self, name: str) -> list[pb.Message]:
        """Nodes that read any output of ``name`` or depend on it by control."""
        return [n for n in self.gd.node if any(node_of(i) == name for i in n.input)]

    def attr(self, node: pb.Message, key: str, default: PlainAttr = None) -> PlainAttr:
        """A plain attr value: int, float, bool, bytes→str, type→dtype name, shape→tuple."""
        if key not in node.attr:
            return default
        value = node.attr[key]
        which = value.WhichOneof("value")
        if which == "type":
            return DTYPES.get(value.type)
        if which == "s":
            return value.s.decode()
        if which == "list":
            return list(value.list.i) or list(value.list.f) or [s.decode() for s in value.list.s]
        if which is None:
            return default
        return getattr(value, which)

    def const_value(self, tensor: str) -> Array | None:
        """The value of a Const node's output (through Identity chains), or None."""
        node = self.node(node_of(tensor))
        seen = 0
        while node.op == "Identity" and seen < 8:
            node = self.node(node_of(self.data_inputs(node)[0]))
            seen += 1
        if node.op != "Const":
            return None
        return np.array(tensor_value(node.attr["value"].tensor))

    def constant(self, tensor: str) -> Array:
        """:meth:`const_value` of a tensor the caller found constant already; FixError if it is not."""
        value = self.const_value(tensor)
        if value is None:
            raise FixError(f"`{short(tensor)}` is not a constant")
        return value

    # -- changes ---------------------------------------------------------------------------------------
    def unique(self, base: str) -> str:
        """A node name not yet used."""
        names = self._names()
        name, i = base, 0
        while name in names:
            i += 1
            name = f"{base}_{i}"
        return name

    def add(self, op: str, name: str, inputs: Iterable[str] = (), attrs: Mapping[str, AttrInput] | None = None, *,
            dtype: str | None = None, device: str = "") -> pb.Message:
        """Append a node. ``attrs`` values: AttrValue, bool, int, float, str, or ``("type", name)``."""
        node = self.gd.node.add(name=self.unique(name), op=op, device=device)
        node.input.extend(inputs)
        if dtype is not None:
            node.attr["T"].type = _TYPE_IDS[dtype]
        for key, value in (attrs or {}).items():
            set_attr(node, key, value)
        self._index = None
        return node

    def const(self, name: str, value: npt.ArrayLike, dtype: str = "float32") -> str:
        """Add a Const node holding ``value``; returns its name."""
        arr = np.array(value, dtype=np.dtype(dtype), order="C")  # keeps 0-d scalars 0-d
        node = self.add("Const", name)
        node.attr["dtype"].type = _TYPE_IDS[dtype]
        tensor = node.attr["value"].tensor
        tensor.dtype = _TYPE_IDS[dtype]
        for dim in arr.shape:
            tensor.tensor_shape.dim.add(size=int(dim))
        tensor.tensor_content = arr.tobytes()
        added: str = node.name
        return added

    def rewire(self, old: str, new: str, skip: Iterable[str] = ()) -> int:
        """Make every data read of tensor ``old`` read ``new`` instead (except nodes in ``skip``)."""
        want, skip, count = canonical(old), set(skip), 0
        for node in self.gd.node:
            if node.name in skip:
                continue
            for i, inp in enumerate(node.input):
                if not inp.startswith("^") and canonical(inp) == want:
                    node.input[i] = short(new)
                    count += 1
        return count

    def remove(self, names: Iterable[str]) -> None:
        """Delete nodes and every control dependency on them."""
        names = set(names)
        if not names:
            return
        kept = [n for n in self.gd.node if n.name not in names]
        for node in kept:
            if any(i.startswith("^") and i[1:] in names for i in node.input):
                inputs = [i for i in node.input if not (i.startswith("^") and i[1:] in names)]
                del node.input[:]
                node.input.extend(inputs)
        del self.gd.node[:]
        self.gd.node.extend(kept)
        self._index = None

    def rename(self, old: str, new: str) -> None:
        """Rename a node and every reference to it."""
        for node in self.gd.node:
            for i, inp in enumerate(node.input):
                if node_of(inp) == old:
                    ctl = "^" if inp.startswith("^") else ""
                    rest = inp.lstrip("^")[len(old):]
                    node.input[i] = f"{ctl}{new}{rest}"
        self.node(old).name = new
        self._index = None

    def drop_dead(self, candidates: Iterable[str], protected: Iterable[str]) -> list[str]:
        """Remove candidate nodes nothing reads any more, then their inputs that became unread, recursively."""
        protected = set(protected)
        removed: list[str] = []
        readers: dict[str, int] = {}
        for node in self.gd.node:
            for inp in node.input:
                readers[node_of(inp)] = readers.get(node_of(inp), 0) + 1
        stack = [c for c in candidates if c in self]
        gone: set[str] = set()
        while stack:
            name = stack.pop()
            if name in gone or name in protected or readers.get(name, 0) or name not in self:
                continue
            node = self.node(name)
            if node.op in ("Placeholder", "PlaceholderV2", "PlaceholderWithDefault"):
                continue
            gone.add(name)
            removed.append(name)
            for inp in node.input:
                src = node_of(inp)
                readers[src] = readers.get(src, 0) - 1
                stack.append(src)
        self.remove(gone)
        return sorted(removed)


def set_attr(node: pb.Message, key: str, value: AttrInput) -> None:
    """Set a NodeDef attr from a plain value."""
    if isinstance(value, pb.AttrValue):
        node.attr[key].CopyFrom(value)
    elif isinstance(value, tuple) and len(value) == 2 and value[0] == "type":
        node.attr[key].type = _TYPE_IDS[value[1]]
    elif isinstance(value, bool):
        node.attr[key].b = value
    elif isinstance(value, int):
        node.attr[key].i = value
    elif isinstance(value, float):
        node.attr[key].f = value
    elif isinstance(value, str):
        node.attr[key].s = value.encode()
    else:
        raise TypeError(f"cannot encode attr {key}={value!r}")
