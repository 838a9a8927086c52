"""What TensorFlow 2.21's converter, LiteRT and TFLite Micro do with each op of a GraphDef, read from the
measured table in ``data/op_support.json`` (see ``data/README.md``).

The rules of the ``compatibility`` and ``quantization`` categories share this module: it finds the ops the
converter will really see (what the outputs depend on, minus what constant folding removes), matches each one
to the closest measured case (same op, then same dtypes, rank and attributes) and classifies what every
target did with that case. Pure functions of the model; results are cached per model object.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from importlib import resources

from graphlint.engine.targets import CONVERTER_TARGETS
from graphlint.ir import ModelGraph
from graphlint.ops import is_fake_quant, is_training_op
from graphlint_rules.loops import FRAME_OPS, Loop, find_loops, is_list_op

# Ops that are no work of their own: never looked up.
TRANSPARENT_OPS = frozenset({"Const", "Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "Identity", "NoOp",
                             "StopGradient", "Snapshot", "PreventGradient", "IdentityN", "EnsureShape",
                             "CheckNumerics", "Assert", "_Retval", "_Arg"})
# Ops the converter never folds even when every input is constant.
_NEVER_FOLDED = ("Random", "Multinomial", "TruncatedNormal", "Placeholder", "Variable", "VarHandle", "ReadVariable",
                 "HashTable", "LookupTable", "TensorArray", "Print", "Assert", "Stateful", "Stateless", "Enter",
                 "Exit", "Merge", "Switch", "NextIteration", "LoopCond", "While", "If", "Call", "FakeQuant",
                 "QuantizeAndDequantize", "Save", "Restore", "Assign", "Apply")
_SHAPE_OPS = frozenset({"Shape", "Size", "Rank", "ShapeN"})


@functools.cache
def _never_folded(op: str) -> bool:
    return any(k in op for k in _NEVER_FOLDED)
# dtypes no measured case of an op stands for: the type rules speak for them instead.
UNUSUAL_DTYPES = frozenset({"float16", "float64", "bfloat16", "complex64", "complex128", "string", "resource",
                            "variant"})

# The legacy uint8 path measured on the graph as built, without fake-quant nodes: what a float graph gets.
UINT8_PLAIN = "uint8-qat-float"

# Outcome kinds (what a target did with the matched case).
OK = "ok"
NO_BUILTIN = "no-builtin"  # the converter found no TFLite builtin (needs SELECT_TF_OPS or a custom op)
NO_16X8 = "no-16x8"  # "Quantization to 16x8-bit not yet supported for op"
STAYS_FLOAT = "stays-float"  # converts and runs, but the op computes in float
RUNTIME = "runtime"  # converts, but LiteRT cannot allocate or invoke the model
CRASH = "crash"  # the converter process died or hung
CALIBRATION = "calibration"  # calibration could not record ranges (loops)
CONVERT = "convert"  # another converter error
MICRO = "micro"  # TFLite Micro cannot allocate or invoke what the int8 settings wrote
_IGNORED_ERRORS = (
    "quantized_input_stats",  # a case whose inputs are not float has no stats: a model-input matter (GL203)
    "Quantization input stats are not available",  # the same, worded by the MLIR quantizer
    "doesn't match function result type",  # the fake-quant variant of a float graph with fake-quant already
)


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What one target did with the case matched to a node."""

    kind: str
    status: str
    error: str | None = None
    float_ops: tuple[str, ...] = ()


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


RULES_TABLE = "data/op_support.rules.jsonl"


@functools.cache
def _rules_table() -> tuple[dict, dict[str, bytes]]:
    """The rules' table as stored: its header (index and versions) and each case's still-encoded line by id."""
    header, *lines = resources.files("graphlint_rules").joinpath(RULES_TABLE).read_bytes().rstrip(b"\n").split(b"\n")
    head = json.loads(header)
    return head, dict(zip(head.pop("ids"), lines))


def table() -> dict:
    """The measured table as the rules read it: ``data/op_support.rules.jsonl``, the part of ``op_support.json``
    the rules use (:func:`compact`), written beside it by ``scripts/probe_ops.py``; a test keeps the two in step.

    The file holds a header line (versions, and case ids by op) and then one case per line: first what matching
    weighs, then, after a tab, what the targets did. A lint decodes the first part of the cases of the ops its
    model has (a third of them for MobileNetV2) and the second part only of the cases its nodes matched.
    """
    head, lines = _rules_table()
    return {**head, "cases": [_case(case_id) for case_id in lines]}


_MATCH_FIELDS = ("id", "tf_op", "graph_ops", "signature", "alone")  # what matching a node to a case reads


def dumps_rules_table(compacted: dict) -> str:
    """The text of ``op_support.rules.jsonl`` for a :func:`compact` table."""
    head = {k: v for k, v in compacted.items() if k != "cases"}
    head["ids"] = [case["id"] for case in compacted["cases"]]

    def dumps(obj: dict) -> str:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"))  # escapes tabs: one separates the parts

    lines = [dumps(head)]
    for case in compacted["cases"]:
        lines.append(dumps({k: case[k] for k in _MATCH_FIELDS}) + "\t"
                     + dumps({k: v for k, v in case.items() if k not in _MATCH_FIELDS}))
    return "\n".join(lines) + "\n"


_KEPT_RESULT_FIELDS = ("status", "error", "needs_flex", "needs_custom", "signal", "float_ops")


def compact(full: dict) -> dict:
    """The rules' view of the full measured table: per case its op, graph ops, op signature (dtypes, shapes and
    the attributes matching weighs), every target's status, error and float ops, and the builtins the float
    conversion wrote."""

    def result(r: dict) -> dict:
        return {k: r[k] for k in _KEPT_RESULT_FIELDS if r.get(k)}

    cases = []
    for case in full["cases"]:
        ops = set(case.get("graph_ops", ())) - TRANSPARENT_OPS
        sig = case.get("signature", {}).get("op", {})
        results = {t: result(r) for t, r in case.get("results", {}).items()}
        builtins = [o["op"] for o in (case.get("results", {}).get("float") or {}).get("tflite_ops") or ()]
        cases.append({
            "id": case["id"], "tf_op": case["tf_op"], "graph_ops": case.get("graph_ops", []),
            "signature": {"op": {
                "inputs": [{"dtype": i.get("dtype"), "shape": i.get("shape")} for i in sig.get("inputs") or []],
                "attrs": {k: v for k, v in (sig.get("attrs") or {}).items() if k in _ATTR_WEIGHTS}}},
            "results": results, "float_builtins": builtins,
            "tflm": {t: result(r) for t, r in (case.get("tflm") or {}).items()},
            "alone": ops <= {case["tf_op"]},  # the case is about its op alone, not a pattern around it
        })
    return {"tensorflow": full.get("tensorflow"), "source": "op_support.json", "cases": cases,
            "index": _case_index(cases)}


def _case_index(cases: list[dict]) -> dict[str, list[str]]:
    """Case ids by op: first the cases about the op alone, then patterns named after it, then cases containing
    it (fewest ops first)."""
    alone: dict[str, list[str]] = {}
    named: dict[str, list[str]] = {}
    containing: dict[str, list[dict]] = {}
    for case in cases:
        op = case["tf_op"]
        (alone if case["alone"] else named).setdefault(op, []).append(case["id"])
        for other in set(case["graph_ops"]) - TRANSPARENT_OPS - {op}:
            containing.setdefault(other, []).append(case)
    return {op: [*alone.get(op, ()), *named.get(op, ()),
                 *(c["id"] for c in sorted(containing.get(op, []), key=lambda c: len(c["graph_ops"])))]
            for op in sorted(set(alone) | set(named) | set(containing))}


@functools.cache
def _cases_of(op: str) -> list[dict] | None:
    """The cases of ``op`` in matching order (see :func:`_case_index`), or None when no case involves it."""
    ids = _rules_table()[0]["index"].get(op)
    return None if ids is None else [_case_to_match(case_id) for case_id in ids]


@functools.cache
def owned_by_structure(op: str) -> bool:
    """Variables and training ops: GL101 and GL102 report them, with the converter's words (memoized per op)."""
    from graphlint_rules.structure.gl101_unfrozen_variable import VARIABLE_OPS

    return op in VARIABLE_OPS or is_training_op(op) or op.startswith("ReadVariable")


def classify(target: str, result: dict | None) -> Outcome:
    """Turn one ``results[target]`` entry into an :class:`Outcome`."""
    if not result:
        return Outcome(OK, "unknown")
    status, error = result.get("status", "ok"), result.get("error") or ""
    floats = tuple(result.get("float_ops") or ())
    if status == "ok" or status == "not_applicable" or any(s in error for s in _IGNORED_ERRORS):
        return Outcome(OK, status)
    if status == "float_fallback":
        return Outcome(STAYS_FLOAT, status, None, floats)
    if status == "runtime_error":
        return Outcome(RUNTIME, status, error)
    if status in ("crash", "timeout"):
        return Outcome(CRASH, status, error or f"the converter process died ({result.get('signal') or status})")
    if "neither a custom op nor a flex op" in error or result.get("needs_flex") or result.get("needs_custom"):
        return Outcome(NO_BUILTIN, status, error)
    if "16x8-bit not yet supported" in error:
        return Outcome(NO_16X8, status, error)
    if "should be recorded during calibration" in error:
        return Outcome(CALIBRATION, status, error)
    return Outcome(CONVERT, status, error)


def case_outcomes(case: dict) -> dict[str, Outcome]:
    """What every converter target and TFLite Micro did with a measured case."""
    results = case.get("results", {})
    out = {t: classify(t, results.get(t)) for t in (*CONVERTER_TARGETS, UINT8_PLAIN)}
    micro = (case.get("tflm") or {}).get("int8")
    if micro is None:
        out["tflm"] = out["int8"]  # nothing to run: TFLite Micro fails the way the int8 conversion did
    elif micro.get("status") == "ok":
        out["tflm"] = Outcome(OK, "ok")
    else:
        out["tflm"] = Outcome(MICRO, micro.get("status", "runtime_error"), micro.get("error"))
    return out


_ANY_RANK = -1  # rank not known here, but not unknown to the converter: matches no rank in particular


def _rank_bucket(rank: int | None) -> int | None:
    return None if rank is None else min(max(rank, 4), 6)


def _score(case: dict, dtypes: list[str | None], rank: int | None, attrs: dict) -> int:
    sig = case.get("signature", {}).get("op", {})
    inputs = sig.get("inputs") or []
    case_dtypes = [i.get("dtype") for i in inputs]
    score = 4 if case.get("alone") else 0
    if dtypes and case_dtypes and dtypes[0] == case_dtypes[0]:
        score += 8
    if dtypes and dtypes == case_dtypes:
        score += 2
    case_rank = len(inputs[0]["shape"]) if inputs and inputs[0].get("shape") is not None else None
    if rank != _ANY_RANK and _rank_bucket(rank) == _rank_bucket(case_rank):
        score += 2
    elif rank == _ANY_RANK and case_rank is None:
        score -= 2  # never take an unknown-rank case for an argument the converter will know
    case_attrs = sig.get("attrs") or {}
    for key, weight in _ATTR_WEIGHTS.items():
        if key in attrs and key in case_attrs and attrs[key] == case_attrs[key]:
            score += weight
    return score


# Attributes that change what the converter does with an op, and how much a match on them counts.
_ATTR_WEIGHTS = {"is_training": 9, "data_format": 3, "output_type": 3, "DstT": 5, "SrcT": 5}


def match(model: ModelGraph, node: str) -> str | None:
    """The id of the measured case closest to ``node``, or None when its op is unmeasured."""
    attrs = model.nodes[node]
    op = attrs["op"]
    if _cases_of(op) is None:
        return None
    inputs = model.inputs_of(node)
    node_attrs = attrs.get("attrs") or {}
    weighed = [k for k in _ATTR_WEIGHTS if k in node_attrs]  # usually none
    key_attrs = tuple([(k, node_attrs[k]) for k in weighed if isinstance(node_attrs[k], (str, bool, int))])
    rank = inputs[0].rank if inputs else None
    if rank is None and (attrs["subgraph"] != "main" or _input_ranks_known(model)):
        # The converter knows this rank: a function argument's once it inlines the call, and any tensor's that
        # follows from model inputs of known rank (an op graphlint's shape inference does not cover is no
        # reason to match the cases measured with an input of unknown rank).
        rank = _ANY_RANK
    return _best_case(op, tuple([t.dtype for t in inputs]), rank, key_attrs)


def _input_ranks_known(model: ModelGraph) -> bool:
    """True when every model input has a known rank."""
    return all(model.tensors[t].rank is not None for t in model.info.inputs if t in model.tensors)


@functools.lru_cache(maxsize=8192)
def _best_case(op: str, dtypes: tuple, rank: int | None, attrs: tuple) -> str | None:
    """The case id for an op signature; memoized, since a model repeats a few signatures many times."""
    node_attrs = dict(attrs)
    best = max(_cases_of(op), key=lambda c: _score(c, list(dtypes), rank, node_attrs))  # max keeps the first tie
    case_dtypes = [i.get("dtype") for i in (best.get("signature", {}).get("op", {}).get("inputs") or [])]
    if dtypes and dtypes[0] in UNUSUAL_DTYPES and (not case_dtypes or case_dtypes[0] != dtypes[0]):
        return None
    return best["id"]


@functools.cache
def outcomes_of_case(case_id: str) -> dict[str, Outcome]:
    """:func:`case_outcomes` of a measured case by id (memoized; empty for an id the table lacks)."""
    case = _case(case_id)
    return case_outcomes(case) if case is not None else {}


def crashes(outcomes: dict[str, Outcome]) -> bool:
    """True when some target's outcome is a converter crash."""
    return CRASH in [o.kind for o in outcomes.values()]


@functools.cache
def _plain_uint8(case_id: str) -> dict[str, Outcome]:
    outcomes = outcomes_of_case(case_id)
    return {**outcomes, "uint8-qat": outcomes[UINT8_PLAIN]}


@functools.cache
def _float_builtins(case_id: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((_case(case_id) or {}).get("float_builtins") or ()))


# -- which ops the converter sees ---------------------------------------------------------------------------


def _output_nodes(model: ModelGraph) -> list[str]:
    return [model.tensors[t].producer for t in model.info.outputs
            if t in model.tensors and model.tensors[t].producer is not None]


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
        stack.extend([tensors[t].producer for t in data if t not in fed and t in tensors])
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
    seen.discard(None)  # a tensor without a producer
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
    live = live_nodes(model) if model.info.format == "graphdef" else set()
    folded = _foldable(model, live) if live else set()
    has_fq = any(is_fake_quant(a["op"]) for n, a in model.ops() if n in live)
    # A float graph on the legacy uint8 path: the plain measurement is the one that applies.
    outcomes = outcomes_of_case if has_fq else _plain_uint8
    support: dict[str, NodeSupport] = {}
    unmeasured: list[str] = []
    for node, attrs in model.ops():
        op = attrs["op"]
        if node not in live or node in folded or op in TRANSPARENT_OPS or owned_by_structure(op):
            continue
        case_id = match(model, node)
        if case_id is None:
            if _cases_of(op) is None:
                unmeasured.append(node)
            continue
        support[node] = NodeSupport(node, op, case_id, outcomes(case_id), _float_builtins(case_id))
    for node, (case_id, absorbed) in _fused_patterns(model, live - folded, folded).items():
        if _case(case_id) is None:
            continue
        support[node] = NodeSupport(node, model.nodes[node]["op"], case_id, outcomes(case_id),
                                    _float_builtins(case_id))
        for other in absorbed:
            support.pop(other, None)
    loops = _judge_loops(model, live, support, outcomes)
    absorbed_by_loops = {n for loop in loops.values() for n in loop.absorbed(model)}
    unmeasured = [n for n in unmeasured if n not in absorbed_by_loops]
    result = Analysis(frozenset(live), frozenset(folded), support, tuple(unmeasured), has_fq, loops)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[id(model)] = (model, result)
    return result


def _judge_loops(model: ModelGraph, live: set[str], support: dict[str, NodeSupport], outcomes) -> dict[str, Loop]:
    """Judge every live v1 frame as the converter does, as one WHILE (see :mod:`graphlint_rules.loops`): its
    plumbing and list storage leave ``support``, and its ``LoopCond`` takes the measured case of its kind."""
    loops: dict[str, Loop] = {}
    for loop in find_loops(model) if live else ():
        if loop.anchor not in live or _case(loop.case) is None:
            continue
        for other in loop.absorbed(model):
            support.pop(other, None)
        for other in loop.members:  # a body op matched to a whole measured loop: the loop speaks for it
            if other in support and _is_loop_case(support[other].case):
                del support[other]
        support[loop.anchor] = NodeSupport(loop.anchor, model.nodes[loop.anchor]["op"], loop.case,
                                           outcomes(loop.case), _float_builtins(loop.case))
        loops[loop.anchor] = loop
    return loops


@functools.cache
def _is_loop_case(case_id: str) -> bool:
    """The measured case is a whole loop (a frame, a While, or list storage), not one op."""
    ops = _case_to_match(case_id)["graph_ops"]
    return bool([op for op in ops if op in FRAME_OPS or op in ("While", "StatelessWhile") or is_list_op(op)])


@functools.cache
def _case_to_match(case_id: str) -> dict:
    """The fields of a measured case that matching reads (:data:`_MATCH_FIELDS`), decoded on first use."""
    line = _rules_table()[1][case_id]
    return json.loads(line[:line.index(b"\t")])


@functools.cache
def _case(case_id: str) -> dict | None:
    """A whole measured case by id, decoded on first use (None for an id the table lacks)."""
    line = _rules_table()[1].get(case_id)
    return None if line is None else {**_case_to_match(case_id), **json.loads(line[line.index(b"\t") + 1:])}


def _const_value(model: ModelGraph, tensor) -> float | None:
    """The scalar value of a constant tensor (through Identity), or None."""
    import numpy as np

    while tensor.producer and not tensor.is_const and model.nodes[tensor.producer]["op"] == "Identity":
        inputs = model.inputs_of(tensor.producer)
        if not inputs:
            return None
        tensor = inputs[0]
    if not tensor.is_const:
        return None
    try:
        value = np.asarray(model.value(tensor))
    except Exception:  # noqa: BLE001 - an unreadable constant is simply not a match
        return None
    return float(value.reshape(-1)[0]) if value.size == 1 or (value.size and np.all(value == value.flat[0])) else None


_CONV_OPS = frozenset({"Conv2D", "DepthwiseConv2dNative"})


def _producer_op(model: ModelGraph, tensor) -> tuple[str | None, str | None]:
    node = tensor.producer
    return (node, model.nodes[node]["op"]) if node and node in model.nodes else (None, None)


def _is_constant(model: ModelGraph, tensor) -> bool:
    """A constant, or something the converter folds into one (zeros_like, fill, ones_like of a known shape)."""
    _, op = _producer_op(model, tensor)
    return tensor.is_const or op in ("ZerosLike", "OnesLike", "Fill", "Const")


def _upstream(model: ModelGraph, tensor, ops: tuple[str, ...], depth: int = 3) -> list[str]:
    """Producer nodes of ``tensor`` through ops in ``ops`` (first input only), nearest first."""
    found = []
    for _ in range(depth):
        node, op = _producer_op(model, tensor)
        if op not in ops:
            break
        found.append(node)
        inputs = model.inputs_of(node)
        if not inputs:
            break
        tensor = inputs[0]
    return found


def _softmax_parts(model: ModelGraph, node: str) -> list[str]:
    """exp(x - max(x)) / sum(exp(x - max(x))): the nodes the converter fuses into SOFTMAX, or []."""
    inputs = model.inputs_of(node)
    if len(inputs) != 2:
        return []
    num, op = _producer_op(model, inputs[0])
    den, den_op = _producer_op(model, inputs[1])
    if op != "Exp" or den_op != "Sum":
        return []
    exps = [num, *_upstream(model, model.inputs_of(den)[0], ("Exp",))]
    subs = [n for e in exps for n in _upstream(model, model.inputs_of(e)[0], ("Sub",), 1)]
    maxes = [p for sub in subs for t in model.inputs_of(sub)[1:] for p in _upstream(model, t, ("Max",), 1)]
    return [*exps, den, *subs, *maxes]


def _l2norm_parts(model: ModelGraph, node: str) -> list[str]:
    """x * rsqrt(max(sum(square(x)), eps)): the nodes the converter fuses into L2_NORMALIZATION, or []."""
    inputs = model.inputs_of(node)
    chain = _upstream(model, inputs[0], ("Maximum", "Sum", "Square"), 3) if inputs else []
    ops = [model.nodes[n]["op"] for n in chain]
    if "Sum" not in ops or "Square" not in ops:
        return []
    muls = [u for u in model.successors(node) if model.nodes[u]["op"] == "Mul"]
    return [*chain, *muls]


# The ops _fused_patterns anchors a pattern on (besides fake-quant ops).
_PATTERN_ANCHORS = frozenset({"Erf", "Pow", "Relu6", "RealDiv", "Div", "Rsqrt", "Select", "SelectV2", "Split",
                              "SplitV"})


def _fused_patterns(model: ModelGraph, nodes: set[str], folded: set[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Ops the converter fuses into one builtin, matched to the measured case of the fused form.

    Returns anchor node → (case id, nodes absorbed into it). Measured: GELU written with ``erf`` (case
    ``gelu_exact``) or with ``tanh`` and ``pow(x, 3)`` (``gelu_tanh``), hard-swish ``x * relu6(x + 3) / 6``
    (``hard_swish_pattern``), the gate split of an RNN cell (``lstm_static_rnn``: int8 sometimes leaves
    that SPLIT float), fake-quantized conv weights (``fake_quant_conv_weights``: the int8 model the
    calibrated targets write fails to prepare; fake-quant on activations or on MatMul weights does not), and a
    division by a constant (``realdiv_const``: the converter writes a multiplication by the reciprocal, which
    every target quantizes, where a division by a tensor fails int16x8). ``folded`` are the nodes constant
    folding removes. A node a pattern absorbed anchors no other.
    """
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    taken: set[str] = set()  # nodes absorbed by a pattern found earlier
    table = model.nodes
    for node, attrs in model.ops():  # in graph order, so overlapping patterns always resolve the same way
        op = attrs["op"]
        if (op not in _PATTERN_ANCHORS and not is_fake_quant(op)) or node not in nodes or node in taken:
            continue
        users = model.successors(node)
        user_ops = [table[u]["op"] for u in users]
        if op == "Erf" and any(o in ("AddV2", "Add") for o in user_ops):
            scaled = [t.producer for t in model.inputs_of(node)[:1]
                      if t.producer and table[t.producer]["op"] in ("RealDiv", "Mul")]
            adds = [u for u in users if table[u]["op"] in ("AddV2", "Add")]
            muls = [m for a in adds for m in model.successors(a) if table[m]["op"] == "Mul"]
            found[node] = ("gelu_exact", (*scaled, *adds, *muls))
        elif op == "Pow" and any(_const_value(model, t) == 3.0 for t in model.inputs_of(node)[1:]):
            if any(o == "Mul" for o in user_ops):
                found[node] = ("gelu_tanh", ())
        elif op == "Relu6":
            inputs = model.inputs_of(node)
            add = inputs[0].producer if inputs else None
            if add and table[add]["op"] in ("AddV2", "Add") and any(
                    _const_value(model, t) == 3.0 for t in model.inputs_of(add)):
                absorbed = [add]
                for user in users:
                    if table[user]["op"] == "Mul":
                        absorbed.append(user)
                        absorbed += [u for u in model.successors(user) if table[u]["op"] in ("RealDiv", "Mul")]
                found[node] = ("hard_swish_pattern", tuple(absorbed))
        elif op in ("RealDiv", "Div") and (parts := _softmax_parts(model, node)):
            found[node] = ("softmax_by_hand", tuple(parts))
        elif op == "RealDiv" and len(inputs := model.inputs_of(node)) == 2 and (
                inputs[1].is_const or inputs[1].producer in folded):
            found[node] = ("realdiv_const", ())  # the converter multiplies by the reciprocal
        elif op == "Rsqrt" and (parts := _l2norm_parts(model, node)):
            found[node] = ("l2_normalize", tuple(parts))
        elif op in ("Select", "SelectV2"):
            operands = model.inputs_of(node)[1:3]
            if any(_is_constant(model, t) for t in operands):
                found[node] = ("select_v2_const_operand", ())
            elif len({t.shape for t in model.inputs_of(node)}) > 1:
                found[node] = ("select_v2_broadcast", ())
        elif is_fake_quant(op) and any(
                table[v]["op"] in _CONV_OPS and data.get("dst_slot") == 1
                for v, keyed in model.succ[node].items() for data in keyed.values()):
            found[node] = ("fake_quant_conv_weights", ())
        elif op in ("Split", "SplitV") and any(
                t.producer and (table[t.producer]["op"] == "Sigmoid"
                                or (table[t.producer]["op"] in ("MatMul", "BiasAdd", "AddV2")
                                    and ("Sigmoid" in user_ops or "Tanh" in user_ops)))
                for t in model.inputs_of(node)):
            found[node] = ("lstm_static_rnn", ())
        if node in found:
            taken.update(found[node][1])
    return found



# The TFLite GPU delegate's operation parsers (tensorflow/lite/delegates/gpu/common/model_builder.cc, TF 2.x):
# builtins outside this set fall back to the CPU. Tensors must be float32/float16 (quantized models are
# dequantized by the delegate) and at most 4-D (BHWC).
GPU_OPS = frozenset({
    "ABS", "ADD", "ADD_N", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CAST", "CONCATENATION", "CONV_2D", "COS", "CUMSUM",
    "DENSIFY", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE", "DIV", "ELU", "EQUAL", "EXP", "FLOOR",
    "FLOOR_DIV", "FLOOR_MOD", "FULLY_CONNECTED", "GATHER", "GELU", "GREATER", "GREATER_EQUAL", "HARD_SWISH", "LESS",
    "LESS_EQUAL", "LOG", "LOGISTIC", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MIRROR_PAD", "MUL",
    "NEG", "NOT_EQUAL", "ONE_HOT", "PACK", "PAD", "PADV2", "POW", "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN",
    "REDUCE_PROD", "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "RESHAPE", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SELECT_V2", "SIGN", "SIN", "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT",
    "SPLIT_V", "SQRT", "SQUARE", "SQUARED_DIFFERENCE", "STRIDED_SLICE", "SUB", "SUM", "TANH", "TILE", "TRANSPOSE",
    "TRANSPOSE_CONV",
})
GPU_MAX_RANK = 4


@functools.cache
def micro_missing_builtins() -> frozenset[str]:
    """Builtins TFLite Micro has no kernel for at all, as its interpreter said while running the measured cases."""
    import re

    found = set()
    for case in table()["cases"]:
        for run in (case.get("tflm") or {}).values():
            found.update(re.findall(r"Didn't find op for builtin opcode '([A-Z0-9_]+)'", run.get("error") or ""))
    return frozenset(found)


@functools.cache
def micro_float_only_builtins() -> frozenset[str]:
    """Builtins whose TFLite Micro kernel takes float only: they fail on the int8 tensors the int8 settings give
    them ("input->type != expected_type (INT8 != FLOAT32)"), as measured."""
    import re

    found = set()
    for case in table()["cases"]:
        for run in (case.get("tflm") or {}).values():
            error = run.get("error") or ""
            if "(INT8 != FLOAT32)" in error:
                found.update(re.findall(r"Node ([A-Z0-9_]+) \(number", error))
    return frozenset(found)
