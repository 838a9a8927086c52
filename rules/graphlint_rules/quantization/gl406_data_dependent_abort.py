"""GL406 data-dependent-abort."""

from graphlint.engine.finding import Fix, Severity
from graphlint.engine.rule import Category, Rule
from graphlint_rules import support

_DIVISIONS = frozenset({"RealDiv", "Div"})
_TARGETS = ("int8", "int8-fallback")


def _divisor(model, node):
    inputs = model.inputs_of(node)
    return inputs[1] if len(inputs) > 1 else None


class DataDependentAbort(Rule):
    """## What it does
    Points at integer kernels that check the data at invoke time, so the converted model runs on some
    inputs and stops on others. Measured with TF 2.21 and LiteRT: an int8 `DIV` whose divisor is a tensor
    (not a constant, which the converter turns into a MUL) fails at invoke with "div.cc data[i] !=
    zero_point was not true" when any divisor element quantizes to the divisor's zero point, i.e. lies
    within half a quantization step of 0 (case `realdiv_zero_range`, divisor in [-1, 1]: int8 and
    int8-fallback fail; case `realdiv`, divisor in [0.5, 2]: both run).

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
    summary = "An integer kernel checks its data at invoke (int8 DIV by a tensor): runs on some inputs, not others"
    category = Category.QUANTIZATION
    severity = Severity.INFO
    formats = frozenset({"graphdef"})
    targets = _TARGETS

    def check(self, model, ctx):
        if not ctx.wants(*_TARGETS):
            return
        analysis = support.analyze(model)
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

    @staticmethod
    def bad_example(b):
        x = b.placeholder("x", "float32", (1, 8))
        d = b.op("Relu", [b.placeholder("d", "float32", (1, 8))], name="d_relu")
        b.output(b.op("RealDiv", [x, d], name="y"))

    @staticmethod
    def good_example(b):
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("RealDiv", [x, b.const([2.0] * 8, name="two")], name="y"))
