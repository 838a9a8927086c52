"""GL304 micro-unsupported."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import micro, support
from graphlint_rules.tflite._facts import is_hybrid

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

_FIX = Fix("Convert with the full-integer int8 settings and keep this op out of the model")
_SOFTMAX_FIX = Fix("Calibrate on trained weights with real inputs, or apply the softmax in the application")

# (severity, or None for the rule's; why; fix) of what TFLite Micro cannot do with one op of a .tflite file
Problem = tuple[Severity | None, str, Fix]


class MicroUnsupported(Rule):
    """## What it does
    Reports what TensorFlow Lite Micro cannot run, as measured by running each case in TFLite Micro's
    interpreter (PyPI `tflite-micro`). For a `.pb` or a SavedModel it reports the ops the `int8` settings write
    in a form Micro refuses; for a `.tflite` file, the builtins and tensors as the file holds them.

    Measured refusals include: CONV_3D, TOPK_V2, NON_MAX_SUPPRESSION, WHERE, SELECT, TILE, RANGE, POW, GELU,
    REDUCE_PROD, UNIQUE, the segment ops ("Didn't find op for builtin opcode"); TRANSPOSE and
    STRIDED_SLICE above 5-D; casts from or to uint8, int64 and float16; EXP, LOG, SQRT on int8 (float-only
    kernels, "INT8 != FLOAT32"); ARG_MAX with an int64 output; int64 arithmetic; hybrid (dynamic-range) kernels,
    which Micro does not have. A string model input or output (Micro has no string tensors: "TFLM failed to
    allocate tensors"). A `Reshape` whose shape is computed at run time (from `tf.shape` of a free batch, say)
    where the converter cannot infer every output dim: Micro sizes the output from its stored shape, with those
    dims stored as 1 ("num_input_elements != num_output_elements").

    In a `.tflite` file, types follow what each kernel takes, as measured: QUANTIZE converts int8 to uint8 and
    back (the uint8 output of a wake-word model runs; float32, int16 or uint8 into uint8 does not), DEQUANTIZE
    takes uint8, RESHAPE and SQUEEZE copy any type, and 16x8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and
    TRANSPOSE_CONV take their int64 bias; every other kernel refuses uint8 and int64 (float16-weight models fail
    to allocate). A float WHILE loop whose body writes a tensor of dynamic shape never returns (a WHILE over
    fixed shapes runs).

    Two int8 SOFTMAX aborts are read from a `.tflite` file's scales: (1) input scale * beta * 2^26 not above
    1: the kernel needs a multiplier greater than one and aborts the program while preparing it (the logits of
    an untrained classifier calibrate to a range of about 1e-6, as in Keras applications built with
    `weights=None`). (2) The reference int8 softmax sums a row's exps in Q12.19 fixed point, where each logit
    equal to the row's largest adds exactly 1 (2^19), and checks `0 <= exponent <= 31` with
    `exponent = 23 + floor(log2(sum))`: the program aborts at invoke once the sum reaches 512. With fewer than
    512 classes the sum cannot reach it. With 512 or more it does when the logits come out nearly equal (all
    within ln(classes / 512) of the largest, say), which depends on the weights and the input. It is an error
    when even the widest int8 spread cannot keep the sum under 512, i.e. 1 + (classes - 1) *
    exp(-255 * input scale * beta) >= 512 (1000 classes: input scale * beta <= 0.00263); measured, 511 equal
    logits run, 512 abort. Otherwise the calibrated range says how flat the logits the converter saw were:
    taking their spread as range / 8 (the range spans about four standard deviations each way), a row of
    normal logits with 1.5 times that spread still summing to 512 is an error (inputs like the calibration
    data abort: untrained weights), with two thirds of it a warning, and below that a note (measured on the
    corpus: 800- and 1000-class heads calibrated to ranges of 0.07 to 1.27 abort; a 700-class head at 1.3 and
    heads over ranges of 7.6 and 10 run). On a `.pb` the same hazards are GL406's, from the model's weights.

    Dynamic input shapes of a `.tflite` file (`shape_signature` with -1) are noted: Micro cannot resize, so it
    runs the stored shape.

    ## Why is this bad?
    The micro interpreter fails at `AllocateTensors()` or `Invoke()` on the device, or the program aborts,
    after the model was flashed. Micro has no Flex fallback and no dynamic allocation to work around it.

    ## Example
    `tf.math.top_k(logits, 5)` at the end of a keyword-spotting model.

    ## How to fix
    Convert with the full-integer int8 settings, move the op out of the model (top-k, NMS and argmax with int64
    output belong to the application), replace it (`argmax(..., output_type=tf.int32)`, cast through int32
    instead of int64/uint8), fix the input shapes before converting, or register a custom kernel in your micro
    op resolver. Calibrate a softmax on trained weights with real inputs, or apply it in the application
    (always, for 512 classes or more).
    """

    code = "GL304"
    name = "micro-unsupported"
    summary = "TFLite Micro cannot allocate or invoke this op, as the int8 settings or the .tflite file write it"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"graphdef", "tflite"})
    targets = ("tflm",)

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not ctx.wants("tflm"):
            return
        if model.info.format == "tflite":
            yield from self._tflite_ops(model)
            yield from self._dynamic_inputs(model)
        else:
            yield from self._graph_ops(model)
        for tensor, node, why in micro.string_interface(model):
            yield self.report(model, node, why, tensor=tensor, fix=micro.string_interface_fix(tensor))

    # -- a .pb or SavedModel: what the int8 settings write, as measured per case ---------------------------------

    def _graph_ops(self, model: ModelGraph) -> Iterator[Finding]:
        analysis = support.analyze(model)
        for s in analysis.support.values():
            if s.kind("tflm") != support.MICRO or s.kind("int8") not in (support.OK, support.STAYS_FLOAT):
                continue
            name = model.nodes[s.node]["name"]
            said = (s.outcomes["tflm"].error or "").split(" | ")[0]
            yield self.report(model, s.node, f"`{name}` ({s.op}) cannot run in TFLite Micro"
                              + (f": \"{said}\"" if said else ""), data={"case": s.case},
                              fix=Fix(f"Move `{name}` out of the model or register a custom micro kernel"))
        for node, stored_in, stored_out in micro.computed_reshapes(model, analysis.live):
            name = model.nodes[node]["name"]
            yield self.report(
                model, node, f"`{name}` (Reshape) takes its shape from a tensor computed at run time: TFLite Micro "
                f"reshapes to the output's stored shape, which holds {stored_out} element(s) (dims the converter "
                f"cannot infer are stored as 1) where the input holds {stored_in} (\"num_input_elements != "
                "num_output_elements\")",
                tensor=model.outputs_of(node)[0],
                fix=Fix(f"Give `{name}` a constant shape with one -1 (e.g. tf.reshape(x, [-1, n]) or Flatten), or fix "
                        "the input shape before converting"))

    # -- a .tflite file: its builtins and tensors as written -----------------------------------------------------

    def _tflite_ops(self, model: ModelGraph) -> Iterator[Finding]:
        missing = support.micro_missing_builtins()
        float_only = support.micro_float_only_builtins()
        dynamic = micro.dynamic_subgraphs(model)
        for node, attrs in model.ops():
            if attrs.get("custom") and attrs["op"] not in missing:
                continue  # GL603
            found = _kernel_problem(model, node, missing, float_only, dynamic) or _value_problem(model, node)
            if found is not None:
                severity, why, fix = found
                yield self.report(model, node, f"`{attrs['name']}` ({attrs['op']}): {why}", fix=fix,
                                  severity=severity)

    def _dynamic_inputs(self, model: ModelGraph) -> Iterator[Finding]:
        for t in model.input_tensors():
            signature = t.shape_signature
            if signature is None or all(d is not None for d in signature):
                continue
            stored = t.stored_shape if t.stored_shape is not None else t.shape
            yield self.report(model, next(iter(t.consumers), None), f"Input `{t.name}` has a dynamic shape "
                              f"(shape_signature {[-1 if d is None else d for d in signature]}): TFLite Micro cannot "
                              f"resize inputs and runs the stored shape {list(stored or ())}", tensor=t,
                              severity=Severity.INFO, fix=Fix("Fix the input shape before converting"))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 10))
        b.output(b.op("TopKV2", [x, b.const(3, name="k", dtype="int32")], name="topk", attrs={"sorted": True}))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 10))
        b.output(b.op("Softmax", [x], name="probs"))


def _kernel_problem(model: ModelGraph, node: str, missing: frozenset[str], float_only: frozenset[str],
                    dynamic: frozenset[str]) -> Problem | None:
    """What Micro's kernel set cannot do with ``node``: no kernel, a looping WHILE, a float-only kernel on int8
    tensors, a hybrid kernel. ``dynamic``: the subgraphs that write tensors of dynamic shape."""
    op = model.nodes[node]["op"]
    tensors = [*model.inputs_of(node), *model.outputs_of(node)]
    if op in missing:
        return None, f"TFLite Micro has no {op} kernel (\"Didn't find op for builtin opcode '{op}'\")", _FIX
    grows = {str(c) for c in model.nodes[node].get("calls", ())} & dynamic
    if op == "WHILE" and any(t.dtype == "float32" for t in tensors) and grows:
        return None, ("TFLite Micro never returns from this float WHILE loop: its body writes a tensor of "
                      "dynamic shape (a TensorArray lowered into a growing concatenation; measured: invoke "
                      "hangs)"), _FIX
    if op in float_only and any(t.dtype == "int8" for t in tensors):
        return None, (f"TFLite Micro's {op} kernel takes float only and fails on int8 tensors "
                      "(\"INT8 != FLOAT32\")"), _FIX
    if is_hybrid(model, node):
        return None, "TFLite Micro has no hybrid (int8 weights, float activations) kernels", _FIX
    return None


def _value_problem(model: ModelGraph, node: str) -> Problem | None:
    """What Micro's kernel for ``node`` refuses in its tensors: a softmax's fixed-point limits, a rank, a type."""
    op = model.nodes[node]["op"]
    if op == "SOFTMAX" and (multiplier := micro.softmax_multiplier(model, node)) is not None and multiplier <= 1:
        return None, (f"TFLite Micro aborts while preparing this int8 SOFTMAX: input scale * beta * 2^26 = "
                      f"{multiplier:.3g}, and its kernel needs a multiplier above 1 (the logits were calibrated "
                      "to a range of about 1e-6 or less, as an untrained model gives)"), _SOFTMAX_FIX
    if op == "SOFTMAX" and (hazard := micro.softmax_sum_hazard(model, node)) is not None:
        return hazard[0], hazard[1], _SOFTMAX_FIX
    rank = max((t.rank or 0 for t in (*model.inputs_of(node), *model.outputs_of(node))), default=0)
    if op in micro.MAX_RANK and rank > micro.MAX_RANK[op]:
        return None, f"TFLite Micro's {op} takes at most {micro.MAX_RANK[op]}-D tensors, this one is {rank}-D", _FIX
    if (bad := micro.refused_type(model, node)) is not None:
        return None, (f"TFLite Micro's {op} kernel does not take {bad.dtype} tensors like "
                      f"`{bad.name}`"), _FIX
    return None
