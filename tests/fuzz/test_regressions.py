"""Inputs the fuzzers found, kept as regression tests (tiny, as bytes, or built in code)."""

from __future__ import annotations

import pytest

from graphlint.loaders import load
from graphlint.testing import GraphBuilder
from tests.loaders._work import work

from .targets import graph_from_bytes

# bench/fuzz.py, shapes target: hangs over 10 s under atheris on a busy machine. Each decodes to a GraphDef of a
# Placeholder and a Split / SplitV declaring num_split = 2^30; the loader makes the capped 65,536 outputs and
# looked up their shared dtype once per output, at about 9 counted units per output.
SPLIT_HANGS = [b"\xaej\xb3\xb1\xbd\xb2\xb3uvwxyz\xed|",
               b"\xad%STSTFL3\xcaa \x1b<\xb93iFL3\xcaa \x1b<\xb93i} \x1b\xa9\xedp \x1b"]


def _split(num_split: int) -> bytes:
    b = GraphBuilder()
    b.node("Split", [b.const(0, name="axis", dtype="int32"), b.placeholder("x", shape=(4,))], name="y",
           attrs={"num_split": num_split, "T": "float32"})
    return b.to_bytes()


@pytest.mark.parametrize("data", [*(graph_from_bytes(d) for d in SPLIT_HANGS), _split(1 << 30)],
                         ids=["fuzz-split", "fuzz-splitv", "built-split"])
def test_a_billion_declared_outputs_cost_at_most_3_units_per_capped_output(data):
    model = load(data)
    assert len(model.nodes["y"]["outputs"]) == 1 << 16
    assert work(load, data) < 3 * (1 << 16)
