"""GL105 unrestored-variable."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.engine.targets import CALIBRATED_TARGETS, LITERT, REGISTRY
from graphlint.ops import reads_unset_variables

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

# Control flow whose called functions read a variable handle they are given (inside a loop body or a branch).
_CONTROL_FLOW = frozenset({"While", "StatelessWhile", "If", "StatelessIf"})
_NAMED = 5  # variables named in the message


class UnrestoredVariable(Rule):
    """## What it does
    Reports a SavedModel whose signature reads variables that its checkpoint never restores. A Keras 3 model
    written with `tf.saved_model.save` is one: its functions capture the layers' variables, while the saver it
    writes restores copies of them (`Variable`, `Variable_1`, ...). graphlint reads the values through the
    object graph, as `tf.saved_model.load` does; the converter restores the checkpoint through the saver and
    finds the captured variables never set.

    ## Why is this bad?
    TF 2.21's `from_saved_model` cannot freeze them and keeps them as resource variables with no value
    (`VAR_HANDLE` and `READ_VARIABLE` in the `.tflite`, no weights in the file). Measured:
    - float, dynamic and float16 convert and run, but LiteRT reads unset variables instead of the weights: a
      Keras MLP output NaN where TensorFlow gave numbers;
    - when a loop body or a branch reads them (a Keras RNN), invoking fails: "read_variable.cc:67 variable !=
      nullptr was not true";
    - int8, int8-fallback and int16x8 calibration fails with the same message, so there is no integer model
      and nothing for TFLite Micro to run.

    For a `.tflite` it reports what such a conversion left: `READ_VARIABLE` ops and no `ASSIGN_VARIABLE` to set
    what they read, a warning for the targets LiteRT runs.

    ## Example
    `tf.saved_model.save(keras_model, "saved")` with Keras 3, then `TFLiteConverter.from_saved_model("saved")`.

    ## How to fix
    Export the model with Keras 3's own `model.export("saved")` (its SavedModel restores the variables the
    functions read), or convert it with `TFLiteConverter.from_keras_model(model)` (measured: the weights are in
    the file and the outputs match TensorFlow's).
    """

    code = "GL105"
    name = "unrestored-variable"
    summary = "A SavedModel's signature reads variables its checkpoint never restores (Keras 3 tf.saved_model.save)"
    category = Category.STRUCTURE
    severity = Severity.ERROR
    formats = frozenset({"graphdef", "tflite"})
    example_format = "savedmodel"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if model.info.format == "tflite":
            yield from self._converted(model)
            return
        handles = [h for h in model.info.unrestored_variables if h in model.nodes]
        if not handles:
            return
        readers = [c for h in handles for t in model.outputs_of(h) for c in t.consumers]
        in_flow = sorted({model.nodes[c]["name"] for c in readers if model.nodes[c].get("op") in _CONTROL_FLOW})
        severity = {t: Severity.ERROR if t in CALIBRATED_TARGETS or in_flow else Severity.WARNING for t in ctx.targets}
        reads = [c for c in readers if model.nodes[c].get("op") == "ReadVariableOp"] or readers or handles
        names = [f"`{model.nodes[r]['name']}`" for r in reads]
        read_by = ", ".join(names[:_NAMED]) + (", ..." if len(names) > _NAMED else "")
        where = f"; `{in_flow[0]}` reads them inside its functions, so invoking fails" if in_flow else ""
        yield self.report(
            model, reads[0], f"the signature reads {len(handles)} variable(s) the SavedModel's checkpoint never "
            f"restores (read by {read_by}): the converter keeps them as resource variables with no value, so "
            "integer calibration fails (\"READ_VARIABLE ... variable != nullptr\") and a float model runs without "
            "its weights (NaN outputs)" + where,
            severity=Severity.WARNING if not any(s is Severity.ERROR for s in severity.values()) else None,
            target_severity=severity,
            fix=Fix("Export with Keras 3's model.export(path), or convert with TFLiteConverter.from_keras_model"),
            data={"variables": len(handles), "control_flow": in_flow})

    def _converted(self, model: ModelGraph) -> Iterator[Finding]:
        ops = [(node, attrs["op"]) for node, attrs in model.ops()]
        if not reads_unset_variables(op for _, op in ops):
            return
        reads = [node for node, op in ops if op == "READ_VARIABLE"]
        yield self.report(
            model, reads[0], f"the model reads resource variables {len(reads)} time(s) (READ_VARIABLE) and no op "
            "assigns them (no ASSIGN_VARIABLE): the converter kept variables it could not freeze and the file holds "
            "no values for them, so LiteRT computes with unset values, not weights",
            severity=Severity.WARNING, targets=[t for t, spec in REGISTRY.items() if LITERT in spec.runtimes],
            fix=Fix("Convert again from a SavedModel whose checkpoint restores the variables (Keras 3: "
                    "model.export), or with TFLiteConverter.from_keras_model"), data={"reads": len(reads)})

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        # the IR of such a SavedModel: the restored variables are constants, the unrestored ones handles
        x = b.placeholder("features", "float32", (1, 4))
        handle = b.node("VarHandleOp", name="var/dense/kernel", attrs={"dtype": "float32", "shape": (4, 2),
                                                                      "shared_name": "dense/kernel"})
        kernel = b.op("ReadVariableOp", [handle], name="dense/MatMul/ReadVariableOp", attrs={"dtype": "float32"})
        b.output(b.op("MatMul", [x, kernel], name="output_0"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("features", "float32", (1, 4))
        kernel = b.const([[0.5, -0.5]] * 4, name="dense/kernel")
        b.output(b.op("MatMul", [x, kernel], name="output_0"))
