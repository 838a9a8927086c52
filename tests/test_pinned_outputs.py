"""Outputs pinned byte for byte: the viewer's graph JSON, the IR both loaders build, the bytes the test builders
write and the conversion checks. Refactoring these functions must not change what they return; a change that
means to move an output updates the digest here on purpose."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from graphlint.convert.service import checks
from graphlint.loaders import load
from graphlint.testing import DType, GraphBuilder, TFLiteBuilder
from graphlint.viewer import graph_json
from tests.web.models import scoped_graphdef, small_graphdef


def _digest(value) -> str:
    # sort_keys: the GraphDef attr map comes back in no fixed order; key order is pinned by test_node_keys_order.
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


def _tflite() -> TFLiteBuilder:
    b = TFLiteBuilder()
    x = b.input("x", "int8", (1, 4), quant=([0.5], [3]), signature=(-1, 4))
    w = b.tensor("w", "int8", (4, 4), data=[[1, 2, 3, 4]] * 4, quant=([0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0], 0))
    b.tensor("fc", "int8", (1, 4), quant=([0.25], [0]))
    b.op("FULLY_CONNECTED", [x, w], ["fc"])
    b.tensor("sm", "float32", (1, 4))
    b.op("SOFTMAX", ["fc"], ["sm"], options=("SoftmaxOptions", {"beta": 1.0}))
    b.tensor("c", "float32", (1, 4))
    b.op("CUSTOM", ["sm"], ["c"], custom="MyOp")
    b.output("c")
    return b


def _report(model) -> dict:
    """Findings on nodes (several on one, mixed severities), at model level and on a node the model lacks."""
    ids = list(model.nodes)
    severities = ["error", "warning", "info"]
    findings = [{"node": ids[i % len(ids)], "severity": severities[i % 3]} for i in range(0, 3 * len(ids), 2)]
    findings += [{"node": None, "severity": "error"}, {"node": "no-such-node", "severity": "warning"}]
    return {"findings": findings}


def _ir(model) -> dict:
    info = {k: v for k, v in dataclasses.asdict(model.info).items() if k != "digest"}
    return {"nodes": model.nodes, "tensors": {k: dataclasses.asdict(v) for k, v in model.tensors.items()},
            "edges": [list(e) for e in model.edges()], "info": info}


def _graphdef_models():
    for b in (small_graphdef(), scoped_graphdef(2, branches=2, depth=9)):
        yield load(b.to_bytes(), name="m.pb", outputs=tuple(b.outputs))


def test_graphdef_ir():
    assert [_digest(_ir(m)) for m in _graphdef_models()] == GRAPHDEF_IR


def test_tflite_ir():
    assert _digest(_ir(load(_tflite().to_bytes(), name="m.tflite"))) == TFLITE_IR


def test_viewer_graph_json():
    models = [*_graphdef_models(), load(_tflite().to_bytes(), name="m.tflite")]
    assert [_digest(graph_json(m, _report(m))) for m in models] == VIEWER_GRAPH
    assert [_digest(graph_json(m)) for m in models] == VIEWER_GRAPH_NO_REPORT


def test_viewer_graph_json_deep_names_cut(monkeypatch):
    import graphlint.viewer

    monkeypatch.setattr(graphlint.viewer, "MAX_SCOPE_DEPTH", 2)
    model = list(_graphdef_models())[1]
    graph = graph_json(model, _report(model))
    assert graph["counts"]["scopes_cut"] > 0
    assert _digest(graph) == VIEWER_GRAPH_CUT


def test_node_keys_order():
    graph = graph_json(load(_tflite().to_bytes(), name="m.tflite"))
    assert list(graph) == ["schema_version", "format", "subgraphs", "nodes", "edges", "tensors", "scopes", "inputs",
                           "outputs", "model_findings", "unplaced_findings", "counts"]
    op = next(n for n in graph["nodes"] if n["kind"] == "op")
    assert list(op) == ["id", "name", "label", "op", "family", "kind", "subgraph", "scope", "index", "attrs",
                        "inputs", "outputs", "calls", "severity", "findings", "version"]
    assert list(graph["tensors"]["0/1"]) == ["name", "dtype", "shape", "producer", "consumers", "const", "subgraph",
                                             "class", "quant", "nbytes"]


def test_builder_bytes():
    b = GraphBuilder()
    b.node("Attrs", name="a", attrs={"T": "float32", "dt": DType("int8"), "b": True, "i": 3, "f": 0.5, "s": "x",
                                     "by": b"y", "shape": (1, None), "element_shape": None, "ints": [1, 2],
                                     "floats": [0.5, 1.5], "Tin": ["float32", "int32"], "strs": ["a", 1],
                                     "fn": {"func": "f"}})
    assert hashlib.sha256(b.to_bytes()).hexdigest() == GRAPHDEF_BYTES
    assert hashlib.sha256(_tflite().to_bytes()).hexdigest() == TFLITE_BYTES


def test_conversion_checks():
    cases = [
        ("float", {"status": "ok"}),
        ("int8", {"status": "failed", "error": {"kind": "converter", "node": "n", "message": "no"}}),
        ("int8", {"status": "failed"}),
        ("int8", {"status": "ok", "float_ops": [{"tensor": f"t{i}", "op": "ADD"} for i in range(6)]}),
        ("int8-fallback", {"status": "ok", "float_ops": [{"tensor": "t", "op": "ADD"}]}),
        ("float", {"status": "ok", "numeric": {"error": "boom"}}),
        ("float", {"status": "ok", "numeric": {"reference_deterministic": False, "outputs": [
            {"name": "y", "cosine": 0.5, "max_abs_error": 2.0}, {"name": "z", "cosine": 1.0, "max_abs_error": 0}]},
            "layers": {"worst": [{"explanation": "conv loses"}]}}),
        ("float", {"status": "ok", "numeric": {"outputs": [{"name": "y", "cosine": 0.999, "max_abs_error": 0}]}}),
    ]
    assert _digest([checks(target, report) for target, report in cases]) == CHECKS


GRAPHDEF_IR = ["6e449509b35c9525c4b596ec74ca83dc7bcf879abea37c9244b8946477726591",
               "1f2d2819dd585357ade32d7197b438ef88f039598944d8ce07f7d0b0548a9125"]
TFLITE_IR = "b1384ed033add6c2851d34f7cf62209054f2de35332d6e4fe2c90a241d8ec2c2"
VIEWER_GRAPH = ["334c5ed03fed9c51c3a9417bcbb0486eb1c55dda5372ef50620d91b4918e1d0e",
                "eab0fcae430335822ea20ee8a8dd88676048fc1c13105d6af0f34948df0155a7",
                "1901b1eedf13963e9bbe7337d26130e59d3969dc1d6512c0441b88c27e46bac9"]
VIEWER_GRAPH_NO_REPORT = ["4cf73a884a7f1d50d68b9066215f5a9d09ca692057c9b7927f3df9e6fef7fee2",
                          "b44ee85dbb59d790ec3740293f4c6db4339c4acdebe64a3cd44d10d43ea2945f",
                          "7024fa978ea5ae05486998361c917fa53368c39d768d534d56f354dd9fcf3361"]
VIEWER_GRAPH_CUT = "0209acb36cb6537e5e3808906b10d36e5e2983dc2197ee9a1fbb46b2fe720106"
GRAPHDEF_BYTES = "38297a4779346df6866c438aba0f66a031fde84ea9bb464a1248090255234453"
TFLITE_BYTES = "0d20808a667f78714a52bc77679ad51c7c00438fbf298cbcc485925c98f13908"
CHECKS = "9cabc8f61eb8aeed5ee0442a106295c635e495a5ebc28e425f2d67df6284a698"
