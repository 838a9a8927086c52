"""The viewer's graph JSON and the Model Explorer node-data export, checked against the IR and the report."""

from __future__ import annotations

import json

import pytest

import graphlint
from graphlint.ir import QuantParams
from graphlint.viewer import SEVERITY_RANK, graph_json, model_explorer_node_data, quant_json
from tests.web.models import scoped_graphdef, small_graphdef


@pytest.fixture(scope="module")
def small():
    b = small_graphdef()
    report = graphlint.lint(b.to_bytes(), outputs=b.outputs, targets=["float", "int8"])
    return report, graph_json(report.model_graph, report)


def test_every_node_and_edge_of_the_ir_is_in_the_graph(small):
    report, graph = small
    g = report.model_graph.g
    assert [n["id"] for n in graph["nodes"]] == list(g.nodes)
    for n in graph["nodes"]:
        a = g.nodes[n["id"]]
        assert (n["op"], n["kind"], n["inputs"], n["outputs"]) == (a["op"], a["kind"], a["inputs"], a["outputs"])
    assert len(graph["edges"]) == g.number_of_edges()
    got = sorted((e["src"], e["dst"], e["tensor"] or "", e["dst_slot"], e["control"]) for e in graph["edges"])
    want = sorted((u, v, d["tensor"] or "", d["dst_slot"], bool(d["control"])) for u, v, d in g.edges(data=True))
    assert got == want
    assert set(graph["tensors"]) == set(report.model_graph.tensors)


def test_findings_are_attached_to_their_nodes_with_the_worst_severity(small):
    report, graph = small
    findings = report.to_dict()["findings"]
    assert any(f["node"] for f in findings), "the test model must produce node findings"
    nodes = {n["id"]: n for n in graph["nodes"]}
    placed = set()
    for node in graph["nodes"]:
        for i in node["findings"]:
            assert findings[i]["node"] == node["id"]
            placed.add(i)
        if node["findings"]:
            worst = max((findings[i]["severity"] for i in node["findings"]), key=SEVERITY_RANK.get)
            assert node["severity"] == worst
        else:
            assert node["severity"] is None
    # every finding is reachable: from its node, or listed as model-level
    assert placed | set(graph["model_findings"]) | set(graph["unplaced_findings"]) == set(range(len(findings)))
    assert all(findings[i]["node"] is None for i in graph["model_findings"])
    assert nodes["conv/bias"]["severity"] == "error"


def test_name_scopes_form_a_tree_that_counts_nodes_and_carries_findings(small):
    _, graph = small
    scopes = {s["id"]: s for s in graph["scopes"]}
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["conv/Conv2D"]["scope"] == "main::conv"
    assert nodes["conv/bias/read"]["scope"] == "main::conv/bias"
    assert scopes["main::conv/bias"]["parent"] == "main::conv"
    assert nodes["probs"]["scope"] is None
    for sid, scope in scopes.items():
        below = [n for n in graph["nodes"] if n["scope"] and (n["scope"] == sid or n["scope"].startswith(sid + "/"))]
        assert scope["nodes"] == len(below)
        assert scope["findings"] == sum(len(n["findings"]) for n in below)
    # conv/bias is a node and conv/bias/read makes conv/bias a scope too: the error shows on the scope `conv`
    assert scopes["main::conv"]["severity"] == "error"


@pytest.mark.tf
def test_subgraph_ids_are_the_values_nodes_carry(tf_models):
    for name in ("while.tflite", "v2_control_flow.pb"):
        report = graphlint.lint(tf_models / name)
        graph = graph_json(report.model_graph, report)
        ids = [s["id"] for s in graph["subgraphs"]]
        assert len(ids) > 1, name
        assert {n["subgraph"] for n in graph["nodes"]} == set(ids)
        assert graph["subgraphs"][0]["main"]


def test_graph_json_is_deterministic_and_strict_json(small):
    report, graph = small
    again = graph_json(report.model_graph, report)
    assert json.dumps(again, sort_keys=True, allow_nan=False) == json.dumps(graph, sort_keys=True, allow_nan=False)


def test_attributes_become_strict_json_and_long_lists_are_cut():
    from graphlint.testing import GraphBuilder

    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    b.output(b.op("LeakyRelu", [x], name="act", attrs={"alpha": float("nan"), "marks": list(range(100)),
                                                        "label": b"\xff\xfeok"}))
    model = b.build()
    graph = graph_json(model)
    attrs = next(n for n in graph["nodes"] if n["id"] == "act")["attrs"]
    json.dumps(graph, allow_nan=False)  # raises on NaN or anything not JSON
    assert attrs["alpha"] == "nan"
    assert attrs["marks"][:64] == list(range(64)) and attrs["marks"][64] == "... 36 more"
    assert attrs["label"].endswith("ok")
    assert graph["model_findings"] == [] and all(n["findings"] == [] for n in graph["nodes"])


def test_report_dict_gives_the_same_graph_as_the_report(small):
    report, graph = small
    assert graph_json(report.model_graph, report.to_dict()) == graph


def test_large_scoped_graph_keeps_scopes_nested():
    b = scoped_graphdef(6)
    report = graphlint.lint(b.to_bytes(), outputs=b.outputs)
    graph = graph_json(report.model_graph, report)
    assert graph["counts"]["nodes"] == report.model_graph.g.number_of_nodes() > 300
    scopes = {s["id"]: s for s in graph["scopes"]}
    assert scopes["main::model"]["nodes"] == sum(1 for n in graph["nodes"] if n["name"].startswith("model/"))
    leaf = scopes["main::model/mixed_5/branch_3/conv_2"]
    assert leaf["depth"] == 3 and leaf["parent"] == "main::model/mixed_5/branch_3"


@pytest.mark.parametrize(("dtype", "scale", "zp", "want"), [
    ("int8", (0.5,), (-1,), [-63.5, 64.0]),
    ("uint8", (1 / 255,), (0,), [0.0, 1.0]),
    ("int16", (2.0 ** -15,), (0,), [-1.0, 32767 / 32768]),
])
def test_quantization_gives_the_float_range_it_represents(dtype, scale, zp, want):
    q = quant_json(dtype, QuantParams(scale=scale, zero_point=zp))
    assert q["range"] == pytest.approx(want)
    assert q["per_axis"] is False and q["channels"] == 1


def test_per_axis_quantization_spans_all_channels_and_is_cut_when_long():
    scales = tuple(0.01 * (i + 1) for i in range(100))
    q = quant_json("int8", QuantParams(scale=scales, zero_point=(0,) * 100, axis=3))
    assert q["per_axis"] and q["axis"] == 3 and q["channels"] == 100 and q["truncated"]
    assert len(q["scale"]) == len(q["channel_ranges"]) == 64
    assert q["range"] == pytest.approx([-128 * 1.0, 127 * 1.0])
    assert q["channel_ranges"][0] == pytest.approx([-1.28, 1.27])


def test_unknown_storage_type_has_no_range():
    assert quant_json("float32", QuantParams(scale=(0.1,), zero_point=(0,)))["range"] is None


def test_model_explorer_node_data_colours_each_node_by_its_worst_finding(small):
    report, graph = small
    rd = report.to_dict()
    data = model_explorer_node_data(rd, graph)
    assert set(data) == {"main"}
    results = data["main"]["results"]
    worst = {}
    for f in rd["findings"]:
        if f["node"]:
            worst[f["node"]] = max(worst.get(f["node"], 0), SEVERITY_RANK[f["severity"]])
    assert {k: v["value"] for k, v in results.items()} == worst
    thresholds = data["main"]["thresholds"]
    assert [t["value"] for t in thresholds] == [1, 2, 3]
    for key, result in results.items():
        # the colour a threshold gives a value is the colour the node carries
        band = next(t for t in thresholds if result["value"] <= t["value"])
        assert band["bgColor"] == result["bgColor"], key


def test_model_explorer_node_data_keys_tflite_ops_by_output_tensor_name():
    graph = {"format": "tflite", "subgraphs": [{"id": 0, "name": "main"}, {"id": 1, "name": "1"}], "nodes": [
        {"id": "0:3", "kind": "op", "subgraph": 0, "outputs": ["0/9"]},
        {"id": "1:0", "kind": "op", "subgraph": 1, "outputs": ["1/2"]},
        {"id": "0:4", "kind": "op", "subgraph": 0, "outputs": ["0/10"]},
    ], "tensors": {"0/9": {"name": "dense/MatMul"}, "1/2": {"name": "body/add"}, "0/10": {"name": "probs"}}}
    report = {"findings": [{"node": "0:3", "severity": "warning"}, {"node": "1:0", "severity": "info"},
                           {"node": "0:3", "severity": "error"}, {"node": None, "severity": "error"}]}
    data = model_explorer_node_data(report, graph)
    assert data["main"]["results"] == {"dense/MatMul": {"value": 3, "bgColor": "#d93025"}}
    assert data["1"]["results"] == {"body/add": {"value": 1, "bgColor": "#5b8def"}}


@pytest.mark.tf
def test_quantized_tflite_tensors_carry_class_and_range(tf_models):
    report = graphlint.lint(tf_models / "int8.tflite", targets=["int8"])
    graph = graph_json(report.model_graph, report)
    model = report.model_graph
    first_input = model.info.inputs[0]
    t = graph["tensors"][first_input]
    q = model.tensors[first_input].quant
    assert t["dtype"] == "int8" and t["class"] == "int8"
    assert t["quant"]["range"] == pytest.approx([q.scale[0] * (-128 - q.zero_point[0]),
                                                 q.scale[0] * (127 - q.zero_point[0])])
    assert graph["subgraphs"][0]["id"] == 0 and graph["subgraphs"][0]["name"] == model.info.subgraphs[0]
    kinds = {n["kind"] for n in graph["nodes"]}
    assert kinds == {"input", "const", "op", "output"}
    assert all(n["subgraph"] == 0 for n in graph["nodes"])
