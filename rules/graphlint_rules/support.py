"""Which ops of a GraphDef the TFLite converter really sees, and what TF 2.21's converter, LiteRT and TFLite
Micro do with each of them.

The rules of the ``compatibility`` and ``quantization`` categories share this analysis. It models the converter's
graph passes before any op is matched: the cut at the given inputs and the pruning of what the outputs do not
reach, v1 loop frames functionalized into one WHILE (:mod:`graphlint_rules.loops`), constant folding, and fused
patterns (:mod:`graphlint_rules.patterns`); it then matches each remaining op to the closest measured case
(:mod:`graphlint_rules.matching`) and reads what every target did with it (:mod:`graphlint_rules.table`). Pure
functions of the model; results are cached per model object.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Protocol

from graphlint.ir import ModelGraph, TensorInfo
from graphlint.ops import is_fake_quant, is_training_op
from graphlint_rules.loops import (
    CAPTURED_CASES,
    FREE_BATCH_LIST_CASE,
    FUNCTIONAL_LOOPS,
    FUNCTIONAL_PLAIN_CASE,
    Loop,
    captured_whiles,
    find_loops,
    free_batch_whiles,
    functional_storage,
)
from graphlint_rules.magnitude import Magnitudes
from graphlint_rules.matching import match
from graphlint_rules.patterns import fused_patterns
from graphlint_rules.table import (
    CALIBRATION,
    CONVERT,
    CRASH,
    MICRO,
    NO_16X8,
    NO_BUILTIN,
    OK,
    RUNTIME,
    STAYS_FLOAT,
    TRANSPARENT_OPS,
    UINT8_PLAIN,
    Outcome,
    cases_of,
    crashes,
    float_builtins,
    is_loop_case,
    measured_case,
    micro_float_only_builtins,
    micro_missing_builtins,
    outcomes_for,
    outcomes_of_case,
    saved_model_twin,
)

# What rules read from here: the analysis, and the outcome kinds and table queries of graphlint_rules.table, which
# this module passes on so that a rule imports one module.
__all__ = [
    "CALIBRATION",
    "CONVERT",
    "CRASH",
    "MICRO",
    "NO_16X8",
    "NO_BUILTIN",
    "OK",
    "RUNTIME",
    "STAYS_FLOAT",
    "TRANSPARENT_OPS",
    "UINT8_PLAIN",
    "Analysis",
    "NodeSupport",
    "Outcome",
    "analyze",
    "cases_of",
    "crashes",
    "float_builtins",
    "is_loop_case",
    "live_nodes",
    "measured_case",
    "micro_float_only_builtins",
    "micro_missing_builtins",
    "outcomes_for",
    "outcomes_of_case",
    "owned_by_structure",
    "saved_model_twin",
]

# Ops the converter never folds even when every input is constant.
_NEVER_FOLDED = ("Random", "Multinomial", "TruncatedNormal", "Placeholder", "Variable", "VarHandle", "ReadVariable",
                 "HashTable", "LookupTable", "TensorArray", "Print", "Assert", "Stateful", "Stateless", "Enter",
                 "Exit", "Merge", "Switch", "NextIteration", "LoopCond", "While", "If", "Call", "FakeQuant",
                 "QuantizeAndDequantize", "Save", "Restore", "Assign", "Apply")
_SHAPE_OPS = frozenset({"Shape", "Size", "Rank", "ShapeN"})


@functools.cache
def _never_folded(op: str) -> bool:
    return any(k in op for k in _NEVER_FOLDED)


@dataclasses.dataclass(frozen=True, slots=True)
class NodeSupport:
    """A node's matched case and its outcome per target (converter targets and ``tflm``)."""

    node: str
    op: str
    case: str
    outcomes: dict[str, Outcome]
    tflite_ops: tuple[str, ...]  # what the float conversion turned the op into

    def kind(self, target: str) -> str:
        """The outcome kind for ``target`` (``ok`` when unknown)."""
        out = self.outcomes.get(target)
        return out.kind if out else OK


@functools.cache
def owned_by_structure(op: str) -> bool:
    """Variables and training ops: GL101 and GL102 report them, with the converter's words (memoized per op)."""
    from graphlint_rules.structure.gl101_unfrozen_variable import VARIABLE_OPS

    return op in VARIABLE_OPS or is_training_op(op) or op.startswith("ReadVariable")


# -- which ops the converter sees ---------------------------------------------------------------------------


def _output_nodes(model: ModelGraph) -> list[str]:
    return [p for t in model.info.outputs if t in model.tensors and (p := model.tensors[t].producer) is not None]


def live_nodes(model: ModelGraph) -> set[str]:
    """Nodes the outputs depend on (data and control edges), with the function bodies they call.

    The converter cuts the graph at the given inputs (a fed intermediate tensor becomes a placeholder) and
    prunes everything the outputs do not reach through the cut, before it looks at an op: nothing outside this
    set can fail it.
    """
    nodes, tensors = model.nodes, model.tensors
    fed = set(model.info.inputs)
    seen: set[str] = set()
    stack = _output_nodes(model)
    while stack:
        node = stack.pop()
        if node in seen or node not in nodes:
            continue
        seen.add(node)
        data = [t for t in nodes[node].get("inputs", ()) if t is not None]
        producers = {tensors[t].producer for t in data if t in tensors}
        # a tensor without a producer (an input of a function body, a name no node writes) leads nowhere
        stack.extend([p for t in data if t not in fed and t in tensors and (p := tensors[t].producer) is not None])
        stack.extend([p for p in model.predecessors(node) if p not in producers])  # control dependencies
    called = {fn for n in seen for fn in nodes[n].get("calls", ())}
    done: set[str] = set()
    while called - done:
        fn = sorted(called - done)[0]
        done.add(fn)
        for node, attrs in model.ops():
            if attrs["subgraph"] == fn:
                seen.add(node)
                called.update(attrs.get("calls", ()))
    # The given inputs are kept even when unused; a fed op node is replaced by a placeholder, so it is no op.
    kept = [tensors[t].producer for t in fed if t in tensors]
    seen.update([p for p in kept if p in nodes and nodes[p]["kind"] == "input"])
    return seen


def _foldable(model: ModelGraph, live: set[str]) -> set[str]:
    """Live nodes the converter's constant folding removes: every data input constant or folded, or a shape
    query on a tensor of known rank (the converter runs with fixed input shapes)."""
    nodes, tensors = model.nodes, model.tensors
    folded: set[str] = set()
    # A node can only become foldable when one of its producers folds: visit every live op once in file
    # order (usually topological) and revisit a node's consumers when it folds.
    work = [n for n, _ in model.ops() if n in live]
    work.reverse()
    while work:
        node = work.pop()
        if node in folded:
            continue
        attrs = nodes[node]
        op = attrs["op"]
        if _never_folded(op):
            continue
        inputs = [tensors[t] for t in attrs["inputs"] if t is not None]  # model.inputs_of, without the call
        if (op == "Const" or (op in _SHAPE_OPS and inputs and inputs[0].rank is not None)
                or (inputs and not [t for t in inputs if not t.is_const and t.producer not in folded])):
            folded.add(node)
            for tensor_id in attrs["outputs"]:
                work.extend([c for c in tensors[tensor_id].consumers if c in live and c not in folded])
    return folded


@dataclasses.dataclass(frozen=True)
class Analysis:
    """The ops the converter sees and their matched cases."""

    live: frozenset[str]
    folded: frozenset[str]
    support: dict[str, NodeSupport]  # node id → match, for live, unfolded, measured ops
    unmeasured: tuple[str, ...]  # live, unfolded op nodes whose op the table does not know
    has_fake_quant: bool
    magnitudes: Magnitudes  # activation scales, estimated on demand from the weights
    loops: dict[str, Loop] = dataclasses.field(default_factory=dict)  # v1 frames by their LoopCond node

    def nodes_with(self, target: str, *kinds: str) -> list[NodeSupport]:
        """Matched nodes whose outcome for ``target`` is one of ``kinds``, in graph order."""
        return [s for s in self.support.values() if s.kind(target) in kinds]


_CACHE: dict[int, tuple[ModelGraph, Analysis]] = {}


def analyze(model: ModelGraph) -> Analysis:
    """Analyse ``model`` once (cached per model object; only GraphDefs have ops to match)."""
    hit = _CACHE.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1]
    live = live_nodes(model) if model.info.format in ("graphdef", "savedmodel") else set()
    folded = _foldable(model, live) if live else set()
    has_fq = any(is_fake_quant(a["op"]) for n, a in model.ops() if n in live)
    # A float graph on the legacy uint8 path: the plain measurement is the one that applies.
    present = frozenset([model.nodes[n]["op"] for n in live])
    outcomes = functools.partial(_outcomes, plain=not has_fq, present=present)
    support: dict[str, NodeSupport] = {}
    unmeasured: list[str] = []
    for node, attrs in model.ops():
        op = attrs["op"]
        if node not in live or node in folded or op in TRANSPARENT_OPS or owned_by_structure(op):
            continue
        case_id = match(model, node)
        if case_id is None:
            if cases_of(op) is None:
                unmeasured.append(node)
            continue
        handle = [t for t in model.inputs_of(node) if t.dtype == "resource"]
        support[node] = NodeSupport(node, op, case_id, outcomes(case_id, None if handle else op),
                                    float_builtins(case_id))
    for node, (case_id, absorbed) in fused_patterns(model, live - folded, folded).items():
        if measured_case(case_id) is None:
            continue
        op = model.nodes[node]["op"]
        support[node] = NodeSupport(node, op, case_id, outcomes(case_id, op), float_builtins(case_id))
        for other in absorbed:
            support.pop(other, None)
    loops = _judge_loops(model, live, folded, support, outcomes)
    if model.info.format == "savedmodel":
        _judge_as_saved_model(model, support, outcomes)
    absorbed_by_loops = {n for loop in loops.values() for n in loop.absorbed(model)}
    unmeasured = [n for n in unmeasured if n not in absorbed_by_loops]
    result = Analysis(frozenset(live), frozenset(folded), support, tuple(unmeasured), has_fq,
                      Magnitudes(model, frozenset(live), frozenset(folded)), loops)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[id(model)] = (model, result)
    return result


class OutcomesOf(Protocol):
    """What each target did with a case, for a node of ``op`` (None: the case as a whole): :func:`_outcomes` with
    what the model decides bound (see :func:`analyze`)."""

    def __call__(self, case_id: str, op: str | None = None, /) -> dict[str, Outcome]: ...


def _outcomes(case_id: str, op: str | None = None, *, plain: bool = False,
              present: frozenset[str] = frozenset()) -> dict[str, Outcome]:
    """What each target did with a case, for a node of ``op`` (None: the case as a whole, as a loop is judged) in
    a model whose live ops are ``present``; ``plain``: the graph has no fake-quant nodes, so uint8-qat is the
    legacy path measured on a plain graph."""
    out = outcomes_for(case_id, op, present) if op else outcomes_of_case(case_id)
    return {**out, "uint8-qat": out[UINT8_PLAIN]} if plain and UINT8_PLAIN in out else out


def _judge_as_saved_model(model: ModelGraph, support: dict[str, NodeSupport], outcomes: OutcomesOf) -> None:
    """A SavedModel is converted with ``from_saved_model``: a node whose case was measured again on that path takes
    that measurement (its twin), and a table or other handle whose every user is judged so is judged with them (the
    SavedModel's init op, which that path converts too, fills it)."""
    for node, found in list(support.items()):
        twin = saved_model_twin(found.case)
        if twin is not None and measured_case(twin) is not None:
            support[node] = NodeSupport(node, found.op, twin, outcomes(twin, found.op), float_builtins(twin))
    for node in [n for n in support if _handle_judged_with_users(model, n, support)]:
        del support[node]


def _handle_judged_with_users(model: ModelGraph, node: str, support: dict[str, NodeSupport]) -> bool:
    """``node`` makes only resource handles, and every node using them is judged by a SavedModel-path case."""
    outputs = [model.tensors[t] for t in model.nodes[node]["outputs"]]
    users = {c for t in outputs for c in t.consumers}
    return bool(outputs and users and all(t.dtype == "resource" for t in outputs)
                and all(u in support and _on_saved_model_path(support[u].case) for u in users))


def _on_saved_model_path(case_id: str) -> bool:
    """The measured case was converted with ``from_saved_model``."""
    case = measured_case(case_id)
    return case is not None and bool(case.get("saved_model"))


def _judge_loops(model: ModelGraph, live: set[str], folded: set[str], support: dict[str, NodeSupport],
                 outcomes: OutcomesOf) -> dict[str, Loop]:
    """Judge every live loop as the converter does, as one WHILE (see :mod:`graphlint_rules.loops`): a v1
    frame's plumbing and list storage leave ``support`` and its ``LoopCond`` takes the measured case of its kind;
    a functional While that passes a computed tensor through its body takes the case measured for that, and one of
    a SavedModel fed a list whose element shape leaves the batch free the case measured for that."""
    loops: dict[str, Loop] = {}

    def constant(tensor: TensorInfo) -> bool:
        return tensor.is_const or tensor.producer in folded

    for loop in find_loops(model, constant) if live else ():
        if loop.anchor not in live or measured_case(loop.case) is None:
            continue
        for other in loop.absorbed(model):
            support.pop(other, None)
        for other in loop.members:  # a body op matched to a whole measured loop: the loop speaks for it
            if other in support and is_loop_case(support[other].case):
                del support[other]
        support[loop.anchor] = NodeSupport(loop.anchor, model.nodes[loop.anchor]["op"], loop.case,
                                           outcomes(loop.case), float_builtins(loop.case))
        loops[loop.anchor] = loop
    whiles = [node for node, attrs in model.ops() if attrs["op"] in FUNCTIONAL_LOOPS and node in live]
    for other in functional_storage(model, whiles):
        support.pop(other, None)
    plain = {FUNCTIONAL_PLAIN_CASE, CAPTURED_CASES["functional"]}
    captured = captured_whiles(model, whiles, constant)
    free_batch = free_batch_whiles(model, whiles) if model.info.format == "savedmodel" else set()
    for node in whiles:
        case_id = None
        if node in free_batch:  # measured on the SavedModel path only
            case_id = FREE_BATCH_LIST_CASE
        elif node in support and support[node].case in plain:
            case_id = CAPTURED_CASES["functional"] if node in captured else FUNCTIONAL_PLAIN_CASE
        if case_id is not None and measured_case(case_id) is not None:
            support[node] = NodeSupport(node, model.nodes[node]["op"], case_id, outcomes(case_id),
                                        float_builtins(case_id))
    return loops
