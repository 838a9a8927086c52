"""GL304 on a Reshape whose shape is computed at run time: TFLite Micro sizes a RESHAPE's output from the output
tensor's stored dims (reshape_common.cc), never from the shape operand, and the converter stores the dims it
cannot infer as 1. The SavedModel corpus measures it through the converter (``sm_module_dynamic_batch`` fails,
Keras Flatten models run); here the kernel's side is checked on hand-written files, and the rule's on graphs."""

from __future__ import annotations

import pytest

from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.testing import GraphBuilder, TFLiteBuilder
from tests.rules._micro import run_micro

QUANT = ([0.05], [0])


def _computed_reshape(stored_out: tuple[int, ...]) -> bytes:
    """x (1, 32) reshaped by SHAPE(x), so the shape operand holds [1, 32] at run time whatever is stored."""
    b = TFLiteBuilder()
    x = b.input("x", "int8", (1, 32), quant=QUANT, signature=(-1, 32))
    shape = b.tensor("shape", "int32", (2,))
    b.op("SHAPE", [x], [shape], options=("ShapeOptions", {"outType": 2}))
    y = b.tensor("y", "int8", stored_out, quant=QUANT, signature=(-1, -1))
    b.op("RESHAPE", [x, shape], [y])
    b.output(y)
    return b.to_bytes()


@pytest.mark.parametrize(("stored_out", "runs"), [((1, 1), False), ((1, 32), True)])
def test_micro_sizes_a_reshape_from_its_stored_output_shape(tmp_path, stored_out, runs):
    path = tmp_path / "reshape.tflite"
    path.write_bytes(_computed_reshape(stored_out))
    result = run_micro(path)
    assert result.ran is runs, result.output
    if not runs:
        assert "num_input_elements != num_output_elements" in result.output


def _graph(tail) -> GraphBuilder:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (None, 4, 4, 2))
    shape = b.op("Shape", [x], name="shape", attrs={"out_type": "int32"})
    batch = b.op("StridedSlice", [shape, b.const([0], name="begin", dtype="int32"),
                                  b.const([1], name="end", dtype="int32"), b.const([1], name="step", dtype="int32")],
                 name="batch", dtype="int32", attrs={"Index": "int32", "shrink_axis_mask": 1})
    dims = b.op("Pack", [batch, b.const(tail, name="tail", dtype="int32")], name="dims", dtype="int32",
                attrs={"N": 2, "axis": 0})
    b.output(b.op("Reshape", [b.op("Relu", [x], name="relu"), dims], name="flat", attrs={"Tshape": "int32"}))
    return b


def _gl304(b: GraphBuilder) -> list:
    report = lint(b.to_bytes(), outputs=b.outputs, targets=("tflm",), selection=Selection(select=("GL304",)))
    return report.findings


def test_a_computed_shape_the_converter_cannot_complete_fails_tflm():
    (finding,) = _gl304(_graph(-1))  # (tf.shape(x)[0], -1): the second dim is unknown without the batch
    assert finding.node == "flat" and "holds 1 element(s)" in finding.message and "holds 32" in finding.message


def test_a_computed_shape_with_static_tail_runs():
    assert _gl304(_graph(32)) == []  # (tf.shape(x)[0], 32), as Keras' Flatten writes it: stored (1, 32)


def test_a_constant_shape_is_not_reported():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (None, 4, 4, 2))
    b.output(b.op("Reshape", [x, b.const([-1, 32], name="dims", dtype="int32")], name="flat",
                  attrs={"Tshape": "int32"}))
    assert _gl304(b) == []
