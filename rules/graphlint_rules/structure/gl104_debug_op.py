"""GL104 debug-op."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Applicability, Category, Edit, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

_BYPASSABLE = frozenset({"CheckNumerics", "StopGradient", "PreventGradient", "Snapshot"})


class DebugOp(Rule):
    """## What it does
    Reports ops on the inference path that do nothing at inference time: `CheckNumerics`, `StopGradient`,
    `PreventGradient`, `Snapshot`, and casts to the type the tensor already has.

    ## Why is this bad?
    TF 2.21's converter drops them (measured: they convert everywhere), so they cost nothing on the device.
    They do make graph rewrites and pattern matching harder (a `StopGradient` between the parts of a
    `moments` or GELU pattern hides the pattern from tools), and they are noise when reading the graph.

    ## Example
    `tf.debugging.check_numerics(logits, "nan")` left in the exported graph.

    ## How to fix
    `graphlint fix` removes them.

    ## Fix safety
    These ops pass their input through unchanged at inference time: safe.
    """

    code = "GL104"
    name = "debug-op"
    summary = "A debugging or no-op node (CheckNumerics, StopGradient, a Cast to the same type) is on the path"
    category = Category.STRUCTURE
    severity = Severity.INFO
    formats = frozenset({"graphdef"})
    fix_availability = "always"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        for node, attrs in model.ops():
            if node not in analysis.live or attrs["subgraph"] != "main":
                continue
            op, a = attrs["op"], attrs.get("attrs") or {}
            if op in _BYPASSABLE or (op == "Cast" and a.get("SrcT") and a.get("SrcT") == a.get("DstT")):
                yield self.report(model, node, f"`{attrs['name']}` ({op}) does nothing at inference time",
                                  fix=Fix(f"Remove `{attrs['name']}`", Applicability.SAFE, (Edit.of("bypass", node),)))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        checked = b.node("CheckNumerics", [x], name="check", attrs={"T": "float32", "message": "nan"})
        b.output(b.op("Relu", [checked], name="y"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        b.output(b.op("Relu", [x], name="y"))
