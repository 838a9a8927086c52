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


def test_lint_does_not_import_networkx(tmp_path):
    """The networkx view is built only on demand: importing networkx costs more than a typical lint."""
    import subprocess
    import sys
    import textwrap

    from graphlint.testing import TFLiteBuilder

    pb = tmp_path / "m.pb"
    pb.write_bytes(_model_bytes())
    tfl = TFLiteBuilder()
    x, y = tfl.input("x", "float32", (1, 4)), tfl.tensor("y", "float32", (1, 4))
    tfl.op("RELU", [x], [y])
    tfl.output(y)
    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(tfl.to_bytes())
    code = textwrap.dedent(f'''
        import sys, io, contextlib
        from graphlint.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main(["check", {str(pb)!r}, {str(tflite)!r}, "--format", "json", "--format", "sarif",
                  "--format", "text", "--exit-zero"])
        print("networkx" in sys.modules)
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def _model_bytes() -> bytes:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 3))
    w = b.const(np.arange(12, dtype=np.float32).reshape(3, 4), name="w")
    b.output(b.op("MatMul", [x, w], name="y"))
    return b.to_bytes()
