"""Property tests of the graph builders in ``graphlint.testing``: any graph they can describe loads into a
consistent IR with the nodes, edges and tensors described, in binary and text form, and lints without a rule
crashing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphlint.engine.runner import lint
from graphlint.ir import validate
from graphlint.loaders import load
from graphlint.testing import GraphBuilder, TFLiteBuilder

_UNARY = ("Relu", "Relu6", "Tanh", "Sigmoid", "Identity", "Neg", "Abs", "Square")
_BINARY = ("Add", "AddV2", "Mul", "Sub", "Maximum", "Minimum")
_DIM = st.one_of(st.none(), st.integers(0, 8))
_SHAPE = st.one_of(st.none(), st.lists(_DIM, max_size=4).map(tuple))
_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,6}(/[a-z][a-z0-9_]{0,6}){0,3}", fullmatch=True)

# One op: (unary or binary op name, indices into the tensors made so far, read modulo their count, a name).
_OP = st.tuples(st.sampled_from(_UNARY + _BINARY), st.integers(0, 10 ** 6), st.integers(0, 10 ** 6), _NAME)


def _graph(shapes: list, ops: list) -> tuple[GraphBuilder, list[tuple[str, list[str]]]]:
    b = GraphBuilder()
    tensors = [b.placeholder(f"in{i}", "float32", shape) for i, shape in enumerate(shapes)]
    made = []
    for op, i, j, name in ops:
        inputs = [tensors[i % len(tensors)]] + ([tensors[j % len(tensors)]] if op in _BINARY else [])
        out = b.op(op, inputs, name=name)
        made.append((out, inputs))
        tensors.append(out)
    return b, made


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_SHAPE, min_size=1, max_size=3), st.lists(_OP, max_size=25))
def test_graph_builder_graphs_load_as_described(shapes, ops):
    b, made = _graph(shapes, ops)
    for data in (b.to_bytes(), b.to_text().encode()):
        model = load(data)
        assert validate(model) == []
        assert [n for n, _ in model.ops()] == [name for name, _ in made]
        for name, inputs in made:
            assert model.node(name)["inputs"] == [f"{t}:0" for t in inputs]
            for t in inputs:
                assert name in model.tensors[f"{t}:0"].consumers
        for i, shape in enumerate(shapes):
            assert model.tensors[f"in{i}:0"].shape == shape
        assert sum(1 for _ in model.edges()) == sum(len(i) for _, i in made) + len(model.info.outputs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_SHAPE, min_size=1, max_size=2), st.lists(_OP, max_size=12))
def test_graph_builder_graphs_lint_without_a_rule_crash(shapes, ops):
    b, _ = _graph(shapes, ops)
    report = lint(b.to_bytes(), targets=["float", "int8", "tflm"])
    assert not [f for f in report.findings if f.code in ("GL900", "GL001")]


_TFL_UNARY = ("RELU", "TANH", "LOGISTIC", "ABS")
_TFL_BINARY = ("ADD", "MUL", "SUB", "MAXIMUM")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_TFL_UNARY + _TFL_BINARY), st.integers(0, 10 ** 6),
                          st.integers(0, 10 ** 6), st.booleans()), max_size=20),
       st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_tflite_builder_models_load_as_described(ops, shape):
    b = TFLiteBuilder()
    tensors = [b.input("x", "float32", shape)]
    made = []
    for k, (op, i, j, const) in enumerate(ops):
        second = (b.tensor(f"c{k}", "float32", shape, data=[[0.5] * shape[-1]] * 1) if const and len(shape) == 2
                  else tensors[j % len(tensors)])
        inputs = [tensors[i % len(tensors)]] + ([second] if op in _TFL_BINARY else [])
        out = b.tensor(f"t{k}", "float32", shape)
        b.op(op, inputs, [out])
        made.append((op, inputs))
        tensors.append(out)
    b.output(tensors[-1])
    model = load(b.to_bytes())
    assert validate(model) == []
    assert [a["op"] for _, a in model.ops()] == [op for op, _ in made]
    names = {t.id: t.name for t in model.tensors.values()}
    for (_node, attrs), (_, inputs) in zip(model.ops(), made, strict=True):
        assert [names[t] for t in attrs["inputs"]] == inputs
    assert [t.name for t in model.output_tensors()] == [tensors[-1]]
    assert [t.shape for t in model.input_tensors()] == [tuple(shape)]
