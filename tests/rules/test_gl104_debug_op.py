"""GL104 debug-op: ops that pass their input through at inference time (CheckNumerics, StopGradient,
PreventGradient, Snapshot, a Cast to the type the tensor has) on the inference path, each with a safe bypass."""

from __future__ import annotations

import pytest

from graphlint.engine.finding import Applicability, Severity
from graphlint.testing import GraphBuilder, savedmodel_view

from ._models import ALL_TARGETS, findings


def _through(op: str, attrs: dict) -> GraphBuilder:
    """x -> ``op`` (named ``dbg``) -> Relu -> y."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.output(b.op("Relu", [b.node(op, [x], name="dbg", attrs=attrs)], name="y"))
    return b


PASS_THROUGH = {
    "CheckNumerics": {"T": "float32", "message": "nan in logits"},
    "StopGradient": {"T": "float32"},
    "PreventGradient": {"T": "float32"},
    "Snapshot": {"T": "float32"},
    "Cast": {"SrcT": "float32", "DstT": "float32"},
}


@pytest.mark.parametrize("op", PASS_THROUGH)
def test_an_op_that_does_nothing_at_inference_is_reported_with_a_safe_bypass(op):
    (finding,) = findings(_through(op, PASS_THROUGH[op]), "GL104")
    assert finding.node == "dbg" and finding.op == op
    assert all(finding.severity_for(t) is Severity.INFO for t in ALL_TARGETS)
    assert finding.message == f"`dbg` ({op}) does nothing at inference time"
    assert finding.fix.title == "Remove `dbg`" and finding.fix.applicability is Applicability.SAFE
    assert [(e.kind, e.node) for e in finding.fix.edits] == [("bypass", "dbg")]


@pytest.mark.parametrize(("op", "attrs"), [
    ("Cast", {"SrcT": "float32", "DstT": "int32"}),  # a real conversion
    ("Cast", {}),  # types not recorded: nothing says the cast is a no-op
    ("Identity", {"T": "float32"}),  # the converter drops it too, but it is how graphs name tensors: not noise
    ("Relu", {"T": "float32"}),
], ids=["cast-to-int", "cast-untyped", "identity", "relu"])
def test_ops_that_compute_or_name_a_tensor_are_not_reported(op, attrs):
    assert findings(_through(op, attrs), "GL104") == []


def test_only_the_inference_path_counts():
    """A CheckNumerics on a branch the outputs do not reach is pruned by the converter, so it is not reported."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.node("CheckNumerics", [x], name="check_input", attrs={"T": "float32", "message": "nan"})
    b.output(b.op("Relu", [x], name="y"))
    assert findings(b, "GL104") == []
    assert [f.node for f in findings(b, "GL104", outputs=["y", "check_input"])] == ["check_input"]


def test_a_no_op_inside_a_function_body_is_not_reported():
    """The bypass edits the main graph only: a StopGradient in a loop body is left alone."""
    b = GraphBuilder()
    b.function("body", [("h", "float32")], lambda fb: [fb.op("Tanh", [fb.node("StopGradient", ["h"], name="sg",
                                                                              attrs={"T": "float32"})], name="t")])
    b.function("cond", [("h", "float32")],
               lambda fb: [fb.op("Less", [fb.op("Sum", ["h", fb.const([0, 1], name="axes", dtype="int32")],
                                                name="s"), fb.const(4.0, name="limit")], name="go")])
    x = b.placeholder("x", "float32", (1, 8))
    loop = b.node("StatelessWhile", [x], name="loop", attrs={"T": ["float32"], "body": {"func": "body"},
                                                             "cond": {"func": "cond"}})
    b.output(b.node("StopGradient", [loop], name="out", attrs={"T": "float32"}))
    assert [f.node for f in findings(b, "GL104")] == ["out"]


def test_a_saved_model_is_judged_as_its_frozen_graph():
    (finding,) = findings(savedmodel_view(_through("CheckNumerics", PASS_THROUGH["CheckNumerics"])), "GL104",
                          outputs=["y"])
    assert finding.node == "dbg"
