"""GL605 tflite-gpu-unsupported."""

from collections.abc import Iterable

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import gpu


class TfliteGpuUnsupported(Rule):
    """## What it does
    For a `.tflite` file, reports ops the TFLite GPU delegate does not take (builtins without a GPU
    operation parser, custom and Flex ops) and ops on tensors above 4-D. The op list and its source are
    those of GL305.

    ## Why is this bad?
    These ops fall back to the CPU; each GPU/CPU boundary copies tensors, and a model with many of them
    can be slower with the delegate than without.

    ## Example
    ARG_MAX or TOPK_V2 at the end of a classifier.

    ## How to fix
    Move post-processing out of the model, keep tensors 4-D, and replace unsupported ops in the source graph.
    """

    code = "GL605"
    name = "tflite-gpu-unsupported"
    summary = "A .tflite op or tensor rank the GPU delegate does not take: it falls back to the CPU"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"tflite"})
    targets = ("gpu",)
    example_format = "tflite"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not ctx.wants("gpu"):
            return
        for node, attrs in model.ops():
            op, name = attrs["op"], attrs["name"]
            rank = max((t.rank or 0 for t in (*model.inputs_of(node), *model.outputs_of(node))), default=0)
            if op not in gpu.GPU_OPS:
                yield self.report(model, node, f"`{name}` ({op}) is not taken by the GPU delegate: it runs on the CPU",
                                  fix=Fix(f"Move `{name}` out of the GPU part of the model"))
            elif rank > gpu.GPU_MAX_RANK:
                yield self.report(model, node, f"`{name}` ({op}) works on a {rank}-D tensor; the GPU delegate takes "
                                  f"at most {gpu.GPU_MAX_RANK}-D: it runs on the CPU",
                                  fix=Fix("Reshape the tensors to 4-D"))

    @staticmethod
    def bad_example(b):
        x = b.input("x", "float32", (1, 10))
        y = b.tensor("y", "int64", (1,))
        a = b.tensor("axis", "int32", (), data=1)
        b.op("ARG_MAX", [x, a], [y])
        b.output(y)

    @staticmethod
    def good_example(b):
        x = b.input("x", "float32", (1, 10))
        y = b.tensor("y", "float32", (1, 10))
        b.op("SOFTMAX", [x], [y])
        b.output(y)
