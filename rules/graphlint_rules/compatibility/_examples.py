"""Example graphs shared by the docs of several compatibility rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder


def lstm_loop(b: GraphBuilder) -> None:
    """A control-flow-v2 loop whose body is LSTM cell math (MatMul, Sigmoid, Tanh) on its state and on the input,
    which the loop hands through unchanged (a tensor computed outside it)."""
    w = [[0.1] * 8] * 8

    def body(fb: GraphBuilder) -> list[str]:
        z = fb.op("AddV2", [fb.op("MatMul", ["h", fb.const(w, name="kernel")], name="gates"), "x"], name="plus_x")
        i = fb.op("Sigmoid", [z], name="i")
        c = fb.op("Tanh", [z], name="c")
        return [fb.op("Mul", [i, c], name="h_next"), fb.node("Identity", ["x"], name="x_out")]

    def cond(fb: GraphBuilder) -> list[str]:
        return [fb.op("Less", ["h", fb.const(1.0, name="limit")], name="keep_going")]

    b.function("while_body", [("h", "float32"), ("x", "float32")], body)
    b.function("while_cond", [("h", "float32"), ("x", "float32")], cond)
    x = b.placeholder("x", "float32", (1, 8))
    loop = b.node("StatelessWhile", [x, x], name="rnn/while",
                  attrs={"T": ["float32", "float32"], "body": {"func": "while_body"}, "cond": {"func": "while_cond"}})
    b.output(loop)
