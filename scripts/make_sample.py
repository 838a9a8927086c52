"""Write a small sample frozen GraphDef to try graphlint on, without TensorFlow.

The sample is a tiny image classifier (conv, batch norm, pooling, dense) whose input has dynamic spatial dims, a
common state for graphs exported from training code, so the report has something to say.

Usage: ``python scripts/make_sample.py [OUT.pb]`` (default ``build/sample.pb``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from graphlint.testing import GraphBuilder


def build_sample() -> GraphBuilder:
    """A 3-layer CNN classifier with realistic op attributes and seeded weights."""
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.placeholder("image", "float32", (1, None, None, 3))
    conv = {"strides": [1, 2, 2, 1], "padding": "SAME", "data_format": "NHWC"}
    h = b.op("Conv2D", [x, b.const(rng.normal(0, 0.1, (3, 3, 3, 16)), name="conv1/kernel")], name="conv1/Conv2D",
             attrs=conv)
    h = b.op("FusedBatchNormV3", [h, *(b.const(rng.uniform(0.5, 1.5, 16), name=f"bn1/{n}")
                                       for n in ("gamma", "beta", "mean", "variance"))],
             name="bn1/FusedBatchNormV3", attrs={"U": "float32", "epsilon": 0.001, "is_training": False})
    h = b.op("Relu6", [h], name="bn1/Relu6")
    h = b.op("DepthwiseConv2dNative", [h, b.const(rng.normal(0, 0.1, (3, 3, 16, 1)), name="dw/kernel")],
             name="dw/depthwise", attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
    h = b.op("Relu6", [h], name="dw/Relu6")
    h = b.op("Mean", [h, b.const([1, 2], dtype="int32", name="pool/axes")], name="pool/Mean",
             attrs={"Tidx": "int32", "keep_dims": False})
    logits = b.op("MatMul", [h, b.const(rng.normal(0, 0.1, (16, 10)), name="fc/kernel")], name="fc/MatMul")
    logits = b.op("BiasAdd", [logits, b.const(np.zeros(10), name="fc/bias")], name="fc/BiasAdd")
    b.op("Softmax", [logits], name="probs")
    return b


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "build/sample.pb")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build_sample().to_bytes())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
