"""GL005 model-over-budget."""

from graphlint.engine.finding import Severity
from graphlint.engine.rule import Category, Rule


class ModelOverBudget(Rule):
    """## What it does
    Reports a model that is larger than a per-model budget allows, instead of spending unbounded time or
    memory on it; the finding is fatal. The model has more nodes than `--max-nodes` allows (250,000 by
    default; GraphDef NodeDefs, function bodies included; TFLite operators plus tensors), or linting it ran
    out of the memory `--max-memory` allows (4096 MB by default for `graphlint check`).

    A third budget never stops a lint: one rule lists at most 1,000 findings (`--max-findings`); the rest
    become one summary finding of that rule (no node, `data.omitted` = their count) with their worst
    severity per target, so the verdicts do not change.

    ## Why is this bad?
    A few megabytes can describe millions of nodes. Linting a chain of a million nodes took 46 s and 7 GB;
    a model of 100,000 unfrozen variables gave 100,001 findings that no one reads one by one, and made every
    report format slow to render. A budget turns that into one clear message.

    ## Example
    A 30 MB frozen graph holding a chain of 1,000,000 `Identity` nodes: `graphlint check` stops with
    `model over budget: 1,000,000 nodes, more than the 250,000 allowed (raise it with --max-nodes)`.

    ## How to fix
    When the model really is that large, raise the budget it names: `--max-nodes 2000000`,
    `--max-memory 16384` (MB; 0 for no limit) or `--max-findings 100000`. Otherwise the file is not the model
    you meant to check: export the inference graph only (strip training and unrolled debug subgraphs).

    ## Known limitations
    The node count of a text GraphDef is known only after parsing it, which is bounded by the 512 MB limit
    on text files.
    """

    code = "GL005"
    name = "model-over-budget"
    summary = "The model is larger than a per-model budget (nodes, memory) allows"
    category = Category.LOADING
    severity = Severity.ERROR
    engine_emitted = True
