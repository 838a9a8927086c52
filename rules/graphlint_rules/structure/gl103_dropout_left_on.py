"""GL103 dropout-left-on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Applicability, Category, Edit, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

RANDOM_OPS = frozenset({"RandomUniform", "RandomStandardNormal", "TruncatedNormal", "Multinomial",
                        "RandomUniformInt", "StatelessRandomUniformV2", "StatelessRandomNormalV2"})
_MASK_OPS = frozenset({"GreaterEqual", "Greater", "Less", "Floor", "Cast", "Add", "AddV2", "Sub", "Mul", "RealDiv"})
_APPLY_OPS = frozenset({"SelectV2", "Select", "Mul"})


def _dropout_end(model: ModelGraph, node: str) -> str | None:
    """The node where a dropout mask built from ``node`` is applied to the activations, or None."""
    frontier, seen = [node], {node}
    for _ in range(4):
        nxt = []
        for n in frontier:
            for t in model.outputs_of(n):
                for c in t.consumers:
                    if c in seen:
                        continue
                    seen.add(c)
                    op = model.nodes[c]["op"]
                    outside = [i for i in model.inputs_of(c) if i.producer not in seen and not i.is_const]
                    if op in _APPLY_OPS and outside:
                        return c
                    if op in _MASK_OPS:
                        nxt.append(c)
        frontier = nxt
    return None


class DropoutLeftOn(Rule):
    """## What it does
    Reports random ops on the inference path (`RandomUniform`, `RandomStandardNormal`, `TruncatedNormal`,
    `Multinomial` ...), and in particular dropout left in training mode: a random mask multiplied into the
    activations.

    ## Why is this bad?
    The float converter keeps the op (RANDOM_UNIFORM is a builtin), so nothing fails, and the model gives a
    different answer on every run. Under int8 the random op stays float, int16x8 refuses it ("Quantization
    to 16x8-bit not yet supported for op: 'RANDOM_UNIFORM'"), and TFLite Micro has no kernel for it; those
    are reported by GL401 and GL304 on the same node. This rule is informational for the float targets
    because the converter itself does not object.

    ## Example
    `tf.nn.dropout(h, rate=0.2)` frozen from the training graph, or Keras dropout built with `training=True`.

    ## How to fix
    Export the inference graph (`training=False`, `keep_prob=1.0`), or let `graphlint fix --unsafe-fixes`
    replace the dropout block by its input.

    ## Fix safety
    Removing dropout changes the outputs (from random to deterministic), which is what inference wants but
    is still a change in meaning: unsafe.
    """

    code = "GL103"
    name = "dropout-left-on"
    summary = "A random op (dropout left on) is on the inference path: outputs change on every run"
    category = Category.STRUCTURE
    severity = Severity.INFO
    formats = frozenset({"graphdef"})
    fix_availability = "sometimes"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        for node, attrs in model.ops():
            if node not in analysis.live or attrs["op"] not in RANDOM_OPS:
                continue
            end = _dropout_end(model, node)
            if end is not None:
                end_name = model.nodes[end]["name"]
                yield self.report(
                    model, node, f"`{attrs['name']}` ({attrs['op']}) drives a dropout mask applied at `{end_name}`: "
                    "dropout is on, so the model's output is random", data={"applied_at": end},
                    fix=Fix(f"Remove the dropout block ending at `{end_name}`", Applicability.UNSAFE,
                            (Edit.of("remove-dropout", end),)))
            else:
                yield self.report(model, node, f"`{attrs['name']}` ({attrs['op']}) is a random op on the inference "
                                  "path: the model's output changes on every run",
                                  fix=Fix(f"Remove `{attrs['name']}` from the inference graph"))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        shape = b.const([1, 8], name="dropout/shape", dtype="int32")
        r = b.node("RandomUniform", [shape], name="dropout/random_uniform", attrs={"dtype": "float32",
                                                                                   "T": "int32"})
        keep = b.op("GreaterEqual", [r, b.const(0.2, name="dropout/rate")], name="dropout/GreaterEqual")
        scaled = b.op("Mul", [x, b.const(1.25, name="dropout/scale")], name="dropout/Mul")
        zero = b.const([[0.0] * 8], name="dropout/zeros")
        b.output(b.node("SelectV2", [keep, scaled, zero], name="dropout/SelectV2", attrs={"T": "float32"}))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("Mul", [x, b.const(1.0, name="scale")], name="y"))
