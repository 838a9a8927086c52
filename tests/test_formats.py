"""Renderers: SARIF as GitHub code scanning reads it, JUnit, GitHub annotations, text grouping."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from graphlint.engine.registry import default_registry
from graphlint.engine.runner import lint
from graphlint.formats import renderer
from graphlint.testing import GraphBuilder


def _report():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, None, None, 3))
    w = b.node("VariableV2", name="model/w", attrs={"dtype": "float32", "shape": (4, 2)})
    b.op("MatMul", [x, w], name="y")
    b.output("y")
    return lint(b.to_bytes(), outputs=b.outputs, name="models/net.pb", targets=["float", "int8"])


def test_sarif_has_rules_locations_and_fingerprints():
    sarif = json.loads(renderer("sarif")([_report()], registry=default_registry()))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["GL101", "GL202"]
    assert "## How to fix" in rules[0]["help"]["markdown"] and rules[0]["defaultConfiguration"]["level"] == "error"
    assert [r["ruleId"] for r in run["results"]] == ["GL202", "GL101"]  # in graph order: `x` comes first
    result = run["results"][1]
    assert result["ruleId"] == "GL101" and result["ruleIndex"] == 0 and result["level"] == "error"
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "models/net.pb"
    assert location["physicalLocation"]["region"]["startLine"] == 1
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "model/w"
    assert len(result["partialFingerprints"]["graphlintFingerprint/v1"]) == 16
    # fingerprints are stable across runs
    again = json.loads(renderer("sarif")([_report()], registry=default_registry()))
    assert again["runs"][0]["results"] == run["results"]


def test_junit_one_case_per_target():
    root = ET.fromstring(renderer("junit")([_report()]).split("\n", 1)[1])
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["target float", "target int8"]
    assert all(c.find("failure") is not None for c in cases)
    assert "GL101 model/w" in cases[0].find("failure").text


def test_github_annotations_escape_properties():
    lines = renderer("github")([_report()]).splitlines()
    assert lines[0].startswith("::notice file=models/net.pb,title=GL202 input-dynamic-dim at `x`::")
    assert lines[1].startswith("::error file=models/net.pb,title=GL101 unfrozen-variable at `model/w`::")


def test_text_groups_by_rule_with_verdicts():
    text = renderer("text")([_report()])
    assert "models/net.pb  GraphDef, 2 ops" in text
    assert "float  FAIL  GL101" in text
    assert text.index("GL101 unfrozen-variable") < text.index("GL202 input-dynamic-dim")
    assert text.rstrip().endswith("2 finding(s) in 1 model(s): 1 error, 0 warnings, 1 info")


def nan_scale_tflite() -> bytes:
    """A TFLite model whose quantization scales are NaN and infinite (a corrupt file, still loadable)."""
    from graphlint.testing import TFLiteBuilder

    b = TFLiteBuilder()
    x = b.input("x", "int8", (1, 4), quant=([float("nan")], [0]))
    y = b.tensor("y", "int8", (1, 4), quant=([float("inf")], [0]))
    b.op("RELU", [x], [y])
    b.output(y)
    return b.to_bytes()


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_is_strict_even_for_nan_scales():
    report = lint(nan_scale_tflite(), name="nan.tflite")
    data = _strict(renderer("json")([report]))
    assert data["model"]["inputs"][0]["quantization"]["scale"] == ["nan"]
    assert data["model"]["outputs"][0]["quantization"]["scale"] == ["inf"]
    _strict(renderer("sarif")([report]))


def test_the_model_is_hashed_only_for_reports_that_carry_the_hash(monkeypatch):
    import hashlib
    import types

    import graphlint.loaders as loaders

    hashed = []
    monkeypatch.setattr(loaders, "hashlib", types.SimpleNamespace(
        sha256=lambda data: hashed.append(len(data)) or hashlib.sha256(data)))
    b = GraphBuilder()
    b.output(b.op("Relu", [b.placeholder("x", "float32", (1, 4))], name="y"))
    data = b.to_bytes()
    report = lint(data, outputs=b.outputs, targets=["float"])
    for fmt in ("text", "junit", "github", "sarif"):
        renderer(fmt)([report], registry=default_registry())
    assert hashed == []  # linting and these formats never read it
    for _ in range(2):
        assert json.loads(renderer("json")([report]))["model"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert hashed == [len(data)]  # once, when the JSON report needed it
    assert report.model["sha256"] == report.to_dict()["model"]["sha256"]
