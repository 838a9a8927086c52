"""GL304 micro-unsupported."""

from graphlint.engine.finding import Fix, Severity
from graphlint.engine.rule import Category, Rule
from graphlint_rules import support
from graphlint_rules.tflite.gl604_tflite_micro_unsupported import string_interface, string_interface_fix


class MicroUnsupported(Rule):
    """## What it does
    Reports ops TensorFlow Lite Micro cannot run in the model the `int8` settings write, as measured by
    running each case in TFLite Micro's interpreter (PyPI `tflite-micro`). For a `.tflite` input it reports
    the builtins TFLite Micro has no kernel for and the tensor types it refuses.

    Measured refusals include: CONV_3D, TOPK_V2, NON_MAX_SUPPRESSION, WHERE, SELECT, TILE, RANGE, POW, GELU,
    REDUCE_PROD, UNIQUE, the segment ops ("Didn't find op for builtin opcode"); TRANSPOSE and
    STRIDED_SLICE above 5-D; casts from or to uint8, int64 and float16; EXP, LOG, SQRT on int8 (float-only
    kernels); ARG_MAX with an int64 output; int64 arithmetic. A string model input or output (Micro has no
    string tensors: "TFLM failed to allocate tensors").

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

    def check(self, model, ctx):
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

    def _string_interface(self, model):
        for tensor, node, why in string_interface(model):
            yield self.report(model, node, why, tensor=tensor, fix=string_interface_fix(tensor))

    @staticmethod
    def bad_example(b):
        x = b.placeholder("x", "float32", (1, 10))
        b.output(b.op("TopKV2", [x, b.const(3, name="k", dtype="int32")], name="topk", attrs={"sorted": True}))

    @staticmethod
    def good_example(b):
        x = b.placeholder("x", "float32", (1, 10))
        b.output(b.op("Softmax", [x], name="probs"))
