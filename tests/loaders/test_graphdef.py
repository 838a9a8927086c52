"""The GraphDef loader on files frozen by TensorFlow 2.21: ``tf.compat.v1`` graphs and a TF2 function library."""

from __future__ import annotations

import hashlib
import shutil
import sys

import numpy as np
import pytest

from graphlint.engine.runner import lint
from graphlint.ir import ModelGraph, validate
from graphlint.loaders import graphdef_schema as pb
from graphlint.loaders import load

from ._ir import arrays_in

pytestmark = pytest.mark.tf

V1_NODES = [
    ("input", "Placeholder", "input"), ("conv/kernel", "Const", "const"), ("conv/bias", "Const", "const"),
    ("conv/Conv2D/ReadVariableOp", "Identity", "op"), ("conv/Conv2D", "Conv2D", "op"),
    ("conv/BiasAdd/ReadVariableOp", "Identity", "op"), ("conv/BiasAdd", "BiasAdd", "op"),
    ("bn/scale", "Const", "const"), ("bn/offset", "Const", "const"), ("bn/mean", "Const", "const"),
    ("bn/var", "Const", "const"), ("bn/ReadVariableOp", "Identity", "op"), ("bn/ReadVariableOp_1", "Identity", "op"),
    ("bn/FusedBatchNorm/ReadVariableOp", "Identity", "op"), ("bn/FusedBatchNorm/ReadVariableOp_1", "Identity", "op"),
    ("bn/FusedBatchNorm", "FusedBatchNormV3", "op"), ("relu", "Relu", "op"), ("pool", "MaxPool", "op"),
    ("flatten/shape", "Const", "const"), ("flatten", "Reshape", "op"), ("dense/kernel", "Const", "const"),
    ("dense/bias", "Const", "const"), ("dense/MatMul/ReadVariableOp", "Identity", "op"),
    ("dense/MatMul", "MatMul", "op"), ("dense/BiasAdd/ReadVariableOp", "Identity", "op"),
    ("dense/BiasAdd", "BiasAdd", "op"), ("softmax", "Softmax", "op"), ("probs", "Identity", "op"),
    ("output:probs:0", "OUTPUT", "output"),
]
V1_CONSTS = {"conv/kernel": "conv_w", "conv/bias": "conv_b", "bn/scale": "bn_scale", "bn/offset": "bn_offset",
             "bn/mean": "bn_mean", "bn/var": "bn_var", "dense/kernel": "dense_w", "dense/bias": "dense_b"}
V1_FILES = ["v1_shapes.pb", "v1_noshapes.pb", "v1_shapes.pbtxt", "v1_noshapes.pbtxt"]


@pytest.fixture(scope="module")
def v1(tf_models) -> ModelGraph:
    return load(tf_models / "v1_noshapes.pb")


@pytest.fixture(scope="module")
def v2(tf_models) -> ModelGraph:
    return load(tf_models / "v2_control_flow.pb")


@pytest.mark.parametrize("name", V1_FILES)
def test_v1_nodes_in_file_order(tf_models, name):
    model = load(tf_models / name)
    assert [(n, a["op"], a["kind"]) for n, a in model.g.nodes(data=True)] == V1_NODES
    assert model.info.format == "graphdef"
    assert model.info.text_format is name.endswith(".pbtxt")
    assert model.info.inputs == ("input:0",)
    assert model.info.outputs == ("probs:0",)
    assert model.info.outputs_inferred is True
    assert model.info.subgraphs == ("main",)
    assert validate(model) == []


def test_v1_data_edges_name_producer_and_consumer_slots(v1):
    edges = {(u, v, d["src_slot"], d["dst_slot"]) for u, v, d in v1.g.edges(data=True) if not d["control"]}
    assert {e for e in edges if e[1] == "bn/FusedBatchNorm"} == {
        ("conv/BiasAdd", "bn/FusedBatchNorm", 0, 0), ("bn/ReadVariableOp", "bn/FusedBatchNorm", 0, 1),
        ("bn/ReadVariableOp_1", "bn/FusedBatchNorm", 0, 2),
        ("bn/FusedBatchNorm/ReadVariableOp", "bn/FusedBatchNorm", 0, 3),
        ("bn/FusedBatchNorm/ReadVariableOp_1", "bn/FusedBatchNorm", 0, 4)}
    assert v1.node("conv/Conv2D")["inputs"] == ["input:0", "conv/Conv2D/ReadVariableOp:0"]
    assert v1.node("flatten")["inputs"] == ["pool:0", "flatten/shape:0"]
    data = v1.g.get_edge_data("flatten/shape", "flatten")
    assert data == {"flatten/shape:0#1": {"tensor": "flatten/shape:0", "src_slot": 0, "dst_slot": 1,
                                          "control": False}}
    assert v1.tensors["relu:0"].consumers == ["pool"]
    assert v1.tensors["input:0"].producer == "input"


def test_v1_edges_match_every_node_input_in_the_file(tf_models, v1):
    """Every ``name:k`` input is one data edge ``name -> node`` and every ``^name`` one control edge."""
    graph = pb.GraphDef.FromString((tf_models / "v1_noshapes.pb").read_bytes())
    expected = set()
    for node in graph.node:
        for slot, raw in enumerate(node.input):
            if raw.startswith("^"):
                expected.add((raw[1:], node.name, f"{raw}#{slot}", None, -1, slot, True))
            else:
                src, _, k = raw.partition(":")
                tid = f"{src}:{k or 0}"
                expected.add((src, node.name, f"{tid}#{slot}", tid, int(k or 0), slot, False))
    actual = {(u, v, key, d["tensor"], d["src_slot"], d["dst_slot"], d["control"])
              for u, v, key, d in v1.g.edges(keys=True, data=True) if not v.startswith("output:")}
    assert actual == expected
    assert len(expected) == 28


def test_v1_control_input_becomes_a_control_edge(v1):
    assert v1.g.get_edge_data("relu", "probs") == {
        "^relu#1": {"tensor": None, "src_slot": -1, "dst_slot": 1, "control": True}}
    assert v1.node("probs")["inputs"] == ["softmax:0"]  # control inputs are not data inputs
    assert "probs" not in v1.tensors["relu:0"].consumers
    assert v1.successors("relu") == ["pool"]


@pytest.mark.parametrize("name", V1_FILES)
def test_v1_dtypes_and_constness(tf_models, name):
    model = load(tf_models / name)
    for node, key in V1_CONSTS.items():
        tensor = model.tensors[f"{node}:0"]
        weights = tf_models.weights[key]
        assert (tensor.dtype, tensor.shape, tensor.is_const, tensor.nbytes) == (
            "float32", weights.shape, True, weights.nbytes), node
    shape_vec = model.tensors["flatten/shape:0"]
    assert (shape_vec.dtype, shape_vec.shape, shape_vec.is_const, shape_vec.nbytes) == ("int32", (2,), True, 8)
    consts = sorted(t.id for t in model.tensors.values() if t.is_const)
    assert consts == sorted([f"{n}:0" for n in V1_CONSTS] + ["flatten/shape:0"])
    assert model.tensors["conv/Conv2D/ReadVariableOp:0"].is_const is False  # an Identity of a constant
    assert model.tensors["input:0"].dtype == "float32"
    assert model.tensors["bn/FusedBatchNorm:5"].dtype == "float32"


@pytest.mark.parametrize("name", V1_FILES)
def test_values_are_read_lazily_from_the_file(tf_models, name):
    model = load(tf_models / name)
    assert arrays_in(model) == []
    for node, key in V1_CONSTS.items():
        value = model.value(f"{node}:0")
        assert isinstance(value, np.ndarray)
        np.testing.assert_array_equal(value, tf_models.weights[key])
        assert value.dtype == np.float32
    np.testing.assert_array_equal(model.value("flatten/shape:0"), np.array([-1, 64], dtype=np.int32))
    assert model.value("relu:0") is None  # not a constant
    assert model.value("dense/kernel:0", max_bytes=1024) is None  # 8 KB: over the limit
    assert arrays_in(model) == []  # reading values cached nothing in the IR


def test_text_and_binary_give_the_same_ir(tf_models):
    binary, text = load(tf_models / "v1_shapes.pb"), load(tf_models / "v1_shapes.pbtxt")
    assert dict(binary.g.nodes(data=True)) == dict(text.g.nodes(data=True))
    assert sorted(binary.g.edges(keys=True, data=True)) == sorted(text.g.edges(keys=True, data=True))
    assert binary.tensors == text.tensors
    assert binary.info.sha256 != text.info.sha256


def test_v2_function_library_is_loaded(v2):
    loop, branch = v2.node("while"), v2.node("cond")
    body, cond = loop["attrs"]["body"]["func"], loop["attrs"]["cond"]["func"]
    then_f, else_f = branch["attrs"]["then_branch"]["func"], branch["attrs"]["else_branch"]["func"]
    assert (loop["op"], branch["op"]) == ("While", "StatelessIf")
    assert body.startswith("while_body") and cond.startswith("while_cond")
    assert then_f.startswith("cond_true") and else_f.startswith("cond_false")
    assert loop["calls"] == sorted([body, cond])
    assert branch["calls"] == sorted([then_f, else_f])
    assert v2.info.subgraphs[0] == "main"
    assert sorted(v2.info.subgraphs[1:]) == sorted([body, cond, then_f, else_f])
    assert [a["calls"] for n, a in v2.g.nodes(data=True) if n not in ("while", "cond")] == [[]] * (len(v2.g) - 2)
    for fname in (body, cond, then_f, else_f):
        members = [n for n, a in v2.g.nodes(data=True) if a["subgraph"] == fname]
        assert members and all(n.startswith(f"{fname}::") for n in members)
    assert validate(v2) == []


def test_v2_function_bodies_are_graphs(v2):
    body = v2.node("while")["attrs"]["body"]["func"]
    nodes = {n: a for n, a in v2.g.nodes(data=True) if a["subgraph"] == body}
    args = [n for n, a in nodes.items() if a["op"] == "_Arg"]
    rets = [n for n, a in nodes.items() if a["op"] == "_Retval"]
    assert len(args) == len(rets) == 6  # loop counter, max iterations, i, acc, n, the captured weight
    assert [v2.tensors[f"{a}:0"].dtype for a in args] == ["int32", "int32", "int32", "float32", "int32", "float32"]
    matmul = f"{body}::while/MatMul"
    read = f"{body}::while/MatMul/ReadVariableOp"
    assert nodes[matmul]["op"] == "MatMul"
    assert nodes[matmul]["inputs"] == [f"{args[3]}:0", f"{read}:0"]
    assert nodes[read]["inputs"] == [f"{args[5]}:0"]
    assert v2.successors(matmul) == [f"{body}::while/Tanh"]
    tanh_out = nodes[f"{body}::while/Identity_3"]
    assert tanh_out["inputs"] == [f"{body}::while/Tanh:0"]
    assert v2.g.get_edge_data(f"{body}::while/NoOp", f"{body}::while/Identity_3")[
        f"^{body}::while/NoOp#1"]["control"] is True


def test_v2_main_graph(tf_models, v2):
    loop = v2.node("while")
    assert loop["inputs"] == ["while/loop_counter:0", "while/maximum_iterations:0", "Const:0", "x:0", "n:0",
                              "while/input_5:0"]
    assert [v2.tensors[t].dtype for t in loop["outputs"]] == ["int32", "int32", "int32", "float32", "int32",
                                                                "float32"]
    assert v2.node("cond")["inputs"] == ["Greater:0", "while:3"]
    assert v2.info.inputs == ("x:0", "n:0")
    assert v2.info.outputs == ("Identity:0",)  # not the unread loop counter of the While
    np.testing.assert_array_equal(v2.value("while/input_5:0"), tf_models.weights["loop_w"])
    assert arrays_in(v2) == []


@pytest.mark.parametrize(("src", "saved_as", "fmt", "text"), [
    ("float.tflite", "model.pb", "tflite", False),
    ("v1_noshapes.pbtxt", "model.pb", "graphdef", True),
    ("v1_noshapes.pb", "model.tflite", "graphdef", False),
    ("v1_noshapes.pb", "model", "graphdef", False),
])
def test_format_is_sniffed_from_content_not_name(tf_models, tmp_path, src, saved_as, fmt, text):
    path = tmp_path / saved_as
    shutil.copyfile(tf_models / src, path)
    model = load(path)
    assert (model.info.format, model.info.text_format, model.info.path) == (fmt, text, str(path))
    assert model.info.sha256 == load(tf_models / src).info.sha256


def test_bytes_source_is_the_same_as_the_path(tf_models):
    data = (tf_models / "v1_noshapes.pb").read_bytes()
    from_bytes, from_path = load(data, name="m.pb"), load(tf_models / "v1_noshapes.pb")
    assert from_bytes.info.path == "m.pb"
    assert dict(from_bytes.g.nodes(data=True)) == dict(from_path.g.nodes(data=True))
    assert from_bytes.tensors == from_path.tensors
    np.testing.assert_array_equal(from_bytes.value("conv/kernel:0"), tf_models.weights["conv_w"])


def test_test_process_never_imported_tensorflow(tf_models):
    """The fixtures build in a child process; TensorFlow must not be in this process."""
    assert tf_models.root.is_dir()
    assert sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow") == []


def test_a_digest_the_caller_already_has_is_not_recomputed(tf_models):
    data = (tf_models / "v1_noshapes.pb").read_bytes()
    assert load(data).info.sha256 == hashlib.sha256(data).hexdigest()
    given = "ab" * 32
    assert load(data, sha256=given).info.sha256 == given
    assert lint(data, sha256=given).model["sha256"] == given
    assert lint(b"\xff" * 64, sha256=given).model["sha256"] == given  # unreadable: not hashed again either


def test_a_text_graph_infers_shapes_from_constant_operands_as_a_binary_one_does():
    from graphlint.testing import GraphBuilder

    b = GraphBuilder()
    x = b.placeholder("x", "float32", (12,))
    b.output(b.op("Reshape", [x, b.const([3, 4], name="shape", dtype="int32")], name="y"))
    shapes = [[t.shape for t in load(data, name=name, outputs=["y"]).outputs_of("y")]
              for data, name in ((b.to_bytes(), "m.pb"), (b.to_text().encode(), "m.pbtxt"))]
    assert shapes == [[(3, 4)], [(3, 4)]]
