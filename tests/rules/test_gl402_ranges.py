"""GL402 on the legacy uint8 path: which tensors get a range without a FakeQuant of their own (measured with TF
2.21: a concat shares one range with all its operands, AvgPool and MaxPool pass a range back to their input,
Mean takes its input's range but passes none back)."""

from __future__ import annotations

import pytest

from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder

CONV = {"strides": [1, 1, 1, 1], "padding": "SAME"}
POOL = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}


def _fq(b: GraphBuilder, t: str, name: str, low: float = 0.0, high: float = 6.0) -> str:
    return b.node("FakeQuantWithMinMaxArgs", [t], name=name, attrs={"min": low, "max": high, "num_bits": 8})


def _conv(b: GraphBuilder, x: str, name: str) -> str:
    w = _fq(b, b.const([[[[0.1] * 4] * 4] * 3] * 3, name=f"{name}/w"), f"{name}/w_fq", -1.0, 1.0)
    return b.op("Relu", [b.op("Conv2D", [x, w], name=name, attrs=CONV)], name=f"{name}/relu")


def _flagged(b: GraphBuilder) -> list[str]:
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("uint8-qat",))
    return sorted(f.node or "model" for f in report.findings if f.code == "GL402")


def test_an_unranged_conv_concatenated_with_a_ranged_tensor_shares_its_range():
    b = GraphBuilder()
    x = _fq(b, b.placeholder("x", "float32", (1, 8, 8, 4)), "x_fq", -1.0, 1.0)
    ranged = _fq(b, _conv(b, x, "a"), "a_fq")
    b.output(b.op("ConcatV2", [ranged, _conv(b, x, "b"), b.const(3, name="axis", dtype="int32")], name="cat"))
    assert _flagged(b) == []


@pytest.mark.parametrize(("pool", "flagged"), [("Mean", ["c"]), ("AvgPool", []), ("MaxPool", [])])
def test_a_range_after_a_pool_reaches_back_to_the_conv_except_through_mean(pool, flagged):
    b = GraphBuilder()
    x = _fq(b, b.placeholder("x", "float32", (1, 8, 8, 4)), "x_fq", -1.0, 1.0)
    conv = b.op("Conv2D", [x, _fq(b, b.const([[[[0.1] * 4] * 4]], name="w"), "w_fq", -1.0, 1.0)], name="c",
                attrs=CONV)
    if pool == "Mean":
        pooled = b.op("Mean", [conv, b.const([1, 2], name="axes", dtype="int32")], name="pool")
    else:
        pooled = b.op(pool, [conv], name="pool", attrs=POOL)
    b.output(_fq(b, pooled, "y", -8.0, 8.0))
    assert _flagged(b) == flagged


def test_a_graph_without_fake_quant_whose_convs_meet_the_input_in_a_concat_is_quantized():
    # inception-like: the input's quantized_input_stats range reaches the branches through the concat
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8, 8, 4))
    plain = [b.op("Relu", [b.op("Conv2D", [x, b.const([[[[0.1] * 4] * 4]], name=f"w{i}")], name=f"c{i}",
                                attrs=CONV)], name=f"r{i}") for i in range(2)]
    pooled = b.op("MaxPool", [x], name="pool", attrs={**POOL, "strides": [1, 1, 1, 1], "padding": "SAME"})
    b.output(b.op("ConcatV2", [*plain, pooled, b.const(3, name="axis", dtype="int32")], name="cat"))
    assert _flagged(b) == []
