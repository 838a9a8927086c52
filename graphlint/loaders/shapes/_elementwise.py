"""Ops whose output is shaped like an input, or like the broadcast of their inputs."""

from __future__ import annotations

from graphlint.ir import Shape

from ._table import Node, broadcast, rule


@rule(
    "Identity", "StopGradient", "Snapshot", "PreventGradient", "CheckNumerics", "Relu", "Relu6", "Elu", "Selu",
    "LeakyRelu", "Sigmoid", "Tanh", "Neg", "Abs", "Square", "Sqrt", "Rsqrt", "Exp", "Log", "Softmax", "LogSoftmax",
    "Softplus", "Softsign", "Cast", "FakeQuantWithMinMaxVars", "FakeQuantWithMinMaxArgs",
    "FakeQuantWithMinMaxVarsPerChannel", "BiasAdd", "BiasAddV1", "Floor", "Ceil", "Round", "Sin", "Cos", "Erf",
    "Sign", "Reciprocal", "Inv", "ZerosLike", "OnesLike", "ClipByValue", "LRN", "AddN", "Log1p", "Expm1",
    "IsFinite", "LogicalNot", "Relu1",
    "Cumsum", "ReverseV2", "PlaceholderWithDefault", "EnsureShape", "Dequantize", "QuantizeV2", "Enter", "Exit",
    "NextIteration", "RandomShuffle",
    # Checked against TensorFlow in the zoo graph, like the ones above.
    "IsNan", "IsInf", "Atan", "Asin", "Acos", "Tan", "Sinh", "Cosh", "Rint", "Erfc", "Cumprod", "Roll",
    "MatrixBandPart", "TensorScatterUpdate", "TensorScatterAdd", "ComplexAbs", "Real", "Imag", "Conj",
    "Angle", "FFT", "IFFT", "ReverseSequence", "Bucketize", "InvertPermutation", "Invert",
)
def same_as_input(node: Node) -> Shape:
    return node.shapes[0]


@rule("Switch")
def switch(node: Node) -> list[Shape]:
    """Both branches carry the data input."""
    return [node.shapes[0]] * 2


@rule(
    "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "Maximum", "Minimum", "Pow", "SquaredDifference",
    "FloorDiv", "FloorMod", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
    "LogicalOr", "SelectV2", "Atan2", "TruncateDiv", "BiasAddGrad",
    # Checked against TensorFlow in the zoo graph, like the ones above.
    "BitwiseAnd", "BitwiseOr", "BitwiseXor", "LeftShift", "RightShift", "Xlogy", "Xdivy", "MulNoNan",
    "TruncateMod", "Mod",
)
def broadcast_inputs(node: Node) -> Shape:
    shapes = node.shapes
    out = shapes[0]
    for other in shapes[1:]:
        out = broadcast(out, other)
    return out


@rule("Select")
def select(node: Node) -> Shape:
    """The v1 Select: shaped like its ``t`` operand (the condition may be a vector over the first dim)."""
    return node.shapes[1]
