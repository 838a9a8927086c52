"""The activation-scale estimate (graphlint_rules.magnitude) and the rules that read it: GL407 (a fused ReLU6
whose int16x8 range cannot hold 6.0) and GL406 (TFLite Micro's softmax on logits the weights make flat)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphlint.engine.runner import lint
from graphlint.loaders import load
from graphlint.testing import GraphBuilder
from graphlint_rules import support
from graphlint_rules.magnitude import INPUT_RMS
from graphlint_rules.quantization.gl407_vanishing_activations import INT16_RELU6_MIN_PEAK

RNG = np.random.default_rng(7)


def _estimate(b: GraphBuilder, tensor: str) -> float | None:
    model = load(b.to_bytes(), outputs=b.outputs)
    analysis = support.analyze(model)
    return analysis.magnitudes.rms(model.tensors[f"{tensor}:0"])


def _dense_stack(b: GraphBuilder, weights: list[np.ndarray]) -> str:
    h = b.placeholder("x", "float32", (1, weights[0].shape[0]))
    for i, w in enumerate(weights):
        h = b.op("Relu6", [b.op("MatMul", [h, b.const(w.astype("float32"), name=f"w{i}")], name=f"fc{i}")],
                 name=f"relu{i}")
    return h


def test_a_matmul_scales_the_rms_by_the_root_sum_of_squared_weights_per_output():
    w = RNG.standard_normal((16, 4)).astype("float32")
    b = GraphBuilder()
    b.output(b.op("MatMul", [b.placeholder("x", "float32", (1, 16)), b.const(w, name="w")], name="y"))
    expected = INPUT_RMS * math.sqrt(np.mean(np.sum(w.astype("float64") ** 2, axis=0)))
    assert _estimate(b, "y") == pytest.approx(expected, rel=1e-6)


def test_a_batch_norm_written_out_as_mul_and_add_is_folded_from_its_constants():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    var = b.const(np.full(4, 3.0, "float32"), name="var")
    factor = b.op("Rsqrt", [b.op("AddV2", [var, b.const(np.float32(1.0), name="eps")], name="add")], name="rsqrt")
    b.output(b.op("AddV2", [b.op("Mul", [x, factor], name="mul_1"), b.const(np.zeros(4, "float32"), name="shift")],
                  name="add_1"))
    assert _estimate(b, "add_1") == pytest.approx(INPUT_RMS * 0.5, rel=1e-6)  # x / sqrt(3 + 1)


def test_a_division_by_a_constant_scales_by_the_root_mean_square_of_its_inverse():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 2))
    b.output(b.op("RealDiv", [x, b.const(np.array([1.0, 2.0], "float32"), name="std")], name="y"),
             b.op("RealDiv", [x, b.const(np.array([0.0, 2.0], "float32"), name="zero")], name="z"))
    assert _estimate(b, "y") == pytest.approx(INPUT_RMS * math.sqrt((1.0 + 0.25) / 2))
    assert _estimate(b, "z") is None


def test_relu_halves_the_mean_square_and_an_unknown_op_is_unknown():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    b.output(b.op("Relu", [x], name="r"), b.op("Erf", [x], name="e"))
    assert _estimate(b, "r") == pytest.approx(INPUT_RMS / math.sqrt(2))
    assert _estimate(b, "e") is None


def test_a_chain_thousands_of_ops_deep_is_estimated_without_recursion():
    b = GraphBuilder()
    h = b.placeholder("x", "float32", (1, 4))
    for i in range(5000):
        h = b.op("Identity", [h], name=f"i{i}")
    b.output(h)
    assert _estimate(b, h) == pytest.approx(INPUT_RMS)


def test_constants_that_would_broadcast_to_a_huge_array_are_not_folded():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    column = b.const(np.ones((1 << 16, 1), "float32"), name="column")
    row = b.const(np.ones((1, 1 << 16), "float32"), name="row")
    scale = b.op("Mul", [b.op("AddV2", [column, row], name="outer"), b.const(np.float32(2.0), name="two")],
                 name="scale")  # 2^32 elements (32 GB) once broadcast: never computed, left unknown
    b.output(b.op("Mul", [x, scale], name="y"))
    assert _estimate(b, "y") is None


def _int16x8(b: GraphBuilder):
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("int16x8", "int8"))
    return report.verdicts(), [f for f in report.findings if f.code == "GL407"]


def test_the_estimate_of_a_relu6_input_is_its_producers_output():
    b = GraphBuilder()
    b.output(_dense_stack(b, [np.eye(8) for _ in range(2)]))
    assert _estimate(b, "fc1") == pytest.approx(INPUT_RMS / math.sqrt(2))


def test_an_untrained_relu6_stack_fails_int16x8_at_its_first_vanishing_layer():
    b = GraphBuilder()
    b.output(_dense_stack(b, [RNG.standard_normal((8, 8)) * 0.02 for _ in range(8)]))
    verdicts, found = _int16x8(b)
    assert verdicts["int16x8"]["verdict"] == "fail" and verdicts["int8"]["verdict"] == "pass"
    # each layer keeps about 0.02 * sqrt(8) / sqrt(2) = 4 % of its input's scale: 0.5 * 4 * 0.04^4 = 5e-6 is the
    # first peak ten times below the 9.2e-5 an int16x8 ReLU6 needs
    first = next(i for i in range(8) if 4 * _estimate(b, f"fc{i}") * 10 < INT16_RELU6_MIN_PEAK)
    assert first == 3
    assert len(found) == 1 and found[0].node == "relu3" and "no_integer_overflow_from_quantization" in found[0].message


def test_a_relu6_stack_that_keeps_its_scale_passes_and_a_plain_relu_is_not_checked():
    b = GraphBuilder()
    b.output(_dense_stack(b, [RNG.standard_normal((8, 8)) * 0.5 for _ in range(8)]))
    assert _int16x8(b) == ({"int16x8": {"verdict": "pass", "blocking": [], "warnings": []},
                            "int8": {"verdict": "pass", "blocking": [], "warnings": []}}, [])
    b = GraphBuilder()
    h = b.placeholder("x", "float32", (1, 8))
    for i in range(8):
        h = b.op("Relu", [b.op("MatMul", [h, b.const(np.full((8, 8), 1e-3, "float32"), name=f"w{i}")])])
    b.output(h)
    assert _int16x8(b)[1] == []  # quantizing 0.0 (a ReLU's clamp) never overflows
