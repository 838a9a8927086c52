"""GL103 dropout-left-on: a random op on the inference path, and where it drives a dropout mask, the node where
the mask is applied (what ``graphlint fix --unsafe-fixes`` removes)."""

from __future__ import annotations

import pytest

from graphlint.engine.finding import Applicability, Severity
from graphlint.testing import GraphBuilder, savedmodel_view

from ._models import ALL_TARGETS, findings


def _random(b: GraphBuilder, op: str = "RandomUniform", name: str = "dropout/random_uniform") -> str:
    return b.node(op, [b.const([1, 8], name=f"{name}/shape", dtype="int32")], name=name,
                  attrs={"dtype": "float32", "T": "int32"})


def tf2_dropout(b: GraphBuilder, x: str, *, training: bool = True) -> str:
    """``tf.nn.dropout(x, rate=0.2)`` as TF2 writes it (random >= rate selects x / 0.8, else 0); with
    ``training=False`` the inference graph, which scales nothing and draws nothing."""
    if not training:
        return b.op("Mul", [x, b.const(1.0, name="dropout/identity_scale")], name="dropout/Mul")
    keep = b.op("GreaterEqual", [_random(b), b.const(0.2, name="dropout/rate")], name="dropout/GreaterEqual")
    scaled = b.op("Mul", [x, b.const(1.25, name="dropout/scale")], name="dropout/Mul")
    return b.node("SelectV2", [keep, scaled, b.const([[0.0] * 8], name="dropout/zeros")], name="dropout/SelectV2",
                  attrs={"T": "float32"})


def tf1_dropout(b: GraphBuilder, x: str) -> str:
    """TF1's ``tf.nn.dropout(x, keep_prob=0.8)``: x / 0.8 * floor(0.8 + random)."""
    keep = b.const(0.8, name="dropout/keep_prob")
    mask = b.op("Floor", [b.op("AddV2", [keep, _random(b)], name="dropout/add")], name="dropout/Floor")
    return b.op("Mul", [b.op("RealDiv", [x, keep], name="dropout/div"), mask], name="dropout/mul")


def _model(dropout, **kwargs) -> GraphBuilder:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.output(b.op("Relu", [dropout(b, x, **kwargs)], name="y"))
    return b


@pytest.mark.parametrize(("dropout", "applied_at"), [(tf2_dropout, "dropout/SelectV2"), (tf1_dropout, "dropout/mul")],
                         ids=["tf2-select", "tf1-floor-mul"])
def test_dropout_in_training_mode_is_reported_where_its_mask_is_applied(dropout, applied_at):
    (finding,) = findings(_model(dropout), "GL103")
    assert finding.node == "dropout/random_uniform" and finding.op == "RandomUniform"
    assert all(finding.severity_for(t) is Severity.INFO for t in ALL_TARGETS)
    assert dict(finding.data) == {"applied_at": applied_at}
    assert f"applied at `{applied_at}`" in finding.message and "dropout is on" in finding.message
    assert finding.fix.title == f"Remove the dropout block ending at `{applied_at}`"
    assert finding.fix.applicability is Applicability.UNSAFE  # removing it changes the outputs
    assert [(e.kind, e.node) for e in finding.fix.edits] == [("remove-dropout", applied_at)]


def test_the_inference_graph_of_the_same_dropout_is_clean():
    assert findings(_model(tf2_dropout, training=False), "GL103") == []


@pytest.mark.parametrize("op", ["RandomUniform", "RandomStandardNormal", "TruncatedNormal"])
def test_a_random_op_that_is_no_mask_is_reported_without_an_automatic_fix(op):
    """Noise added to the activations (no mask multiplied in): the rule names the op, and only a person can say
    what to put in its place."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.output(b.op("AddV2", [x, _random(b, op, name="noise")], name="y"))
    (finding,) = findings(b, "GL103")
    assert finding.node == "noise" and finding.op == op and finding.severity is Severity.INFO
    assert "random op on the inference path" in finding.message and "every run" in finding.message
    assert "applied_at" not in dict(finding.data)
    assert finding.fix.title == "Remove `noise` from the inference graph"
    assert finding.fix.applicability is Applicability.DISPLAY and finding.fix.edits == ()


def test_a_mask_scaled_by_a_constant_is_followed_to_where_it_meets_the_activations():
    """Random * constant is still the mask (scaled); it is applied where it meets the activations, at SelectV2."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    scaled_noise = b.op("Mul", [_random(b), b.const(1.25, name="scale")], name="noise_scaled")
    keep = b.op("Greater", [scaled_noise, b.const(0.5, name="rate")], name="keep")
    b.output(b.node("SelectV2", [keep, x, b.const([[0.0] * 8], name="zeros")], name="y", attrs={"T": "float32"}))
    (finding,) = findings(b, "GL103")
    assert dict(finding.data) == {"applied_at": "y"}  # not noise_scaled, whose other input is a constant


def test_a_stateless_random_op_is_reported_too():
    """Keras 3 draws its dropout masks with stateless random ops (the seed frozen into a constant)."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    keep = b.op("GreaterEqual", [_random(b, "StatelessRandomUniformV2", name="seeded"), b.const(0.2, name="rate")],
                name="keep")
    b.output(b.node("SelectV2", [keep, x, b.const([[0.0] * 8], name="zeros")], name="y", attrs={"T": "float32"}))
    (finding,) = findings(b, "GL103")
    assert finding.node == "seeded" and dict(finding.data) == {"applied_at": "y"}


def test_a_random_op_the_outputs_do_not_reach_is_not_reported():
    """The converter prunes what the outputs do not reach (a training-only branch left beside the model)."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    tf2_dropout(b, x)
    b.output(b.op("Relu", [x], name="y"))
    assert findings(b, "GL103") == []
    assert len(findings(b, "GL103", outputs=["y", "dropout/SelectV2"])) == 1


def test_a_saved_model_is_judged_as_its_frozen_graph():
    (finding,) = findings(savedmodel_view(_model(tf1_dropout)), "GL103", outputs=["y"])
    assert finding.node == "dropout/random_uniform" and dict(finding.data) == {"applied_at": "dropout/mul"}
