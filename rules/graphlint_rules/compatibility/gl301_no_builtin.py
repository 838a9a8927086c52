"""GL301 no-builtin."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

_CAUSES = {
    "float16": "its float16 input: the converter has builtins for float32 graphs only (float16 is a weight "
               "format it writes, not one it reads)",
    "float64": "its float64 input: TFLite has no float64 kernels",
    "bfloat16": "its bfloat16 input: TFLite has no bfloat16 kernels",
}


class NoBuiltin(Rule):
    """## What it does
    Reports ops the TFLite converter cannot express as a TFLite builtin: ops with no TFLite counterpart
    (`Erf`, `ResizeBicubic`, `CropAndResize`, `MaxPool3D`, `ExtractImagePatches`, string and audio ops, v1
    `TensorArrayV3` loops, `Cumprod`, trigonometric ops such as `Tan` or `Atan`, `HashTableV2` ...), and
    builtin ops fed a type or rank the converter cannot lower (a `Conv2D` on float16, float64 or an input of
    unknown rank). The verdict comes from the measured op-support table: each op is matched to the case
    with the same op, dtypes, rank and key attributes. Ops the table has not measured are reported with
    confidence `likely`.

    ## Why is this bad?
    The converter stops with "'tf.Conv2D' op is neither a custom op nor a flex op" (and "Some ops are not
    supported by the native TFLite runtime, you can enable TF kernels fallback using TF Select"). The
    message names the op but not the cause: for a `Conv2D` the cause is almost always its input type
    (float16/float64) or an input of unknown rank, not the op. Every target fails: the converter writes
    nothing, so TFLite Micro and the GPU delegate have nothing to run either.

    Allowing `SELECT_TF_OPS` makes the converter keep the op as a TensorFlow kernel (Flex). That costs: the
    app must link the Flex delegate (several MB per ABI), the op runs on the CPU in TensorFlow's
    kernel, never on the GPU delegate or NNAPI, is never quantized, and TFLite Micro cannot run it at all.
    A custom op means writing, registering and shipping a kernel for every runtime you target.

    ## Example
    `y = tf.math.erf(x)` in a frozen graph, or `tf.image.crop_and_resize` in a detector.

    ## How to fix
    Rewrite the op with supported ones (e.g. `gelu` instead of a hand-written `erf` formula, bilinear
    instead of bicubic resize, `crop_and_resize` moved out of the model into pre- or post-processing), cast
    float16/float64 inputs to float32 in the graph, give unknown-rank inputs a shape, or accept the Flex
    cost with `converter.target_spec.supported_ops = [TFLITE_BUILTINS, SELECT_TF_OPS]`.
    """

    code = "GL301"
    name = "no-builtin"
    summary = "An op has no TFLite builtin for its types: the converter stops (needs SELECT_TF_OPS or a custom op)"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        for s in analysis.support.values():
            if s.kind("float") != support.NO_BUILTIN:
                continue
            attrs = model.nodes[s.node]
            dtypes = [t.dtype for t in model.inputs_of(s.node)]
            cause = next((_CAUSES[d] for d in dtypes if d in _CAUSES), None)
            if cause is None and any(t.rank is None for t in model.inputs_of(s.node)) and "unknown_rank" in s.case:
                cause = "an input of unknown rank: the converter cannot pick a builtin without the rank"
            said = s.outcomes["float"].error or ""
            message = f"`{attrs['name']}` ({s.op}) has no TFLite builtin"
            if cause:
                message += f" because of {cause}"
            if said:
                message += f"; the converter stops with \"{said}\""
            yield self.report(model, s.node, message + ". Every target fails; SELECT_TF_OPS would keep it as a "
                              "Flex (TensorFlow) kernel on the CPU, which TFLite Micro and the GPU cannot run",
                              data={"case": s.case},
                              fix=Fix(f"Replace `{attrs['name']}` with supported ops, or convert with SELECT_TF_OPS"))
        for node in analysis.unmeasured:
            attrs = model.nodes[node]
            yield self.report(
                model, node, f"`{attrs['name']}` ({attrs['op']}) is not among the ops measured with the TF 2.21 "
                "converter; ops outside that set usually have no TFLite builtin, so the converter is likely to stop "
                "with \"... op is neither a custom op nor a flex op\"", confidence="likely",
                fix=Fix(f"Replace `{attrs['name']}` with supported ops, or convert with SELECT_TF_OPS"))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("Erf", [x], name="y"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("Tanh", [x], name="y"))
