"""GL201: inputs of unknown rank."""

import pytest

from graphlint.engine.finding import Severity

from ._lint import codes, lint_case


def test_unknown_rank_into_conv_is_an_error():
    report = lint_case("unknown_rank_conv")
    assert codes(report) == [("GL201", "x")]
    assert report.findings[0].severity is Severity.ERROR
    assert "neither a custom op nor a flex op" in report.findings[0].message


def test_unknown_rank_into_elementwise_only_is_a_warning():
    report = lint_case("unknown_rank_relu")
    assert codes(report) == [("GL201", "x")]
    assert report.findings[0].severity is Severity.WARNING


def test_known_rank_is_clean():
    assert codes(lint_case("dynamic_hw_fixed")) == []


@pytest.mark.converter
def test_converter_agrees(judge):
    assert judge["unknown_rank_conv"]["status"] == "convert_error"
    assert "'tf.Conv2D' op is neither a custom op nor a flex op" in judge["unknown_rank_conv"]["error"]
    relu = judge["unknown_rank_relu"]
    assert relu["status"] == "ok" and relu["inputs"][0]["shape"] == []
