"""Matching a GraphDef node to the measured case closest to it: same op, then same dtypes, rank and the
attributes that change what the converter does."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from graphlint.ir import ModelGraph
from graphlint_rules.loops import CHOSEN_CASES, is_loop_op
from graphlint_rules.table import ATTR_WEIGHTS, AttrValue, CaseToMatch, cases_of, is_loop_case

# dtypes no measured case of an op stands for: the type rules speak for them instead.
UNUSUAL_DTYPES = frozenset({"float16", "float64", "bfloat16", "complex64", "complex128", "string", "resource",
                            "variant"})


_ANY_RANK = -1  # rank not known here, but not unknown to the converter: matches no rank in particular


def _rank_bucket(rank: int | None) -> int | None:
    return None if rank is None else min(max(rank, 4), 8)


def _over_rank_transpose(model: ModelGraph, node: str) -> str | None:
    """The measured case of a TRANSPOSE above 6-D. The converter counts the input's rank without its size-1 axes:
    a 7-D transpose with a size-1 axis converts (case ``transpose_7d_squeezable``, which TFLite Micro still
    refuses: it counts every axis); with seven axes above 1 it has no builtin (``transpose_7d``), even when two
    axes keep their order (``transpose_7d_mergeable``). None at 6-D and below, where ordinary matching applies."""
    inputs = model.inputs_of(node)
    shape = inputs[0].shape if inputs else None
    if shape is None or len(shape) <= 6:
        return None
    squeezed = len([d for d in shape if d != 1])
    return "transpose_7d" if squeezed > 6 or None in shape else "transpose_7d_squeezable"


# Ops whose case follows from a limit the converter checks on the shape, not from rank buckets.
_BY_LIMIT: dict[str, Callable[[ModelGraph, str], str | None]] = {"Transpose": _over_rank_transpose}


def _score(case: CaseToMatch, dtypes: list[str | None], rank: int | None, attrs: Mapping[str, AttrValue]) -> int:
    sig = case.get("signature", {}).get("op", {})
    inputs = sig.get("inputs") or []
    case_dtypes = [i.get("dtype") for i in inputs]
    score = 4 if case.get("alone") else 0
    if dtypes and case_dtypes and dtypes[0] == case_dtypes[0]:
        score += 8
    if dtypes and dtypes == case_dtypes:
        score += 2
    case_shape = inputs[0].get("shape") if inputs else None
    case_rank = len(case_shape) if case_shape is not None else None
    if rank != _ANY_RANK and _rank_bucket(rank) == _rank_bucket(case_rank):
        score += 2
    elif rank == _ANY_RANK and case_rank is None:
        score -= 2  # never take an unknown-rank case for an argument the converter will know
    case_attrs = sig.get("attrs") or {}
    for key, weight in ATTR_WEIGHTS.items():
        if key in attrs and key in case_attrs and attrs[key] == case_attrs[key]:
            score += weight
    return score


def match(model: ModelGraph, node: str) -> str | None:
    """The id of the measured case closest to ``node``, or None when its op is unmeasured."""
    attrs = model.nodes[node]
    op = attrs["op"]
    if cases_of(op) is None:
        return None
    by_limit = _BY_LIMIT[op](model, node) if op in _BY_LIMIT else None
    if by_limit is not None:
        return by_limit
    inputs = model.inputs_of(node)
    node_attrs = attrs.get("attrs") or {}
    weighed = [k for k in ATTR_WEIGHTS if k in node_attrs]  # usually none
    key_attrs = tuple([(k, node_attrs[k]) for k in weighed if isinstance(node_attrs[k], (str, bool, int))])
    rank = inputs[0].rank if inputs else None
    if rank is None and (attrs["subgraph"] != "main" or _input_ranks_known(model)):
        # The converter knows this rank: a function argument's once it inlines the call, and any tensor's that
        # follows from model inputs of known rank (an op graphlint's shape inference does not cover is no
        # reason to match the cases measured with an input of unknown rank).
        rank = _ANY_RANK
    return best_case(op, tuple([t.dtype for t in inputs]), rank, key_attrs)


def _input_ranks_known(model: ModelGraph) -> bool:
    """True when every model input has a known rank."""
    return all(model.tensors[t].rank is not None for t in model.info.inputs if t in model.tensors)


@functools.lru_cache(maxsize=8192)
def best_case(op: str, dtypes: tuple[str | None, ...], rank: int | None,
              attrs: tuple[tuple[str, AttrValue], ...]) -> str | None:
    """The case id for an op signature; memoized, since a model repeats a few signatures many times."""
    node_attrs = dict(attrs)
    cases = [c for c in cases_of(op) or () if c["id"] not in CHOSEN_CASES]
    if not cases:
        return None
    if not is_loop_op(op):  # a whole measured loop speaks for the loop, never for one op that is also in it
        cases = [c for c in cases if not is_loop_case(c["id"])] or cases
    best = max(cases, key=lambda c: _score(c, list(dtypes), rank, node_attrs))  # max keeps the first tie
    case_dtypes = [i.get("dtype") for i in (best.get("signature", {}).get("op", {}).get("inputs") or [])]
    if dtypes and dtypes[0] in UNUSUAL_DTYPES and (not case_dtypes or case_dtypes[0] != dtypes[0]):
        return None
    return best["id"]
