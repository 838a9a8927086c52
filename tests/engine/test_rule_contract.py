"""Every registered rule keeps the contract: metadata, documentation sections, and executable examples
(the bad example fires the rule, the good one does not)."""

from __future__ import annotations

from pathlib import Path

import pytest

import graphlint_rules
from graphlint.engine.registry import default_registry
from graphlint.engine.rule import CODE_RE, NAME_RE, REQUIRED_SECTIONS, Category
from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.engine.targets import TARGETS
from graphlint.testing import GraphBuilder, TFLiteBuilder, savedmodel_view

RULES = default_registry().rules
PACK = Path(graphlint_rules.__file__).parent
CHECKED = [r for r in RULES if not r.engine_emitted]


def test_builtin_pack_loads_cleanly_with_every_rule_file():
    """Each rule file of the pack (``<category>/glNNN_<name>.py``) is registered under the code and name its file
    says, and nothing else is."""
    assert default_registry().broken == ()
    files = sorted(p.stem for p in PACK.glob("*/gl[0-9][0-9][0-9]_*.py"))
    assert files == sorted(f"{r.code.lower()}_{r.name.replace('-', '_')}" for r in RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_metadata(rule):
    assert CODE_RE.match(rule.code) and rule.code.startswith("GL")
    assert NAME_RE.match(rule.name)
    assert isinstance(rule.category, Category)
    assert rule.summary and not rule.summary.endswith(".")
    assert rule.fix_availability in ("none", "sometimes", "always")
    assert rule.status in ("stable", "preview", "deprecated")
    assert set(rule.targets) <= set(TARGETS)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_docs_have_required_sections(rule):
    doc = rule.doc()
    for section in REQUIRED_SECTIONS:
        assert f"## {section}" in doc, f"{rule.code} lacks '## {section}'"
    if rule.fix_availability != "none":
        assert "## Fix safety" in doc or "## How to fix" in doc


def _codes(rule, build) -> list[str]:
    b = TFLiteBuilder() if rule.example_format == "tflite" else GraphBuilder()
    build(b)
    outputs = () if rule.example_format == "tflite" else b.outputs
    if rule.example_format == "savedmodel":
        source = savedmodel_view(b)
    else:
        source = b.to_bytes()
    report = lint(source, outputs=outputs, targets=tuple(TARGETS), name=f"example.{rule.example_format}")
    return [f.code for f in report.findings]


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_bad_example_fires(rule):
    assert rule.code in _codes(rule, rule.bad_example)


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_good_example_is_silent(rule):
    codes = _codes(rule, rule.good_example)
    assert rule.code not in codes


def test_selection_by_prefix_code_and_name():
    by_code = default_registry().by_code()
    gl101, gl102, gl201 = by_code["GL101"], by_code["GL102"], by_code["GL201"]
    sel = Selection(select=("GL1",), ignore=("training-op",))
    assert sel.enabled(gl101) and not sel.enabled(gl102) and not sel.enabled(gl201)
    # the most specific pattern wins: GL102 selected exactly beats an ignored prefix
    sel = Selection(select=("GL102",), ignore=("GL1",))
    assert sel.enabled(gl102) and not sel.enabled(gl101)
