"""JUnit XML: one test suite per model, one test case per target (failed when the verdict is fail).

After ``--verify`` a judged target's case fails when the real tools failed it (whatever was predicted), carries
``verified`` / ``actual`` properties, and a contradiction's message and reproduction go to ``system-err``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

if TYPE_CHECKING:
    from graphlint.report import Report, Verified


def _verification(case: ET.Element, target: str, verified: Verified | None, predicted: str) -> None:
    if not verified:
        return
    props = ET.SubElement(case, "properties")
    ET.SubElement(props, "property", name="verified", value=verified["status"])
    ET.SubElement(props, "property", name="actual", value=verified.get("actual") or "")
    if verified["status"] == "contradicted":
        err = ET.SubElement(case, "system-err")
        err.text = (f"{target}: predicted {predicted}, the real tools say {verified['actual']}: "
                    f"{verified.get('message') or ''}\nreproduce: {verified.get('reproduce') or '-'}")


def render(reports: Sequence[Report], **_: object) -> str:
    """Render as a ``<testsuites>`` document."""
    root = ET.Element("testsuites", name="graphlint")
    total = failures = 0
    for report in reports:
        verdicts = report.verdicts()
        effective = report.effective_verdicts()
        suite = ET.SubElement(root, "testsuite", name=report.model["path"], tests=str(len(verdicts)))
        suite_failures = 0
        for target, v in verdicts.items():
            case = ET.SubElement(suite, "testcase", classname=report.model["path"], name=f"target {target}")
            verified = (report.verified or {}).get(target)
            _verification(case, target, verified, v["verdict"])
            relevant = [(f, sev) for f in report.findings if (sev := f.severity_for(target)) is not None]
            if effective[target] == "fail":
                suite_failures += 1
                errors = [f for f, sev in relevant if sev.value == "error"]
                if v["verdict"] == "fail":
                    message = f"{target}: {len(errors)} blocking finding(s): " + ", ".join(v["blocking"])
                else:  # only the real tools' verdict fails it, so it was verified
                    said = verified.get("message") if verified is not None else None
                    message = f"{target}: the real tools fail it: {said or ''}"
                failure = ET.SubElement(case, "failure", type="error", message=message)
                failure.text = "\n".join(f"{f.code} {f.node or '-'}: {f.message}" for f in errors)
            if relevant and effective[target] != "fail":
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(f"{sev.value} {f.code} {f.node or '-'}: {f.message}" for f, sev in relevant)
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        total += len(verdicts)
        failures += suite_failures
    root.set("tests", str(total))
    root.set("failures", str(failures))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
