"""GL202 input-dynamic-dim."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder


class InputDynamicDim(Rule):
    """## What it does
    Reports a model input with an unknown dimension: a GraphDef Placeholder dim of `None` that
    `--input NAME:SHAPE` does not fix, or a TFLite input whose `shape_signature` holds `-1`.

    ## Why is this bad?
    TOCO refused these ("None is only supported in the 1st dimension"). TensorFlow 2.21 converts them and
    keeps the dim dynamic: the `.tflite` input has `shape_signature` `-1` there and `shape` `1`, so the
    interpreter allocates a 1-sized input until you call `resize_input_tensor` and `allocate_tensors` again.
    Code that feeds the real size without resizing fails with "Cannot set tensor: Dimension mismatch".
    Runtimes that plan memory ahead need static shapes: TensorFlow Lite Micro cannot resize at all and runs
    the stored size-1 dims, and the GPU delegate rebuilds its plan on every resize. The converter and the
    interpreter accept the model, so this is a warning for the GPU target and information elsewhere; a
    dynamic batch dim alone is common and only noted.

    ## Example
    `tf.compat.v1.placeholder(tf.float32, [1, None, None, 3], name="image")`.

    ## How to fix
    Fix the shape where you know it: `input_shapes={"image": [1, 224, 224, 3]}` in `from_frozen_graph` (and
    `--input image:1,224,224,3` here), or resize the input in the interpreter before `allocate_tensors`.
    """

    code = "GL202"
    name = "input-dynamic-dim"
    summary = "A model input has a dynamic (unknown) dimension"
    category = Category.SHAPES
    severity = Severity.INFO

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        for tensor in model.input_tensors():
            shape = tensor.shape_signature if model.info.format == "tflite" else tensor.shape
            if shape is None or None not in shape:
                continue
            dynamic = [i for i, d in enumerate(shape) if d is None]
            shown = "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
            fix = Fix(f"Fix the shape: --input {tensor.name}:"
                      + ",".join(f"<dim{i}>" if d is None else str(d) for i, d in enumerate(shape)))
            if dynamic == [0] and len(shape) > 1:
                yield self.report(model, tensor.producer, f"input `{tensor.name}` has a dynamic batch dim {shown}; "
                                  "the interpreter allocates batch 1 until the input is resized",
                                  tensor=tensor, fix=fix)
                continue
            dims = ", ".join(str(i) for i in dynamic)
            yield self.report(
                model, tensor.producer,
                f"input `{tensor.name}` has dynamic dim(s) {dims} in {shown}; the .tflite keeps them as -1 and "
                "allocates size 1 until the input is resized, and static-memory runtimes need fixed shapes",
                tensor=tensor, fix=fix, data={"dims": dynamic}, target_severity={"gpu": Severity.WARNING})

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("image", "float32", (1, None, None, 3))
        b.output(b.op("Relu", [x], name="y"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("image", "float32", (1, 224, 224, 3))
        b.output(b.op("Relu", [x], name="y"))
