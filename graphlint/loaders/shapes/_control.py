"""Control flow, variables and multi-output plumbing."""

from __future__ import annotations

from graphlint.ir import Shape

from ._table import Node, rule


@rule("Merge")
def merge(node: Node) -> list[Shape]:
    """The data, and the index of the input that arrived (a scalar)."""
    return [node.shapes[0], ()]


@rule("IdentityN")
def identity_n(node: Node) -> list[Shape]:
    """Output i is input i (e.g. the custom gradient of Keras' swish)."""
    return list(node.shapes)


@rule("While", "StatelessWhile", "If", "StatelessIf")
def functional_control_flow(node: Node) -> list[Shape] | None:
    """The shapes TensorFlow recorded from the function bodies, when it did."""
    shapes = node.attrs.get("output_shapes")
    return list(shapes) if shapes else None


@rule("VariableV2", "Variable", "PlaceholderV2")
def declared(node: Node) -> Shape:
    return node.attrs.get("shape")
