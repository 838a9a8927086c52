"""JUnit XML: one test suite per model, one test case per target (failed when the verdict is fail)."""

from __future__ import annotations

from xml.etree import ElementTree as ET


def render(reports, **_) -> str:
    """Render as a ``<testsuites>`` document."""
    root = ET.Element("testsuites", name="graphlint")
    total = failures = 0
    for report in reports:
        verdicts = report.verdicts()
        suite = ET.SubElement(root, "testsuite", name=report.model["path"], tests=str(len(verdicts)))
        suite_failures = 0
        for target, v in verdicts.items():
            case = ET.SubElement(suite, "testcase", classname=report.model["path"], name=f"target {target}")
            relevant = [f for f in report.findings if f.severity_for(target) is not None]
            if v["verdict"] == "fail":
                suite_failures += 1
                errors = [f for f in relevant if f.severity_for(target).value == "error"]
                failure = ET.SubElement(case, "failure", type="error",
                                        message=f"{target}: {len(errors)} blocking finding(s): "
                                                + ", ".join(v["blocking"]))
                failure.text = "\n".join(f"{f.code} {f.node or '-'}: {f.message}" for f in errors)
            if relevant and v["verdict"] != "fail":
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(f"{f.severity_for(target).value} {f.code} {f.node or '-'}: {f.message}"
                                     for f in relevant)
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        total += len(verdicts)
        failures += suite_failures
    root.set("tests", str(total))
    root.set("failures", str(failures))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
