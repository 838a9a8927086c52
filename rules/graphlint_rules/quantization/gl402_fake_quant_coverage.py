"""GL402 fake-quant-coverage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Applicability, Category, Edit, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.ir import TensorInfo
from graphlint.ops import is_fake_quant
from graphlint_rules import support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

# Ops whose output needs its own recorded range in the legacy uint8 path.
# Ops whose output needs its own recorded range in the legacy uint8 path (measured: an unranged Mean, AvgPool,
# MaxPool, Reshape or Softmax keeps its input's range; an unranged Sum, Add, Mul or conv stays float).
NEEDS_RANGE = frozenset({"Conv2D", "DepthwiseConv2dNative", "MatMul", "BatchMatMul", "BatchMatMulV2",
                         "Conv2DBackpropInput", "AddV2", "Add", "Sub", "Mul", "Sum",
                         "SquaredDifference", "RealDiv", "Div", "AddN", "Rsqrt", "Sqrt", "Exp", "Log", "Square"})
# Ops the converter fuses into the op before them, or that share one range with their input both ways.
_PASS_THROUGH = frozenset({"BiasAdd", "Relu", "Relu6", "Identity", "Reshape", "Squeeze", "ExpandDims",
                           "MaxPool", "AvgPool", "Transpose", "StopGradient", "Snapshot", "ConcatV2"})
# Ops whose output takes its input's range, but whose output range does not reach back to their input
# (measured: conv -> Mean -> FakeQuant leaves both CONV_2D and MEAN float; through AvgPool the conv is quantized).
_KEEPS_INPUT_RANGE = _PASS_THROUGH | {"Mean"}
_CONCATS = frozenset({"ConcatV2"})
_DEPTH = 6  # pass-through ops walked in either direction
_OPERANDS = 64  # a concat's operands looked at for a range (bounds the work on a hostile concat)


def _ranged(model: ModelGraph, tensor: TensorInfo, depth: int = _DEPTH) -> bool:
    """A tensor with a range of its own: a fake-quant output or a model input (quantized_input_stats), through
    pass-through ops."""
    for _ in range(depth):
        if tensor.id in model.info.inputs:
            return True
        producer = tensor.producer
        if producer is None or model.nodes[producer]["kind"] != "op":
            return False
        op = model.nodes[producer]["op"]
        if is_fake_quant(op):
            return True
        inputs = model.inputs_of(producer)
        if op not in _KEEPS_INPUT_RANGE or op in _CONCATS or not inputs:
            return False
        tensor = inputs[0]
    return False


def ranged_concats(model: ModelGraph) -> frozenset[str]:
    """The concats one of whose operands has a range of its own (one pass over the graph)."""
    return frozenset(node for node, attrs in model.ops() if attrs["op"] in _CONCATS
                     and [t for t in model.inputs_of(node)[:_OPERANDS] if _ranged(model, t)])


def covered(model: ModelGraph, node: str, concats: frozenset[str], depth: int = _DEPTH) -> bool:
    """True when every path from ``node``'s output reaches a fake-quant node through pass-through ops, or one of
    ``concats`` (:func:`ranged_concats`: the legacy path shares a concat's range with all its operands; measured,
    an unranged conv concatenated with a ranged tensor is quantized)."""
    consumers = model.successors(node)
    if not consumers or depth == 0:
        return False
    for c in consumers:
        op = model.nodes[c]["op"]
        if is_fake_quant(op) or c in concats:
            continue
        if op in _PASS_THROUGH and covered(model, c, concats, depth - 1):
            continue
        return False
    return True


class FakeQuantCoverage(Rule):
    """## What it does
    For the legacy `uint8-qat` path (`inference_type=tf.uint8`, `quantized_input_stats`, no
    `default_ranges_stats`), reports every tensor the integer model needs a range for that has no
    FakeQuant: the output of a residual `Add`, a `Mul`, a conv or matmul whose FakeQuant was forgotten, the
    logits. A graph without any FakeQuant node is reported once, with the ops that stay float (measured on
    every op of the support table converted without fake-quant nodes: ops that only move or compare the
    quantized input, such as pooling, resize, reshape, softmax or argmax, stay integer; ops with weights or
    that create a new range stay float).

    ## Why is this bad?
    TOCO stopped with "Array ... which is an input to the ... operator producing the output array ..., is
    lacking min/max data". TensorFlow 2.21 says nothing: it leaves the op float, wraps it in DEQUANTIZE and
    QUANTIZE, and the "uint8" model computes in float (measured: a residual Add without FakeQuant stays
    float; a float graph with no FakeQuant at all converts to a uint8 input followed by an all-float model).

    ## Example
    `y = fq(conv(x)) + x` with no FakeQuant after the `+`.

    ## How to fix
    Insert FakeQuant (`tf.quantization.fake_quant_with_min_max_vars`) after the op with its trained or
    measured range (`tf.contrib.quantize` missed residual adds and concats; add them by hand), or drop the
    legacy path and use full-integer post-training quantization (`int8`) with a representative dataset.

    ## Fix safety
    Inserting a FakeQuant with a range measured on calibration data is unsafe: the range is an estimate.
    """

    code = "GL402"
    name = "fake-quant-coverage"
    summary = "uint8-qat: a tensor the integer model needs has no FakeQuant min/max, so its op stays float"
    category = Category.QUANTIZATION
    severity = Severity.WARNING
    formats = frozenset({"graphdef"})
    targets = ("uint8-qat",)
    fix_availability = "sometimes"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not ctx.wants("uint8-qat"):
            return
        analysis = support.analyze(model)
        concats = ranged_concats(model)
        if not analysis.has_fake_quant:
            floats = [model.nodes[s.node]["name"] for s in analysis.nodes_with("uint8-qat", support.STAYS_FLOAT)
                      if not covered(model, s.node, concats)]
            if floats:
                shown = ", ".join(f"`{n}`" for n in floats[:5]) + (f" and {len(floats) - 5} more" if len(floats) > 5
                                                                    else "")
                yield self.report(None, None, f"The graph has no FakeQuant nodes: the legacy uint8 path quantizes the "
                                  f"inputs only, and {len(floats)} ops that need their own range stay float ({shown})",
                                  data={"float_ops": floats},
                                  fix=Fix("Use the int8 target, or train with fake quantization"))
            return
        for node, attrs in model.ops():
            if node not in analysis.live or node in analysis.folded or attrs["op"] not in NEEDS_RANGE:
                continue
            if covered(model, node, concats):
                continue
            yield self.report(
                model, node, f"`{attrs['name']}` ({attrs['op']}) has no FakeQuant range on its output: the uint8 "
                "model computes it in float", fix=Fix(f"Insert a FakeQuant after `{attrs['name']}`",
                                                      Applicability.UNSAFE, (Edit.of("add-fake-quant", node),)))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        xq = b.node("FakeQuantWithMinMaxArgs", [x], name="x_fq", attrs={"min": -1.0, "max": 1.0, "num_bits": 8})
        w = b.node("FakeQuantWithMinMaxArgs", [b.const([[0.5] * 4] * 4, name="w")], name="w_fq",
                   attrs={"min": -1.0, "max": 1.0, "num_bits": 8})
        y = b.op("MatMul", [xq, w], name="mm")
        yq = b.node("FakeQuantWithMinMaxArgs", [y], name="mm_fq", attrs={"min": -4.0, "max": 4.0, "num_bits": 8})
        b.output(b.op("AddV2", [yq, xq], name="residual"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        xq = b.node("FakeQuantWithMinMaxArgs", [x], name="x_fq", attrs={"min": -1.0, "max": 1.0, "num_bits": 8})
        w = b.node("FakeQuantWithMinMaxArgs", [b.const([[0.5] * 4] * 4, name="w")], name="w_fq",
                   attrs={"min": -1.0, "max": 1.0, "num_bits": 8})
        y = b.op("MatMul", [xq, w], name="mm")
        yq = b.node("FakeQuantWithMinMaxArgs", [y], name="mm_fq", attrs={"min": -4.0, "max": 4.0, "num_bits": 8})
        r = b.op("AddV2", [yq, xq], name="residual")
        b.output(b.node("FakeQuantWithMinMaxArgs", [r], name="residual_fq",
                        attrs={"min": -5.0, "max": 5.0, "num_bits": 8}))
