"""GL304 micro-unsupported."""

import math
from collections.abc import Iterable, Iterator

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import support
from graphlint_rules.tflite.gl604_tflite_micro_unsupported import string_interface, string_interface_fix


def _stored_elements(shape) -> int:
    """Elements of a tensor as the converter stores its shape: unknown dims are stored as 1."""
    return math.prod(1 if d is None else d for d in shape)


def computed_reshapes(model, live) -> Iterator[tuple[str, int, int]]:
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


class MicroUnsupported(Rule):
    """## What it does
    Reports ops TensorFlow Lite Micro cannot run in the model the `int8` settings write, as measured by
    running each case in TFLite Micro's interpreter (PyPI `tflite-micro`). For a `.tflite` input it reports
    the builtins TFLite Micro has no kernel for and the tensor types it refuses.

    Measured refusals include: CONV_3D, TOPK_V2, NON_MAX_SUPPRESSION, WHERE, SELECT, TILE, RANGE, POW, GELU,
    REDUCE_PROD, UNIQUE, the segment ops ("Didn't find op for builtin opcode"); TRANSPOSE and
    STRIDED_SLICE above 5-D; casts from or to uint8, int64 and float16; EXP, LOG, SQRT on int8 (float-only
    kernels); ARG_MAX with an int64 output; int64 arithmetic. A string model input or output (Micro has no
    string tensors: "TFLM failed to allocate tensors"). A `Reshape` whose shape is computed at run time (from
    `tf.shape` of a free batch, say) where the converter cannot infer every output dim: Micro sizes the output
    from its stored shape, with those dims stored as 1 ("num_input_elements != num_output_elements").

    ## Why is this bad?
    The micro interpreter fails at `AllocateTensors()` or `Invoke()` on the device, after the model was
    flashed. Micro has no Flex fallback and no dynamic allocation to work around it.

    ## Example
    `tf.math.top_k(logits, 5)` at the end of a keyword-spotting model.

    ## How to fix
    Move the op out of the model (top-k, NMS and argmax with int64 output belong to the application),
    replace it (`argmax(..., output_type=tf.int32)`, cast through int32 instead of int64/uint8), or
    register a custom kernel in your micro op resolver.
    """

    code = "GL304"
    name = "micro-unsupported"
    summary = "TFLite Micro cannot allocate or invoke this op as the int8 settings write it (measured)"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})
    targets = ("tflm",)

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not ctx.wants("tflm"):
            return
        analysis = support.analyze(model)
        for s in analysis.support.values():
            if s.kind("tflm") != support.MICRO or s.kind("int8") not in (support.OK, support.STAYS_FLOAT):
                continue
            name = model.nodes[s.node]["name"]
            said = (s.outcomes["tflm"].error or "").split(" | ")[0]
            yield self.report(model, s.node, f"`{name}` ({s.op}) cannot run in TFLite Micro"
                              + (f": \"{said}\"" if said else ""), data={"case": s.case},
                              fix=Fix(f"Move `{name}` out of the model or register a custom micro kernel"))
        yield from self._string_interface(model)
        yield from self._computed_reshapes(model, analysis.live)

    def _string_interface(self, model):
        for tensor, node, why in string_interface(model):
            yield self.report(model, node, why, tensor=tensor, fix=string_interface_fix(tensor))

    def _computed_reshapes(self, model, live):
        for node, stored_in, stored_out in computed_reshapes(model, live):
            name = model.nodes[node]["name"]
            yield self.report(
                model, node, f"`{name}` (Reshape) takes its shape from a tensor computed at run time: TFLite Micro "
                f"reshapes to the output's stored shape, which holds {stored_out} element(s) (dims the converter "
                f"cannot infer are stored as 1) where the input holds {stored_in} (\"num_input_elements != "
                "num_output_elements\")",
                tensor=model.outputs_of(node)[0],
                fix=Fix(f"Give `{name}` a constant shape with one -1 (e.g. tf.reshape(x, [-1, n]) or Flatten), or fix "
                        "the input shape before converting"))

    @staticmethod
    def bad_example(b):
        x = b.placeholder("x", "float32", (1, 10))
        b.output(b.op("TopKV2", [x, b.const(3, name="k", dtype="int32")], name="topk", attrs={"sorted": True}))

    @staticmethod
    def good_example(b):
        x = b.placeholder("x", "float32", (1, 10))
        b.output(b.op("Softmax", [x], name="probs"))
