"""GL003: --input / --output names that are not in the graph."""

import pytest

from ._lint import codes, lint_case


def test_flags_unknown_output_with_suggestion():
    report = lint_case("bad_output_name")
    assert codes(report) == [("GL003", None)]
    assert "did you mean `y`?" in report.findings[0].message


def test_existing_names_are_clean():
    assert codes(lint_case("clean")) == []


@pytest.mark.converter
def test_converter_refuses_the_name(judge):
    assert judge["bad_output_name"]["status"] == "convert_error"
    assert "Y" in judge["bad_output_name"]["error"]
