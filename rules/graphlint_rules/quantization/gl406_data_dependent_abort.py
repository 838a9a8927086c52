"""GL406 data-dependent-abort."""

from graphlint.engine.finding import Fix, Severity
from graphlint.engine.rule import Category, Rule
from graphlint_rules import support
from graphlint_rules.patterns import uniform_value
from graphlint_rules.tflite.gl604_tflite_micro_unsupported import SOFTMAX_SUM_LIMIT

_DIVISIONS = frozenset({"RealDiv", "Div"})
_TARGETS = ("int8", "int8-fallback")
_PASS_THROUGH = frozenset({"Identity", "Reshape", "Squeeze", "ExpandDims"})
_BIAS_ADDS = frozenset({"BiasAdd", "Add", "AddV2"})
_LOOK_BACK = 4  # ops walked back from a softmax to its classifier's bias


def _divisor(model, node):
    inputs = model.inputs_of(node)
    return inputs[1] if len(inputs) > 1 else None


def _classes(model, node) -> int | None:
    inputs = model.inputs_of(node)
    shape = inputs[0].shape if inputs else None
    return shape[-1] if shape and isinstance(shape[-1], int) else None


def _zero_bias(model, node) -> bool:
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
    once the sum reaches 512 (see GL604): a softmax over 512 classes or more aborts on every input whose
    logits are flat, with hundreds of classes within ln(classes / 512) of the largest. That is every input
    of an untrained classifier (reported as an error for `tflm` when the classifier's bias is all zeros, as
    Keras initializes it), and inputs far from the training data.

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

    def check(self, model, ctx):
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

    def _softmaxes(self, model, analysis):
        for node, attrs in model.ops():
            classes = _classes(model, node) if attrs["op"] == "Softmax" and node in analysis.live else None
            if classes is None or classes < SOFTMAX_SUM_LIMIT:
                continue
            untrained = _zero_bias(model, node)
            why = ("its classifier's bias is all zeros, as Keras initializes it: an untrained model's logits are "
                   "flat, so every input aborts" if untrained else "whether an input does depends on its logits "
                   "(flat ones do: an untrained model, inputs unlike the training data)")
            yield self.report(
                model, node, f"`{attrs['name']}` is a softmax over {classes} classes: TFLite Micro's int8 SOFTMAX "
                f"aborts at invoke when a row's exps sum to {SOFTMAX_SUM_LIMIT} or more; {why}",
                targets=["tflm"], severity=Severity.ERROR if untrained else None,
                fix=Fix("Convert trained weights for TFLite Micro, or output the logits and apply the softmax "
                        "in the application"))

    @staticmethod
    def bad_example(b):
        x = b.placeholder("x", "float32", (1, 8))
        d = b.op("Relu", [b.placeholder("d", "float32", (1, 8))], name="d_relu")
        b.output(b.op("RealDiv", [x, d], name="y"))

    @staticmethod
    def good_example(b):
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("RealDiv", [x, b.const([2.0] * 8, name="two")], name="y"))
