"""Models for the soak, built in code with :mod:`graphlint.testing`: each maker takes a request number ``i`` and
returns a file no other ``i`` gives (a constant or a name carries it), so every request is linted, not answered
from the content-addressed store.

Three kinds, as a service sees them:

* ``normal``: small models as CI jobs send them: a conv net GraphDef, an int8 TFLite classifier, a text GraphDef;
* ``hostile``: the shapes an attack found to cost more than their size (one op with many outputs feeding one op
  with many inputs, name scopes thousands deep, thousands of unfrozen variables, huge declared shapes);
* ``large``: megabytes of weights in few nodes, and a chain over the service's node budget (refused with 422
  before its nodes are parsed).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable

from graphlint.testing import GraphBuilder, TFLiteBuilder

Maker = Callable[[int], bytes]


def conv_net(i: int) -> bytes:
    """Conv2D, BiasAdd, Relu, MaxPool, MatMul, Softmax on a 1x16x16x3 input (about 5 KB)."""
    b = GraphBuilder()
    x = b.placeholder("input", "float32", (1, 16, 16, 3))
    k = b.const([[[[0.01 * (i % 7)] * 8] * 3] * 3] * 3, name="conv/kernel")
    y = b.op("Conv2D", [x, k], name="conv/Conv2D", attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
    y = b.op("BiasAdd", [y, b.const([0.1] * 8, name="conv/bias")], name="conv/BiasAdd")
    y = b.op("Relu", [y], name="conv/Relu")
    y = b.op("MaxPool", [y], name="pool", attrs={"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"})
    y = b.op("Reshape", [y, b.const([1, 512], name="flat/shape", dtype="int32")], name="flat",
             attrs={"Tshape": "int32"})
    w = b.const([[float((i * 31 + r) % 5)] * 10 for r in range(512)], name="fc/w")
    y = b.op("MatMul", [y, w], name="fc/MatMul")
    b.op("Softmax", [y], name="probs")
    return b.to_bytes() + _tag(i)


def int8_tflite(i: int) -> bytes:
    """An int8 FULLY_CONNECTED and SOFTMAX classifier (about 2 KB)."""
    b = TFLiteBuilder()
    x = b.input(f"input_{i}", "int8", (1, 16), quant=([0.5], [0]))
    w = b.tensor("w", "int8", (8, 16), data=[[(i + r + c) % 100 - 50 for c in range(16)] for r in range(8)],
                 quant=([0.1], [0]))
    b.op("FULLY_CONNECTED", [x, w], [b.tensor("y", "int8", (1, 8), quant=([0.25], [3]))])
    b.op("SOFTMAX", ["y"], [b.tensor("z", "int8", (1, 8), quant=([1 / 256], [-128]))],
         options=("SoftmaxOptions", {"beta": 1.0}))
    b.output("z")
    return b.to_bytes()


def text_graph(i: int) -> bytes:
    """A text GraphDef: MatMul, Add, Relu6."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    y = b.op("MatMul", [x, b.const([[float(i % 97)] * 4] * 8, name="w")], name="mm")
    y = b.op("Add", [y, b.const([1.0] * 4, name="b")], name="add")
    b.op("Relu6", [y], name="out")
    b.const(float(i), name=f"soak/request_{i}")
    return b.to_text().encode()


def fan(i: int, n: int = 3000) -> bytes:
    """One IdentityN with n outputs, all read by one AddN with n inputs (once quadratic in the TFLite loader)."""
    b = GraphBuilder()
    x = b.placeholder(f"x{i}")
    ident = b.node("IdentityN", [x] * n, name="fan", attrs={"T": ["float32"] * n})
    b.op("AddN", [f"{ident}:{k}" for k in range(n)], name="sum", attrs={"N": n})
    return b.to_bytes()


def tflite_fan(i: int, n: int = 3000) -> bytes:
    """The TFLite fan: one op with n outputs feeding one op with n inputs."""
    b = TFLiteBuilder()
    outs = [b.tensor(f"t{i}_{k}") for k in range(n)]
    b.op("SPLIT", [b.input("x", "float32", (1, 4))], outs)
    b.op("ADD_N", outs, [b.tensor("y")])
    b.output("y")
    return b.to_bytes()


def deep_scope(i: int, n: int = 20_000) -> bytes:
    """One op named ``s/`` x n deep (a 40 KB file that once made a 1.2 GB viewer graph)."""
    b = GraphBuilder()
    scope = "s/" * n
    x = b.placeholder(f"{scope}x{i}")
    b.op("Relu", [x], name=scope + "y")
    return b.to_bytes()


def variables(i: int, n: int = 3000) -> bytes:
    """n unfrozen variables: n findings of one rule (once 19 s of SARIF on the event loop at 100k)."""
    b = GraphBuilder()
    x = b.placeholder(f"x{i}", "float32", (1, 1))
    for k in range(n):
        b.node("VariableV2", name=f"v{k}", attrs={"dtype": "float32", "shape": (1,)})
    b.op("Relu", [x], name="y")
    return b.to_bytes()


def huge_shapes(i: int, n: int = 200) -> bytes:
    """n placeholders declaring 2^40 x 2^40 elements, each through a Reshape and an Add."""
    b = GraphBuilder()
    big = (1 << 40, 1 << 40)
    for k in range(n):
        x = b.placeholder(f"x{i}_{k}", shape=big)
        y = b.op("Reshape", [x, b.const([1 << 40, 1 << 40], name=f"s{k}", dtype="int64")], name=f"y{k}",
                 attrs={"Tshape": "int64"})
        b.op("Add", [y, x], name=f"a{k}")
    return b.to_bytes()


def garbage(i: int, size: int = 4096) -> bytes:
    """Random bytes behind a TFLite identifier: an unreadable model (a stored report with one fatal finding)."""
    data = bytearray(random.Random(i).randbytes(size))
    data[4:8] = b"TFL3"
    return bytes(data)


@functools.cache
def _big_weights(mb: int) -> bytes:
    rows = (mb << 20) // (4 * 256)
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, rows))
    w = b.const([[float(r % 3)] * 256 for r in range(rows)], name="w")
    b.op("Relu", [b.op("MatMul", [x, w], name="mm")], name="y")
    return b.to_bytes()


@functools.cache
def _chain(n: int) -> bytes:
    b = GraphBuilder()
    t = b.placeholder("x")
    for k in range(n):
        t = b.op("Relu", [t], name=f"r{k}")
    return b.to_bytes()


def _tag(i: int) -> bytes:
    """A one-node GraphDef naming ``i``: appended to a binary GraphDef, its node joins the graph (protobuf merges
    concatenated messages), so a large model built once differs per request for the cost of a few bytes."""
    b = GraphBuilder()
    b.const(float(i), name=f"soak/request_{i}")
    return b.to_bytes()


def big_weights(i: int, mb: int = 4) -> bytes:
    """A float MatMul over an ``mb`` MB constant: megabytes of file, few nodes."""
    return _big_weights(mb) + _tag(i)


def over_budget_chain(i: int, n: int = 260_000) -> bytes:
    """A chain of n Relu ops: over the default node budget of 250,000 (422 naming ``max-nodes``)."""
    return _chain(n) + _tag(i)


NORMAL: dict[str, Maker] = {"conv_net": conv_net, "int8_tflite": int8_tflite, "text_graph": text_graph}
HOSTILE: dict[str, Maker] = {"fan": fan, "tflite_fan": tflite_fan, "deep_scope": deep_scope, "variables": variables,
                             "huge_shapes": huge_shapes, "garbage": garbage}
LARGE: dict[str, Maker] = {"big_weights": big_weights, "over_budget_chain": over_budget_chain}
KINDS: dict[str, dict[str, Maker]] = {"normal": NORMAL, "hostile": HOSTILE, "large": LARGE}
