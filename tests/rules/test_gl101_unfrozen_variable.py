"""GL101: variables left in a graph that should be frozen."""

import pytest

from ._lint import codes, lint_case


def test_flags_variable_and_names_it():
    report = lint_case("unfrozen")
    assert codes(report) == [("GL101", "w")]
    assert all(v["verdict"] == "fail" for v in report.verdicts().values())


def test_frozen_graph_is_clean():
    assert codes(lint_case("clean")) == []


@pytest.mark.converter
def test_converter_agrees(judge):
    assert judge["unfrozen"]["status"] == "convert_error"
    assert "Please freeze the graph" in judge["unfrozen"]["error"]
    assert judge["clean"]["status"] == "ok"
