"""GL603 tflite-custom-op: Flex ops and custom ops the standard LiteRT interpreter does not register, checked
against the real interpreter (``ai-edge-litert``, in a child process: a custom kernel may abort it)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from graphlint.engine.finding import Severity
from graphlint.testing import TFLiteBuilder

from ._models import ALL_TARGETS, findings


def one_op(custom: str | None) -> TFLiteBuilder:
    """x -> one op -> y: a CUSTOM op with code ``custom``, or the builtin TANH when None."""
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 4))
    y = b.tensor("y", "float32", (1, 4))
    if custom is None:
        b.op("TANH", [x], [y])
    else:
        b.op("CUSTOM", [x], [y], custom=custom)
    b.output(y)
    return b


@pytest.mark.parametrize(("code", "what", "needs"), [
    ("FlexErf", "a Flex (TensorFlow) op", "without the Flex delegate"),
    ("MyPostProcess", "a custom op", "without its kernel registered"),
], ids=["flex", "custom"])
def test_an_op_the_standard_interpreter_cannot_resolve_fails_every_target(code, what, needs):
    (finding,) = findings(one_op(code), "GL603")
    assert finding.op == code and finding.node is not None
    assert all(finding.severity_for(t) is Severity.ERROR for t in ALL_TARGETS)
    assert finding.message == f"`y` ({code}) is {what}: the standard interpreter cannot allocate the model {needs}"
    assert finding.fix.title == "Rewrite the op in the source graph so it converts to a builtin"


@pytest.mark.parametrize("code", ["TFLite_Detection_PostProcess", "Mfcc", "AudioSpectrogram", None],
                         ids=["detection-postprocess", "mfcc", "audio-spectrogram", "builtin"])
def test_custom_ops_the_interpreter_registers_and_builtins_are_clean(code):
    assert findings(one_op(code), "GL603") == []


def test_only_the_unresolved_ops_of_a_model_are_named():
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 4))
    t = [b.tensor(f"t{i}", "float32", (1, 4)) for i in range(3)]
    b.op("TANH", [x], [t[0]])
    b.op("CUSTOM", [t[0]], [t[1]], custom="FlexErf")
    b.op("CUSTOM", [t[1]], [t[2]], custom="Mfcc")
    b.output(t[2])
    assert [(f.op, f.message.split(" ")[0]) for f in findings(b, "GL603")] == [("FlexErf", "`t1`")]


_ALLOCATE = """
import json, sys
from ai_edge_litert.interpreter import Interpreter
out = {}
for path in sys.argv[1:]:
    try:
        Interpreter(model_content=open(path, "rb").read()).allocate_tensors()
        out[path] = None
    except Exception as err:
        out[path] = str(err)
print(json.dumps(out))
"""


def test_the_real_interpreter_refuses_what_gl603_reports(tmp_path):
    pytest.importorskip("ai_edge_litert.interpreter")
    paths = {}
    for code in ("FlexErf", "MyPostProcess", None):
        paths[code] = tmp_path / f"{code or 'tanh'}.tflite"
        paths[code].write_bytes(one_op(code).to_bytes())
    proc = subprocess.run([sys.executable, "-c", _ALLOCATE, *map(str, paths.values())], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = {code: json.loads(proc.stdout.strip().splitlines()[-1])[str(path)] for code, path in paths.items()}
    assert "Select TensorFlow op(s)" in errors["FlexErf"] and "Flex delegate" in errors["FlexErf"]
    assert "unresolved custom op: MyPostProcess" in errors["MyPostProcess"]
    assert errors[None] is None
