"""The fix engine: applies the graph edits that rules attach to findings, to a GraphDef, without TensorFlow.

``fix_graph(data, ...)`` lints, applies the allowed fixes' edits (one handler per kind of
:data:`graphlint.engine.edits.KINDS`, in :mod:`graphlint.fix.handlers`), re-lints until stable within a bounded
number of passes, validates the result and returns a :class:`FixResult` with the fixed GraphDef.
"""

from .engine import MAX_PASSES, FixResult, fix_graph, graph_diff
from .graph import FixError, Graph
from .handlers import HANDLERS, Context

__all__ = ["HANDLERS", "MAX_PASSES", "Context", "FixError", "FixResult", "Graph", "fix_graph", "graph_diff"]
