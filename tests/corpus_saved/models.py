"""The SavedModel corpus, dev split: small SavedModels of the kinds users bring, written in code with TensorFlow.

Each case writes a SavedModel directory (saved_kit.py); ``scripts/judge_corpus.py --corpus saved`` converts it
with ``TFLiteConverter.from_saved_model`` under every target the SavedModel path has, runs the results in LiteRT
and TFLite Micro and records the outcome in outcomes.json; test_saved_corpus.py compares graphlint's verdicts
with it. The held-out split is heldout.py; cases.py joins both.
"""

from __future__ import annotations

from saved_kit import Inp, export_keras, record, save_functions, saved_case, tf_save_keras, variable

# -- Keras models written by model.export or tf.saved_model.save ------------------------------------------------


def keras_cnn_export(b, tf, out):
    def make(keras):
        x = keras.Input((16, 16, 3), name="image")
        y = keras.layers.Conv2D(8, 3, strides=2, padding="same")(x)
        y = keras.layers.BatchNormalization()(y)
        y = keras.layers.ReLU(6.0)(y)
        y = keras.layers.MaxPooling2D()(y)
        y = keras.layers.GlobalAveragePooling2D()(y)
        return keras.Model(x, keras.layers.Dense(5, activation="softmax")(y))

    export_keras(b, tf, out, make, [Inp("image", (1, 16, 16, 3), low=0.0, high=1.0)])


def keras_mlp_tfsave(b, tf, out):
    def make(keras):
        x = keras.Input((12,), name="features")
        y = keras.layers.Dense(16, activation="relu")(x)
        y = keras.layers.Dropout(0.3)(y)
        return keras.Model(x, keras.layers.Dense(3)(y))

    tf_save_keras(b, tf, out, make, [Inp("features", (1, 12), declared=(None, 12))])


def keras_lstm_export(b, tf, out):
    def make(keras):
        x = keras.Input((8, 6), name="sequence")
        y = keras.layers.LSTM(8)(x)
        return keras.Model(x, keras.layers.Dense(3, activation="softmax")(y))

    export_keras(b, tf, out, make, [Inp("sequence", (1, 8, 6))])


def keras_gru_export(b, tf, out):
    def make(keras):
        x = keras.Input((10, 4), name="sequence")
        y = keras.layers.GRU(6, return_sequences=True)(x)
        y = keras.layers.GlobalAveragePooling1D()(y)
        return keras.Model(x, keras.layers.Dense(2)(y))

    export_keras(b, tf, out, make, [Inp("sequence", (1, 10, 4))])


def keras_mobilenetv2_export(b, tf, out):
    def make(keras):
        return keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=10)

    export_keras(b, tf, out, make, [Inp("keras_tensor", (1, 32, 32, 3), low=0.0, high=1.0)])


def keras_embedding_conv1d_export(b, tf, out):
    def make(keras):
        x = keras.Input((16,), dtype="int32", name="tokens")
        y = keras.layers.Embedding(50, 8)(x)
        y = keras.layers.Conv1D(8, 3, activation="relu")(y)
        y = keras.layers.GlobalMaxPooling1D()(y)
        return keras.Model(x, keras.layers.Dense(2)(y))

    export_keras(b, tf, out, make, [Inp("tokens", (1, 16), dtype="int32", low=0, high=49)])


def keras_attention_export(b, tf, out):
    def make(keras):
        x = keras.Input((6, 8), name="tokens")
        y = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
        y = keras.layers.LayerNormalization()(y + x)
        y = keras.layers.GlobalAveragePooling1D()(y)
        return keras.Model(x, keras.layers.Dense(4, activation="gelu")(y))

    export_keras(b, tf, out, make, [Inp("tokens", (1, 6, 8))])


# -- tf.Modules: control flow, signatures, dynamic batch, fake-quant ---------------------------------------------


def keras_separable_export(b, tf, out):
    def make(keras):
        x = keras.Input((12, 12, 4), name="image")
        y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        y = keras.layers.SeparableConv2D(8, 3, strides=2)(y)
        y = keras.layers.Flatten()(y)
        return keras.Model(x, keras.layers.Dense(4)(y))

    export_keras(b, tf, out, make, [Inp("image", (1, 12, 12, 4), low=0.0, high=1.0)])


def keras_bilstm_tfsave(b, tf, out):
    def make(keras):
        x = keras.Input((6, 5), name="sequence")
        y = keras.layers.Bidirectional(keras.layers.LSTM(4))(x)
        return keras.Model(x, keras.layers.Dense(3, activation="softmax")(y))

    tf_save_keras(b, tf, out, make, [Inp("sequence", (1, 6, 5))])


def module_cond(b, tf, out):
    m = tf.Module()
    m.w, m.v = variable(b, tf, (8, 4)), variable(b, tf, (8, 4))

    def serve(x):
        y = tf.cond(tf.reduce_mean(x) > 0.0, lambda: tf.matmul(x, m.w), lambda: tf.nn.relu(tf.matmul(x, m.v)))
        return {"y": y}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 8))])})


def module_while(b, tf, out):
    m = tf.Module()
    m.w = variable(b, tf, (8, 8), 0.2)

    def serve(x):
        _, y = tf.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, m.w) + x)),
                             (tf.constant(0), x))
        return {"y": y}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 8))])})


def module_map_fn(b, tf, out):
    m = tf.Module()
    m.w = variable(b, tf, (6, 4))

    def serve(x):
        return {"y": tf.map_fn(lambda row: tf.nn.relu(tf.linalg.matvec(m.w, row, transpose_a=True)), x)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (3, 6))])})


def _two_signature_module(b, tf):
    m = tf.Module()
    m.w = variable(b, tf, (10, 4))

    def serve(x):
        return {"logits": tf.matmul(x, m.w)}

    def scaled(x, scale):
        return {"probs": tf.nn.softmax(tf.matmul(x * scale, m.w))}

    sigs = {"serving_default": (serve, [Inp("x", (1, 10))]),
            "scaled": (scaled, [Inp("x", (1, 10)), Inp("scale", (1, 1), low=0.5, high=2.0)])}
    return m, sigs


def module_two_signatures_scaled(b, tf, out):
    m, sigs = _two_signature_module(b, tf)
    save_functions(b, tf, out, m, sigs, judged="scaled")


def module_two_signatures_default(b, tf, out):
    m, sigs = _two_signature_module(b, tf)
    save_functions(b, tf, out, m, sigs)


def module_dynamic_batch(b, tf, out):
    m = tf.Module()
    m.w = variable(b, tf, (4 * 4 * 2, 3))

    def serve(x):
        y = tf.nn.relu(x)
        y = tf.reshape(y, (tf.shape(y)[0], -1))
        return {"y": tf.matmul(y, m.w)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (2, 4, 4, 2), declared=(None, 4, 4, 2))])})


def module_fake_quant(b, tf, out):
    m = tf.Module()
    m.k, m.w = variable(b, tf, (3, 3, 3, 8)), variable(b, tf, (8, 4))

    def fq(t, low, high):
        return tf.quantization.fake_quant_with_min_max_vars(t, low, high)

    def serve(x):
        y = fq(x, 0.0, 1.0)
        y = tf.nn.conv2d(y, fq(m.k, -1.5, 1.5), 1, "SAME")
        y = fq(tf.nn.relu6(y), 0.0, 6.0)
        y = tf.reduce_mean(y, [1, 2])
        return {"y": fq(tf.matmul(y, fq(m.w, -1.5, 1.5)), -8.0, 8.0)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 8, 8, 3), low=0.0, high=1.0)])})


def module_fake_quant_per_channel_matmul(b, tf, out):
    m = tf.Module()
    m.w = variable(b, tf, (10, 6))

    def serve(x):
        y = tf.quantization.fake_quant_with_min_max_args(x, -1.0, 1.0)
        w = tf.quantization.fake_quant_with_min_max_vars_per_channel(m.w, [-1.5] * 6, [1.5] * 6)
        y = tf.nn.relu(tf.matmul(y, w))
        return {"y": tf.quantization.fake_quant_with_min_max_args(y, 0.0, 6.0)}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 10))])})


def string_lookup_head(b, tf, out):
    """String tokens looked up in a vocabulary table, embedded and classified."""
    m = tf.Module()
    words = ["red", "green", "blue", "cyan", "black"]
    m.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(words, list(range(5)), tf.string,
                                                                            tf.int64), default_value=5)
    m.emb, m.w = variable(b, tf, (6, 4)), variable(b, tf, (4, 2))

    def serve(words_in):
        ids = m.table.lookup(words_in)
        y = tf.reduce_mean(tf.gather(m.emb, ids), 1)
        return {"y": tf.matmul(y, m.w)}

    save_functions(b, tf, out, m, {"serving_default": (
        serve, [Inp("words_in", (1, 4), dtype="string", choices=(*words, "white"))])})


def module_topk_int_output(b, tf, out):
    m = tf.Module()
    m.w = variable(b, tf, (16, 10))

    def serve(x):
        values, indices = tf.math.top_k(tf.nn.softmax(tf.matmul(x, m.w)), 3)
        return {"scores": values, "classes": indices}

    save_functions(b, tf, out, m, {"serving_default": (serve, [Inp("x", (1, 16))])})


def tf1_simple_save(b, tf, out):
    """A TF1 SavedModel (SavedModelBuilder, a reference variable), the signature reading the graph itself."""
    tf1 = tf.compat.v1
    value = (b.rng.standard_normal((8, 4)) * 0.5).astype("float32")
    with tf.Graph().as_default() as graph, tf1.Session(graph=graph) as sess:
        x = tf1.placeholder(tf.float32, (None, 8), name="x")
        w = tf1.Variable(value, name="w", use_resource=False)
        y = tf.nn.sigmoid(tf.matmul(x, w), name="y")
        sess.run(tf1.global_variables_initializer())
        builder = tf1.saved_model.Builder(out)
        sig = tf1.saved_model.predict_signature_def({"x": x}, {"y": y})
        builder.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={"serving_default": sig})
        builder.save()
    record(b, tf, out, [Inp("x", (1, 8))])


CASES = [
    saved_case("sm_keras_cnn_export", keras_cnn_export, "Keras conv, BN, ReLU6, pool; model.export"),
    saved_case("sm_keras_mlp_tfsave", keras_mlp_tfsave, "Keras MLP with dropout; tf.saved_model.save"),
    saved_case("sm_keras_lstm_export", keras_lstm_export, "Keras LSTM classifier; model.export"),
    saved_case("sm_keras_gru_export", keras_gru_export, "GRU sequences and pooling; model.export"),
    saved_case("sm_keras_mobilenetv2_export", keras_mobilenetv2_export, "MobileNetV2 0.35, 32x32; model.export"),
    saved_case("sm_keras_embedding_conv1d_export", keras_embedding_conv1d_export,
               "int32 tokens, Embedding, Conv1D; model.export"),
    saved_case("sm_keras_attention_export", keras_attention_export,
               "MultiHeadAttention, LayerNorm, gelu; model.export"),
    saved_case("sm_keras_separable_export", keras_separable_export, "Depthwise and SeparableConv2D; export"),
    saved_case("sm_keras_bilstm_tfsave", keras_bilstm_tfsave, "bidirectional LSTM; tf.saved_model.save"),
    saved_case("sm_module_cond", module_cond, "tf.Module, tf.cond on the input's mean"),
    saved_case("sm_module_while", module_while, "tf.Module, tf.while_loop of a recurrent dense layer"),
    saved_case("sm_module_map_fn", module_map_fn, "tf.Module, tf.map_fn over rows"),
    saved_case("sm_module_two_signatures_scaled", module_two_signatures_scaled,
               "two signatures; the second, two inputs, judged"),
    saved_case("sm_module_two_signatures_default", module_two_signatures_default,
               "two signatures; serving_default judged"),
    saved_case("sm_module_dynamic_batch", module_dynamic_batch, "batch dimension None, reshape by tf.shape"),
    saved_case("sm_module_fake_quant", module_fake_quant, "QAT-like: FakeQuantWithMinMaxVars on I/O and weights"),
    saved_case("sm_module_fake_quant_per_channel_matmul", module_fake_quant_per_channel_matmul,
               "QAT-like: FakeQuantWithMinMaxArgs, per-channel fake-quant of MatMul weights"),
    saved_case("sm_string_lookup_head", string_lookup_head, "string input, StaticHashTable lookup, embedding"),
    saved_case("sm_module_topk_int_output", module_topk_int_output, "top_k scores and int32 classes"),
    saved_case("sm_tf1_simple_save", tf1_simple_save, "TF1 SavedModelBuilder, reference variable"),
]
