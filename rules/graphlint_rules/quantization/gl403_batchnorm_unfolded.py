"""GL403 batchnorm-unfolded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Applicability, Category, Edit, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.ir import TensorInfo
from graphlint_rules import support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

_BN = frozenset({"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"})
_FOLDS_INTO = frozenset({"Conv2D", "DepthwiseConv2dNative", "MatMul", "Conv2DBackpropInput"})
# Ops the converter removes before it folds, and adds of a constant it folds into the conv's bias first.
_SEE_THROUGH = frozenset({"Identity", "IdentityN", "Snapshot", "StopGradient", "CheckNumerics"})
_BIAS_ADDS = frozenset({"BiasAdd", "Add", "AddV2"})


def _folds(model: ModelGraph, tensor: TensorInfo) -> bool:
    """Whether the converter folds a batch norm that reads ``tensor`` into the weights of a conv or matmul: the
    tensor comes from one through ops it removes and constant bias adds, and nothing else reads it on the way
    (folding would change what that reader sees)."""
    for _ in range(8):
        node = tensor.producer
        if node is None or len(tensor.consumers) > 1:
            return False
        op, inputs = model.nodes[node]["op"], model.inputs_of(node)
        if op in _FOLDS_INTO:
            return True
        if not inputs or not (op in _SEE_THROUGH or (op in _BIAS_ADDS and len(inputs) == 2 and inputs[1].is_const)):
            return False
        tensor = inputs[0]
    return False


class BatchnormUnfolded(Rule):
    """## What it does
    Reports batch norms the converter cannot fold into the weights of a preceding conv or matmul, and says
    what they become (measured with TF 2.21):
    - in training mode (`is_training=True`), the converter computes the batch statistics: MEAN,
      SQUARED_DIFFERENCE, ADD, RSQRT, MUL and SUB. int16x8 then fails at invoke ("SquaredDifference only
      supports FLOAT32 and INT32 now") and the uint8 path leaves them float;
    - in inference mode with no conv or matmul before it, it becomes a MUL and an ADD with constant
      per-channel factors, two extra quantized ops with their own ranges.

    ## Why is this bad?
    A training-mode batch norm normalizes with the statistics of the current batch (of one image on the
    device), not the learned ones: the outputs differ from what was trained, and the extra ops cost time
    and quantization error. The standalone form costs two extra ops and two rounding steps.

    ## Example
    `tf.compat.v1.layers.batch_normalization(x, training=True)` frozen as is.

    ## How to fix
    Export with `training=False` so the learned moving mean and variance are used, and place the batch
    norm directly after a conv or matmul so the converter folds it. `graphlint fix` rewrites a
    training-mode batch norm into the same ops explicitly, and folds a standalone one into a Mul and an Add.

    ## Fix safety
    Both rewrites compute the same values as the node they replace: safe.
    """

    code = "GL403"
    name = "batchnorm-unfolded"
    summary = "A batch norm that won't fold into a conv or matmul (training mode, or nothing before it)"
    category = Category.QUANTIZATION
    severity = Severity.INFO
    formats = frozenset({"graphdef"})
    fix_availability = "always"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        for node, attrs in model.ops():
            if node not in analysis.live or attrs["op"] not in _BN:
                continue
            name = attrs["name"]
            inputs = model.inputs_of(node)
            before = model.nodes[inputs[0].producer]["op"] if inputs and inputs[0].producer else None
            if (attrs.get("attrs") or {}).get("is_training", True):
                yield self.report(
                    model, node, f"`{name}` ({attrs['op']}) is in training mode: it normalizes with the batch's "
                    "own statistics and becomes MEAN, SQUARED_DIFFERENCE, ADD, RSQRT, MUL and SUB",
                    fix=Fix(f"Rewrite `{name}` with explicit batch statistics (or export with training=False)",
                            Applicability.SAFE, (Edit.of("decompose-batchnorm", node),)))
            elif not (inputs and _folds(model, inputs[0])):
                yield self.report(
                    model, node, f"`{name}` ({attrs['op']}) follows {before or 'no op'}, not a conv or matmul: it "
                    "cannot fold into weights and becomes a MUL and an ADD",
                    fix=Fix(f"Fold `{name}` into a Mul and an Add with constants", Applicability.SAFE,
                            (Edit.of("fold-batchnorm", node),)))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4, 4, 2))
        c = [b.const([1.0, 1.0], name=n) for n in ("gamma", "beta", "mean", "var")]
        b.output(b.node("FusedBatchNormV3", [x, *c], name="bn", attrs={"T": "float32", "U": "float32",
                                                                         "is_training": False, "epsilon": 0.001}))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4, 4, 2))
        y = b.op("Conv2D", [x, b.const([[[[1.0, 0.0], [0.0, 1.0]]]], name="k")], name="conv",
                 attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
        c = [b.const([1.0, 1.0], name=n) for n in ("gamma", "beta", "mean", "var")]
        b.output(b.node("FusedBatchNormV3", [y, *c], name="bn", attrs={"T": "float32", "U": "float32",
                                                                         "is_training": False, "epsilon": 0.001}))
