"""GL404 conv-one-channel: a convolution over a single input channel, explained per format (a ``.pb``'s Conv2D
stays CONV_2D under TF 2.21; a ``.tflite``'s DEPTHWISE_CONV_2D is the depthwise form of such a convolution)."""

from __future__ import annotations

import numpy as np
import pytest

from graphlint.engine.finding import Severity
from graphlint.testing import GraphBuilder, TFLiteBuilder, savedmodel_view

from ._models import ALL_TARGETS, findings
from .conftest import CONV_ATTRS


def conv_graph(shape: tuple | None, *, data_format: str = "NHWC", op: str = "Conv2D") -> GraphBuilder:
    """x (``shape``) -> ``op`` named ``conv`` with two output channels."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", shape)
    channels = None if shape is None else shape[1 if data_format == "NCHW" else -1]
    channels = channels or 3  # an input whose channels are unknown gets a three-channel kernel
    kernel = np.ones((1, 1, channels, 2 if op == "Conv2D" else 1))
    b.output(b.op(op, [x, b.const(kernel, name="k")], name="conv", attrs={**CONV_ATTRS, "data_format": data_format}))
    return b


def conv_tflite(op: str, channels: int) -> TFLiteBuilder:
    """A float CONV_2D or DEPTHWISE_CONV_2D from ``channels`` input channels to 2 output channels."""
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 3, 3, channels))
    if op == "DEPTHWISE_CONV_2D":
        w_shape = (1, 1, 1, 2)
        options = ("DepthwiseConv2DOptions", {"strideW": 1, "strideH": 1, "depthMultiplier": 2 // channels})
    else:
        w_shape = (2, 1, 1, channels)
        options = ("Conv2DOptions", {"strideW": 1, "strideH": 1})
    w = b.tensor("w", "float32", w_shape, data=np.ones(w_shape))
    y = b.tensor("y", "float32", (1, 3, 3, 2))
    b.op(op, [x, w], [y], options=options)
    b.output(y)
    return b


@pytest.mark.parametrize(("shape", "data_format"), [((1, 8, 8, 1), "NHWC"), ((1, 1, 8, 8), "NCHW")])
def test_a_graphdef_conv2d_over_one_channel_is_explained(shape, data_format):
    (finding,) = findings(conv_graph(shape, data_format=data_format), "GL404")
    assert finding.node == "conv" and finding.op == "Conv2D" and finding.tensor == "x"
    assert all(finding.severity_for(t) is Severity.INFO for t in ALL_TARGETS)
    assert "keeps it as CONV_2D" in finding.message and "per-channel filter scales along axis 0" in finding.message
    assert finding.fix is None  # nothing to fix


@pytest.mark.parametrize(("shape", "data_format"), [
    ((1, 8, 8, 2), "NHWC"),
    ((1, 2, 8, 1), "NCHW"),  # the last dim is 1, but the channels are on axis 1
    ((1, 8, 8, None), "NHWC"),  # unknown channel count
    (None, "NHWC"),  # unknown rank
], ids=["two-channels", "nchw-two-channels", "unknown-channels", "unknown-rank"])
def test_a_graphdef_conv2d_not_known_to_read_one_channel_is_not_reported(shape, data_format):
    assert findings(conv_graph(shape, data_format=data_format), "GL404") == []


def test_a_graphdef_depthwise_conv_over_one_channel_is_not_this_rules_concern():
    assert findings(conv_graph((1, 8, 8, 1), op="DepthwiseConv2dNative"), "GL404") == []


def test_a_conv_the_outputs_do_not_reach_is_not_reported():
    b = conv_graph((1, 8, 8, 1))
    b.outputs.clear()
    b.output(b.op("Relu", ["x"], name="y"))
    assert findings(b, "GL404") == []


def test_a_saved_model_is_judged_as_its_frozen_graph():
    b = conv_graph((1, 8, 8, 1))
    (finding,) = findings(savedmodel_view(b), "GL404", outputs=b.outputs)
    assert finding.node == "conv" and "CONV_2D" in finding.message


def test_a_tflite_depthwise_conv_over_one_channel_is_explained():
    (finding,) = findings(conv_tflite("DEPTHWISE_CONV_2D", 1), "GL404")
    assert finding.op == "DEPTHWISE_CONV_2D" and finding.tensor == "x"
    assert all(finding.severity_for(t) is Severity.INFO for t in ALL_TARGETS)
    assert finding.message.startswith("`y` is a DEPTHWISE_CONV_2D over a single input channel")
    assert "depth multiplier = output channels" in finding.message and "along axis 3" in finding.message


@pytest.mark.parametrize(("op", "channels"), [("DEPTHWISE_CONV_2D", 2), ("CONV_2D", 1)])
def test_a_tflite_depthwise_conv_over_more_channels_or_a_conv_is_not_reported(op, channels):
    assert findings(conv_tflite(op, channels), "GL404") == []
