"""IR invariants on graphs built in code: edges, consumers, control edges, lazy values."""

from __future__ import annotations

import numpy as np

from graphlint.ir import validate
from graphlint.testing import GraphBuilder


def _model():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 3))
    w = b.const(np.arange(12, dtype=np.float32).reshape(3, 4), name="w")
    init = b.node("NoOp", name="init")
    y = b.op("MatMul", [x, w], name="y", control=[init])
    b.output(b.op("Relu", [y], name="out"))
    return b.build()


def test_edges_slots_and_consumers():
    m = _model()
    assert validate(m) == []
    assert [t.name for t in m.inputs_of("y")] == ["x", "w"]
    data = [(u, v, d["dst_slot"]) for u, v, d in m.g.edges(data=True) if not d["control"]]
    assert ("x", "y", 0) in data and ("w", "y", 1) in data and ("y", "out", 0) in data
    control = [(u, v) for u, v, d in m.g.edges(data=True) if d["control"]]
    assert control == [("init", "y")]
    assert m.tensors["y:0"].consumers == ["out"] and m.tensors["y:0"].shape == (2, 4)
    assert m.successors("y") == ["out"]


def test_values_are_read_on_demand():
    m = _model()
    assert not any(isinstance(v, np.ndarray) for _, a in m.g.nodes(data=True) for v in a["attrs"].values())
    np.testing.assert_array_equal(m.value("w:0"), np.arange(12, dtype=np.float32).reshape(3, 4))
    assert m.value("x:0") is None  # not a constant
    assert m.value("w:0", max_bytes=16) is None  # over the caller's budget


def test_networkx_view_holds_the_same_graph():
    m = _model()
    g = m.g
    assert type(g).__name__ == "MultiDiGraph" and g.graph["format"] == "graphdef"
    assert list(g.nodes(data=True)) == list(m.nodes.items())
    assert list(g.edges(keys=True, data=True)) == list(m.edges())
    assert sorted(g.predecessors("y")) == sorted(m.predecessors("y")) == ["init", "w", "x"]
    assert m.g is g  # built once

