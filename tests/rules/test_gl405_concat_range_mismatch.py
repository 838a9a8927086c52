"""GL405 concat-range-mismatch: on the uint8-qat path, a Concat whose inputs were recorded by FakeQuant nodes with
different ranges, and how many of the 256 levels the narrowest input keeps in the output's range."""

from __future__ import annotations

import pytest

from graphlint.engine.finding import Severity
from graphlint.testing import GraphBuilder

from ._models import ALL_TARGETS, findings


def fake_quant(b: GraphBuilder, t: str, name: str, low: float, high: float, *, variables: bool = False) -> str:
    """A FakeQuant recording [low, high]: as attributes (``...Args``) or as constant min and max inputs
    (``...Vars``, what quantization-aware training freezes)."""
    if variables:
        bounds = [b.const(low, name=f"{name}/min"), b.const(high, name=f"{name}/max")]
        return b.node("FakeQuantWithMinMaxVars", [t, *bounds], name=name, attrs={"num_bits": 8})
    return b.node("FakeQuantWithMinMaxArgs", [t], name=name, attrs={"min": low, "max": high, "num_bits": 8})


def concat(b: GraphBuilder, parts: list[str], op: str = "ConcatV2") -> str:
    axis = b.const(1, name="axis", dtype="int32")
    inputs = [*parts, axis] if op == "ConcatV2" else [axis, *parts]  # Concat (v1) takes the axis first
    return b.node(op, inputs, name="concat", attrs={"T": "float32", "N": len(parts), "Tidx": "int32"})


def two_ranges(narrow: tuple[float, float], wide: tuple[float, float], *, variables: bool = False,
               op: str = "ConcatV2") -> GraphBuilder:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    a = fake_quant(b, x, "a_fq", *narrow, variables=variables)
    c = fake_quant(b, b.op("Mul", [x, b.const(3.0, name="three")], name="wide"), "c_fq", *wide, variables=variables)
    b.output(concat(b, [a, c], op))
    return b


@pytest.mark.parametrize("variables", [False, True], ids=["min-max-args", "min-max-vars"])
@pytest.mark.parametrize("op", ["ConcatV2", "Concat"])
def test_a_concat_of_inputs_with_different_ranges_is_reported_on_the_uint8_path(variables, op):
    (finding,) = findings(two_ranges((-1.0, 1.0), (-4.0, 4.0), variables=variables, op=op), "GL405")
    assert finding.node == "concat" and finding.op == op
    assert finding.severity_for("uint8-qat") is Severity.INFO
    assert [t for t in ALL_TARGETS if finding.severity_for(t) is not None] == ["uint8-qat"]
    assert dict(finding.data) == {"ranges": [[-1.0, 1.0], [-4.0, 4.0]]}
    assert finding.message == ("`concat` concatenates inputs recorded in [-1, 1], [-4, 4]: in the output range "
                               "[-4, 4] the input in [-1, 1] keeps about 64 of 256 levels")
    assert finding.fix.title == "Give the inputs of `concat` one shared FakeQuant range"


def test_the_same_concat_with_one_shared_range_is_clean():
    assert findings(two_ranges((-4.0, 4.0), (-4.0, 4.0)), "GL405") == []


def test_other_targets_are_not_asked():
    b = two_ranges((-1.0, 1.0), (-4.0, 4.0))
    assert findings(b, "GL405", targets=tuple(t for t in ALL_TARGETS if t != "uint8-qat")) == []


def test_levels_are_counted_in_the_union_of_the_ranges_and_each_range_is_shown_once():
    """[0, 6] and [-6, 6]: the output range is [-6, 6], and a [0, 6] input keeps half of it. A range recorded twice
    is listed once in the message (all three in the data)."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    relu6 = fake_quant(b, b.op("Relu6", [x], name="relu6"), "r_fq", 0.0, 6.0)
    signed = fake_quant(b, x, "s_fq", -6.0, 6.0)
    again = fake_quant(b, b.op("Relu", [x], name="relu"), "q_fq", 0.0, 6.0)
    b.output(concat(b, [relu6, signed, again]))
    (finding,) = findings(b, "GL405")
    assert "recorded in [0, 6], [-6, 6]:" in finding.message and "keeps about 128 of 256 levels" in finding.message
    assert dict(finding.data) == {"ranges": [[0.0, 6.0], [-6.0, 6.0], [0.0, 6.0]]}


def test_a_range_is_followed_through_ops_that_keep_it_and_not_through_others():
    """A FakeQuant's range reaches the concat through Relu, Reshape, MaxPool ...; a Tanh makes a new range, which
    nothing recorded here: with one known range left there is nothing to compare."""
    kept = GraphBuilder()
    x = kept.placeholder("x", "float32", (1, 4))
    through = kept.op("Relu", [kept.node("Identity", [fake_quant(kept, x, "c_fq", -4.0, 4.0)], name="id",
                                         attrs={"T": "float32"})], name="relu")
    kept.output(concat(kept, [fake_quant(kept, x, "a_fq", -1.0, 1.0), through]))
    (finding,) = findings(kept, "GL405")
    assert dict(finding.data) == {"ranges": [[-1.0, 1.0], [-4.0, 4.0]]}
    lost = GraphBuilder()
    x = lost.placeholder("x", "float32", (1, 4))
    lost.output(concat(lost, [fake_quant(lost, x, "a_fq", -1.0, 1.0),
                              lost.op("Tanh", [fake_quant(lost, x, "c_fq", -4.0, 4.0)], name="tanh")]))
    assert findings(lost, "GL405") == []


def test_a_constant_input_has_no_recorded_range():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    b.output(concat(b, [fake_quant(b, x, "a_fq", -1.0, 1.0), b.const([[9.0] * 4], name="table")]))
    assert findings(b, "GL405") == []


def test_a_graph_without_fake_quant_is_not_judged():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    b.output(concat(b, [x, b.op("Mul", [x, b.const(2.0, name="two")], name="twice")]))
    assert findings(b, "GL405") == []


def test_a_concat_the_outputs_do_not_reach_is_not_reported():
    b = two_ranges((-1.0, 1.0), (-4.0, 4.0))
    b.outputs.clear()
    b.output("a_fq")
    assert findings(b, "GL405") == []
