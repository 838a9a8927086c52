"""Helpers shared by the rule tests: lint a built model with one rule selected, and small ``.tflite`` models of
each kind of quantization (GL601 names the kind, GL602 names the ops that still compute in float)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphlint.engine.finding import Finding
from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.engine.targets import TARGETS
from graphlint.ir import ModelGraph
from graphlint.testing import GraphBuilder, TFLiteBuilder

ALL_TARGETS: tuple[str, ...] = tuple(TARGETS)


def findings(source: GraphBuilder | TFLiteBuilder | ModelGraph, code: str, *,
             targets: Sequence[str] = ALL_TARGETS, outputs: Sequence[str] | None = None,
             inputs: Sequence[str] = ()) -> list[Finding]:
    """The findings of rule ``code`` alone on ``source``, for ``targets`` (every target unless told).

    A :class:`GraphBuilder` is linted as its ``.pb`` bytes with its declared outputs, a :class:`TFLiteBuilder` as
    its ``.tflite`` bytes, and a :class:`ModelGraph` (``savedmodel_view``) as it is.
    """
    selection = Selection(select=(code,))
    if isinstance(source, TFLiteBuilder):
        report = lint(source.to_bytes(), targets=targets, selection=selection, name="model.tflite")
    elif isinstance(source, GraphBuilder):
        report = lint(source.to_bytes(), targets=targets, selection=selection, name="model.pb", inputs=inputs,
                      outputs=source.outputs if outputs is None else outputs)
    else:
        report = lint(source, targets=targets, selection=selection, inputs=inputs, outputs=outputs)
    return [f for f in report.findings if f.code == code]


# -- .tflite models, one per kind of quantization ------------------------------------------------------------------


def integer_relu(dtype: str = "int8", scale: float = 1 / 255, zero_point: int = -128) -> TFLiteBuilder:
    """x -> RELU -> y with ``dtype`` input and output at one scale and zero point: full integer (int8, uint8) or
    16x8 (int16)."""
    b = TFLiteBuilder()
    x = b.input("x", dtype, (1, 4), quant=([scale], [zero_point]))
    y = b.tensor("y", dtype, (1, 4), quant=([scale], [zero_point]))
    b.op("RELU", [x], [y])
    b.output(y)
    return b


def float_island() -> TFLiteBuilder:
    """An int8 model whose NEG runs in float between a DEQUANTIZE and a QUANTIZE (an op without an int8 kernel,
    as the int8-fallback settings leave it)."""
    b = TFLiteBuilder()
    x = b.input("x", "int8", (1, 4), quant=([0.1], [0]))
    xf = b.tensor("xf", "float32", (1, 4))
    neg = b.tensor("neg", "float32", (1, 4))
    y = b.tensor("y", "int8", (1, 4), quant=([0.1], [0]))
    b.op("DEQUANTIZE", [x], [xf])
    b.op("NEG", [xf], [neg])
    b.op("QUANTIZE", [neg], [y])
    b.output(y)
    return b


def float_tanh() -> TFLiteBuilder:
    """A float model: x -> TANH -> y, nothing quantized."""
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 4))
    y = b.tensor("y", "float32", (1, 4))
    b.op("TANH", [x], [y])
    b.output(y)
    return b


def hybrid_dense() -> TFLiteBuilder:
    """What dynamic-range quantization writes: a FULLY_CONNECTED with int8 weights on float activations (a hybrid
    op), then a TANH that computes in float like any op without weights."""
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 4))
    w = b.tensor("w", "int8", (2, 4), data=np.ones((2, 4)), quant=([0.02], [0]))
    h = b.tensor("dense", "float32", (1, 2))
    y = b.tensor("y", "float32", (1, 2))
    b.op("FULLY_CONNECTED", [x, w], [h], options=("FullyConnectedOptions", {}))
    b.op("TANH", [h], [y])
    b.output(y)
    return b


def float16_dense() -> TFLiteBuilder:
    """What float16 quantization writes: float16 weights, a DEQUANTIZE to float32, a float FULLY_CONNECTED."""
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 4))
    w16 = b.tensor("w16", "float16", (2, 4), data=np.ones((2, 4)))
    w = b.tensor("w", "float32", (2, 4))
    y = b.tensor("y", "float32", (1, 2))
    b.op("DEQUANTIZE", [w16], [w])
    b.op("FULLY_CONNECTED", [x, w], [y], options=("FullyConnectedOptions", {}))
    b.output(y)
    return b
