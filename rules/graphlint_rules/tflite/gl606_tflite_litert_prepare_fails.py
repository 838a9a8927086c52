"""GL606 tflite-litert-prepare-fails."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.engine.targets import CONVERTER_TARGETS
from graphlint.ir import QuantParams, TensorInfo

if TYPE_CHECKING:
    from graphlint.testing import TFLiteBuilder

MEASURED_WITH = {"ai-edge-litert": "2.3.0", "tensorflow-cpu": "2.21.0"}  # the runtimes the table below comes from
_LITERT = "LiteRT " + MEASURED_WITH["ai-edge-litert"]
_TF = "TF " + MEASURED_WITH["tensorflow-cpu"] + "'s bundled tf.lite.Interpreter"
WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")

_PER_CHANNEL_UINT8 = ("per-channel (per-axis) weights with uint8 activations: LiteRT's per-channel kernels take int8 "
                      "or int16 activations only")
_ZERO_POINT = "quantized weights whose zero points are not all 0: LiteRT takes symmetric weights only here"
_UINT8_HYBRID = "uint8 weights with float activations: LiteRT's float kernel takes float32 or int8 weights only"
_KERNEL_UTIL = "kernel_util.cc:240 input->type == kTfLiteInt8 || input->type == kTfLiteInt16 was not true"
_XNNPACK = "failed to delegate {op} node (TfLiteXNNPackDelegate failed to prepare)"
_XNNPACK_ZP = "unsupported zero-point value in XNNPACK delegate (TfLiteXNNPackDelegate failed to prepare)"
_UINT8_DEPTHWISE = ("uint8 weights with float activations: LiteRT's depthwise kernel needs the weights' type to "
                    "match the activations'")
_DEPTHWISE150 = "depthwise_conv.cc:150 filter->type == data_type || ... was not true"

_CONV390 = "conv.cc:390 affine_quantization->zero_point->data[i] != 0"
_ANY_AXIS = ("zero", "first-zero", "nonzero")

# Measured with ai-edge-litert 2.3.0 and TensorFlow 2.21.0, one op per cell, with their default op resolver
# (XNNPACK applied): allocate_tensors() raises for exactly these cells, whatever the data; the cells not listed
# prepare and invoke. Rows: (op, activation dtype, weight dtype, per-axis, weight zero-point classes, why,
# LiteRT's error, whether TF 2.21's bundled tf.lite.Interpreter runs it). A zero-point class is "zero" (all 0),
# "first-zero" (channel 0's is 0, another's is not: XNNPACK then checks every channel) or "nonzero" (channel 0's
# is not 0). tests/rules/test_gl606_litert_prepare.py rebuilds and reruns every cell.
_MEASURED: tuple[tuple[str, str, str, bool, tuple[str, ...], str, str, bool], ...] = (
    ("CONV_2D", "int8", "int8", True, ("nonzero",), _ZERO_POINT, _CONV390, False),
    ("CONV_2D", "int8", "int8", True, ("first-zero",), _ZERO_POINT, _XNNPACK_ZP, False),
    ("CONV_2D", "int8", "int8", False, ("nonzero",), _ZERO_POINT, _XNNPACK.format(op="CONV_2D"), False),
    ("CONV_2D", "float32", "int8", True, ("first-zero",), _ZERO_POINT, _XNNPACK_ZP, False),
    ("CONV_2D", "int16", "int8", True, ("first-zero", "nonzero"), _ZERO_POINT, _CONV390, False),
    ("CONV_2D", "int16", "int8", False, ("nonzero",), _ZERO_POINT, _CONV390, False),
    ("CONV_2D", "uint8", "uint8", True, _ANY_AXIS, _PER_CHANNEL_UINT8, _KERNEL_UTIL, False),
    ("DEPTHWISE_CONV_2D", "int8", "int8", True, ("first-zero",), _ZERO_POINT, _XNNPACK_ZP, False),
    ("DEPTHWISE_CONV_2D", "int8", "int8", False, ("nonzero",), _ZERO_POINT, _XNNPACK.format(op="DEPTHWISE_CONV_2D"),
     False),
    ("DEPTHWISE_CONV_2D", "uint8", "uint8", True, _ANY_AXIS, _PER_CHANNEL_UINT8, _KERNEL_UTIL, False),
    ("DEPTHWISE_CONV_2D", "float32", "uint8", True, _ANY_AXIS, _UINT8_DEPTHWISE, _DEPTHWISE150, False),
    ("DEPTHWISE_CONV_2D", "float32", "uint8", False, ("zero", "nonzero"), _UINT8_DEPTHWISE, _DEPTHWISE150, False),
    ("FULLY_CONNECTED", "int8", "int8", True, ("first-zero", "nonzero"), _ZERO_POINT, _XNNPACK_ZP, False),
    ("FULLY_CONNECTED", "float32", "int8", True, ("first-zero", "nonzero"), _ZERO_POINT, _XNNPACK_ZP, False),
    ("FULLY_CONNECTED", "float32", "int8", False, ("nonzero",), _ZERO_POINT,
     "failed to update filter tensor FULLY_CONNECTED node (TfLiteXNNPackDelegate failed to prepare)", True),
    ("FULLY_CONNECTED", "uint8", "uint8", True, _ANY_AXIS, _PER_CHANNEL_UINT8,
     "fully_connected.cc:530 input->type == kTfLiteInt8 || input->type == kTfLiteInt16 was not true", False),
    ("TRANSPOSE_CONV", "int8", "int8", True, ("first-zero",), _ZERO_POINT, _XNNPACK_ZP, False),
    ("TRANSPOSE_CONV", "float32", "int8", True, ("first-zero",), _ZERO_POINT, _XNNPACK_ZP, False),
    ("TRANSPOSE_CONV", "uint8", "uint8", True, _ANY_AXIS, _PER_CHANNEL_UINT8, _KERNEL_UTIL, False),
    ("TRANSPOSE_CONV", "float32", "uint8", True, _ANY_AXIS, _UINT8_HYBRID,
     "transpose_conv.cc:368 weights->type == kTfLiteFloat32 || weights->type == kTfLiteInt8 was not true", True),
    ("TRANSPOSE_CONV", "float32", "uint8", False, ("zero", "nonzero"), _UINT8_HYBRID,
     _XNNPACK.format(op="TRANSPOSE_CONV"), False),
)

Cell = tuple[str, str, str, bool, str]
"""A weighted op's key in the tables below: (op, activation dtype, weight dtype, per-axis, zero-point class)."""

# (op, activation dtype, weight dtype, per-axis, zero-point class) -> (why, LiteRT's error, TF's interpreter runs it)
LITERT_REFUSES: dict[Cell, tuple[str, str, bool]] = {
    (op, act, w, axis, zp): (why, error, tf_runs)
    for op, act, w, axis, zps, why, error, tf_runs in _MEASURED for zp in zps}

# Cells LiteRT 2.3 runs but TF 2.21's bundled tf.lite.Interpreter refuses: its XNNPACK checks every channel's zero
# point ("unsupported zero-point value (3) in channel 0"), LiteRT's only when channel 0's is 0. Measured as above.
TF_ONLY_REFUSES: frozenset[Cell] = frozenset({
    ("CONV_2D", "float32", "int8", True, "nonzero"),
    ("DEPTHWISE_CONV_2D", "int8", "int8", True, "nonzero"),
    ("TRANSPOSE_CONV", "int8", "int8", True, "nonzero"),
    ("TRANSPOSE_CONV", "float32", "int8", True, "nonzero"),
})


def activation_and_weights(model: ModelGraph, node: str) -> tuple[TensorInfo, TensorInfo, QuantParams] | None:
    """The activation input and the constant quantized weights of a weighted op, with the weights' quantization,
    or None."""
    op = model.nodes[node]["op"]
    if op not in WEIGHTED_OPS:
        return None
    inputs = model.nodes[node]["inputs"]
    slots = (2, 1) if op == "TRANSPOSE_CONV" else (0, 1)
    if len(inputs) <= max(slots) or inputs[slots[0]] is None or inputs[slots[1]] is None:
        return None
    act, weights = model.tensors[inputs[slots[0]]], model.tensors[inputs[slots[1]]]
    if not weights.is_const or weights.quant is None or weights.dtype not in ("int8", "uint8"):
        return None
    return act, weights, weights.quant


def zero_point_class(zero_points: tuple[int, ...]) -> str:
    """"zero" (all 0), "first-zero" (the first is 0, another is not) or "nonzero" (the first is not 0)."""
    if zero_points and zero_points[0] != 0:
        return "nonzero"
    return "first-zero" if any(z != 0 for z in zero_points) else "zero"


def cell(model: ModelGraph, node: str) -> Cell | None:
    """The op's key in :data:`LITERT_REFUSES`: (op, activation dtype, weight dtype, per-axis, zero-point class)."""
    found = activation_and_weights(model, node)
    return None if found is None else _cell(model.nodes[node]["op"], *found)


def _cell(op: str, act: TensorInfo, weights: TensorInfo, quant: QuantParams) -> Cell:
    return op, act.dtype or "", weights.dtype or "", quant.per_axis, zero_point_class(quant.zero_point)


class TfliteLitertPrepareFails(Rule):
    """## What it does
    For a `.tflite` file, reports a CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED or TRANSPOSE_CONV whose
    quantized weights LiteRT (`ai-edge-litert` 2.3, its default op resolver with XNNPACK) refuses to prepare,
    so `allocate_tensors()` raises for any input. Measured, one op per cell, over every combination of
    activation type (int8, int16, uint8, float32), weight type (int8, uint8), per-axis or per-tensor weights
    and zero or non-zero weight zero points; these fail:

    - weights with a non-zero zero point (post-training quantization applied to a graph with fake-quant
      nodes writes them): CONV_2D with int8 or int16 activations, per-axis or per-tensor; DEPTHWISE_CONV_2D
      with int8 activations and per-tensor weights; FULLY_CONNECTED with int8 activations and per-axis
      weights, or with float activations (hybrid);
    - per-axis weights whose channel-0 zero point is 0 while another channel's is not (XNNPACK then checks
      every channel): CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV with int8 or float activations,
      DEPTHWISE_CONV_2D with int8 activations;
    - per-axis weights with uint8 activations (the legacy uint8 kernels are per-tensor only), all four ops;
    - uint8 weights with float activations (a legacy uint8 conversion that left the op float):
      DEPTHWISE_CONV_2D and TRANSPOSE_CONV ("weights->type == kTfLiteFloat32 || weights->type == kTfLiteInt8").

    Where TensorFlow 2.21's bundled (deprecated) `tf.lite.Interpreter` differs, the message says so: it runs
    a hybrid FULLY_CONNECTED with per-tensor non-zero zero points and a float TRANSPOSE_CONV with per-axis
    uint8 weights; it refuses per-axis weights whose channel-0 zero point is not 0 in a hybrid CONV_2D and
    TRANSPOSE_CONV and an int8 DEPTHWISE_CONV_2D and TRANSPOSE_CONV, which LiteRT runs (reported at info
    level: the verdict follows LiteRT). TFLite Micro is not concerned: it runs the integer cells, and GL304
    covers its hybrid and uint8 refusals.

    ## Why is this bad?
    The model cannot run on LiteRT at all: it fails at `allocate_tensors()` with "Node number N (CONV_2D)
    failed to prepare" or "TfLiteXNNPackDelegate failed to prepare", after it was shipped.

    ## Example
    An int8 CONV_2D whose per-channel int8 weights have zero point 3.

    ## How to fix
    Quantize weights symmetrically (zero point 0): convert the float graph with the int8 settings instead of
    applying post-training quantization on top of fake-quant nodes, and convert legacy uint8 models again
    with the int8 settings.
    """

    code = "GL606"
    name = "tflite-litert-prepare-fails"
    summary = "A .tflite conv or fully-connected op has quantized weights LiteRT refuses to prepare (measured)"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"tflite"})
    targets = CONVERTER_TARGETS
    example_format = "tflite"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        for node, attrs in model.ops():
            found = activation_and_weights(model, node)
            if found is None:
                continue
            _, weights, quant = found
            key = _cell(attrs["op"], *found)
            if key not in LITERT_REFUSES and key not in TF_ONLY_REFUSES:
                continue
            zps = sorted(set(quant.zero_point))
            what = (f"{key[1]} activations with {'per-axis' if key[3] else 'per-tensor'} {key[2]} weights "
                    f"`{weights.name}` (zero points {zps[:4]}{' ...' if len(zps) > 4 else ''})")
            data = {"activations": key[1], "weights": key[2], "per_axis": key[3], "zero_points": key[4]}
            fix = Fix("Convert the float source graph again with the int8 settings (symmetric int8 weights, zero "
                      "point 0)")
            if key not in LITERT_REFUSES:
                yield self.report(model, node, f"`{attrs['name']}` ({attrs['op']}): {_LITERT} runs {what}, but "
                                  f"{_TF} refuses it (its XNNPACK checks every channel's "
                                  "zero point: \"unsupported zero-point value\")", tensor=weights, fix=fix,
                                  severity=Severity.INFO, data={**data, "tf_interpreter_runs": False})
                continue
            why, error, tf_runs = LITERT_REFUSES[key]
            tf_says = f"{_TF} runs it" if tf_runs else f"{_TF} refuses it too"
            yield self.report(model, node, f"`{attrs['name']}` ({attrs['op']}): LiteRT cannot prepare it: {what}, "
                              f"{why} ({_LITERT}: \"{error}\"); {tf_says}", tensor=weights, fix=fix,
                              data={**data, "tf_interpreter_runs": tf_runs})

    @staticmethod
    def bad_example(b: TFLiteBuilder) -> None:
        x = b.input("x", "int8", (1, 3, 3, 4), quant=([0.05], [0]))
        w = b.tensor("w", "int8", (2, 1, 1, 4), data=[[[[1] * 4]]] * 2, quant=([0.01, 0.01], [3, 3], 0))
        bias = b.tensor("bias", "int32", (2,), data=[0, 0], quant=([0.0005, 0.0005], [0, 0], 0))
        y = b.tensor("y", "int8", (1, 3, 3, 2), quant=([0.05], [0]))
        b.op("CONV_2D", [x, w, bias], [y], options=("Conv2DOptions", {"strideW": 1, "strideH": 1}))
        b.output(y)

    @staticmethod
    def good_example(b: TFLiteBuilder) -> None:
        x = b.input("x", "int8", (1, 3, 3, 4), quant=([0.05], [0]))
        w = b.tensor("w", "int8", (2, 1, 1, 4), data=[[[[1] * 4]]] * 2, quant=([0.01, 0.01], [0, 0], 0))
        bias = b.tensor("bias", "int32", (2,), data=[0, 0], quant=([0.0005, 0.0005], [0, 0], 0))
        y = b.tensor("y", "int8", (1, 3, 3, 2), quant=([0.05], [0]))
        b.op("CONV_2D", [x, w, bias], [y], options=("Conv2DOptions", {"strideW": 1, "strideH": 1}))
        b.output(y)
