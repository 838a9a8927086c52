"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphlint.report import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def render(reports: Sequence[Report], **_: object) -> str:
    """``::error file=model.pb,title=GL101 unfrozen-variable::message`` lines."""
    lines = []
    for report in reports:
        path = report.model["path"]
        for f in report.findings:
            where = f" at `{f.node}`" if f.node else ""
            title = _escape(f"{f.code} {f.rule}{where}", prop=True)
            lines.append(f"::{_LEVEL[f.severity.value]} file={_escape(path, prop=True)},title={title}::"
                         f"{_escape(f.message)}")
        for target, v in (report.verified or {}).items():
            if v["status"] == "contradicted":
                title = _escape(f"graphlint --verify: {target} contradicted", prop=True)
                text = f"the real tools say {v['actual']}: {v.get('message') or ''}; reproduce: {v.get('reproduce')}"
                lines.append(f"::warning file={_escape(path, prop=True)},title={title}::{_escape(text)}")
    return "\n".join(lines) + ("\n" if lines else "")
