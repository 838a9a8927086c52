"""Build the small TensorFlow models the loader tests read, into a directory given on the command line.

Run in a child process by ``tests/conftest.py`` (``python tests/loaders/tf_models.py OUT``) so the test
process never imports TensorFlow. Everything is seeded; the weights that end up in the files are saved to
``weights.npz`` so tests can compare what graphlint reads with what TensorFlow wrote. ``manifest.json``
records the TensorFlow version and the files made.

Files:

* ``v1_shapes.pb`` / ``v1_noshapes.pb`` / ``v1_shapes.pbtxt`` / ``v1_noshapes.pbtxt``: a ``tf.compat.v1``
  graph (conv, bias, fused batchnorm, relu, max pool, reshape, dense, softmax, an identity with a control
  input) frozen with ``graph_util.convert_variables_to_constants``, with and without ``_output_shapes``.
* ``v2_control_flow.pb``: a ``tf.function`` with ``tf.while_loop`` and ``tf.cond`` frozen with
  ``convert_variables_to_constants_v2(lower_control_flow=False)``: While/If nodes and a function library.
* ``float.tflite``, ``dynamic_range.tflite``, ``int8.tflite``: conv + dense, float / weights-only int8 /
  full int8 with a representative dataset.
* ``while.tflite``: a WHILE op with cond and body subgraphs.
* ``dynamic.tflite``: batch dim unknown (``shape_signature`` -1).
* ``flex.tflite``: a TensorFlow op kept as a Flex custom op (SELECT_TF_OPS).
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
        "dense_w": rng.normal(0, 0.3, (64, 5)).astype(np.float32),
        "dense_b": rng.normal(0, 0.1, (5,)).astype(np.float32),
        "loop_w": rng.normal(0, 0.5, (4, 4)).astype(np.float32),
    }


def build_v1(out: Path, w: dict[str, np.ndarray]) -> None:
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, INPUT_SHAPE, name="input")
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
            for add_shapes, tag in ((True, "shapes"), (False, "noshapes")):
                gdef = graph.as_graph_def(add_shapes=add_shapes)
                frozen = tf.compat.v1.graph_util.convert_variables_to_constants(sess, gdef, ["probs"])
                (out / f"v1_{tag}.pb").write_bytes(frozen.SerializeToString())
                tf.io.write_graph(frozen, str(out), f"v1_{tag}.pbtxt", as_text=True)


def build_v2_control_flow(out: Path, w: dict[str, np.ndarray]) -> None:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    loop_w = tf.Variable(w["loop_w"], name="loop_w")

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x"),
                                  tf.TensorSpec([], tf.int32, name="n")])
    def model(x, n):
        _, y = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, tf.tanh(tf.matmul(acc, loop_w))),
                             [tf.constant(0), x])
        return tf.cond(tf.reduce_sum(y) > 0.0, lambda: y * 2.0, lambda: y - 1.0)

    frozen = convert_variables_to_constants_v2(model.get_concrete_function(), lower_control_flow=False)
    (out / "v2_control_flow.pb").write_bytes(frozen.graph.as_graph_def().SerializeToString())


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


def _convert(fn, module, **settings) -> bytes:
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn], module)
    for key, value in settings.items():
        setattr(conv, key, value)
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
        cf, module, optimizations=[tf.lite.Optimize.DEFAULT], representative_dataset=calibration,
        target_spec=_spec([tf.lite.OpsSet.TFLITE_BUILTINS_INT8]), inference_input_type=tf.int8,
        inference_output_type=tf.int8))

    dyn = tf.function(module.__call__, input_signature=[tf.TensorSpec((None, 8, 8, 3), tf.float32, name="x")])
    (out / "dynamic.tflite").write_bytes(_convert(dyn.get_concrete_function(), module))


def _spec(ops):
    spec = tf.lite.TargetSpec()
    spec.supported_ops = set(ops)
    return spec


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
        return tf.strings.length(tf.strings.upper(s))

    (out / "flex.tflite").write_bytes(_convert(
        model.get_concrete_function(), None,
        target_spec=_spec([tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS])))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tf.random.set_seed(0)
    w = _weights()
    build_v1(out, w)
    build_v2_control_flow(out, w)
    build_tflite(out, w)
    build_while_tflite(out, w)
    build_flex_tflite(out)
    np.savez(out / "weights.npz", **w)
    files = sorted(p.name for p in out.iterdir())
    (out / "manifest.json").write_text(json.dumps({"tensorflow": tf.__version__, "files": files}, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
