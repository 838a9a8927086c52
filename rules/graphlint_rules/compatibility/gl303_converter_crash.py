"""GL303 converter-crash."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity
from graphlint.engine.targets import CONVERTER_TARGETS
from graphlint_rules import support
from graphlint_rules.loops import CAPTURED_CASES, FUNCTIONAL_LOOPS, PLAIN

if TYPE_CHECKING:
    from graphlint.testing import GraphBuilder

_TENSOR_LIST_CASE = "tensor_array_v2"


def _body_ops(model: ModelGraph, node: str) -> set[str]:
    """The ops of the functions ``node`` calls (a functional loop's body and condition)."""
    calls = set(model.nodes[node].get("calls", ()))
    return {a["op"] for _, a in model.ops() if a["subgraph"] in calls}


def _judged(model: ModelGraph, node: str, analysis: support.Analysis,
            s: support.NodeSupport | None) -> tuple[dict[str, support.Outcome], str]:
    """The outcomes that stand for ``node`` and the words that say what it is."""
    outcomes: dict[str, support.Outcome] = s.outcomes if s else {}
    why = "an op whose int8 calibration was measured to crash"
    loop = analysis.loops.get(node)
    if s is not None and s.case in CAPTURED_CASES.values():
        why = "a loop whose body reads a tensor computed outside it, the same on every iteration"
    elif loop is not None:
        what = "plain tensors" if loop.carries == PLAIN else "a TensorList"
        why = f"the loop of frame `{loop.frame}`, which the converter turns into one WHILE over {what}"
    body = _body_ops(model, node) if model.nodes[node]["op"] in FUNCTIONAL_LOOPS else set()
    if any(op.startswith("TensorList") for op in body):
        outcomes = support.outcomes_of_case(_TENSOR_LIST_CASE)
        why = "a loop over a TensorList (TensorArray)"
    return outcomes, why


def _fix(name: str, *, loop: bool) -> Fix:
    if loop:
        return Fix("Unroll the loop (static_rnn, unroll=True) or use a fused Keras LSTM, and convert in a child "
                   "process")
    return Fix(f"Keep `{name}` out of the converted graph (feed the tensor after it with --input), and convert in a "
               "child process")


class ConverterCrash(Rule):
    """## What it does
    Reports graphs that kill the converter process, as measured with TensorFlow 2.21: int8, int8-fallback
    and int16x8 calibration of a loop dies with SIGSEGV when the loop fills a TensorArray (TensorList ops:
    `dynamic_rnn`, Keras RNN layers, `tf.while_loop` with a `tf.TensorArray`), with or without LSTM cell
    math, or when its body reads a tensor computed outside the loop that stays the same on every iteration
    (`x` in `tf.while_loop(c, lambda i, h: (i + 1, tf.tanh(h @ w + x)), (0, x))`). A loop whose body uses
    only its loop variables and constants calibrates. TFLite Micro never returns from the float WHILE such
    a model keeps.

    ## Why is this bad?
    There is no error message to act on: the Python process that called `convert()` is gone (a CI job
    dies, a notebook kernel restarts, a service worker disappears). People lose days bisecting their model.

    ## Example
    `tf.compat.v1.nn.dynamic_rnn(LSTMCell(32), x)` frozen and converted with a representative dataset.

    ## How to fix
    Unroll the recurrence (`static_rnn`, or a Keras RNN with `unroll=True`) for a fixed sequence length,
    use the fused `tf.keras.layers.LSTM` exported from a SavedModel (the converter maps it to
    UNIDIRECTIONAL_SEQUENCE_LSTM), or convert with dynamic-range quantization only. Run any conversion
    you must try in a child process.
    """

    code = "GL303"
    name = "converter-crash"
    summary = "Converting for this target kills the converter process (measured SIGSEGV) or hangs the runtime"
    category = Category.COMPATIBILITY
    severity = Severity.ERROR
    formats = frozenset({"graphdef"})

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        analysis = support.analyze(model)
        for node, attrs in model.ops():
            if node not in analysis.live or attrs["subgraph"] != "main":
                continue  # a crash inside a loop body is reported once, on the loop
            s = analysis.support.get(node)
            if attrs["op"] not in FUNCTIONAL_LOOPS and (s is None or not support.crashes(s.outcomes)):
                continue
            outcomes, why = _judged(model, node, analysis, s)
            targets = [t for t in (*CONVERTER_TARGETS, "tflm") if outcomes.get(t) is not None
                       and outcomes[t].kind == support.CRASH]
            if not targets:
                continue
            yield self.report(
                model, node, f"`{attrs['name']}` ({attrs['op']}) is {why}: {', '.join(targets)} conversion kills the "
                "converter process (SIGSEGV during calibration in TF 2.21), and TFLite Micro has no model to run",
                targets=[*targets, "tflm"], fix=_fix(attrs["name"], loop=attrs["op"] in FUNCTIONAL_LOOPS
                                                     or node in analysis.loops))

    @staticmethod
    def bad_example(b: GraphBuilder) -> None:
        from graphlint_rules.compatibility._examples import lstm_loop

        lstm_loop(b)

    @staticmethod
    def good_example(b: GraphBuilder) -> None:
        x = b.placeholder("x", "float32", (1, 4))
        w = b.const([[0.5] * 4] * 4, name="w")
        b.output(b.op("Tanh", [b.op("MatMul", [x, w], name="mm")], name="y"))
