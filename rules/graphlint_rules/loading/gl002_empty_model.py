"""GL002 empty-model."""

from graphlint.engine.finding import Severity
from graphlint.engine.rule import Category, Rule


class EmptyModel(Rule):
    """## What it does
    Reports an empty file, a GraphDef with no nodes, or a TFLite model with no subgraphs.

    ## Why is this bad?
    There is nothing to convert. It usually means the graph was exported before it was built, or the
    wrong graph (an empty default graph) was serialized.

    ## Example
    `tf.io.write_graph(tf.compat.v1.GraphDef(), ".", "model.pb")`.

    ## How to fix
    Serialize the graph that holds the model (`sess.graph_def` inside the session that built it, or the
    frozen concrete function's `graph.as_graph_def()`).
    """

    code = "GL002"
    name = "empty-model"
    summary = "The model file is empty or holds no operations"
    category = Category.LOADING
    severity = Severity.ERROR
    engine_emitted = True
