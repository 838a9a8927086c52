"""GL002 empty-model: the engine reports, as one fatal finding, a file with nothing to convert (an empty file, a
GraphDef without nodes, a TFLite model without subgraphs, a SavedModel without a graph), and only then."""

from __future__ import annotations

import pytest

from graphlint.engine.finding import Severity
from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.testing import GraphBuilder

from ._models import ALL_TARGETS, float_tanh, integer_relu


def _tflite_without_subgraphs() -> bytes:
    """A valid TFLite flatbuffer whose subgraph list is empty (TFLiteBuilder always writes one subgraph)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT()
    model.version, model.buffers, model.subgraphs, model.operatorCodes = 3, [schema.BufferT()], [], []
    fb = flatbuffers.Builder(64)
    fb.Finish(model.Pack(fb), file_identifier=b"TFL3")
    return bytes(fb.Output())


def _one_node_graph() -> bytes:
    b = GraphBuilder()
    b.op("Relu", [b.placeholder("x", "float32", (1, 4))], name="y")
    return b.to_bytes()


EMPTY = {
    "empty.pb": (lambda: b"", "file is empty"),
    "empty.tflite": (lambda: b"", "file is empty"),
    "no_nodes.pb": (lambda: GraphBuilder().to_bytes(), "the GraphDef has no nodes"),
    "no_nodes.pbtxt": (lambda: GraphBuilder().to_text().encode(), "the GraphDef has no nodes"),
    "no_subgraphs.tflite": (_tflite_without_subgraphs, "TFLite model has no subgraphs"),
}


def _fatal(report) -> None:
    """The report is one fatal GL002 that fails every target and holds no model."""
    (finding,) = report.findings
    assert finding.code == "GL002" and finding.rule == "empty-model"
    assert finding.node is None and dict(finding.data) == {"kind": "empty"}
    assert all(finding.severity_for(t) is Severity.ERROR for t in ALL_TARGETS)
    assert report.fatal and report.fatal_finding is finding and report.model_graph is None
    assert {v["verdict"] for v in report.verdicts().values()} == {"fail"}
    assert "\n" not in finding.message


@pytest.mark.parametrize("name", EMPTY)
def test_a_file_with_nothing_to_convert_is_one_fatal_finding(name):
    make, says = EMPTY[name]
    report = lint(make(), name=name, targets=ALL_TARGETS)
    _fatal(report)
    assert report.findings[0].message == f"{name}: {says}"


def test_a_one_node_graph_and_a_one_op_tflite_are_not_empty():
    reports = [lint(_one_node_graph(), name="y.pb", outputs=["y"], targets=ALL_TARGETS)]
    reports += [lint(m.to_bytes(), name="model.tflite", targets=ALL_TARGETS) for m in (integer_relu(), float_tanh())]
    for report in reports:
        assert not report.fatal and report.model_graph is not None
        assert "GL002" not in [f.code for f in report.findings]


def test_an_empty_file_on_disk_is_named_by_its_path(tmp_path):
    path = tmp_path / "model.pb"
    path.write_bytes(b"")
    report = lint(path, targets=("float",))
    (finding,) = report.findings
    assert finding.code == "GL002" and finding.message == f"{path}: file is empty"
    path.write_bytes(_one_node_graph())
    assert not lint(path, targets=("float",), outputs=["y"]).fatal


# A SavedModel proto holding only saved_model_schema_version = 1 (field 1, varint), then the same with one
# MetaGraphDef (field 2) whose meta_info_def (field 1) has the tag "serve" (field 4) and no graph_def.
_NO_META_GRAPH = b"\x08\x01"
_META_GRAPH_WITHOUT_GRAPH = b'\x08\x01\x12\t\n\x07"\x05serve'


@pytest.mark.parametrize(("content", "says"), [(b"", "saved_model.pb is empty"),
                                               (_NO_META_GRAPH, "saved_model.pb holds no graph"),
                                               (_META_GRAPH_WITHOUT_GRAPH, "saved_model.pb holds no graph")],
                         ids=["empty", "no-meta-graph", "no-graph-def"])
def test_a_saved_model_without_a_graph_is_empty(tmp_path, content, says):
    (tmp_path / "saved_model.pb").write_bytes(content)
    report = lint(tmp_path, targets=ALL_TARGETS)
    _fatal(report)
    assert report.findings[0].message == f"{tmp_path}: {says}"


def test_the_selection_does_not_hide_it():
    """The engine emits it whatever rules are selected: a report on an empty file must not read as a pass."""
    report = lint(b"", name="empty.pb", targets=("float", "int8"), selection=Selection(select=("GL101",)))
    assert [f.code for f in report.findings] == ["GL002"]
    assert report.failed
