"""GL004 outputs-inferred."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder


class OutputsInferred(Rule):
    """## What it does
    Tells which tensors graphlint took as the model's outputs when no `--output` was given: the tensors of
    the main graph that no op consumes.

    ## Why is this bad?
    A frozen GraphDef does not record its outputs, and `from_frozen_graph` needs them. A graph with
    leftover branches (summaries, loss, metrics) has more dangling tensors than real outputs, and converting
    all of them drags those branches into the `.tflite`.

    ## Example
    A classifier whose graph still holds a `loss` subgraph: both `Softmax` and `loss/Mean` dangle.

    ## How to fix
    Pass the real outputs: `graphlint check model.pb --output Softmax`, and the same names to the
    converter's `output_arrays`.
    """

    code = "GL004"
    name = "outputs-inferred"
    summary = "No outputs were given; graphlint used the tensors nothing consumes"
    category = Category.LOADING
    severity = Severity.INFO
    formats = frozenset({"graphdef"})

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not model.info.outputs_inferred:
            return
        names = [model.tensors[t].name for t in model.info.outputs]
        shown = ", ".join(f"`{n}`" for n in names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        if not names:
            message = "no --output was given and every tensor is consumed; pass the outputs explicitly"
        else:
            message = f"no --output was given; checking with the {len(names)} unconsumed tensor(s) {shown}"
        yield self.report(model, None, message, data={"outputs": names},
                          fix=Fix("Pass the real outputs with --output" + (f" {names[0]}" if names else "")))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        b.op("Softmax", [x], name="probs")
        b.op("Sum", [x, b.const([1], dtype="int32")], name="loss", attrs={"Tidx": "int32"})

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        b.output(b.op("Softmax", [x], name="probs"))
