"""GL606 against the real LiteRT interpreter (and TF 2.21's bundled one, when installed): every cell of
(op, activation type, weight type, per-axis or per-tensor, weight zero points) is built as a one-op ``.tflite``,
run in a child process, and graphlint must report GL606 exactly where LiteRT cannot allocate and invoke it."""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graphlint.engine.finding import Severity
from graphlint.engine.runner import lint
from graphlint.testing import TFLiteBuilder

_RUN = """
import json, os, sys, warnings
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
warnings.filterwarnings("ignore")
import numpy as np
if sys.argv[1] == "tf":
    import tensorflow as tf
    Interpreter = tf.lite.Interpreter
else:
    from ai_edge_litert.interpreter import Interpreter
out = {}
for path in sys.argv[2:]:
    try:
        it = Interpreter(model_content=open(path, "rb").read())
        it.allocate_tensors()
        for d in it.get_input_details():
            it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
        it.invoke()
        out[path] = None
    except Exception as err:
        out[path] = str(err)
print(json.dumps(out))
"""

_ACT_QUANT = {"int8": ([0.05], [0]), "int16": ([0.05], [0]), "uint8": ([0.05], [128]), "float32": None}
_BIAS = {"int8": "int32", "int16": "int64", "uint8": "int32", "float32": "float32"}
_SHAPES = {  # input, weights, output, quantized axis of the weights
    "CONV_2D": ((1, 3, 3, 4), (2, 1, 1, 4), (1, 3, 3, 2), 0),
    "DEPTHWISE_CONV_2D": ((1, 3, 3, 2), (1, 1, 1, 2), (1, 3, 3, 2), 3),
    "FULLY_CONNECTED": ((1, 4), (2, 4), (1, 2), 0),
    "TRANSPOSE_CONV": ((1, 3, 3, 4), (2, 1, 1, 4), (1, 3, 3, 2), 0),
}
_OPTIONS = {
    "CONV_2D": ("Conv2DOptions", {"strideW": 1, "strideH": 1}),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", {"strideW": 1, "strideH": 1, "depthMultiplier": 1}),
    "FULLY_CONNECTED": ("FullyConnectedOptions", {}),
    "TRANSPOSE_CONV": ("TransposeConvOptions", {"strideW": 1, "strideH": 1}),
}
_TYPES = [("int8", "int8"), ("int16", "int8"), ("float32", "int8"), ("uint8", "uint8"), ("float32", "uint8")]
_ZERO_POINTS = {"zero": (0, 0), "nonzero": (3, 3), "first-zero": (0, 3), "mixed": (3, 0), "negative": (-3, -5)}


def weighted_op(op: str, act: str, wdtype: str, per_axis: bool, zero_points: tuple[int, int], *,
                bias: bool = True) -> bytes:
    """One quantized weighted op (two output channels) as a ``.tflite``."""
    xs, ws, ys, axis = _SHAPES[op]
    b = TFLiteBuilder()
    x = b.input("x", act, xs, quant=_ACT_QUANT[act])
    wq = ([0.01, 0.01], list(zero_points), axis) if per_axis else ([0.01], [zero_points[0]])
    ins = [x, b.tensor("w", wdtype, ws, data=np.ones(ws), quant=wq)]
    if bias:
        bq = None if act == "float32" else (([0.0005] * 2, [0, 0], 0) if per_axis else ([0.0005], [0]))
        ins.append(b.tensor("bias", _BIAS[act], (2,), data=np.zeros(2), quant=bq))
    y = b.tensor("y", act, ys, quant=_ACT_QUANT[act])
    if op == "TRANSPOSE_CONV":
        ins = [b.tensor("output_shape", "int32", (4,), data=np.array(ys)), ins[1], ins[0], *ins[2:]]
    b.op(op, ins, [y], options=_OPTIONS[op])
    b.output(y)
    return b.to_bytes()


def _cells():
    for op, (act, wdtype), per_axis, zp in itertools.product(_SHAPES, _TYPES, (True, False), _ZERO_POINTS):
        if per_axis or _ZERO_POINTS[zp][0] == _ZERO_POINTS[zp][1]:
            yield op, act, wdtype, per_axis, zp


def _run(runtime: str, paths: list[Path]) -> dict[str, str | None]:
    proc = subprocess.run([sys.executable, "-c", _RUN, runtime, *map(str, paths)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> dict[Path, tuple]:
    pytest.importorskip("ai_edge_litert")
    root = tmp_path_factory.mktemp("gl606")
    out = {}
    for op, act, wdtype, per_axis, zp in _cells():
        path = root / f"{op}-{act}-{wdtype}-{'axis' if per_axis else 'tensor'}-{zp}.tflite"
        path.write_bytes(weighted_op(op, act, wdtype, per_axis, _ZERO_POINTS[zp]))
        out[path] = (op, act, wdtype, per_axis, zp)
    # the legacy uint8 path writes TRANSPOSE_CONV without a bias
    for per_axis in (True, False):
        path = root / f"TRANSPOSE_CONV-float32-uint8-{'axis' if per_axis else 'tensor'}-nobias.tflite"
        path.write_bytes(weighted_op("TRANSPOSE_CONV", "float32", "uint8", per_axis, (128, 128), bias=False))
        out[path] = ("TRANSPOSE_CONV", "float32", "uint8", per_axis, "nonzero")
    return out


def _gl606(path: Path, severity: Severity = Severity.ERROR) -> list:
    report = lint(path, targets=["float", "int8", "tflm"])
    found = [f for f in report.findings if f.code == "GL606" and f.severity is severity]
    verdicts = report.verdicts()
    if found and severity is Severity.ERROR:
        assert verdicts["float"]["verdict"] == verdicts["int8"]["verdict"] == "fail"
        assert "GL606" not in verdicts["tflm"]["blocking"]
    return found


def test_gl606_fires_exactly_where_litert_cannot_prepare(grid):
    litert = _run("litert", list(grid))
    wrong = []
    for path in grid:
        found = _gl606(path)
        if bool(found) != (litert[str(path)] is not None):
            wrong.append(f"{path.name}: graphlint {'GL606' if found else 'nothing'}, LiteRT {litert[str(path)]}")
    assert not wrong, "\n".join(wrong)
    assert sum(e is not None for e in litert.values()) >= 20  # the grid really holds failing cells


def test_gl606_says_what_tf_bundled_interpreter_does(grid):
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("TensorFlow is not installed")
    tf, litert = _run("tf", list(grid)), _run("litert", list(grid))
    tf_only = 0
    for path in grid:
        runs = tf[str(path)] is None
        for finding in _gl606(path):
            assert ("tf.lite.Interpreter runs it" in finding.message) is runs, (path.name, finding.message)
            assert ("tf.lite.Interpreter refuses it too" in finding.message) is not runs, (path.name, finding.message)
        notes = _gl606(path, Severity.INFO)
        only_tf = litert[str(path)] is None and not runs
        assert bool(notes) is only_tf, (path.name, tf[str(path)], [f.message for f in notes])
        tf_only += only_tf
    assert tf_only >= 4


def test_gl606_message_names_the_weights_and_the_condition(tmp_path):
    path = tmp_path / "conv.tflite"
    path.write_bytes(weighted_op("CONV_2D", "int8", "int8", True, (3, 3)))
    (finding,) = _gl606(path)
    assert finding.message.startswith("`y` (CONV_2D): LiteRT cannot prepare it: int8 activations with per-axis "
                                      "int8 weights `w` (zero points [3])")
    assert finding.tensor == "w"


def test_tflm_verdict_follows_tflite_micro_on_the_grid(grid):
    """The same cells in TFLite Micro: it runs the integer ones whatever the zero points (GL606 is not a tflm
    finding) and refuses hybrid and uint8 kernels, which GL304 reports."""
    from ._micro import run_micro_many

    micro = run_micro_many(list(grid))
    wrong = []
    for path in grid:
        verdict = lint(path, targets=["tflm"]).verdicts()["tflm"]["verdict"]
        if (verdict != "fail") != micro[str(path)]:
            wrong.append(f"{path.name}: graphlint {verdict}, TFLite Micro {'ran' if micro[str(path)] else 'failed'}")
    assert not wrong, "\n".join(wrong)
    assert 0 < sum(micro.values()) < len(micro)


def test_the_table_names_the_installed_runtimes():
    """The grid tests rerun the installed runtimes: the versions the rule's messages name must be those."""
    from importlib import metadata

    from graphlint_rules.tflite.gl606_tflite_litert_prepare_fails import MEASURED_WITH

    assert metadata.version("ai-edge-litert") == MEASURED_WITH["ai-edge-litert"]
    tf = [d.version for d in metadata.distributions()
          if (d.metadata["Name"] or "").lower().replace("_", "-") in ("tensorflow", "tensorflow-cpu")]
    if not tf:
        pytest.skip("TensorFlow is not installed")
    assert tf[0] == MEASURED_WITH["tensorflow-cpu"]
