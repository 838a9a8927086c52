"""GL201 input-unknown-rank."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.ir import TensorInfo

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

# Families whose kernels need a known rank; an unknown-rank tensor reaching them makes the converter fail to
# legalize them ("'tf.Conv2D' op is neither a custom op nor a flex op").
_NEEDS_RANK = frozenset({"conv2d", "depthwise_conv2d", "conv3d", "transpose_conv", "max_pool2d", "average_pool2d",
                         "fully_connected", "batch_matmul", "batch_norm", "resize_bilinear",
                         "resize_nearest_neighbor", "depth_to_space", "space_to_depth", "max_pool3d",
                         "average_pool3d", "local_response_normalization"})
# Families that pass an unknown rank through unchanged.
_PASS_THROUGH = frozenset({"identity", "relu", "relu6", "tanh", "logistic", "add", "sub", "mul", "div", "cast",
                           "neg", "abs", "exp", "fake_quant", "bias_add", "maximum", "minimum", "square", "sqrt",
                           "rsqrt", "check_numerics"})


def rank_sensitive_consumer(model: ModelGraph, tensor: TensorInfo, limit: int = 64) -> str | None:
    """The first op (node id) downstream of ``tensor`` through pass-through ops that needs a known rank."""
    seen: set[str] = set()
    todo = list(tensor.consumers)
    while todo and len(seen) < limit:
        node = todo.pop(0)
        if node in seen:
            continue
        seen.add(node)
        attrs = model.nodes[node]
        if attrs["family"] in _NEEDS_RANK:
            return node
        if attrs["family"] in _PASS_THROUGH:
            for out in model.outputs_of(node):
                todo.extend(out.consumers)
    return None


class InputUnknownRank(Rule):
    """## What it does
    Reports a graph input (Placeholder) whose rank is unknown (`shape=None`) when `--input NAME:SHAPE`
    does not give one.

    ## Why is this bad?
    The converter must fix every tensor's rank. With an unknown-rank input, TensorFlow 2.21 cannot legalize
    the ops that need a rank and stops with a misleading message: "'tf.Conv2D' op is neither a custom op nor
    a flex op". When only elementwise ops read the input, it converts, but the `.tflite` input then has
    shape `[]`, a scalar.

    ## Example
    `tf.compat.v1.placeholder(tf.float32, shape=None, name="x")` feeding a `Conv2D`.

    ## How to fix
    Give the input a shape when building the graph, or pass one to the converter (`input_shapes=
    {"x": [1, 224, 224, 3]}`) and to graphlint (`--input x:1,224,224,3`).
    """

    code = "GL201"
    name = "input-unknown-rank"
    summary = "A graph input has an unknown rank"
    category = Category.SHAPES
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        for tensor in model.input_tensors():
            if tensor.shape is not None or tensor.producer is None:
                continue
            consumer = rank_sensitive_consumer(model, tensor)
            if consumer is not None:
                op = model.nodes[consumer]["op"]
                message = (f"input `{tensor.name}` has an unknown rank and reaches `{model.nodes[consumer]['name']}` "
                           f"({op}); the converter will say \"'tf.{op}' op is neither a custom op nor a flex op\"")
                severity = Severity.ERROR
            else:
                message = (f"input `{tensor.name}` has an unknown rank; the converter will make it a scalar "
                           "(shape []) in the .tflite")
                severity = Severity.WARNING
            yield self.report(model, tensor.producer, message, tensor=tensor, severity=severity,
                              fix=Fix(f"Give `{tensor.name}` a shape: --input {tensor.name}:1,..."))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", None)
        w = b.const([[[[1.0]]]], name="w")
        b.output(b.op("Conv2D", [x, w], name="y", attrs={"strides": [1, 1, 1, 1], "padding": "SAME"}))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8, 8, 1))
        w = b.const([[[[1.0]]]], name="w")
        b.output(b.op("Conv2D", [x, w], name="y", attrs={"strides": [1, 1, 1, 1], "padding": "SAME"}))
