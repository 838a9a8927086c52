"""What TensorFlow Lite Micro runs, as measured with its interpreter (PyPI ``tflite-micro``): the kernels' type
signatures, the int8 softmax's fixed-point limits, string interfaces and reshapes sized from stored shapes. Read by
GL304 (on a ``.pb`` and a ``.tflite`` alike) and by GL406."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator

from graphlint.engine import Fix, ModelGraph, Severity
from graphlint.ir import TensorInfo
from graphlint_rules.magnitude import PEAK_TO_RMS

# The tensor types Micro's kernels refuse, but for the signatures in MICRO_TYPE_SIGNATURES
REFUSED_TYPES: frozenset[str | None] = frozenset({"uint8", "int64", "float16", "float64", "string"})
MAX_RANK = {"TRANSPOSE": 5, "STRIDED_SLICE": 5}

# The kernels that do take a type the others refuse, as (op, input dtypes, output dtypes); measured with the
# tflite-micro interpreter (tests/rules/test_gl304_micro_types.py runs each one and the refused neighbours):
# QUANTIZE converts int8 <-> uint8 (not float32, int16 or uint8 -> uint8, nor uint8 -> int16), DEQUANTIZE takes
# uint8, RESHAPE and SQUEEZE copy any type (EXPAND_DIMS, TRANSPOSE, PAD, GATHER do not), and the 16x8 weighted
# ops take their int64 bias.
MICRO_TYPE_SIGNATURES = frozenset({
    ("QUANTIZE", ("int8",), ("uint8",)),
    ("QUANTIZE", ("uint8",), ("int8",)),
    ("DEQUANTIZE", ("uint8",), ("float32",)),
    ("RESHAPE", ("uint8",), ("uint8",)),
    ("RESHAPE", ("uint8", "int32"), ("uint8",)),
    ("SQUEEZE", ("uint8",), ("uint8",)),
    ("CONV_2D", ("int16", "int8", "int64"), ("int16",)),
    ("DEPTHWISE_CONV_2D", ("int16", "int8", "int64"), ("int16",)),
    ("FULLY_CONNECTED", ("int16", "int8", "int64"), ("int16",)),
    ("TRANSPOSE_CONV", ("int32", "int8", "int16", "int64"), ("int16",)),
})

# TFLite Micro's reference int8 softmax sums a row's exps in Q12.19 (each logit equal to the row's max adds
# exactly 2^19), then checks 0 <= exponent <= 31 with exponent = 31 - 8 + num_bits_over_unit and
# num_bits_over_unit = floor(log2(sum)): the program aborts once the sum reaches 2^28, a sum of 512.
SOFTMAX_SUM_LIMIT = 512
_INT8_SPAN = 255  # the largest distance between two int8 logits, in quantized steps
# Micro's int8 SOFTMAX needs input scale * beta * 2^26 above 1 (PreprocessSoftmaxScaling): logits calibrated to
# span less than this (with beta 1) abort it while it prepares.
MICRO_SOFTMAX_MIN_RANGE = _INT8_SPAN / 2.0 ** 26
SPREAD_MARGIN = 1.5  # a row's spread is taken this much wider (error) or narrower (warning) than estimated


def dynamic_subgraphs(model: ModelGraph) -> frozenset[str]:
    """The subgraphs with an op that writes a tensor whose shape signature has an unknown dim (one walk)."""
    return frozenset(str(a["subgraph"]) for n, a in model.ops()
                     if any(t.shape_signature is not None and None in t.shape_signature
                            for t in model.outputs_of(n)))


def refused_type(model: ModelGraph, node: str) -> TensorInfo | None:
    """The first tensor of ``node`` whose type TFLite Micro's kernel for it refuses, or None."""
    attrs = model.nodes[node]
    ins = tuple(model.tensors[t].dtype for t in attrs["inputs"] if t is not None)
    outs = tuple(model.tensors[t].dtype for t in attrs["outputs"])
    if (attrs["op"], ins, outs) in MICRO_TYPE_SIGNATURES:
        return None
    return next((t for t in (*model.inputs_of(node), *model.outputs_of(node)) if t.dtype in REFUSED_TYPES), None)


def string_interface(model: ModelGraph) -> Iterator[tuple[TensorInfo, str | None, str]]:
    """(tensor, node to report on, why) for each string model input or output: TFLite Micro has no string
    tensors and fails to allocate the model (measured on `.pb` and `.tflite` alike)."""
    interface = {t.id: t for t in [*model.input_tensors(), *model.output_tensors()]}  # a passthrough once
    for tensor in interface.values():
        if tensor.dtype != "string":
            continue
        node = tensor.producer if tensor.producer in model.nodes else next(iter(tensor.consumers), None)
        role = " and ".join(r for r, ids in (("input", model.info.inputs), ("output", model.info.outputs))
                            if tensor.id in ids)
        yield tensor, node, (f"`{tensor.name}` is a string {role}: TFLite Micro has no string tensors (\"TFLM "
                             "failed to allocate tensors\")")


def string_interface_fix(tensor: TensorInfo) -> Fix:
    return Fix(f"Keep `{tensor.name}` out of the model: pass numbers in and map them to strings in the application")


def softmax_multiplier(model: ModelGraph, node: str) -> float | None:
    """beta * input scale * 2^26 of an int8 SOFTMAX (micro's PreprocessSoftmaxScaling with 5 integer bits), or None
    when the file does not say (no per-tensor scale, or no SoftmaxOptions: beta is then unknown)."""
    inputs = model.inputs_of(node)
    beta = (model.nodes[node].get("attrs") or {}).get("beta")
    if not inputs or inputs[0].dtype != "int8" or inputs[0].quant is None or len(inputs[0].quant.scale) != 1:
        return None
    if not isinstance(beta, (int, float)):
        return None
    return float(beta) * float(inputs[0].quant.scale[0]) * (1 << 26)


def softmax_min_sum(classes: int, multiplier: float) -> float:
    """The smallest sum of exps an int8 row of ``classes`` logits can give micro's softmax: its max adds 1, every
    other logit at least exp(-255 steps * scale * beta), unless the kernel skips diffs beyond its input radius."""
    _, shift = math.frexp(multiplier)  # QuantizeMultiplierGreaterThanOne: multiplier = [0.5, 1) * 2^shift
    radius = math.floor(31 * 2.0 ** 26 / 2.0 ** shift)  # CalculateInputRadius(5, shift)
    if radius < _INT8_SPAN:
        return 1.0
    return 1.0 + (classes - 1) * math.exp(-_INT8_SPAN * multiplier / (1 << 26))


def flat_row_sum(classes: int, spread: float) -> float:
    """The sum of exp(logit - max) over a row of ``classes`` logits spread normally with std ``spread`` (in units of
    the softmax's beta * logit): the largest lies about spread * sqrt(2 ln classes) above their mean. From a spread
    of sqrt(2 ln classes) up, the largest dominates (the normal estimate would turn back up there): 1."""
    top = math.sqrt(2 * math.log(classes))
    if spread >= top:
        return 1.0
    return min(float(classes), classes * math.exp(spread * spread / 2 - spread * top))


def softmax_sum_hazard(model: ModelGraph, node: str) -> tuple[Severity, str] | None:
    """An int8 -> int8 SOFTMAX whose row of logits can sum its exps to 512: (ERROR when every input does, or when
    inputs like the calibration data do; WARNING when some inputs may; None (info) when only inputs far from the
    calibration data can), with the reason; None when no input can."""
    multiplier = softmax_multiplier(model, node)
    outputs = model.outputs_of(node)
    shape = model.inputs_of(node)[0].shape if multiplier is not None else None
    if multiplier is None or not outputs or outputs[0].dtype != "int8" or not shape or shape[-1] is None:
        return None
    classes = int(shape[-1])
    if classes < SOFTMAX_SUM_LIMIT:
        return None
    scale_beta = multiplier / (1 << 26)
    rule = (f"TFLite Micro aborts at invoke when a row's exps sum to {SOFTMAX_SUM_LIMIT} or more (its reference "
            f"softmax sums them in Q12.19 and checks 0 <= exponent <= 31, exponent = 23 + floor(log2(sum)))")
    least = softmax_min_sum(classes, multiplier)
    if least >= SOFTMAX_SUM_LIMIT + classes * 2.0 ** -19:  # each Q12.19 term rounds by at most 2^-20: keep a margin
        return Severity.ERROR, (
            f"{rule}; with {classes} classes and input scale * beta = {scale_beta:.3g}, even the widest int8 spread "
            f"(255 steps) leaves the sum at {least:.0f} or more: it aborts on every input")
    # The calibrated logit range spans about 2 * PEAK_TO_RMS standard deviations of the logits the converter saw.
    typical = _INT8_SPAN * scale_beta / (2 * PEAK_TO_RMS)
    if flat_row_sum(classes, typical * SPREAD_MARGIN) >= SOFTMAX_SUM_LIMIT:
        return Severity.ERROR, (
            f"{rule}; the logits were calibrated to a range of {_INT8_SPAN * scale_beta:.3g} (input scale * beta = "
            f"{scale_beta:.3g}): logits spread like the calibration data's sum to about "
            f"{flat_row_sum(classes, typical):.0f} over {classes} classes, so inputs like them abort (the weights "
            "look untrained)")
    spread = math.log(classes / SOFTMAX_SUM_LIMIT)
    narrow = flat_row_sum(classes, typical / SPREAD_MARGIN)
    severity = Severity.WARNING if narrow >= SOFTMAX_SUM_LIMIT else Severity.INFO
    return severity, (
        f"{rule}; with {classes} classes that happens when the logits come out nearly equal, e.g. all within "
        f"ln({classes}/{SOFTMAX_SUM_LIMIT}) = {spread:.2f} of the largest (input scale * beta = {scale_beta:.3g}: "
        f"{spread / scale_beta:.0f} quantized steps); it depends on the weights and the input")


def _stored_elements(shape: tuple[int | None, ...]) -> int:
    """Elements of a tensor as the converter stores its shape: unknown dims are stored as 1."""
    return math.prod(1 if d is None else d for d in shape)


def computed_reshapes(model: ModelGraph, live: Collection[str]) -> Iterator[tuple[str, int, int]]:
    """(node, stored input elements, stored output elements) of each live Reshape whose shape operand is computed
    at run time and whose stored output holds another number of elements than its stored input. TFLite Micro's
    RESHAPE (reshape_common.cc) sizes its output from the output tensor's stored dims, never from the shape
    operand; the converter stores the dims it cannot infer as 1 (measured: a reshape to ``(tf.shape(x)[0], -1)``
    with a free batch fails to prepare, a Keras Flatten, whose second dim is static, runs)."""
    for node, attrs in model.ops():
        if attrs["op"] != "Reshape" or node not in live:
            continue
        ins, outs = model.inputs_of(node), model.outputs_of(node)
        if len(ins) < 2 or not outs or ins[1].is_const or ins[0].shape is None or outs[0].shape is None:
            continue
        stored_in, stored_out = _stored_elements(ins[0].shape), _stored_elements(outs[0].shape)
        if stored_in != stored_out:
            yield node, stored_in, stored_out
