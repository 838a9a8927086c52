"""Per-model budgets: too many nodes or too little memory is one fatal GL005 finding (one error line and exit 2
in the CLI), and a rule's findings beyond the cap become one summary finding that keeps the verdicts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from graphlint.engine.registry import default_registry
from graphlint.engine.runner import Budgets, lint
from graphlint.loaders import BudgetExceeded, LoadError, load
from graphlint.testing import GraphBuilder

from . import hostile
from ._work import work


@pytest.mark.parametrize("make", [hostile.pb_chain, lambda n: hostile.pb_chain(n, text=True), hostile.tflite_chain],
                         ids=["pb", "pbtxt", "tflite"])
def test_too_many_nodes_is_a_budget_error(make):
    data = make(60)
    assert load(data, max_nodes=None)
    with pytest.raises(BudgetExceeded) as info:
        load(data, name="m", max_nodes=50)
    err = info.value
    assert isinstance(err, LoadError) and err.kind == "over-budget"
    assert (err.budget, err.limit) == ("max-nodes", 50) and err.actual > 50
    assert str(err).startswith("m: model over budget: ") and "--max-nodes" in str(err)
    assert "\n" not in str(err)


def test_function_bodies_count_toward_the_node_budget():
    b = GraphBuilder()
    b.function("f", [("a", "float32")], lambda fb: [fb.op("Relu", [fb.op("Relu", ["a"], name=f"r{i}")], name=f"s{i}")
                                                     for i in range(20)])
    b.op("Relu", [b.placeholder("x")], name="y")
    assert load(b.to_bytes(), max_nodes=42)  # x, y and the 40 nodes of f
    with pytest.raises(BudgetExceeded):
        load(b.to_bytes(), max_nodes=41)


def test_binary_graphdef_is_refused_before_its_nodes_are_parsed():
    data = hostile.pb_chain(4000)
    assert work(lambda: load(data, max_nodes=100)) * 5 < work(lambda: load(data, max_nodes=None))


def test_lint_reports_one_fatal_gl005():
    report = lint(hostile.pb_chain(60), name="chain.pb", budgets=Budgets(max_nodes=50))
    assert [f.code for f in report.findings] == ["GL005"]
    assert report.fatal and report.fatal_finding.code == "GL005"
    assert dict(report.findings[0].data) == {"kind": "over-budget", "budget": "max-nodes"}


def _variables(n: int) -> bytes:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    for i in range(n):
        w = b.node("VariableV2", name=f"w{i}", attrs={"dtype": "float32", "shape": (4, 2)})
        b.op("MatMul", [x, w], name=f"y{i}")
    return b.to_bytes()


def test_findings_beyond_the_cap_become_one_summary_with_the_same_verdicts():
    data = _variables(30)
    full = lint(data, targets=["float", "int8"], budgets=Budgets(max_findings_per_rule=None))
    capped = lint(data, targets=["float", "int8"], budgets=Budgets(max_findings_per_rule=10))
    gl101 = [f for f in capped.findings if f.code == "GL101"]
    assert len([f for f in full.findings if f.code == "GL101"]) == 30
    assert len(gl101) == 11
    summary = [f for f in gl101 if f.node is None]
    assert len(summary) == 1 and dict(summary[0].data) == {"budget": "max-findings", "omitted": 20}
    assert "20 more GL101" in summary[0].message and "--max-findings" in summary[0].message
    assert capped.findings.index(summary[0]) < capped.findings.index(next(f for f in gl101 if f.node))
    assert capped.verdicts() == full.verdicts()


def test_out_of_memory_in_a_rule_is_one_fatal_gl005(monkeypatch):
    rule = default_registry().by_code()["GL101"]

    def exhausted(self, model, ctx):
        raise MemoryError

    monkeypatch.setattr(rule, "check", exhausted)
    report = lint(_variables(2), name="v.pb")
    assert [f.code for f in report.findings] == ["GL005"]
    assert "not enough memory" in report.findings[0].message and "--max-memory" in report.findings[0].message


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphlint", "check", *args, "-f", "json:/dev/null"],
                          capture_output=True, text=True, timeout=300)


def test_cli_max_nodes(tmp_path):
    path = tmp_path / "chain.pb"
    path.write_bytes(hostile.pb_chain(60))
    proc = _cli(str(path), "--max-nodes", "50")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"graphlint: error: {path}: model over budget: 61 nodes, more than the 50 "
                                        "allowed (raise it with --max-nodes)"]
    assert _cli(str(path), "--max-nodes", "0").returncode == 0


@pytest.mark.parametrize("fmt", ["pb", "tflite"])
def test_cli_max_memory_is_one_error_line(tmp_path, fmt):
    """A 100k-node chain needs about 300 MB: under a 256 MB cap the CLI says so in one line and exits 2 (protobuf's
    C code crashed or spun when an allocation failed under the cap: the loaders stop before it is reached)."""
    path = tmp_path / f"chain.{fmt}"
    path.write_bytes(hostile.pb_chain(100_000) if fmt == "pb" else hostile.tflite_chain(40_000))
    proc = _cli(str(path), "--max-memory", "256")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [f"graphlint: error: {path}: model over budget: it needs more memory than the "
                                        "256 MB allowed (raise the limit with --max-memory)"]


def test_cli_max_memory_below_the_floor_is_a_usage_error(tmp_path):
    proc = _cli(str(tmp_path / "any.pb"), "--max-memory", "100")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["graphlint: error: argument --max-memory: must be 0 (no limit) or at least "
                                        "256 MB (see graphlint check --help)"]


def test_cli_file_larger_than_the_memory_cap(tmp_path):
    """The model is mapped, not read: a 600 MB (sparse) file under a 300 MB cap cannot be mapped at all."""
    path = tmp_path / "big.pb"
    with open(path, "wb") as fh:
        fh.truncate(600 << 20)
    proc = _cli(str(path), "--max-memory", "300")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"graphlint: error: {path}: model over budget: a 600 MB file does not fit in "
                                        "the memory allowed (raise the limit with --max-memory)"]
