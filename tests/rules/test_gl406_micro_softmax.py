"""GL406 on a frozen graph: TFLite Micro's int8 softmax aborts once a row's exps sum to 512, so a softmax over
512 classes or more aborts on flat logits; a classifier whose bias is still all zeros (untrained), or whose
weights spread the logits by a few hundredths, has them."""

from __future__ import annotations

import numpy as np
import pytest

from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder


def _classifier(classes: int, bias: float, *, through_read: bool = False, weight_std: float = 1.0,
                unknown_features: bool = False) -> GraphBuilder:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 16))
    if unknown_features:  # an op the estimate does not model: the logits' spread is unknown
        x = b.op("Erf", [x], name="features")
    kernel = np.random.default_rng(3).standard_normal((16, classes)).astype("float32") * weight_std
    logits = b.op("MatMul", [x, b.const(kernel, name="kernel")], name="dense/MatMul")
    bias_t = b.const([bias] * classes, name="bias")
    if through_read:  # a frozen variable read: the bias reaches BiasAdd through Identity
        bias_t = b.node("Identity", [bias_t], name="bias/read")
    logits = b.op("BiasAdd", [logits, bias_t], name="dense/BiasAdd")
    b.output(b.op("Softmax", [b.node("Identity", [logits], name="logits")], name="probs"))
    return b


def _run(b: GraphBuilder):
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("tflm", "int8"))
    return report.verdicts(), [f for f in report.findings if f.code == "GL406"]


def test_an_untrained_1000_class_softmax_aborts_on_micro():
    for through_read in (False, True):
        verdicts, found = _run(_classifier(1000, 0.0, through_read=through_read, weight_std=0.01))
        assert verdicts["tflm"]["verdict"] == "fail" and verdicts["int8"]["verdict"] == "pass"
        assert [f.node for f in found] == ["probs"] and "estimated from the weights" in found[0].message


def test_a_zero_bias_whose_logit_spread_is_unknown_is_a_warning():
    for through_read in (False, True):
        verdicts, found = _run(_classifier(1000, 0.0, through_read=through_read, unknown_features=True))
        assert "GL406" in verdicts["tflm"]["warnings"] and "GL406" not in verdicts["tflm"]["blocking"]
        assert [f.severity.value for f in found] == ["warning"] and "bias is all zeros" in found[0].message


def test_a_trained_looking_classifier_is_told_about_the_limit_only():
    verdicts, found = _run(_classifier(1000, 0.05))
    assert verdicts["tflm"]["verdict"] == "pass"
    assert [f.severity.value for f in found] == ["info"] and "1000 classes" in found[0].message


def test_weights_that_make_every_row_flat_abort_whatever_the_bias():
    verdicts, found = _run(_classifier(1000, 0.05, weight_std=0.002))
    assert verdicts["tflm"]["verdict"] == "fail"
    assert [f.node for f in found] == ["probs"] and "estimated from the weights to spread" in found[0].message


@pytest.mark.parametrize("classes", [10, 1000])
def test_logits_too_small_for_the_kernel_abort_while_preparing_whatever_the_classes(classes):
    verdicts, found = _run(_classifier(classes, 1e-9, weight_std=1e-9))
    assert verdicts["tflm"]["verdict"] == "fail" and "aborts while preparing" in found[0].message


def test_fewer_than_512_classes_cannot_reach_the_limit():
    verdicts, found = _run(_classifier(511, 0.0, weight_std=0.01))
    assert verdicts["tflm"]["verdict"] == "pass" and not found
