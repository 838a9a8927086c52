"""GL405 concat-range-mismatch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.ir import TensorInfo
from graphlint.ops import is_fake_quant
from graphlint_rules import support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

_PASS_THROUGH = frozenset({"Identity", "Reshape", "Squeeze", "ExpandDims", "MaxPool", "Relu", "Relu6"})


def fake_quant_range(model: ModelGraph, node: str) -> tuple[float, float] | None:
    """The (min, max) a FakeQuant node records, from its attributes or its constant min/max inputs."""
    attrs = model.nodes[node]
    a = attrs.get("attrs") or {}
    if "min" in a and "max" in a:
        return float(a["min"]), float(a["max"])
    inputs = model.inputs_of(node)
    if len(inputs) >= 3 and inputs[1].is_const and inputs[2].is_const:
        try:
            low, high = model.value(inputs[1]), model.value(inputs[2])
            return float(low.reshape(-1).min()), float(high.reshape(-1).max())
        except Exception:  # noqa: BLE001 - an unreadable range is simply unknown
            return None
    return None


def upstream_range(model: ModelGraph, tensor: TensorInfo, depth: int = 4) -> tuple[float, float] | None:
    """The range recorded for ``tensor``: its FakeQuant producer's, through ops that keep ranges."""
    for _ in range(depth):
        node = tensor.producer
        if node is None:
            return None
        op = model.nodes[node]["op"]
        if is_fake_quant(op):
            return fake_quant_range(model, node)
        if op not in _PASS_THROUGH or not model.inputs_of(node):
            return None
        tensor = model.inputs_of(node)[0]
    return None


class ConcatRangeMismatch(Rule):
    """## What it does
    For fake-quant graphs on the `uint8-qat` path, reports a Concat whose inputs were recorded with
    different ranges.

    ## Why is this bad?
    TOCO required equal ranges and stopped, or silently requantized. TF 2.21 converts and runs it
    (measured: CONCATENATION takes uint8 inputs at different scales and rescales each into the output's
    range), but an input with a narrow range placed into a wide output range keeps only a fraction of the
    256 levels: an input recorded in [-1, 1] concatenated into [-4, 4] keeps 64 levels.

    ## Example
    A feature-pyramid or skip connection that concatenates a normalized branch with an unnormalized one.

    ## How to fix
    Train with a shared FakeQuant range for all the concat's inputs (`tf.quantization` ops with the same
    min/max variables), or normalize the branches before concatenating.
    """

    code = "GL405"
    name = "concat-range-mismatch"
    summary = "uint8-qat: a Concat's inputs were recorded with different ranges; narrow inputs lose precision"
    category = Category.QUANTIZATION
    severity = Severity.INFO
    formats = frozenset({"graphdef"})
    targets = ("uint8-qat",)

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not ctx.wants("uint8-qat"):
            return
        analysis = support.analyze(model)
        if not analysis.has_fake_quant:
            return
        for node, attrs in model.ops():
            if node not in analysis.live or attrs["op"] not in ("ConcatV2", "Concat"):
                continue
            ranges = [r for t in model.inputs_of(node) if not t.is_const and (r := upstream_range(model, t))]
            if len(set(ranges)) < 2:
                continue
            low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
            narrow = min(ranges, key=lambda r: r[1] - r[0])
            levels = round(256 * (narrow[1] - narrow[0]) / (high - low)) if high > low else 256
            shown = ", ".join(f"[{a:g}, {b:g}]" for a, b in dict.fromkeys(ranges))
            yield self.report(
                model, node, f"`{attrs['name']}` concatenates inputs recorded in {shown}: in the output range "
                f"[{low:g}, {high:g}] the input in [{narrow[0]:g}, {narrow[1]:g}] keeps about {levels} of 256 levels",
                data={"ranges": [list(r) for r in ranges]},
                fix=Fix(f"Give the inputs of `{attrs['name']}` one shared FakeQuant range"))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        a = b.node("FakeQuantWithMinMaxArgs", [x], name="a_fq", attrs={"min": -1.0, "max": 1.0, "num_bits": 8})
        wide = b.op("Mul", [x, b.const(3.0, name="three")], name="wide")
        c = b.node("FakeQuantWithMinMaxArgs", [wide], name="c_fq", attrs={"min": -4.0, "max": 4.0, "num_bits": 8})
        b.output(b.node("ConcatV2", [a, c, b.const(1, name="axis", dtype="int32")], name="concat",
                        attrs={"T": "float32", "N": 2, "Tidx": "int32"}))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        a = b.node("FakeQuantWithMinMaxArgs", [x], name="a_fq", attrs={"min": -4.0, "max": 4.0, "num_bits": 8})
        wide = b.op("Mul", [x, b.const(3.0, name="three")], name="wide")
        c = b.node("FakeQuantWithMinMaxArgs", [wide], name="c_fq", attrs={"min": -4.0, "max": 4.0, "num_bits": 8})
        b.output(b.node("ConcatV2", [a, c, b.const(1, name="axis", dtype="int32")], name="concat",
                        attrs={"T": "float32", "N": 2, "Tidx": "int32"}))
