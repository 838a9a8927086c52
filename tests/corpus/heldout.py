"""The public corpus, held-out split: a fixed set of models that rules are never written or tuned against.

Same kinds as the dev split (kinds.py), other models: other layers, parameters, sizes and combinations. A miss
here is fixed only by fixing its whole class, then new held-out models of that class are added. Loaded through
cases.py, as models.py is.
"""

from __future__ import annotations

import kinds as k
from probe_ops import Case


def _plain(case_id, build, note):
    return Case(case_id, "corpus", build, note, qat_variant=False)


CASES = [
    # keras.applications, weights=None
    # Keras recurrent layers
    _plain("ho_keras_bigru_tf2", k.keras_rnn("bigru", "tf2"), "bidirectional GRU, TF2 freeze"),
    _plain("ho_keras_lstm_seq_tf2", k.keras_rnn("lstm", "tf2", sequences=True), "LSTM sequences and pooling, TF2"),
    _plain("ho_keras_gru_long_tf2", k.keras_rnn("gru", "tf2", steps=16, units=12), "GRU over 16 steps, TF2"),
    _plain("ho_keras_convlstm_unrolled_tf2", k.keras_rnn("convlstm", "tf2", unroll=True, steps=3),
           "ConvLSTM2D unrolled, TF2"),
    _plain("ho_keras_gru_unrolled_tf1", k.keras_rnn("gru", "tf1", unroll=True), "GRU unrolled, TF1 graph"),
    _plain("ho_keras_bigru_unrolled_tf1", k.keras_rnn("bigru", "tf1", unroll=True), "bidirectional GRU unrolled, TF1"),
    _plain("ho_keras_simplernn_seq_unrolled_tf1", k.keras_rnn("simple", "tf1", unroll=True, sequences=True),
           "SimpleRNN sequences unrolled, TF1"),
    _plain("ho_keras_convlstm_tf1", k.keras_rnn("convlstm", "tf1", steps=4), "ConvLSTM2D in a TF1 graph"),
    _plain("ho_keras_lstm_seq_tf1", k.keras_rnn("lstm", "tf1", sequences=True, units=12), "LSTM sequences, TF1"),
    _plain("ho_keras_simplernn_seq_unrolled_tf2", k.keras_rnn("simple", "tf2", unroll=True, sequences=True),
           "SimpleRNN sequences unrolled, TF2"),
    _plain("ho_keras_gru_wide_tf1", k.keras_rnn("gru", "tf1", steps=12, units=16), "GRU 16 units, TF1 graph"),
    _plain("ho_keras_bilstm_unrolled_tf2", k.keras_rnn("bilstm", "tf2", unroll=True, steps=6),
           "bidirectional LSTM unrolled, TF2"),
    _plain("ho_keras_lstm_unrolled_seq_tf1", k.keras_rnn("lstm", "tf1", unroll=True, sequences=True, steps=5),
           "LSTM sequences unrolled, TF1"),
    # control flow
    _plain("ho_tf2_foldl", k.tf2_flow("foldl"), "tf.foldl over the time steps"),
    _plain("ho_tf2_switch_case", k.tf2_flow("switch_case"), "tf.switch_case on an argmax"),
    _plain("ho_tf2_scan", k.tf2_flow("scan"), "tf.scan accumulator"),
    _plain("ho_tf2_cond_wide", k.tf2_flow("cond", features=16), "tf.cond, 16 features"),
    _plain("ho_tf2_while_wide", k.tf2_flow("while", features=16), "tf.while_loop, 16 features"),
    Case("ho_tf1_nested_v1", "corpus", k.tf1_flow("nested"), "v1 cond inside a v1 while loop", qat_variant=False,
         control_flow_v1=True),
    _plain("ho_tf1_while_v2", k.tf1_flow("while"), "while loop, control flow v2 in a TF1 graph"),
    _plain("ho_tf2_while_derived", k.tf2_flow("while_derived"), "while_loop reading relu(x @ w) computed outside"),
    _plain("ho_tf2_while_consts", k.tf2_flow("while_consts", features=12), "while_loop reading only constants"),
    Case("ho_tf1_while_derived_v1", "corpus", k.tf1_flow("while", features=12), "v1 while loop reading the input",
         qat_variant=False, control_flow_v1=True),
    _plain("ho_tf2_map_fn_relu", k.tf2_flow("map_fn_relu"), "tf.map_fn of a dense layer over rows"),
    _plain("ho_tf2_tensor_array_shaped", k.tf2_flow("tensor_array_shaped", features=6),
           "TensorArray with its element shape in a while loop"),
    # audio
    _plain("ho_audio_stft_tf2", k.audio("stft", way="tf2"), "STFT magnitude in a tf.function"),
    _plain("ho_audio_mfcc", k.audio("mfcc"), "MFCCs from a log-mel spectrogram, TF1"),
    _plain("ho_audio_raw_mfcc_cut", k.audio("raw_mfcc", cut=True), "DecodeWav above the cut, Mfcc ops"),
    _plain("ho_audio_rfft_cut", k.audio("rfft", cut=True), "DecodeWav above the cut, RFFT"),
    _plain("ho_audio_raw_spectrogram_tf2", k.audio("raw_spectrogram", way="tf2"), "AudioSpectrogram, TF2"),
    _plain("ho_audio_logmel_tf2", k.audio("logmel", way="tf2", samples=8000), "log-mel, 0.5 s, TF2"),
    # text
    _plain("ho_text_label_gather_tf2", k.label_table("tf2"), "label table after ArgMax, TF2"),
    _plain("ho_text_label_topk_100", k.label_table(classes=100, top_k=True), "100 labels, top-3"),
    _plain("ho_text_int_hash_lookup", k.hash_lookup(string_keys=False), "int64 keys in a StaticHashTable"),
    _plain("ho_keras_text_conv", k.keras_text("conv"), "Embedding, Conv1D, max pooling"),
    _plain("ho_keras_text_attention", k.keras_text("attention"), "Embedding and self-attention"),
    _plain("ho_keras_text_pool_long", k.keras_text("pool", vocab=200, length=20), "Embedding pooling, 200 words"),
    # detection
    _plain("ho_det_nms_v4_unpadded_tf2", k.detection("nms_v4_unpadded", way="tf2"),
           "non_max_suppression_padded without padding, in a tf.function"),
    _plain("ho_det_nms_v4_tf2_64", k.detection("nms_v4", boxes=64, way="tf2"), "padded NMS over 64 boxes, TF2"),
    _plain("ho_det_nms_v3_tf2", k.detection("nms_v3", way="tf2"), "NonMaxSuppressionV3 in a tf.function"),
    _plain("ho_det_nms_v5", k.detection("nms_v5"), "soft NMS (V5), TF1"),
    _plain("ho_det_combined_nms_tf2", k.detection("combined", way="tf2"), "combined NMS in a tf.function"),
    _plain("ho_det_topk_gather", k.detection("topk"), "top-k and gather, TF1"),
    _plain("ho_det_nms_v3_many", k.detection("nms_v3", boxes=64), "NMS over 64 boxes"),
    _plain("ho_det_topk_tf2_many", k.detection("topk", boxes=100, way="tf2"), "top-k over 100 boxes, TF2"),
    # QAT
    _plain("ho_qat_depthwise_no_output", k.qat("depthwise", "no_output"), "depthwise QAT, last conv unranged"),
    _plain("ho_qat_residual_full", k.qat("residual"), "residual QAT block, every range"),
    _plain("ho_qat_concat_partial", k.qat("concat", "no_residual"), "QAT branches, concat unranged"),
    _plain("ho_qat_dense_float_weights", k.qat("dense", "no_weights"), "QAT MLP with float weights"),
    _plain("ho_qat_dense_per_channel", k.qat("dense", "per_channel"), "QAT MLP, weights ranged per channel"),
    _plain("ho_qat_depthwise_per_channel", k.qat("depthwise", "per_channel"),
           "depthwise QAT, weights ranged per channel"),
    _plain("ho_qat_concat_no_output", k.qat("concat", "no_output"), "QAT branches, pooled output unranged"),
    _plain("ho_qat_concat3_one_unranged", k.qat("concat3"), "QAT concat of three branches, one unranged"),
    _plain("ho_qat_conv_avgpool_tail", k.qat("avgpool_tail"), "unranged conv, average pool, ranged output"),
    _plain("ho_qat_conv_mean_tail", k.qat("mean_tail"), "unranged conv, mean, ranged output"),
    # inputs naming an intermediate tensor
    _plain("ho_cut_base64_png", k.cut_input("base64_png"), "base64 PNG decoded and resized above the cut"),
    _plain("ho_cut_string_number", k.cut_input("string_number"), "StringToNumber above the cut"),
    _plain("ho_cut_tf2_jpeg", k.tf2_cut("jpeg"), "TF2 serving function decoding JPEG, fed after"),
    # transposes
    _plain("ho_transpose_r6_pairs", k.transpose_net((1, 2, 3, 2, 3, 2), (0, 2, 1, 4, 3, 5)),
           "rank-6 transpose swapping pairs"),
    _plain("ho_transpose_r7_pairs", k.transpose_net((2, 3, 2, 3, 2, 3, 2), (1, 0, 3, 2, 5, 4, 6)),
           "rank-7 transpose swapping pairs"),
    _plain("ho_transpose_r5_swap", k.transpose_net((1, 4, 3, 2, 2), (0, 2, 1, 4, 3)), "rank-5 transpose"),
    # int8 DIV
    _plain("ho_div_by_channel_mean_tiny_eps", k.div_net(0.001), "divide by the channel mean plus 0.001"),
    _plain("ho_div_by_input_half", k.div_net(0.5, "input"), "divide by an input ranging from 0.5"),
    _plain("ho_div_by_input_zero", k.div_net(0.0, "input"), "divide by an input ranging from 0"),
    # 1000-class heads
    # string and complex
    _plain("ho_complex_irfft_filter", k.string_complex("irfft"), "RFFT, complex low-pass, IRFFT"),
    _plain("ho_string_as_string", k.string_complex("as_string"), "scores formatted as strings"),
    # small Keras models
    _plain("ho_keras_autoencoder", k.keras_small("autoencoder"), "Keras conv autoencoder, transposed conv"),
    _plain("ho_keras_preprocess_separable", k.keras_small("preprocess"), "Rescaling, separable conv, swish"),
    _plain("ho_keras_conv1d", k.keras_small("conv1d"), "Keras Conv1D and depthwise Conv1D"),
    # untrained weights: vanishing activations (int16x8) and flat logits (TFLite Micro's softmax)
    _plain("ho_sepconv_stack12_keras_init", k.separable_stack(12, "keras"), "12 separable ReLU6 blocks, Keras fans"),
    _plain("ho_sepconv_stack12_he_init", k.separable_stack(12, "he"), "12 separable ReLU6 blocks, He init"),
    _plain("ho_sepconv_stack3_keras_init", k.separable_stack(3, "keras", channels=16),
           "3 separable blocks, Keras fans"),
    _plain("ho_softmax800_dense_flat", k.softmax_1000(weight_scale=0.005, classes=800), "800 nearly equal logits"),
    _plain("ho_softmax1000_dense_sharp", k.softmax_1000(weight_scale=0.3), "1000-class head, spread logits"),
    _plain("ho_sepconv_stack12_keras_head10", k.separable_stack(12, "keras", head=10),
           "12 separable blocks, Keras fans, 10-class softmax"),
    _plain("ho_sepconv_stack12_he_head10", k.separable_stack(12, "he", head=10),
           "12 separable blocks, He init, 10-class softmax"),
    _plain("ho_app_mobilenetv2_a075_5", k.keras_app("MobileNetV2", alpha=0.75, classes=5),
           "MobileNetV2 0.75, 5 classes, untrained"),
    _plain("ho_softmax700_keras_zero_bias", k.softmax_1000(way="tf2", classes=700), "Keras Dense(700) softmax"),
    # keras.applications beyond the MobileNets, weights=None, at a small input size
    _plain("ho_app_mobilenetv3large", k.keras_app("MobileNetV3Large", size=32), "MobileNetV3Large, untrained"),
    _plain("ho_app_efficientnetb1", k.keras_app("EfficientNetB1", size=32), "EfficientNetB1, untrained"),
    _plain("ho_app_resnet50", k.keras_app("ResNet50", size=32), "ResNet50, untrained"),
    _plain("ho_app_densenet121", k.keras_app("DenseNet121", size=32), "DenseNet121, untrained"),
    _plain("ho_app_nasnetmobile", k.keras_app("NASNetMobile", size=32), "NASNetMobile, untrained"),
]
