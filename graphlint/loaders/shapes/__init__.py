"""Static shape propagation for GraphDef tensors that the file gives no ``_output_shapes`` for.

Shapes start at the Placeholders (or the user's ``--input name:shape``) and flow through the common ops, each
by the one rule registered for it in :data:`RULES` (see ``_table.py``; the rules are grouped by kind in the
sibling modules). A dim that cannot be derived stays ``None``; a rank that cannot be derived stays unknown.
Nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from graphlint.ir import Adjacency, Shape, TensorInfo
from graphlint.loaders._nodes import Attrs, GraphDefNode
from graphlint.loaders.tensors import PlainValue

from . import _array, _control, _elementwise, _lists, _nn, _slicing  # noqa: F401 (each registers its rules)
from ._table import MAX_RANK, RULES, Consts, Node, Rule, broadcast
from ._values import INT_DTYPES, VALUE_RULES, ValueRule, checked, checked_partial

__all__ = ["MAX_RANK", "RULES", "VALUE_RULES", "broadcast", "infer_shapes"]

_new_node = tuple.__new__
_ERRORS = (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError)


def infer_shapes(nodes: dict[str, GraphDefNode], succ: Adjacency, tensors: dict[str, TensorInfo],
                 user_shapes: Mapping[str, Shape], inputs: tuple[str, ...],
                 const_value: Callable[[TensorInfo], PlainValue] | None = None) -> None:
    """Fill unknown output shapes of main-graph nodes in topological order (in place).

    ``const_value`` reads a small constant as plain Python (a scalar or nested lists, as ``ndarray.tolist``
    gives), or returns None.
    """
    _apply_user_shapes(tensors, user_shapes)
    consts = Consts(const_value)
    for node_id in _topological(nodes, succ, tensors):
        attrs = nodes[node_id]
        if attrs["kind"] == "output" or attrs["subgraph"] != "main":
            continue
        outs = [tensors[t] for t in attrs["outputs"]]
        op = attrs["op"]
        value_fn = VALUE_RULES.get(op) if outs and outs[0].dtype in INT_DTYPES else None
        settled = _settled(outs)
        if op in ("Placeholder", "PlaceholderV2"):
            if not settled:
                _placeholder(attrs["attrs"], outs[0])
            continue
        fn = None if settled else RULES.get(op)
        if fn is None and value_fn is None:
            continue
        node = _node(op, attrs, tensors, consts, outs)
        if fn is not None:
            _infer_node(fn, node, outs)
        if value_fn is not None:  # later shapes may be computed from this value
            _value(value_fn, node, outs[0], consts)


def _infer_node(fn: Rule, node: Node, outs: list[TensorInfo]) -> None:
    try:
        result = fn(node)
    except _ERRORS:
        return
    if type(result) is tuple and outs[0].shape_source == "unknown":  # one shape for a fresh tensor: most nodes
        outs[0].shape, outs[0].shape_source = result, "inferred"
    elif result is not None:
        _assign(outs, result if isinstance(result, list) else [result])


def _node(op: str, attrs: GraphDefNode, tensors: dict[str, TensorInfo], consts: Consts,
          outs: list[TensorInfo]) -> Node:
    ins = [tensors[t] for t in attrs["inputs"]]
    # tuple.__new__ makes the Node without the Python-level __new__ of a NamedTuple: this is on the hot path
    return _new_node(Node, (op, attrs["attrs"], ins, [t.shape for t in ins], consts, len(outs)))


def _value(fn: ValueRule, node: Node, out: TensorInfo, consts: Consts) -> None:
    """Record the value of a small integer tensor, when its rule can work it out."""
    try:
        value = fn(node)
    except _ERRORS:
        return
    full = checked(value)
    if full is not None:
        consts.known[out.id] = full
    else:
        partial = checked_partial(value)
        if partial is not None:
            consts.partial[out.id] = partial


def _apply_user_shapes(tensors: dict[str, TensorInfo], user_shapes: Mapping[str, Shape]) -> None:
    for name, shape in user_shapes.items():
        tid = name if name.rpartition(":")[2].isdigit() and ":" in name else f"{name}:0"
        if tid in tensors:
            tensors[tid].shape = shape
            tensors[tid].shape_source = "user"


def _placeholder(attrs: Attrs, out: TensorInfo) -> None:
    shape = attrs.get("shape")
    if out.shape_source != "file" and (shape is not None or "shape" in attrs):
        out.shape, out.shape_source = shape, "placeholder"


def _assign(outs: list[TensorInfo], shapes: list[Shape]) -> None:
    """Give each output its derived shape (None: nothing derived), except where the user gave one; a shape the
    file recorded only has its unknown dims filled (e.g. after ``--input x:1,...``)."""
    for tensor, shape in zip(outs, shapes):
        if shape is None or tensor.shape_source == "user":
            continue
        if tensor.shape_source == "file":
            shape = _refine(tensor.shape, shape)
            if shape == tensor.shape:
                continue
        tensor.shape, tensor.shape_source = shape, "inferred"


def _settled(outs: list[TensorInfo]) -> bool:
    """Every output has a shape the user gave or the file recorded in full."""
    for t in outs:
        source = t.shape_source
        if source != "user" and (source != "file" or t.shape is None or None in t.shape):
            return False
    return True


def _refine(recorded: Shape, inferred: Shape) -> Shape:
    """``recorded`` with its unknown dims (or unknown rank) taken from ``inferred``; known dims never change."""
    if recorded is None:
        return inferred
    if inferred is None or len(inferred) != len(recorded):
        return recorded
    return tuple(r if r is not None else i for r, i in zip(recorded, inferred))


def _topological(nodes: dict[str, GraphDefNode], adj: Adjacency, tensors: dict[str, TensorInfo]) -> list[str]:
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


def _kahn(nodes: dict[str, GraphDefNode], adj: Adjacency) -> list[str]:
    indeg = _data_indegrees(nodes, adj)
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


def _data_indegrees(nodes: dict[str, GraphDefNode], adj: Adjacency) -> dict[str, int]:
    indeg = dict.fromkeys(nodes, 0)
    for successors in adj.values():
        for v, edges in successors.items():
            for d in edges.values():
                if not d.get("control"):
                    indeg[v] += 1
    return indeg
