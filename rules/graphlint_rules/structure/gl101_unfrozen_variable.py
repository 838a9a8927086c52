"""GL101 unfrozen-variable."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp", "TemporaryVariable", "_VarHandlesOp"})


class UnfrozenVariable(Rule):
    """## What it does
    Reports variables left in a graph that should be frozen: `VariableV2` / `Variable` (reference
    variables) and `VarHandleOp` / `ReadVariableOp` (resource variables).

    ## Why is this bad?
    The converter reads only constants. TensorFlow 2.21's `from_frozen_graph` stops with
    "Please freeze the graph using freeze_graph.py." for both kinds. Older tools said
    "passed float from ... incompatible with expected float_ref" when a reference variable met an op
    that wanted its value.

    ## Example
    A graph written with `tf.io.write_graph(sess.graph_def, ...)` straight from the training session.

    ## How to fix
    Freeze the graph: `tf.compat.v1.graph_util.convert_variables_to_constants(sess, graph_def, outputs)`
    in TF1 code, or `convert_variables_to_constants_v2(concrete_function)` in TF2 code; or convert the
    SavedModel with `from_saved_model`.
    """

    code = "GL101"
    name = "unfrozen-variable"
    summary = "A variable was not frozen into a constant"
    category = Category.STRUCTURE
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        unrestored = set(model.info.unrestored_variables)  # a SavedModel's: GL105 reports them
        for node, attrs in model.ops():
            if attrs["op"] not in VARIABLE_OPS or node in unrestored:
                continue
            users = sorted({model.nodes[c]["op"] for t in model.outputs_of(node) for c in t.consumers})
            yield self.report(
                model, node, f"variable `{attrs['name']}` ({attrs['op']}) was not frozen into a constant; the "
                "converter stops with \"Please freeze the graph using freeze_graph.py.\"",
                fix=Fix("Freeze the graph with convert_variables_to_constants(_v2)"), data={"used_by": users})

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        w = b.node("VariableV2", name="w", attrs={"dtype": "float32", "shape": (4, 2)})
        b.output(b.op("MatMul", [x, w], name="y"))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        w = b.const([[1.0, 2.0]] * 4, name="w")
        b.output(b.op("MatMul", [x, w], name="y"))
