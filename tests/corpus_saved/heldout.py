"""The SavedModel corpus, held-out split: SavedModels that rules are never written or tuned against.

Same kinds as the dev split (models.py), other models: other layers, savers, signatures and control flow. A miss
here is fixed only by fixing its whole class, then new held-out models of that class are added.
"""

from __future__ import annotations

from saved_kit import Inp, export_keras, save_functions, saved_case, tf_save_keras, tf_save_keras_direct, variable


def keras_simple_rnn_export(b, tf, out):
    def make(keras):
        x = keras.Input((7, 5), name="sequence")
        y = keras.layers.SimpleRNN(6)(keras.layers.Dense(5, activation="relu")(x))
        return keras.Model(x, keras.layers.Dense(2, activation="sigmoid")(y))

    export_keras(b, tf, out, make, [Inp("sequence", (1, 7, 5))])


def module_rnn_fixed_batch(b, tf, out):
    """A recurrent cell unrolled by tf.while_loop into a TensorArray, its signature's batch fixed at 1."""
    m = tf.Module()
    m.w, m.u = variable(b, tf, (4, 6), 0.3), variable(b, tf, (6, 6), 0.3)

    def serve(x):
        steps = tf.transpose(x, (1, 0, 2))
        arr = tf.TensorArray(tf.float32, size=5, element_shape=(1, 6))

        def body(i, h, arr):
            h = tf.nn.relu(tf.matmul(steps[i], m.w) + tf.matmul(h, m.u))
            return i + 1, h, arr.write(i, h)

        _, h, arr = tf.while_loop(lambda i, h, a: i < 5, body, (0, tf.zeros((1, 6)), arr))
        return {"last": h, "all": tf.reduce_mean(arr.stack(), 0)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 5, 4))])})


def keras_residual_dynamic_tfsave(b, tf, out):
    def make(keras):
        x = keras.Input((8, 8, 4), name="image")
        y = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
        y = keras.layers.Conv2D(4, 3, padding="same")(y)
        y = keras.layers.Activation("relu")(keras.layers.Add()([x, y]))
        y = keras.layers.AveragePooling2D(2)(y)
        return keras.Model(x, keras.layers.Dense(2)(keras.layers.Flatten()(y)))

    tf_save_keras(b, tf, out, make, [Inp("image", (3, 8, 8, 4), declared=(None, 8, 8, 4))])


def keras_conv_bn_tfsave_direct(b, tf, out):
    def make(keras):
        x = keras.Input((16, 16, 3), name="image")
        y = keras.layers.Conv2D(8, 3, strides=2, use_bias=False)(x)
        y = keras.layers.BatchNormalization()(y)
        y = keras.layers.ReLU()(y)
        y = keras.layers.GlobalAveragePooling2D()(y)
        return keras.Model(x, keras.layers.Dense(5, activation="softmax")(y))

    tf_save_keras_direct(b, tf, out, make, [Inp("inputs", (1, 16, 16, 3), declared=(None, 16, 16, 3))])


def keras_gru_tfsave(b, tf, out):
    def make(keras):
        x = keras.Input((6, 3), name="sequence")
        return keras.Model(x, keras.layers.Dense(2)(keras.layers.GRU(4)(x)))

    tf_save_keras(b, tf, out, make, [Inp("sequence", (1, 6, 3), declared=(None, 6, 3))])


def keras_simple_rnn_tfsave_direct(b, tf, out):
    def make(keras):
        x = keras.Input((5, 3), name="sequence")
        return keras.Model(x, keras.layers.Dense(2)(keras.layers.SimpleRNN(6)(x)))

    tf_save_keras_direct(b, tf, out, make, [Inp("inputs", (1, 5, 3), declared=(None, 5, 3))])


def keras_embedding_tfsave_direct(b, tf, out):
    def make(keras):
        x = keras.Input((10,), dtype="int32", name="tokens")
        y = keras.layers.Embedding(50, 8)(x)
        y = keras.layers.GlobalAveragePooling1D()(y)
        return keras.Model(x, keras.layers.Dense(3)(y))

    tf_save_keras_direct(b, tf, out, make, [Inp("inputs", (1, 10), dtype="int32", low=0, high=49,
                                                declared=(None, 10))])


def module_conv_reshape_computed(b, tf, out):
    m = tf.Module()
    m.k, m.w = variable(b, tf, (3, 3, 3, 4)), variable(b, tf, (6 * 6 * 4, 2))

    def serve(x):
        y = tf.nn.relu(tf.nn.conv2d(x, m.k, 1, "SAME"))
        y = tf.reshape(y, tf.stack([tf.shape(y)[0], -1]))
        return {"y": tf.matmul(y, m.w)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 6, 6, 3), declared=(None, 6, 6, 3))])})


def module_reshape_computed_static_tail(b, tf, out):
    m = tf.Module()
    m.w = variable(b, tf, (8, 3))

    def serve(x):
        y = tf.reshape(tf.tanh(x), (tf.shape(x)[0], 4, 8))
        return {"y": tf.reduce_mean(tf.matmul(y, m.w), axis=1)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 32), declared=(None, 32))])})


def keras_reshape_layer_export(b, tf, out):
    def make(keras):
        x = keras.Input((20,), name="features")
        y = keras.layers.Reshape((4, 8))(keras.layers.Dense(32, activation="relu")(x))
        y = keras.layers.Conv1D(6, 2)(y)
        return keras.Model(x, keras.layers.Dense(3)(keras.layers.Flatten()(y)))

    export_keras(b, tf, out, make, [Inp("features", (1, 20))])


def module_while_in_cond(b, tf, out):
    m = tf.Module()
    m.w = variable(b, tf, (6, 6), 0.3)

    def loop(x):
        _, y = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.nn.relu(tf.matmul(h, m.w))), (0, x))
        return y

    def serve(x):
        return {"y": tf.cond(tf.reduce_max(x) > 0.5, lambda: loop(x), lambda: x * 2.0)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 6))])})


def module_scan(b, tf, out):
    m = tf.Module()
    m.w = variable(b, tf, (5, 5), 0.3)

    def serve(x):
        return {"y": tf.scan(lambda acc, row: tf.tanh(tf.linalg.matvec(m.w, acc) + row), x,
                             initializer=tf.zeros((5,)))}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (4, 5))])})


def module_three_signatures(b, tf, out):
    m = tf.Module()
    m.w1, m.w2 = variable(b, tf, (6, 6)), variable(b, tf, (6, 2))

    def encode(x):
        return {"code": tf.nn.elu(tf.matmul(x, m.w1))}

    def classify(x):
        return {"logits": tf.matmul(tf.nn.elu(tf.matmul(x, m.w1)), m.w2)}

    def serve(x, mask):
        return {"masked": tf.matmul(x * mask, m.w1)}

    save_functions(b, tf, out, m, {
        "encode": (encode, [Inp("x", (1, 6))]), "classify": (classify, [Inp("x", (1, 6))]),
        "serving_default": (serve, [Inp("x", (2, 6), declared=(None, 6)), Inp("mask", (2, 6), declared=(None, 6),
                                                                               low=0.0, high=1.0)])})


def module_qat_sequence_dense(b, tf, out):
    """A QAT-style sequence model: a dense step over every time step (a 3-D matmul) whose weights are
    fake-quantized per output channel, then pooling and a per-tensor fake-quantized head."""
    m = tf.Module()
    m.w, m.head = variable(b, tf, (8, 6)), variable(b, tf, (6, 3))
    fq, fq_pc = tf.quantization.fake_quant_with_min_max_vars, tf.quantization.fake_quant_with_min_max_vars_per_channel

    def serve(frames):
        x = fq(frames, -1.0, 1.0)
        h = fq(tf.nn.relu(tf.matmul(x, fq_pc(m.w, [-1.2] * 6, [1.2] * 6))), 0.0, 6.0)
        h = fq(tf.reduce_mean(h, 1), 0.0, 6.0)
        return {"scores": fq(tf.matmul(h, fq(m.head, -1.5, 1.5)), -8.0, 8.0)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("frames", (1, 5, 8))])})


def module_qat_conv_per_channel(b, tf, out):
    """The usual QAT recipe: convolution weights fake-quantized per channel, the dense head per tensor."""
    m = tf.Module()
    m.k, m.head = variable(b, tf, (3, 3, 3, 6)), variable(b, tf, (6, 4))
    fq, fq_pc = tf.quantization.fake_quant_with_min_max_vars, tf.quantization.fake_quant_with_min_max_vars_per_channel

    def serve(image):
        x = fq(image, 0.0, 1.0)
        y = tf.nn.conv2d(x, fq_pc(m.k, [-1.5] * 6, [1.5] * 6), 1, "SAME")
        y = fq(tf.nn.relu6(y), 0.0, 6.0)
        y = fq(tf.reduce_mean(y, (1, 2)), 0.0, 6.0)
        return {"logits": fq(tf.matmul(y, fq(m.head, -1.5, 1.5)), -10.0, 10.0)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("image", (1, 12, 12, 3), low=0.0, high=1.0)])})


def module_qat_dense_out_in(b, tf, out):
    """Dense weights stored (out, in), as PyTorch-style code keeps them: transposed before their per-channel
    fake-quant, then a plain matmul."""
    m = tf.Module()
    m.w = variable(b, tf, (5, 10))

    def serve(x):
        w = tf.quantization.fake_quant_with_min_max_vars_per_channel(tf.transpose(m.w), [-1.0] * 5, [1.0] * 5)
        y = tf.matmul(tf.quantization.fake_quant_with_min_max_vars(x, -2.0, 2.0), w)
        return {"y": tf.quantization.fake_quant_with_min_max_vars(y, -6.0, 6.0)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 10), low=-2.0, high=2.0)])})


def keras_per_channel_dense_export(b, tf, out):
    """A Keras layer of one's own that fake-quantizes its kernel per output channel; model.export."""
    def make(keras):
        class QuantDense(keras.layers.Layer):
            def __init__(self, units, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def build(self, shape):
                self.kernel = self.add_weight(shape=(shape[-1], self.units), initializer="glorot_uniform")

            def call(self, x):
                k = tf.quantization.fake_quant_with_min_max_vars_per_channel(
                    self.kernel, [-1.0] * self.units, [1.0] * self.units)
                return tf.matmul(x, k)

        x = keras.Input((12,), name="features")
        return keras.Model(x, keras.layers.Softmax()(QuantDense(4)(keras.layers.Dense(8, activation="relu")(x))))

    export_keras(b, tf, out, make, [Inp("features", (1, 12))])


def string_labels_out(b, tf, out):
    """A classifier whose head maps the argmax to a label string."""
    m = tf.Module()
    m.w = variable(b, tf, (8, 3))
    labels = tf.constant(["cat", "dog", "bird"])

    def serve(x):
        return {"label": tf.gather(labels, tf.argmax(tf.matmul(x, m.w), 1))}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 8))])})


CASES = [
    saved_case("ho_sm_keras_simple_rnn_export", keras_simple_rnn_export, "Dense then SimpleRNN, batch None; export"),
    saved_case("ho_sm_module_rnn_fixed_batch", module_rnn_fixed_batch,
               "while_loop filling a TensorArray, signature batch 1"),
    saved_case("ho_sm_keras_residual_dynamic_tfsave", keras_residual_dynamic_tfsave,
               "residual block, batch None; tf.saved_model.save"),
    saved_case("ho_sm_keras_conv_bn_tfsave_direct", keras_conv_bn_tfsave_direct,
               "Conv2D, BatchNorm, pooling; tf.saved_model.save(model)"),
    saved_case("ho_sm_keras_gru_tfsave", keras_gru_tfsave, "GRU classifier; tf.saved_model.save of a tf.Module"),
    saved_case("ho_sm_keras_simple_rnn_tfsave_direct", keras_simple_rnn_tfsave_direct,
               "SimpleRNN classifier; tf.saved_model.save(model)"),
    saved_case("ho_sm_keras_embedding_tfsave_direct", keras_embedding_tfsave_direct,
               "int32 tokens, Embedding, pooling; tf.saved_model.save(model)"),
    saved_case("ho_sm_module_conv_reshape_computed", module_conv_reshape_computed,
               "conv, then reshape to (tf.shape(y)[0], -1), batch None"),
    saved_case("ho_sm_module_reshape_computed_static_tail", module_reshape_computed_static_tail,
               "reshape to (tf.shape(x)[0], 4, 8), batch None"),
    saved_case("ho_sm_keras_reshape_layer_export", keras_reshape_layer_export, "Keras Reshape and Conv1D; export"),
    saved_case("ho_sm_module_while_in_cond", module_while_in_cond, "a while_loop inside a tf.cond branch"),
    saved_case("ho_sm_module_scan", module_scan, "tf.scan of a recurrent step"),
    saved_case("ho_sm_module_three_signatures", module_three_signatures,
               "three signatures; serving_default with two inputs, batch None"),
    saved_case("ho_sm_module_qat_sequence_dense", module_qat_sequence_dense,
               "QAT-like: per-channel fake-quant weights of a 3-D matmul, per-tensor head"),
    saved_case("ho_sm_module_qat_conv_per_channel", module_qat_conv_per_channel,
               "QAT-like: per-channel conv weights, per-tensor dense head"),
    saved_case("ho_sm_module_qat_dense_out_in", module_qat_dense_out_in,
               "QAT-like: (out, in) weights transposed, then per-channel fake-quant and matmul"),
    saved_case("ho_sm_keras_per_channel_dense_export", keras_per_channel_dense_export,
               "Keras layer fake-quantizing its kernel per channel; model.export"),
    saved_case("ho_sm_string_labels_out", string_labels_out, "argmax to a label string output"),
]
