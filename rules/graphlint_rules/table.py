"""The measured op-support table as the rules read it, and what each target did with a measured case.

``data/op_support.rules.jsonl`` (see ``data/README.md``) holds, per case measured by ``scripts/probe_ops.py`` with
TF 2.21's converter, LiteRT and TFLite Micro, what matching a node to the case weighs and what every target did.
This module reads it lazily, indexes the cases by op and turns each target's result into an :class:`Outcome`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, Literal, NotRequired, TypedDict

from graphlint.engine.targets import CONVERTER_TARGETS
from graphlint_rules.loops import is_loop_op

# Ops that are no work of their own: never looked up.
TRANSPARENT_OPS = frozenset({"Const", "Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "Identity", "NoOp",
                             "StopGradient", "Snapshot", "PreventGradient", "IdentityN", "EnsureShape",
                             "CheckNumerics", "Assert", "_Retval", "_Arg"})

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
    varies: bool = False  # repeated conversions of the case disagreed (calibration decides it)


# -- the rules' table as :func:`compact` writes it and the rules read it -------------------------------------------

JSONObject = dict[str, Any]
"""A JSON object as decoded, before anything checks its fields: the full ``op_support.json`` table and its
entries, which :func:`compact` reads. The compact table the rules read is typed below."""

AttrValue = str | bool | int
"""The value of an attribute that matching weighs (:data:`ATTR_WEIGHTS`): a dtype or layout name, or a flag."""


class ResultRow(TypedDict, total=False):
    """What one target did with a case (``results[target]`` or ``tflm[target]``); empty fields are left out."""

    status: str
    error: str
    needs_flex: list[str]
    needs_custom: list[str]
    signal: str
    float_ops: list[str]
    varies: bool  # repeated conversions disagreed


class InputSignature(TypedDict):
    """One input of a case's first ``tf_op`` node: its dtype and shape (None: unknown rank)."""

    dtype: str | None
    shape: list[int | None] | None


class OpSignature(TypedDict):
    inputs: list[InputSignature]
    attrs: dict[str, AttrValue]  # only the attributes matching weighs


class Signature(TypedDict):
    op: OpSignature


class CaseToMatch(TypedDict):
    """The fields of a measured case that matching a node to it reads (:data:`_MATCH_FIELDS`)."""

    id: str
    tf_op: str
    graph_ops: list[str]
    signature: Signature
    alone: bool  # the case is about its op alone, not a pattern around it


class CaseOutcomes(TypedDict):
    """The rest of a measured case: what every target did with it (decoded only for the cases nodes match)."""

    results: dict[str, ResultRow]  # by converter target (and UINT8_PLAIN)
    float_builtins: list[str]  # the builtins the float conversion wrote
    tflm: dict[str, ResultRow]  # TFLite Micro running what each target wrote
    saved_model: NotRequired[bool]  # converted with from_saved_model: chosen by a rule, never matched by op


class MeasuredCase(CaseToMatch, CaseOutcomes):
    """A whole measured case: what matching reads, then what every target did with it."""


class TableHeader(TypedDict):
    """The first line of the rules' table, without the case ids (:func:`_rules_table` takes them out)."""

    tensorflow: str | None
    source: str
    index: dict[str, list[str]]  # case ids by op, in matching order (:func:`_case_index`)
    twins: dict[str, str]  # frozen-graph case id -> the case measuring its graph again through from_saved_model


class CompactTable(TableHeader):
    """The rules' view of the measured table (:func:`compact`), with every case."""

    cases: list[MeasuredCase]


RULES_TABLE = "data/op_support.rules.jsonl"


@functools.cache
def _rules_table() -> tuple[TableHeader, dict[str, bytes]]:
    """The rules' table as stored: its header (index and versions) and each case's still-encoded line by id."""
    header, *lines = resources.files("graphlint_rules").joinpath(RULES_TABLE).read_bytes().rstrip(b"\n").split(b"\n")
    # The file is written by dumps_rules_table from a compact() table, and a test holds it equal to compact() of
    # op_support.json: its lines are trusted to have the types above, not checked field by field on every lint.
    head = json.loads(header)
    ids: list[str] = head.pop("ids")
    stored: TableHeader = head
    return stored, dict(zip(ids, lines))


def table() -> CompactTable:
    """The measured table as the rules read it: ``data/op_support.rules.jsonl``, the part of ``op_support.json``
    the rules use (:func:`compact`), written beside it by ``scripts/probe_ops.py``; a test keeps the two in step.

    The file holds a header line (versions, and case ids by op) and then one case per line: first what matching
    weighs, then, after a tab, what the targets did. A lint decodes the first part of the cases of the ops its
    model has (a third of them for MobileNetV2) and the second part only of the cases its nodes matched.
    """
    head, lines = _rules_table()
    return {**head, "cases": [case for case_id in lines if (case := measured_case(case_id)) is not None]}


# Attributes that change what the converter does with an op, and how much a match on them counts.
ATTR_WEIGHTS = {"is_training": 9, "data_format": 3, "output_type": 3, "DstT": 5, "SrcT": 5}
_MATCH_FIELDS = ("id", "tf_op", "graph_ops", "signature", "alone")  # what matching a node to a case reads


def dumps_rules_table(compacted: CompactTable) -> str:
    """The text of ``op_support.rules.jsonl`` for a :func:`compact` table."""
    head: dict[str, object] = {k: v for k, v in compacted.items() if k != "cases"}
    cases: Sequence[Mapping[str, object]] = compacted["cases"]  # split by field name, below
    head["ids"] = [case["id"] for case in cases]

    def dumps(obj: Mapping[str, object]) -> str:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"))  # escapes tabs: one separates the parts

    lines = [dumps(head)]
    for case in cases:
        lines.append(dumps({k: case[k] for k in _MATCH_FIELDS}) + "\t"
                     + dumps({k: v for k, v in case.items() if k not in _MATCH_FIELDS}))
    return "\n".join(lines) + "\n"


_KeptField = Literal["status", "error", "needs_flex", "needs_custom", "signal", "float_ops"]
_KEPT_RESULT_FIELDS: tuple[_KeptField, ...] = ("status", "error", "needs_flex", "needs_custom", "signal", "float_ops")


def _result(r: JSONObject) -> ResultRow:
    """The fields of one measured result the rules read, the empty ones left out."""
    row: ResultRow = {}
    for k in _KEPT_RESULT_FIELDS:
        if r.get(k):
            row[k] = r[k]
    if r.get("stable") is False:  # repeated conversions disagreed
        row["varies"] = True
    return row


def compact(full: JSONObject) -> CompactTable:
    """The rules' view of the full measured table: per case its op, graph ops, op signature (dtypes, shapes and
    the attributes matching weighs), every target's status, error and float ops, and the builtins the float
    conversion wrote."""
    cases: list[MeasuredCase] = []
    for case in full["cases"]:
        ops = set(case.get("graph_ops", ())) - TRANSPARENT_OPS
        sig = case.get("signature", {}).get("op", {})
        results = {t: _result(r) for t, r in case.get("results", {}).items()}
        builtins = [o["op"] for o in (case.get("results", {}).get("float") or {}).get("tflite_ops") or ()]
        row: MeasuredCase = {
            "id": case["id"], "tf_op": case["tf_op"], "graph_ops": case.get("graph_ops", []),
            "signature": {"op": {
                "inputs": [{"dtype": i.get("dtype"), "shape": i.get("shape")} for i in sig.get("inputs") or []],
                "attrs": {k: v for k, v in (sig.get("attrs") or {}).items() if k in ATTR_WEIGHTS}}},
            "results": results, "float_builtins": builtins,
            "tflm": {t: _result(r) for t, r in (case.get("tflm") or {}).items()},
            "alone": ops <= {case["tf_op"]},  # the case is about its op alone, not a pattern around it
        }
        if case.get("saved_model"):
            row["saved_model"] = True
        cases.append(row)
    twins = {case["twin"]: case["id"] for case in full["cases"] if case.get("saved_model") and case.get("twin")}
    return {"tensorflow": full.get("tensorflow"), "source": "op_support.json", "cases": cases,
            "index": _case_index(cases), "twins": dict(sorted(twins.items()))}


def _case_index(cases: list[MeasuredCase]) -> dict[str, list[str]]:
    """Case ids by op: first the cases about the op alone, then patterns named after it, then cases containing
    it (fewest ops first). Cases measured on the SavedModel path are left out: the frozen-graph cases are what op
    matching compares a node with, and the loop analysis picks those by id."""
    alone: dict[str, list[str]] = {}
    named: dict[str, list[str]] = {}
    containing: dict[str, list[MeasuredCase]] = {}
    for case in cases:
        if case.get("saved_model"):  # measured through from_saved_model: chosen by a rule, never matched by op
            continue
        op = case["tf_op"]
        (alone if case["alone"] else named).setdefault(op, []).append(case["id"])
        for other in set(case["graph_ops"]) - TRANSPARENT_OPS - {op}:
            containing.setdefault(other, []).append(case)
    return {op: [*alone.get(op, ()), *named.get(op, ()),
                 *(c["id"] for c in sorted(containing.get(op, []), key=lambda c: len(c["graph_ops"])))]
            for op in sorted(set(alone) | set(named) | set(containing))}


def saved_model_twin(case_id: str) -> str | None:
    """The case that measured ``case_id``'s graph again through ``from_saved_model`` (None when none did): what
    a node of a SavedModel matched to ``case_id`` does on that path."""
    return _rules_table()[0].get("twins", {}).get(case_id)


# Ops the converter imports as another: a stateful functional While or If is legalized as the stateless one
# (both become tf.While / tf.If with `is_stateless` set, then tfl.while / tfl.if).
OP_ALIASES = {"While": "StatelessWhile", "If": "StatelessIf"}


@functools.cache
def cases_of(op: str) -> list[CaseToMatch] | None:
    """The cases of ``op`` in matching order (see :func:`_case_index`), or None when no case involves it. An op
    the converter imports as another (:data:`OP_ALIASES`) has the cases of both, those about either op first: a
    stateful ``If`` is judged as the ``StatelessIf`` it becomes, not by a case that merely contains one."""
    index = _rules_table()[0]["index"]
    alias = OP_ALIASES.get(op, "")
    ids = list(dict.fromkeys([*index.get(op, ()), *index.get(alias, ())]))
    if not ids:
        return None
    cases = [case_to_match(case_id) for case_id in ids]
    return sorted(cases, key=lambda c: c["tf_op"] not in (op, alias))  # stable: index order within each part


_BLAMED = re.compile(r"'tf\.(\w+)' op is neither a custom op nor a flex op")


@functools.lru_cache(maxsize=4096)
def outcomes_for(case_id: str, op: str, present: frozenset[str]) -> dict[str, Outcome]:
    """What every target did with a case, as it bears on a node of ``op`` in a model whose live ops are
    ``present``: a refusal the converter blames on another op of the case's graph (its message names
    `'tf.Other' op`) that the model does not have is that other op's, not this node's. (A node that takes a
    resource handle is judged by its case as a whole: the op blamed made the handle it uses.)"""
    outcomes = outcomes_of_case(case_id)
    return {t: _exonerated(o, op, present) for t, o in outcomes.items()}


def _exonerated(outcome: Outcome, op: str, present: frozenset[str]) -> Outcome:
    blamed = _BLAMED.findall(outcome.error or "") if outcome.kind == NO_BUILTIN else []
    # A placeholder or an identity blamed is the converter's own stand-in for this node's inputs (a resource
    # handle, a fed tensor): the refusal is still this node's; so is one blamed on an op the model has too.
    innocent = [b for b in blamed if b != op and b != OP_ALIASES.get(op) and b not in TRANSPARENT_OPS
                and b not in present]
    if blamed and len(innocent) == len(blamed):
        return Outcome(OK, "blamed-on-" + blamed[0])
    return outcome


def _ignored(error: str) -> bool:
    return any(s in error for s in _IGNORED_ERRORS)


def classify(target: str, result: ResultRow | None) -> Outcome:
    """Turn one ``results[target]`` entry into an :class:`Outcome`."""
    if not result:
        return Outcome(OK, "unknown")
    status, error = result.get("status", "ok"), result.get("error") or ""
    floats = tuple(result.get("float_ops") or ())
    if status == "ok" or status == "not_applicable" or _ignored(error):
        return Outcome(OK, status)
    if status == "float_fallback":
        return Outcome(STAYS_FLOAT, status, None, floats, bool(result.get("varies")))
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


def case_outcomes(case: MeasuredCase) -> dict[str, Outcome]:
    """What every converter target and TFLite Micro did with a measured case."""
    results = case.get("results", {})
    out = {t: classify(t, results.get(t)) for t in (*CONVERTER_TARGETS, UINT8_PLAIN)}
    qat = results.get("uint8-qat") or {}
    if _ignored(qat.get("error") or "") and out[UINT8_PLAIN].kind == RUNTIME:
        # uint8-qat measured nothing (its variant of the case could not be built); the same graph on the same
        # legacy path with its own ranges shows what the runtime does with the ops once every range exists
        out["uint8-qat"] = out[UINT8_PLAIN]
    micro = (case.get("tflm") or {}).get("int8")
    if micro is None:
        out["tflm"] = out["int8"]  # nothing to run: TFLite Micro fails the way the int8 conversion did
    elif micro.get("status") == "ok":
        out["tflm"] = Outcome(OK, "ok")
    else:
        out["tflm"] = Outcome(MICRO, micro.get("status", "runtime_error"), micro.get("error"))
    return out


@functools.cache
def outcomes_of_case(case_id: str) -> dict[str, Outcome]:
    """:func:`case_outcomes` of a measured case by id (memoized; empty for an id the table lacks)."""
    case = measured_case(case_id)
    return case_outcomes(case) if case is not None else {}


def crashes(outcomes: dict[str, Outcome]) -> bool:
    """True when some target's outcome is a converter crash."""
    return CRASH in [o.kind for o in outcomes.values()]


@functools.cache
def float_builtins(case_id: str) -> tuple[str, ...]:
    """The builtins the float conversion of a measured case wrote, each once (none for an id the table lacks)."""
    case = measured_case(case_id)
    return tuple(dict.fromkeys(case.get("float_builtins") or ())) if case is not None else ()


@functools.cache
def is_loop_case(case_id: str) -> bool:
    """The measured case is a whole loop (a frame, a While, or list storage), not one op."""
    ops = case_to_match(case_id)["graph_ops"]
    return bool([op for op in ops if is_loop_op(op)])


@functools.cache
def case_to_match(case_id: str) -> CaseToMatch:
    """The fields of a measured case that matching reads (:data:`_MATCH_FIELDS`), decoded on first use."""
    line = _rules_table()[1][case_id]
    fields: CaseToMatch = json.loads(line[:line.index(b"\t")])  # as compact() wrote it (see _rules_table)
    return fields


@functools.cache
def measured_case(case_id: str) -> MeasuredCase | None:
    """A whole measured case by id, decoded on first use (None for an id the table lacks)."""
    line = _rules_table()[1].get(case_id)
    if line is None:
        return None
    outcomes: CaseOutcomes = json.loads(line[line.index(b"\t") + 1:])  # as compact() wrote it (see _rules_table)
    return {**case_to_match(case_id), **outcomes}


@functools.cache
def micro_missing_builtins() -> frozenset[str]:
    """Builtins TFLite Micro has no kernel for at all, as its interpreter said while running the measured cases."""
    found: set[str] = set()
    for case in table()["cases"]:
        for run in (case.get("tflm") or {}).values():
            found.update(re.findall(r"Didn't find op for builtin opcode '([A-Z0-9_]+)'", run.get("error") or ""))
    return frozenset(found)


@functools.cache
def micro_float_only_builtins() -> frozenset[str]:
    """Builtins whose TFLite Micro kernel takes float only: they fail on the int8 tensors the int8 settings give
    them ("input->type != expected_type (INT8 != FLOAT32)"), as measured."""
    found: set[str] = set()
    for case in table()["cases"]:
        for run in (case.get("tflm") or {}).values():
            error = run.get("error") or ""
            if "(INT8 != FLOAT32)" in error:
                found.update(re.findall(r"Node ([A-Z0-9_]+) \(number", error))
    return frozenset(found)
