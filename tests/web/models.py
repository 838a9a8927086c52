"""Models for the viewer tests, built in code (no TensorFlow, nothing downloaded)."""

from __future__ import annotations

from graphlint.testing import GraphBuilder


def small_graphdef() -> GraphBuilder:
    """A conv net with name scopes and findings: an unfrozen variable, a training op, a dynamic input dim."""
    b = GraphBuilder()
    x = b.placeholder("input", "float32", (None, 8, 8, 3))
    k = b.const([[[[0.1] * 4] * 3] * 3] * 3, name="conv/kernel")
    c = b.op("Conv2D", [x, k], name="conv/Conv2D", attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
    bias = b.node("VariableV2", name="conv/bias", attrs={"dtype": "float32", "shape": (4,)})
    read = b.op("Identity", [bias], name="conv/bias/read")
    y = b.op("BiasAdd", [c, read], name="conv/BiasAdd")
    r = b.op("Relu", [y], name="conv/Relu")
    shape = b.const([-1, 256], name="flatten/shape", dtype="int32")
    f = b.op("Reshape", [r, shape], name="flatten/Reshape")
    w = b.const([[0.01] * 10] * 256, name="dense/kernel")
    m = b.op("MatMul", [f, w], name="dense/MatMul")
    p = b.op("Softmax", [m], name="probs")
    lr = b.const(0.1, name="train/lr")
    b.op("ApplyGradientDescent", [bias, lr, read], name="train/update_bias")
    b.output(p)
    return b


def small_graphdef_v2() -> GraphBuilder:
    """The next version of :func:`small_graphdef`: the bias frozen, no training op, Relu6 instead of Relu."""
    b = GraphBuilder()
    x = b.placeholder("input", "float32", (None, 8, 8, 3))
    k = b.const([[[[0.1] * 4] * 3] * 3] * 3, name="conv/kernel")
    c = b.op("Conv2D", [x, k], name="conv/Conv2D", attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
    bias = b.const([0.0] * 4, name="conv/bias")
    read = b.op("Identity", [bias], name="conv/bias/read")
    y = b.op("BiasAdd", [c, read], name="conv/BiasAdd")
    r = b.op("Relu6", [y], name="conv/Relu6")
    shape = b.const([-1, 256], name="flatten/shape", dtype="int32")
    f = b.op("Reshape", [r, shape], name="flatten/Reshape")
    w = b.const([[0.01] * 10] * 256, name="dense/kernel")
    m = b.op("MatMul", [f, w], name="dense/MatMul")
    b.output(b.op("Softmax", [m], name="probs"))
    return b


def int8_only_graphdef() -> GraphBuilder:
    """Findings for one target only: two Neg ops in scope ``q`` stay float in int8 (GL401, int8 targets), and an
    unfrozen variable fails every target (GL101)."""
    b = GraphBuilder()
    x = b.placeholder("input", "float32", (1, 8, 8, 3))
    n = b.op("Neg", [b.op("Neg", [x], name="q/neg1")], name="q/neg2")
    bias = b.node("VariableV2", name="bias", attrs={"dtype": "float32", "shape": (3,)})
    y = b.op("AddV2", [n, b.op("Identity", [bias], name="bias/read")], name="add")
    b.output(b.op("Relu", [y], name="out"))
    return b


def convertible_graphdef() -> GraphBuilder:
    """A small conv net with fixed shapes that the TFLite converter takes."""
    b = GraphBuilder()
    x = b.placeholder("input", "float32", (1, 8, 8, 3))
    k = b.const([[[[0.1] * 4] * 3] * 3] * 3, name="conv/kernel")
    c = b.op("Conv2D", [x, k], name="conv/Conv2D", attrs={"strides": [1, 1, 1, 1], "padding": "SAME",
                                                          "data_format": "NHWC"})
    y = b.op("BiasAdd", [c, b.const([0.0] * 4, name="conv/bias")], name="conv/BiasAdd")
    b.output(b.op("Relu", [y], name="out"))
    return b


def scoped_graphdef(blocks: int, branches: int = 4, depth: int = 4) -> GraphBuilder:
    """An InceptionV3-like GraphDef: ``blocks`` mixed blocks, each ``branches`` conv chains in name scopes,
    concatenated; about ``blocks * (branches * depth * 4 + 3)`` nodes."""
    b = GraphBuilder()
    x = b.placeholder("input", "float32", (1, 32, 32, 8))
    for i in range(blocks):
        outs = []
        for j in range(branches):
            h = x
            for k in range(depth):
                scope = f"model/mixed_{i}/branch_{j}/conv_{k}"
                w = b.const([[[[0.0] * 8] * 8]], name=f"{scope}/kernel")
                h = b.op("Conv2D", [h, w], name=f"{scope}/Conv2D", attrs={"strides": [1, 1, 1, 1],
                                                                             "padding": "SAME"})
                h = b.op("FusedBatchNorm", [h, w, w, w, w], name=f"{scope}/bn") if k % 2 else h
                h = b.op("Relu", [h], name=f"{scope}/Relu")
            outs.append(h)
        axis = b.const(3, name=f"model/mixed_{i}/axis", dtype="int32")
        x = b.op("ConcatV2", [*outs, axis], name=f"model/mixed_{i}/concat", attrs={"N": len(outs)})
        x = b.op("Conv2D", [x, b.const([[[[0.0] * 8] * (8 * branches)]], name=f"model/mixed_{i}/proj/kernel")],
                 name=f"model/mixed_{i}/proj/Conv2D", attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
    b.output(b.op("Softmax", [x], name="model/logits/Softmax"))
    return b


def wide_graphdef(branches: int = 300, failing: int | None = None, scoped: bool = False) -> GraphBuilder:
    """One input fanned out to ``branches`` parallel ops side by side, concatenated: a graph far wider than any
    pane. Branch ``failing`` (the middle one by default) adds an unfrozen variable (GL101, an error) to its Relu.
    With ``scoped``, each branch is a name scope ``branch_<i>``: the failing one holds four nodes and is drawn
    collapsed unless opened, the others one node each."""
    failing = branches // 2 if failing is None else failing
    b = GraphBuilder()
    x = b.placeholder("input", "float32", (1, 8))
    outs = []
    for i in range(branches):
        scope = f"branch_{i}/" if scoped else ""
        h = b.op("Relu", [x], name=f"{scope}relu_{i}")
        if i == failing:
            var = b.node("VariableV2", name=f"{scope}unfrozen", attrs={"dtype": "float32", "shape": (1, 8)})
            h = b.op("AddV2", [h, b.op("Identity", [var], name=f"{scope}unfrozen/read")], name=f"{scope}add_{i}")
        outs.append(h)
    axis = b.const(1, name="axis", dtype="int32")
    b.output(b.op("ConcatV2", [*outs, axis], name="concat", attrs={"N": len(outs)}))
    return b
