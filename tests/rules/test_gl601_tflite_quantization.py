"""GL601 tflite-quantization: what quantization a ``.tflite`` really has, how its weights are quantized, and for each
quantized input and output the float range it stands for and how to feed or read it."""

from __future__ import annotations

import numpy as np
import pytest

from graphlint.engine.finding import Severity
from graphlint.testing import TFLiteBuilder

from ._models import ALL_TARGETS, findings, float16_dense, float_island, float_tanh, hybrid_dense, integer_relu


def _by_role(model: TFLiteBuilder) -> dict:
    """{'model': the one model-level finding, 'input': [...], 'output': [...]}."""
    got = findings(model, "GL601")
    assert all(f.severity_for(t) is Severity.INFO for f in got for t in ALL_TARGETS)
    (summary,) = [f for f in got if f.node is None]
    roles = {"model": summary, "input": [], "output": []}
    for f in got:
        if f.node is not None:
            roles[dict(f.data)["role"]].append(f)
    return roles


@pytest.mark.parametrize(("model", "kind", "says"), [
    (float_tanh, "float", "float: no quantization"),
    (float16_dense, "float16", "float16 weights"),
    (hybrid_dense, "dynamic-range", "dynamic-range (hybrid)"),
    (integer_relu, "full-integer", "full integer: every op computes on integers"),
    (lambda: integer_relu("int16", 0.001, 0), "16x8", "16x8: int16 activations, int8 weights"),
    (float_island, "mixed", "integer with float islands"),
], ids=["float", "float16", "dynamic-range", "full-integer", "16x8", "mixed"])
def test_the_kind_of_quantization_is_named(model, kind, says):
    summary = _by_role(model())["model"]
    assert summary.message.startswith(f"Quantization: {says}")
    assert dict(summary.data)["kind"] == kind


def test_a_float_model_gets_no_input_or_output_advice():
    roles = _by_role(float_tanh())
    assert roles["input"] == roles["output"] == []
    assert dict(roles["model"].data) == {"kind": "float", "per_axis_weights": 0, "quantized_weights": 0}


def test_an_int8_input_and_output_say_the_range_they_stand_for_and_how_to_feed_and_read_them():
    """scale 1/255, zero point -128: int8 -128..127 stands for [0, 1]; feed q = x * 255 - 128."""
    roles = _by_role(integer_relu("int8", 1 / 255, -128))
    (inp,), (out,) = roles["input"], roles["output"]
    assert inp.tensor == "x" and inp.op == "RELU" and out.tensor == "y" and out.op == "RELU"
    data = dict(inp.data)
    assert (data["dtype"], data["zero_point"], data["mean"]) == ("int8", -128, -128)
    assert data["min"] == pytest.approx(0.0) and data["max"] == pytest.approx(1.0)
    assert data["scale"] == pytest.approx(1 / 255) and data["std"] == pytest.approx(255.0)
    assert "represents floats in [0, 1]" in inp.message and "feed q = round(x / 0.00392157) + -128" in inp.message
    assert "mean=-128, std=255" in inp.message
    assert "read x = (q - -128) * 0.00392157" in out.message


def test_a_uint8_input_uses_the_uint8_range():
    roles = _by_role(integer_relu("uint8", 0.05, 128))
    data = dict(roles["input"][0].data)
    assert data["min"] == pytest.approx(-6.4) and data["max"] == pytest.approx(6.35)
    assert "[-6.4, 6.35]" in roles["input"][0].message and "mean=128, std=20" in roles["input"][0].message


def test_only_quantized_inputs_and_outputs_are_explained():
    """The mixed model reads int8 through a DEQUANTIZE and writes it through a QUANTIZE: the advice is on those."""
    roles = _by_role(float_island())
    assert [f.op for f in roles["input"]] == ["DEQUANTIZE"] and [f.op for f in roles["output"]] == ["QUANTIZE"]
    hybrid = _by_role(hybrid_dense())
    assert hybrid["input"] == hybrid["output"] == []  # float input and output


def test_an_input_quantized_per_channel_gets_no_single_range():
    b = TFLiteBuilder()
    x = b.input("x", "int8", (1, 2), quant=([0.1, 0.2], [0, 0], 1))
    y = b.tensor("y", "int8", (1, 2), quant=([0.1], [0]))
    b.op("RELU", [x], [y])
    b.output(y)
    roles = _by_role(b)
    assert roles["input"] == [] and [f.tensor for f in roles["output"]] == ["y"]


def test_weights_quantized_per_axis_are_counted_and_int32_biases_are_not():
    b = TFLiteBuilder()
    x = b.input("x", "int8", (1, 3, 3, 2), quant=([0.05], [0]))
    per_axis = b.tensor("w", "int8", (2, 1, 1, 2), data=np.ones((2, 1, 1, 2)), quant=([0.01, 0.02], [0, 0], 0))
    bias = b.tensor("bias", "int32", (2,), data=np.zeros(2), quant=([0.0005, 0.001], [0, 0], 0))
    per_tensor = b.tensor("w2", "int8", (2, 1, 1, 2), data=np.ones((2, 1, 1, 2)), quant=([0.01], [0]))
    h = b.tensor("h", "int8", (1, 3, 3, 2), quant=([0.05], [0]))
    y = b.tensor("y", "int8", (1, 3, 3, 2), quant=([0.05], [0]))
    b.op("CONV_2D", [x, per_axis, bias], [h], options=("Conv2DOptions", {"strideW": 1, "strideH": 1}))
    b.op("CONV_2D", [h, per_tensor], [y], options=("Conv2DOptions", {"strideW": 1, "strideH": 1}))
    b.output(y)
    summary = _by_role(b)["model"]
    assert dict(summary.data) == {"kind": "full-integer", "per_axis_weights": 1, "quantized_weights": 2}
    assert summary.message.endswith("; 1 of 2 quantized weight tensors per axis, the rest per tensor")


def test_a_model_without_operators_says_nothing():
    b = TFLiteBuilder()
    b.output(b.input("x", "int8", (1, 4), quant=([0.1], [0])))
    assert findings(b, "GL601") == []
