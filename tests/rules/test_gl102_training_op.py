"""GL102: training ops left in an inference graph."""

import pytest

from ._lint import codes, lint_case


def test_flags_optimizer_update():
    report = lint_case("training")
    assert codes(report) == [("GL102", "train/update")]
    assert report.findings[0].fix.title == "Remove the training branch that holds `train/update`"


def test_inference_graph_is_clean():
    assert codes(lint_case("clean")) == []


@pytest.mark.converter
def test_converter_fails_at_the_flagged_node(judge):
    result = judge["training"]
    assert result["status"] == "convert_error"
    assert "train/update" in result["error"]
