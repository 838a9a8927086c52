"""The TFLite loader on files written by the TensorFlow 2.21 converter, checked against the LiteRT interpreter."""

from __future__ import annotations

import numpy as np
import pytest

from graphlint.ir import ModelGraph, validate
from graphlint.loaders import load

from ._ir import arrays_in

pytestmark = pytest.mark.tf

INTERPRETABLE = ["float.tflite", "dynamic_range.tflite", "int8.tflite", "dynamic.tflite", "while.tflite"]
ALL = [*INTERPRETABLE, "flex.tflite"]


def _interpreter(path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(path),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    return interp


def _ops(model: ModelGraph, subgraph: int = 0) -> list[tuple[str, str]]:
    return [(n, a["op"]) for n, a in model.ops() if a["subgraph"] == subgraph]


def _input(model: ModelGraph, node: str, slot: int):
    return model.tensors[model.node(node)["inputs"][slot]]


@pytest.mark.parametrize("name", INTERPRETABLE)
def test_tensors_match_the_interpreter(tf_models, name):
    """Name, dtype, shape signature, quantization and constant data of every tensor of every subgraph."""
    model = load(tf_models / name)
    interp = _interpreter(tf_models / name)
    subgraphs = len(model.info.subgraphs)
    assert subgraphs == interp.num_subgraphs()
    checked = 0
    for s in range(subgraphs):
        # The interpreter appends its own scratch tensors after the file's.
        details = {d["index"]: d for d in interp.get_tensor_details(subgraph_index=s)}
        ours = [t for t in model.tensors.values() if t.subgraph == s]
        assert [t.id for t in ours] == [f"{s}/{i}" for i in range(len(ours))]
        for i, tensor in enumerate(ours):
            d = details[i]
            q = d["quantization_parameters"]
            assert tensor.name == d["name"]
            assert tensor.dtype == np.dtype(d["dtype"]).name
            assert tensor.shape == tuple(None if x < 0 else int(x) for x in d["shape_signature"])
            if tensor.quant is None:
                assert len(q["scales"]) == 0
            else:
                assert tensor.quant.scale == tuple(float(x) for x in q["scales"])
                assert tensor.quant.zero_point == tuple(int(x) for x in q["zero_points"])
                assert tensor.quant.axis == (int(q["quantized_dimension"]) if len(q["scales"]) > 1 else None)
            if tensor.is_const:
                np.testing.assert_array_equal(model.value(tensor), interp.get_tensor(d["index"], subgraph_index=s))
                checked += 1
    assert checked == {"float.tflite": 5, "dynamic_range.tflite": 5, "int8.tflite": 5, "dynamic.tflite": 5,
                       "while.tflite": 3}[name]


@pytest.mark.parametrize("name", ALL)
def test_ir_is_consistent_and_holds_no_arrays(tf_models, name):
    model = load(tf_models / name)
    assert validate(model) == []
    assert arrays_in(model) == []
    for tensor in model.tensors.values():
        if tensor.is_const:
            assert tensor.nbytes == model.value(tensor).nbytes
        else:
            assert model.value(tensor) is None
    assert arrays_in(model) == []
    assert model.info.format == "tflite"
    assert model.info.schema_version == 3


def test_float_model_structure_and_weights(tf_models):
    model = load(tf_models / "float.tflite")
    w = tf_models.weights
    assert _ops(model) == [("0:0", "CONV_2D"), ("0:1", "MAX_POOL_2D"), ("0:2", "RESHAPE"),
                           ("0:3", "FULLY_CONNECTED"), ("0:4", "SOFTMAX")]
    conv = model.node("0:0")
    assert conv["attrs"]["padding"] == "SAME"
    assert conv["attrs"]["fused_activation_function"] == "RELU"
    assert (conv["attrs"]["stride_h"], conv["attrs"]["stride_w"]) == (1, 1)
    assert (conv["custom"], conv["version"], conv["family"], conv["calls"]) == (False, 1, "conv2d", [])
    # Edges run from the pseudo-nodes of inputs and constants to the consumer's slot.
    x = model.info.inputs[0]
    assert model.g.get_edge_data(f"input:{x}", "0:0") == {
        f"{x}#0": {"tensor": x, "src_slot": 0, "dst_slot": 0, "control": False}}
    kernel, bias = _input(model, "0:0", 1), _input(model, "0:0", 2)
    assert model.g.get_edge_data(f"const:{kernel.id}", "0:0")[f"{kernel.id}#1"]["dst_slot"] == 1
    assert model.successors("0:0") == ["0:1"]
    assert model.g.get_edge_data("0:3", "0:4")[f"{model.node('0:3')['outputs'][0]}#0"]["src_slot"] == 0
    # Weights, in TFLite's layouts: conv OHWI, fully connected (out, in).
    assert kernel.shape == (4, 3, 3, 3) and kernel.is_const and kernel.dtype == "float32"
    np.testing.assert_array_equal(model.value(kernel), w["conv_w"].transpose(3, 0, 1, 2))
    np.testing.assert_array_equal(model.value(bias), w["conv_b"])
    np.testing.assert_array_equal(model.value(_input(model, "0:3", 1)), w["dense_w"].T)
    np.testing.assert_array_equal(model.value(_input(model, "0:3", 2)), w["dense_b"])
    shape = _input(model, "0:2", 1)
    assert (shape.dtype, model.value(shape).tolist()) == ("int32", [-1, 64])
    assert [t.shape for t in model.input_tensors()] == [(1, 8, 8, 3)]
    assert [t.shape for t in model.output_tensors()] == [(1, 32)]
    assert model.input_tensors()[0].shape_signature is None  # static: the converter writes no signature
    assert model.info.subgraphs == ("main",)


def test_full_int8_quantization(tf_models):
    model = load(tf_models / "int8.tflite")
    w = tf_models.weights
    x, y = model.input_tensors()[0], model.output_tensors()[0]
    assert (x.dtype, y.dtype) == ("int8", "int8")
    assert (len(x.quant.scale), x.quant.axis, y.quant.per_axis) == (1, None, False)
    conv = "0:0"
    kernel, bias, out = _input(model, conv, 1), _input(model, conv, 2), model.outputs_of(conv)[0]
    assert (kernel.dtype, bias.dtype, out.dtype) == ("int8", "int32", "int8")
    # Per-axis weights: one scale per output channel along axis 0 (OHWI), symmetric.
    assert kernel.quant.axis == 0 and len(kernel.quant.scale) == 4 and kernel.quant.per_axis
    assert kernel.quant.zero_point == (0, 0, 0, 0)
    # Activations are per-tensor.
    for tensor in model.tensors.values():
        if not tensor.is_const:
            assert len(tensor.quant.scale) == 1 and tensor.quant.axis is None, tensor.name
    # The int8 weights dequantize to the float weights, and the bias scale is input scale x weight scale.
    scale = np.array(kernel.quant.scale, dtype=np.float32).reshape(4, 1, 1, 1)
    np.testing.assert_allclose(model.value(kernel) * scale, w["conv_w"].transpose(3, 0, 1, 2),
                               atol=float(scale.max()) / 2 + 1e-7)
    np.testing.assert_allclose(bias.quant.scale, np.array(x.quant.scale) * np.array(kernel.quant.scale), rtol=1e-6)
    dense = _input(model, "0:3", 1)
    assert (dense.dtype, dense.quant.axis, len(dense.quant.scale)) == ("int8", 0, 32)
    assert [n["version"] for _, n in model.ops()] == [3, 2, 1, 4, 2]


def test_dynamic_range_quantization(tf_models):
    model = load(tf_models / "dynamic_range.tflite")
    w = tf_models.weights
    assert model.input_tensors()[0].dtype == "float32" and model.input_tensors()[0].quant is None
    fc = model.node("0:3")
    assert (fc["op"], fc["attrs"]["asymmetric_quantize_inputs"]) == ("FULLY_CONNECTED", True)
    weights = _input(model, "0:3", 1)
    assert (weights.dtype, weights.quant.axis, len(weights.quant.scale), weights.nbytes) == ("int8", 0, 32, 2048)
    scale = np.array(weights.quant.scale, dtype=np.float32)[:, None]
    np.testing.assert_allclose(model.value(weights) * scale, w["dense_w"].T, atol=float(scale.max()) / 2 + 1e-7)
    kernel = _input(model, "0:0", 1)  # under 1024 values: kept float
    assert (kernel.dtype, kernel.quant) == ("float32", None)
    assert _ops(model) == _ops(load(tf_models / "float.tflite"))


def test_dynamic_batch_dim(tf_models):
    model = load(tf_models / "dynamic.tflite")
    x, y = model.input_tensors()[0], model.output_tensors()[0]
    assert (x.shape, x.shape_signature) == ((None, 8, 8, 3), (None, 8, 8, 3))
    assert (y.shape, y.shape_signature) == ((None, 32), (None, 32))
    assert model.tensors[model.node("0:0")["outputs"][0]].shape_signature == (None, 8, 8, 4)
    assert _input(model, "0:0", 1).shape_signature is None  # static tensors have no signature


def test_while_loop_subgraphs(tf_models):
    model = load(tf_models / "while.tflite")
    assert len(model.info.subgraphs) == 3
    loop = model.node("0:0")
    assert loop["op"] == "WHILE"
    cond, body = loop["attrs"]["cond_subgraph_index"], loop["attrs"]["body_subgraph_index"]
    assert (cond, body) == (1, 2)
    assert loop["calls"] == [1, 2]
    assert [n for n, a in model.g.nodes(data=True) if a["kind"] == "op" and a["calls"]] == ["0:0"]
    assert _ops(model, 0) == [("0:0", "WHILE")]
    assert _ops(model, cond) == [("1:0", "LESS")]
    assert _ops(model, body) == [("2:0", "ADD"), ("2:1", "FULLY_CONNECTED"), ("2:2", "TANH")]
    assert {a["subgraph"] for _, a in model.g.nodes(data=True)} == {0, 1, 2}
    # Each subgraph has its own inputs, outputs and tensors.
    cond_inputs = [n for n, a in model.g.nodes(data=True) if a["subgraph"] == cond and a["kind"] == "input"]
    assert cond_inputs == ["input:1/0", "input:1/1", "input:1/2"]
    assert [n for n, a in model.g.nodes(data=True) if a["subgraph"] == cond and a["kind"] == "output"] == [
        "output:1/3"]
    assert model.tensors["1/3"].dtype == "bool"
    assert model.node("2:1")["inputs"] == ["2/1", "2/3", None]  # optional bias absent
    np.testing.assert_array_equal(model.value("2/3"), tf_models.weights["loop_w"].T)
    assert model.info.inputs == ("0/0", "0/1")
    assert [t.dtype for t in model.input_tensors()] == ["float32", "int32"]


def test_flex_op_is_custom(tf_models):
    model = load(tf_models / "flex.tflite")
    assert _ops(model) == [("0:0", "FlexStringLength"), ("0:1", "ADD")]
    flex, add = model.node("0:0"), model.node("0:1")
    assert flex["custom"] is True and flex["op"].startswith("Flex")
    assert flex["attrs"]["custom_options_bytes"] > 0
    assert add["custom"] is False
    assert model.input_tensors()[0].dtype == "string"
    assert model.tensors[flex["outputs"][0]].dtype == "int32"
    assert model.successors("0:0") == ["0:1"]


def test_a_string_constant_reads_as_its_raw_bytes():
    """String, resource and variant buffers have no numpy dtype: their value is the buffer's bytes."""
    from graphlint.testing import TFLiteBuilder

    b = TFLiteBuilder()
    x, y = b.input("x", "float32", (1, 4)), b.tensor("y", "float32", (1, 4))
    b.tensor("labels", "string", (2,), data=b"ab")
    b.op("RELU", [x], [y])
    b.output(y)
    model = load(b.to_bytes(), name="m.tflite")
    (labels,) = [t for t in model.tensors.values() if t.name == "labels"]
    assert model.value(labels.id).tobytes() == b"ab"
