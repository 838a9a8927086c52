"""A rule pack for tests only (prefix ``TX``): it maps the fixable patterns to the edits of the closed set, so
that the fix engine and the convert path are tested independently of which built-in rules attach which fixes."""

from __future__ import annotations

from graphlint.engine.edits import Edit
from graphlint.engine.finding import Applicability, Fix, Severity
from graphlint.engine.registry import Registry
from graphlint.engine.rule import Category, Rule

_FAKE_QUANT = ("FakeQuantWithMinMaxVars", "FakeQuantWithMinMaxArgs")


class _PatternRule(Rule):
    """## What it does
    Test rule."""

    category = Category.STRUCTURE
    severity = Severity.WARNING
    formats = frozenset({"graphdef"})
    status = "preview"
    applicability = Applicability.SAFE

    def edits(self, model, node: str, attrs: dict) -> tuple[Edit, ...]:
        return ()

    def check(self, model, ctx):
        for node, attrs in model.ops():
            if attrs["subgraph"] != "main":
                continue
            edits = self.edits(model, node, attrs)
            if edits:
                yield self.report(model, node, f"`{node}` matches {self.name}",
                                  fix=Fix(f"Rewrite `{node}`", self.applicability, edits))


class NoOpCast(_PatternRule):
    code, name, summary = "TX001", "no-op-cast", "a Cast to its own type"

    def edits(self, model, node, attrs):
        a = attrs["attrs"]
        if attrs["op"] in ("Identity", "CheckNumerics", "StopGradient") and model.tensors[
                attrs["outputs"][0]].consumers:
            return (Edit.of("bypass", node),)
        return (Edit.of("bypass", node),) if attrs["op"] == "Cast" and a.get("SrcT") == a.get("DstT") else ()


class NegOp(_PatternRule):
    code, name, summary = "TX002", "neg-op", "a Neg"

    def edits(self, model, node, attrs):
        return (Edit.of("neg-to-mul", node),) if attrs["op"] == "Neg" else ()


class SquaredDiff(_PatternRule):
    code, name, summary = "TX003", "squared-diff", "a SquaredDifference"

    def edits(self, model, node, attrs):
        return (Edit.of("squared-difference", node),) if attrs["op"] == "SquaredDifference" else ()


class BatchNorm(_PatternRule):
    code, name, summary = "TX004", "batch-norm", "a FusedBatchNorm"

    def edits(self, model, node, attrs):
        if not attrs["op"].startswith("FusedBatchNorm"):
            return ()
        training = attrs["attrs"].get("is_training", True)
        return (Edit.of("decompose-batchnorm" if training else "fold-batchnorm", node),)


class Dropout(_PatternRule):
    code, name, summary = "TX005", "dropout", "a v1 dropout block"

    def edits(self, model, node, attrs):
        scope = attrs["name"].rsplit("/", 1)[0]
        if not scope.endswith("dropout") or attrs["op"] not in ("Mul", "SelectV2", "Select"):
            return ()
        if any(t.startswith(scope + "/") for c in model.successors(node) for t in [c]):
            return ()  # not the last node of the block
        return (Edit.of("remove-dropout", node),)


class FakeQuant(_PatternRule):
    code, name, summary = "TX006", "fake-quant", "FakeQuant nodes"
    applicability = Applicability.UNSAFE

    def edits(self, model, node, attrs):
        return (Edit.of("drop-fake-quant", node),) if attrs["op"] in _FAKE_QUANT else ()


class DisplayOnly(_PatternRule):
    code, name, summary = "TX007", "display-only", "a Relu (display-only fix)"
    applicability = Applicability.DISPLAY

    def edits(self, model, node, attrs):
        return (Edit.of("bypass", node),) if attrs["op"] == "Relu" else ()


RULES = (NoOpCast, NegOp, SquaredDiff, BatchNorm, Dropout, FakeQuant, DisplayOnly)


def registry(*extra) -> Registry:
    """The built-in rules plus this pack (and ``extra`` rule classes)."""
    from graphlint.engine.registry import default_registry

    return Registry(rules=tuple(sorted((*default_registry().rules, *RULES, *extra), key=lambda r: r.code)))


def only(*rules) -> Registry:
    """A registry of just these rules."""
    return Registry(rules=tuple(sorted(rules, key=lambda r: r.code)))
