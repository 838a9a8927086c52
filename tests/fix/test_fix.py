"""The fix engine and its handlers, without TensorFlow: structure, a numpy evaluation of before and after, the
engine's applicability rules and bounds, and the ``graphlint fix`` command."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from graphlint.engine.edits import KINDS, Edit
from graphlint.engine.finding import Applicability, Fix
from graphlint.fix import HANDLERS, FixError, fix_graph
from graphlint.loaders import graphdef_schema as pb
from graphlint.loaders.tensors import tensor_value
from graphlint.testing import GraphBuilder
from tests.fix import pack

X = np.random.default_rng(3).normal(0, 1, (2, 4)).astype(np.float32)


def evaluate(data: bytes, output: str, x: np.ndarray = X) -> np.ndarray:
    """A small numpy interpreter for the ops these graphs use (the reference for before/after)."""
    gd = pb.GraphDef.FromString(data)
    nodes = {n.name: n for n in gd.node}
    cache: dict[str, np.ndarray] = {}

    def val(name: str) -> np.ndarray:
        name = name.split(":")[0]
        if name in cache:
            return cache[name]
        n = nodes[name]
        ins = [val(i) for i in n.input if not i.startswith("^")]
        op = n.op
        if op == "Placeholder":
            out = x
        elif op == "Const":
            out = np.array(tensor_value(n.attr["value"].tensor))
        elif op in ("Identity", "Cast", "StopGradient", "CheckNumerics"):
            out = ins[0]
        elif op == "MatMul":
            out = ins[0] @ ins[1]
        elif op in ("BiasAdd", "Add", "AddV2"):
            out = ins[0] + ins[1]
        elif op == "Sub":
            out = ins[0] - ins[1]
        elif op == "Mul":
            out = ins[0] * ins[1]
        elif op == "Neg":
            out = -ins[0]
        elif op == "SquaredDifference":
            out = (ins[0] - ins[1]) ** 2
        elif op == "Rsqrt":
            out = 1 / np.sqrt(ins[0])
        elif op == "Reshape":
            out = ins[0].reshape([int(d) for d in ins[1]])
        elif op == "Relu":
            out = np.maximum(ins[0], 0)
        elif op == "Mean":
            out = ins[0].mean(axis=tuple(int(a) for a in np.atleast_1d(ins[1])), keepdims=n.attr["keep_dims"].b)
        elif op.startswith("FusedBatchNorm"):
            eps = n.attr["epsilon"].f
            xx, scale, offset, mean, var = ins
            if n.attr["is_training"].b:
                mean, var = xx.mean(axis=(0, 1, 2)), xx.var(axis=(0, 1, 2))
            out = (xx - mean) / np.sqrt(var + eps) * scale + offset
        else:
            raise NotImplementedError(op)
        cache[name] = out
        return out

    return val(output)


def _dense_bn(b: GraphBuilder, training: bool = False, bias: bool = True) -> str:
    rng = np.random.default_rng(5)
    x = b.placeholder("x", "float32", (2, 4))
    y = b.op("MatMul", [x, b.const(rng.normal(0, 1, (4, 3)), name="w")], name="dense")
    if bias:
        y = b.op("BiasAdd", [y, b.const(rng.normal(0, 1, 3), name="bias")], name="dense/bias")
    y = b.op("Reshape", [y, b.const(np.array([2, 1, 1, 3], np.int32), name="shape")], name="r",
             attrs={"Tshape": "int32"}) if training else y
    consts = [b.const(v, name=n) for n, v in (("gamma", rng.uniform(0.5, 1.5, 3)), ("beta", rng.normal(0, 1, 3)),
                                               ("mean", rng.normal(0, 1, 3)), ("var", rng.uniform(0.5, 1.5, 3)))]
    return b.op("FusedBatchNormV3", [y, *consts], name="bn", attrs={"epsilon": 1e-3, "is_training": training,
                                                                     "U": "float32"})


def _apply(b: GraphBuilder, *edits: Edit, output: str, **kw):
    """Fix with a rule that proposes exactly ``edits`` (safe)."""
    from graphlint.engine.rule import Category, Rule

    class Proposes(Rule):
        """## What it does
        Test rule."""

        code, name, summary, category = "TX900", "proposes", "test", Category.STRUCTURE
        formats = frozenset({"graphdef"})
        status = "preview"

        def check(self, model, ctx):
            yield self.report(model, None, "proposal", fix=Fix("apply", Applicability.SAFE, edits))

    return fix_graph(b.to_bytes(), outputs=(output,), registry=pack.only(Proposes), max_passes=1, **kw)


def test_every_kind_has_a_handler():
    assert set(HANDLERS) == set(KINDS)


@pytest.mark.parametrize("bias", [True, False])
def test_fold_batchnorm_into_matmul_keeps_the_numbers(bias):
    b = GraphBuilder()
    out = _dense_bn(b, bias=bias)
    b.output(out)
    result = _apply(b, Edit.of("fold-batchnorm", "bn"), output=out)
    ops = [n.op for n in result.after.node]
    assert "FusedBatchNormV3" not in ops and "Mul" not in ops  # folded into the weights, not left as Mul/Add
    np.testing.assert_allclose(evaluate(result.data, "bn"), evaluate(b.to_bytes(), "bn"), rtol=1e-5, atol=1e-5)


def test_batchnorm_with_nothing_to_fold_into_becomes_mul_add():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 4))
    consts = [b.const(np.linspace(0.5, 1.5, 4), name=n) for n in ("g", "o", "m", "v")]
    b.output(b.op("FusedBatchNormV3", [x, *consts], name="bn", attrs={"epsilon": 1e-3, "is_training": False}))
    result = _apply(b, Edit.of("fold-batchnorm", "bn"), output="bn")
    assert sorted(n.op for n in result.after.node if n.op != "Const") == ["AddV2", "Mul", "Placeholder"]
    np.testing.assert_allclose(evaluate(result.data, "bn"), evaluate(b.to_bytes(), "bn"), rtol=1e-5)


def test_training_batchnorm_refuses_fold_and_decomposes():
    b = GraphBuilder()
    out = _dense_bn(b, training=True)
    b.output(out)
    refused = _apply(b, Edit.of("fold-batchnorm", "bn"), output=out)
    assert refused.applied == [] and "training mode" in refused.skipped[0]["reason"]
    result = _apply(b, Edit.of("decompose-batchnorm", "bn"), output=out)
    assert {"Mean", "Rsqrt", "Sub"} <= {n.op for n in result.after.node}
    np.testing.assert_allclose(evaluate(result.data, "bn"), evaluate(b.to_bytes(), "bn"), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("op", "kind"), [("Neg", "neg-to-mul"), ("SquaredDifference", "squared-difference")])
def test_elementwise_rewrites_keep_the_numbers(op, kind):
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 4))
    ins = [x] if op == "Neg" else [x, b.const(np.full((2, 4), 0.3), name="c")]
    b.output(b.op("Relu", [b.op(op, ins, name="target")], name="y"))
    result = _apply(b, Edit.of(kind, "target"), output="y")
    assert op not in {n.op for n in result.after.node}
    np.testing.assert_allclose(evaluate(result.data, "y"), evaluate(b.to_bytes(), "y"), rtol=1e-6)


def test_bypass_at_the_output_keeps_the_output_name_and_refuses_a_real_cast():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 4))
    y = b.op("Relu", [x], name="relu")
    b.output(b.node("Cast", [y], name="out", attrs={"SrcT": "float32", "DstT": "float32"}))
    result = _apply(b, Edit.of("bypass", "out"), output="out")
    assert [(n.name, n.op) for n in result.after.node] == [("x", "Placeholder"), ("out", "Relu")]
    b2 = GraphBuilder()
    x2 = b2.placeholder("x", "float32", (2, 4))
    b2.output(b2.node("Cast", [x2], name="out", attrs={"SrcT": "float32", "DstT": "int32"}))
    refused = _apply(b2, Edit.of("bypass", "out"), output="out")
    assert refused.applied == [] and "only a no-op Cast" in refused.skipped[0]["reason"]


def test_prune_drops_training_branch_and_unused_placeholder():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 4))
    labels = b.placeholder("labels", "int32", (2,))
    w = b.const(np.ones((4, 3)), name="w")
    y = b.op("MatMul", [x, w], name="y")
    b.op("ApplyGradientDescent", [w, b.const(0.1, name="lr"), b.op("Mul", [y, labels], name="grad")], name="upd")
    b.output(y)
    result = fix_graph(b.to_bytes(), outputs=("y",), registry=pack.only())
    assert sorted(n.name for n in result.after.node) == ["w", "x", "y"]
    assert result.converged and result.applied[0]["code"] == "engine"


def test_fake_quant_add_and_drop():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 4))
    fq = b.node("FakeQuantWithMinMaxVars", [x, b.const(-1.0, name="lo"), b.const(1.0, name="hi")], name="fq",
                attrs={"num_bits": 8})
    b.output(b.op("Relu", [fq], name="y"))
    dropped = _apply(b, Edit.of("drop-fake-quant"), output="y")
    assert [n.name for n in dropped.after.node] == ["x", "y"]
    added = _apply(b, Edit.of("add-fake-quant", "y", min=0.0, max=6.0), output="y")
    fq_out = next(n for n in added.after.node if n.name == "y")
    assert fq_out.op == "FakeQuantWithMinMaxVars"  # the output keeps its name
    measured = _apply(b, Edit.of("add-fake-quant", "y"), output="y", measure=lambda data, ts: {ts[0]: (0.0, 2.5)})
    assert "[0, 2.5]" in measured.applied[0]["what"]
    unmeasured = _apply(b, Edit.of("add-fake-quant", "y"), output="y")
    assert unmeasured.applied == [] and "no range" in unmeasured.skipped[0]["reason"]


def test_applicability_unsafe_needs_opt_in_and_display_never_applies():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 4))
    fq = b.node("FakeQuantWithMinMaxVars", [x, b.const(-1.0, name="lo"), b.const(1.0, name="hi")], name="fq")
    b.output(b.op("Relu", [fq], name="y"))
    registry = pack.only(pack.FakeQuant, pack.DisplayOnly)
    safe = fix_graph(b.to_bytes(), outputs=("y",), registry=registry)
    assert safe.applied == [] and {f["code"] for f in safe.remaining} == {"TX006", "TX007"}
    unsafe = fix_graph(b.to_bytes(), outputs=("y",), registry=registry, unsafe=True)
    assert [a["kind"] for a in unsafe.applied] == ["drop-fake-quant"]
    assert [f["code"] for f in unsafe.remaining] == ["TX007"]  # the display-only fix stays a suggestion


def test_oscillating_rules_stop_within_the_bound():
    from graphlint.engine.rule import Category, Rule

    class FlipShape(Rule):
        """## What it does
        Test rule."""

        code, name, summary, category = "TX901", "flip-shape", "test", Category.STRUCTURE
        formats = frozenset({"graphdef"})
        status = "preview"

        def check(self, model, ctx):
            shape = model.tensors["x:0"].shape
            new = [2, 4] if shape == (1, 4) else [1, 4]
            yield self.report(model, "x", "flip", fix=Fix("flip", Applicability.SAFE,
                                                          (Edit.of("set-input-shape", "x", shape=new),)))

    b = GraphBuilder()
    b.output(b.op("Relu", [b.placeholder("x", "float32", (1, 4))], name="y"))
    result = fix_graph(b.to_bytes(), outputs=("y",), registry=pack.only(FlipShape), max_passes=6)
    assert not result.converged and result.stop_reason == "oscillation" and result.passes == 2


def test_diff_names_removed_added_and_changed_nodes():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 4))
    b.output(b.op("Relu", [b.op("Neg", [x], name="n")], name="y"))
    diff = _apply(b, Edit.of("neg-to-mul", "n"), output="y").diff("a.pb", "b.pb")
    assert diff.splitlines() == ["--- a.pb", "+++ b.pb", "~ n: op Neg -> Mul; inputs [x] -> [x, n/minus_one]",
                                 "+ n/minus_one (Const)"]


def test_an_add_fake_quant_edit_naming_no_tensor_is_skipped():
    # With no node and no `tensor` there is nothing to measure: the edit is refused like any other that does not
    # fit, rather than stopping the whole run.
    b = GraphBuilder()
    b.output(b.op("Relu", [b.placeholder("x", "float32", (2, 4))], name="y"))
    result = _apply(b, Edit.of("add-fake-quant"), output="y", measure=lambda data, tensors: pytest.fail("measured"))
    assert result.applied == []
    assert [(s["kind"], s["reason"]) for s in result.skipped] == [("add-fake-quant", "no node `None` in the graph")]


def test_no_pass_returns_the_graph_as_it_came():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (2, 4))
    b.output(b.op("Relu", [b.op("Neg", [x], name="n")], name="y"))
    result = fix_graph(b.to_bytes(), inputs=("x",), outputs=("y",), registry=pack.only(pack.NegOp), max_passes=0)
    assert result.passes == 0 and result.applied == [] and result.stop_reason == "max-passes"
    assert result.data == b.to_bytes() and result.inputs == ("x",) and result.outputs == ("y:0",)
    assert [f["code"] for f in result.remaining] == ["TX002"]


def test_unreadable_model_is_a_fix_error():
    with pytest.raises(FixError):
        fix_graph(b"\x08\x96\x01garbage")


def test_cli_fix_and_its_errors(tmp_path):
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.output(b.op("Softmax", [b.op("Neg", [x], name="n")], name="y"))
    src = tmp_path / "m.pb"
    src.write_bytes(b.to_bytes())
    run = [sys.executable, "-m", "graphlint"]
    ok = subprocess.run([*run, "fix", str(src), "-o", str(tmp_path / "f.pb"), "--output", "y", "--diff"],
                        capture_output=True, text=True)
    assert ok.returncode in (0, 1) and (tmp_path / "f.pb").is_file() and ok.stdout.startswith("---")
    for args in (["fix", str(tmp_path / "missing.pb"), "-o", str(tmp_path / "o.pb")],
                 ["fix", str(src), "-o", str(tmp_path / "no" / "o.pb")],
                 ["fix", str(src), "-o", str(tmp_path / "o.pb"), "--input", "x:1,a"],
                 ["convert", str(src), "--target", "int9", "-o", str(tmp_path / "o.tflite")],
                 ["convert", str(src), "--target", "int8", "-o", str(tmp_path / "o.tflite"), "--input-range", "x=1"],
                 ["convert", str(src), "--target", "int8", "-o", str(tmp_path / "o.tflite"), "--output", "nope"],
                 ["convert", str(src), "--target", "int8", "-o", str(tmp_path / "o.tflite"), "--calibration",
                  str(tmp_path / "none.npz")]):
        proc = subprocess.run([*run, *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_fix_command_and_service_import_do_not_import_tensorflow(tmp_path):
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.output(b.op("Relu", [b.op("Neg", [x], name="n")], name="y"))
    src = tmp_path / "m.pb"
    src.write_bytes(b.to_bytes())
    code = textwrap.dedent(f'''
        import sys, io, contextlib
        import graphlint.convert.service, graphlint.convert.pool, graphlint.convert.recipe
        from graphlint.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main(["fix", {str(src)!r}, "-o", {str(tmp_path / "f.pb")!r}, "--output", "y", "--diff"])
        print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))))
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
