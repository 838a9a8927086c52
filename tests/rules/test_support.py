"""How the op-support analysis sees a graph: what the converter prunes and folds, which measured case each op
matches, and which multi-op patterns it fuses."""

from __future__ import annotations

from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder, savedmodel_view
from graphlint_rules import support, table

CONV = {"strides": [1, 1, 1, 1], "padding": "SAME"}


def _analyze(b: GraphBuilder):
    return support.analyze(b.build())


def test_dead_branches_are_not_live_and_constants_fold():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.op("Erf", [x], name="dead_erf")  # feeds no output
    shape = b.node("Shape", [x], name="shape", attrs={"T": "float32", "out_type": "int32"})
    y = b.op("Reshape", [x, shape], name="y", attrs={"Tshape": "int32"})
    b.output(y)
    a = _analyze(b)
    assert "dead_erf" not in a.live and "shape" in a.folded and "y" in a.support


def test_match_prefers_the_case_with_the_same_dtype_and_attributes():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4, 4, 2))
    c = [b.const([1.0, 1.0], name=n) for n in ("g", "o", "m", "v")]
    b.output(b.node("FusedBatchNormV3", [x, *c], name="bn", attrs={"T": "float32", "U": "float32",
                                                                     "is_training": True}))
    assert _analyze(b).support["bn"].case == "fused_batchnorm_training"
    b2 = GraphBuilder()
    i = b2.placeholder("i", "int32", (1, 4))
    b2.output(b2.op("AddV2", [i, i], name="y", dtype="int32"))
    assert _analyze(b2).support["y"].case == "add_int32"


def test_a_rank_shape_inference_misses_is_not_taken_for_an_unknown_rank_input():
    # ExtractImagePatches' output shape is not inferred; the converter knows it from the fixed input shape, so the
    # conv after it must not match the cases measured with an input of unknown rank (which every target fails).
    def graph(input_shape):
        b = GraphBuilder()
        x = b.placeholder("x", "float32", input_shape)
        e = b.op("ExtractImagePatches", [x], name="mix", attrs={"ksizes": [1, 1, 1, 1], "strides": [1, 1, 1, 1],
                                                                "rates": [1, 1, 1, 1], "padding": "SAME"})
        k = b.const([[[[0.1] * 4] * 4]], name="k")
        b.output(b.op("Conv2D", [e, k], name="conv", attrs=CONV))
        return b

    known = graph((1, 8, 8, 4))
    assert known.build().tensors["mix:0"].rank is None
    assert "unknown_rank" not in _analyze(known).support["conv"].case
    assert "conv" not in {f.node for f in lint(known.to_bytes(), outputs=known.outputs).findings if f.code == "GL301"}
    unknown = graph(None)  # an input of unknown rank: the converter does not know it either
    assert "unknown_rank" in _analyze(unknown).support["conv"].case


def test_a_division_by_a_constant_is_the_multiplication_the_converter_writes():
    def graph(divisor_const: bool):
        b = GraphBuilder()
        x = b.placeholder("x", "float32", (1, 8, 8, 4))
        d = b.op("Sqrt", [b.const([1.0, 4.0, 9.0, 16.0], name="var")], name="std") if divisor_const \
            else b.placeholder("d", "float32", (1, 8, 8, 4))
        b.output(b.op("RealDiv", [x, d], name="y"))
        return b

    const = graph(True)  # a folded divisor, as in a Keras Normalization layer
    support_y = _analyze(const).support["y"]
    assert support_y.case == "realdiv_const" and support_y.tflite_ops == ("MUL",)
    assert not lint(const.to_bytes(), outputs=const.outputs, targets=("int16x8",)).failed
    tensor = graph(False)
    assert _analyze(tensor).support["y"].case == "realdiv"
    assert lint(tensor.to_bytes(), outputs=tensor.outputs, targets=("int16x8",)).failed  # no 16x8 DIV


def test_the_division_inside_hard_swish_stays_part_of_it():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8, 8, 4))
    r = b.op("Relu6", [b.op("AddV2", [x, b.const(3.0, name="three")], name="add")], name="relu6")
    y = b.op("RealDiv", [b.op("Mul", [x, r], name="mul"), b.const(6.0, name="six")], name="y")
    b.output(y)
    support_ = _analyze(b).support
    assert support_["relu6"].case == "hard_swish_pattern"
    assert not {"add", "mul", "y"} & set(support_)  # absorbed: a constant divisor anchors nothing here


def test_gelu_written_with_erf_is_one_fused_op():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    scaled = b.op("RealDiv", [x, b.const(1.4142135, name="sqrt2")], name="scaled")
    erf = b.op("Erf", [scaled], name="erf")
    one_plus = b.op("AddV2", [b.const(1.0, name="one"), erf], name="one_plus")
    b.output(b.op("Mul", [b.op("Mul", [b.const(0.5, name="half"), x], name="half_x"), one_plus], name="gelu"))
    a = _analyze(b)
    assert a.support["erf"].case == "gelu_exact" and "scaled" not in a.support and "one_plus" not in a.support
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("float", "int16x8", "tflm"))
    verdicts = {t: v["verdict"] for t, v in report.verdicts().items()}
    assert verdicts == {"float": "pass", "int16x8": "pass", "tflm": "fail"}  # TFLite Micro has no GELU kernel


def test_fake_quantized_conv_weights_fail_the_calibrated_targets():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4, 4, 1))
    w = b.node("FakeQuantWithMinMaxArgs", [b.const([[[[0.5]]]], name="w")], name="w_fq",
               attrs={"min": -1.0, "max": 1.0, "num_bits": 8})
    b.output(b.op("Conv2D", [x, w], name="conv", attrs=CONV))
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("float", "int8", "int8-fallback"))
    assert {t: v["verdict"] for t, v in report.verdicts().items()} == {"float": "pass", "int8": "fail",
                                                                      "int8-fallback": "fail"}
    finding = next(f for f in report.findings if f.code == "GL302")
    assert finding.node == "w_fq" and finding.fix.edits[0].kind == "drop-fake-quant"


def _qat_conv(per_channel: bool) -> GraphBuilder:
    """A graph quantization-aware training rewrote: every tensor has a range (inputs, weights, activations)."""
    b = GraphBuilder()
    x = b.node("FakeQuantWithMinMaxArgs", [b.placeholder("x", "float32", (1, 8, 8, 3))], name="x_fq",
               attrs={"min": -1.0, "max": 1.0, "num_bits": 8})
    weights = b.const([[[[0.1, 0.2, 0.3, 0.4]] * 3] * 3] * 3, name="w")
    if per_channel:
        w = b.node("FakeQuantWithMinMaxVarsPerChannel", [weights, b.const([-1.0] * 4, name="lo"),
                                                         b.const([1.0] * 4, name="hi")], name="w_fq")
    else:
        w = b.node("FakeQuantWithMinMaxVars", [weights, b.const(-1.0, name="lo"), b.const(1.0, name="hi")],
                   name="w_fq")
    h = b.op("Relu6", [b.op("Conv2D", [x, w], name="conv", attrs=CONV)], name="relu")
    b.output(b.node("FakeQuantWithMinMaxArgs", [h], name="y", attrs={"min": 0.0, "max": 6.0, "num_bits": 8}))
    return b


def test_in_a_fully_ranged_qat_graph_fake_quant_nodes_do_not_stay_float():
    b = _qat_conv(per_channel=False)
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("uint8-qat",))
    assert report.verdicts()["uint8-qat"]["verdict"] == "pass", [f.message for f in report.findings]


def test_per_channel_weight_ranges_fail_the_legacy_uint8_path():
    # TFLite's per-channel CONV_2D takes int8 or int16 input; the legacy path feeds it uint8 (measured)
    b = _qat_conv(per_channel=True)
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("uint8-qat",))
    assert report.verdicts()["uint8-qat"]["verdict"] == "fail", [f.message for f in report.findings]
    assert [f.node for f in report.findings if f.code == "GL302"] == ["w_fq"]


def _per_channel_matmul(kind: str) -> GraphBuilder:
    """x -> MatMul(x, FakeQuantPerChannel(w)), written as ``kind``: "matmul", "transpose_b" or "batch_matmul"."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 3, 8) if kind == "batch_matmul" else (1, 8))
    rows = [[0.1, -0.2, 0.3, -0.4]] * 8
    weights = b.const([list(r) for r in zip(*rows)] if kind == "transpose_b" else rows, name="w")
    channels = 8 if kind == "transpose_b" else 4
    w = b.node("FakeQuantWithMinMaxVarsPerChannel", [weights, b.const([-1.0] * channels, name="lo"),
                                                     b.const([1.0] * channels, name="hi")], name="w_fq")
    if kind == "batch_matmul":
        b.output(b.op("BatchMatMulV2", [x, w], name="mm", attrs={"adj_x": False, "adj_y": False}))
    else:
        b.output(b.op("MatMul", [x, w], name="mm", attrs={"transpose_a": False, "transpose_b": kind != "matmul"}))
    return b


def test_per_channel_matmul_weights_match_the_case_of_their_matmul_kind():
    for kind, case in (("matmul", "fake_quant_per_channel_matmul"),
                       ("transpose_b", "fake_quant_per_channel_matmul_transposed"),
                       ("batch_matmul", "fake_quant_per_channel_batch_matmul")):
        assert _analyze(_per_channel_matmul(kind)).support["w_fq"].case == case, kind


def test_per_channel_matmul_weights_fail_the_quantizing_targets_of_a_saved_model_only():
    # from_saved_model transposes the (in, out) weights with their channel axis left behind; from a frozen
    # graph the same weights convert for int8 (measured on both paths)
    targets = ("float", "dynamic", "int8", "float16", "tflm")
    b = _per_channel_matmul("matmul")
    frozen = lint(b.to_bytes(), outputs=b.outputs, targets=targets)
    saved = lint(savedmodel_view(b), outputs=b.outputs, targets=targets)
    assert {t: v["verdict"] for t, v in frozen.verdicts().items() if t != "tflm"} == dict.fromkeys(
        targets[:-1], "pass")
    assert {t: v["verdict"] for t, v in saved.verdicts().items()} == {
        "float": "pass", "dynamic": "fail", "int8": "fail", "float16": "fail", "tflm": "fail"}
    finding = next(f for f in saved.findings if f.code == "GL302")
    assert finding.node == "w_fq" and "mismatched quantized axes" in finding.message
    assert "per tensor" in finding.fix.title


def test_a_concat_of_fake_quant_ranges_fails_int8_and_leaves_micro_nothing():
    # int8 calibration gives the concat its own scale; ranges on every operand cannot share it (measured)
    for ranged_operands in (2, 1):
        b = _qat_conv(per_channel=False)
        other = "y" if ranged_operands == 2 else "relu"
        b.output(b.op("ConcatV2", ["y", other, b.const(3, name="axis", dtype="int32")], name="concat"))
        b.outputs.remove("y")
        report = lint(b.to_bytes(), outputs=b.outputs, targets=("int8", "uint8-qat", "tflm"))
        verdicts = {t: v["verdict"] for t, v in report.verdicts().items()}
        blamed = [f for f in report.findings if f.code == "GL302" and f.node == "concat"]
        if ranged_operands == 2:
            assert verdicts == {"int8": "fail", "uint8-qat": "pass", "tflm": "fail"}, report.findings
            assert blamed and "same scale" in blamed[0].message and blamed[0].fix.edits
        else:  # one operand left unranged takes the scale it is given
            assert not blamed, blamed


def test_a_gru_gate_split_may_stay_float_in_int8():
    # Keras's GRU cell (reset_after) splits the input projection three ways and adds the recurrent part before
    # each gate; int8 leaves such a gate split float in some conversions (measured on an unrolled cell)
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    proj = b.op("MatMul", [x, b.const([[0.1] * 12] * 8, name="kernel")], name="proj")
    parts = b.node("Split", [b.const(1, name="dim", dtype="int32"), proj], name="split",
                   attrs={"num_split": 3, "T": "float32"})
    recurrent = b.const([[0.2] * 4], name="recurrent")
    z = b.op("Sigmoid", [b.op("AddV2", [parts, recurrent], name="z_in")], name="z")
    r = b.op("Sigmoid", [b.op("AddV2", [f"{parts}:1", recurrent], name="r_in")], name="r")
    hh = b.op("Tanh", [b.op("AddV2", [f"{parts}:2", b.op("Mul", [r, recurrent], name="rh")], name="h_in")],
              name="hh")
    b.output(b.op("Mul", [z, hh], name="h"))
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("int8",))
    (finding,) = [f for f in report.findings if f.code == "GL401"]
    assert finding.node == "split" and "may not be quantized" in finding.message
    assert report.verdicts()["int8"]["verdict"] == "warn"


def test_unmeasured_ops_are_reported_as_likely():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.output(b.op("Digamma", [x], name="y"))
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("float",))
    [finding] = [f for f in report.findings if f.code == "GL301"]
    assert finding.confidence == "likely" and finding.node == "y"


def test_the_rules_table_is_the_compact_form_of_the_measured_table():
    import json
    from importlib import resources

    full = json.loads(resources.files("graphlint_rules").joinpath("data/op_support.json").read_text("utf-8"))
    assert table.table() == json.loads(json.dumps(table.compact(full))), \
        "regenerate data/op_support.rules.jsonl: python scripts/probe_ops.py --target float --only conv2d"


def test_a_string_input_or_output_cannot_be_allocated_by_micro():
    b = GraphBuilder()
    key = b.placeholder("key", "string", (1,))
    x = b.placeholder("x", "float32", (1, 8))
    b.output(b.node("Identity", [key], name="key_out", attrs={"T": "string"}), b.op("Relu", [x], name="y"))
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("tflm", "float"))
    found = [f for f in report.findings if f.code == "GL304"]
    assert sorted(f.tensor for f in found) == ["key", "key_out"], found
    assert report.verdicts()["tflm"]["verdict"] == "fail" and report.verdicts()["float"]["verdict"] == "pass"


def test_a_stateful_if_is_judged_as_the_stateless_if_it_becomes():
    """A SavedModel's tf.cond over variables is an If; the converter imports it as a StatelessIf (measured: the
    SavedModel case cond_saved does what cond_v2 does), so cond_v2 comes before cases that merely contain an If."""
    ids = [c["id"] for c in table.cases_of("If")]
    assert ids[0] == "cond_v2" and "assert" in ids
    assert table.cases_of("StatelessIf")[0]["id"] == "cond_v2"
    assert not [i for i in ids if table.measured_case(i).get("saved_model")]
    assert table.outcomes_of_case("cond_saved")["int8"] == table.outcomes_of_case("cond_v2")["int8"]


def _string_table_lookup(fmt: str):
    """A string-to-int64 HashTableV2 and its LookupTableFindV2, read as a frozen graph or as a SavedModel."""
    import dataclasses

    from graphlint.ir import ModelGraph

    b = GraphBuilder()
    words = b.placeholder("words", "string", (4,))
    handle = b.node("HashTableV2", name="table", attrs={"key_dtype": "string", "value_dtype": "int64"})
    default = b.const(-1, dtype="int64", name="default")
    b.output(b.node("LookupTableFindV2", [handle, words, default], name="ids",
                    attrs={"Tin": "string", "Tout": "int64"}))
    model = b.build()
    return ModelGraph(model.nodes, model.succ, model.tensors, dataclasses.replace(model.info, format=fmt),
                      model._value_reader)


def test_a_savedmodel_node_takes_the_case_measured_again_through_from_saved_model():
    """The string table converts to TFLite's hashtable builtins either way, but only a SavedModel's init op fills
    it: frozen, every target fails; from_saved_model, the float targets pass. The table's handle is judged with its
    lookup."""
    assert table.saved_model_twin("hash_table_lookup_string") == "hash_table_lookup_string_saved"
    frozen, saved = support.analyze(_string_table_lookup("graphdef")), support.analyze(_string_table_lookup(
        "savedmodel"))
    assert frozen.support["ids"].case == "hash_table_lookup_string" and frozen.support["ids"].kind("float") != "ok"
    assert saved.support["ids"].case == "hash_table_lookup_string_saved" and saved.support["ids"].kind("float") == "ok"
    assert saved.support["ids"].kind("int8") == support.CONVERT and "table" not in saved.support
