"""GL304's note on a dynamic input prints the shape TFLite Micro really runs (the file's stored shape) beside the
``shape_signature`` that makes it dynamic; an input whose signature has no -1 gets no note."""

from __future__ import annotations

import subprocess
import sys

import pytest

from graphlint.engine.runner import lint
from graphlint.testing import TFLiteBuilder

_MICRO_INPUT_SHAPE = """
import sys
from tflite_micro.python.tflite_micro import runtime
interpreter = runtime.Interpreter.from_bytes(open(sys.argv[1], "rb").read(), arena_size=1 << 22)
print([int(d) for d in interpreter.get_input_details(0)["shape"]])
"""


def _audio(signature) -> bytes:
    b = TFLiteBuilder()
    x = b.input("audio", "int8", (1, 43844, 1), quant=([0.01], [0]), signature=signature)
    y = b.tensor("y", "int8", (1, 43844, 1), quant=([0.01], [0]), signature=signature)
    b.op("RELU", [x], [y])
    b.output(y)
    return b.to_bytes()


def _notes(path) -> list[str]:
    report = lint(path, targets=["tflm"])
    return [f.message for f in report.findings if f.code == "GL304"]


def test_dynamic_batch_note_prints_the_stored_shape_micro_runs(tmp_path):
    pytest.importorskip("tflite_micro")
    path = tmp_path / "audio.tflite"
    path.write_bytes(_audio((-1, 43844, 1)))
    micro = subprocess.run([sys.executable, "-c", _MICRO_INPUT_SHAPE, str(path)], capture_output=True, text=True,
                           timeout=120)
    assert micro.returncode == 0, micro.stderr[-500:]
    assert micro.stdout.strip().splitlines()[-1] == "[1, 43844, 1]"
    assert _notes(path) == ["Input `audio` has a dynamic shape (shape_signature [-1, 43844, 1]): TFLite Micro cannot "
                            "resize inputs and runs the stored shape [1, 43844, 1]"]


def test_static_signature_gets_no_note(tmp_path):
    path = tmp_path / "audio.tflite"
    path.write_bytes(_audio((1, 43844, 1)))
    assert _notes(path) == []
