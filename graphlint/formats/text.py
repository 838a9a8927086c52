"""Human-readable text: per model a header with the verdicts, then findings grouped by rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from typing import TYPE_CHECKING

from graphlint.loaders import FORMAT_NAMES

if TYPE_CHECKING:
    from graphlint.report import Report, Verified

Paint = Callable[[str, str], str]  # (colour kind, text) -> the text, coloured when colour is on

_COLORS = {"error": "31", "warning": "33", "info": "36", "pass": "32", "warn": "33", "fail": "31", "dim": "2",
           "bold": "1"}


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    size: float = n
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _verified_text(verified: Verified | None, c: Paint) -> str:
    """`` · confirmed`` / `` · CONTRADICTED: the real tools say fail: ...`` / `` · not run: ...``."""
    if not verified:
        return ""
    if verified["status"] == "confirmed":
        return c("pass", "  confirmed")
    if verified["status"] == "contradicted":
        message = f": {verified['message']}" if verified.get("message") else ""
        return c("fail", f"  CONTRADICTED, the real tools say {verified['actual']}") + message
    return c("dim", f"  not run: {verified.get('message') or 'not judged here'}")


def _reproductions(report: Report, c: Paint) -> list[str]:
    """A one-command reproduction under the verdicts for each contradicted target."""
    return [c("dim", f"    reproduce {target}: ") + reproduce for target, v in (report.verified or {}).items()
            if v["status"] == "contradicted" and (reproduce := v.get("reproduce"))]


def render(reports: Sequence[Report], color: bool = False, **_: object) -> str:
    """Render reports as text; ``color`` adds ANSI colours (the CLI sets it only on a TTY)."""

    def c(kind: str, text: str) -> str:
        return f"\033[{_COLORS[kind]}m{text}\033[0m" if color else text

    out: list[str] = []
    totals = {"error": 0, "warning": 0, "info": 0}
    for report in reports:
        m = report.model
        kind = FORMAT_NAMES.get(m["format"] or "", "unreadable")
        out.append(c("bold", m["path"]) + c("dim", f"  {kind}, {m['ops']} ops, {_size(m['size_bytes'])}"))
        width = max((len(t) for t in report.targets), default=0)
        for target, v in report.verdicts().items():
            codes = v["blocking"] or v["warnings"]
            label = v["verdict"].upper() if v["verdict"] != "pass" else "pass"
            codes_text = c("dim", "  " + " ".join(codes)) if codes else ""
            checked = _verified_text((report.verified or {}).get(target), c)
            out.append(f"  {target:<{width}}  {c(v['verdict'], label)}{codes_text}{checked}")
        out.extend(_reproductions(report, c))
        findings = sorted(report.findings, key=lambda f: (-f.severity.rank, f.code))
        for code, group in groupby(findings, key=lambda f: f.code):
            items = list(group)
            first = items[0]
            out.append("")
            out.append(c(first.severity.value, f"{code} {first.rule}") + c("dim", f"  {first.severity.value}, "
                                                                                 f"{len(items)} finding(s)"))
            for f in items:
                where = f"{f.node} ({f.op})" if f.node and f.op else (f.node or "model")
                layer = dict(f.data).get("keras_layer")
                where += f" [Keras layer {layer}]" if layer else ""
                out.append(f"  {c('bold', where)}: {f.message}")
                if f.fix:
                    out.append(c("dim", f"    fix ({f.fix.applicability.value}): {f.fix.title}"))
        for f in report.findings:
            totals[f.severity.value] += 1
        out.append("")
    summary = ", ".join(f"{n} {k}{'s' if n != 1 and k != 'info' else ''}" for k, n in totals.items())
    out.append(f"{sum(totals.values())} finding(s) in {len(reports)} model(s): {summary}")
    return "\n".join(out) + "\n"
