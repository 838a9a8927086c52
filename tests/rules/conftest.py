"""Shared fixtures for rule tests: small graphs built in code, and the real converter's verdict on them."""

from __future__ import annotations

import pytest

from graphlint.testing import GraphBuilder
from tests.converter import convert

CONV_ATTRS = {"strides": [1, 1, 1, 1], "padding": "SAME"}


def frozen_matmul(b: GraphBuilder, x: str) -> str:
    return b.op("MatMul", [x, b.const([[1.0, -1.0]] * 4, name="w")], name="y")


def unfrozen(b: GraphBuilder) -> None:
    x = b.placeholder("x", "float32", (1, 4))
    w = b.node("VariableV2", name="w", attrs={"dtype": "float32", "shape": (4, 2)})
    b.output(b.op("MatMul", [x, w], name="y"))


def training(b: GraphBuilder) -> None:
    x = b.placeholder("x", "float32", (1, 4))
    y = frozen_matmul(b, x)
    b.op("ApplyGradientDescent", ["w", b.const(0.1, name="lr"), b.const([[0.0, 0.0]] * 4, name="g")],
         name="train/update")
    b.output(y)


def unknown_rank_conv(b: GraphBuilder) -> None:
    x = b.placeholder("x", "float32", None)
    b.output(b.op("Conv2D", [x, b.const([[[[1.0]]]], name="k")], name="y", attrs=CONV_ATTRS))


def unknown_rank_relu(b: GraphBuilder) -> None:
    b.output(b.op("Relu", [b.placeholder("x", "float32", None)], name="y"))


def dynamic_hw(b: GraphBuilder) -> None:
    x = b.placeholder("x", "float32", (1, None, None, 3))
    b.output(b.op("Conv2D", [x, b.const([[[[1.0, 0.5]] * 3]], name="k")], name="y", attrs=CONV_ATTRS))


def clean(b: GraphBuilder) -> None:
    b.output(frozen_matmul(b, b.placeholder("x", "float32", (1, 4))))


CASES = {
    "unfrozen": (unfrozen, {}),
    "training": (training, {}),
    "unknown_rank_conv": (unknown_rank_conv, {}),
    "unknown_rank_relu": (unknown_rank_relu, {}),
    "dynamic_hw": (dynamic_hw, {}),
    "dynamic_hw_fixed": (dynamic_hw, {"input_shapes": {"x": [1, 8, 8, 3]}}),
    "clean": (clean, {}),
    "bad_output_name": (clean, {"outputs": ["Y"]}),
}


def build(name: str) -> GraphBuilder:
    b = GraphBuilder()
    CASES[name][0](b)
    return b


@pytest.fixture(scope="session")
def judge(tmp_path_factory):
    """The real TF 2.21 converter's result (float target) for every case, from one child process."""
    root = tmp_path_factory.mktemp("judge")
    jobs = []
    for name, (_, extra) in CASES.items():
        b = build(name)
        path = root / f"{name}.pb"
        path.write_bytes(b.to_bytes())
        inputs = [n.name for n in b.graph.node if n.op == "Placeholder"]
        jobs.append({"path": str(path), "inputs": inputs, "outputs": extra.get("outputs", b.outputs),
                     "input_shapes": extra.get("input_shapes")})
    return dict(zip(CASES, convert(jobs)))
