"""The ``graphlint`` command: exit codes, formats, several outputs in one run, config files, rule docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from graphlint.testing import GraphBuilder


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphlint", *args], capture_output=True, text=True, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": ""})


@pytest.fixture()
def clean_pb(tmp_path) -> Path:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    b.op("MatMul", [x, b.const([[1.0, 2.0]] * 4, name="w")], name="y")
    path = tmp_path / "clean.pb"
    path.write_bytes(b.to_bytes())
    return path


@pytest.fixture()
def broken_pb(tmp_path) -> Path:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    w = b.node("VariableV2", name="w", attrs={"dtype": "float32", "shape": (4, 2)})
    b.op("MatMul", [x, w], name="y")
    b.op("SaveV2", [x], name="save/SaveV2")
    path = tmp_path / "broken.pb"
    path.write_bytes(b.to_bytes())
    return path


def test_clean_model_exits_0(clean_pb):
    proc = _run("check", str(clean_pb), "--output", "y")
    assert proc.returncode == 0, proc.stderr
    assert "float  pass" in proc.stdout and "int8   pass" in proc.stdout
    assert "\033[" not in proc.stdout  # no colour when stdout is not a terminal


def test_error_findings_exit_1_and_exit_zero_overrides(broken_pb):
    proc = _run("check", str(broken_pb), "--output", "y")
    assert proc.returncode == 1
    assert "GL101 unfrozen-variable" in proc.stdout and "GL102 training-op" in proc.stdout
    assert _run("check", str(broken_pb), "--output", "y", "--exit-zero").returncode == 0
    assert _run("check", str(broken_pb), "--output", "y", "--ignore", "GL1").returncode == 0


def test_colour_on_request(broken_pb):
    assert "\033[31m" in _run("check", str(broken_pb), "--color", "always").stdout


def test_json_report_follows_the_schema(broken_pb):
    proc = _run("check", str(broken_pb), "--output", "y", "--format", "json", "-t", "float", "-t", "tflm")
    report = json.loads(proc.stdout)
    assert report["schema_version"] == 1
    assert set(report) >= {"model", "targets", "findings", "stats", "timings_ms"}
    model = report["model"]
    assert model["format"] == "graphdef" and model["path"] == str(broken_pb) and len(model["sha256"]) == 64
    assert model["size_bytes"] == broken_pb.stat().st_size and model["nodes"] == 4
    assert model["inputs"] == [{"name": "x", "dtype": "float32", "shape": [1, 4]}]
    assert model["outputs"] == [{"name": "y", "dtype": "float32", "shape": [1, 2]}]
    assert list(report["targets"]) == ["float", "tflm"]
    assert report["targets"]["float"] == {"verdict": "fail", "blocking": ["GL101", "GL102"], "warnings": []}
    finding = report["findings"][0]
    assert set(finding) >= {"code", "rule", "severity", "message", "node", "op", "tensor", "targets", "fix",
                            "fingerprint"}
    assert (finding["code"], finding["node"], finding["op"]) == ("GL101", "w", "VariableV2")
    assert finding["fix"]["applicability"] in ("safe", "unsafe", "display")


def test_several_formats_each_to_its_path(broken_pb, tmp_path):
    sarif, junit, js = tmp_path / "out.sarif", tmp_path / "out.xml", tmp_path / "out.json"
    proc = _run("check", str(broken_pb), "--output", "y", "-f", "text", "-f", f"sarif:{sarif}", "-f", f"junit:{junit}",
                "-f", f"json:{js}")
    assert proc.returncode == 1 and "GL101" in proc.stdout
    assert json.loads(js.read_text())["findings"][0]["code"] == "GL101"
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    assert ET.parse(junit).getroot().get("failures") == "2"


def test_two_stdout_formats_is_a_usage_error(clean_pb):
    proc = _run("check", str(clean_pb), "-f", "json", "-f", "text")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "only one format" in proc.stderr


@pytest.mark.parametrize("args", [["-t", "tpu"], ["-f", "yaml"], ["--input", "x:1,a"], ["--bogus"], ["-o", "y"],
                                  ["-oy"]])
def test_usage_errors_exit_2_in_one_line(clean_pb, args):
    proc = _run("check", str(clean_pb), *args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("graphlint: error:") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_short_o_is_the_written_file_in_every_command(clean_pb):
    # `-o` names the file convert and fix write; check writes files with -f FMT:PATH and takes --output NAME
    proc = _run("check", str(clean_pb), "-o", "y")
    assert "--output NAME" in proc.stderr and "-f FMT:PATH" in proc.stderr
    assert _run("check", str(clean_pb), "--output", "y").returncode == 0
    assert _run("check", "--", str(clean_pb)).returncode == 0


def test_unreadable_model_exits_2_but_still_reports(tmp_path, clean_pb):
    junk = tmp_path / "junk.pb"
    junk.write_bytes(b"\xff" * 64)
    proc = _run("check", str(junk), str(clean_pb), "--format", "json")
    assert proc.returncode == 2
    assert proc.stderr.startswith("graphlint: error:") and proc.stderr.count("\n") == 1
    reports = json.loads(proc.stdout)
    assert [r["findings"][0]["code"] if r["findings"] else None for r in reports] == ["GL001", "GL004"]


def test_config_in_pyproject_and_graphlint_toml(broken_pb, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.graphlint]\nignore = ["GL102"]\ntargets = ["tflm"]\n')
    report = json.loads(_run("check", str(broken_pb), "--output", "y", "-f", "json", cwd=tmp_path).stdout)
    assert [f["code"] for f in report["findings"]] == ["GL101"] and list(report["targets"]) == ["tflm"]
    (tmp_path / "graphlint.toml").write_text('[per-node-ignores]\n"w" = ["GL101"]\n[severity]\nGL102 = "warning"\n')
    proc = _run("check", str(broken_pb), "--output", "y", "-f", "json", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [("GL102", "warning")]
    assert proc.returncode == 0
    isolated = json.loads(_run("check", str(broken_pb), "--output", "y", "-f", "json", "--isolated",
                               cwd=tmp_path).stdout)
    assert [f["code"] for f in isolated["findings"]] == ["GL101", "GL102"]


def test_invalid_config_is_one_line(broken_pb, tmp_path):
    (tmp_path / "graphlint.toml").write_text("selct = ['GL1']\n")
    proc = _run("check", str(broken_pb), cwd=tmp_path)
    assert proc.returncode == 2 and "unknown setting `selct`" in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.parametrize("pyproject", ['[tool]\ngraphlint = 1\n', '[tool]\ngraphlint = "GL101"\n', 'tool = 1\n',
                                       'tool = "graphlint"\n'])
def test_a_tool_graphlint_that_is_not_a_table_is_one_line(clean_pb, tmp_path, pyproject):
    config = tmp_path / "pyproject.toml"
    config.write_text(pyproject)
    proc = _run("check", str(clean_pb), "--output", "y", "--config", str(config))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "`tool.graphlint` must be a table" in proc.stderr and "Traceback" not in proc.stderr
    # Found on the way up: a `tool.graphlint` that is not a table is refused the same way; a `tool` that is not a
    # table has no graphlint settings, so the file is not this project's config.
    found = _run("check", str(clean_pb), "--output", "y", cwd=tmp_path)
    if pyproject.startswith("[tool]"):
        assert found.returncode == 2 and "`tool.graphlint` must be a table" in found.stderr, found.stderr
    else:
        assert found.returncode == 0 and found.stderr == "", found.stderr


def test_targets_lists_the_registry():
    from graphlint.engine.targets import REGISTRY

    listing = _run("targets")
    assert listing.returncode == 0 and [line.split()[0] for line in listing.stdout.splitlines()] == list(REGISTRY)
    targets = json.loads(_run("targets", "--format", "json").stdout)["targets"]
    assert [t["name"] for t in targets] == list(REGISTRY)
    tflm = next(t for t in targets if t["name"] == "tflm")
    assert tflm["converts_as"] == "int8" and tflm["runtimes"] == ["tflite-micro"]


def test_rules_and_rule_docs():
    listing = _run("rules")
    assert listing.returncode == 0 and "GL101  unfrozen-variable" in listing.stdout
    assert "GL001" not in listing.stdout and "GL001" in listing.stderr and "graphlint rules --all" in listing.stderr
    everything = _run("rules", "--all")
    assert "GL001  unreadable-model" in everything.stdout and everything.stderr == ""
    merged = _run("rule", "GL604")
    assert merged.returncode == 0 and merged.stdout.startswith("# GL304 micro-unsupported")
    rules = json.loads(_run("rules", "--format", "json").stdout)["rules"]
    assert [r["code"] for r in rules] == sorted(r["code"] for r in rules)
    doc = _run("rule", "unfrozen-variable")
    assert doc.returncode == 0 and doc.stdout.startswith("# GL101 unfrozen-variable") and "## How to fix" in doc.stdout
    missing = _run("rule", "GL999")
    assert missing.returncode == 2 and "no rule `GL999`" in missing.stderr
