"""GL305 gpu-unsupported."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint_rules import gpu, support

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder


class GpuUnsupported(Rule):
    """## What it does
    Reports ops the TFLite GPU delegate does not take, so they fall back to the CPU: builtins without a GPU
    operation parser (TOPK_V2, ARG_MAX, WHERE, NON_MAX_SUPPRESSION, GATHER_ND, EMBEDDING_LOOKUP, CUSTOM and
    Flex ops ...), and tensors above 4-D (the delegate's tensors are BHWC). For a `.pb` the builtin is the
    one the float conversion measured for that op; for a `.tflite` it is the op as written.

    The list follows the delegate's operation parsers (`tensorflow/lite/delegates/gpu/common/
    model_builder.cc`). `tf.lite.experimental.Analyzer(gpu_compatibility=True)` was checked against it on
    every measured case: in the TF 2.21 and ai-edge-litert wheels the analyzer reports every model as GPU
    compatible, TOPK_V2, WHERE and a 6-D TRANSPOSE included, so it cannot serve as the reference.

    ## Why is this bad?
    Each fallback splits the graph into GPU and CPU partitions; every boundary copies tensors between GPU
    and CPU memory, which often makes the delegated model slower than the CPU alone. Ops after the first
    unsupported one may stay on the CPU entirely.

    ## Example
    `tf.argmax(logits, -1)` at the end of a segmentation model.

    ## How to fix
    Keep the GPU part of the model free of these ops: move post-processing (argmax, top-k, NMS) to the
    application, reshape 5-D tensors to 4-D, replace unsupported ops with supported ones.
    """

    code = "GL305"
    name = "gpu-unsupported"
    summary = "The GPU delegate does not take this op or its rank: it falls back to the CPU"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"graphdef", "tflite"})
    targets = ("gpu",)

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        if not ctx.wants("gpu"):
            return
        for node, builtins in _builtins(model):
            name, op = model.nodes[node]["name"], model.nodes[node]["op"]
            missing = [b for b in builtins if b not in gpu.GPU_OPS]
            rank = max((t.rank or 0 for t in (*model.inputs_of(node), *model.outputs_of(node))), default=0)
            if missing:
                becomes = "" if missing == [op] else f" becomes {', '.join(missing)}, which"
                yield self.report(model, node, f"`{name}` ({op}){becomes} is not taken by the GPU delegate: it runs "
                                  "on the CPU", data={"builtins": missing},
                                  fix=Fix(f"Move `{name}` out of the GPU part of the model"))
            elif rank > gpu.GPU_MAX_RANK and builtins:
                yield self.report(model, node, f"`{name}` ({op}) works on a {rank}-D tensor; the GPU delegate takes at "
                                  f"most {gpu.GPU_MAX_RANK}-D (BHWC): it runs on the CPU", data={"rank": rank},
                                  fix=Fix(f"Reshape `{name}`'s tensors to 4-D"))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 10))
        b.output(b.op("ArgMax", [x, b.const(1, name="axis", dtype="int32")], name="label",
                      attrs={"output_type": "int64", "Tidx": "int32"}))

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 10))
        b.output(b.op("Softmax", [x], name="probs"))


def _builtins(model: ModelGraph) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(node, the TFLite builtins it runs as) of each op: a `.tflite` op is its own builtin; an op of a `.pb` or
    SavedModel runs as what the float conversion measured for its case (ops the float settings cannot convert are
    GL301's)."""
    if model.info.format == "tflite":
        yield from ((node, (str(attrs["op"]),)) for node, attrs in model.ops())
        return
    for s in support.analyze(model).support.values():
        if s.kind("float") == support.OK:
            yield s.node, tuple(s.tflite_ops)
