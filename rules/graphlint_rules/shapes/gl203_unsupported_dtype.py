"""GL203 unsupported-dtype."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import support
from graphlint_rules.legalize import legalizes

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

# keyed by a tensor's dtype, which is None when unknown (never a key)
_BAD: dict[str | None, str] = {"float16": "float16", "float64": "float64", "bfloat16": "bfloat16",
                               "complex64": "complex", "complex128": "complex", "string": "string"}
_CONVERTING = frozenset({"Cast", "Bitcast"})


class UnsupportedDtype(Rule):
    """## What it does
    Reports ops on the inference path that compute on a type the TFLite converter has no builtins for:
    float16, float64, bfloat16, complex or string tensors (a `Cast` that turns them into float32 is fine). String
    and complex tensors are not refused as such: ops whose TFLite builtin takes them (a `GatherV2` over a string
    label table, `Reshape`, `StridedSlice`, `Equal` on strings; `ComplexAbs`, `Real`, `Imag` after an `RFFT`)
    convert, and are not reported.
    Ops whose exact type the op-support table measured are reported by GL301 with the converter's own
    words; this rule covers the rest, with confidence `likely`.

    It also reports graph inputs that are not float32 under `uint8-qat`: the legacy path needs
    `quantized_input_stats` for every input, and the converter stops with "The `quantized_input_stats`
    flag must be defined when either `inference_type` flag or `inference_input_type` flag is set to
    tf.int8 or tf.uint8" (measured on every case with an integer or string input).

    ## Why is this bad?
    The converter stops with "'tf.X' op is neither a custom op nor a flex op", which sends people looking
    for a missing op when the problem is the type. A graph exported with mixed precision (float16
    activations) or from NumPy defaults (float64) fails this way.

    ## Example
    A graph exported with `tf.keras.mixed_precision.set_global_policy("mixed_float16")`.

    ## How to fix
    Export the graph in float32 (let the converter make float16 weights with the `float16` target), or add
    a `tf.cast(x, tf.float32)` right after each float16/float64 input.
    """

    code = "GL203"
    name = "unsupported-dtype"
    summary = "An op computes on float16, float64, bfloat16, complex or string tensors its TFLite builtin does not take"
    category = Category.SHAPES
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        for node, attrs in model.ops():
            if (node not in analysis.live or node in analysis.folded or node in analysis.support
                    or attrs["op"] in support.TRANSPARENT_OPS or attrs["op"] in _CONVERTING):
                continue
            bad = next((t for t in model.inputs_of(node) if t.dtype in _BAD), None)
            if bad is None or legalizes(attrs["op"], bad.dtype):
                continue
            yield self.report(
                model, node, f"`{attrs['name']}` ({attrs['op']}) computes on {_BAD[bad.dtype]} tensor "
                f"`{bad.name}`; TFLite has no such kernel and the converter is likely to stop with \"'tf."
                f"{attrs['op']}' op is neither a custom op nor a flex op\"", tensor=bad, confidence="likely",
                fix=Fix(f"Cast `{bad.name}` to float32 before `{attrs['name']}`, or export the graph in float32"))
        if not ctx.wants("uint8-qat"):
            return
        for tensor in model.input_tensors():
            used = tensor.producer in analysis.live or any(c in analysis.live for c in tensor.consumers)
            if tensor.dtype not in (None, "float32") and used:  # a fed intermediate tensor's producer is cut away
                yield self.report(
                    model, tensor.producer, f"Input `{tensor.name}` is {tensor.dtype}: the legacy uint8 path needs "
                    "quantized_input_stats for every input and stops with \"The `quantized_input_stats` flag must "
                    "be defined ...\"", tensor=tensor, targets=("uint8-qat",),
                    fix=Fix("Use the int8 targets for models with non-float inputs"))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float16", (1, 8))
        b.output(b.op("Softplus", [x], name="y", dtype="float16"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("Softplus", [x], name="y"))
