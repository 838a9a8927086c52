"""Op-name normalization: a TensorFlow op type or TFLite builtin name → a format-free ``family``.

Rules match on families so one rule serves both formats (``Conv2D`` and ``CONV_2D`` are both ``conv2d``).
An op missing from the tables keeps its own spelling, lower-cased, as its family.
"""

from __future__ import annotations

from collections.abc import Iterable

# TensorFlow GraphDef op type → family.
_TF: dict[str, str] = {
    "Conv2D": "conv2d", "DepthwiseConv2dNative": "depthwise_conv2d", "Conv3D": "conv3d",
    "Conv2DBackpropInput": "transpose_conv", "Conv3DBackpropInputV2": "transpose_conv3d",
    "MatMul": "fully_connected", "BatchMatMul": "batch_matmul", "BatchMatMulV2": "batch_matmul",
    "BatchMatMulV3": "batch_matmul", "BiasAdd": "bias_add", "BiasAddV1": "bias_add",
    "Add": "add", "AddV2": "add", "AddN": "add_n", "Sub": "sub", "Mul": "mul", "RealDiv": "div", "Div": "div",
    "DivNoNan": "div", "FloorDiv": "floor_div", "FloorMod": "floor_mod", "Neg": "neg", "Abs": "abs",
    "Square": "square", "SquaredDifference": "squared_difference", "Sqrt": "sqrt", "Rsqrt": "rsqrt",
    "Exp": "exp", "Log": "log", "Pow": "pow", "Tanh": "tanh", "Sigmoid": "logistic", "Relu": "relu",
    "Relu6": "relu6", "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu", "Softplus": "softplus",
    "Softmax": "softmax", "LogSoftmax": "log_softmax", "MaxPool": "max_pool2d", "MaxPoolV2": "max_pool2d",
    "AvgPool": "average_pool2d", "MaxPool3D": "max_pool3d", "AvgPool3D": "average_pool3d",
    "Mean": "mean", "Sum": "sum", "Max": "reduce_max", "Min": "reduce_min", "Prod": "reduce_prod",
    "Any": "reduce_any", "All": "reduce_all", "ArgMax": "arg_max", "ArgMin": "arg_min",
    "Reshape": "reshape", "Transpose": "transpose", "Squeeze": "squeeze", "ExpandDims": "expand_dims",
    "ConcatV2": "concatenation", "Concat": "concatenation", "Pack": "pack", "Unpack": "unpack",
    "Split": "split", "SplitV": "split_v", "Slice": "slice", "StridedSlice": "strided_slice", "Pad": "pad",
    "PadV2": "padv2", "MirrorPad": "mirror_pad", "Tile": "tile", "Gather": "gather", "GatherV2": "gather",
    "GatherNd": "gather_nd", "ResizeBilinear": "resize_bilinear",
    "ResizeNearestNeighbor": "resize_nearest_neighbor", "DepthToSpace": "depth_to_space",
    "SpaceToDepth": "space_to_depth", "BatchToSpaceND": "batch_to_space_nd",
    "SpaceToBatchND": "space_to_batch_nd", "Cast": "cast", "Shape": "shape", "Fill": "fill",
    "Range": "range", "Select": "select", "SelectV2": "select_v2", "Maximum": "maximum",
    "Minimum": "minimum", "Equal": "equal", "NotEqual": "not_equal", "Less": "less", "LessEqual": "less_equal",
    "Greater": "greater", "GreaterEqual": "greater_equal", "LogicalAnd": "logical_and",
    "LogicalOr": "logical_or", "LogicalNot": "logical_not", "Where": "where", "TopKV2": "topk_v2",
    "NonMaxSuppressionV3": "non_max_suppression", "NonMaxSuppressionV4": "non_max_suppression",
    "NonMaxSuppressionV5": "non_max_suppression", "FusedBatchNorm": "batch_norm",
    "FusedBatchNormV2": "batch_norm", "FusedBatchNormV3": "batch_norm", "LRN": "local_response_normalization",
    "Einsum": "einsum", "Cumsum": "cumsum", "ReverseV2": "reverse_v2", "Round": "round", "Floor": "floor",
    "Ceil": "ceil", "Sin": "sin", "Cos": "cos", "Erf": "erf", "ClipByValue": "clip_by_value",
    "Identity": "identity", "IdentityN": "identity_n", "StopGradient": "identity", "Snapshot": "identity",
    "PreventGradient": "identity", "CheckNumerics": "check_numerics", "NoOp": "no_op", "Assert": "assert",
    "Placeholder": "placeholder", "PlaceholderV2": "placeholder", "PlaceholderWithDefault": "placeholder_with_default",
    "Const": "const", "FakeQuantWithMinMaxVars": "fake_quant", "FakeQuantWithMinMaxArgs": "fake_quant",
    "FakeQuantWithMinMaxVarsPerChannel": "fake_quant", "Switch": "switch", "Merge": "merge", "Enter": "enter",
    "Exit": "exit", "NextIteration": "next_iteration", "LoopCond": "loop_cond", "While": "while",
    "StatelessWhile": "while", "If": "if", "StatelessIf": "if", "PartitionedCall": "call",
    "StatefulPartitionedCall": "call", "Softsign": "softsign", "SquaredDifferenceV2": "squared_difference",
    "L2Loss": "l2_loss", "OneHot": "one_hot", "ZerosLike": "zeros_like", "OnesLike": "ones_like",
    "BroadcastTo": "broadcast_to", "Rank": "rank", "Size": "size", "Relu1": "relu_n1_to_1",
    "LeakyReluV2": "leaky_relu", "Reciprocal": "reciprocal", "Inv": "reciprocal", "Sign": "sign",
    "Dropout": "dropout", "RandomUniform": "random_uniform", "RandomStandardNormal": "random_standard_normal",
    "TruncatedNormal": "truncated_normal", "Multinomial": "multinomial",
}

# TFLite builtin operator name → family, for the names that do not lower-case to their family.
_TFLITE: dict[str, str] = {
    "CONV_2D": "conv2d", "DEPTHWISE_CONV_2D": "depthwise_conv2d", "CONV_3D": "conv3d",
    "TRANSPOSE_CONV": "transpose_conv", "CONV_3D_TRANSPOSE": "transpose_conv3d",
    "MAX_POOL_2D": "max_pool2d", "AVERAGE_POOL_2D": "average_pool2d", "REDUCE_MAX": "reduce_max",
    "REDUCE_MIN": "reduce_min", "REDUCE_PROD": "reduce_prod", "REDUCE_ANY": "reduce_any",
    "REDUCE_ALL": "reduce_all", "RESIZE_BILINEAR": "resize_bilinear", "BATCH_MATMUL": "batch_matmul",
    "NON_MAX_SUPPRESSION_V4": "non_max_suppression", "NON_MAX_SUPPRESSION_V5": "non_max_suppression",
    "DEQUANTIZE": "dequantize", "QUANTIZE": "quantize", "WHILE": "while", "IF": "if", "CALL_ONCE": "call",
}


def family(op: str, fmt: str) -> str:
    """Return the normalized family of ``op`` for a model of format ``fmt`` ("graphdef" or "tflite")."""
    table = _TF if fmt == "graphdef" else _TFLITE
    return table.get(op) or op.lower()


# Training leftovers: optimizer updates, assignments, checkpoint I/O, gradient and loss-only ops.
_TRAINING_EXACT = frozenset({
    "SaveV2", "RestoreV2", "Save", "Restore", "RestoreSlice", "SaveSlices", "MergeV2Checkpoints",
    "ShardedFilename", "L2Loss", "BroadcastGradientArgs", "SparseSoftmaxCrossEntropyWithLogits",
    "SoftmaxCrossEntropyWithLogits",
})
_TRAINING_PREFIXES = ("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply", "Assign", "ScatterUpdate",
                      "ResourceScatter", "VarIsInitialized")


def is_training_op(op: str) -> bool:
    """True for a GraphDef op that only training uses: optimizer updates, assignments, checkpoint I/O,
    gradients (``*Grad``) and loss-only ops."""
    return op in _TRAINING_EXACT or op.startswith(_TRAINING_PREFIXES) or op.endswith("Grad")


def is_fake_quant(op: str) -> bool:
    """True for FakeQuant* and QuantizeAndDequantize* ops (the ranges of a quantization-aware graph)."""
    return op.startswith(("FakeQuant", "QuantizeAndDequantize"))


def reads_unset_variables(op_names: Iterable[str]) -> bool:
    """True for a converted model (its TFLite builtin names) that reads resource variables (``READ_VARIABLE``)
    none of its ops assigns (no ``ASSIGN_VARIABLE``): the converter kept variables it could not freeze and the
    file holds no values for them, so LiteRT computes with unset values, not the weights."""
    names = set(op_names)
    return "READ_VARIABLE" in names and "ASSIGN_VARIABLE" not in names
