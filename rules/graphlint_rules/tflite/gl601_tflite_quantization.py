"""GL601 tflite-quantization."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules.tflite._facts import quantization_kind

if TYPE_CHECKING:
    from graphlint.testing import TFLiteBuilder

_QRANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}
_KINDS = {
    "float": "float: no quantization",
    "float16": "float16 weights: weights are stored as float16 and dequantized, every op computes in float32",
    "dynamic-range": "dynamic-range (hybrid): int8 weights, float activations; weighted ops quantize their "
                     "input on the fly",
    "full-integer": "full integer: every op computes on integers",
    "16x8": "16x8: int16 activations, int8 weights",
    "mixed": "integer with float islands: some ops compute in float between DEQUANTIZE and QUANTIZE",
}


class TfliteQuantization(Rule):
    """## What it does
    For a `.tflite` file, says what quantization it really has (float, float16 weights, dynamic-range
    hybrid, full integer, 16x8, or integer with float islands), whether weights are quantized per axis or
    per tensor, and for every quantized input and output its scale and zero point, the float range they
    represent, and the `(mean, std)` a legacy converter's `quantized_input_stats` would have needed
    (mean = the quantized value that represents 0.0, std = 1 / scale).

    ## Why is this bad?
    It is not a problem in itself: it is what people got wrong most in the thread. A model fed raw 0..255
    pixels where it expects int8 values quantized with `scale=0.0078, zero_point=-1`, or read without
    dequantizing (`[15 0 0 0]` outputs), gives garbage without any error.

    ## Example
    A full-integer model with input `scale=1/255, zero_point=-128` expects `q = x * 255 - 128` for
    pixels `x` in [0, 1].

    ## How to fix
    Quantize inputs as `q = round(x / scale) + zero_point` (clipped to the type's range) and dequantize
    outputs as `x = (q - zero_point) * scale`.
    """

    code = "GL601"
    name = "tflite-quantization"
    summary = "What quantization a .tflite really has, and each input's and output's scale, zero point and range"
    category = Category.QUANTIZATION
    severity = Severity.INFO
    formats = frozenset({"tflite"})
    example_format = "tflite"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if next(model.ops(), None) is None:
            return
        kind = quantization_kind(model)
        # the quantization of each quantized weight tensor (int32 biases aside)
        weights = [q for t in model.tensors.values() if t.is_const and (q := t.quant) is not None
                   and t.dtype != "int32"]
        per_axis = sum(1 for q in weights if q.per_axis)
        detail = (f"; {per_axis} of {len(weights)} quantized weight tensors per axis, the rest per tensor"
                  if weights else "")
        yield self.report(None, None, f"Quantization: {_KINDS[kind]}{detail}",
                          data={"kind": kind, "per_axis_weights": per_axis, "quantized_weights": len(weights)})
        for role, tensors in (("input", model.input_tensors()), ("output", model.output_tensors())):
            for t in tensors:
                if t.quant is None or t.dtype not in _QRANGE or len(t.quant.scale) != 1:
                    continue
                scale, zp = t.quant.scale[0], t.quant.zero_point[0]
                qmin, qmax = _QRANGE[t.dtype]
                low, high = (qmin - zp) * scale, (qmax - zp) * scale
                std = 1.0 / scale if scale else float("inf")
                node = t.producer if role == "output" else next(iter(t.consumers), None)
                yield self.report(
                    model, node, f"{role.capitalize()} `{t.name}` is {t.dtype} with scale {scale:.6g} and zero "
                    f"point {zp}: it represents floats in [{low:.6g}, {high:.6g}]; "
                    + (f"feed q = round(x / {scale:.6g}) + {zp}" if role == "input"
                       else f"read x = (q - {zp}) * {scale:.6g}")
                    + f" (legacy quantized_input_stats: mean={zp}, std={std:.6g})", tensor=t,
                    data={"role": role, "dtype": t.dtype, "scale": scale, "zero_point": zp, "min": low,
                          "max": high, "mean": zp, "std": std})

    @staticmethod
    def bad_example(b: TFLiteBuilder) -> None:
        x = b.input("x", "int8", (1, 4), quant=([1 / 255], [-128]))
        y = b.tensor("y", "int8", (1, 4), quant=([1 / 255], [-128]))
        b.op("RELU", [x], [y])
        b.output(y)
