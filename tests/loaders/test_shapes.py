"""Static shape propagation: rule by rule on graphs built in code, then against TensorFlow's own shapes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphlint.loaders import load
from graphlint.loaders.shapes import RULES
from graphlint.loaders.shapes._table import rule
from graphlint.testing import DType, GraphBuilder

from ._ir import shape_of

NHWC = (1, 9, 11, 3)
NCHW = (1, 3, 9, 11)


def _conv(op="Conv2D", x=NHWC, k=(3, 3, 3, 4), **attrs):
    def build(b: GraphBuilder) -> str:
        attrs.setdefault("strides", [1, 1, 1, 1])
        attrs.setdefault("padding", "SAME")
        return b.op(op, [b.placeholder("x", "float32", x), b.const(_zeros(k), name="k")], name="y", attrs=attrs)
    return build


def _pool(op="MaxPool", x=NHWC, **attrs):
    return lambda b: b.op(op, [b.placeholder("x", "float32", x)], name="y", attrs=attrs)


def _zeros(shape):
    import numpy as np

    return np.zeros(shape, dtype=np.float32)


def _with_const(op, x, value, dtype="int32", xdtype="float32", **attrs):
    """``op(x, const)``: the second operand (shape, perm, axes, paddings ...) is a constant."""
    return lambda b: b.op(op, [b.placeholder("x", xdtype, x), b.const(value, name="c", dtype=dtype)], name="y",
                          dtype=xdtype, attrs=attrs)


def _binary(op, a, b_shape, **attrs):
    return lambda b: b.op(op, [b.placeholder("a", "float32", a), b.placeholder("b", "float32", b_shape)], name="y",
                          attrs=attrs)


def _concat(*shapes, axis):
    return lambda b: b.op("ConcatV2", [*(b.placeholder(f"x{i}", "float32", shape) for i, shape in enumerate(shapes)),
                                       b.const(axis, name="axis", dtype="int32")], name="y",
                          attrs={"N": len(shapes), "Tidx": "int32"})


def _strided(x, begin, end, strides, **masks):
    return lambda b: b.op("StridedSlice", [
        b.placeholder("x", "float32", x), b.const(begin, name="begin", dtype="int32"),
        b.const(end, name="end", dtype="int32"), b.const(strides, name="strides", dtype="int32")],
        name="y", attrs={"Index": "int32", **masks})


def _reshape_to_batch(x):
    """``tf.reshape(x, tf.stack([tf.shape(x)[0], -1]))``."""
    def build(b: GraphBuilder) -> str:
        x_ = b.placeholder("x", "float32", x)
        shape = b.op("Shape", [x_], name="shape", attrs={"out_type": "int32"})
        batch = b.op("StridedSlice", [shape, *(b.const([v], name=n, dtype="int32") for v, n in (
            (0, "begin"), (1, "end"), (1, "strides")))], name="batch", dtype="int32",
            attrs={"Index": "int32", "shrink_axis_mask": 1})
        target = b.op("Pack", [batch, b.const(-1, name="rest", dtype="int32")], name="target", dtype="int32",
                      attrs={"N": 2, "axis": 0})
        return b.op("Reshape", [x_, target], name="y", attrs={"Tshape": "int32"})
    return build


CASES = {
    # Convolution: SAME / VALID / EXPLICIT, strides, dilations, NHWC and NCHW.
    "conv_same": (_conv(), (1, 9, 11, 4)),
    "conv_same_stride2": (_conv(strides=[1, 2, 2, 1]), (1, 5, 6, 4)),
    "conv_valid": (_conv(padding="VALID"), (1, 7, 9, 4)),
    "conv_valid_stride2": (_conv(padding="VALID", strides=[1, 2, 2, 1]), (1, 4, 5, 4)),
    "conv_valid_dilation2": (_conv(padding="VALID", dilations=[1, 2, 2, 1]), (1, 5, 7, 4)),
    "conv_same_dilation2": (_conv(dilations=[1, 2, 2, 1]), (1, 9, 11, 4)),
    "conv_explicit": (_conv(padding="EXPLICIT", strides=[1, 2, 1, 1],
                            explicit_paddings=[0, 0, 1, 2, 0, 1, 0, 0]), (1, 5, 10, 4)),
    "conv_nchw_valid": (_conv(x=NCHW, k=(2, 2, 3, 5), padding="VALID", strides=[1, 1, 2, 2], data_format="NCHW"),
                        (1, 5, 4, 5)),
    "conv_nchw_same": (_conv(x=NCHW, strides=[1, 1, 2, 2], data_format="NCHW"), (1, 4, 5, 6)),
    "conv_unknown_dims": (_conv(x=(None, None, 11, 3)), (None, None, 11, 4)),
    "conv_unknown_rank": (_conv(x=None), None),
    "depthwise_same": (_conv("DepthwiseConv2dNative", k=(3, 3, 3, 2)), (1, 9, 11, 6)),
    "depthwise_valid_stride2": (_conv("DepthwiseConv2dNative", k=(2, 2, 3, 3), padding="VALID",
                                      strides=[1, 2, 2, 1]), (1, 4, 5, 9)),
    "depthwise_nchw": (_conv("DepthwiseConv2dNative", x=NCHW, k=(3, 3, 3, 1), padding="VALID",
                             data_format="NCHW"), (1, 3, 7, 9)),
    # Pooling.
    "maxpool_valid": (_pool(ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID"), (1, 4, 5, 3)),
    "avgpool_same": (_pool("AvgPool", ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME"), (1, 5, 6, 3)),
    "maxpool_nchw": (_pool(x=NCHW, ksize=[1, 1, 2, 2], strides=[1, 1, 2, 2], padding="VALID", data_format="NCHW"),
                     (1, 3, 4, 5)),
    # Matrix products.
    "matmul": (_binary("MatMul", (5, 3), (3, 6)), (5, 6)),
    "matmul_transpose_a": (_binary("MatMul", (3, 5), (3, 6), transpose_a=True), (5, 6)),
    "matmul_transpose_b": (_binary("MatMul", (5, 3), (6, 3), transpose_b=True), (5, 6)),
    "matmul_transpose_both": (_binary("MatMul", (3, 5), (6, 3), transpose_a=True, transpose_b=True), (5, 6)),
    "matmul_unknown_batch": (_binary("MatMul", (None, 3), (3, 6)), (None, 6)),
    "batch_matmul_broadcast": (_binary("BatchMatMulV2", (2, 1, 5, 3), (4, 3, 6)), (2, 4, 5, 6)),
    "batch_matmul_adjoint": (_binary("BatchMatMulV2", (2, 3, 5), (2, 6, 3), adj_x=True, adj_y=True), (2, 5, 6)),
    # Broadcasting elementwise ops.
    "add_broadcast": (_binary("AddV2", (2, 9, 11, 3), (11, 1)), (2, 9, 11, 3)),
    "mul_both_sides": (_binary("Mul", (2, 1, 3), (4, 1)), (2, 4, 3)),
    "sub_scalar": (lambda b: b.op("Sub", [b.const(2.0, name="two"), b.placeholder("x", "float32", (4, 5))],
                                  name="y"), (4, 5)),
    "add_unknown_dim_meets_known": (_binary("AddV2", (None, 3), (5, 1)), (5, 3)),
    "add_unknown_dim_meets_one": (_binary("AddV2", (None, 3), (1, 3)), (None, 3)),
    "add_unknown_rank": (_binary("AddV2", None, (1, 3)), None),
    "add_incompatible_stays_unknown": (_binary("AddV2", (2, 3), (4, 3)), None),
    "greater_broadcast": (_binary("Greater", (4, 1), (1, 5)), (4, 5)),
    # Reshape.
    "reshape": (_with_const("Reshape", NHWC, [11, 27]), (11, 27)),
    "reshape_minus1": (_with_const("Reshape", (2, 9, 11, 3), [2, -1, 3]), (2, 99, 3)),
    "reshape_flat": (_with_const("Reshape", (2, 9, 11, 3), [-1]), (594,)),
    "reshape_minus1_unknown_input_dim": (_with_const("Reshape", (None, 4), [-1, 2]), (None, 2)),
    # Transpose, concat, pad.
    "transpose": (_with_const("Transpose", (2, 9, 11, 3), [3, 0, 2, 1]), (3, 2, 11, 9)),
    "transpose_unknown_dim": (_with_const("Transpose", (None, 4), [1, 0]), (4, None)),
    "concat_last_axis": (_concat((2, 9, 11, 3), (2, 9, 11, 5), axis=-1), (2, 9, 11, 8)),
    "concat_axis1": (_concat((2, 9, 11, 3), (2, 4, 11, 3), axis=1), (2, 13, 11, 3)),
    "concat_unknown_dim_on_axis": (_concat((2, None, 3), (2, 4, 3), axis=1), (2, None, 3)),
    "concat_unknown_dim_elsewhere": (_concat((None, 4, 3), (2, 4, 3), axis=1), (2, 8, 3)),
    "concat_runtime_axis": (lambda b: b.op("ConcatV2", [b.placeholder("a", "float32", (2, 3)),
                                                        b.placeholder("b", "float32", (2, 3)),
                                                        b.placeholder("axis", "int32", ())], name="y",
                                           attrs={"N": 2, "Tidx": "int32"}), (None, None)),
    "pad": (_with_const("Pad", (2, 9, 11, 3), [[0, 0], [1, 1], [2, 0], [0, 0]]), (2, 11, 13, 3)),
    "mirror_pad": (_with_const("MirrorPad", (2, 9, 11, 3), [[0, 0], [1, 1], [2, 1], [0, 0]], mode="REFLECT"),
                   (2, 11, 14, 3)),
    # Reductions.
    "mean_keep_dims": (_with_const("Mean", (2, 9, 11, 3), [1, 2], keep_dims=True), (2, 1, 1, 3)),
    "mean_drop_dims": (_with_const("Mean", (2, 9, 11, 3), [1, 2]), (2, 3)),
    "sum_scalar_negative_axis": (_with_const("Sum", (2, 9, 11, 3), -1), (2, 9, 11)),
    "max_two_axes": (_with_const("Max", (2, 9, 11, 3), [0, 3], keep_dims=False), (9, 11)),
    "min_keep_negative_axis": (_with_const("Min", (2, 9, 11, 3), [-1], keep_dims=True), (2, 9, 11, 1)),
    "argmax": (_with_const("ArgMax", (2, 9, 11, 3), -1, output_type="int64"), (2, 9, 11)),
    # Resize.
    "resize_bilinear": (_with_const("ResizeBilinear", (2, 9, 11, 3), [18, 22]), (2, 18, 22, 3)),
    "resize_nearest": (_with_const("ResizeNearestNeighbor", (2, 9, 11, 3), [4, 5]), (2, 4, 5, 3)),
    # Squeeze and ExpandDims.
    "squeeze_dims": (lambda b: b.op("Squeeze", [b.placeholder("x", "float32", (2, 1, 1, 3))], name="y",
                                    attrs={"squeeze_dims": [1, 2]}), (2, 3)),
    "squeeze_negative_dim": (lambda b: b.op("Squeeze", [b.placeholder("x", "float32", (2, 3, 1))], name="y",
                                            attrs={"squeeze_dims": [-1]}), (2, 3)),
    "squeeze_all": (lambda b: b.op("Squeeze", [b.placeholder("x", "float32", (2, 1, 1, 3))], name="y"), (2, 3)),
    "squeeze_all_unknown_dim": (lambda b: b.op("Squeeze", [b.placeholder("x", "float32", (2, None, 3))],
                                               name="y"), None),
    "expand_dims": (_with_const("ExpandDims", (2, 9, 11, 3), 1), (2, 1, 9, 11, 3)),
    "expand_dims_negative": (_with_const("ExpandDims", (5, 3), -1), (5, 3, 1)),
    "expand_dims_vector_axis": (_with_const("ExpandDims", (5, 3), [0]), (1, 5, 3)),
    # Strided slice: begin/end/shrink masks and negative strides.
    "strided_slice": (_strided((2, 9, 11, 3), [0, 1, 0, 0], [2, 8, 11, 1], [1, 2, -1, 1], begin_mask=0b0100,
                               end_mask=0b0100, shrink_axis_mask=0b1000), (2, 4, 11)),
    "strided_slice_shrink_first": (_strided((2, 9, 11, 3), [1], [2], [1], shrink_axis_mask=1), (9, 11, 3)),
    "strided_slice_negative_bounds": (_strided((10, 4), [-3, 0], [-1, 4], [1, 1]), (2, 4)),
    "strided_slice_masks": (_strided((10, 4), [5, 1], [7, 3], [1, 1], begin_mask=1, end_mask=2), (7, 3)),
    "strided_slice_empty": (_strided((10, 4), [5, 0], [2, 4], [1, 1]), (0, 4)),
    "strided_slice_ellipsis": (_strided((2, 9, 11, 3), [0, 1], [1, 2], [1, 1], ellipsis_mask=1), (2, 9, 11, 1)),
    "strided_slice_new_axis": (_strided((2, 9), [0, 0], [1, 2], [1, 1], new_axis_mask=1), (1, 2, 9)),
    # A few more ops with simple rules.
    "slice": (lambda b: b.op("Slice", [b.placeholder("x", "float32", (2, 9, 11, 3)),
                                       b.const([0, 1, 2, 0], name="begin", dtype="int32"),
                                       b.const([-1, 3, 4, -1], name="size", dtype="int32")], name="y"),
              (2, 3, 4, 3)),
    "tile": (_with_const("Tile", (5, 3), [2, 3]), (10, 9)),
    "relu": (lambda b: b.op("Relu", [b.placeholder("x", "float32", (2, None, 3))], name="y"), (2, None, 3)),
    "shape": (lambda b: b.op("Shape", [b.placeholder("x", "float32", (2, None, 3))], name="y",
                             attrs={"out_type": "int32"}), (3,)),
    "space_to_depth": (lambda b: b.op("SpaceToDepth", [b.placeholder("x", "float32", (2, 8, 10, 3))], name="y",
                                      attrs={"block_size": 2}), (2, 4, 5, 12)),
    "identity_n": (lambda b: b.op("IdentityN", [b.placeholder("x", "float32", (2, 5)),
                                                b.placeholder("z", "float32", (3,))], name="y",
                                  attrs={"T": ["float32", "float32"]}), (2, 5)),
    "gather_v2": (lambda b: b.op("GatherV2", [b.placeholder("x", "float32", (10, 4, 3)),
                                              b.placeholder("i", "int32", (2, 7)),
                                              b.const(1, name="axis", dtype="int32")], name="y"), (10, 2, 7, 3)),
    "gather_v2_batch_dims": (lambda b: b.op("GatherV2", [b.placeholder("x", "float32", (2, 4, 3)),
                                                         b.placeholder("i", "int32", (2, 5)),
                                                         b.const(1, name="axis", dtype="int32")], name="y",
                                            attrs={"batch_dims": 1}), (2, 5, 3)),
    "split_v_remainder": (lambda b: b.op("SplitV", [b.placeholder("x", "float32", (2, 10)),
                                                    b.const([3, -1], name="sizes", dtype="int32"),
                                                    b.const(1, name="axis", dtype="int32")], name="y",
                                         attrs={"num_split": 2}), (2, 3)),
    "top_k": (lambda b: b.op("TopKV2", [b.placeholder("x", "float32", (2, 10)), b.const(3, name="k", dtype="int32")],
                             name="y"), (2, 3)),
    "transposed_conv": (lambda b: b.op("Conv2DBackpropInput", [
        b.const([1, 16, 16, 4], name="sizes", dtype="int32"), b.const(_zeros((3, 3, 4, 8)), name="k"),
        b.placeholder("x", "float32", (1, 8, 8, 8))], name="y", attrs={"strides": [1, 2, 2, 1], "padding": "SAME"}),
        (1, 16, 16, 4)),
    "space_to_batch_nd": (lambda b: b.op("SpaceToBatchND", [
        b.placeholder("x", "float32", (1, 9, 9, 3)), b.const([2, 2], name="block", dtype="int32"),
        b.const([[1, 2], [1, 2]], name="pads", dtype="int32")], name="y"), (4, 6, 6, 3)),
    "batch_to_space_nd": (lambda b: b.op("BatchToSpaceND", [
        b.placeholder("x", "float32", (4, 6, 6, 3)), b.const([2, 2], name="block", dtype="int32"),
        b.const([[1, 2], [1, 2]], name="crops", dtype="int32")], name="y"), (1, 9, 9, 3)),
    # Ops that Keras and tf.function graphs use (each also checked against TensorFlow in the zoo graph).
    "strided_slice_ellipsis_shrink": (_strided((2, 9, 11, 3), [0, 0], [0, 0], [1, 1], ellipsis_mask=1,
                                               shrink_axis_mask=2), (2, 9, 11)),
    "einsum": (lambda b: b.op("Einsum", [b.placeholder("a", "float32", (2, 5, 3)),
                                         b.placeholder("b", "float32", (3, 4))], name="y",
                              attrs={"equation": "bij,jk->bik", "N": 2}), (2, 5, 4)),
    "einsum_ellipsis": (lambda b: b.op("Einsum", [b.placeholder("a", "float32", (2, 9, 11, 3)),
                                                  b.placeholder("b", "float32", (3, 5))], name="y",
                                       attrs={"equation": "...ij,jk->...ki", "N": 2}), (2, 9, 5, 11)),
    "conv3d": (_conv("Conv3D", x=(1, 5, 9, 11, 3), k=(2, 3, 3, 3, 4), strides=[1, 1, 2, 2, 1]), (1, 5, 5, 6, 4)),
    "maxpool3d": (_pool("MaxPool3D", x=(1, 5, 9, 11, 3), ksize=[1, 2, 2, 2, 1], strides=[1, 2, 2, 2, 1],
                        padding="VALID"), (1, 2, 4, 5, 3)),
    "range": (lambda b: b.op("Range", [b.const(2, name="start", dtype="int32"),
                                       b.const(11, name="limit", dtype="int32"),
                                       b.const(3, name="delta", dtype="int32")], name="y", dtype="int32",
                             attrs={"Tidx": "int32"}), (3,)),
    "one_hot": (lambda b: b.op("OneHot", [b.placeholder("i", "int32", (5, 3)), b.const(4, name="depth", dtype="int32"),
                                          b.const(1.0, name="on"), b.const(0.0, name="off")], name="y",
                               attrs={"axis": 1, "TI": "int32"}), (5, 4, 3)),
    "where": (lambda b: b.op("Where", [b.placeholder("x", "bool", (2, 9))], name="y", dtype="bool"), (None, 2)),
    "broadcast_to": (_with_const("BroadcastTo", (5, 3), [4, 5, 3], Tidx="int32"), (4, 5, 3)),
    "gather_nd": (lambda b: b.op("GatherNd", [b.placeholder("x", "float32", (2, 9, 11, 3)),
                                              b.placeholder("i", "int32", (3, 2))], name="y",
                                 attrs={"Tparams": "float32", "Tindices": "int32"}), (3, 11, 3)),
    "rfft": (lambda b: b.node("RFFT", [b.placeholder("x", "float32", (2, 9)),
                                       b.const([8], name="n", dtype="int32")], name="y",
                              attrs={"Treal": DType("float32"), "Tcomplex": DType("complex64")}), (2, 5)),
    "tensor_list_stack": (lambda b: b.node("TensorListStack", [
        b.placeholder("handle", "variant", ()), b.const([3, -1], name="element_shape", dtype="int32")], name="y",
        attrs={"element_dtype": DType("float32"), "num_elements": 5}), (5, 3, None)),
    # Shape operands computed from shapes (``tf.reshape(x, [tf.shape(x)[0], -1])``): their values are worked out.
    "reshape_to_computed_batch": (_reshape_to_batch((2, 9, 11, 3)), (2, 297)),
    "reshape_to_computed_unknown_batch": (_reshape_to_batch((None, 9, 11, 3)), (None, None)),
    # What cannot be derived stays unknown: no guesses.
    "reshape_runtime_shape": (lambda b: b.op("Reshape", [b.placeholder("x", "float32", (2, 6)),
                                                         b.placeholder("s", "int32", (3,))], name="y"),
                              (None, None, None)),
    "reshape_runtime_shape_of_unknown_length": (lambda b: b.op("Reshape", [
        b.placeholder("x", "float32", (2, 6)), b.placeholder("s", "int32", (None,))], name="y"), None),
    "transpose_runtime_perm": (lambda b: b.op("Transpose", [b.placeholder("x", "float32", (2, 6, 3)),
                                                            b.placeholder("p", "int32", (3,))], name="y"),
                               (None, None, None)),
    "mean_runtime_axes_keep_dims": (lambda b: b.op("Mean", [b.placeholder("x", "float32", (2, 6)),
                                                            b.placeholder("a", "int32", (1,))], name="y",
                                                   attrs={"keep_dims": True}), (None, None)),
    "mean_runtime_axes": (lambda b: b.op("Mean", [b.placeholder("x", "float32", (2, 6)),
                                                  b.placeholder("a", "int32", (1,))], name="y"), None),
    "resize_runtime_size": (lambda b: b.op("ResizeBilinear", [b.placeholder("x", "float32", (2, 9, 11, 3)),
                                                              b.placeholder("s", "int32", (2,))], name="y"),
                            (2, None, None, 3)),
    "range_runtime_limit": (lambda b: b.op("Range", [b.const(0, name="start", dtype="int32"),
                                                     b.placeholder("n", "int32", ()),
                                                     b.const(1, name="delta", dtype="int32")], name="y",
                                           dtype="int32", attrs={"Tidx": "int32"}), (None,)),
    "fill_runtime_dims": (lambda b: b.op("Fill", [b.placeholder("d", "int32", (2,)), b.const(1.0, name="v")],
                                         name="y"), (None, None)),
    "unregistered_op": (lambda b: b.op("MyCustomOp", [b.placeholder("x", "float32", (2, 3))], name="y"), None),
}


@pytest.mark.parametrize("case", CASES)
def test_shape_rule(case):
    build, expected = CASES[case]
    b = GraphBuilder()
    b.output(build(b))
    model = b.build()
    tensor = model.tensors["y:0"]
    assert tensor.shape == expected
    assert tensor.shape_source == ("unknown" if expected is None else "inferred")


def test_an_op_has_one_shape_rule():
    """A second rule for an op already in the table is refused, so each op's rule is written in one place."""
    with pytest.raises(ValueError, match="two shape rules for Relu"):
        rule("MyNewOp", "Relu")(lambda node: None)
    assert "MyNewOp" not in RULES and RULES["Relu"].__name__ == "same_as_input"


def test_computed_values_stay_within_int64():
    """A chain of squarings would grow a number without bound: values beyond int64 are dropped, as are the
    shapes computed from them."""
    b = GraphBuilder()
    v = b.const(3, name="v0", dtype="int32")
    for i in range(80):
        v = b.op("Mul", [v, v], name=f"v{i + 1}", dtype="int32")
    dims = b.op("Reshape", [v, b.const([1], name="one", dtype="int32")], name="dims", dtype="int32")
    small = b.op("Reshape", ["v4", b.const([1], name="one_", dtype="int32")], name="small", dtype="int32")
    b.output(b.op("Fill", [dims, b.const(1.0, name="fill")], name="y"),
             b.op("Fill", [small, b.const(1.0, name="fill_")], name="z"))
    model = b.build()
    assert model.tensors["y:0"].shape == (None,)
    assert model.tensors["z:0"].shape == (3 ** 16,)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads peak memory from /proc")
def test_values_known_in_part_are_not_sized_by_hostile_claims():
    """A shape vector declared a billion long, joined to a known one, is no value: linted in a process whose peak
    memory stays small, the Fill it sizes keeps an unknown rank."""
    code = textwrap.dedent('''
        from graphlint.testing import GraphBuilder
        b = GraphBuilder()
        dims = b.op("ConcatV2", [b.placeholder("n", "int32", (10 ** 9,)), b.const([2], name="two", dtype="int32"),
                                 b.const(0, name="axis", dtype="int32")], name="dims", dtype="int32",
                    attrs={"N": 2, "Tidx": "int32"})
        b.output(b.op("Fill", [dims, b.const(1.0, name="v")], name="y"))
        print(b.build().tensors["y:0"].shape)
        status = open("/proc/self/status").read()
        print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=300).stdout.split("\n")
    assert out[0] == "None"
    assert int(out[1]) < 300 * 1024


def test_split_and_unpack_fill_every_output():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 9, 6))
    b.node("Split", [b.const(-1, name="axis", dtype="int32"), x], name="split", attrs={"T": "float32",
                                                                                       "num_split": 3})
    b.node("Unpack", [x], name="unpack", attrs={"T": "float32", "num": 2, "axis": 0})
    b.output("split:0", "unpack:1")
    model = b.build()
    assert [model.tensors[f"split:{i}"].shape for i in range(3)] == [(2, 9, 2)] * 3
    assert [model.tensors[f"unpack:{i}"].shape for i in range(2)] == [(9, 6)] * 2


@pytest.mark.parametrize("reverse", [False, True])
def test_shapes_flow_whatever_order_the_file_lists_nodes_in(reverse):
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 3, 5))
    t = b.op("Transpose", [x, b.const([2, 0, 1], name="perm", dtype="int32")], name="t", attrs={"Tperm": "int32"})
    b.output(b.op("Relu", [b.op("Neg", [t], name="n")], name="r"))
    if reverse:  # consumers before producers: not a topological order
        nodes = list(b.graph.node)[::-1]
        del b.graph.node[:]
        b.graph.node.extend(nodes)
    m = b.build()
    assert [shape_of(m, f"{n}:0") for n in ("t", "n", "r")] == [[5, 2, 3]] * 3


def test_user_shape_overrides_the_placeholder_and_propagates():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (None, None, None, 3))
    y = b.op("Conv2D", [x, b.const(_zeros((3, 3, 3, 8)), name="k")], name="conv",
             attrs={"strides": [1, 2, 2, 1], "padding": "SAME"})
    b.output(b.op("Mean", [y, b.const([1, 2], name="axes", dtype="int32")], name="y"))
    assert b.build().tensors["y:0"].shape == (None, 8)
    model = b.build(input_shapes={"x": (4, 32, 30, 3)})
    assert model.tensors["x:0"].shape == (4, 32, 30, 3)
    assert model.tensors["x:0"].shape_source == "user"
    assert model.tensors["conv:0"].shape == (4, 16, 15, 8)
    assert model.tensors["y:0"].shape == (4, 8)


# -- against TensorFlow ---------------------------------------------------------------------------------------

GRAPHDEF_FILES = ["v1_shapes.pb", "v1_noshapes.pb", "v1_dynbatch.pb", "zoo_shapes.pb", "zoo_noshapes.pb",
                  "v2_control_flow.pb"]


@pytest.mark.tf
@pytest.mark.parametrize("name", GRAPHDEF_FILES)
def test_every_tensor_matches_tensorflow(tf_models, name):
    """Dtype and static shape of every main-graph tensor equal what TensorFlow infers for the same GraphDef."""
    model = load(tf_models / name)
    facts = tf_models.facts[name]
    main = {tid for tid, t in model.tensors.items() if t.subgraph == "main"}
    assert main == set(facts)
    mismatches = {tid: (fact, model.tensors[tid].dtype, shape_of(model, tid)) for tid, fact in facts.items()
                  if (model.tensors[tid].dtype, shape_of(model, tid)) != (fact["dtype"], fact["shape"])}
    assert mismatches == {}


@pytest.mark.tf
@pytest.mark.parametrize("graph", ["v1", "zoo"])
def test_propagated_shapes_equal_recorded_output_shapes(tf_models, graph):
    """The same graph with and without ``_output_shapes``: what graphlint derives is what TensorFlow wrote."""
    recorded, derived = load(tf_models / f"{graph}_shapes.pb"), load(tf_models / f"{graph}_noshapes.pb")
    compared = 0
    for tid, tensor in recorded.tensors.items():
        if tensor.shape_source != "file" or tensor.is_const:
            continue
        assert derived.tensors[tid].shape == tensor.shape, tid
        source = "placeholder" if recorded.node(tensor.producer)["op"] == "Placeholder" else "inferred"
        assert derived.tensors[tid].shape_source == (source if tensor.shape is not None else "unknown"), tid
        compared += 1
    assert compared == {"v1": 16, "zoo": 212}[graph]


@pytest.mark.tf
def test_input_shape_overrides_a_placeholder(tf_models):
    model = load(tf_models / "v1_noshapes.pb", input_shapes={"input": (2, 16, 16, 3)})
    shapes = {t: model.tensors[t].shape for t in ("input:0", "conv/Conv2D:0", "bn/FusedBatchNorm:0", "pool:0",
                                                  "flatten:0", "dense/MatMul:0", "probs:0")}
    assert shapes == {"input:0": (2, 16, 16, 3), "conv/Conv2D:0": (2, 16, 16, 4),
                      "bn/FusedBatchNorm:0": (2, 16, 16, 4), "pool:0": (2, 8, 8, 4), "flatten:0": (8, 64),
                      "dense/MatMul:0": (8, 32), "probs:0": (8, 32)}
    assert model.tensors["input:0"].shape_source == "user"


@pytest.mark.tf
def test_input_shape_fills_unknown_dims_of_recorded_shapes(tf_models):
    """A graph saved with a ``None`` batch and ``_output_shapes``: ``--input input:1,8,8,3`` reaches every op."""
    model = load(tf_models / "v1_dynbatch.pb")
    assert model.tensors["probs:0"].shape == (None, 32)
    fixed = load(tf_models / "v1_dynbatch.pb", input_shapes={"input": (1, 8, 8, 3)})
    batch1 = tf_models.facts["v1_shapes.pb"]
    assert {tid: shape_of(fixed, tid) for tid in batch1} == {tid: f["shape"] for tid, f in batch1.items()}


@pytest.mark.tf
def test_cli_input_shape(tf_models):
    proc = subprocess.run([sys.executable, "-m", "graphlint", "check", str(tf_models / "v1_dynbatch.pb"),
                           "--input", "input:1,8,8,3", "--format", "json", "--isolated", "--exit-zero"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    model = json.loads(proc.stdout)["model"]
    assert model["inputs"] == [{"name": "input", "dtype": "float32", "shape": [1, 8, 8, 3]}]
    assert model["outputs"] == [{"name": "probs", "dtype": "float32", "shape": [1, 32]}]
