"""The fixed seed corpus of each fuzz target, built in code: small valid models of every shape the loaders
handle (functions, constants, quantized and custom TFLite ops, the hostile shapes) plus a few fixed byte
strings for the shape-inference target."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from graphlint.testing import GraphBuilder, TFLiteBuilder
from tests.loaders import hostile


def _graphs() -> list[GraphBuilder]:
    out = []
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8, 8, 3))
    y = b.op("Conv2D", [x, b.const([[[[0.5] * 4] * 3] * 3] * 3, name="k")], name="conv",
             attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
    b.op("Relu", [y], name="y")
    out.append(b)
    b = GraphBuilder()
    b.function("f", [("a", "float32")], lambda fb: [fb.op("Relu", ["a"], name="r")])
    x = b.placeholder("x", shape=None)
    s = b.node("Split", [b.const(0, name="axis", dtype="int32"), x], name="s", attrs={"num_split": 2, "T": "float32"})
    b.op("AddN", [s, f"{s}:1"], name="sum", attrs={"N": 2}, control=["x"])
    b.node("VariableV2", name="w", attrs={"dtype": "float32", "shape": (4, 2)})
    b.node("PartitionedCall", [x], name="call", attrs={"f": {"func": "f"}, "Tout": ["float32"]})
    out.append(b)
    return out


def _tflites() -> list[bytes]:
    b = TFLiteBuilder()
    x = b.input("x", "int8", (1, 4), quant=([0.5], [0]))
    w = b.tensor("w", "int8", (4, 4), data=[[1] * 4] * 4, quant=([0.1, 0.2, 0.3, 0.4], [0] * 4, 0))
    b.op("FULLY_CONNECTED", [x, w], [b.tensor("y", "int8", (1, 4), quant=([0.25], [3]))])
    b.op("SOFTMAX", ["y"], [b.tensor("z", "float32", (1, 4), signature=(-1, 4))],
         options=("SoftmaxOptions", {"beta": 1.0}))
    b.op("CUSTOM", ["z"], [b.tensor("c")], custom="MyOp")
    b.output("c")
    return [b.to_bytes(), hostile.tflite_fan(5), hostile.tflite_chain(3), hostile.tflite_subgraphs(2),
            hostile.tflite_deep_scope(4)]


def seeds(target: str) -> list[bytes]:
    """The seed inputs of ``target`` (``graphdef``, ``pbtxt``, ``tflite`` or ``shapes``), in a fixed order."""
    if target == "graphdef":
        return [g.to_bytes() for g in _graphs()] + [maker(4) for maker in hostile.GRAPHDEF.values()]
    if target == "pbtxt":
        return [g.to_text().encode() for g in _graphs()] + [maker(3, text=True) for maker in hostile.GRAPHDEF.values()]
    if target == "tflite":
        return _tflites()
    if target == "shapes":
        rng = random.Random(16)
        return [bytes(range(i, i + 24)) for i in range(0, 200, 8)] + [rng.randbytes(32) for _ in range(16)]
    raise KeyError(target)


def write_seeds(target: str, directory: Path) -> None:
    """Write the seed inputs of ``target`` into ``directory`` as ``seed-NNN`` files."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(seeds(target)):
        (directory / f"seed-{i:03d}").write_bytes(data)


if __name__ == "__main__":  # python -m tests.fuzz.corpus TARGET DIR (bench/fuzz.py runs this)
    write_seeds(sys.argv[1], Path(sys.argv[2]))
