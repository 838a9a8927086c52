"""GL404 conv-one-channel."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder


class ConvOneChannel(Rule):
    """## What it does
    Explains convolutions over a single input channel, which users of the old converter took for a bug:
    - in a `.pb`, a `Conv2D` whose input has one channel. TOCO rewrote it to DEPTHWISE_CONV_2D with a depth
      multiplier equal to the output channels; TensorFlow 2.21's converter keeps CONV_2D (measured, float
      and int8: case `conv2d_1ch`);
    - in a `.tflite`, a DEPTHWISE_CONV_2D whose input has one channel: the same convolution written in the
      depthwise form, by an older converter or on purpose.

    ## Why is this bad?
    Nothing is wrong with the numbers; the forms differ in what they cost:
    - per-channel quantization: CONV_2D quantizes its filter per output channel along axis 0 (shape
      `[out, h, w, 1]`); DEPTHWISE_CONV_2D along axis 3 (shape `[1, h, w, out]`). Both give one scale per
      output channel, so accuracy is the same;
    - delegates and accelerators: a depthwise conv with a depth multiplier above 1 is a slow path or not
      supported on several (older NNAPI drivers, some NPUs compile it to a plain conv or reject it); the
      GPU delegate and XNNPack handle both forms.

    ## Example
    The first layer of a model that reads a grayscale image or a spectrogram.

    ## How to fix
    Nothing to fix. Converting the `.pb` with TF 2.21 gives the CONV_2D form; if a delegate rejects the
    depthwise form of an older `.tflite`, convert again with a current converter.
    """

    code = "GL404"
    name = "conv-one-channel"
    summary = "A convolution over one input channel: explains its CONV_2D / DEPTHWISE_CONV_2D form"
    category = Category.QUANTIZATION
    severity = Severity.INFO

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        graphdef = model.info.format in ("graphdef", "savedmodel")
        live = support.analyze(model).live if graphdef else None
        wanted = "Conv2D" if graphdef else "DEPTHWISE_CONV_2D"
        for node, attrs in model.ops():
            if attrs["op"] != wanted or (live is not None and node not in live):
                continue
            inputs = model.inputs_of(node)
            channel_axis = 1 if (attrs.get("attrs") or {}).get("data_format") == "NCHW" else -1
            shape = inputs[0].shape if inputs else None
            if not shape or shape[channel_axis] != 1:
                continue
            name = attrs["name"]
            if graphdef:
                message = (f"`{name}` convolves a single input channel; TF 2.21 keeps it as CONV_2D (TOCO wrote "
                           "DEPTHWISE_CONV_2D), with per-channel filter scales along axis 0")
            else:
                message = (f"`{name}` is a DEPTHWISE_CONV_2D over a single input channel: the depthwise form of an "
                           "ordinary convolution (depth multiplier = output channels), quantized per channel along "
                           "axis 3; some accelerators handle depth multipliers above 1 slowly or not at all")
            yield self.report(model, node, message, tensor=inputs[0])

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8, 8, 1))
        b.output(b.op("Conv2D", [x, b.const([[[[1.0, 0.5]]]], name="k")], name="conv",
                      attrs={"strides": [1, 1, 1, 1], "padding": "SAME"}))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8, 8, 2))
        b.output(b.op("Conv2D", [x, b.const([[[[1.0], [0.5]]]], name="k")], name="conv",
                      attrs={"strides": [1, 1, 1, 1], "padding": "SAME"}))
