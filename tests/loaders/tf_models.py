"""Build the small TensorFlow models the loader tests read, into the directory given on the command line.

``tests/conftest.py`` runs this file in a child process (``python tests/loaders/tf_models.py OUT``), so the
test process never imports TensorFlow. Everything is seeded. Besides the models it writes:

* ``weights.npz``: the weights that went into the models, to compare with what graphlint reads;
* ``facts.json``: for every GraphDef file, TensorFlow's own dtype and static shape of each main-graph tensor,
  obtained by importing the frozen GraphDef into a fresh ``tf.Graph`` (TensorFlow's shape inference);
* ``manifest.json``: the TensorFlow version and the file list.

Models:

* ``v1_shapes.pb`` / ``v1_noshapes.pb`` (and ``.pbtxt``): a ``tf.compat.v1`` graph (conv, bias, fused batch
  norm, relu, max pool, reshape, dense, softmax, an Identity with a control input) frozen with
  ``graph_util.convert_variables_to_constants``, with and without ``_output_shapes``.
* ``v1_dynbatch.pb``: the same graph with a ``[None, 8, 8, 3]`` input, with ``_output_shapes``.
* ``zoo_shapes.pb`` / ``zoo_noshapes.pb``: one node per shape rule (convs, pools, matmul, broadcasting,
  reshape, transpose, concat, pad, reductions, resize, squeeze, strided slice with every mask, einsum,
  range, one-hot, 3-D convs, FFTs, TensorLists, shapes computed from shapes ...), with and without ``_output_shapes``.
* ``v2_control_flow.pb``: a ``tf.function`` with ``tf.while_loop`` and ``tf.cond`` frozen with
  ``convert_variables_to_constants_v2(lower_control_flow=False)``: While / If nodes and a function library.
* ``float.tflite``, ``dynamic_range.tflite``, ``int8.tflite``: conv + dense as float, with int8 weights only,
  and fully int8 with a representative dataset.
* ``dynamic.tflite``: the same model with an unknown batch dim (``shape_signature`` -1).
* ``while.tflite``: a WHILE op with its cond and body subgraphs.
* ``flex.tflite``: ``StringLength`` kept as a Flex op (SELECT_TF_OPS).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

v1 = tf.compat.v1
INPUT_SHAPE = (1, 8, 8, 3)


def _weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1234)
    return {
        "conv_w": rng.normal(0, 0.5, (3, 3, 3, 4)).astype(np.float32),
        "conv_b": rng.normal(0, 0.1, (4,)).astype(np.float32),
        "bn_scale": rng.uniform(0.5, 1.5, (4,)).astype(np.float32),
        "bn_offset": rng.normal(0, 0.1, (4,)).astype(np.float32),
        "bn_mean": rng.normal(0, 0.1, (4,)).astype(np.float32),
        "bn_var": rng.uniform(0.5, 1.5, (4,)).astype(np.float32),
        "dense_w": rng.normal(0, 0.3, (64, 32)).astype(np.float32),  # >= 1024 values: dynamic range quantizes it
        "dense_b": rng.normal(0, 0.1, (32,)).astype(np.float32),
        "loop_w": rng.normal(0, 0.5, (4, 4)).astype(np.float32),
    }


def _facts(graph_def) -> dict[str, dict]:
    """TensorFlow's dtype and static shape of every tensor of a GraphDef's main graph."""
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    facts = {}
    for op in graph.get_operations():
        for t in op.outputs:
            shape = t.shape.as_list() if t.shape.rank is not None else None
            facts[t.name] = {"dtype": t.dtype.name, "shape": shape}
    return facts


def build_v1(out: Path, w: dict[str, np.ndarray], facts: dict, batch: int | None = 1) -> None:
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, (batch, *INPUT_SHAPE[1:]), name="input")
        with v1.variable_scope("conv"):
            kernel = v1.get_variable("kernel", initializer=w["conv_w"])
            bias = v1.get_variable("bias", initializer=w["conv_b"])
            y = tf.nn.conv2d(x, kernel, strides=[1, 1, 1, 1], padding="SAME", name="Conv2D")
            y = tf.nn.bias_add(y, bias, name="BiasAdd")
        with v1.variable_scope("bn"):
            params = [v1.get_variable(k, initializer=w[f"bn_{k}"]) for k in ("scale", "offset", "mean", "var")]
            y, _, _ = v1.nn.fused_batch_norm(y, params[0], params[1], mean=params[2], variance=params[3],
                                             epsilon=1e-3, is_training=False, name="FusedBatchNorm")
        relu = tf.nn.relu(y, name="relu")
        y = tf.nn.max_pool2d(relu, ksize=2, strides=2, padding="VALID", name="pool")
        y = tf.reshape(y, [-1, 64], name="flatten")
        with v1.variable_scope("dense"):
            dw = v1.get_variable("kernel", initializer=w["dense_w"])
            db = v1.get_variable("bias", initializer=w["dense_b"])
            y = tf.nn.bias_add(tf.matmul(y, dw, name="MatMul"), db, name="BiasAdd")
        y = tf.nn.softmax(y, name="softmax")
        with tf.control_dependencies([relu]):
            tf.identity(y, name="probs")
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            variants = ((True, "shapes"), (False, "noshapes")) if batch == 1 else ((True, "dynbatch"),)
            for add_shapes, tag in variants:
                gdef = graph.as_graph_def(add_shapes=add_shapes)
                frozen = v1.graph_util.convert_variables_to_constants(sess, gdef, ["probs"])
                (out / f"v1_{tag}.pb").write_bytes(frozen.SerializeToString())
                facts[f"v1_{tag}.pb"] = _facts(frozen)
                if batch == 1:
                    tf.io.write_graph(frozen, str(out), f"v1_{tag}.pbtxt", as_text=True)


def build_zoo(out: Path, facts: dict) -> None:
    """One node per shape rule, named after what it checks; every constant is small."""
    rng = np.random.default_rng(5)

    def c(shape, dtype=np.float32):
        return tf.constant(rng.normal(size=shape).astype(dtype))

    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, (2, 9, 11, 3), name="x")
        m = v1.placeholder(tf.float32, (5, 3), name="m")
        k = c((3, 3, 3, 4))
        tf.nn.conv2d(x, k, strides=2, padding="SAME", name="conv_same_s2")
        tf.nn.conv2d(x, k, strides=1, padding="VALID", dilations=2, name="conv_valid_d2")
        tf.nn.conv2d(x, k, strides=[1, 2, 1, 1], padding=[[0, 0], [1, 2], [0, 1], [0, 0]], name="conv_explicit")
        nchw = tf.transpose(x, [0, 3, 1, 2], name="to_nchw")
        tf.nn.conv2d(nchw, c((2, 2, 3, 5)), strides=[1, 1, 2, 2], padding="VALID", data_format="NCHW",
                     name="conv_nchw")
        tf.nn.conv2d(nchw, k, strides=[1, 1, 2, 2], padding="SAME", data_format="NCHW", name="conv_nchw_same")
        tf.nn.depthwise_conv2d(x, c((3, 3, 3, 2)), strides=[1, 1, 1, 1], padding="SAME", name="dw_same")
        tf.nn.depthwise_conv2d(x, c((2, 2, 3, 3)), strides=[1, 2, 2, 1], padding="VALID", name="dw_valid_s2")
        tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID", name="maxpool_valid")
        tf.nn.avg_pool2d(x, ksize=3, strides=2, padding="SAME", name="avgpool_same")
        tf.nn.max_pool2d(nchw, ksize=[1, 1, 2, 2], strides=[1, 1, 2, 2], padding="VALID", data_format="NCHW",
                         name="maxpool_nchw")
        tf.matmul(m, c((3, 6)), name="matmul")
        tf.matmul(m, c((6, 5)), transpose_a=True, transpose_b=True, name="matmul_tt")
        tf.matmul(tf.reshape(x, [2, 99, 3]), c((2, 3, 4)), name="batch_matmul")
        tf.add(x, c((11, 1)), name="add_broadcast")
        tf.multiply(c((2, 1, 1, 1)), x, name="mul_broadcast")
        tf.maximum(x, c(()), name="max_scalar")
        tf.reshape(x, [2, -1, 3], name="reshape_minus1")
        tf.reshape(x, [-1], name="reshape_flat")
        tf.transpose(x, [3, 0, 2, 1], name="transpose")
        tf.concat([x, x * 2.0], axis=-1, name="concat")
        tf.concat([x, tf.zeros((2, 4, 11, 3))], axis=1, name="concat_axis1")
        tf.pad(x, [[0, 0], [1, 1], [2, 0], [0, 0]], name="pad")
        tf.pad(x, [[0, 0], [1, 1], [2, 1], [0, 0]], mode="REFLECT", name="mirror_pad")
        mean = tf.reduce_mean(x, [1, 2], keepdims=True, name="mean_keep")
        tf.reduce_sum(x, -1, name="sum_last")
        tf.reduce_max(x, [0, 3], name="max_0_3")
        tf.math.argmax(x, -1, name="argmax")
        v1.image.resize_bilinear(x, [18, 22], name="resize_bilinear")
        v1.image.resize_nearest_neighbor(x, [4, 5], name="resize_nearest")
        tf.squeeze(mean, [1, 2], name="squeeze")
        tf.squeeze(mean, name="squeeze_all")
        tf.expand_dims(x, 1, name="expand_dims")
        tf.expand_dims(m, -1, name="expand_dims_last")
        tf.strided_slice(x, [0, 1, 0, 0], [2, 8, 11, 1], [1, 2, -1, 1], begin_mask=0b0100, end_mask=0b0100,
                         shrink_axis_mask=0b1000, name="strided_slice")
        tf.strided_slice(x, [1], [2], [1], shrink_axis_mask=1, name="strided_slice_first")
        tf.slice(x, [0, 1, 2, 0], [-1, 3, 4, -1], name="slice")
        tf.tile(m, [2, 3], name="tile")
        tf.stack([m, m, m], axis=1, name="pack")
        tf.split(x, 3, axis=-1, name="split")
        tf.nn.relu6(x, name="relu6")
        tf.cast(x, tf.int32, name="cast")
        tf.shape(x, name="shape")
        tf.nn.depth_to_space(c((1, 2, 3, 8)), 2, name="depth_to_space")
        tf.nn.space_to_depth(x[:, :8, :10, :], 2, name="space_to_depth")
        tf.identity_n([x, m], name="identity_n")
        tf.gather(x, tf.constant([[0, 1], [2, 0]]), axis=2, name="gather_v2")
        tf.gather(m, tf.constant([[0, 2]] * 5), axis=1, batch_dims=1, name="gather_batch_dims")
        tf.split(x, [1, -1], axis=1, name="split_v")
        tf.math.top_k(m, k=2, name="top_k")
        tf.nn.conv2d_transpose(x, c((3, 3, 5, 3)), output_shape=[2, 18, 22, 5], strides=2, padding="SAME",
                               name="conv_transpose")
        to_batch = tf.space_to_batch_nd(x, [2, 2], [[1, 0], [1, 0]], name="space_to_batch")
        v1.batch_to_space_nd(to_batch, [2, 2], [[1, 0], [1, 0]], name="batch_to_space")
        _zoo_slicing(x, m)
        _zoo_indexing(x, m)
        _zoo_window_ops(c)
        _zoo_elementwise(x, m)
        _zoo_complex(x)
        _zoo_tensor_lists()
        _zoo_computed_shapes(x, m)
        # Shapes that depend on a value that is not a constant: TensorFlow knows the rank at most.
        n = v1.placeholder(tf.int32, (2,), name="n")
        tf.reshape(m, n, name="reshape_dynamic")
        tf.fill(n, 1.0, name="fill_dynamic")
        for add_shapes, tag in ((True, "shapes"), (False, "noshapes")):
            gdef = graph.as_graph_def(add_shapes=add_shapes)
            (out / f"zoo_{tag}.pb").write_bytes(gdef.SerializeToString())
            facts[f"zoo_{tag}.pb"] = _facts(gdef)


def _zoo_slicing(x, m) -> None:
    """StridedSlice with every mask, as ``x[..., 0]``, ``x[:, None]`` and the like write it."""
    ss = tf.strided_slice
    ss(x, [0, 1], [1, 2], [1, 1], ellipsis_mask=1, name="ss_ellipsis")
    ss(x, [0, 0], [0, 0], [1, 1], ellipsis_mask=1, shrink_axis_mask=2, name="ss_ellipsis_shrink")
    ss(m, [0, 0], [1, 2], [1, 1], new_axis_mask=1, name="ss_new_axis")
    ss(x, [0, 0, 1], [0, 0, 3], [1, 1, 1], begin_mask=1, end_mask=1, new_axis_mask=2, name="ss_new_axis_mid")
    ss(x, [0, 0, 0, 2], [0, 0, 0, -1], [1, 1, 1, 1], ellipsis_mask=2, new_axis_mask=5, name="ss_ellipsis_new")
    ss(x, [1, 0, -1], [2, 0, 0], [1, 1, -1], ellipsis_mask=2, end_mask=4, shrink_axis_mask=1,
       name="ss_ellipsis_reverse")
    ss(m, [0], [0], [1], ellipsis_mask=1, new_axis_mask=0, name="ss_only_ellipsis")


def _zoo_indexing(x, m) -> None:
    """Ops whose output shape comes from constant operands (Range, OneHot, BroadcastTo ...), and Einsum."""
    tf.range(2, 11, 3, name="range_int")
    tf.range(10, 1, -4, name="range_negative")
    tf.range(0.0, 1.0, 0.3, name="range_float")
    tf.raw_ops.LinSpace(start=0.0, stop=1.0, num=7, name="lin_space")
    tf.one_hot(tf.constant([[0, 2, 1]] * 5), 4, axis=1, name="one_hot_axis1")
    tf.one_hot(tf.constant([1, 0]), 6, name="one_hot_last")
    tf.where(x > 0.0, name="where")
    tf.broadcast_to(m, [4, 5, 3], name="broadcast_to")
    tf.scatter_nd(tf.constant([[1], [3]]), tf.ones((2, 4)), [6, 4], name="scatter_nd")
    tf.gather_nd(x, tf.constant([[0, 1], [1, 2], [0, 0]]), name="gather_nd")
    tf.shape_n([x, m], name="shape_n")
    tf.math.argmin(x, 1, name="argmin")
    tf.einsum("bij,bjk->bik", tf.reshape(x, [2, 99, 3]), tf.ones((2, 3, 4)), name="einsum_bmm")
    tf.einsum("...ij,jk->...ki", x, tf.ones((3, 5)), name="einsum_ellipsis")
    tf.einsum("nhwc,c->nw", x, tf.ones((3,)), name="einsum_reduce")


def _zoo_window_ops(c) -> None:
    """3-D convolution and pooling, a 3-D transposed convolution, and the other resize methods."""
    x5 = v1.placeholder(tf.float32, (2, 5, 9, 11, 3), name="x5")
    tf.nn.conv3d(x5, c((2, 3, 3, 3, 4)), strides=[1, 1, 2, 2, 1], padding="SAME", name="conv3d_same")
    tf.nn.conv3d(x5, c((2, 3, 3, 3, 4)), strides=[1, 2, 1, 1, 1], padding="VALID", dilations=[1, 1, 2, 2, 1],
                 name="conv3d_valid")
    tf.nn.max_pool3d(x5, ksize=2, strides=2, padding="VALID", name="maxpool3d")
    tf.nn.avg_pool3d(x5, ksize=[1, 3, 3, 3, 1], strides=[1, 1, 2, 2, 1], padding="SAME", name="avgpool3d")
    tf.nn.conv3d_transpose(x5, c((2, 2, 2, 6, 3)), output_shape=[2, 10, 18, 22, 6], strides=2,
                           name="conv3d_transpose")
    img = v1.placeholder(tf.float32, (2, 9, 11, 3), name="img")
    v1.image.resize_bicubic(img, [5, 7], name="resize_bicubic")
    v1.image.resize_area(img, [3, 4], name="resize_area")


def _zoo_elementwise(x, m) -> None:
    """Unary and binary ops that keep or broadcast their operands' shapes."""
    for op in ("atan", "asin", "acos", "tan", "sinh", "cosh", "rint", "erfc", "is_nan", "is_inf"):
        getattr(tf.math, op)(x, name=op)
    tf.math.cumprod(x, axis=2, name="cumprod")
    tf.roll(x, 2, axis=1, name="roll")
    tf.linalg.band_part(x, 1, 2, name="band_part")
    tf.tensor_scatter_nd_update(m, [[1], [3]], tf.zeros((2, 3)), name="scatter_update")
    tf.tensor_scatter_nd_add(m, [[1]], tf.ones((1, 3)), name="scatter_add")
    tf.reverse_sequence(m, [1, 2, 3, 1, 2], seq_axis=1, batch_axis=0, name="reverse_sequence")
    tf.raw_ops.Bucketize(input=m, boundaries=[0.0, 1.0], name="bucketize")
    tf.math.invert_permutation([2, 0, 1], name="invert_permutation")
    i = v1.placeholder(tf.int32, (4, 1, 3), name="i")
    j = v1.placeholder(tf.int32, (5, 1), name="j")
    tf.bitwise.invert(i, name="invert")
    for op in ("bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"):
        getattr(tf.bitwise, op)(i, j, name=op)
    tf.truncatemod(i, j, name="truncate_mod")
    tf.raw_ops.Mod(x=i, y=j, name="mod")
    tf.math.xlogy(x, tf.ones((11, 1)), name="xlogy")
    tf.math.xdivy(tf.ones((11, 1)), x, name="xdivy")
    tf.math.multiply_no_nan(x, tf.ones((3,)), name="mul_no_nan")


def _zoo_complex(x) -> None:
    """FFTs (real to complex and back) and the complex parts."""
    spectrum = tf.signal.rfft(x, fft_length=[8], name="rfft")
    tf.signal.rfft2d(x, fft_length=[6, 5], name="rfft2d")
    tf.signal.rfft3d(x, name="rfft3d")
    tf.signal.irfft(spectrum, fft_length=[6], name="irfft")
    tf.signal.irfft2d(spectrum, fft_length=[4, 8], name="irfft2d")
    tf.signal.fft(spectrum, name="fft")
    tf.signal.ifft(spectrum, name="ifft")
    tf.abs(spectrum, name="complex_abs")
    tf.math.real(spectrum, name="real")
    tf.math.imag(spectrum, name="imag")
    tf.math.angle(spectrum, name="angle")
    tf.math.conj(spectrum, name="conj")


def _zoo_tensor_lists() -> None:
    """The TensorList ops Keras' recurrent layers lower to: lists are scalar variants, elements take the shape
    of the ``element_shape`` operand."""
    raw, f32, el = tf.raw_ops, tf.float32, [3, 4]
    items = raw.TensorListFromTensor(tensor=tf.zeros((5, 3, 4)), element_shape=el, name="list_from_tensor")
    raw.TensorListGetItem(input_handle=items, index=1, element_shape=el, element_dtype=f32, name="list_get_item")
    raw.TensorListStack(input_handle=items, element_shape=el, element_dtype=f32, num_elements=5, name="list_stack")
    raw.TensorListStack(input_handle=items, element_shape=el, element_dtype=f32, name="list_stack_any_length")
    raw.TensorListLength(input_handle=items, name="list_length")
    reserved = raw.TensorListReserve(element_shape=el, num_elements=5, element_dtype=f32, name="list_reserve")
    written = raw.TensorListSetItem(input_handle=reserved, index=0, item=tf.zeros(el), name="list_set_item")
    raw.TensorListPushBack(input_handle=written, tensor=tf.zeros(el), name="list_push_back")
    raw.EmptyTensorList(element_shape=el, max_num_elements=5, element_dtype=f32, name="list_empty")


def _zoo_computed_shapes(x, m) -> None:
    """Shape operands computed from other shapes, as Keras writes them: TensorFlow evaluates these small integer
    subgraphs (Shape, Rank, Size, slices, Pack, ConcatV2, Range, arithmetic ...) to get the output shapes."""
    shape = tf.shape(x, name="computed/shape")
    tf.reshape(x, tf.stack([shape[0], -1]), name="computed/reshape_batch")
    tf.reduce_max(x, tf.range(tf.rank(x)), name="computed/reduce_all")
    tf.fill(shape[::2], 0.0, name="computed/fill_stride2")
    tf.fill(shape[1:3] * 2, 1.0, name="computed/fill_mul")
    tf.broadcast_to(m, tf.concat([[4], tf.shape(m)], 0), name="computed/broadcast_to")
    tf.expand_dims(m, tf.rank(m) - 1, name="computed/expand_dims")
    tf.fill(tf.gather(shape, [3, 0]), 2.0, name="computed/fill_gather")
    tf.fill(tf.slice(shape, [1], [2]), 3.0, name="computed/fill_slice")
    tf.tile(m, tf.stack([2, tf.size(m) // 15]), name="computed/tile")
    tf.reshape(x, tf.cast(tf.stack([tf.reduce_prod(shape[:2]), tf.reshape(shape[-1], []), -1]), tf.int64),
               name="computed/reshape_prod")
    tf.fill(tf.maximum(tf.shape(m), tf.expand_dims(4, 0)), 0.0, name="computed/fill_maximum")
    # With an unknown batch the shape is known in part: the batch stays unknown, and so does Reshape's -1.
    xd = v1.placeholder(tf.float32, (None, 9, 11, 3), name="x_dyn")
    dyn = tf.shape(xd, name="computed/shape_dyn")
    tf.reshape(xd, tf.stack([dyn[0], -1]), name="computed/reshape_dyn_batch")
    tf.reshape(xd, [dyn[0], -1, 3], name="computed/reshape_dyn_batch3")
    tf.reshape(xd, tf.concat([dyn[:-1], [-1, 1]], 0), name="computed/reshape_dyn_concat")
    tf.fill(tf.stack([dyn[0], 4]), 0.0, name="computed/fill_dyn")
    tf.broadcast_to(m, tf.concat([dyn[:1], [5, 3]], 0), name="computed/broadcast_dyn")
    tf.fill(tf.stack([dyn[1], dyn[0]]), 0.0, name="computed/fill_dyn_known_dim")
    tf.fill(tf.cast(dyn[1:], tf.int64), 0.0, name="computed/fill_dyn_cast")
    tf.reshape(xd, [-1, tf.reduce_prod(tf.gather(dyn, [3]))], name="computed/reshape_dyn_gather")


def build_v2_control_flow(out: Path, w: dict[str, np.ndarray], facts: dict) -> None:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    loop_w = tf.Variable(w["loop_w"], name="loop_w")

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x"),
                                  tf.TensorSpec([], tf.int32, name="n")])
    def model(x, n):
        _, y = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, tf.tanh(tf.matmul(acc, loop_w))),
                             [tf.constant(0), x])
        return tf.cond(tf.reduce_sum(y) > 0.0, lambda: y * 2.0, lambda: y - 1.0)

    frozen = convert_variables_to_constants_v2(model.get_concrete_function(), lower_control_flow=False)
    gdef = frozen.graph.as_graph_def()
    (out / "v2_control_flow.pb").write_bytes(gdef.SerializeToString())
    facts["v2_control_flow.pb"] = _facts(gdef)


class _ConvDense(tf.Module):
    def __init__(self, w: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.conv_w = tf.Variable(w["conv_w"])
        self.conv_b = tf.Variable(w["conv_b"])
        self.dense_w = tf.Variable(w["dense_w"])
        self.dense_b = tf.Variable(w["dense_b"])

    def __call__(self, x):
        y = tf.nn.relu(tf.nn.conv2d(x, self.conv_w, 1, "SAME") + self.conv_b)
        y = tf.nn.max_pool2d(y, 2, 2, "VALID")
        y = tf.reshape(y, [-1, 64])
        return tf.nn.softmax(tf.matmul(y, self.dense_w) + self.dense_b)


def _convert(fn, module, supported_ops=(), **settings) -> bytes:
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn], module)
    for key, value in settings.items():
        setattr(conv, key, value)
    if supported_ops:
        conv.target_spec.supported_ops = set(supported_ops)
    return conv.convert()


def build_tflite(out: Path, w: dict[str, np.ndarray]) -> None:
    module = _ConvDense(w)
    fn = tf.function(module.__call__, input_signature=[tf.TensorSpec(INPUT_SHAPE, tf.float32, name="x")])
    cf = fn.get_concrete_function()
    (out / "float.tflite").write_bytes(_convert(cf, module))
    (out / "dynamic_range.tflite").write_bytes(_convert(cf, module, optimizations=[tf.lite.Optimize.DEFAULT]))

    def calibration():
        rng = np.random.default_rng(7)
        for _ in range(8):
            yield [rng.uniform(-1, 1, INPUT_SHAPE).astype(np.float32)]

    (out / "int8.tflite").write_bytes(_convert(
        cf, module, supported_ops=[tf.lite.OpsSet.TFLITE_BUILTINS_INT8], optimizations=[tf.lite.Optimize.DEFAULT],
        representative_dataset=calibration, inference_input_type=tf.int8, inference_output_type=tf.int8))

    dyn = tf.function(module.__call__, input_signature=[tf.TensorSpec((None, 8, 8, 3), tf.float32, name="x")])
    (out / "dynamic.tflite").write_bytes(_convert(dyn.get_concrete_function(), module))


def build_while_tflite(out: Path, w: dict[str, np.ndarray]) -> None:
    module = tf.Module()
    module.loop_w = tf.Variable(w["loop_w"])

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x"),
                                  tf.TensorSpec([], tf.int32, name="n")])
    def model(x, n):
        _, y = tf.while_loop(lambda i, acc: i < n,
                             lambda i, acc: (i + 1, tf.tanh(tf.matmul(acc, module.loop_w))), [tf.constant(0), x])
        return y

    (out / "while.tflite").write_bytes(_convert(model.get_concrete_function(), module))


def build_flex_tflite(out: Path) -> None:
    @tf.function(input_signature=[tf.TensorSpec([4], tf.string, name="s")])
    def model(s):
        return tf.strings.length(s) + 1

    (out / "flex.tflite").write_bytes(_convert(
        model.get_concrete_function(), tf.Module(),
        supported_ops=[tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tf.random.set_seed(0)
    w = _weights()
    facts: dict[str, dict] = {}
    build_v1(out, w, facts)
    build_v1(out, w, facts, batch=None)
    build_zoo(out, facts)
    build_v2_control_flow(out, w, facts)
    build_tflite(out, w)
    build_while_tflite(out, w)
    build_flex_tflite(out)
    np.savez(out / "weights.npz", **w)
    (out / "facts.json").write_text(json.dumps(facts, indent=1, sort_keys=True))
    files = sorted(p.name for p in out.iterdir())
    (out / "manifest.json").write_text(json.dumps({"tensorflow": tf.__version__, "files": files}, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
