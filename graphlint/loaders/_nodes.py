"""The node tables the loaders build, typed: which keys each format's node dicts have and what they hold.

:mod:`graphlint.ir` describes a node as a dict of attributes and types it ``dict[str, Any]``, which is how rules
read it. While a loader fills its table, these typed dicts hold it to that description; it hands the table to
:class:`~graphlint.ir.ModelGraph` as the IR types it.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from graphlint.ir import Shape

AttrValue = Any
"""One decoded attr of a node, as plain Python: a string, number or bool, a dtype name, a shape, a list of those,
or a small dict (a function's name, a tensor's dtype and shape). Which kind a key holds is the file's choice, and
readers take it as it comes (the shape rules catch what does not fit), so the kind is open."""

Attrs = dict[str, AttrValue]
"""A node's ``attrs``: attr name → decoded value."""


class TensorSummary(TypedDict):
    """A ``tensor`` attr: its dtype and shape, never its data (a Const's weights stay in the file)."""

    dtype: str | None
    shape: Shape


class GraphDefNode(TypedDict):
    """A node of a GraphDef's IR (a SavedModel's too, as it is read as one)."""

    kind: str  # op | input | const | output
    op: str
    family: str
    name: str
    attrs: Attrs
    subgraph: str  # "main", or the function whose body holds the node
    index: int
    device: str
    custom: bool
    calls: list[str]  # functions the node calls, sorted
    inputs: list[str]
    outputs: list[str]
    missing_control: NotRequired[list[str]]  # control inputs that name no node
    arg_dtype: NotRequired[str | None]  # a function argument's (``_Arg``) dtype


class TFLiteNode(TypedDict):
    """A node of a TFLite model's IR: an operator, or a subgraph's input, constant or output."""

    kind: str  # op | input | const | output
    op: str
    family: str
    name: str
    attrs: Attrs
    subgraph: int
    index: int
    calls: list[int]  # subgraphs the operator runs (WHILE, IF ...), sorted
    inputs: list[str | None]  # None: an optional input left out (a missing bias)
    outputs: list[str]
    version: NotRequired[int]  # operators only
    custom: NotRequired[bool]  # operators only
    in_dtype: NotRequired[str | None]  # operators only: the first input's dtype
