"""SARIF 2.1.0 for GitHub code scanning: stable rule ids with help text, the model file as the location and
the node as a logical location, and ``partialFingerprints`` so alerts track across runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from graphlint import __version__

if TYPE_CHECKING:
    from graphlint.engine.registry import Registry
    from graphlint.report import JSONObject, Report

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(path: str) -> str:
    return PurePath(path).as_posix().lstrip("/") if not path.startswith("<") else "model"


def _verification(reports: Sequence[Report]) -> JSONObject:
    """``properties.verified`` of the run after ``--verify``: per model path, each target's verified object."""
    verified = {r.model["path"]: r.verified for r in reports if r.verified}
    return {"properties": {"verified": verified}} if verified else {}


def render(reports: Sequence[Report], registry: Registry | None = None, **_: object) -> str:
    """Render every report into one SARIF run."""
    codes = sorted({f.code for r in reports for f in r.findings})
    by_code = registry.by_code() if registry is not None else {}
    rules: list[JSONObject] = []
    for code in codes:
        rule = by_code.get(code)
        name = rule.name if rule else next(f.rule for r in reports for f in r.findings if f.code == code)
        doc = rule.doc() if rule else ""
        rules.append({
            "id": code, "name": name,
            "shortDescription": {"text": rule.summary if rule else name},
            "fullDescription": {"text": (rule.summary if rule else name)},
            "help": {"text": doc or name, "markdown": doc or name},
            "defaultConfiguration": {"level": _LEVEL[rule.severity.value] if rule else "warning"},
            "properties": {"tags": ["graphlint", rule.category.value] if rule else ["graphlint"]},
        })
    index = {code: i for i, code in enumerate(codes)}
    results: list[JSONObject] = []
    artifacts: list[JSONObject] = []
    for report in reports:
        uri = _uri(report.model["path"])
        artifacts.append({"location": {"uri": uri}, "length": report.model.get("size_bytes") or -1})
        for f in report.findings:
            location: JSONObject = {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}}}
            if f.node:
                location["logicalLocations"] = [{"name": f.node.rsplit("/", 1)[-1], "fullyQualifiedName": f.node,
                                                 "kind": "member"}]
            result: JSONObject = {
                "ruleId": f.code, "ruleIndex": index[f.code], "level": _LEVEL[f.severity.value],
                "message": {"text": f.message + (f" Fix: {f.fix.title}." if f.fix else "")},
                "locations": [location],
                "partialFingerprints": {"graphlintFingerprint/v1": f.fingerprint},
                "properties": {"targets": list(f.targets) or list(report.targets), "node": f.node, "op": f.op},
            }
            results.append(result)
    sarif: JSONObject = {
        "$schema": SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "graphlint", "version": __version__, "semanticVersion": __version__,
                                "informationUri": "https://pypi.org/project/graphlint/", "rules": rules}},
            "artifacts": artifacts, "results": results, "columnKind": "unicodeCodePoints",
            **_verification(reports),
        }],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
