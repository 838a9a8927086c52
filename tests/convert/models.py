"""Build the small frozen graphs the fix-and-convert tests convert, into the directory given on the command line.

Run in a child process by ``tests/convert/conftest.py`` (the test process never imports TensorFlow). Seeded.
Every model takes ``x`` [1, 8, 8, 3] and ends in ``logits`` [1, 5] unless said otherwise:

* ``training.pb``: conv + dense frozen together with its GradientDescent update (training leftovers; the
  float converter refuses it).
* ``instnorm.pb``: instance norm written with ``tf.nn.moments`` (SquaredDifference, StopGradient, Mean).
* ``bn_train.pb``: a FusedBatchNormV3 in training mode (batch statistics).
* ``bn_infer.pb``: conv + bias + FusedBatchNormV3 in inference mode (foldable).
* ``cast_out.pb``: the logits go through a float-to-float Cast at the output.
* ``neg.pb``: a Neg between the dense layer and the softmax (``probs``).
* ``qat.pb``: fake-quant training graph with no FakeQuant after the residual Add (incomplete ranges).
* ``dropout.pb``: a dense layer behind a v1 dropout (RandomUniform, GreaterEqual, Select) scaled by 1/keep.
* ``loop.pb``: an LSTM-like recurrence in a ``tf.while_loop`` inside a ``tf.function``, frozen with
  control flow v2 (While with a function library); input ``x`` [1, 6, 4], output ``h`` [1, 8].
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
RNG = np.random.default_rng(7)


def _w(*shape: int, scale: float = 0.4) -> np.ndarray:
    return RNG.normal(0, scale, shape).astype(np.float32)


def _head(y):
    """Global average pool + dense to 5 logits."""
    y = tf.reduce_mean(y, axis=[1, 2])
    return tf.matmul(y, tf.constant(_w(int(y.shape[-1]), 5))) + tf.constant(_w(5, scale=0.1))


def _conv(x, cout: int = 8):
    return tf.nn.conv2d(x, tf.constant(_w(3, 3, int(x.shape[-1]), cout)), 1, "SAME")


def _save(graph_def, out: Path, name: str) -> None:
    (out / name).write_bytes(graph_def.SerializeToString())


def _graph(out: Path, name: str, body) -> None:
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, (1, 8, 8, 3), name="x")
        body(x)
    _save(graph.as_graph_def(), out, name)


def training(out: Path) -> None:
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, (1, 8, 8, 3), name="x")
        labels = v1.placeholder(tf.int32, (1,), name="labels")
        k = v1.get_variable("k", initializer=_w(3, 3, 3, 8))
        w = v1.get_variable("w", initializer=_w(8, 5))
        y = tf.nn.relu(tf.nn.conv2d(x, k, 1, "SAME"))
        logits = tf.identity(tf.matmul(tf.reduce_mean(y, axis=[1, 2]), w), name="logits")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = v1.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            frozen = v1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(),
                                                                  ["logits", train.name])
    _save(frozen, out, "training.pb")


def instnorm(x):
    y = _conv(x)
    mean, var = tf.nn.moments(y, axes=[1, 2], keepdims=True)
    y = (y - mean) * tf.math.rsqrt(var + 1e-3) * tf.constant(_w(8) + 1.0) + tf.constant(_w(8, scale=0.1))
    tf.identity(_head(tf.nn.relu(y)), name="logits")


def bn_train(x):
    y = _conv(x)
    y, _, _ = v1.nn.fused_batch_norm(y, tf.constant(np.abs(_w(8)) + 0.5), tf.constant(_w(8, scale=0.1)),
                                     epsilon=1e-3, is_training=True)
    tf.identity(_head(tf.nn.relu(y)), name="logits")


def bn_infer(x):
    y = tf.nn.bias_add(_conv(x), tf.constant(_w(8, scale=0.1)))
    y, _, _ = v1.nn.fused_batch_norm(y, tf.constant(np.abs(_w(8)) + 0.5), tf.constant(_w(8, scale=0.1)),
                                     mean=tf.constant(_w(8, scale=0.1)),
                                     variance=tf.constant(np.abs(_w(8)) + 0.5), epsilon=1e-3, is_training=False)
    tf.identity(_head(tf.nn.relu(y)), name="logits")


def cast_out(x):
    logits = _head(tf.nn.relu(_conv(x)))
    tf.raw_ops.Cast(x=logits, DstT=tf.float32, name="logits")


def neg(x):
    tf.nn.softmax(tf.negative(_head(tf.nn.relu(_conv(x)))), name="probs")


def qat(x):
    fq = tf.quantization.fake_quant_with_min_max_vars
    xq = fq(x, -1.0, 1.0, name="x_fq")
    a = fq(tf.nn.relu(_conv(xq)), 0.0, 6.0, name="a_fq")
    b = fq(tf.nn.relu(_conv(a)), 0.0, 6.0, name="b_fq")
    y = tf.add(a, b, name="residual")  # no FakeQuant: its range is unknown
    tf.identity(_head(y), name="logits")


def dropout(x):
    y = tf.nn.relu(_conv(x))
    y = v1.nn.dropout(y, rate=0.5, seed=1, name="dropout")
    tf.identity(_head(y), name="logits")


def loop(out: Path) -> None:
    wx, wh, b = _w(4, 32), _w(8, 32), _w(32, scale=0.1)

    @tf.function(input_signature=[tf.TensorSpec((1, 6, 4), tf.float32, name="x")])
    def step(x):
        def body(i, h, c):
            z = tf.matmul(x[:, i, :], wx) + tf.matmul(h, wh) + b
            gi, gf, go, gc = tf.split(z, 4, axis=1)
            c = tf.sigmoid(gf) * c + tf.sigmoid(gi) * tf.tanh(gc)
            return i + 1, tf.sigmoid(go) * tf.tanh(c), c

        _, h, _ = tf.while_loop(lambda i, h, c: i < 6, body, (0, tf.zeros((1, 8)), tf.zeros((1, 8))))
        return tf.identity(h, name="h")

    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(step.get_concrete_function(), lower_control_flow=False)
    graph_def = frozen.graph.as_graph_def()
    names = {n.name for n in graph_def.node}
    meta = {"input": next(n for n in ("x", "x_1") if n in names),
            "output": next(n.name for n in reversed(graph_def.node) if n.op == "Identity")}
    (out / "loop.json").write_text(json.dumps(meta))
    _save(graph_def, out, "loop.pb")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    training(out)
    for name, body in (("instnorm", instnorm), ("bn_train", bn_train), ("bn_infer", bn_infer),
                       ("cast_out", cast_out), ("neg", neg), ("qat", qat), ("dropout", dropout)):
        _graph(out, f"{name}.pb", body)
    loop(out)
    (out / "manifest.json").write_text(json.dumps({"tensorflow": tf.__version__,
                                                   "files": sorted(p.name for p in out.iterdir())}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
