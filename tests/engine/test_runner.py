"""The runner isolates crashing rules, applies selections and overrides, and orders findings deterministically."""

from __future__ import annotations

import pytest

from graphlint.engine.finding import Severity
from graphlint.engine.options import parse_io
from graphlint.engine.registry import Registry, default_registry
from graphlint.engine.rule import Category, Rule
from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.testing import GraphBuilder


class _Boom(Rule):
    """## What it does\nCrashes.\n## Why is this bad?\n-\n## Example\n-\n## How to fix\n-"""

    code, name, summary, category = "GL998", "always-crashes", "Crashes", Category.INTERNAL

    def check(self, model, ctx):
        raise RuntimeError("kaboom")


def _training_graph() -> bytes:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    w = b.node("VariableV2", name="w", attrs={"dtype": "float32", "shape": (4, 2)})
    y = b.op("MatMul", [x, w], name="y")
    b.op("SaveV2", [x], name="save/SaveV2")
    b.output(y)
    return b.to_bytes()


def test_crashing_rule_becomes_gl900_and_others_still_run():
    registry = Registry(tuple(sorted([*default_registry().rules, _Boom], key=lambda r: r.code)))
    report = lint(_training_graph(), outputs=["y"], registry=registry)
    codes = [f.code for f in report.findings]
    assert "GL900" in codes and "GL101" in codes and "GL102" in codes
    crash = next(f for f in report.findings if f.code == "GL900")
    assert "GL998" in crash.message and "kaboom" in crash.message
    assert "kaboom" in dict(crash.data)["traceback"]


def test_severity_override_and_per_node_ignores_change_the_verdict():
    data = _training_graph()
    base = lint(data, outputs=["y"])
    assert base.verdicts()["float"]["verdict"] == "fail"
    softened = lint(data, outputs=["y"], selection=Selection(severity={"GL101": "warning", "training-op": "info"}))
    assert {f.code: f.severity for f in softened.findings} == {"GL101": Severity.WARNING, "GL102": Severity.INFO}
    assert softened.verdicts()["float"]["verdict"] == "warn"
    ignored = lint(data, outputs=["y"], selection=Selection(per_node_ignores={"save/*": ["GL102"], "w": ["GL1"]}))
    assert [f.code for f in ignored.findings] == []


def test_findings_are_deterministic_and_sorted_by_position():
    data = _training_graph()
    first = [f.to_dict() for f in lint(data, outputs=["y"]).findings]
    second = [f.to_dict() for f in lint(data, outputs=["y"]).findings]
    assert first == second
    assert [f["node"] for f in first] == ["w", "save/SaveV2"]


def test_unknown_target_is_a_usage_error():
    with pytest.raises(ValueError, match="unknown target `tpu`"):
        lint(_training_graph(), targets=["tpu"])


@pytest.mark.parametrize(("specs", "names", "shapes"), [
    (["x"], ("x",), {}),
    (["x:0"], ("x:0",), {}),
    (["x:1,224,224,3"], ("x",), {"x": (1, 224, 224, 3)}),
    (["img:[1,?,?,3]"], ("img",), {"img": (1, None, None, 3)}),
    (["a/b:1x8"], ("a/b",), {"a/b": (1, 8)}),
    (["v:5,"], ("v",), {"v": (5,)}),
    (["s:[]"], ("s",), {"s": ()}),
])
def test_parse_io(specs, names, shapes):
    assert parse_io(specs) == (names, shapes)


def test_parse_io_rejects_bad_dims():
    with pytest.raises(ValueError, match="dims are integers"):
        parse_io(["x:1,abc"])
