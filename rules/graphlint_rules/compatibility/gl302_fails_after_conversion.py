"""GL302 fails-after-conversion."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Applicability, Category, Edit, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.engine.targets import CONVERTER_TARGETS
from graphlint_rules import support
from graphlint_rules.loops import FREE_BATCH_LIST_CASE, UNSHAPED_LIST_CASE, UNSWITCHED_CASE
from graphlint_rules.patterns import PER_CHANNEL_MATMUL_CASES
from graphlint_rules.table import saved_model_twin

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

_KINDS = (support.RUNTIME, support.CONVERT, support.CALIBRATION)
# When the int8 conversion itself fails, TFLite Micro (which runs the int8 model) has nothing to run.
_NO_INT8_MODEL = (support.CONVERT, support.CALIBRATION)
# Cases the converter fails because of the graph's FakeQuant ranges: without them int8 calibrates the graph itself.
_FAKE_QUANT_CASES = frozenset({"fake_quant_conv_weights", "fake_quant_concat_ranged_inputs",
                               "fake_quant_max_pool_ranged_input", "fake_quant_avg_pool_ranged_input"})


def _per_channel_matmul(case_id: str) -> bool:
    """Per-channel fake-quant weights of a matmul, measured on either converter path."""
    return any(case_id in (c, saved_model_twin(c)) for c in PER_CHANNEL_MATMUL_CASES.values())


class FailsAfterConversion(Rule):
    """## What it does
    Reports ops that the TF 2.21 converter accepts for a target but that fail later, or that fail that
    target's conversion for a reason other than a missing builtin, as measured: the LiteRT interpreter
    refuses the written model at `allocate_tensors` or `invoke`, or calibration cannot finish. Measured
    examples:
    - int16x8 SQUARED_DIFFERENCE (training-mode batch norm, `moments`, instance norm): "SquaredDifference
      only supports FLOAT32 and INT32 now, got 7" at invoke;
    - uint8 ABS, SQRT, RSQRT, LOG, EXP, REDUCE_PROD, BATCH_MATMUL: "Type UINT8 is unsupported" at prepare;
    - int8 and int8-fallback with per-channel fake-quant weights (QAT graphs converted with a
      representative dataset): "CONV_2D ... failed to prepare";
    - int8 and int8-fallback of a QAT graph where every operand of a concat, max pool or average pool has a
      FakeQuant range: "'tfl.concatenation' op quantization parameters violate the same scale constraint"
      (calibration gives the result a scale of its own); TFLite Micro then has no int8 model to run;
    - every quantizing target of a SavedModel whose MatMul weights are fake-quantized per channel:
      "'tfl.transpose' op has mismatched quantized axes of input and output" (`from_saved_model` transposes
      them to FULLY_CONNECTED's (out, in) layout and leaves the quantization axis behind), or at prepare
      "quantized_dimension != 0" when they are already stored (out, in); frozen, the legacy uint8 path fails
      the same way;
    - dynamic-range conversion of `QuantizeAndDequantizeV4` graphs: "conv.cc output->type != input_type";
    - while loops under int16x8: "Max and min for dynamic tensors should be recorded during calibration".
    - every target of a `tf.map_fn` or a `tf.TensorArray` without an element shape in a `tf.function` frozen
      the TF2 way (control flow lowered into v1 frames): "'tf.TensorListReserve' op requires element_shape to
      be 1D tensor"; the same loop kept functional converts.
    - every target of a v1 loop frame with a loop variable whose `Merge` feeds no `Switch` on the frame's
      `LoopCond` (TF2's lowering of `tf.image.non_max_suppression_padded`'s nested loops writes one): the
      converter's loop functionalization stops with "Missing Switch successor to ..."; frozen with
      `lower_control_flow=False`, the same model converts.
    - every target of a SavedModel's functional `While` fed a `TensorList` whose element shape leaves the
      batch free (a Keras LSTM or GRU exported with a `None` batch, a `tf.TensorArray` of `(None, n)` rows):
      "'tf.TensorListReserve' op requires element_shape to be static"; saved with a batch of 1, the same
      loop converts.

    ## Why is this bad?
    The conversion "succeeds" (or fails late, after minutes of calibration), and the model dies on the
    device instead of in CI.

    ## Fix safety
    The SquaredDifference rewrite computes the same values and is safe. Dropping fake-quant nodes from a
    QAT graph before calibrated conversion is unsafe: the trained ranges are replaced by calibrated ones.

    ## Example
    `tf.nn.moments` (SquaredDifference) in an instance-norm block converted for int16x8.

    ## How to fix
    Rewrite the pattern into ops the target's kernels accept (e.g. `(x - mean) * (x - mean)` instead of
    SquaredDifference), strip fake-quant nodes before calibrated conversion, or pick another target for
    this model.
    """

    code = "GL302"
    name = "fails-after-conversion"
    summary = "The target converts the op but its interpreter refuses the model, or calibration fails (measured)"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})
    fix_availability = "sometimes"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        for s in analysis.support.values():
            if s.kind("float") == support.NO_BUILTIN:
                continue  # GL301
            targets = [t for t in CONVERTER_TARGETS if s.kind(t) in _KINDS]
            if s.kind("int8") in _NO_INT8_MODEL:
                targets.append("tflm")
            if not targets:
                continue
            name = model.nodes[s.node]["name"]
            errors = dict.fromkeys(s.outcomes[t].error for t in targets if s.outcomes[t].error)
            said = "; ".join(f"\"{e}\"" for e in errors)
            if s.op == "SquaredDifference":
                fix = Fix(f"Rewrite `{name}` as Sub then Mul", Applicability.SAFE,
                          (Edit.of("squared-difference", s.node),))
            elif s.case == UNSHAPED_LIST_CASE:
                fix = Fix("Give the TensorArray its element shape (`tf.TensorArray(..., element_shape=...)`; for "
                          "`tf.map_fn`, an `fn_output_signature` with the full shape), or freeze without lowering "
                          "control flow (`lower_control_flow=False`), where the converter infers it")
            elif s.case == UNSWITCHED_CASE:
                fix = Fix("Freeze without lowering control flow (`convert_variables_to_constants_v2(..., "
                          "lower_control_flow=False)`): the converter then reads the functional While loops "
                          "as they are")
            elif s.case == FREE_BATCH_LIST_CASE:
                fix = Fix("Save the serving signature with a fixed batch dimension (a `tf.TensorSpec` of batch 1 in "
                          "the `tf.function`'s input signature), so the loop's lists get a static element shape")
            elif _per_channel_matmul(s.case):
                fix = Fix("Fake-quantize the MatMul's weights per tensor (`fake_quant_with_min_max_vars`): "
                          "FULLY_CONNECTED keeps per-channel weights only along its output channels, and the "
                          "converter's transpose of (in, out) weights does not carry their channel axis over")
            elif s.case in _FAKE_QUANT_CASES:
                fix = Fix("Drop the FakeQuant nodes and let the converter calibrate", Applicability.UNSAFE,
                          (Edit.of("drop-fake-quant"),))
            else:
                fix = Fix(f"Rewrite `{name}` into ops the target's kernels accept, or drop the target")
            yield self.report(
                model, s.node, f"`{name}` ({s.op}) fails under {', '.join(targets)}"
                + (f": {said}" if said else ""), targets=targets, data={"case": s.case}, fix=fix)

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        y = b.placeholder("y", "float32", (1, 8))
        b.output(b.op("SquaredDifference", [x, y], name="d"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 8))
        y = b.placeholder("y", "float32", (1, 8))
        d = b.op("Sub", [x, y], name="d")
        b.output(b.op("Mul", [d, d], name="d2"))
