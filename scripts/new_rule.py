#!/usr/bin/env python
"""Write the skeleton of a new rule of the built-in pack and of its test.

    python scripts/new_rule.py GL407 int8-shift-overflow quantization "One line on what the rule reports"

Writes ``rules/graphlint_rules/<category>/gl407_int8_shift_overflow.py`` (metadata, the documentation sections,
``check``, ``bad_example``, ``good_example``) and ``tests/rules/test_gl407_int8_shift_overflow.py``. The rule
contract test fails until the examples and ``check`` are written; then regenerate the docs with
``python scripts/gen_rule_docs.py`` and ``graphlint rules --all --format markdown`` (README table).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from graphlint.engine import codes

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ("loading", "structure", "shapes", "compatibility", "quantization", "performance", "tflite")

RULE = '''"""{code} {name}."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder


class {cls}(Rule):
    """## What it does
    {summary}.

    ## Why is this bad?
    What the converter or the runtime does with such a model, in its own words, as measured.

    ## Example
    The smallest model that shows it.

    ## How to fix
    The rewrite or the converter setting that avoids it.
    """

    code = "{code}"
    name = "{name}"
    summary = "{summary}"
    category = Category.{category_const}
    severity = Severity.ERROR
    formats = frozenset({{"graphdef"}})

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        for node, attrs in model.ops():
            if False:  # the condition this rule reports
                yield self.report(model, node, f"`{{attrs['name']}}` ...", fix=Fix("..."))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        raise NotImplementedError("build the smallest model this rule reports")

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        raise NotImplementedError("build the nearest model this rule does not report")
'''

TEST = '''"""{code} {name}: what the rule says, checked against what the converter or the runtime does."""

from __future__ import annotations

from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.testing import GraphBuilder


def test_{snake}_reports_the_bad_example():
    from graphlint_rules.{package}.{module} import {cls}

    b = GraphBuilder()
    {cls}.bad_example(b)
    report = lint(b.to_bytes(), outputs=b.outputs, selection=Selection(select=("{code}",)))
    assert [f.code for f in report.findings] == ["{code}"]
'''


def _names(code: str, name: str, category: str) -> dict[str, str]:
    snake = name.replace("-", "_")
    return {"code": code, "name": name, "snake": snake, "module": f"{code.lower()}_{snake}",
            "cls": "".join(part.title() for part in name.split("-")),
            "package": category, "category_const": "COMPATIBILITY" if category == "tflite" else category.upper()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("code", help="GL + 3 digits, in the category's block (GL4xx quantization ...)")
    parser.add_argument("name", help="kebab-case; names the problem, not the fix")
    parser.add_argument("category", choices=CATEGORIES)
    parser.add_argument("summary", help="one line for tables")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not re.fullmatch(r"GL\d{3}", args.code) or not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", args.name):
        parser.error("the code is GL and 3 digits, the name kebab-case")
    names = {**_names(args.code, args.name, args.category), "summary": args.summary.rstrip(".").replace('"', "'")}
    rule = args.root / "rules" / "graphlint_rules" / args.category / f"{names['module']}.py"
    test = args.root / "tests" / "rules" / f"test_{names['module']}.py"
    clash = [p for p in (rule, test) if p.exists()] + list(rule.parent.glob(f"{args.code.lower()}_*.py"))
    retired = [k for k in (args.code, args.name) if k in codes.REDIRECTS or k in codes.DELETED_CODES]
    if retired:
        print(f"new_rule: {retired[0]} was retired (graphlint/engine/codes.py); codes are never reused",
              file=sys.stderr)
        return 2
    if clash:
        print(f"new_rule: {clash[0]} exists; codes are never reused", file=sys.stderr)
        return 2
    rule.write_text(RULE.format(**names))
    test.write_text(TEST.format(**names))
    print(f"wrote {rule.relative_to(args.root)} and {test.relative_to(args.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
