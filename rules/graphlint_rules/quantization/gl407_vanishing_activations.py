"""GL407 vanishing-activations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import support
from graphlint_rules.magnitude import MARGIN, peak

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

# A ReLU6 the converter fuses into the op that feeds it (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD).
_FUSES_RELU6 = frozenset({"Conv2D", "DepthwiseConv2dNative", "MatMul", "BiasAdd", "Add", "AddV2",
                          "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "Conv2DBackpropInput"})
_INT16_STEPS = 32767  # int16x8 activations are symmetric: scale = largest |value| / 32767
_INT32_MAX = 2.0 ** 31
# LiteRT quantizes the clamp value 6.0 with the output scale when it prepares a fused ReLU6
# (CalculateActivationRangeQuantized): 6 / scale must fit in int32, so the output's calibrated range must
# reach 6 * 32767 / 2^31.
INT16_RELU6_MIN_PEAK = 6.0 * _INT16_STEPS / _INT32_MAX


class VanishingActivations(Rule):
    """## What it does
    Estimates from the weights how large each activation comes out (the mean square of a tensor carried
    through every convolution, matmul, folded batch norm and activation, from an input scaled to [-1, 1]) and
    reports a ReLU6, fused into the op before it, whose output range is too small for the int16x8 kernel to
    prepare. LiteRT's 16x8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and ADD quantize the clamp value 6.0 with
    the output scale (largest |value| / 32767); when the calibrated range is below 6 * 32767 / 2^31 = 9.2e-5,
    6.0 no longer fits in int32 and the model fails to prepare with "no_integer_overflow_from_quantization was
    not true" (measured: Keras MobileNet 0.25 and 0.5 and MobileNetV2 0.35 built with `weights=None`). int8
    is not affected: the int8 calibration widens such ranges to about 1e-6.

    Only estimates more than ten times below the limit are reported: the estimate follows the calibrated
    ranges of the measured corpus within a factor of 8 either way.

    ## Why is this bad?
    An untrained network (random weights, batch norm at its initial statistics) shrinks its activations by a
    constant factor per layer; after a dozen depthwise blocks they are 1e-10 of the input. The model converts,
    and the interpreter refuses it. The same weights give flat logits (see GL406).

    ## Example
    `keras.applications.MobileNet(alpha=0.25, weights=None)` frozen and converted for int16x8.

    ## How to fix
    Convert trained weights: the check is about the numbers, not the architecture. To try a conversion
    without training, use `weights="imagenet"` or scale the initial weights (e.g. He initialization).
    """

    code = "GL407"
    name = "vanishing-activations"
    summary = "Activations estimated too small for an int16x8 kernel to prepare (untrained weights)"
    category = Category.QUANTIZATION
    severity = Severity.ERROR
    formats = frozenset({"graphdef", "savedmodel"})
    targets = ("int16x8",)

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not ctx.wants(*self.targets):
            return
        analysis = support.analyze(model)
        for node, attrs in model.ops():
            if attrs["op"] != "Relu6" or node not in analysis.live:
                continue
            source = model.inputs_of(node)[0] if model.inputs_of(node) else None
            producer = source.producer if source is not None else None
            if source is None or producer is None or model.nodes[producer].get("op") not in _FUSES_RELU6:
                continue
            rms = analysis.magnitudes.rms(source)
            if rms is None or peak(rms) * MARGIN >= INT16_RELU6_MIN_PEAK:
                continue
            fused = model.nodes[producer]["name"]
            yield self.report(
                model, node, f"`{attrs['name']}` (fused into `{fused}`) is estimated to reach about {peak(rms):.2g} "
                f"from the weights: an int16x8 scale of {peak(rms) / _INT16_STEPS:.2g} cannot hold the clamp value "
                f"6.0 in int32 (needs a range of at least {INT16_RELU6_MIN_PEAK:.2g}), so the interpreter fails to "
                "prepare it (\"no_integer_overflow_from_quantization\"); the weights look untrained",
                tensor=source, fix=Fix("Convert trained weights; an untrained network shrinks its activations "
                                       "layer after layer"))
            return  # the first layer that fails is the one the interpreter names

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        h = b.placeholder("x", "float32", (1, 8))
        for i in range(6):
            h = b.op("Relu6", [b.op("MatMul", [h, b.const([[1e-3] * 8] * 8, name=f"w{i}")], name=f"fc{i}")],
                     name=f"relu{i}")
        b.output(h)

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        h = b.placeholder("x", "float32", (1, 8))
        for i in range(6):
            h = b.op("Relu6", [b.op("MatMul", [h, b.const([[0.5] * 8] * 8, name=f"w{i}")], name=f"fc{i}")],
                     name=f"relu{i}")
        b.output(h)
