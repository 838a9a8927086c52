"""GL604 tflite-micro-unsupported."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.ir import TensorInfo
from graphlint_rules import support
from graphlint_rules.magnitude import PEAK_TO_RMS
from graphlint_rules.tflite._facts import is_hybrid

_TYPES = {"uint8": "uint8", "int64": "int64", "float16": "float16", "float64": "float64", "string": "string"}
_MAX_RANK = {"TRANSPOSE": 5, "STRIDED_SLICE": 5}

# The kernels that do take a type the others refuse, as (op, input dtypes, output dtypes); measured with the
# tflite-micro interpreter (tests/rules/test_gl604_micro_types.py runs each one and the refused neighbours):
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
    return next((t for t in (*model.inputs_of(node), *model.outputs_of(node)) if t.dtype in _TYPES), None)


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


def _softmax_multiplier(model, node: str) -> float | None:
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
    multiplier = _softmax_multiplier(model, node)
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


class TfliteMicroUnsupported(Rule):
    """## What it does
    For a `.tflite` file, reports what TensorFlow Lite Micro cannot run: builtins it has no kernel for (measured:
    CONV_3D, TOPK_V2, NON_MAX_SUPPRESSION, WHERE, SELECT, TILE, RANGE, POW, GELU, UNIQUE ...), tensors of types a
    kernel refuses (uint8, int64, float16: float16-weight models fail to allocate), int8 tensors into kernels that
    take float only (SQRT, EXP, LOG ...), float WHILE loops whose body writes a tensor of dynamic shape (invoke
    never returns; a WHILE over fixed shapes runs), hybrid (dynamic-range) kernels, string model inputs and
    outputs (micro has no string tensors), TRANSPOSE and STRIDED_SLICE above 5-D, and two int8 SOFTMAX aborts.
    Types follow what each kernel takes, as measured: QUANTIZE converts int8 to uint8 and back (the uint8 output
    of a wake-word model runs; float32, int16 or uint8 into uint8 does not), DEQUANTIZE takes uint8, RESHAPE and
    SQUEEZE copy any type, and 16x8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV take their
    int64 bias; every other kernel refuses uint8 and int64.

    The softmax aborts: (1) input scale * beta * 2^26 not above 1: the kernel needs a multiplier greater
    than one and aborts the program while preparing it (the logits of an untrained classifier calibrate to a
    range of about 1e-6, as in Keras applications built with `weights=None`). (2) The reference int8 softmax
    sums a row's exps in Q12.19 fixed point, where each logit equal to the row's largest adds exactly 1
    (2^19), and checks `0 <= exponent <= 31` with `exponent = 23 + floor(log2(sum))`: the program aborts at
    invoke once the sum reaches 512. With fewer than 512 classes the sum cannot reach it. With 512 or more it
    does when the logits come out nearly equal (all within ln(classes / 512) of the largest, say), which
    depends on the weights and the input. It is an error when even the widest int8 spread cannot keep the
    sum under 512, i.e. 1 + (classes - 1) * exp(-255 * input scale * beta) >= 512 (1000 classes: input
    scale * beta <= 0.00263); measured, 511 equal logits run, 512 abort. Otherwise the calibrated range says
    how flat the logits the converter saw were: taking their spread as range / 8 (the range spans about
    four standard deviations each way), a row of normal logits with 1.5 times that spread still summing to
    512 is an error (inputs like the calibration data abort: untrained weights), with two thirds of it a
    warning, and below that a note (measured on the corpus: 800- and 1000-class heads calibrated to ranges
    of 0.07 to 1.27 abort; a 700-class head at 1.3 and heads over ranges of 7.6 and 10 run).

    Dynamic input shapes (`shape_signature` with -1) are noted: micro cannot resize, so it runs the stored
    shape.

    ## Why is this bad?
    `AllocateTensors()` or `Invoke()` fails on the microcontroller ("Didn't find op for builtin opcode",
    "Type INT64 not supported"), or the program aborts, after the model was flashed.

    ## Example
    A dynamic-range model (int8 weights, float activations) flashed to a Cortex-M board.

    ## How to fix
    Convert with the full-integer int8 settings, keep post-processing (top-k, NMS) in the application,
    fix the input shapes before converting, and cast through int32 instead of int64. Calibrate a softmax on
    trained weights with real inputs, or apply it in the application (always, for 512 classes or more).
    """

    code = "GL604"
    name = "tflite-micro-unsupported"
    summary = "A .tflite op, type, rank or dynamic shape that TensorFlow Lite Micro cannot run"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"tflite"})
    targets = ("tflm",)
    example_format = "tflite"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not ctx.wants("tflm"):
            return
        missing = support.micro_missing_builtins()
        float_only = support.micro_float_only_builtins()
        dynamic = dynamic_subgraphs(model)
        for node, attrs in model.ops():
            if attrs.get("custom") and attrs["op"] not in missing:
                continue  # GL603
            found = self._op_problem(model, node, missing, float_only, dynamic)
            if found is not None:
                severity, why, fix = found
                yield self.report(model, node, f"`{attrs['name']}` ({attrs['op']}): {why}", fix=fix,
                                  severity=severity)
        yield from self._dynamic_inputs(model)
        for tensor, node, why in string_interface(model):
            yield self.report(model, node, why, tensor=tensor, fix=string_interface_fix(tensor))

    @staticmethod
    def _op_problem(model: ModelGraph, node: str, missing: frozenset[str], float_only: frozenset[str],
                    dynamic: frozenset[str]) -> tuple[Severity | None, str, Fix] | None:
        """(severity or None for the rule's, why, fix) of what micro cannot do with ``node``, or None.
        ``dynamic``: the subgraphs that write tensors of dynamic shape."""
        op = model.nodes[node]["op"]
        fix = Fix("Convert with the full-integer int8 settings and keep this op out of the model")
        softmax_fix = Fix("Calibrate on trained weights with real inputs, or apply the softmax in the application")
        tensors = [*model.inputs_of(node), *model.outputs_of(node)]
        rank = max((t.rank or 0 for t in tensors), default=0)
        if op in missing:
            return None, f"TFLite Micro has no {op} kernel (\"Didn't find op for builtin opcode '{op}'\")", fix
        grows = {str(c) for c in model.nodes[node].get("calls", ())} & dynamic
        if op == "WHILE" and any(t.dtype == "float32" for t in tensors) and grows:
            return None, ("TFLite Micro never returns from this float WHILE loop: its body writes a tensor of "
                          "dynamic shape (a TensorArray lowered into a growing concatenation; measured: invoke "
                          "hangs)"), fix
        if op in float_only and any(t.dtype == "int8" for t in tensors):
            return None, (f"TFLite Micro's {op} kernel takes float only and fails on int8 tensors "
                          "(\"INT8 != FLOAT32\")"), fix
        if is_hybrid(model, node):
            return None, "TFLite Micro has no hybrid (int8 weights, float activations) kernels", fix
        if op == "SOFTMAX" and (multiplier := _softmax_multiplier(model, node)) is not None and multiplier <= 1:
            return None, (f"TFLite Micro aborts while preparing this int8 SOFTMAX: input scale * beta * 2^26 = "
                          f"{multiplier:.3g}, and its kernel needs a multiplier above 1 (the logits were calibrated "
                          "to a range of about 1e-6 or less, as an untrained model gives)"), softmax_fix
        if op == "SOFTMAX" and (hazard := softmax_sum_hazard(model, node)) is not None:
            return hazard[0], hazard[1], softmax_fix
        if op in _MAX_RANK and rank > _MAX_RANK[op]:
            return None, f"TFLite Micro's {op} takes at most {_MAX_RANK[op]}-D tensors, this one is {rank}-D", fix
        if (bad := refused_type(model, node)) is not None:
            return None, (f"TFLite Micro's {op} kernel does not take {_TYPES[bad.dtype]} tensors like "
                          f"`{bad.name}`"), fix
        return None

    def _dynamic_inputs(self, model: ModelGraph):
        for t in model.input_tensors():
            signature = t.shape_signature
            if signature is None or all(d is not None for d in signature):
                continue
            stored = t.stored_shape if t.stored_shape is not None else t.shape
            yield self.report(model, next(iter(t.consumers), None), f"Input `{t.name}` has a dynamic shape "
                              f"(shape_signature {[-1 if d is None else d for d in signature]}): TFLite Micro cannot "
                              f"resize inputs and runs the stored shape {list(stored)}", tensor=t,
                              severity=Severity.INFO, fix=Fix("Fix the input shape before converting"))

    @staticmethod
    def bad_example(b):
        x = b.input("x", "float32", (1, 10))
        k = b.tensor("k", "int32", (), data=3)
        v = b.tensor("v", "float32", (1, 3))
        i = b.tensor("i", "int32", (1, 3))
        b.op("TOPK_V2", [x, k], [v, i])
        b.output(v, i)

    @staticmethod
    def good_example(b):
        x = b.input("x", "int8", (1, 10), quant=([0.1], [0]))
        y = b.tensor("y", "int8", (1, 10), quant=([1 / 256], [-128]))
        b.op("SOFTMAX", [x], [y])
        b.output(y)
