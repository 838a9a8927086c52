"""Every stage of a lint is linear in the size of a hostile model: doubling the input roughly doubles the work.

Work is counted (calls, bytecodes and container scans, see ``_work``), never timed. The inputs are the hostile
shapes of ``hostile``: one op with n outputs feeding one op with n inputs, name scopes n deep, long chains,
wide fan-in and fan-out, huge declared shapes, many subgraphs. Quadratic work gives a ratio near 4 at these
sizes (at least 2.5); linear work gives 2 or less.
"""

from __future__ import annotations

import json

import pytest

from graphlint.engine.runner import lint
from graphlint.formats import renderer
from graphlint.loaders import load
from graphlint.viewer import MAX_SCOPE_DEPTH, graph_json

from . import hostile
from ._work import growth

LINEAR = 2.3  # work(2n) / work(n) at most: linear work plus a margin for constant costs

# (maker, n, count bytecodes too): sizes keep each case around a second under the counter.
CASES = {
    **{f"pb-{name}": (maker, 300, False) for name, maker in hostile.GRAPHDEF.items()},
    **{f"pbtxt-{name}": ((lambda n, m=maker: m(n, text=True)), 40, False) for name, maker in hostile.GRAPHDEF.items()},
    **{f"tflite-{name}": (maker, 300, False) for name, maker in hostile.TFLITE.items()},
    "tflite-subgraphs-opcodes": (hostile.tflite_subgraphs, 150, True),
    "tflite-fan-opcodes": (hostile.tflite_fan, 300, True),
    "pb-fan-opcodes": (hostile.pb_fan, 300, True),
}


@pytest.mark.parametrize("case", CASES)
def test_loading_is_linear(case):
    maker, n, opcodes = CASES[case]
    assert growth(maker, load, n, opcodes=opcodes) < LINEAR


@pytest.mark.parametrize("case", hostile.SHAPES)
def test_shape_inference_is_linear(case):
    """GraphDef loading runs shape inference; these shapes load little and infer much (bytecodes counted)."""
    assert growth(hostile.SHAPES[case], load, 150, opcodes=True) < LINEAR


LINT_CASES = ["pb-fan", "pb-chain", "pb-fan_out", "pb-deep_scope", "pb-huge_shapes", "tflite-fan", "tflite-chain",
              "tflite-subgraphs", "pb-loops_over_one_list"]
CASES["pb-loops_over_one_list"] = (hostile.pb_loops_over_one_list, 300, False)


def _loaded(case: str):
    maker, _, _ = CASES[case]
    return lambda n: load(maker(n))


@pytest.mark.parametrize("case", LINT_CASES)
def test_rules_run_is_linear(case):
    """The rules over a loaded model (``lint`` given the model: no loading counted)."""
    assert growth(_loaded(case), lint, 150) < LINEAR


@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
@pytest.mark.parametrize("case", ["pb-fan_out", "tflite-chain"])
def test_report_rendering_is_linear(case, fmt):
    render = renderer(fmt)
    assert growth(lambda n: lint(_loaded(case)(n)), lambda report: render([report]), 150) < LINEAR


@pytest.mark.parametrize("case", [*LINT_CASES, "tflite-deep_scope"])
def test_viewer_graph_is_linear(case):
    """Building the viewer graph, in work and in the size of its JSON."""
    reports = lambda n: lint(_loaded(case)(n))  # noqa: E731
    assert growth(reports, lambda report: graph_json(report.model_graph, report), 150) < LINEAR
    small, large = (json.dumps(graph_json(r.model_graph, r)) for r in (reports(150), reports(300)))
    assert len(large) / len(small) < LINEAR


def test_scopes_20000_deep_make_a_small_graph():
    """One node named ``s/`` x 20,000 (a 40 KB file) once stored a 1.2 GB viewer graph."""
    data = hostile.pb_deep_scope(20_000)
    graph = graph_json(load(data))
    assert graph["counts"]["scopes"] == MAX_SCOPE_DEPTH
    assert graph["counts"]["scopes_cut"] == 3  # the placeholder, the op and the output
    assert max(s["depth"] for s in graph["scopes"]) == MAX_SCOPE_DEPTH - 1
    assert len(json.dumps(graph)) < 20 * len(data)  # node ids repeat in edges and tensors: linear, not n^2
