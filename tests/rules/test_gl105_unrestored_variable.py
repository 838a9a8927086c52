"""GL105 unrestored-variable: what the rule says per target, as TF 2.21's from_saved_model and LiteRT do it.

The converter's side is measured on real SavedModels by the SavedModel corpus (Keras 3 models written with
``tf.saved_model.save``: ``sm_keras_mlp_tfsave`` and the held-out ones), which also checks that the loader marks
their variables and not those of ``model.export``.
"""

from __future__ import annotations

import numpy as np
import pytest

from graphlint.engine.finding import Severity
from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.engine.targets import TARGETS
from graphlint.testing import GraphBuilder, TFLiteBuilder, savedmodel_view

ALL = tuple(TARGETS)


def _dense(b: GraphBuilder) -> tuple[str, str]:
    x = b.placeholder("features", "float32", (1, 4))
    handle = b.node("VarHandleOp", name="var/kernel", attrs={"dtype": "float32", "shape": (4, 4),
                                                            "shared_name": "kernel"})
    return x, handle


def _findings(b: GraphBuilder, targets=ALL):
    return lint(savedmodel_view(b), outputs=b.outputs, targets=targets, selection=Selection(select=("GL1",))).findings


def test_calibrated_targets_fail_and_float_ones_warn():
    b = GraphBuilder()
    x, handle = _dense(b)
    b.output(b.op("MatMul", [x, b.op("ReadVariableOp", [handle], name="read", attrs={"dtype": "float32"})],
                  name="y"))
    (finding,) = _findings(b)
    assert finding.code == "GL105" and finding.node == "read"
    errors = {t for t in ALL if finding.severity_for(t) is Severity.ERROR}
    assert {"int8", "int8-fallback", "int16x8", "tflm"} <= errors  # calibration reads the unset variables
    assert not errors & {"float", "dynamic", "float16"}
    assert finding.severity_for("float") is finding.severity_for("float16") is Severity.WARNING
    assert "without its weights" in finding.message


def test_a_loop_that_reads_the_variable_fails_every_target():
    b = GraphBuilder()
    x, handle = _dense(b)
    loop = b.node("While", [x, handle], name="rnn/while", attrs={"T": ["float32", "resource"]})
    b.output(b.op("Identity", [loop], name="y"))
    (finding,) = _findings(b)
    assert all(finding.severity_for(t) is Severity.ERROR for t in ("float", "dynamic", "float16", "int8"))
    assert dict(finding.data)["control_flow"] == ["rnn/while"]


def test_only_the_requested_targets_decide_the_severity():
    b = GraphBuilder()
    x, handle = _dense(b)
    b.output(b.op("MatMul", [x, b.op("ReadVariableOp", [handle], name="read", attrs={"dtype": "float32"})],
                  name="y"))
    (finding,) = _findings(b, targets=("float",))
    assert finding.severity is Severity.WARNING


def test_a_frozen_graph_keeps_gl101_and_gets_no_gl105():
    """In a .pb, a variable handle stops the converter ("Please freeze the graph"): GL101, not GL105."""
    b = GraphBuilder()
    x, handle = _dense(b)
    b.output(b.op("MatMul", [x, b.op("ReadVariableOp", [handle], name="read", attrs={"dtype": "float32"})],
                  name="y"))
    codes = [f.code for f in lint(b.to_bytes(), outputs=b.outputs, targets=ALL,
                                  selection=Selection(select=("GL1",))).findings]
    assert codes == ["GL101"]


def _reads_a_variable(assigned: bool) -> bytes:
    """x + w, w read from a resource variable that an ASSIGN_VARIABLE sets first, or that nothing sets."""
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 4))
    handle = b.tensor("handle", "resource", ())
    b.op("VAR_HANDLE", [], [handle], options=("VarHandleOptions", {"sharedName": b"kernel"}))
    if assigned:
        b.op("ASSIGN_VARIABLE", [handle, b.tensor("init", "float32", (4,), data=[0.5] * 4)], [])
    w = b.tensor("w", "float32", (4,))
    b.op("READ_VARIABLE", [handle], [w])
    y = b.tensor("y", "float32", (1, 4))
    b.op("ADD", [x, w], [y], options=("AddOptions", {}))
    b.output(y)
    return b.to_bytes()


def _litert(model: bytes):
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = litert.Interpreter(model_content=model)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], np.ones((1, 4), np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_a_tflite_reading_variables_nothing_assigns_warns():
    """LiteRT runs both files; only the one that assigns its variable computes with the value (1 + 0.5)."""
    unset, assigned = _reads_a_variable(False), _reads_a_variable(True)
    assert np.allclose(_litert(assigned), 1.5) and not np.allclose(_litert(unset), 1.5)
    (finding,) = lint(unset, targets=("float", "int8", "tflm"), selection=Selection(select=("GL105",))).findings
    assert finding.severity is Severity.WARNING and set(finding.targets) >= {"float", "int8"}
    assert "tflm" not in finding.targets
    assert lint(assigned, targets=("float",), selection=Selection(select=("GL105",))).findings == []
