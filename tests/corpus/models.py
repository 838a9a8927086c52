"""The public corpus, dev split: small multi-op models of the kinds users bring, built in code with TensorFlow.

Each entry is a case for ``scripts/probe_ops.py`` (same builder API: ``b.input``, ``b.weight``, ``b.output``);
``scripts/judge_corpus.py`` converts every model under every converter target with TF 2.21, runs the results in
LiteRT and TFLite Micro, and records the outcome in ``outcomes.json``; ``test_corpus.py`` compares graphlint's
verdicts with it. uint8-qat is judged on the graph as built (``qat_variant=False``), with
``quantized_input_stats`` from each float input's range. The held-out split is heldout.py; cases.py joins both
and must be what loads this file (it puts this folder on ``sys.path`` for the shared kinds).
"""

from __future__ import annotations

import kinds as k
from probe_ops import Case, GruCell, LstmCell, _rnn, conv


def _conv_bn_relu(b, tf, x, cin, cout, stride=1, act=None):
    y = conv(tf, x, b.weight((3, 3, cin, cout)), strides=stride)
    scale, offset = b.const([1.1] * cout), b.const([0.05] * cout)
    mean, var = b.const([0.01] * cout), b.const([0.9] * cout)
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(y, scale, offset, mean, var, is_training=False)
    return (act or tf.nn.relu6)(y)


def small_cnn(b, tf):
    x = b.input((1, 32, 32, 3), "float32", 0.0, 1.0)
    y = _conv_bn_relu(b, tf, x, 3, 8, 2)
    y = tf.nn.depthwise_conv2d(y, b.weight((3, 3, 8, 1)), [1, 1, 1, 1], "SAME")
    y = tf.nn.relu6(y)
    y = tf.nn.max_pool2d(y, 2, 2, "VALID")
    y = tf.reduce_mean(y, [1, 2])
    y = tf.matmul(y, b.weight((8, 10))) + b.weight((10,))
    b.output(tf.nn.softmax(y))


def resnet_block(b, tf):
    x = b.input((1, 16, 16, 8), "float32", -1.0, 1.0)
    y = _conv_bn_relu(b, tf, x, 8, 8, act=tf.nn.relu)
    y = _conv_bn_relu(b, tf, y, 8, 8, act=lambda t: t)
    b.output(tf.nn.relu(y + x))


def mobilenet_v3_block(b, tf):
    x = b.input((1, 16, 16, 8), "float32", -1.0, 1.0)
    y = conv(tf, x, b.weight((1, 1, 8, 16)))
    y = y * tf.nn.relu6(y + 3.0) / 6.0
    se = tf.reduce_mean(y, [1, 2], keepdims=True)
    se = tf.nn.sigmoid(conv(tf, se, b.weight((1, 1, 16, 16))))
    b.output(conv(tf, y * se, b.weight((1, 1, 16, 8))) + x)


def classifier_argmax(b, tf):
    x = b.input((1, 16), "float32", -1.0, 1.0)
    logits = tf.matmul(tf.nn.relu(tf.matmul(x, b.weight((16, 32)))), b.weight((32, 5)))
    b.output(tf.argmax(logits, 1, output_type=tf.int32), fake_quant=False)


def keyword_topk(b, tf):
    x = b.input((1, 49, 10, 1), "float32", -1.0, 1.0)
    y = tf.nn.relu(conv(tf, x, b.weight((3, 3, 1, 8)), strides=2))
    y = tf.reshape(y, (1, -1))
    logits = tf.matmul(y, b.weight((25 * 5 * 8, 12)))
    values, indices = tf.math.top_k(tf.nn.softmax(logits), 3)
    b.output(values)
    b.output(indices, fake_quant=False)


def attention_block(b, tf):
    x = b.input((1, 8, 16), "float32", -1.0, 1.0)
    q = tf.matmul(x, b.weight((16, 16)))
    k = tf.matmul(x, b.weight((16, 16)))
    v = tf.matmul(x, b.weight((16, 16)))
    att = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) / 4.0)
    y = tf.matmul(att, v) + x
    mean, var = tf.nn.moments(y, [-1], keepdims=True)
    b.output((y - mean) * tf.math.rsqrt(var + 1e-5))


def instance_norm_net(b, tf):
    x = b.input((1, 16, 16, 3), "float32", 0.0, 1.0)
    y = conv(tf, x, b.weight((3, 3, 3, 8)))
    mean, var = tf.nn.moments(y, [1, 2], keepdims=True)
    y = tf.nn.relu((y - mean) * tf.math.rsqrt(var + 1e-5))
    b.output(conv(tf, y, b.weight((3, 3, 8, 3))))


def unet_tiny(b, tf):
    x = b.input((1, 16, 16, 3), "float32", 0.0, 1.0)
    d = tf.nn.relu(conv(tf, x, b.weight((3, 3, 3, 8)), strides=2))
    u = tf.image.resize(d, (16, 16), method="nearest")
    y = tf.concat([u, tf.nn.relu(conv(tf, x, b.weight((3, 3, 3, 8))))], -1)
    b.output(tf.nn.sigmoid(conv(tf, y, b.weight((1, 1, 16, 1)))))


def gelu_erf_mlp(b, tf):
    x = b.input((1, 16), "float32", -1.0, 1.0)
    h = tf.matmul(x, b.weight((16, 32)))
    h = 0.5 * h * (1.0 + tf.math.erf(h / 1.4142135))
    b.output(tf.matmul(h, b.weight((32, 4))))


def prelu_net(b, tf):
    x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0)
    y = conv(tf, x, b.weight((3, 3, 4, 4)))
    alpha = b.weight((4,))
    b.output(tf.nn.relu(y) - alpha * tf.nn.relu(-y))


def dropout_left_on(b, tf):
    x = b.input((1, 32), "float32", -1.0, 1.0)
    h = tf.nn.relu(tf.matmul(x, b.weight((32, 32))))
    h = tf.nn.dropout(h, rate=0.2)
    b.output(tf.matmul(h, b.weight((32, 4))))


def flatten_dynamic_batch(b, tf):
    x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0, placeholder_shape=(None, 8, 8, 4))
    y = tf.nn.relu(conv(tf, x, b.weight((3, 3, 4, 4))))
    y = tf.reshape(y, (tf.shape(y)[0], -1))
    b.output(tf.matmul(y, b.weight((256, 3))))


def audio_conv1d(b, tf):
    x = b.input((1, 64, 4), "float32", -1.0, 1.0)
    y = tf.nn.relu(tf.nn.conv1d(x, b.weight((5, 4, 8)), 2, "SAME"))
    y = tf.reduce_max(y, 1)
    b.output(tf.matmul(y, b.weight((8, 3))))


def transpose_6d_net(b, tf):
    x = b.input((1, 2, 4, 4, 2, 3), "float32", -1.0, 1.0)
    y = tf.transpose(x, [0, 2, 1, 3, 5, 4]) * 2.0
    b.output(tf.reshape(y, (1, 4, 2, 24)))


def detector_nms(b, tf):
    x = b.input((1, 20, 4), "float32", 0.0, 1.0)
    s = b.input((1, 20), "float32", 0.0, 1.0)
    boxes = tf.reshape(x, (20, 4))
    scores = tf.reshape(s, (20,))
    idx = tf.image.non_max_suppression(boxes, scores, 5, 0.5)
    b.output(tf.gather(boxes, idx))


def static_gru(b, tf):
    _rnn(GruCell, False)(b, tf)


def dynamic_lstm_v2(b, tf):
    _rnn(LstmCell, True)(b, tf)


def neg_after_pool(b, tf):
    x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0)
    y = tf.nn.avg_pool2d(tf.nn.relu(conv(tf, x, b.weight((3, 3, 4, 8)))), 2, 2, "VALID")
    b.output(-y)


def float64_head(b, tf):
    x = b.input((1, 8), "float32", -1.0, 1.0)
    h = tf.cast(tf.matmul(x, b.weight((8, 4))), tf.float64)
    b.output(tf.cast(tf.nn.softplus(h), tf.float32))


def qat_conv(b, tf):
    x = b.input((1, 8, 8, 3), "float32", -1.0, 1.0)
    fq = tf.quantization.fake_quant_with_min_max_vars
    xq = fq(x, -1.0, 1.0)
    w = fq(b.weight((3, 3, 3, 8)), -1.0, 1.0)
    y = fq(tf.nn.relu(conv(tf, xq, w)), 0.0, 6.0)
    w2 = fq(b.weight((1, 1, 8, 8)), -1.0, 1.0)
    y2 = conv(tf, y, w2)
    b.output(fq(y2 + y, -8.0, 8.0), fake_quant=False)


def qat_missing_residual(b, tf):
    x = b.input((1, 8, 8, 3), "float32", -1.0, 1.0)
    fq = tf.quantization.fake_quant_with_min_max_vars
    xq = fq(x, -1.0, 1.0)
    y = fq(tf.nn.relu(conv(tf, xq, fq(b.weight((3, 3, 3, 3)), -1.0, 1.0))), 0.0, 6.0)
    b.output(y + xq, fake_quant=False)


def resize_bicubic_net(b, tf):
    x = b.input((1, 8, 8, 3), "float32", 0.0, 1.0)
    y = tf.image.resize(x, (16, 16), method="bicubic")
    b.output(conv(tf, y, b.weight((3, 3, 3, 4))))


def embedding_mean(b, tf):
    ids = b.input((1, 6), "int32", 0, 49)
    e = tf.gather(b.weight((50, 8)), ids)
    b.output(tf.matmul(tf.reduce_mean(e, 1), b.weight((8, 2))))


def squared_difference_head(b, tf):
    x = b.input((1, 16), "float32", -1.0, 1.0)
    y = tf.matmul(x, b.weight((16, 16)))
    b.output(tf.math.squared_difference(y, b.weight((16,))))


def separable_segmenter(b, tf):
    x = b.input((1, 16, 16, 3), "float32", 0.0, 1.0)
    y = tf.nn.separable_conv2d(x, b.weight((3, 3, 3, 2)), b.weight((1, 1, 6, 8)), [1, 1, 1, 1], "SAME")
    y = tf.nn.leaky_relu(y, 0.1)
    y = tf.nn.depth_to_space(conv(tf, y, b.weight((1, 1, 8, 16))), 2)
    b.output(tf.argmax(y, -1), fake_quant=False)


def deconv_decoder(b, tf):
    x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0)
    y = tf.nn.conv2d_transpose(x, b.weight((3, 3, 8, 4)), (1, 16, 16, 8), 2, "SAME")
    y = tf.nn.elu(y)
    b.output(tf.image.resize(y, (32, 32)))


def l2_embedding(b, tf):
    x = b.input((1, 32), "float32", -1.0, 1.0)
    y = tf.matmul(x, b.weight((32, 16)))
    b.output(tf.math.l2_normalize(y, -1))


def clipped_regressor(b, tf):
    x = b.input((1, 16), "float32", -2.0, 2.0)
    y = tf.matmul(x, b.weight((16, 4)))
    b.output(tf.clip_by_value(y, -1.0, 1.0))


def log_softmax_head(b, tf):
    x = b.input((1, 20), "float32", -1.0, 1.0)
    b.output(tf.nn.log_softmax(tf.matmul(x, b.weight((20, 10)))))


def mask_where(b, tf):
    x = b.input((1, 16), "float32", -1.0, 1.0)
    y = tf.matmul(x, b.weight((16, 16)))
    b.output(tf.where(y > 0.0, y, tf.zeros_like(y)))


def padded_conv_tile(b, tf):
    x = b.input((1, 8, 8, 2), "float32", -1.0, 1.0)
    y = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    y = conv(tf, y, b.weight((3, 3, 2, 4)), padding="VALID")
    b.output(tf.tile(y, [1, 1, 1, 2]))


def gather_nd_head(b, tf):
    x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0)
    y = tf.nn.relu(conv(tf, x, b.weight((3, 3, 4, 4))))
    b.output(tf.gather_nd(y, [[0, 1, 2], [0, 3, 4]]))


def einsum_mixer(b, tf):
    x = b.input((1, 8, 16), "float32", -1.0, 1.0)
    y = tf.einsum("bij,jk->bik", x, b.weight((16, 16)))
    b.output(tf.nn.gelu(y, approximate=True))


def exp_normalizer(b, tf):
    x = b.input((1, 10), "float32", -2.0, 2.0)
    e = tf.exp(x - tf.reduce_max(x, -1, keepdims=True))
    b.output(e / tf.reduce_sum(e, -1, keepdims=True))


def cumsum_scan(b, tf):
    x = b.input((1, 16), "float32", 0.0, 1.0)
    b.output(tf.cumsum(tf.nn.relu(tf.matmul(x, b.weight((16, 16)))), axis=1))


def square_energy(b, tf):
    x = b.input((1, 32, 4), "float32", -1.0, 1.0)
    y = tf.reduce_mean(tf.square(x), 1)
    b.output(tf.sqrt(y + 1e-6))


def batchnorm_standalone_net(b, tf):
    x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0)
    scale, offset = b.const([1.0] * 4), b.const([0.1] * 4)
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, scale, offset, b.const([0.0] * 4), b.const([1.0] * 4),
                                               is_training=False)
    b.output(tf.nn.relu(conv(tf, tf.nn.relu(y), b.weight((3, 3, 4, 4)))))


def training_bn_net(b, tf):
    x = b.input((1, 8, 8, 3), "float32", -1.0, 1.0)
    y = conv(tf, x, b.weight((3, 3, 3, 4)))
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(y, b.const([1.0] * 4), b.const([0.0] * 4), is_training=True)
    b.output(tf.nn.relu(y))


def int64_argmax_cast(b, tf):
    x = b.input((1, 10), "float32", -1.0, 1.0)
    b.output(tf.cast(tf.argmax(tf.matmul(x, b.weight((10, 10))), -1), tf.float32))


def mobilenet_v2_block(b, tf):
    x = b.input((1, 16, 16, 8), "float32", -1.0, 1.0)
    y = tf.nn.relu6(conv(tf, x, b.weight((1, 1, 8, 32))))
    y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, b.weight((3, 3, 32, 1)), [1, 1, 1, 1], "SAME"))
    b.output(conv(tf, y, b.weight((1, 1, 32, 8))) + x)


def inception_block(b, tf):
    x = b.input((1, 16, 16, 8), "float32", 0.0, 1.0)
    branches = [tf.nn.relu(conv(tf, x, b.weight((k, k, 8, 4)))) for k in (1, 3, 5)]
    branches.append(tf.nn.max_pool2d(x, 3, 1, "SAME"))
    b.output(tf.concat(branches, -1))


def yolo_head(b, tf):
    x = b.input((1, 8, 8, 16), "float32", -1.0, 1.0)
    y = tf.reshape(conv(tf, x, b.weight((1, 1, 16, 18))), (1, 64 * 2, 9))
    xy, wh, rest = tf.split(y, [2, 2, 5], -1)
    b.output(tf.concat([tf.sigmoid(xy), tf.exp(wh), tf.sigmoid(rest)], -1))


def ssd_decode_topk(b, tf):
    x = b.input((1, 32, 6), "float32", -1.0, 1.0)
    scores = tf.nn.softmax(x[..., :2])
    boxes = x[..., 2:] * 0.1 + 0.5
    top, idx = tf.math.top_k(scores[..., 1], 5)
    b.output(top)
    b.output(tf.gather(boxes, idx, batch_dims=1))


def segmentation_argmax(b, tf):
    x = b.input((1, 16, 16, 3), "float32", 0.0, 1.0)
    y = tf.image.resize(tf.nn.relu(conv(tf, x, b.weight((3, 3, 3, 4)), strides=2)), (16, 16))
    b.output(tf.argmax(y, -1, output_type=tf.int32), fake_quant=False)


def transformer_ffn(b, tf):
    x = b.input((1, 8, 16), "float32", -1.0, 1.0)
    h = tf.nn.gelu(tf.matmul(x, b.weight((16, 32))), approximate=True)
    y = tf.matmul(h, b.weight((32, 16))) + x
    mean, var = tf.nn.moments(y, [-1], keepdims=True)
    b.output((y - mean) / tf.sqrt(var + 1e-6))


def depthwise_multiplier_bn(b, tf):
    x = b.input((1, 16, 16, 4), "float32", -1.0, 1.0)
    y = tf.nn.depthwise_conv2d(x, b.weight((3, 3, 4, 2)), [1, 1, 1, 1], "SAME")
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(y, b.const([1.0] * 8), b.const([0.1] * 8), b.const([0.0] * 8),
                                               b.const([1.0] * 8), is_training=False)
    b.output(tf.nn.relu(y))


def log_magnitude(b, tf):
    x = b.input((1, 64, 1), "float32", -1.0, 1.0)
    y = tf.abs(tf.nn.conv1d(x, b.weight((8, 1, 8)), 4, "VALID"))
    b.output(tf.math.log(y + 1e-3))


def pixel_shuffle_sr(b, tf):
    x = b.input((1, 8, 8, 3), "float32", 0.0, 1.0)
    y = tf.nn.relu(conv(tf, x, b.weight((3, 3, 3, 12))))
    b.output(tf.nn.depth_to_space(y, 2))


def conv3d_video(b, tf):
    x = b.input((1, 4, 8, 8, 3), "float32", -1.0, 1.0)
    y = tf.nn.relu(tf.nn.conv3d(x, b.weight((3, 3, 3, 3, 4)), [1, 1, 1, 1, 1], "SAME"))
    b.output(tf.reduce_mean(y, [1, 2, 3]))


def static_lstm_long(b, tf):
    x = b.input((1, 16, 8), low=-1.0, high=1.0)
    cell = LstmCell(b, 8, 8)
    steps, _ = tf.compat.v1.nn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
    b.output(steps[-1])


def feature_crop_pad(b, tf):
    x = b.input((1, 16, 16, 4), "float32", -1.0, 1.0)
    y = tf.nn.relu(conv(tf, x, b.weight((3, 3, 4, 4))))
    crop = y[:, 2:14, 2:14, :]
    b.output(tf.concat([tf.pad(crop, [[0, 0], [2, 2], [2, 2], [0, 0]]), y], -1))


def reduce_prod_gate(b, tf):
    x = b.input((1, 8, 4), "float32", 0.5, 1.5)
    y = tf.matmul(x, b.weight((4, 4)))
    b.output(tf.reduce_prod(tf.sigmoid(y), 1))


def leaky_by_maximum(b, tf):
    x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0)
    y = conv(tf, x, b.weight((3, 3, 4, 4)))
    b.output(tf.maximum(y, 0.2 * y))


def swish_avgpool(b, tf):
    x = b.input((1, 16, 16, 4), "float32", -1.0, 1.0)
    y = conv(tf, x, b.weight((3, 3, 4, 8)))
    b.output(tf.nn.avg_pool2d(y * tf.sigmoid(y), 2, 2, "VALID"))


def broadcast_where_sum(b, tf):
    x = b.input((1, 8, 4), "float32", -1.0, 1.0)
    m = b.input((1, 1, 4), "float32", -1.0, 1.0)
    b.output(tf.reduce_sum(tf.where(m > 0.0, x, -x), 1))


def debug_ops_in_path(b, tf):
    x = b.input((1, 16), "float32", -1.0, 1.0)
    y = tf.debugging.check_numerics(tf.matmul(x, b.weight((16, 8))), "nan")
    b.output(tf.nn.relu(tf.stop_gradient(tf.identity(y))))


def embedding_int64(b, tf):
    ids = b.input((1, 4), "int64", 0, 29)
    b.output(tf.reduce_sum(tf.gather(b.weight((30, 8)), ids), 1))


def one_hot_head(b, tf):
    ids = b.input((1, 4), "int32", 0, 9)
    oh = tf.one_hot(ids, 10)
    b.output(tf.matmul(tf.reshape(oh, (1, 40)), b.weight((40, 3))))


def relu6_by_minimum(b, tf):
    x = b.input((1, 8, 8, 4), "float32", -1.0, 8.0)
    b.output(tf.minimum(tf.nn.relu(conv(tf, x, b.weight((3, 3, 4, 4)))), 6.0))


def channel_centering(b, tf):
    x = b.input((1, 8, 8, 4), "float32", 0.0, 1.0)
    y = x - tf.reduce_mean(x, -1, keepdims=True)
    b.output(conv(tf, y, b.weight((3, 3, 4, 4))))


def tensor_array_scan(b, tf):
    x = b.input((1, 6, 4), "float32", -1.0, 1.0)
    steps = tf.unstack(x, axis=1)
    w = b.weight((4, 4))

    def body(i, h, out):
        h = tf.nn.relu(tf.matmul(tf.gather(tf.stack(steps), i), w) + h)
        return i + 1, h, out.write(i, h)

    _, _, out = tf.while_loop(lambda i, h, out: i < 6, body,
                              (tf.constant(0), tf.zeros((1, 4)), tf.TensorArray(tf.float32, size=6)))
    b.output(tf.transpose(out.stack(), (1, 0, 2)))


def function_conv_block(b, tf):
    w = b.weight((3, 3, 4, 8))

    @tf.function(autograph=False)
    def block(v):
        return tf.nn.max_pool2d(tf.nn.relu(conv(tf, v, w)), 2, 2, "VALID")

    x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0)
    b.output(tf.reduce_mean(block(x), [1, 2]))


def function_with_erf(b, tf):
    @tf.function(autograph=False)
    def body(v):
        return tf.math.erf(v) * 2.0

    x = b.input((1, 16), "float32", -1.0, 1.0)
    b.output(body(tf.matmul(x, b.weight((16, 8)))))


def nested_functions(b, tf):
    w = b.weight((8, 8))

    @tf.function(autograph=False)
    def inner(v):
        return tf.nn.sigmoid(tf.matmul(v, w))

    @tf.function(autograph=False)
    def outer(v):
        return inner(v) * v

    x = b.input((1, 8), "float32", -1.0, 1.0)
    b.output(outer(x))


def cond_on_input(b, tf):
    x = b.input((1, 8), "float32", -1.0, 1.0)
    y = tf.matmul(x, b.weight((8, 8)))
    b.output(tf.cond(tf.reduce_sum(y) > 0.0, lambda: tf.nn.relu(y), lambda: y * 0.5))


def space_to_depth_stem(b, tf):
    x = b.input((1, 16, 16, 3), "float32", 0.0, 1.0)
    y = tf.nn.space_to_depth(x, 2)
    b.output(tf.nn.relu6(conv(tf, y, b.weight((3, 3, 12, 8)))))


def float16_input_cast(b, tf):
    x = b.input((1, 8), "float16", -1.0, 1.0)
    b.output(tf.matmul(tf.cast(x, tf.float32), b.weight((8, 4))))


def gather_axis_head(b, tf):
    x = b.input((1, 10, 8), "float32", -1.0, 1.0)
    y = tf.gather(x, [0, 2, 4], axis=1)
    b.output(tf.reduce_max(tf.matmul(y, b.weight((8, 4))), 1))


def resize_crop_head(b, tf):
    x = b.input((1, 12, 12, 3), "float32", 0.0, 1.0)
    y = tf.image.resize(x, (24, 24))[:, 4:20, 4:20, :]
    b.output(conv(tf, y, b.weight((3, 3, 3, 4)), strides=2))


def _plain(case_id, build, note):
    return Case(case_id, "corpus", build, note, qat_variant=False)


# The first corpus: its models keep four .tflite files each in the test build (build.py).
FIRST = [
    _plain("small_cnn", small_cnn, "conv, batch norm, relu6, depthwise, pool, dense, softmax"),
    _plain("resnet_block", resnet_block, "residual block"),
    _plain("mobilenet_v3_block", mobilenet_v3_block, "hard-swish and squeeze-excite"),
    _plain("classifier_argmax", classifier_argmax, "dense classifier ending in argmax"),
    _plain("keyword_topk", keyword_topk, "keyword spotting with top-k"),
    _plain("attention_block", attention_block, "self-attention with layer norm (moments)"),
    _plain("instance_norm_net", instance_norm_net, "instance norm (moments) between convs"),
    _plain("unet_tiny", unet_tiny, "down, nearest resize up, concat"),
    _plain("gelu_erf_mlp", gelu_erf_mlp, "GELU written with erf"),
    _plain("prelu_net", prelu_net, "PReLU written as relu(x) - a * relu(-x)"),
    _plain("dropout_left_on", dropout_left_on, "dropout left in the inference graph"),
    _plain("flatten_dynamic_batch", flatten_dynamic_batch, "dynamic batch, flatten via tf.shape"),
    _plain("audio_conv1d", audio_conv1d, "conv1d audio model"),
    _plain("transpose_6d_net", transpose_6d_net, "a 6-D transpose"),
    _plain("detector_nms", detector_nms, "non-max suppression post-processing"),
    _plain("static_gru", static_gru, "unrolled GRU"),
    _plain("dynamic_lstm_v2", dynamic_lstm_v2, "dynamic_rnn LSTM, control flow v2"),
    _plain("neg_after_pool", neg_after_pool, "a Neg at the output"),
    _plain("float64_head", float64_head, "float64 island between casts"),
    _plain("qat_conv", qat_conv, "fake-quant graph with every range"),
    _plain("qat_missing_residual", qat_missing_residual, "fake-quant graph missing the residual add's range"),
    _plain("resize_bicubic_net", resize_bicubic_net, "bicubic resize"),
    _plain("embedding_mean", embedding_mean, "int32 ids into an embedding"),
    _plain("squared_difference_head", squared_difference_head, "SquaredDifference at the output"),
    _plain("separable_segmenter", separable_segmenter, "separable conv, leaky relu, depth-to-space, argmax"),
    _plain("deconv_decoder", deconv_decoder, "transposed conv, elu, bilinear resize"),
    _plain("l2_embedding", l2_embedding, "l2-normalized embedding"),
    _plain("clipped_regressor", clipped_regressor, "clip_by_value(-1, 1) output"),
    _plain("log_softmax_head", log_softmax_head, "log-softmax classifier"),
    _plain("mask_where", mask_where, "tf.where masking"),
    _plain("padded_conv_tile", padded_conv_tile, "reflect pad, valid conv, tile"),
    _plain("gather_nd_head", gather_nd_head, "gather_nd on features"),
    _plain("einsum_mixer", einsum_mixer, "einsum and tanh-approximated gelu"),
    _plain("exp_normalizer", exp_normalizer, "softmax written by hand with exp"),
    _plain("cumsum_scan", cumsum_scan, "cumulative sum"),
    _plain("square_energy", square_energy, "square, mean, sqrt"),
    _plain("batchnorm_standalone_net", batchnorm_standalone_net, "batch norm with no conv before it"),
    _plain("training_bn_net", training_bn_net, "batch norm left in training mode"),
    _plain("int64_argmax_cast", int64_argmax_cast, "argmax (int64) cast to float"),
    _plain("mobilenet_v2_block", mobilenet_v2_block, "inverted residual"),
    _plain("inception_block", inception_block, "parallel convs and pool, concat"),
    _plain("yolo_head", yolo_head, "reshape, split, sigmoid, exp, concat"),
    _plain("ssd_decode_topk", ssd_decode_topk, "softmax scores, box decode, top-k, batched gather"),
    _plain("segmentation_argmax", segmentation_argmax, "bilinear upsample and int32 argmax"),
    _plain("transformer_ffn", transformer_ffn, "tanh GELU, residual, layer norm with sqrt"),
    _plain("depthwise_multiplier_bn", depthwise_multiplier_bn, "depthwise multiplier 2 and batch norm"),
    _plain("log_magnitude", log_magnitude, "strided conv1d, abs, log"),
    _plain("pixel_shuffle_sr", pixel_shuffle_sr, "super-resolution with depth_to_space"),
    _plain("conv3d_video", conv3d_video, "3-D conv on a clip"),
    _plain("static_lstm_long", static_lstm_long, "unrolled LSTM, 16 steps"),
    _plain("feature_crop_pad", feature_crop_pad, "strided-slice crop, pad, concat"),
    _plain("reduce_prod_gate", reduce_prod_gate, "product of sigmoid gates"),
    _plain("leaky_by_maximum", leaky_by_maximum, "leaky relu written as max(x, 0.2x)"),
    _plain("swish_avgpool", swish_avgpool, "swish then average pool"),
    _plain("broadcast_where_sum", broadcast_where_sum, "broadcasting where and a sum"),
    _plain("debug_ops_in_path", debug_ops_in_path, "check_numerics, stop_gradient and identity on the path"),
    _plain("embedding_int64", embedding_int64, "int64 ids into an embedding"),
    _plain("one_hot_head", one_hot_head, "one-hot encoded ids"),
    _plain("relu6_by_minimum", relu6_by_minimum, "relu6 written as min(relu(x), 6)"),
    _plain("channel_centering", channel_centering, "subtracting the channel mean"),
    _plain("tensor_array_scan", tensor_array_scan, "a v2 while_loop writing a TensorArray, no RNN cell"),
    _plain("function_conv_block", function_conv_block, "conv block inside a tf.function call"),
    _plain("function_with_erf", function_with_erf, "erf (no GELU) inside a tf.function call"),
    _plain("nested_functions", nested_functions, "a tf.function calling another"),
    _plain("cond_on_input", cond_on_input, "tf.cond on a value computed from the input"),
    _plain("space_to_depth_stem", space_to_depth_stem, "space_to_depth stem"),
    _plain("float16_input_cast", float16_input_cast, "float16 input cast to float32"),
    _plain("gather_axis_head", gather_axis_head, "gather along axis 1"),
    _plain("resize_crop_head", resize_crop_head, "bilinear resize then a strided-slice crop"),
]

# The grown corpus (kinds.py).
GROWN = [
    # keras.applications, weights=None, at the smallest input they take, frozen the TF2 way
    _plain("app_mobilenet_a025_1000", k.keras_app("MobileNet", alpha=0.25, classes=1000), "MobileNet 0.25, 1000"),
    _plain("app_efficientnetb0", k.keras_app("EfficientNetB0", size=32), "EfficientNetB0, untrained"),
    _plain("app_mobilenetv3small", k.keras_app("MobileNetV3Small", size=32), "MobileNetV3Small, untrained"),
    _plain("app_mobilenet_a075_100", k.keras_app("MobileNet", alpha=0.75, classes=100),
           "MobileNet 0.75, 100 classes, untrained"),
    _plain("app_mobilenetv2_a050_10", k.keras_app("MobileNetV2", alpha=0.5, classes=10),
           "MobileNetV2 0.5, 10 classes, untrained"),
    _plain("app_mobilenetv2_a035_1000", k.keras_app("MobileNetV2", alpha=0.35, classes=1000),
           "MobileNetV2 0.35, 1000 classes"),
    _plain("softmax1000_dense_flat", k.softmax_1000(weight_scale=0.001), "nearly equal 1000-class logits"),
    _plain("softmax1000_conv_sharp", k.softmax_1000("conv", weight_scale=0.1), "conv 1000-class head"),
    _plain("softmax1000_conv_flat", k.softmax_1000("conv", weight_scale=0.001), "conv head, flat logits"),
    _plain("app_mobilenet_a050_1000", k.keras_app("MobileNet", alpha=0.5, classes=1000),
           "MobileNet 0.5, 1000 classes, untrained"),
    _plain("softmax600_keras_peaked_bias", k.softmax_1000(way="tf2", classes=600, bias_std=1.0),
           "Keras Dense(600) softmax with spread biases"),
    # Keras recurrent layers, TF2 freeze (lowered while loops over TensorLists) and TF1 freeze
    _plain("keras_simplernn_tf2", k.keras_rnn("simple", "tf2"), "SimpleRNN, TF2 freeze"),
    _plain("keras_lstm_tf2", k.keras_rnn("lstm", "tf2"), "LSTM, TF2 freeze"),
    _plain("keras_gru_tf2", k.keras_rnn("gru", "tf2"), "GRU, TF2 freeze"),
    _plain("keras_bilstm_tf2", k.keras_rnn("bilstm", "tf2"), "bidirectional LSTM, TF2 freeze"),
    _plain("keras_convlstm_tf2", k.keras_rnn("convlstm", "tf2", steps=4), "ConvLSTM2D, TF2 freeze"),
    _plain("keras_lstm_unrolled_tf2", k.keras_rnn("lstm", "tf2", unroll=True), "LSTM unroll=True, TF2"),
    _plain("keras_gru_unrolled_seq_tf2", k.keras_rnn("gru", "tf2", unroll=True, sequences=True),
           "GRU unroll=True returning sequences, TF2"),
    _plain("keras_lstm_tf1", k.keras_rnn("lstm", "tf1"), "LSTM in a TF1 graph, v1 freeze"),
    _plain("keras_gru_tf1", k.keras_rnn("gru", "tf1"), "GRU in a TF1 graph, v1 freeze"),
    _plain("keras_bilstm_tf1", k.keras_rnn("bilstm", "tf1"), "bidirectional LSTM in a TF1 graph"),
    _plain("keras_lstm_unrolled_tf1", k.keras_rnn("lstm", "tf1", unroll=True), "LSTM unrolled, TF1 graph"),
    _plain("keras_convlstm_unrolled_tf1", k.keras_rnn("convlstm", "tf1", unroll=True, steps=3),
           "ConvLSTM2D unrolled, TF1 graph"),
    # tf.function control flow (TF2 freeze lowers it to v1 frames) and TF1 control flow
    _plain("tf2_cond", k.tf2_flow("cond"), "tf.cond in a tf.function"),
    _plain("tf2_while", k.tf2_flow("while"), "tf.while_loop in a tf.function"),
    _plain("tf2_nested_cond_in_while", k.tf2_flow("nested"), "tf.cond inside tf.while_loop"),
    _plain("tf2_tensor_array_loop", k.tf2_flow("tensor_array"), "while loop writing a TensorArray (TensorList)"),
    _plain("tf2_map_fn", k.tf2_flow("map_fn"), "tf.map_fn over the batch"),
    Case("tf1_cond_v1", "corpus", k.tf1_flow("cond"), "v1 cond (Switch/Merge)", qat_variant=False,
         control_flow_v1=True),
    Case("tf1_while_v1", "corpus", k.tf1_flow("while"), "v1 while loop", qat_variant=False,
         control_flow_v1=True),
    # audio front ends
    _plain("audio_stft_abs", k.audio("stft"), "STFT magnitude and a dense classifier"),
    _plain("audio_rfft_abs", k.audio("rfft"), "framed, windowed RFFT and ComplexAbs"),
    _plain("audio_mfcc_tf2", k.audio("mfcc", way="tf2"), "log-mel MFCCs in a tf.function"),
    _plain("audio_logmel", k.audio("logmel"), "log-mel power spectrogram"),
    _plain("audio_raw_mfcc", k.audio("raw_mfcc"), "AudioSpectrogram and Mfcc ops"),
    _plain("audio_rfft_tf2", k.audio("rfft", way="tf2"), "RFFT front end in a tf.function"),
    _plain("audio_wav_cut_stft", k.audio("stft", cut=True), "DecodeWav above the fed samples, STFT"),
    # text heads
    _plain("text_label_gather", k.label_table(), "string label table gathered after ArgMax"),
    _plain("text_label_topk_tf2", k.label_table("tf2", top_k=True), "top-3 scores and their labels, TF2"),
    _plain("text_hash_lookup", k.hash_lookup(), "string tokens through a StaticHashTable into an embedding"),
    _plain("text_hash_lookup_tf2", k.hash_lookup("tf2"), "StaticHashTable lookup in a tf.function"),
    _plain("text_hash_cut_ids", k.hash_lookup(feed_ids=True), "hash table above the fed token ids"),
    _plain("keras_text_embedding_pool", k.keras_text("pool"), "Embedding and average pooling"),
    _plain("keras_text_gru", k.keras_text("gru"), "Embedding and GRU"),
    # detection post-processing
    _plain("det_nms_v3", k.detection("nms_v3"), "box decode and NonMaxSuppressionV3"),
    _plain("det_nms_v4_padded", k.detection("nms_v4"), "padded NonMaxSuppressionV4"),
    _plain("det_nms_v4_tf2", k.detection("nms_v4", way="tf2"), "padded NMS in a tf.function"),
    _plain("det_nms_v5_soft_tf2", k.detection("nms_v5", way="tf2"), "soft NMS (V5) in a tf.function"),
    _plain("det_combined_nms", k.detection("combined"), "CombinedNonMaxSuppression"),
    _plain("det_topk_gather_tf2", k.detection("topk", way="tf2"), "top-k scores and gathered boxes, TF2"),
    # QAT graphs
    _plain("qat_dense_full", k.qat("dense"), "fake-quant MLP, every range"),
    _plain("qat_depthwise_full", k.qat("depthwise"), "fake-quant depthwise block, every range"),
    _plain("qat_residual_partial", k.qat("residual", "no_residual"), "residual add without a range"),
    _plain("qat_concat_full", k.qat("concat"), "fake-quant branches and concat"),
    _plain("qat_pool_full", k.qat("pool"), "QAT conv, max pool on a ranged tensor, conv, mean"),
    _plain("qat_residual_float_weights", k.qat("residual", "no_weights"), "activations ranged, weights float"),
    _plain("qat_dense_no_output", k.qat("dense", "no_output"), "last matmul without a range"),
    _plain("qat_args_net", k.qat_args_net(), "fake_quant_with_min_max_args activations"),
    _plain("qat_per_channel_net", k.qat_args_net(per_channel=True), "per-channel weight fake-quant"),
    # inputs that name an intermediate tensor
    _plain("cut_decode_raw", k.cut_input("decode_raw"), "DecodeRaw above the fed image"),
    _plain("cut_csv", k.cut_input("csv"), "DecodeCSV above the fed values"),
    _plain("cut_uint8_normalize", k.cut_input("uint8_normalize"), "uint8 image normalised above the cut"),
    _plain("cut_resize_crop", k.cut_input("resize_crop"), "dynamic-size resize and crop above the cut"),
    _plain("cut_tf2_decode_raw", k.tf2_cut("raw"), "TF2 serving function decoding bytes, fed after"),
    # transposes of rank 5 to 7
    _plain("transpose_r5", k.transpose_net((1, 2, 3, 4, 5), (0, 4, 3, 2, 1)), "rank-5 transpose"),
    _plain("transpose_r6_reverse", k.transpose_net((1, 2, 3, 2, 3, 2), (0, 5, 4, 3, 2, 1)),
           "rank-6 transpose reversing the axes"),
    _plain("transpose_r7_reverse", k.transpose_net((1, 2, 3, 2, 3, 2, 3), (0, 6, 5, 4, 3, 2, 1)),
           "rank-7 transpose, no axes mergeable"),
    _plain("transpose_r7_mergeable", k.transpose_net((1, 2, 3, 2, 3, 2, 3), (0, 1, 2, 3, 4, 6, 5)),
           "rank-7 transpose whose leading axes merge"),
    # int8 DIV by a computed tensor
    _plain("div_by_channel_mean", k.div_net(0.0), "divide by the channel mean of |x| (range from 0)"),
    _plain("div_by_channel_mean_eps1", k.div_net(1.0), "divide by the channel mean plus 1"),
    _plain("div_by_input_near_zero", k.div_net(0.01, "input"), "divide by an input ranging from 0.01"),
    # 1000-class softmax heads
    _plain("softmax1000_dense", k.softmax_1000(), "dense 1000-class softmax, small weights"),
    _plain("softmax1000_conv", k.softmax_1000("conv"), "conv features into a 1000-class softmax"),
    _plain("softmax1000_keras_tf2", k.softmax_1000(way="tf2"), "Keras Dense(1000, softmax), TF2"),
    # string and complex tensors
    _plain("complex_fft_parts", k.string_complex("complex_fft"), "FFT of a complex tensor, real and imag"),
    _plain("complex_magnitude", k.string_complex("complex_mag"), "tf.complex and ComplexAbs"),
    _plain("string_passthrough", k.string_complex("string_passthrough"), "a string key passed to the output"),
    _plain("string_join_label", k.string_complex("string_join"), "a label string joined into a sentence"),
    # small Keras models frozen the TF2 way
    _plain("keras_cnn_mnist", k.keras_small("cnn"), "Keras MNIST CNN with batch norm and dropout"),
    _plain("keras_transformer", k.keras_small("transformer"), "Keras MultiHeadAttention encoder block"),
    _plain("keras_unet_bilinear", k.keras_small("unet"), "Keras encoder, bilinear upsampling, concat"),
    _plain("keras_multi_io", k.keras_small("multi_io"), "Keras model with two inputs and two outputs"),
]

CASES = FIRST + GROWN
