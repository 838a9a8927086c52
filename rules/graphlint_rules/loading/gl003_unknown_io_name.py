"""GL003 unknown-io-name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder


class UnknownIoName(Rule):
    """## What it does
    Reports an `--input` or `--output` name that names no tensor in the graph, and suggests the closest
    names that exist.

    ## Why is this bad?
    `TFLiteConverter.from_frozen_graph(path, input_arrays, output_arrays)` refuses names that are not in
    the graph ("Invalid tensors ... were found"), one conversion attempt per typo. Names are easy to get
    wrong: the tensor `logits:0` belongs to the node `logits`, and a name scope adds a prefix.

    ## Example
    `graphlint check model.pb --output softmax` when the node is `Softmax`.

    ## How to fix
    Use a name from the report's `model.inputs` / `model.outputs`, or from `graphlint check --format json`
    with no `--output`, which lists the tensors nothing consumes.
    """

    code = "GL003"
    name = "unknown-io-name"
    summary = "An --input or --output name is not a tensor of the graph"
    category = Category.LOADING
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        names = None
        for kind, given, chosen in (("input", ctx.user_inputs, model.info.inputs),
                                    ("output", ctx.user_outputs, model.info.outputs)):
            for spec, tid in zip(given, chosen):
                tensor = model.tensors.get(tid)
                if tensor is not None and tensor.producer is not None:
                    continue
                if names is None:
                    names = sorted({a["name"] for _, a in model.nodes.items()
                                    if a["kind"] != "output" and a["subgraph"] == "main"})
                node_name = tid.rsplit(":", 1)[0]
                by_lower = {n.lower(): n for n in names}
                close = [by_lower[c] for c in difflib.get_close_matches(node_name.lower(), by_lower, n=3, cutoff=0.6)]
                hint = f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
                yield self.report(
                    model, None, f"--{kind} `{spec}` names no tensor of the graph{hint}", tensor=tid,
                    fix=Fix(f"Use an existing {kind} name" + (f" such as `{close[0]}`" if close else "")))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        b.op("Softmax", [x], name="Softmax")
        b.output("softmax")

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        b.op("Softmax", [x], name="Softmax")
        b.output("Softmax")
