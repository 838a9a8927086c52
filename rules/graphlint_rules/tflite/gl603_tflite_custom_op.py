"""GL603 tflite-custom-op."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity

if TYPE_CHECKING:
    from graphlint.testing import TFLiteBuilder

# Custom ops the standard LiteRT op resolver registers itself.
REGISTERED_CUSTOM = frozenset({"TFLite_Detection_PostProcess", "Mfcc", "AudioSpectrogram"})


class TfliteCustomOp(Rule):
    """## What it does
    For a `.tflite` file, reports Flex ops (`Flex*`, kept as TensorFlow kernels by `SELECT_TF_OPS`) and
    custom ops the standard interpreter does not register.

    ## Why is this bad?
    The standard LiteRT interpreter refuses the model at allocation ("Select TensorFlow op(s), included in
    the given model, is(are) not supported by this interpreter. Make sure you apply/link the Flex delegate
    before inference", measured with `ai-edge-litert`); a custom op needs its kernel registered. TFLite
    Micro has no Flex delegate, and the GPU delegate runs neither.

    ## Example
    A model converted with `supported_ops=[TFLITE_BUILTINS, SELECT_TF_OPS]` that kept `FlexErf`.

    ## How to fix
    Link the Flex delegate (`tensorflow-lite-select-tf-ops`, several MB) or register the custom kernel, or
    better, rewrite the op in the source graph so the converter finds a builtin (see GL301).
    """

    code = "GL603"
    name = "tflite-custom-op"
    summary = "A .tflite uses a Flex or unregistered custom op the standard interpreter cannot run"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"tflite"})
    example_format = "tflite"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        for node, attrs in model.ops():
            if not attrs.get("custom") or attrs["op"] in REGISTERED_CUSTOM:
                continue
            flex = attrs["op"].startswith("Flex")
            what = "a Flex (TensorFlow) op" if flex else "a custom op"
            yield self.report(model, node, f"`{attrs['name']}` ({attrs['op']}) is {what}: the standard interpreter "
                              "cannot allocate the model without " + ("the Flex delegate" if flex else
                                                                      "its kernel registered"),
                              fix=Fix("Rewrite the op in the source graph so it converts to a builtin"))

    @staticmethod
    def bad_example(b: TFLiteBuilder) -> None:
        x = b.input("x", "float32", (1, 4))
        y = b.tensor("y", "float32", (1, 4))
        b.op("CUSTOM", [x], [y], custom="FlexErf")
        b.output(y)

    @staticmethod
    def good_example(b: TFLiteBuilder) -> None:
        x = b.input("x", "float32", (1, 4))
        y = b.tensor("y", "float32", (1, 4))
        b.op("TANH", [x], [y])
        b.output(y)
