"""Codes are forever: a merged or renamed code keeps working through REDIRECTS, and new rules start from the
scaffold."""

from __future__ import annotations

import importlib.util
import py_compile
from pathlib import Path

import pytest

from graphlint.engine import codes
from graphlint.engine.registry import default_registry
from graphlint.engine.select import Selection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redirected(monkeypatch):
    monkeypatch.setitem(codes.REDIRECTS, "GL998", "GL101")
    monkeypatch.setitem(codes.REDIRECTS, "variable-not-frozen", "unfrozen-variable")


def test_a_redirected_code_or_name_finds_the_rule_that_replaced_it(redirected):
    registry = default_registry()
    assert registry.find("GL998").code == "GL101"
    assert registry.find("gl998").code == "GL101"
    assert registry.find("variable-not-frozen").code == "GL101"
    assert registry.find("GL997") is None


def test_a_redirected_code_selects_and_ignores_the_rule_that_replaced_it(redirected):
    rule = default_registry().find("GL101")
    assert Selection(select=("GL998",)).enabled(rule)
    assert not Selection(ignore=("GL998",)).enabled(rule)
    assert not Selection(select=("GL102",)).enabled(rule)


def test_redirect_cycles_stop(monkeypatch):
    monkeypatch.setitem(codes.REDIRECTS, "GL990", "GL991")
    monkeypatch.setitem(codes.REDIRECTS, "GL991", "GL990")
    assert codes.canonical("GL990") in ("GL990", "GL991")


def test_the_scaffold_writes_a_rule_and_its_test_and_never_reuses_a_code(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("new_rule", ROOT / "scripts" / "new_rule.py")
    new_rule = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(new_rule)
    (tmp_path / "rules" / "graphlint_rules" / "quantization").mkdir(parents=True)
    (tmp_path / "tests" / "rules").mkdir(parents=True)
    args = ["GL499", "shift-overflow", "quantization", "An int8 shift overflows", "--root", str(tmp_path)]
    assert new_rule.main(args) == 0
    rule = tmp_path / "rules" / "graphlint_rules" / "quantization" / "gl499_shift_overflow.py"
    test = tmp_path / "tests" / "rules" / "test_gl499_shift_overflow.py"
    for path in (rule, test):
        py_compile.compile(str(path), doraise=True)
    assert 'code = "GL499"' in rule.read_text() and "class ShiftOverflow(Rule)" in rule.read_text()
    assert new_rule.main(args) == 2
    assert "codes are never reused" in capsys.readouterr().err


def test_a_missing_built_in_pack_is_reported_like_any_broken_pack():
    from graphlint.engine.registry import EntryPoint, load_packs

    registry = load_packs([EntryPoint("XT", "json:dumps", "graphlint.rules")])
    assert registry.rules == ()
    assert {b.name: b.error for b in registry.broken}["GL"].startswith("the built-in rule pack is not installed")
