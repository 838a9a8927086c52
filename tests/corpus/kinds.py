"""Model kinds of the grown corpus, as builder factories: each returns a ``build(b, tf)`` for a probe_ops Case.

models.py (dev) and heldout.py (held out) pick their own parameters from these kinds, so both sets cover every
kind without sharing a model. Weights are random with the case's seed; Keras weights come from the seed that
corpus_kit.reset_keras sets.
"""

from __future__ import annotations

from corpus_kit import Inp, feed, frozen_tf2, reset_keras
from probe_ops import conv

# -- keras.applications, weights=None, frozen the TF2 way -------------------------------------------------------


def keras_app(name, size=32, classes=10, **kw):
    def build(b, tf):
        def make():
            import keras

            app = getattr(keras.applications, name)
            return app(input_shape=(size, size, 3), weights=None, classes=classes, **kw)

        frozen_tf2(b, tf, make, [Inp("image", (1, size, size, 3), low=0.0, high=255.0 if "V3" in name else 1.0)],
                   keras_model=True)

    return build


# -- Keras recurrent layers, frozen the TF2 way or the TF1 way --------------------------------------------------


def _rnn_layer(keras, layer, units, unroll, sequences):
    if layer == "bilstm":
        return keras.layers.Bidirectional(keras.layers.LSTM(units, unroll=unroll, return_sequences=sequences))
    if layer == "bigru":
        return keras.layers.Bidirectional(keras.layers.GRU(units, unroll=unroll, return_sequences=sequences))
    if layer == "convlstm":
        return keras.layers.ConvLSTM2D(units, 3, padding="same", unroll=unroll, return_sequences=sequences)
    cls = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[layer]
    return cls(units, unroll=unroll, return_sequences=sequences)


def _rnn_shape(layer, steps, features):
    return (1, steps, 8, 8, 2) if layer == "convlstm" else (1, steps, features)


def keras_rnn(layer, way, unroll=False, steps=8, features=6, units=8, sequences=False, head=3):
    """A Keras recurrent classifier: ``way`` is "tf2" (concrete function, v2 freeze) or "tf1" (graph, v1 freeze)."""
    shape = _rnn_shape(layer, steps, features)

    def stack(keras, x):
        y = _rnn_layer(keras, layer, units, unroll, sequences)(x)
        if layer == "convlstm":
            y = keras.layers.GlobalAveragePooling2D()(y if not sequences else y[:, -1])
        elif sequences:
            y = keras.layers.GlobalAveragePooling1D()(y)
        return keras.layers.Dense(head, activation="softmax")(y)

    def build(b, tf):
        if way == "tf2":
            def make():
                import keras

                x = keras.Input(shape[1:], batch_size=1)
                return keras.Model(x, stack(keras, x))

            frozen_tf2(b, tf, make, [Inp("x", shape)], keras_model=True)
        else:
            keras = reset_keras(b)
            b.output(stack(keras, b.input(shape, "float32", -1.0, 1.0)))

    return build


# -- tf.function control flow ------------------------------------------------------------------------------------


def tf2_flow(kind, features=8):
    """A tf.function with control flow, frozen the TF2 way (lowered into v1 frames)."""
    def build(b, tf):
        def cond_model(x, w, u):
            h = tf.matmul(x, w)
            return tf.matmul(tf.cond(tf.reduce_mean(h) > 0.0, lambda: tf.nn.relu(h), lambda: tf.tanh(h)), u)

        def while_model(x, w, u):
            _, h = tf.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w) + x)),
                                 (tf.constant(0), x))
            return tf.matmul(h, u)

        def nested_model(x, w, u):
            def body(i, h):
                h = tf.matmul(h, w)
                h = tf.cond(i % 2 == 0, lambda: tf.nn.relu(h), lambda: tf.sigmoid(h))
                return i + 1, h

            _, h = tf.while_loop(lambda i, h: i < 3, body, (tf.constant(0), x))
            return tf.matmul(h, u)

        def tensor_array_model(x, w, u):
            steps = tf.transpose(x, (1, 0, 2))
            ta = tf.TensorArray(tf.float32, size=6)

            def body(i, h, ta):
                h = tf.tanh(tf.matmul(steps[i], w) + h)
                return i + 1, h, ta.write(i, h)

            _, _, ta = tf.while_loop(lambda i, h, ta: i < 6, body, (tf.constant(0), tf.zeros((1, features)), ta))
            return tf.transpose(ta.stack(), (1, 0, 2))

        def foldl(x, w, u):
            h = tf.foldl(lambda a, v: tf.nn.relu(tf.matmul(v[None], w)[0] + a), x[0], tf.zeros((features,)))
            return tf.matmul(h[None], u)

        def switch_case(x, w, u):
            h = tf.matmul(x, w)
            k = tf.cast(tf.argmax(h[0]), tf.int32) % 3
            h = tf.switch_case(k, [lambda: h, lambda: h * 2.0, lambda: -h])
            return tf.matmul(h, u)

        def map_fn(x, w, u):
            return tf.map_fn(lambda row: tf.nn.softmax(tf.matmul(row[None], u))[0], x)

        def scan(x, w, u):
            return tf.scan(lambda a, v: a * 0.9 + tf.matmul(v[None], w)[0], x[0], initializer=tf.zeros((features,)))

        def while_derived(x, w, u):  # the body reads a tensor computed from the input outside the loop
            c = tf.nn.relu(tf.matmul(x, w))
            _, h = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w) + c)),
                                 (tf.constant(0), x))
            return tf.matmul(h, u)

        def while_consts(x, w, u):  # the body reads only its loop variables and constants
            _, h = tf.while_loop(lambda i, h: i < 5, lambda i, h: (i + 1, tf.nn.relu(tf.matmul(h, w) + 0.1)),
                                 (tf.constant(0), x))
            return tf.matmul(h, u)

        def map_fn_relu(x, w, u):
            return tf.map_fn(lambda row: tf.nn.relu(tf.matmul(row[None], w))[0], x)

        def tensor_array_shaped(x, w, u):
            steps = tf.transpose(x, (1, 0, 2))
            ta = tf.TensorArray(tf.float32, size=6, element_shape=(1, features))

            def body(i, h, ta):
                h = tf.tanh(tf.matmul(steps[i], w) + h)
                return i + 1, h, ta.write(i, h)

            _, _, ta = tf.while_loop(lambda i, h, ta: i < 6, body, (tf.constant(0), tf.zeros((1, features)), ta))
            return tf.transpose(ta.stack(), (1, 0, 2))

        models = {"cond": (cond_model, (1, features)), "while": (while_model, (1, features)),
                  "while_derived": (while_derived, (1, features)), "while_consts": (while_consts, (1, features)),
                  "map_fn_relu": (map_fn_relu, (4, features)),
                  "tensor_array_shaped": (tensor_array_shaped, (1, 6, features)),
                  "nested": (nested_model, (1, features)), "tensor_array": (tensor_array_model, (1, 6, features)),
                  "foldl": (foldl, (1, 6, features)), "switch_case": (switch_case, (1, features)),
                  "map_fn": (map_fn, (5, features)), "scan": (scan, (1, 6, features))}
        model, shape = models[kind]

        def fn(x):  # weights drawn while tracing: they are constants of the traced graph
            return model(x, b.weight((features, features), 0.3), b.weight((features, 4), 0.3))

        frozen_tf2(b, tf, lambda: tf.function(fn), [Inp("x", shape)])

    return build


def tf1_flow(kind, features=8):
    """The same control flow in a TF1 graph (control flow v1 or v2 as the Case says), frozen the TF1 way."""
    def build(b, tf):
        w, u = b.weight((features, features), 0.3), b.weight((features, 4), 0.3)
        if kind == "cond":
            x = b.input((1, features), "float32", -1.0, 1.0)
            h = tf.matmul(x, w)
            h = tf.compat.v1.cond(tf.reduce_mean(h) > 0.0, lambda: tf.nn.relu(h), lambda: tf.tanh(h))
        elif kind == "while":
            x = b.input((1, features), "float32", -1.0, 1.0)
            _, h = tf.compat.v1.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w) + x)),
                                           [tf.constant(0), x])
        else:  # nested
            x = b.input((1, features), "float32", -1.0, 1.0)

            def body(i, h):
                h = tf.matmul(h, w)
                return i + 1, tf.compat.v1.cond(i < 2, lambda: tf.nn.relu(h), lambda: tf.sigmoid(h))

            _, h = tf.compat.v1.while_loop(lambda i, h: i < 3, body, [tf.constant(0), x])
        b.output(tf.matmul(h, u))

    return build


# -- audio front ends ----------------------------------------------------------------------------------------------


def audio(kind, samples=4000, way="tf1", cut=False):
    """A keyword-spotting front end and a small classifier on its features."""
    def front(tf, x, b):
        if kind == "stft":
            f = tf.abs(tf.signal.stft(x, 256, 128, 256))
        elif kind == "rfft":
            frames = tf.signal.frame(x, 256, 128) * tf.signal.hann_window(256)
            f = tf.abs(tf.signal.rfft(frames))
        elif kind == "mfcc":
            spec = tf.abs(tf.signal.stft(x, 256, 128, 256))
            mel = tf.signal.linear_to_mel_weight_matrix(20, 129, 16000, 20.0, 4000.0)
            f = tf.signal.mfccs_from_log_mel_spectrograms(tf.math.log(tf.tensordot(spec, mel, 1) + 1e-6))[..., :10]
        elif kind == "logmel":
            spec = tf.square(tf.abs(tf.signal.stft(x, 256, 128, 256)))
            mel = tf.signal.linear_to_mel_weight_matrix(16, 129, 16000, 20.0, 4000.0)
            f = tf.math.log(tf.matmul(spec, mel) + 1e-6)
        elif kind == "raw_mfcc":
            spec = tf.raw_ops.AudioSpectrogram(input=tf.transpose(x), window_size=256, stride=128,
                                               magnitude_squared=True)
            f = tf.raw_ops.Mfcc(spectrogram=spec, sample_rate=tf.constant(16000), dct_coefficient_count=10)
        else:  # raw_spectrogram
            f = tf.raw_ops.AudioSpectrogram(input=tf.transpose(x), window_size=256, stride=128,
                                            magnitude_squared=False)
        return f

    def head(tf, f, b):
        f = tf.reshape(f, (1, -1))
        return tf.nn.softmax(tf.matmul(f, b.weight((f.shape[-1], 4), 0.05)))

    def build(b, tf):
        if way == "tf2":
            def model(x):
                return head(tf, front(tf, x, b), b)

            frozen_tf2(b, tf, lambda: tf.function(model), [Inp("waveform", (1, samples))])
            return
        if cut:  # a WAV decoder above the samples the user feeds
            from probe_ops import wav_bytes

            wav = b.input((), "string", choices=(wav_bytes(),))
            audio_ = tf.audio.decode_wav(wav, desired_channels=1, desired_samples=samples).audio
            x = feed(b, tf, tf.transpose(audio_), "samples", -1.0, 1.0, (1, samples))
        else:
            x = b.input((1, samples), "float32", -1.0, 1.0)
        b.output(head(tf, front(tf, x, b), b))

    return build


# -- text heads ------------------------------------------------------------------------------------------------


LABELS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")


def label_table(way="tf1", classes=10, top_k=False):
    """A classifier whose output is a label string: a constant string table gathered after ArgMax (or top_k)."""
    labels = [LABELS[i % len(LABELS)] + ("" if i < len(LABELS) else str(i)) for i in range(classes)]

    def head(tf, x, b):
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, b.weight((16, 32)))), b.weight((32, classes)))
        table = tf.constant(labels)
        if top_k:
            scores, idx = tf.math.top_k(tf.nn.softmax(logits), 3)
            return scores, tf.gather(table, idx)
        return tf.gather(table, tf.argmax(logits, -1))

    def build(b, tf):
        if way == "tf2":
            frozen_tf2(b, tf, lambda: tf.function(lambda x: head(tf, x, b)), [Inp("x", (1, 16))])
            return
        out = head(tf, b.input((1, 16), "float32", -1.0, 1.0), b)
        for t in out if isinstance(out, tuple) else (out,):
            b.output(t, fake_quant=False)

    return build


def hash_lookup(way="tf1", vocab=20, dim=8, string_keys=True, feed_ids=False):
    """Tokens looked up in a StaticHashTable, embedded and pooled (a text classifier's front)."""
    words = [f"w{i}" for i in range(vocab)]

    def model(tf, tokens, b):
        keys = tf.constant(words) if string_keys else tf.constant(list(range(vocab)), tf.int64)
        class Initializer(tf.lookup.KeyValueTensorInitializer):
            # TF names an unnamed table "hash_table_<uuid4>"; a fixed name keeps the graph's bytes stable
            _shared_name = "hash_table_vocab"

        table = tf.lookup.StaticHashTable(Initializer(keys, tf.constant(list(range(vocab)), tf.int64)), 0)
        ids = table.lookup(tokens)
        if feed_ids:
            ids = feed(b, tf, ids, "token_ids", 0, vocab - 1)
        e = tf.reduce_mean(tf.gather(b.weight((vocab, dim)), ids), 1)
        return tf.nn.softmax(tf.matmul(e, b.weight((dim, 3))))

    def build(b, tf):
        dtype = "string" if string_keys else "int64"
        choices = tuple(words) if string_keys else ()
        if way == "tf2":
            frozen_tf2(b, tf, lambda: tf.function(lambda t: model(tf, t, b)),
                       [Inp("tokens", (1, 6), dtype, 0, vocab - 1, choices)])
            return
        tokens = b.input((1, 6), dtype, 0, vocab - 1, choices=choices)
        b.output(model(tf, tokens, b))

    return build


def keras_text(kind, vocab=50, length=10):
    """Keras text classifiers on token ids (TF2 freeze)."""
    def build(b, tf):
        def make():
            import keras

            x = keras.Input((length,), batch_size=1, dtype="int32")
            e = keras.layers.Embedding(vocab, 16)(x)
            if kind == "pool":
                y = keras.layers.GlobalAveragePooling1D()(e)
            elif kind == "conv":
                y = keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(16, 3, activation="relu")(e))
            elif kind == "gru":
                y = keras.layers.GRU(16)(e)
            else:  # attention
                y = keras.layers.MultiHeadAttention(2, 8)(e, e)
                y = keras.layers.GlobalAveragePooling1D()(keras.layers.LayerNormalization()(y + e))
            return keras.Model(x, keras.layers.Dense(4, activation="softmax")(y))

        frozen_tf2(b, tf, make, [Inp("tokens", (1, length), "int32", 0, vocab - 1)], keras_model=True)

    return build


# -- detection post-processing ----------------------------------------------------------------------------------


def detection(kind, boxes=32, way="tf1"):
    """An SSD-like head: box regression and scores from features, then NMS / top-k selection."""
    def post(tf, feats, b):
        raw = tf.matmul(feats, b.weight((8, 5), 0.3))
        centers = tf.sigmoid(raw[:, :2])
        sizes = tf.exp(raw[:, 2:4]) * 0.1
        box = tf.concat([centers - sizes, centers + sizes], -1)
        score = tf.sigmoid(raw[:, 4])
        if kind == "nms_v3":
            idx = tf.image.non_max_suppression(box, score, 10, 0.5, 0.2)
            return (tf.gather(box, idx), tf.gather(score, idx))
        if kind in ("nms_v4", "nms_v4_unpadded"):
            idx, n = tf.image.non_max_suppression_padded(box, score, 10, 0.5, 0.2,
                                                         pad_to_max_output_size=kind == "nms_v4")
            return (tf.gather(box, idx), n)
        if kind == "nms_v5":
            idx, sel = tf.image.non_max_suppression_with_scores(box, score, 10, 0.5, 0.2, soft_nms_sigma=0.5)
            return (tf.gather(box, idx), sel)
        if kind == "combined":
            classes = tf.sigmoid(tf.matmul(feats, b.weight((8, 3), 0.3)))
            out = tf.image.combined_non_max_suppression(box[None, :, None, :], classes[None], 10, 10, 0.5, 0.2)
            return (out.nmsed_boxes, out.nmsed_scores, out.nmsed_classes, out.valid_detections)
        top, idx = tf.math.top_k(score, 10)  # topk
        return (top, tf.gather(box, idx))

    def build(b, tf):
        if way == "tf2":
            frozen_tf2(b, tf, lambda: tf.function(lambda f: post(tf, f, b)), [Inp("features", (boxes, 8))])
            return
        for t in post(tf, b.input((boxes, 8), "float32", -1.0, 1.0), b):
            b.output(t, fake_quant=False)

    return build


# -- QAT graphs --------------------------------------------------------------------------------------------------


def qat(kind, coverage="full"):
    """A graph that quantization-aware training rewrote: FakeQuant on inputs, weights, activations.

    ``coverage``: "full", "no_output" (the last op has no range), "no_weights" (weights float),
    "no_residual" (the residual add or concat has no range), "per_channel" (weights ranged per output channel).
    """
    def fq(tf, t, low, high):
        return tf.quantization.fake_quant_with_min_max_vars(t, tf.constant(float(low)), tf.constant(float(high)))

    def wq(tf, b, shape):
        w = b.weight(shape, 0.3)
        if coverage == "per_channel":
            return tf.quantization.fake_quant_with_min_max_vars_per_channel(
                w, tf.constant([-1.0] * shape[-1]), tf.constant([1.0] * shape[-1]))
        return w if coverage == "no_weights" else fq(tf, w, -1.0, 1.0)

    def build(b, tf):
        if kind == "dense":
            x = fq(tf, b.input((1, 16), "float32", -1.0, 1.0), -1.0, 1.0)
            h = fq(tf, tf.nn.relu(tf.matmul(x, wq(tf, b, (16, 32)))), 0.0, 6.0)
            y = tf.matmul(h, wq(tf, b, (32, 4)))
        elif kind == "depthwise":
            x = fq(tf, b.input((1, 16, 16, 4), "float32", -1.0, 1.0), -1.0, 1.0)
            h = tf.nn.depthwise_conv2d(x, wq(tf, b, (3, 3, 4, 1)), [1, 1, 1, 1], "SAME")
            h = fq(tf, tf.nn.relu6(h), 0.0, 6.0)
            y = conv(tf, h, wq(tf, b, (1, 1, 4, 8)))
        elif kind == "residual":
            x = fq(tf, b.input((1, 8, 8, 4), "float32", -1.0, 1.0), -1.0, 1.0)
            h = fq(tf, tf.nn.relu(conv(tf, x, wq(tf, b, (3, 3, 4, 4)))), 0.0, 6.0)
            y = h + x
            if coverage != "no_residual":
                y = fq(tf, y, -1.0, 7.0)
            y = conv(tf, y, wq(tf, b, (1, 1, 4, 4)))
        elif kind == "pool":
            x = fq(tf, b.input((1, 8, 8, 4), "float32", -1.0, 1.0), -1.0, 1.0)
            h = fq(tf, tf.nn.relu(conv(tf, x, wq(tf, b, (3, 3, 4, 8)))), 0.0, 6.0)
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            y = tf.reduce_mean(conv(tf, h, wq(tf, b, (1, 1, 8, 4))), [1, 2])
        elif kind in ("avgpool_tail", "mean_tail"):  # an unranged conv, then a pool whose output is ranged
            x = fq(tf, b.input((1, 8, 8, 4), "float32", -1.0, 1.0), -1.0, 1.0)
            h = fq(tf, tf.nn.relu6(conv(tf, x, wq(tf, b, (3, 3, 4, 8)))), 0.0, 6.0)
            h = conv(tf, h, wq(tf, b, (1, 1, 8, 4)))
            y = tf.nn.avg_pool2d(h, 4, 4, "VALID") if kind == "avgpool_tail" else tf.reduce_mean(h, [1, 2])
        elif kind == "concat3":  # three branches, the third without a range
            x = fq(tf, b.input((1, 8, 8, 4), "float32", -1.0, 1.0), -1.0, 1.0)
            h1 = fq(tf, tf.nn.relu(conv(tf, x, wq(tf, b, (1, 1, 4, 4)))), 0.0, 6.0)
            h2 = fq(tf, tf.nn.relu(conv(tf, x, wq(tf, b, (3, 3, 4, 4)))), 0.0, 6.0)
            y = tf.reduce_mean(tf.concat([h1, h2, tf.nn.relu(conv(tf, x, wq(tf, b, (1, 1, 4, 2))))], -1), [1, 2])
        else:  # concat
            x = fq(tf, b.input((1, 8, 8, 4), "float32", -1.0, 1.0), -1.0, 1.0)
            h1 = fq(tf, tf.nn.relu(conv(tf, x, wq(tf, b, (1, 1, 4, 4)))), 0.0, 6.0)
            h2 = fq(tf, tf.nn.relu(conv(tf, x, wq(tf, b, (3, 3, 4, 4)))), 0.0, 6.0)
            y = tf.concat([h1, h2], -1)
            if coverage != "no_residual":
                y = fq(tf, y, 0.0, 6.0)
            y = tf.reduce_mean(y, [1, 2])
        if coverage != "no_output":
            y = fq(tf, y, -8.0, 8.0)
        b.output(y, fake_quant=False)

    return build


def qat_args_net(per_channel=False):
    """A QAT conv net that uses fake_quant_with_min_max_args (activations) and per-channel weight ranges."""
    def build(b, tf):
        x = tf.quantization.fake_quant_with_min_max_args(b.input((1, 8, 8, 3), "float32", 0.0, 1.0), 0.0, 1.0)
        w = b.weight((3, 3, 3, 8), 0.3)
        if per_channel:
            w = tf.quantization.fake_quant_with_min_max_vars_per_channel(w, tf.constant([-1.0] * 8),
                                                                         tf.constant([1.0] * 8))
        else:
            w = tf.quantization.fake_quant_with_min_max_vars(w, tf.constant(-1.0), tf.constant(1.0))
        h = tf.quantization.fake_quant_with_min_max_args(tf.nn.relu6(conv(tf, x, w)), 0.0, 6.0)
        y = tf.reduce_mean(h, [1, 2])
        b.output(tf.quantization.fake_quant_with_min_max_args(y, 0.0, 6.0), fake_quant=False)

    return build


# -- inputs that name an intermediate tensor --------------------------------------------------------------------


def cut_input(kind):
    """Preprocessing above the tensor the user feeds: the converter gets the graph below the cut."""
    def body(b, tf, x):
        y = tf.nn.relu(conv(tf, x, b.weight((3, 3, x.shape[-1], 8), 0.3), strides=2))
        return tf.nn.softmax(tf.matmul(tf.reduce_mean(y, [1, 2]), b.weight((8, 5), 0.3)))

    def build(b, tf):
        if kind == "decode_raw":
            raw = b.input((), "string", choices=(bytes(16 * 16 * 3),))
            img = tf.reshape(tf.io.decode_raw(raw, tf.uint8), (1, 16, 16, 3))
            x = feed(b, tf, tf.cast(img, tf.float32) / 255.0, "image", 0.0, 1.0)
        elif kind == "base64_png":
            data = b.input((), "string", choices=(b"",))
            img = tf.io.decode_png(tf.io.decode_base64(data), channels=3)
            img = tf.image.resize(tf.cast(img, tf.float32)[None], (16, 16))
            x = feed(b, tf, img / 127.5 - 1.0, "normalized", -1.0, 1.0, (1, 16, 16, 3))
        elif kind == "csv":
            line = b.input((1,), "string", choices=(b"1,2,3,4",))
            cols = tf.io.decode_csv(line, [[0.0]] * 4)
            x = feed(b, tf, tf.reshape(tf.stack(cols, -1), (1, 1, 1, 4)), "values", -4.0, 4.0)
        elif kind == "uint8_normalize":
            img = b.input((1, 16, 16, 3), "uint8", 0, 255)
            x = feed(b, tf, (tf.cast(img, tf.float32) - 127.5) / 127.5, "norm", -1.0, 1.0)
        elif kind == "string_number":
            text = b.input((1, 4), "string", choices=(b"0.5", b"-1", b"2"))
            x = feed(b, tf, tf.reshape(tf.strings.to_number(text), (1, 1, 1, 4)), "numbers", -2.0, 2.0)
        else:  # resize_crop
            img = b.input((1, 48, 48, 3), "float32", 0.0, 255.0, placeholder_shape=(1, None, None, 3))
            img = tf.image.resize(img, (20, 20))[:, 2:18, 2:18, :] / 255.0
            x = feed(b, tf, img, "crop", 0.0, 1.0, (1, 16, 16, 3))
        b.output(body(b, tf, x))

    return build


def tf2_cut(kind):
    """A TF2 serving function that parses its input before the model; the user feeds the parsed tensor."""
    def build(b, tf):
        def serve(data):
            w, d = b.weight((3, 3, 3, 8), 0.3), b.weight((8, 4), 0.3)
            if kind == "jpeg":
                img = tf.io.decode_jpeg(data[0], channels=3)
            else:
                img = tf.reshape(tf.io.decode_raw(data[0], tf.uint8), (16, 16, 3))
            img = tf.image.resize(tf.cast(img, tf.float32)[None], (16, 16)) / 255.0
            x = tf.identity(img, name="pixels")
            return tf.nn.softmax(tf.matmul(tf.reduce_mean(tf.nn.relu(conv(tf, x, w)), [1, 2]), d))

        frozen_tf2(b, tf, lambda: tf.function(serve), [Inp("data", (1,), "string", choices=(b"",))],
                   feeds=[Inp("pixels", (1, 16, 16, 3), low=0.0, high=1.0, declared=(1, 16, 16, 3))])

    return build


# -- transposes of rank 5 to 7 ------------------------------------------------------------------------------------


def transpose_net(shape, perm):
    def build(b, tf):
        x = b.input(shape, "float32", -1.0, 1.0)
        y = tf.transpose(x * 1.5 + 0.1, perm)
        b.output(tf.reshape(y, (1, -1)))

    return build


# -- int8 division by a tensor -----------------------------------------------------------------------------------


def div_net(divisor_low, kind="conv"):
    """Normalisation by a computed tensor: ``x / (d + eps)``, with d's calibrated range starting at divisor_low."""
    def build(b, tf):
        if kind == "conv":
            x = b.input((1, 8, 8, 4), "float32", -1.0, 1.0)
            h = conv(tf, x, b.weight((3, 3, 4, 4), 0.3))
            d = tf.reduce_mean(tf.abs(h), -1, keepdims=True)
            b.output(h / (d + divisor_low))
        else:
            x = b.input((1, 16), "float32", -1.0, 1.0)
            s = b.input((1, 16), "float32", divisor_low, 2.0)
            b.output(tf.matmul(x, b.weight((16, 16), 0.3)) / s)

    return build


# -- 1000-class heads ---------------------------------------------------------------------------------------------


def softmax_1000(kind="dense", weight_scale=0.01, way="tf1", classes=1000, bias_std=0.0):
    def head(tf, x, b, features):
        return tf.nn.softmax(tf.matmul(x, b.weight((features, classes), weight_scale)) + b.weight((classes,), 0.01))

    def build(b, tf):
        if way == "tf2":
            def make():
                import keras

                x = keras.Input((64,), batch_size=1)
                h = keras.layers.Dense(64, activation="relu")(x)
                bias = keras.initializers.RandomNormal(0.0, bias_std, seed=1) if bias_std else "zeros"
                return keras.Model(x, keras.layers.Dense(classes, activation="softmax", bias_initializer=bias)(h))

            frozen_tf2(b, tf, make, [Inp("x", (1, 64))], keras_model=True)
            return
        if kind == "dense":
            b.output(head(tf, b.input((1, 64), "float32", -1.0, 1.0), b, 64))
        else:
            x = b.input((1, 16, 16, 3), "float32", 0.0, 1.0)
            h = tf.nn.relu6(conv(tf, x, b.weight((3, 3, 3, 16), 0.3), strides=2))
            b.output(head(tf, tf.reduce_mean(h, [1, 2]), b, 16))

    return build


# -- deep ReLU6 stacks: how far activations carry --------------------------------------------------------------


def separable_stack(blocks, init="he", channels=8, size=32, head=0):
    """A MobileNet-style stack of depthwise and pointwise ReLU6 convolutions, TF1 graph. ``init`` "he" keeps the
    activation scale from block to block; "keras" uses Keras's Glorot-uniform fans for a depthwise kernel (fan in
    9 * channels), which shrinks it, as an untrained Keras model does. ``head`` > 0 ends in a softmax classifier."""
    import math

    def std(fan_in, fan_out):
        return math.sqrt(2.0 / fan_in) if init == "he" else math.sqrt(2.0 / (fan_in + fan_out))

    def build(b, tf):
        x = b.input((1, size, size, 3), "float32", 0.0, 1.0)
        h = tf.nn.relu6(conv(tf, x, b.weight((3, 3, 3, channels), std(27, 9 * channels)), strides=2))
        for _ in range(blocks):
            dw = b.weight((3, 3, channels, 1), std(9, 9) if init == "he" else std(9 * channels, 9))
            h = tf.nn.relu6(tf.nn.depthwise_conv2d(h, dw, [1, 1, 1, 1], "SAME"))
            h = tf.nn.relu6(conv(tf, h, b.weight((1, 1, channels, channels), std(channels, channels))))
        h = tf.reduce_mean(h, [1, 2])
        if head:
            h = tf.nn.softmax(tf.matmul(h, b.weight((channels, head), std(channels, head))) + b.const([0.0] * head))
        b.output(h)

    return build


# -- string and complex tensors -----------------------------------------------------------------------------------


def string_complex(kind):
    def build(b, tf):
        if kind == "complex_fft":
            x = b.input((1, 64), "float32", -1.0, 1.0)
            c = tf.signal.fft(tf.complex(x, tf.zeros_like(x)))
            b.output(tf.math.real(c) * tf.math.imag(c))
        elif kind == "complex_mag":
            x = b.input((1, 2, 32), "float32", -1.0, 1.0)
            b.output(tf.abs(tf.complex(x[:, 0], x[:, 1])))
        elif kind == "irfft":
            x = b.input((1, 64), "float32", -1.0, 1.0)
            b.output(tf.signal.irfft(tf.signal.rfft(x) * tf.cast(tf.range(33) < 16, tf.complex64)))
        elif kind == "string_passthrough":
            key = b.input((1,), "string", choices=(b"a", b"b"))
            x = b.input((1, 8), "float32", -1.0, 1.0)
            b.output(tf.identity(key), fake_quant=False)
            b.output(tf.matmul(x, b.weight((8, 2))))
        elif kind == "as_string":
            x = b.input((1, 4), "float32", -1.0, 1.0)
            b.output(tf.strings.as_string(tf.matmul(x, b.weight((4, 2)))), fake_quant=False)
        else:  # string_join
            x = b.input((1, 4), "float32", -1.0, 1.0)
            idx = tf.argmax(tf.matmul(x, b.weight((4, 3))), -1)
            label = tf.gather(tf.constant(["cat", "dog", "bird"]), idx)
            b.output(tf.strings.join(["label: ", label]), fake_quant=False)

    return build


# -- small Keras models users train and freeze the TF2 way ------------------------------------------------------


def keras_small(kind):
    def build(b, tf):
        def make():
            import keras
            from keras import layers as L

            if kind == "cnn":
                x = keras.Input((28, 28, 1), batch_size=1)
                h = L.MaxPooling2D()(L.Conv2D(8, 3, activation="relu")(x))
                h = L.BatchNormalization()(L.Conv2D(16, 3, activation="relu")(h))
                y = L.Dense(10, activation="softmax")(L.Dropout(0.3)(L.Flatten()(h)))
            elif kind == "mlp":
                x = keras.Input((20,), batch_size=1)
                y = L.Dense(3, activation="sigmoid")(L.Dropout(0.2)(L.Dense(32, activation="gelu")(x)))
            elif kind == "autoencoder":
                x = keras.Input((16, 16, 1), batch_size=1)
                h = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
                h = L.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(h)
                y = L.Conv2D(1, 3, padding="same", activation="sigmoid")(h)
            elif kind == "transformer":
                x = keras.Input((8, 16), batch_size=1)
                h = L.LayerNormalization()(x + L.MultiHeadAttention(2, 8)(x, x))
                h = L.LayerNormalization()(h + L.Dense(16)(L.Dense(32, activation="gelu")(h)))
                y = L.Dense(4, activation="softmax")(L.GlobalAveragePooling1D()(h))
            elif kind == "preprocess":
                x = keras.Input((16, 16, 3), batch_size=1)
                h = L.Rescaling(1 / 127.5, offset=-1.0)(x)
                h = L.SeparableConv2D(8, 3, activation="swish")(h)
                y = L.Dense(5)(L.GlobalAveragePooling2D()(h))
            elif kind == "unet":
                x = keras.Input((16, 16, 3), batch_size=1)
                d = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
                u = L.UpSampling2D(interpolation="bilinear")(d)
                y = L.Conv2D(2, 1, activation="softmax")(L.Concatenate()([u, x]))
            elif kind == "conv1d":
                x = keras.Input((64, 3), batch_size=1)
                h = L.Conv1D(8, 5, activation="relu")(x)
                h = L.MaxPooling1D()(L.DepthwiseConv1D(3)(h)) if hasattr(L, "DepthwiseConv1D") else h
                y = L.Dense(4, activation="softmax")(L.GlobalAveragePooling1D()(h))
            else:  # multi_io
                a = keras.Input((8,), batch_size=1)
                c = keras.Input((4,), batch_size=1)
                h = L.Concatenate()([L.Dense(8, activation="relu")(a), c])
                x = [a, c]
                y = [L.Dense(1)(h), L.Dense(3, activation="softmax")(h)]
            return keras.Model(x, y)

        shapes = {"cnn": [(1, 28, 28, 1)], "mlp": [(1, 20)], "autoencoder": [(1, 16, 16, 1)],
                  "transformer": [(1, 8, 16)], "preprocess": [(1, 16, 16, 3)], "unet": [(1, 16, 16, 3)],
                  "conv1d": [(1, 64, 3)], "multi_io": [(1, 8), (1, 4)]}[kind]
        high = 255.0 if kind == "preprocess" else 1.0
        inputs = [Inp("x" if i == 0 else f"x{i}", s, low=0.0, high=high) for i, s in enumerate(shapes)]
        frozen_tf2(b, tf, make, inputs, keras_model=True)

    return build
