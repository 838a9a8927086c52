"""GL606 on what the real converter writes: post-training int8 quantization of a graph whose weights went through
a FakeQuant node with an asymmetric range keeps that range, so the int8 weights get a non-zero zero point; the
legacy uint8 path leaves a TRANSPOSE_CONV float with uint8 weights. TF 2.21 converts them (in a child), LiteRT, TF's
bundled interpreter and TFLite Micro judge each file, and graphlint must agree with all three."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder

from ._micro import run_micro

pytestmark = [pytest.mark.tf, pytest.mark.converter]

_CONVERT = textwrap.dedent("""
    import json, os, sys, warnings
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    warnings.filterwarnings("ignore")
    import numpy as np
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter
    from graphlint.convert import settings

    def run(interpreter_class, path):
        try:
            it = interpreter_class(model_path=path)
            it.allocate_tensors()
            d = it.get_input_details()[0]
            it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
            it.invoke()
            return None
        except Exception as err:
            return str(err)

    out = {}
    for job in json.loads(sys.argv[1]):
        conv = settings.from_frozen_graph(tf, job["pb"], ["x"], ["y"], None)
        rng = np.random.default_rng(0)
        data = [[rng.uniform(-1, 1, job["shape"]).astype(np.float32)] for _ in range(4)]
        settings.configure(tf, conv, job["target"], dataset=lambda: iter(data), float_inputs={"x": (-1.0, 1.0)})
        open(job["tflite"], "wb").write(conv.convert())
        out[job["tflite"]] = {"litert": run(Interpreter, job["tflite"]), "tf": run(tf.lite.Interpreter, job["tflite"])}
    print(json.dumps(out))
""")

_CONV = {"strides": [1, 1, 1, 1], "padding": "SAME"}


def _graph(kind: str, low: float) -> tuple[GraphBuilder, list[int]]:
    """x -> op(x, FakeQuant(w, low, 1.0)) -> y: 8 bits over [low, 1] give zero point 0 only when low = -128/127."""
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    shape = [1, 8] if kind == "dense" else [1, 8, 8, 3]
    x = b.placeholder("x", "float32", tuple(shape))
    wshape = {"dense": (8, 4), "conv": (3, 3, 3, 4), "depthwise": (3, 3, 3, 1)}[kind]
    w = b.const(rng.uniform(low, 1.0, wshape).astype(np.float32), name="w")
    wq = b.node("FakeQuantWithMinMaxVars", [w, b.const(np.float32(low), name="min"), b.const(np.float32(1.0),
                                                                                            name="max")],
                name="wq", attrs={"num_bits": 8, "narrow_range": False})
    if kind == "dense":
        y = b.op("MatMul", [x, wq], name="y_op", attrs={"transpose_a": False, "transpose_b": False})
    elif kind == "conv":
        y = b.op("Conv2D", [x, wq], name="y_op", attrs=_CONV)
    else:
        y = b.op("DepthwiseConv2dNative", [x, wq], name="y_op", attrs=_CONV)
    b.output(b.op("Identity", [y], name="y"))
    return b, shape


def _transpose_conv() -> GraphBuilder:
    """A float Conv2DBackpropInput: the legacy uint8 path (inference_type uint8, no FakeQuant) quantizes its input
    and weights to uint8 and leaves the TRANSPOSE_CONV float."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8, 8, 4))
    w = b.const(np.random.default_rng(0).uniform(-1, 1, (3, 3, 2, 4)).astype(np.float32), name="w")
    y = b.op("Conv2DBackpropInput", [b.const(np.array([1, 8, 8, 2], np.int32), name="output_shape"), w, x],
             name="y_op", attrs=_CONV)
    b.output(b.op("Identity", [y], name="y"))
    return b


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, dict[str, str | None]]:
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed")
    root = tmp_path_factory.mktemp("gl606_ptq")
    jobs = []
    for kind in ("conv", "depthwise", "dense"):
        for name, low in (("asymmetric", -0.2), ("symmetric", -128 / 127)):
            b, shape = _graph(kind, low)
            pb = root / f"{kind}-{name}.pb"
            pb.write_bytes(b.to_bytes())
            jobs.append({"pb": str(pb), "tflite": str(root / f"{kind}-{name}.tflite"), "shape": shape,
                         "target": "int8-fallback"})
    pb = root / "transpose_conv.pb"
    pb.write_bytes(_transpose_conv().to_bytes())
    jobs.append({"pb": str(pb), "tflite": str(root / "transpose_conv-legacy-uint8.tflite"), "shape": [1, 8, 8, 4],
                 "target": "uint8-qat"})
    proc = subprocess.run([sys.executable, "-c", _CONVERT, json.dumps(jobs)], capture_output=True, text=True,
                          timeout=600, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_graphlint_agrees_with_litert_and_micro_on_converted_files(converted):
    for path, runs in converted.items():
        report = lint(path, targets=["float", "int8", "tflm"])
        verdicts = report.verdicts()
        gl606 = [f for f in report.findings if f.code == "GL606" and f.severity.value == "error"]
        assert bool(gl606) == (runs["litert"] is not None), (path, runs, [f.message for f in gl606])
        assert (verdicts["float"]["verdict"] == "fail") == (runs["litert"] is not None), (path, verdicts)
        for finding in gl606:
            assert ("tf.lite.Interpreter runs it" in finding.message) is (runs["tf"] is None), (path, runs)
        micro = run_micro(path)
        assert (verdicts["tflm"]["verdict"] != "fail") == micro.ran, (path, verdicts, micro.output)
    # the asymmetric conv and depthwise weights and the legacy uint8 transpose conv are what LiteRT refuses
    assert {p.rsplit("/", 1)[-1] for p, r in converted.items() if r["litert"]} == {
        "conv-asymmetric.tflite", "depthwise-asymmetric.tflite", "transpose_conv-legacy-uint8.tflite"}
