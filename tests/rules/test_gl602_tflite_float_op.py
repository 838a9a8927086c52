"""GL602 tflite-float-op: against an integer converter target, every op of a ``.tflite`` that still computes in
float (a float island of an integer model, a hybrid op), or the whole model when it is float or float16."""

from __future__ import annotations

import pytest

from graphlint.engine.finding import Severity
from graphlint.engine.targets import INTEGER_CONVERTER_TARGETS

from ._models import ALL_TARGETS, findings, float16_dense, float_island, float_tanh, hybrid_dense, integer_relu

NOT_ASKED = tuple(t for t in ALL_TARGETS if t not in INTEGER_CONVERTER_TARGETS)


def _warns_integer_targets_only(finding) -> None:
    assert set(INTEGER_CONVERTER_TARGETS) == {"int8", "int8-fallback", "uint8-qat", "int16x8"}
    assert all(finding.severity_for(t) is Severity.WARNING for t in INTEGER_CONVERTER_TARGETS)
    assert all(finding.severity_for(t) is None for t in NOT_ASKED)


def test_a_float_island_in_an_integer_model_is_named_and_its_boundaries_are_not():
    (finding,) = findings(float_island(), "GL602")
    assert finding.op == "NEG" and finding.node is not None
    _warns_integer_targets_only(finding)
    assert finding.message == "`neg` (NEG) computes in float in a model that is otherwise integer"
    assert finding.fix.title == "Check the source graph for the op's integer rewrite"


@pytest.mark.parametrize("model", [integer_relu, lambda: integer_relu("int16", 0.001, 0)], ids=["int8", "16x8"])
def test_an_integer_model_is_clean(model):
    assert findings(model(), "GL602") == []


@pytest.mark.parametrize(("model", "kind", "ops"), [(float_tanh, "float", 1), (float16_dense, "float16", 1)])
def test_a_float_or_float16_model_is_one_finding_for_the_whole_model(model, kind, ops):
    (finding,) = findings(model(), "GL602")
    assert finding.node is None
    _warns_integer_targets_only(finding)
    assert finding.message == (f"The model is {kind}: all {ops} ops compute in float, none in the integers an "
                               "integer target promises")
    assert "int8 settings" in finding.fix.title and "representative dataset" in finding.fix.title


def test_a_dynamic_range_model_names_its_hybrid_op_and_its_float_op():
    got = findings(hybrid_dense(), "GL602")
    assert [f.op for f in got] == ["FULLY_CONNECTED", "TANH"]
    for finding in got:
        _warns_integer_targets_only(finding)
    assert "hybrid op (int8 weights, float activations)" in got[0].message
    assert "hybrid" not in got[1].message and "computes in float" in got[1].message


def test_a_dynamic_range_models_ops_are_not_said_to_sit_in_an_integer_model():
    hybrid, tanh = findings(hybrid_dense(), "GL602")
    assert hybrid.message.startswith("`dense` (FULLY_CONNECTED) is a hybrid op")
    assert "otherwise integer" not in hybrid.message + tanh.message


def test_targets_that_promise_no_integers_are_not_asked():
    for model in (float_island, float_tanh, hybrid_dense):
        assert findings(model(), "GL602", targets=NOT_ASKED) == []
