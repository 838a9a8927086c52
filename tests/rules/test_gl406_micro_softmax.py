"""GL406 on a frozen graph: TFLite Micro's int8 softmax aborts once a row's exps sum to 512, so a softmax over
512 classes or more aborts on flat logits; a classifier whose bias is still all zeros (untrained) has them."""

from __future__ import annotations

from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder


def _classifier(classes: int, bias: float, *, through_read: bool = False) -> GraphBuilder:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 16))
    logits = b.op("MatMul", [x, b.const([[0.01] * classes] * 16, name="kernel")], name="dense/MatMul")
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
        verdicts, found = _run(_classifier(1000, 0.0, through_read=through_read))
        assert verdicts["tflm"]["verdict"] == "fail" and verdicts["int8"]["verdict"] == "pass"
        assert [f.node for f in found] == ["probs"] and "bias is all zeros" in found[0].message


def test_a_trained_looking_classifier_is_told_about_the_limit_only():
    verdicts, found = _run(_classifier(1000, 0.05))
    assert verdicts["tflm"]["verdict"] == "pass"
    assert [f.severity.value for f in found] == ["info"] and "1000 classes" in found[0].message


def test_fewer_than_512_classes_cannot_reach_the_limit():
    verdicts, found = _run(_classifier(511, 0.0))
    assert verdicts["tflm"]["verdict"] == "pass" and not found
