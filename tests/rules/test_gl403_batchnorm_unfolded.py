"""GL403 batchnorm-unfolded: a batch norm in training mode, or one the converter cannot fold into the weights of
the conv or matmul before it, with the rewrite that makes it explicit.

Graph-builder models check the rule's branches; the real converter (marked ``converter``) says, for the same
graphs, whether the batch norm folded into CONV_2D or stayed as a MUL and an ADD."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

from graphlint.engine.finding import Applicability, Severity
from graphlint.testing import GraphBuilder, savedmodel_view

from ._models import ALL_TARGETS, findings
from .conftest import CONV_ATTRS


def batch_norm(b: GraphBuilder, x: str, *, training: bool | None = False, op: str = "FusedBatchNormV3") -> str:
    """A batch norm named ``bn`` over 2 channels; ``training=None`` leaves ``is_training`` unset (TF: True)."""
    stats = [b.const([0.5, 2.0], name=f"bn/{n}") for n in ("gamma", "beta", "moving_mean", "moving_variance")]
    attrs = {"T": "float32", "epsilon": 0.001, "data_format": "NHWC"}
    if op != "FusedBatchNorm":
        attrs["U"] = "float32"
    if training is not None:
        attrs["is_training"] = training
    return b.node(op, [x, *stats], name="bn", attrs=attrs)


def _conv(b: GraphBuilder, x: str) -> str:
    return b.op("Conv2D", [x, b.const([[[[1.0, 0.5], [0.25, 1.0]]]], name="k")], name="conv", attrs=CONV_ATTRS)


BEFORE = {  # what feeds the batch norm, built on the (1, 4, 4, 2) input x
    "conv": _conv,
    "depthwise": lambda b, x: b.op("DepthwiseConv2dNative", [x, b.const([[[[1.0], [0.5]]]], name="k")],
                                   name="dw", attrs=CONV_ATTRS),
    "conv-biasadd": lambda b, x: b.op("BiasAdd", [_conv(b, x), b.const([0.1, 0.2], name="bias")], name="bias_add"),
    "identity-after-conv": lambda b, x: b.node("Identity", [_conv(b, x)], name="conv/read", attrs={"T": "float32"}),
    "addv2-bias-after-conv": lambda b, x: b.op("AddV2", [_conv(b, x), b.const([0.1, 0.2], name="bias")],
                                               name="conv/add_bias"),
    "relu-after-conv": lambda b, x: b.op("Relu", [_conv(b, x)], name="relu"),
    "biasadd-after-relu": lambda b, x: b.op("BiasAdd", [b.op("Relu", [x], name="relu"),
                                                        b.const([0.1, 0.2], name="bias")], name="bias_add"),
    "input": lambda b, x: x,
}


def bn_model(before: str, **bn_kwargs) -> GraphBuilder:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4, 4, 2))
    b.output(batch_norm(b, BEFORE[before](b, x), **bn_kwargs))
    return b


def shared_conv_model() -> GraphBuilder:
    """The conv's output feeds the batch norm and a Relu: folding the batch norm into the conv's weights would
    change what the Relu reads."""
    b = GraphBuilder()
    conv = _conv(b, b.placeholder("x", "float32", (1, 4, 4, 2)))
    b.output(b.op("AddV2", [batch_norm(b, conv), b.op("Relu", [conv], name="relu")], name="sum"))
    return b


@pytest.mark.parametrize("op", ["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"])
@pytest.mark.parametrize("training", [True, None], ids=["is_training", "is_training-unset"])
def test_a_batch_norm_in_training_mode_is_reported_even_after_a_conv(op, training):
    (finding,) = findings(bn_model("conv", training=training, op=op), "GL403")
    assert finding.node == "bn" and finding.op == op
    assert all(finding.severity_for(t) is Severity.INFO for t in ALL_TARGETS)
    assert f"`bn` ({op}) is in training mode" in finding.message
    assert "MEAN, SQUARED_DIFFERENCE, ADD, RSQRT, MUL and SUB" in finding.message
    assert "training=False" in finding.fix.title and finding.fix.applicability is Applicability.SAFE
    assert [(e.kind, e.node) for e in finding.fix.edits] == [("decompose-batchnorm", "bn")]


@pytest.mark.parametrize("before", ["conv", "depthwise", "conv-biasadd"])
def test_an_inference_batch_norm_right_after_a_conv_folds(before):
    assert findings(bn_model(before), "GL403") == []


@pytest.mark.parametrize(("before", "follows"), [("relu-after-conv", "Relu"), ("input", "Placeholder")])
def test_an_inference_batch_norm_with_no_conv_before_it_becomes_a_mul_and_an_add(before, follows):
    (finding,) = findings(bn_model(before), "GL403")
    assert finding.node == "bn" and finding.severity is Severity.INFO
    assert f"follows {follows}, not a conv or matmul" in finding.message and "a MUL and an ADD" in finding.message
    assert finding.fix.title == "Fold `bn` into a Mul and an Add with constants"
    assert finding.fix.applicability is Applicability.SAFE
    assert [(e.kind, e.node) for e in finding.fix.edits] == [("fold-batchnorm", "bn")]


def test_a_batch_norm_the_outputs_do_not_reach_is_not_reported():
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4, 4, 2))
    batch_norm(b, x, training=True)
    b.output(b.op("Relu", [x], name="y"))
    assert findings(b, "GL403") == []


def test_a_saved_model_is_judged_as_its_frozen_graph():
    b = bn_model("input")
    assert [f.node for f in findings(savedmodel_view(b), "GL403", outputs=b.outputs)] == ["bn"]


@pytest.mark.parametrize("before", ["identity-after-conv", "addv2-bias-after-conv"])
def test_a_batch_norm_the_converter_folds_through_an_identity_or_a_bias_add_is_not_reported(before):
    assert findings(bn_model(before), "GL403") == []


@pytest.mark.parametrize("model", [
    pytest.param(shared_conv_model, id="conv-output-shared"),
    pytest.param(lambda: bn_model("biasadd-after-relu"), id="biasadd-after-relu"),
])
def test_a_batch_norm_the_converter_cannot_fold_is_reported(model):
    got = findings(model(), "GL403")
    assert [f.node for f in got] == ["bn"] and "a MUL and an ADD" in got[0].message


_CONVERT = textwrap.dedent('''
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter
    from graphlint.convert import settings
    out = {}
    for job in json.loads(sys.argv[1]):
        conv = settings.from_frozen_graph(tf, job["path"], ["x"], [job["output"]], {"x": [1, 4, 4, 2]})
        settings.configure(tf, conv, "float")
        ops = Interpreter(model_content=conv.convert())._get_ops_details()
        out[job["name"]] = [op["op_name"] for op in ops]
    print(json.dumps(out))
''')


@pytest.mark.converter
def test_the_real_converter_folds_what_gl403_should_know(tmp_path):
    """Float conversion with TF 2.21: which batch norms fold into CONV_2D and which stay a MUL and an ADD."""
    if importlib.util.find_spec("tensorflow") is None:  # find, never import, TensorFlow in this process
        pytest.skip("the converter tests need tensorflow-cpu (pip install -e '.[test]')")
    models = {name: bn_model(name) for name in ("conv", "identity-after-conv", "addv2-bias-after-conv",
                                                "relu-after-conv", "biasadd-after-relu")}
    models["shared"] = shared_conv_model()
    jobs = []
    for name, b in models.items():
        path = tmp_path / f"{name}.pb"
        path.write_bytes(b.to_bytes())
        jobs.append({"name": name, "path": str(path), "output": b.outputs[0]})
    proc = subprocess.run([sys.executable, "-c", _CONVERT, json.dumps(jobs)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ops = json.loads(proc.stdout.strip().splitlines()[-1])
    assert ops["conv"] == ops["identity-after-conv"] == ops["addv2-bias-after-conv"] == ["CONV_2D"]
    assert ops["relu-after-conv"] == ["CONV_2D", "MUL", "ADD"]  # GL403 reports this one
    assert ops["shared"][:3] == ["CONV_2D", "MUL", "ADD"]
    assert ops["biasadd-after-relu"] == ["RELU", "ADD", "MUL", "ADD"]
