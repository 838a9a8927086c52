"""Lint a case from conftest.CASES the way the CLI would."""

from __future__ import annotations

from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.engine.targets import TARGETS

from .conftest import CASES, build


def lint_case(name: str, targets=tuple(TARGETS), select=("GL0", "GL1", "GL2"), **kwargs):
    """Lint a case; by default only the loading, structure and shape rules run (the ones these tests are about)."""
    b = build(name)
    extra = CASES[name][1]
    inputs = [f"{k}:" + ",".join(map(str, v)) for k, v in extra.get("input_shapes", {}).items()]
    return lint(b.to_bytes(), outputs=extra.get("outputs", b.outputs), inputs=inputs, targets=targets,
                name=f"{name}.pb", selection=Selection(select=select), **kwargs)


def codes(report) -> list[tuple[str, str | None]]:
    return [(f.code, f.node) for f in report.findings]
