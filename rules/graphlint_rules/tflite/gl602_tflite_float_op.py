"""GL602 tflite-float-op."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.engine.targets import INTEGER_CONVERTER_TARGETS
from graphlint_rules.tflite._facts import computes_in_float, is_hybrid, quantization_kind

if TYPE_CHECKING:
    from graphlint.testing import TFLiteBuilder


class TfliteFloatOp(Rule):
    """## What it does
    For a `.tflite` file checked against an integer target (`int8`, `int8-fallback`, `uint8-qat`,
    `int16x8`), names every op that still computes in float: ops between DEQUANTIZE and QUANTIZE in an
    integer model, hybrid (dynamic-range) ops, or, for a float or float16 model, the model as a whole.

    ## Why is this bad?
    The converter leaves ops without integer kernels in float without an error, so a model believed to
    be integer-only is not. Integer-only accelerators split or reject it, and it runs slower than expected.

    ## Example
    An int8 model whose NEG runs in float between a DEQUANTIZE and a QUANTIZE.

    ## How to fix
    Go back to the source graph and run `graphlint check` on it: the op's finding says which rewrite
    gives it an integer kernel.
    """

    code = "GL602"
    name = "tflite-float-op"
    summary = "An op of a .tflite computes in float where an integer target promises integers"
    category = Category.QUANTIZATION
    severity = Severity.WARNING
    formats = frozenset({"tflite"})
    targets = INTEGER_CONVERTER_TARGETS
    example_format = "tflite"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        kind = quantization_kind(model)
        floats = [n for n, _ in model.ops() if computes_in_float(model, n)]
        if not floats:
            return
        if kind in ("float", "float16"):
            yield self.report(None, None, f"The model is {kind}: all {len(floats)} ops compute in float, none in "
                              "the integers an integer target promises",
                              fix=Fix("Convert the source model with the int8 settings (representative dataset)"))
            return
        where = ("in a dynamic-range model, whose activations stay float" if kind == "dynamic-range"
                 else "in a model that is otherwise integer")
        for node in floats:
            attrs = model.nodes[node]
            how = "is a hybrid op (int8 weights, float activations)" if is_hybrid(model, node) else "computes in float"
            yield self.report(model, node, f"`{attrs['name']}` ({attrs['op']}) {how} {where}",
                              fix=Fix("Check the source graph for the op's integer rewrite"))

    @staticmethod
    def bad_example(b: TFLiteBuilder) -> None:
        x = b.input("x", "int8", (1, 4), quant=([0.1], [0]))
        xf = b.tensor("xf", "float32", (1, 4))
        yf = b.tensor("yf", "float32", (1, 4))
        y = b.tensor("y", "int8", (1, 4), quant=([0.1], [0]))
        b.op("DEQUANTIZE", [x], [xf])
        b.op("NEG", [xf], [yf])
        b.op("QUANTIZE", [yf], [y])
        b.output(y)

    @staticmethod
    def good_example(b: TFLiteBuilder) -> None:
        x = b.input("x", "int8", (1, 4), quant=([0.1], [0]))
        y = b.tensor("y", "int8", (1, 4), quant=([0.1], [0]))
        b.op("RELU", [x], [y])
        b.output(y)
