"""GL304 on an int8 SOFTMAX whose input scale is too small for TFLite Micro, checked against the real interpreter
(the ``tflite-micro`` package) in a child process: it aborts the program, so it never runs in the test's own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from graphlint.engine.runner import lint
from graphlint.testing import TFLiteBuilder

_RUN_MICRO = """
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
interpreter = runtime.Interpreter.from_bytes(open(sys.argv[1], "rb").read(), arena_size=1 << 20)
interpreter.set_input(np.zeros((1, 10), dtype=np.int8), 0)
interpreter.invoke()
"""


def _softmax(scale: float) -> bytes:
    b = TFLiteBuilder()
    x = b.input("logits", "int8", (1, 10), quant=([scale], [0]))
    y = b.tensor("probs", "int8", (1, 10), quant=([1 / 256], [-128]))
    b.op("SOFTMAX", [x], [y], options=("SoftmaxOptions", {"beta": 1.0}))
    b.output(y)
    return b.to_bytes()


@pytest.mark.parametrize(("scale", "runs"), [(1e-9, False), (0.1, True)])
def test_micro_softmax_prediction_matches_the_interpreter(tmp_path, scale, runs):
    pytest.importorskip("tflite_micro")
    path = tmp_path / "softmax.tflite"
    path.write_bytes(_softmax(scale))
    micro = subprocess.run([sys.executable, "-c", _RUN_MICRO, str(path)], capture_output=True, timeout=120)
    assert (micro.returncode == 0) is runs, micro.stderr.decode()[-500:]
    report = lint(path, targets=["tflm"])
    found = [f for f in report.findings if f.code == "GL304"]
    assert bool(found) is not runs
    assert report.verdicts()["tflm"]["verdict"] == ("pass" if runs else "fail")
    if found:
        message = found[0].message
        assert message.startswith("`probs` (SOFTMAX): TFLite Micro aborts") and "2^26 = 0.0671" in message
