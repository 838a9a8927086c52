"""GL001 unreadable-model."""

from graphlint.engine.finding import Severity
from graphlint.engine.rule import Category, Rule


class UnreadableModel(Rule):
    """## What it does
    Reports a file that is not a model graphlint can read: truncated or corrupt, random bytes, a text file
    that is not a GraphDef, a directory, a missing path, or another format (SavedModel, ONNX, Keras HDF5).

    ## Why is this bad?
    The converter would fail on it too, usually with a less helpful message ("Error parsing message",
    "Unable to open file"). Nothing else can be checked until the file loads.

    ## Example
    A `.pb` that was cut short by an interrupted download or copy.

    ## How to fix
    Re-export the model: freeze the graph (`convert_variables_to_constants_v2`) and write the `.pb` with
    `tf.io.write_graph(graph_def, dir, name, as_text=False)`, or write the `.tflite` the converter returns.
    For a SavedModel directory, convert it with `TFLiteConverter.from_saved_model`.

    ## Known limitations
    The format is sniffed from the content: a TFLite file is recognised by its `TFL3` identifier, text by
    its first bytes; anything else is read as a binary GraphDef.
    """

    code = "GL001"
    name = "unreadable-model"
    summary = "The file cannot be read as a frozen GraphDef or a TFLite model"
    category = Category.LOADING
    severity = Severity.ERROR
    engine_emitted = True
