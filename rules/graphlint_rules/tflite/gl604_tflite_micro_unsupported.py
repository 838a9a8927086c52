"""GL604 tflite-micro-unsupported."""

from graphlint.engine.finding import Fix, Severity
from graphlint.engine.rule import Category, Rule
from graphlint_rules import support
from graphlint_rules.tflite._facts import is_hybrid

_TYPES = {"uint8": "uint8", "int64": "int64", "float16": "float16", "float64": "float64", "string": "string"}
_MAX_RANK = {"TRANSPOSE": 5, "STRIDED_SLICE": 5}


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


class TfliteMicroUnsupported(Rule):
    """## What it does
    For a `.tflite` file, reports what TensorFlow Lite Micro cannot run: builtins it has no kernel for
    (measured: CONV_3D, TOPK_V2, NON_MAX_SUPPRESSION, WHERE, SELECT, TILE, RANGE, POW, GELU, UNIQUE ...),
    tensors of types its kernels refuse (uint8, int64, float16: float16-weight models fail to allocate),
    int8 tensors into kernels that take float only (SQRT, EXP, LOG ...), float WHILE loops (invoke never
    returns), hybrid (dynamic-range) kernels, TRANSPOSE and STRIDED_SLICE above 5-D, and an int8 SOFTMAX
    whose input scale * beta * 2^26 is not above 1: micro's softmax needs a multiplier greater than one and
    aborts the program while preparing it (measured: the logits of an untrained classifier calibrate to a
    range of about 1e-6, as in Keras applications built with `weights=None`). Dynamic input shapes
    (`shape_signature` with -1) are noted: micro cannot resize, so it runs the stored size-1 dims.

    ## Why is this bad?
    `AllocateTensors()` or `Invoke()` fails on the microcontroller ("Didn't find op for builtin opcode",
    "Type INT64 not supported"), or the program aborts, after the model was flashed.

    ## Example
    A dynamic-range model (int8 weights, float activations) flashed to a Cortex-M board.

    ## How to fix
    Convert with the full-integer int8 settings, keep post-processing (top-k, NMS) in the application,
    fix the input shapes before converting, and cast through int32 instead of int64. Calibrate a softmax on
    trained weights with real inputs, or apply it in the application.
    """

    code = "GL604"
    name = "tflite-micro-unsupported"
    summary = "A .tflite op, type, rank or dynamic shape that TensorFlow Lite Micro cannot run"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"tflite"})
    targets = ("tflm",)
    example_format = "tflite"

    def check(self, model, ctx):
        if not ctx.wants("tflm"):
            return
        missing = support.micro_missing_builtins()
        float_only = support.micro_float_only_builtins()
        for node, attrs in model.ops():
            op, name = attrs["op"], attrs["name"]
            fix = Fix("Convert with the full-integer int8 settings and keep this op out of the model")
            tensors = [*model.inputs_of(node), *model.outputs_of(node)]
            bad_type = next((t for t in tensors if t.dtype in _TYPES), None)
            rank = max((t.rank or 0 for t in tensors), default=0)
            if op in missing:
                why = f"TFLite Micro has no {op} kernel (\"Didn't find op for builtin opcode '{op}'\")"
            elif attrs.get("custom"):
                continue  # GL603
            elif op == "WHILE" and any(t.dtype == "float32" for t in tensors):
                why = "TFLite Micro never returns from a float WHILE loop (measured: invoke hangs)"
            elif op in float_only and any(t.dtype == "int8" for t in tensors):
                why = f"TFLite Micro's {op} kernel takes float only and fails on int8 tensors (\"INT8 != FLOAT32\")"
            elif is_hybrid(model, node):
                why = "TFLite Micro has no hybrid (int8 weights, float activations) kernels"
            elif op == "SOFTMAX" and (multiplier := _softmax_multiplier(model, node)) is not None and multiplier <= 1:
                why = (f"TFLite Micro aborts while preparing this int8 SOFTMAX: input scale * beta * 2^26 = "
                       f"{multiplier:.3g}, and its kernel needs a multiplier above 1 (the logits were calibrated to "
                       "a range of about 1e-6 or less, as an untrained model gives)")
                fix = Fix("Calibrate on trained weights with real inputs, or apply the softmax in the application")
            elif op in _MAX_RANK and rank > _MAX_RANK[op]:
                why = f"TFLite Micro's {op} takes at most {_MAX_RANK[op]}-D tensors, this one is {rank}-D"
            elif bad_type is not None:
                why = f"TFLite Micro's kernels do not take {_TYPES[bad_type.dtype]} tensors like `{bad_type.name}`"
            else:
                continue
            yield self.report(model, node, f"`{name}` ({op}): {why}", fix=fix)
        for t in model.input_tensors():
            if t.shape_signature is not None and any(d is None for d in t.shape_signature):
                yield self.report(model, next(iter(t.consumers), None), f"Input `{t.name}` has a dynamic shape "
                                  f"{list(t.shape_signature)}: TFLite Micro cannot resize inputs and runs the stored "
                                  f"shape {list(t.shape)}", tensor=t, severity=Severity.INFO,
                                  fix=Fix("Fix the input shape before converting"))

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
