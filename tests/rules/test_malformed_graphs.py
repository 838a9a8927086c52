"""A graph with an op missing its operands is still linted: no rule crashes on it (a crash would be a GL900
finding and the loss of that rule's checks). Each case crashed a rule once."""

from __future__ import annotations

from graphlint.engine.runner import lint
from graphlint.engine.targets import TARGETS
from graphlint.testing import GraphBuilder


def _crashes(b: GraphBuilder) -> list[str]:
    report = lint(b.to_bytes(), outputs=b.outputs, targets=tuple(TARGETS))
    return [f.message for f in report.findings if f.code == "GL900"]


def test_a_softmax_shape_whose_sum_has_no_operand():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 10))
    b.output(b.op("RealDiv", [b.op("Exp", [x], name="e"), b.op("Sum", [], name="total")], name="probs"))
    assert _crashes(b) == []


def test_a_transposed_conv_without_its_input_operand():
    b = GraphBuilder()
    b.placeholder("x", "float32", (1, 4, 4, 2))
    w = b.const([[[[0.5, 0.5], [0.5, 0.5]]]], name="w")
    up = b.op("Conv2DBackpropInput", [b.const([1, 4, 4, 2], name="size", dtype="int32"), w], name="up",
              attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
    b.output(b.op("Relu6", [up], name="act"))
    assert _crashes(b) == []
