"""GL305 gpu-unsupported on a `.pb` and a `.tflite` alike: one rule for one concept. A `.pb` op is judged by the
builtins its float conversion writes (measured per case), a `.tflite` op by the builtin the file holds; both
by the GPU delegate's operation parsers and its 4-D limit. GL605, its `.tflite` twin until they merged, still
names it."""

from __future__ import annotations

from graphlint.engine.finding import Severity
from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.testing import GraphBuilder, TFLiteBuilder


def _gl305(data: bytes, name: str, targets=("gpu", "float"), selection: Selection | None = None):
    report = lint(data, name=name, targets=targets, selection=selection or Selection(select=("GL305",)))
    return [f for f in report.findings if f.code == "GL305"]


def _pb_argmax() -> bytes:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 10))
    b.output(b.op("ArgMax", [x, b.const(1, name="axis", dtype="int32")], name="label",
                  attrs={"output_type": "int32", "Tidx": "int32"}))
    return b.to_bytes()


def _tflite_argmax() -> bytes:
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 10))
    y = b.tensor("label", "int32", (1,))
    b.op("ARG_MAX", [x, b.tensor("axis", "int32", (), data=1)], [y])
    b.output(y)
    return b.to_bytes()


def test_an_op_without_a_gpu_parser_is_reported_in_both_formats_on_gpu_only():
    (pb,) = _gl305(_pb_argmax(), "m.pb")
    assert pb.node == "label" and dict(pb.data)["builtins"] == ["ARG_MAX"]
    assert "becomes ARG_MAX" in pb.message and "runs on the CPU" in pb.message
    (tfl,) = _gl305(_tflite_argmax(), "m.tflite")
    assert tfl.op == "ARG_MAX" and dict(tfl.data)["builtins"] == ["ARG_MAX"]
    assert "becomes" not in tfl.message and "is not taken by the GPU delegate" in tfl.message
    for finding in (pb, tfl):
        assert finding.severity_for("gpu") is Severity.ERROR
        assert finding.severity_for("float") is None
    assert _gl305(_pb_argmax(), "m.pb", targets=("float",)) == []


def test_ops_the_delegate_takes_are_not_reported():
    b = GraphBuilder()
    b.output(b.op("Softmax", [b.op("Relu", [b.placeholder("x", "float32", (1, 10))], name="act")], name="probs"))
    assert _gl305(b.to_bytes(), "m.pb") == []
    t = TFLiteBuilder()
    x, y = t.input("x", "float32", (1, 10)), t.tensor("y", "float32", (1, 10))
    t.op("SOFTMAX", [x], [y])
    t.output(y)
    assert _gl305(t.to_bytes(), "m.tflite") == []


def test_a_supported_op_above_4d_runs_on_the_cpu_in_both_formats():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 2, 3, 4, 5))
    b.output(b.op("Relu", [x], name="act5d"))
    (pb,) = _gl305(b.to_bytes(), "m.pb")
    assert pb.node == "act5d" and dict(pb.data) == {"rank": 5} and "5-D" in pb.message
    t = TFLiteBuilder()
    x5, y5 = t.input("x", "float32", (1, 2, 3, 4, 5)), t.tensor("y", "float32", (1, 2, 3, 4, 5))
    t.op("RELU", [x5], [y5])
    t.output(y5)
    (tfl,) = _gl305(t.to_bytes(), "m.tflite")
    assert tfl.op == "RELU" and dict(tfl.data) == {"rank": 5}
    b4 = GraphBuilder()
    b4.output(b4.op("Relu", [b4.placeholder("x", "float32", (1, 2, 3, 4))], name="act4d"))
    assert _gl305(b4.to_bytes(), "m.pb") == []


def test_a_custom_op_falls_back_to_the_cpu():
    t = TFLiteBuilder()
    x, y = t.input("x", "float32", (1, 10)), t.tensor("y", "float32", (1, 10))
    t.op("CUSTOM", [x], [y], custom="MyOp")
    t.output(y)
    assert [f.op for f in _gl305(t.to_bytes(), "m.tflite")] == ["MyOp"]


def test_the_merged_code_and_name_still_select_ignore_and_override_the_rule():
    data = _tflite_argmax()
    assert len(_gl305(data, "m.tflite", selection=Selection(select=("GL605",)))) == 1
    assert len(_gl305(data, "m.tflite", selection=Selection(select=("tflite-gpu-unsupported",)))) == 1
    assert _gl305(data, "m.tflite", selection=Selection(select=("GL3",), ignore=("GL605",))) == []
    assert _gl305(data, "m.tflite", selection=Selection(select=("GL305",), per_node_ignores={"*": ["GL605"]})) == []
    (warned,) = _gl305(data, "m.tflite", selection=Selection(select=("GL305",), severity={"GL605": "warning"}))
    assert warned.severity_for("gpu") is Severity.WARNING
    (by_name,) = _gl305(data, "m.tflite",
                        selection=Selection(select=("GL305",), severity={"tflite-gpu-unsupported": "info"}))
    assert by_name.severity_for("gpu") is Severity.INFO
