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


# bench/fuzz.py, shapes target: over the 2 GB memory cap. Each decodes to a DepthToSpace of a placeholder
# (64, 2^31, 2, 2) whose block_size attr is a list: the shape rule multiplied the height by that list, building a
# list of 2^31 items (or more). A block size that is not a positive integer now leaves the dims unknown.
DEPTH_TO_SPACE_OOMS = [
    b"+,../0]]]]]]]]]]]]]]1,-\\.1[0/]^transp[0/]^transpose_a\x9a\x9a\x00\x00\x00\x00\x00\x00\x00\x08KLMNoO",
    b"+,../0]]]]]]]]]]]]]]1,-\\.1[0/]^transp1[0/]^transpoabc\x9a\x9aIJ\x9adefghKLMNoO",
    b"+,../0]]]]]]]]]]]]]]0,-\\.1[0/]^transp\x91~\x8c\x9a_aCD\xb9\xff\xffH_`abc\x9a\x9aIJ\x9adefghKLMNoO",
]


def _depth_to_space(block_size) -> bytes:
    b = GraphBuilder()
    b.node("DepthToSpace", [b.placeholder("x", shape=(1, 1 << 31, 2, 8))], name="y",
           attrs={"block_size": block_size, "T": "float32"})
    return b.to_bytes()


@pytest.mark.parametrize("data", [*(graph_from_bytes(d) for d in DEPTH_TO_SPACE_OOMS), _depth_to_space([4]),
                                  _depth_to_space(-2)],
                         ids=["fuzz-list-1", "fuzz-list-0", "fuzz-list-4", "built-list", "built-negative"])
def test_a_block_size_that_is_not_a_positive_integer_leaves_the_dims_unknown(data):
    shape = load(data).tensors["y:0"].shape
    assert shape is not None and len(shape) == 4 and all(d is None for d in shape[1:])
    assert work(load, data) < 5000


def test_depth_to_space_with_an_integer_block_size():
    assert load(_depth_to_space(2)).tensors["y:0"].shape == (1, 1 << 32, 4, 2)
