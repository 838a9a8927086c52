"""GL202: inputs with dynamic dims."""

import pytest

from graphlint.engine.finding import Severity
from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder

from ._lint import codes, lint_case


def test_dynamic_spatial_dims_warn_for_the_gpu_only():
    # measured: the converter keeps the dims dynamic and LiteRT runs the model after a resize
    report = lint_case("dynamic_hw")
    assert codes(report) == [("GL202", "x")]
    finding = report.findings[0]
    assert finding.severity is Severity.INFO and finding.severity_for("gpu") is Severity.WARNING
    assert dict(finding.data)["dims"] == [1, 2]
    assert report.verdicts()["float"]["verdict"] == "pass" and report.verdicts()["gpu"]["verdict"] == "warn"


def test_user_shape_fixes_it():
    assert codes(lint_case("dynamic_hw_fixed")) == []


def test_dynamic_batch_alone_is_info():
    b = GraphBuilder()
    b.output(b.op("Relu", [b.placeholder("x", "float32", (None, 4))], name="y"))
    report = lint(b.to_bytes(), outputs=b.outputs)
    assert [(f.code, f.severity) for f in report.findings] == [("GL202", Severity.INFO)]
    assert report.verdicts()["float"]["verdict"] == "pass"


@pytest.mark.converter
def test_converter_keeps_the_dims_dynamic(judge):
    dynamic = judge["dynamic_hw"]
    assert dynamic["status"] == "ok"
    assert dynamic["inputs"][0]["shape_signature"] == [1, -1, -1, 3]
    assert dynamic["inputs"][0]["shape"] == [1, 1, 1, 3]
    assert judge["dynamic_hw_fixed"]["inputs"][0]["shape_signature"] == [1, 8, 8, 3]
