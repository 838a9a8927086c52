"""Types and ranks as the converter legalizes them: string and complex tensors through the builtins that take
them, and TRANSPOSE's rank limit counted without size-1 axes. The verdicts come from cases measured with TF 2.21
(``gather_string_labels``, ``rfft_magnitude``, ``complex_real_imag``, ``string_join``, ``transpose_7d*``; the drift
test re-probes some of them)."""

from __future__ import annotations

import pytest

from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder

TARGETS = ("float", "dynamic", "int8", "tflm")


def _verdicts(b: GraphBuilder, **kwargs) -> tuple[dict, list]:
    report = lint(b.to_bytes(), targets=TARGETS, outputs=b.outputs, **kwargs)
    return {t: v["verdict"] for t, v in report.verdicts().items()}, report.findings


def test_a_string_label_table_gathered_after_argmax_converts():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    logits = b.op("MatMul", [x, b.const([[0.1] * 4] * 8, name="w")], name="logits")
    best = b.node("ArgMax", [logits, b.const(1, name="axis", dtype="int32")], name="best",
                  attrs={"T": "float32", "Tidx": "int32", "output_type": "int64"})
    labels = b.const(["cat", "dog", "bird", "fish"], name="labels")
    b.output(b.node("GatherV2", [labels, best, b.const(0, name="gaxis", dtype="int32")], name="label",
                    attrs={"Tparams": "string", "Tindices": "int64", "Taxis": "int32", "batch_dims": 0}))
    verdicts, findings = _verdicts(b)
    assert verdicts["float"] == "pass" and verdicts["dynamic"] == "pass", [f.message for f in findings]
    assert not [f for f in findings if f.code in ("GL203", "GL301")]


def test_a_spectrum_magnitude_converts_and_a_string_join_does_not():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 16))
    spectrum = b.node("RFFT", [x, b.const([16], name="n", dtype="int32")], name="rfft",
                      attrs={"Treal": "float32", "Tcomplex": "complex64"})
    b.output(b.node("ComplexAbs", [spectrum], name="magnitude", attrs={"T": "complex64", "Tout": "float32"}))
    verdicts, findings = _verdicts(b)
    assert verdicts["float"] == "pass", [f.message for f in findings]
    assert not [f for f in findings if f.code in ("GL203", "GL301")]

    s = GraphBuilder()
    text = s.placeholder("s", "string", (2, 3))
    s.output(s.node("StringJoin", [text, text], name="joined", attrs={"N": 2, "separator": "-"}))
    verdicts, findings = _verdicts(s)
    assert verdicts["float"] == "fail" and [f.node for f in findings if f.code == "GL301"] == ["joined"]


@pytest.mark.parametrize(("shape", "converts"), [
    ((2, 3, 2, 3, 2, 3), True),  # six axes: within the limit
    ((1, 2, 3, 2, 3, 2, 3), True),  # seven axes, one of size 1: the converter does not count it
    ((2, 3, 2, 3, 2, 3, 2), False),  # seven axes above 1
])
def test_transpose_rank_limit_counts_axes_above_one(shape, converts):
    b = GraphBuilder()
    x = b.placeholder("x", "float32", shape)
    perm = b.const(list(reversed(range(len(shape)))), name="perm", dtype="int32")
    b.output(b.op("Transpose", [x, perm], name="y", attrs={"Tperm": "int32"}))
    verdicts, findings = _verdicts(b)
    assert (verdicts["float"] != "fail") == converts, [f.message for f in findings]
    if len(shape) > 6:
        assert verdicts["tflm"] == "fail"  # TFLite Micro's TRANSPOSE counts every axis and stops at 5
