"""GL303 converter-crash: what kills TF 2.21's converter during int8, int8-fallback and int16x8 calibration (a loop
that fills a TensorList, a loop whose body reads a tensor computed outside it, an op measured to crash it), on
the node where it happens, as an error for those targets and TFLite Micro only.

Graph-builder models check each branch of the rule; one TensorFlow-built pair of loops is judged by the real
converter (marked ``converter``), each conversion in a child process of its own since the crash kills it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

from graphlint.engine.finding import Severity
from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.testing import GraphBuilder

from ._models import findings
from .test_converter_passes import functional_plain_loop, v1_list_loop, v1_plain_loop

CRASHING = ("int8", "int8-fallback", "int16x8", "tflm")
SPARED = ("float", "dynamic", "uint8-qat", "float16", "gpu")


def _only_calibrated_targets_fail(finding) -> None:
    assert {t: finding.severity_for(t) for t in CRASHING} == dict.fromkeys(CRASHING, Severity.ERROR)
    assert {t: finding.severity_for(t) for t in SPARED} == dict.fromkeys(SPARED)
    assert "kills the converter process" in finding.message and "TFLite Micro has no model to run" in finding.message
    assert "int8, int8-fallback, int16x8" in finding.message


def _cond(fb: GraphBuilder) -> list[str]:
    total = fb.op("Sum", ["h", fb.const([0, 1], name="axes", dtype="int32")], name="total")
    return [fb.op("Less", [total, fb.const(10.0, name="limit")], name="keep_going")]


def functional_list_loop(b: GraphBuilder, *, with_list: bool = True) -> None:
    """A StatelessWhile whose body computes tanh(h @ w) and, ``with_list``, pushes it onto a TensorList (what
    ``tf.while_loop`` with a ``tf.TensorArray`` keeps as control flow v2)."""
    def body(fb: GraphBuilder) -> list[str]:
        h = fb.op("Tanh", [fb.op("MatMul", ["h", fb.const([[0.5] * 8] * 8, name="w")], name="mm")], name="h_next")
        if not with_list:
            return [h]
        return [h, fb.node("TensorListPushBack", ["acc", h], name="push", attrs={"element_dtype": "float32"})]

    args = [("h", "float32"), ("acc", "variant")] if with_list else [("h", "float32")]
    b.function("list_body", args, body)
    b.function("list_cond", args, _cond)
    x = b.placeholder("x", "float32", (1, 8))
    shape = b.const([1, 8], name="elem_shape", dtype="int32")
    inputs, types = [x], ["float32"]
    if with_list:
        inputs.append(b.node("EmptyTensorList", [shape, b.const(4, name="max", dtype="int32")], name="acc",
                             attrs={"element_dtype": "float32", "shape_type": "int32"}))
        types.append("variant")
    loop = b.node("StatelessWhile", inputs, name="scan/while",
                  attrs={"T": types, "body": {"func": "list_body"}, "cond": {"func": "list_cond"}})
    if with_list:
        b.output(b.node("TensorListStack", [f"{loop}:1", shape], name="scan/stack", attrs={"element_dtype": "float32"}))
    else:
        b.output(loop)


def lstm_math_loop(b: GraphBuilder, *, captured: bool) -> None:
    """A StatelessWhile whose body is LSTM cell math, sigmoid(z) * tanh(z) with z = h @ w (+ c). ``captured``: c is
    the model's input, handed through the loop unchanged (a tensor computed outside it); else the body reads its
    loop variable and a constant only."""
    def body(fb: GraphBuilder) -> list[str]:
        z = fb.op("MatMul", ["h", fb.const([[0.1] * 8] * 8, name="kernel")], name="gates")
        if captured:
            z = fb.op("AddV2", [z, "c"], name="plus_input")
        h = fb.op("Mul", [fb.op("Sigmoid", [z], name="i"), fb.op("Tanh", [z], name="g")], name="h_next")
        return [h, fb.node("Identity", ["c"], name="c_out")] if captured else [h]

    args = [("h", "float32"), ("c", "float32")] if captured else [("h", "float32")]
    b.function("cell_body", args, body)
    b.function("cell_cond", args, _cond)
    x = b.placeholder("x", "float32", (1, 8))
    inputs = [x, x] if captured else [x]
    b.output(b.node("StatelessWhile", inputs, name="rnn/while", attrs={
        "T": ["float32"] * len(inputs), "body": {"func": "cell_body"}, "cond": {"func": "cell_cond"}}))


def string_slice(b: GraphBuilder, dtype: str = "string") -> None:
    """``s[1:3]`` on a string input (measured: int8 calibration of it dies with SIGSEGV), or on a float one."""
    x = b.placeholder("x", dtype, (4,))
    ends = [b.const([v], name=n, dtype="int32") for n, v in (("begin", 1), ("end", 3), ("step", 1))]
    b.output(b.op("StridedSlice", [x, *ends], name="slice", dtype=dtype, attrs={"Index": "int32"}))


# -- loops -----------------------------------------------------------------------------------------------------------


def test_a_v1_frame_that_fills_a_tensor_list_is_reported_on_its_loop_cond():
    b = GraphBuilder()
    b.output(v1_list_loop(b))
    (finding,) = findings(b, "GL303")
    assert finding.node == "rnn/while/LoopCond" and finding.op == "LoopCond"
    _only_calibrated_targets_fail(finding)
    assert "the loop of frame `rnn/while`" in finding.message and "a TensorList" in finding.message
    assert "Unroll the loop" in finding.fix.title and "child process" in finding.fix.title


def test_a_functional_while_that_fills_a_tensor_list_crashes_and_the_same_loop_without_it_does_not():
    b = GraphBuilder()
    functional_list_loop(b)
    (finding,) = findings(b, "GL303")
    assert finding.node == "scan/while"
    _only_calibrated_targets_fail(finding)
    assert "a loop over a TensorList (TensorArray)" in finding.message
    b = GraphBuilder()
    functional_list_loop(b, with_list=False)
    assert findings(b, "GL303") == []


@pytest.mark.parametrize("form", ["tf1-frame", "tf2-frame", "functional"])
def test_a_loop_that_reads_the_input_crashes_and_one_that_reads_a_weight_does_not(form):
    got = {}
    for captured in ("input", "weight"):
        b = GraphBuilder()
        if form == "functional":
            functional_plain_loop(b, captured)
        else:
            v1_plain_loop(b, captured, tf2=form == "tf2-frame")
        got[captured] = findings(b, "GL303")
    (finding,) = got["input"]
    assert finding.node == ("loop/while" if form == "functional" else "loop/LoopCond")
    _only_calibrated_targets_fail(finding)
    assert "a loop whose body reads a tensor computed outside it" in finding.message
    assert got["weight"] == []


def test_lstm_cell_math_that_reads_the_input_crashes():
    """Measured with the real converter below (the loop ``reads_input``)."""
    b = GraphBuilder()
    lstm_math_loop(b, captured=True)
    (finding,) = findings(b, "GL303")
    assert finding.node == "rnn/while" and finding.op == "StatelessWhile"
    _only_calibrated_targets_fail(finding)


def test_lstm_cell_math_over_its_loop_variable_and_constants_is_no_crash():
    b = GraphBuilder()
    lstm_math_loop(b, captured=False)
    assert findings(b, "GL303") == []


def test_a_crashing_loop_the_outputs_do_not_reach_is_not_reported():
    """The converter prunes what the outputs do not reach: a loop left beside the model cannot crash it."""
    for build in (lambda b: b.output(v1_list_loop(b)), functional_list_loop):
        b = GraphBuilder()
        build(b)
        b.outputs.clear()
        b.output(b.op("Relu", [b.placeholder("z", "float32", (1, 4))], name="y"))
        assert findings(b, "GL303") == []


def test_targets_that_do_not_calibrate_get_no_finding():
    b = GraphBuilder()
    b.output(v1_list_loop(b))
    report = lint(b.to_bytes(), outputs=b.outputs, targets=SPARED, selection=Selection(select=("GL303",)))
    assert report.findings == []
    (finding,) = findings(b, "GL303", targets=("tflm",))
    assert finding.severity is Severity.ERROR


# -- an op measured to crash the converter ---------------------------------------------------------------------------


def test_a_string_slice_crashes_calibration_and_a_float_one_does_not():
    b = GraphBuilder()
    string_slice(b)
    (finding,) = findings(b, "GL303")
    assert finding.node == "slice" and finding.op == "StridedSlice"
    _only_calibrated_targets_fail(finding)
    b = GraphBuilder()
    string_slice(b, "float32")
    assert findings(b, "GL303") == []


def test_the_fix_for_a_crashing_op_that_is_no_loop_does_not_speak_of_loops():
    b = GraphBuilder()
    string_slice(b)
    (finding,) = findings(b, "GL303")
    assert "loop" not in finding.fix.title.lower() and "LSTM" not in finding.fix.title
    assert "is this op" not in finding.message


# -- the real converter ---------------------------------------------------------------------------------------------

_BUILD = textwrap.dedent('''
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    w = np.random.default_rng(0).uniform(-0.3, 0.3, (8, 8)).astype(np.float32)

    def constants_only(x):
        def body(i, h):
            z = tf.matmul(h, w)
            return i + 1, tf.sigmoid(z) * tf.tanh(z)
        return tf.while_loop(lambda i, h: i < 4, body, (tf.constant(0), x))[1]

    def reads_input(x):
        c = tf.nn.relu(tf.matmul(x, w))
        def body(i, h):
            z = tf.matmul(h, w) + c
            return i + 1, tf.sigmoid(z) * tf.tanh(z)
        return tf.while_loop(lambda i, h: i < 4, body, (tf.constant(0), x))[1]

    for name, fn in (("constants_only", constants_only), ("reads_input", reads_input)):
        traced = tf.function(fn).get_concrete_function(tf.TensorSpec((1, 8), tf.float32, name="x"))
        frozen = convert_variables_to_constants_v2(traced, lower_control_flow=False)  # keeps the functional While
        with open(os.path.join(sys.argv[1], name + ".pb"), "wb") as fh:
            fh.write(frozen.graph.as_graph_def().SerializeToString())
        print(name, frozen.outputs[0].name.split(":")[0])
''')

_INT8 = textwrap.dedent('''
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, tensorflow as tf
    from graphlint.convert import settings
    conv = settings.from_frozen_graph(tf, sys.argv[1], ["x"], [sys.argv[2]], {"x": [1, 8]})
    def data():
        rng = np.random.default_rng(0)
        for _ in range(4):
            yield [rng.uniform(-1, 1, (1, 8)).astype(np.float32)]
    settings.configure(tf, conv, "int8", dataset=data)
    conv.convert()
    print("converted")
''')


@pytest.fixture(scope="module")
def lstm_cell_loops(tmp_path_factory):
    """Two tf.while_loop LSTM cells frozen with their functional While kept: {name: (path, output)}."""
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs tensorflow-cpu (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("lstm_cell_loops")
    proc = subprocess.run([sys.executable, "-c", _BUILD, str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {name: (out / f"{name}.pb", output) for name, output in (line.split() for line in proc.stdout.splitlines())}


def _gl303(path, output: str) -> list:
    report = lint(path, targets=("float", "int8"), inputs=["x:1,8"], outputs=[output],
                  selection=Selection(select=("GL303",)))
    return report.findings


@pytest.mark.tf
@pytest.mark.converter
def test_the_real_converter_on_lstm_cell_loops(lstm_cell_loops):
    """int8 calibration dies (SIGSEGV) on the loop that reads a tensor computed outside it, and GL303 says so; the
    same cell reading only its loop variables and constants converts."""
    runs = {name: subprocess.run([sys.executable, "-c", _INT8, str(path), output], capture_output=True, text=True,
                                 timeout=600)
            for name, (path, output) in lstm_cell_loops.items()}
    assert runs["reads_input"].returncode < 0, runs["reads_input"].stderr[-2000:]
    assert runs["constants_only"].returncode == 0 and "converted" in runs["constants_only"].stdout, \
        runs["constants_only"].stderr[-2000:]
    assert [f.severity_for("int8") for f in _gl303(*lstm_cell_loops["reads_input"])] == [Severity.ERROR]


@pytest.mark.tf
@pytest.mark.converter
def test_no_crash_is_predicted_for_the_loop_the_converter_calibrates(lstm_cell_loops):
    assert _gl303(*lstm_cell_loops["constants_only"]) == []

