"""GL406 data-dependent-abort."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.ir import TensorInfo
from graphlint_rules import support
from graphlint_rules.magnitude import MARGIN, peak
from graphlint_rules.micro import (
    MICRO_SOFTMAX_MIN_RANGE,
    SOFTMAX_SUM_LIMIT,
    SPREAD_MARGIN,
    flat_row_sum,
)
from graphlint_rules.patterns import uniform_value

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

_DIVISIONS = frozenset({"RealDiv", "Div"})
_TARGETS = ("int8", "int8-fallback")
_PASS_THROUGH = frozenset({"Identity", "Reshape", "Squeeze", "ExpandDims"})
_BIAS_ADDS = frozenset({"BiasAdd", "Add", "AddV2"})
_LOOK_BACK = 4  # ops walked back from a softmax to its classifier's bias


def _divisor(model: ModelGraph, node: str) -> TensorInfo | None:
    inputs = model.inputs_of(node)
    return inputs[1] if len(inputs) > 1 else None


def _classes(model: ModelGraph, node: str) -> int | None:
    inputs = model.inputs_of(node)
    shape = inputs[0].shape if inputs else None
    return shape[-1] if shape and isinstance(shape[-1], int) else None


def _zero_bias(model: ModelGraph, node: str) -> bool:
    """Whether the logits a softmax reads come from adding an all-zero constant bias: a classifier as Keras
    initializes it, never trained (a trained bias is not exactly zero)."""
    tensor = model.inputs_of(node)[0]
    for _ in range(_LOOK_BACK):
        producer = tensor.producer
        if producer is None or model.nodes[producer]["kind"] != "op":
            return False
        op, inputs = model.nodes[producer]["op"], model.inputs_of(producer)
        if op in _BIAS_ADDS:
            return len(inputs) == 2 and uniform_value(model, inputs[1]) == 0.0
        if op not in _PASS_THROUGH or not inputs:
            return False
        tensor = inputs[0]
    return False


class DataDependentAbort(Rule):
    """## What it does
    Points at integer kernels that check the data at invoke time, so the converted model runs on some
    inputs and stops on others. Measured with TF 2.21 and LiteRT: an int8 `DIV` whose divisor is a tensor
    (not a constant, which the converter turns into a MUL) fails at invoke with "div.cc data[i] !=
    zero_point was not true" when any divisor element quantizes to the divisor's zero point, i.e. lies
    within half a quantization step of 0 (case `realdiv_zero_range`, divisor in [-1, 1]: int8 and
    int8-fallback fail; case `realdiv`, divisor in [0.5, 2]: both run).

    TFLite Micro's reference int8 `SOFTMAX` sums a row's exps in Q12.19 and aborts the program at invoke
    once the sum reaches 512 (see GL304): a softmax over 512 classes or more aborts on every input whose
    logits are flat, with hundreds of classes within ln(classes / 512) of the largest: inputs far from the
    training data, and every input of an untrained classifier. The rule estimates from the weights how far
    the logits spread across classes (see GL407: the mean square of each activation carried from an input
    scaled to [-1, 1]) and reports an error for `tflm` when a row of logits spread 1.5 times wider than that
    still sums to 512 (a normal spread s over N classes sums to about N exp(s^2 / 2 - s sqrt(2 ln N))), or when
    the logits are estimated to span less than 255 / 2^26, too little for the kernel to prepare (input scale *
    beta * 2^26 must be above 1). A classifier whose bias is all zeros, as Keras initializes it, but whose
    spread cannot be estimated gets a warning: measured, a zero-bias Keras `Dense(1000)` aborts and a
    `Dense(700)` runs.

    ## Why is this bad?
    Whether it happens depends on the calibration ranges and on each input: the model passes a test on a
    few samples and stops on the device (`Invoke` returns an error) on the first input whose divisor comes
    close to zero. The integer range of an int8 tensor always includes 0, so a divisor whose calibrated
    range starts near 0 (a sum of ReLU outputs, a norm, `x + eps` with a small `eps`) is exposed.

    ## Example
    `y = x / (tf.reduce_sum(tf.nn.relu(x), -1, keepdims=True) + 1e-6)` converted for int8.

    ## How to fix
    Keep the divisor away from zero by more than its quantization step (e.g. `+ 1.0` or a clamp with
    `tf.maximum(d, range / 128)`), rewrite the division as a multiplication by a reciprocal computed where
    the range is known, or leave this op in float (int8-fallback with a float division).
    """

    code = "GL406"
    name = "data-dependent-abort"
    summary = "An integer kernel checks its data at invoke (int8 DIV, micro's int8 SOFTMAX): some inputs abort"
    category = Category.QUANTIZATION
    severity = Severity.INFO
    formats = frozenset({"graphdef"})
    targets = (*_TARGETS, "tflm")

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        if ctx.wants("tflm"):
            yield from self._softmaxes(model, analysis)
        if not ctx.wants(*_TARGETS):
            return
        for node, attrs in model.ops():
            matched = analysis.support.get(node)
            if attrs["op"] not in _DIVISIONS or matched is None or matched.op != attrs["op"]:
                continue  # dead, folded, or absorbed into a pattern (a division by a constant is a MUL)
            divisor = _divisor(model, node)
            if divisor is None or divisor.is_const or divisor.producer in analysis.folded:
                continue
            yield self.report(
                model, node, f"`{attrs['name']}` divides by tensor `{divisor.name}`: LiteRT's int8 DIV stops at "
                "invoke (\"data[i] != zero_point\") whenever a divisor element quantizes to the divisor's zero "
                "point, i.e. comes within half a quantization step of 0; whether it does depends on the "
                "calibration and on each input", tensor=divisor, targets=_TARGETS,
                fix=Fix(f"Keep `{divisor.name}` away from 0 by more than its quantization step, or compute the "
                        "division in float"))

    def _softmaxes(self, model: ModelGraph, analysis: support.Analysis) -> Iterator[Finding]:
        fix = Fix("Convert trained weights for TFLite Micro, or output the logits and apply the softmax in the "
                  "application")
        for node, attrs in model.ops():
            if attrs["op"] != "Softmax" or node not in analysis.live or not model.inputs_of(node):
                continue
            rms = analysis.magnitudes.rms(model.inputs_of(node)[0])
            if rms is not None and 2 * peak(rms) * MARGIN < MICRO_SOFTMAX_MIN_RANGE:
                yield self.report(
                    model, node, f"`{attrs['name']}` reads logits estimated from the weights to span about "
                    f"{2 * peak(rms):.2g}: calibrated to that, TFLite Micro's int8 SOFTMAX gets input scale * beta * "
                    f"2^26 below 1 and aborts while preparing (an untrained network's activations vanish)",
                    targets=["tflm"], severity=Severity.ERROR, fix=fix)
                continue
            classes = _classes(model, node)
            if classes is None or classes < SOFTMAX_SUM_LIMIT:
                continue
            severity, why = self._softmax_verdict(model, node, classes, rms)
            yield self.report(
                model, node, f"`{attrs['name']}` is a softmax over {classes} classes: TFLite Micro's int8 SOFTMAX "
                f"aborts at invoke when a row's exps sum to {SOFTMAX_SUM_LIMIT} or more; {why}",
                targets=["tflm"], severity=severity, fix=fix)

    @staticmethod
    def _softmax_verdict(model: ModelGraph, node: str, classes: int, rms: float | None) -> tuple[Severity | None, str]:
        """ERROR with the reason when the weights make every row flat, else (WARNING or None, what it depends on)."""
        if rms is not None and flat_row_sum(classes, rms * SPREAD_MARGIN) >= SOFTMAX_SUM_LIMIT:
            return Severity.ERROR, (
                f"its logits are estimated from the weights to spread by about {rms:.2g} across classes, so a row "
                f"sums to about {flat_row_sum(classes, rms):.0f}: every input aborts (the weights look untrained)")
        if rms is None and _zero_bias(model, node):
            return Severity.WARNING, ("its classifier's bias is all zeros, as Keras initializes it: an untrained "
                                      "model's logits can be flat enough for every input to abort")
        return None, ("whether an input does depends on its logits (flat ones do: an untrained model, inputs "
                      "unlike the training data)")

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        d = b.op("Relu", [b.placeholder("d", "float32", (1, 8))], name="d_relu")
        b.output(b.op("RealDiv", [x, d], name="y"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("RealDiv", [x, b.const([2.0] * 8, name="two")], name="y"))
