"""GL004: outputs guessed because none were given."""

from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder


def _graph() -> GraphBuilder:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    b.op("Softmax", [x], name="probs")
    b.op("Sum", [x, b.const([1], dtype="int32")], name="loss", attrs={"Tidx": "int32"})
    return b


def test_lists_every_dangling_tensor():
    report = lint(_graph().to_bytes())
    [finding] = report.findings
    assert finding.code == "GL004" and dict(finding.data)["outputs"] == ["probs", "loss"]
    assert [o["name"] for o in report.model["outputs"]] == ["probs", "loss"]


def test_silent_when_outputs_are_given():
    assert lint(_graph().to_bytes(), outputs=["probs"]).findings == []
