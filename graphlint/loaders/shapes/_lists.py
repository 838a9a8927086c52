"""TensorList ops (what TensorArray and Keras' recurrent layers lower to): a list is a scalar variant; reading
one element, or stacking them all, gives the element shape its ``element_shape`` operand holds."""

from __future__ import annotations

from graphlint.ir import Shape

from ._table import Node, rule, shape_operand


@rule("TensorListReserve", "EmptyTensorList", "TensorListFromTensor", "TensorListSetItem", "TensorListPushBack",
      "TensorListLength")
def list_handle(node: Node) -> Shape:
    return ()


@rule("TensorListGetItem")
def list_get_item(node: Node) -> Shape:
    return shape_operand(node, 2)


@rule("TensorListStack")
def list_stack(node: Node) -> Shape:
    element = shape_operand(node, 1)
    if element is None:
        return None
    count = node.attrs.get("num_elements", -1)
    return (count if isinstance(count, int) and count >= 0 else None, *element)
