"""Functions in the shipped code (``graphlint/`` and ``rules/``) stay at most 60 lines, docstrings aside.

ruff holds their complexity, branches and statements (C90, PLR0912, PLR0915, see pyproject.toml); none of its
rules counts lines, which a declarative table or a long call chain can pile up without a single branch.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 60


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    lines = (node.end_lineno or node.lineno) - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= (first.end_lineno or first.lineno) - first.lineno + 1
    return lines


def test_no_function_in_the_shipped_code_is_over_60_lines() -> None:
    long = []
    for package in ("graphlint", "rules"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body_lines(node) > MAX_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({_body_lines(node)} lines)")
    assert not long, "split these into named steps:\n" + "\n".join(long)
