"""What the TFLite GPU delegate takes (a runtime-only target: no converter setting produces it)."""

from __future__ import annotations

# The TFLite GPU delegate's operation parsers (tensorflow/lite/delegates/gpu/common/model_builder.cc, TF 2.x):
# builtins outside this set fall back to the CPU. Tensors must be float32/float16 (quantized models are
# dequantized by the delegate) and at most 4-D (BHWC).
GPU_OPS = frozenset({
    "ABS", "ADD", "ADD_N", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CAST", "CONCATENATION", "CONV_2D", "COS", "CUMSUM",
    "DENSIFY", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE", "DIV", "ELU", "EQUAL", "EXP", "FLOOR",
    "FLOOR_DIV", "FLOOR_MOD", "FULLY_CONNECTED", "GATHER", "GELU", "GREATER", "GREATER_EQUAL", "HARD_SWISH", "LESS",
    "LESS_EQUAL", "LOG", "LOGISTIC", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MIRROR_PAD", "MUL",
    "NEG", "NOT_EQUAL", "ONE_HOT", "PACK", "PAD", "PADV2", "POW", "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN",
    "REDUCE_PROD", "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "RESHAPE", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SELECT_V2", "SIGN", "SIN", "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT",
    "SPLIT_V", "SQRT", "SQUARE", "SQUARED_DIFFERENCE", "STRIDED_SLICE", "SUB", "SUM", "TANH", "TILE", "TRANSPOSE",
    "TRANSPOSE_CONV",
})
GPU_MAX_RANK = 4
