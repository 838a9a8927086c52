"""GL606 on what the real converter writes: post-training int8 quantization of a graph whose weights went through
a FakeQuant node with an asymmetric range keeps that range, so the int8 weights get a non-zero zero point. TF 2.21
converts it (in a child), LiteRT and TFLite Micro judge the file, and graphlint must agree with both."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

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

    out = {}
    for job in json.loads(sys.argv[1]):
        conv = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(job["pb"], ["x"], ["y"])
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        rng = np.random.default_rng(0)
        conv.representative_dataset = lambda: ([rng.uniform(-1, 1, job["shape"]).astype(np.float32)]
                                               for _ in range(4))
        open(job["tflite"], "wb").write(conv.convert())
        try:
            it = Interpreter(model_path=job["tflite"])
            it.allocate_tensors()
            d = it.get_input_details()[0]
            it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
            it.invoke()
            out[job["tflite"]] = None
        except Exception as err:
            out[job["tflite"]] = str(err)
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


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, str | None]:
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed")
    root = tmp_path_factory.mktemp("gl606_ptq")
    jobs = []
    for kind in ("conv", "depthwise", "dense"):
        for name, low in (("asymmetric", -0.2), ("symmetric", -128 / 127)):
            b, shape = _graph(kind, low)
            pb = root / f"{kind}-{name}.pb"
            pb.write_bytes(b.to_bytes())
            jobs.append({"pb": str(pb), "tflite": str(root / f"{kind}-{name}.tflite"), "shape": shape})
    proc = subprocess.run([sys.executable, "-c", _CONVERT, json.dumps(jobs)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_graphlint_agrees_with_litert_and_micro_on_converted_files(converted):
    litert_failures = 0
    for path, error in converted.items():
        report = lint(path, targets=["float", "int8", "tflm"])
        verdicts = report.verdicts()
        gl606 = [f for f in report.findings if f.code == "GL606" and f.severity.value == "error"]
        assert bool(gl606) == (error is not None), (path, error, [f.message for f in gl606])
        assert (verdicts["float"]["verdict"] == "fail") == (error is not None), (path, verdicts)
        micro = run_micro(path)
        assert (verdicts["tflm"]["verdict"] != "fail") == micro.ran, (path, verdicts, micro.output)
        litert_failures += error is not None
    # the asymmetric conv and depthwise weights are what LiteRT refuses; the symmetric ones and the dense run
    assert {p.rsplit("/", 1)[-1] for p, e in converted.items() if e} == {"conv-asymmetric.tflite",
                                                                        "depthwise-asymmetric.tflite"}
    assert litert_failures == 2
