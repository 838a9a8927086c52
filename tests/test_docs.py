"""Docs are generated from the rules and the targets: the README's tables must match what the registries say."""

from __future__ import annotations

from pathlib import Path

from graphlint.cli import rules_table, targets_table
from graphlint.engine.registry import default_registry

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_rules_table_is_current():
    text = README.read_text("utf-8")
    start = text.index("<!-- rules-table -->\n") + len("<!-- rules-table -->\n")
    end = text.index("<!-- /rules-table -->")
    expected = rules_table(default_registry().rules)
    assert text[start:end] == expected, "regenerate with: graphlint rules --all --format markdown"


def test_readme_targets_table_is_current():
    text = README.read_text("utf-8")
    start = text.index("<!-- targets-table -->\n") + len("<!-- targets-table -->\n")
    end = text.index("<!-- /targets-table -->")
    assert text[start:end] == targets_table(), "regenerate with: graphlint targets --format markdown"


def test_readme_starts_with_the_two_commands():
    blocks = README.read_text("utf-8").split("```sh\n")
    assert "graphlint serve" in blocks[1].split("```")[0]
    assert "pytest" in blocks[2].split("```")[0]


def test_rule_pages_are_current():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "gen_rule_docs.py"
    spec = importlib.util.spec_from_file_location("gen_rule_docs", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.main(["--check"]) == 0, "regenerate with: python scripts/gen_rule_docs.py"
