"""GL401 no-quantized-kernel."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Applicability, Category, Edit, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.engine.targets import INTEGER_CONVERTER_TARGETS
from graphlint.ops import is_fake_quant
from graphlint_rules import support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

# Rewrites into ops that have integer kernels, by op (see graphlint.engine.edits).
_REWRITES = {
    "Neg": ("neg-to-mul", "Rewrite `{name}` as a multiplication by -1, which has int8 and int16 kernels"),
    "SquaredDifference": ("squared-difference", "Rewrite `{name}` as Sub then Mul, which have integer kernels"),
}


class NoQuantizedKernel(Rule):
    """## What it does
    Reports ops that have no integer kernel for a quantized target, as measured with TensorFlow 2.21:
    - `int8` and `int8-fallback`: the op stays float. The converter puts DEQUANTIZE before it and QUANTIZE
      after it without a word, even with `supported_ops=[TFLITE_BUILTINS_INT8]` (TF 2.21 no longer refuses
      such ops). Seen with `Neg`, `Square`, `Elu`, `Floor`, `Round`, `Sin`, `AddN`, `Pow`, `Conv3D`, `LRN`,
      `Cumsum`, `NotEqual`, casts and random ops. The gate SPLIT of an unrolled LSTM or GRU cell stays float
      in some conversions and not in others: the calibration data decides (reported as "may not be
      quantized").
    - `int16x8`: the converter refuses the model with "Quantization to 16x8-bit not yet supported for op:
      'X'" (about 45 builtins, among them DIV, NEG, SQUARE, ELU, HARD_SWISH, DEPTH_TO_SPACE, CAST, GREATER,
      ARG_MAX, TOPK_V2 and LOG_SOFTMAX).
    - `uint8-qat` (graphs with fake-quant nodes): the op stays float.

    Every such op is listed at once, each on its own node.

    ## Why is this bad?
    A model you ship as "int8" then computes part of its work in float: slower, larger activations, and
    on accelerators that only run integers (Edge TPU, NPUs, TFLite Micro's optimized kernels) the model is
    split or rejected. For int16x8 nothing is written at all.

    ## Example
    `y = -conv(x)`: the `Neg` stays float in int8, and int16x8 stops at "not yet supported for op: 'NEG'".

    ## How to fix
    Replace the op with an equivalent that has integer kernels (`Neg(x)` → `x * -1`,
    `SquaredDifference(a, b)` → `(a - b) * (a - b)`, `Elu` → `Relu` where accuracy allows), move it out of
    the model (pre- or post-processing), or accept the float island with the `int8-fallback` settings.

    ## Fix safety
    The `Neg` and `SquaredDifference` rewrites compute the same values and are safe.
    """

    code = "GL401"
    name = "no-quantized-kernel"
    summary = "An op has no integer kernel for a quantized target: it stays float, or int16x8 refuses it"
    category = Category.QUANTIZATION
    severity = Severity.WARNING
    formats = frozenset({"graphdef"})
    targets = INTEGER_CONVERTER_TARGETS
    fix_availability = "sometimes"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        for s in analysis.support.values():
            if s.kind("float") != support.OK:
                continue  # the float conversion already fails (GL301 and others)
            floats = [t for t in ("int8", "int8-fallback") if s.kind(t) == support.STAYS_FLOAT]
            # A fake-quant node in a fake-quant graph is the range of its neighbours, not an op: whether they
            # stay float in uint8-qat depends on the ranges around them, which GL402 judges.
            if analysis.has_fake_quant and s.kind("uint8-qat") == support.STAYS_FLOAT and not is_fake_quant(s.op):
                floats.append("uint8-qat")
            refused = s.kind("int16x8") == support.NO_16X8
            if not floats and not refused:
                continue
            name = model.nodes[s.node]["name"]
            parts = []
            varies = bool(floats) and all(s.outcomes[t].varies for t in floats)
            if floats:
                ops = sorted({o for t in floats for o in s.outcomes[t].float_ops}) or list(s.tflite_ops)
                stays = "it can stay float" if varies else "it stays float"
                parts.append(f"in {', '.join(floats)} {stays} ({', '.join(ops) or s.op} between DEQUANTIZE "
                             "and QUANTIZE)" + (", as the calibration data decides" if varies else ""))
            if refused:
                parts.append(f"int16x8 refuses it: \"{s.outcomes['int16x8'].error}\"")
            rewrite = _REWRITES.get(s.op)
            fix = (Fix(rewrite[1].format(name=name), Applicability.SAFE, (Edit.of(rewrite[0], s.node),))
                   if rewrite else Fix(f"Replace `{name}` with ops that have integer kernels, or move it out of the "
                                       "model"))
            yield self.report(
                model, s.node, f"`{name}` ({s.op}) " + ("may not be quantized: " if varies and not refused
                                                        else "has no integer kernel: ") + "; ".join(parts),
                targets=[*floats, *(["int16x8"] if refused else [])],
                target_severity={"int16x8": Severity.ERROR} if refused else None,
                data={"case": s.case, "float_targets": floats}, fix=fix)

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("Neg", [x], name="y"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("Mul", [x, b.const(-1.0, name="minus_one")], name="y"))
