"""GL102 training-op."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Applicability, Category, Edit, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.ops import is_training_op
from graphlint_rules.structure.gl101_unfrozen_variable import VARIABLE_OPS

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder


class TrainingOp(Rule):
    """## What it does
    Reports training leftovers in an inference graph: optimizer updates (`ApplyAdam`,
    `ResourceApplyGradientDescent`, ...), assignments (`Assign`, `AssignAdd`), checkpoint I/O (`SaveV2`,
    `RestoreV2`), gradient ops (`*Grad`) and loss ops.

    ## Why is this bad?
    The converter cannot express them. TOCO said "Training op found in graph, exiting {'ApplyAdam'}";
    TensorFlow 2.21 stops while importing the graph, with messages such as "Input 0 of node
    Adam/update_v/ResourceApplyAdam was passed float from v:0 incompatible with expected resource" (or
    "... expected float_ref" for reference variables), because freezing turned the variables these ops
    update into constants.

    ## Example
    A graph frozen with the train op among the output names (`[logits, train_op]`).

    ## How to fix
    Freeze with only the inference outputs as `output_node_names`, or strip the training branch with
    `tf.compat.v1.graph_util.extract_sub_graph(graph_def, outputs)`, which keeps only what the outputs
    depend on. `graphlint fix` does the latter.

    ## Fix safety
    Pruning what no output depends on keeps the outputs' values: safe.
    """

    code = "GL102"
    name = "training-op"
    summary = "A training op (optimizer update, assignment, checkpoint I/O, gradient) is in the graph"
    category = Category.STRUCTURE
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})
    fix_availability = "always"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        for node, attrs in model.ops():
            if attrs["subgraph"] != "main" or not is_training_op(attrs["op"]):
                continue
            if any(model.nodes[t.producer]["op"] in VARIABLE_OPS for t in model.inputs_of(node) if t.producer):
                continue  # initializing or updating a live variable: reported once, on the variable (GL101)
            yield self.report(
                model, node, f"`{attrs['name']}` ({attrs['op']}) is a training op; the converter cannot express "
                "it and stops while importing the graph",
                fix=Fix(f"Remove the training branch that holds `{attrs['name']}`", Applicability.SAFE,
                        (Edit.of("prune"),)))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        w = b.const([[1.0, 2.0]] * 4, name="w")
        y = b.op("MatMul", [x, w], name="y")
        lr = b.const(0.1, name="lr")
        b.op("ApplyGradientDescent", [w, lr, y], name="update")
        b.output(y)

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        w = b.const([[1.0, 2.0]] * 4, name="w")
        b.output(b.op("MatMul", [x, w], name="y"))
