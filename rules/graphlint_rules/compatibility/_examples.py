"""Example graphs shared by the docs of several compatibility rules."""

from __future__ import annotations


def lstm_loop(b) -> None:
    """A control-flow-v2 loop whose body is LSTM cell math (MatMul, Sigmoid, Tanh), as `dynamic_rnn` writes."""
    w = [[0.1] * 16] * 8

    def body(fb):
        z = fb.op("MatMul", ["h", fb.const(w, name="kernel")], name="gates")
        i = fb.op("Sigmoid", [z], name="i")
        c = fb.op("Tanh", [z], name="c")
        return [fb.op("Mul", [i, c], name="h_next")]

    def cond(fb):
        return [fb.op("Less", ["h", fb.const(1.0, name="limit")], name="keep_going")]

    b.function("while_body", [("h", "float32")], body)
    b.function("while_cond", [("h", "float32")], cond)
    x = b.placeholder("x", "float32", (1, 8))
    loop = b.node("StatelessWhile", [x], name="rnn/while",
                  attrs={"T": ["float32"], "body": {"func": "while_body"}, "cond": {"func": "while_cond"}})
    b.output(loop)
