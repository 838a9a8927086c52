"""GL005 model-over-budget: a model over its node budget, or a load or a rule that runs out of the memory allowed,
is one fatal finding that names the budget to raise; the cap on findings per rule never is."""

from __future__ import annotations

import pytest

import graphlint.engine.runner as runner
import graphlint.loaders.graphdef as graphdef_loader
from graphlint.engine.finding import Severity
from graphlint.engine.registry import default_registry
from graphlint.engine.runner import Budgets, lint
from graphlint.engine.select import Selection
from graphlint.loaders import BudgetExceeded
from graphlint.testing import GraphBuilder, TFLiteBuilder

from ._models import ALL_TARGETS


def _unfrozen_chain(relus: int) -> bytes:
    """x @ w (w an unfrozen variable, which GL101 reports) then ``relus`` Relu nodes: 3 + relus nodes."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    w = b.node("VariableV2", name="w", attrs={"dtype": "float32", "shape": (4, 4)})
    y = b.op("MatMul", [x, w], name="mm")
    for i in range(relus):
        y = b.op("Relu", [y], name=f"relu{i}")
    return b.to_bytes()


def _tflite_chain(ops: int) -> bytes:
    """``ops`` RELU operators in a row: ``ops`` operators and ``ops + 1`` tensors."""
    b = TFLiteBuilder()
    t = b.input("t0", "float32", (1, 4))
    for i in range(ops):
        out = b.tensor(f"t{i + 1}", "float32", (1, 4))
        b.op("RELU", [t], [out])
        t = out
    b.output(t)
    return b.to_bytes()


def _fatal_gl005(report, budget: str):
    """The report's one finding: GL005 for ``budget``, an error on every target, at no node."""
    (finding,) = report.findings
    assert finding.code == "GL005" and finding.rule == "model-over-budget" and finding.node is None
    assert dict(finding.data)["budget"] == budget
    assert all(finding.severity_for(t) is Severity.ERROR for t in ALL_TARGETS)
    assert report.fatal and {v["verdict"] for v in report.verdicts().values()} == {"fail"}
    assert "\n" not in finding.message
    return finding


def test_a_graphdef_over_the_node_budget_stops_the_lint():
    data = _unfrozen_chain(57)  # 60 nodes
    report = lint(data, name="chain.pb", targets=ALL_TARGETS, budgets=Budgets(max_nodes=59))
    finding = _fatal_gl005(report, "max-nodes")
    assert dict(finding.data) == {"kind": "over-budget", "budget": "max-nodes"}
    assert finding.message == ("chain.pb: model over budget: 60 nodes, more than the 59 allowed "
                               "(raise it with --max-nodes)")
    assert report.model_graph is None  # the nodes were counted, never parsed: no rule ran (GL101 would have)


@pytest.mark.parametrize("max_nodes", [60, None], ids=["at-the-limit", "no-limit"])
def test_a_graphdef_within_the_node_budget_is_linted(max_nodes):
    report = lint(_unfrozen_chain(57), name="chain.pb", targets=ALL_TARGETS, budgets=Budgets(max_nodes=max_nodes))
    codes = [f.code for f in report.findings]
    assert "GL005" not in codes and "GL101" in codes and not report.fatal


def test_a_tflite_counts_operators_and_tensors():
    data = _tflite_chain(10)  # 10 operators + 11 tensors
    finding = _fatal_gl005(lint(data, name="chain.tflite", targets=ALL_TARGETS, budgets=Budgets(max_nodes=20)),
                           "max-nodes")
    assert "21 nodes, more than the 20 allowed" in finding.message
    report = lint(data, name="chain.tflite", targets=ALL_TARGETS, budgets=Budgets(max_nodes=21))
    assert not report.fatal and "GL005" not in [f.code for f in report.findings]


def test_running_out_of_memory_while_loading_is_gl005(monkeypatch):
    def exhausted(path: str) -> None:
        raise BudgetExceeded(f"{path}: model over budget: it needs more memory than the 256 MB allowed "
                             "(raise the limit with --max-memory)", "max-memory", 256, 300)

    monkeypatch.setattr(graphdef_loader, "check_memory", exhausted)
    finding = _fatal_gl005(lint(_unfrozen_chain(1), name="m.pb", targets=ALL_TARGETS), "max-memory")
    assert "--max-memory" in finding.message


def test_a_rule_over_the_memory_budget_is_gl005_naming_the_rule(monkeypatch):
    """The runner checks memory before each rule; over budget, the findings of the rules already run are
    dropped (an incomplete report must not read as a pass) and GL005 names the rule that was about to run."""
    calls = []

    def over_on_second_rule(path: str) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise BudgetExceeded(f"{path}: model over budget: it needs more memory than the 256 MB allowed "
                                 "(raise the limit with --max-memory)", "max-memory", 256, 300)

    monkeypatch.setattr(runner, "check_memory", over_on_second_rule)
    report = lint(_unfrozen_chain(1), name="m.pb", targets=ALL_TARGETS,
                  selection=Selection(select=("GL101", "GL102")))
    finding = _fatal_gl005(report, "max-memory")
    assert dict(finding.data)["rule"] == "GL102"  # GL101 ran first, and its finding is gone


def test_a_rule_that_raises_memory_error_is_gl005(monkeypatch):
    rule = default_registry().by_code()["GL101"]

    def exhausted(self, model, ctx):
        raise MemoryError

    monkeypatch.setattr(rule, "check", exhausted)
    finding = _fatal_gl005(lint(_unfrozen_chain(1), name="m.pb", targets=ALL_TARGETS), "max-memory")
    assert dict(finding.data)["rule"] == "GL101"
    assert "rule GL101 ran out" in finding.message and "--max-memory" in finding.message


def test_the_findings_cap_is_never_gl005():
    """More findings than --max-findings become one summary finding of their own rule; the lint goes on."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    for i in range(5):
        b.op("MatMul", [x, b.node("VariableV2", name=f"w{i}", attrs={"dtype": "float32", "shape": (4, 2)})],
             name=f"y{i}")
    report = lint(b.to_bytes(), name="v.pb", targets=("float",), budgets=Budgets(max_findings_per_rule=2))
    assert "GL005" not in [f.code for f in report.findings] and not report.fatal
    assert [f.node for f in report.findings if f.code == "GL101"] == [None, "w0", "w1"]
