"""Graph edits: the closed set of changes a :class:`~graphlint.engine.finding.Fix` may carry.

Rules stay pure: they never change the graph, they describe the change as data. The fix engine
(:mod:`graphlint.fix`) owns one implementation per kind below and applies them to a GraphDef, re-linting until the
graph is stable. A kind is a promise about semantics, so a new kind is a reviewed addition to this table.
"""

from __future__ import annotations

import dataclasses
from typing import Any

KINDS: dict[str, str] = {
    "bypass": "consumers of the node's output 0 read its data input `input` (default 0) instead; the node is "
              "removed when nothing else reads it (Identity, CheckNumerics, StopGradient, a no-op Cast)",
    "prune": "drop every node that no output depends on (training branches, savers, summaries)",
    "remove-dropout": "replace the dropout block ending at the node by its input tensor `input`",
    "fold-batchnorm": "fold an inference-mode batch norm into the preceding conv or matmul weights, or into one "
                      "Mul and one Add with constants when nothing precedes it that can absorb it",
    "decompose-batchnorm": "rewrite a training-mode FusedBatchNorm as Mean/Sub/Mul/Rsqrt ops on the batch "
                           "statistics, which every target has kernels for",
    "squared-difference": "rewrite SquaredDifference(a, b) as d = Sub(a, b); Mul(d, d)",
    "neg-to-mul": "rewrite Neg(x) as Mul(x, -1), which has int8 and int16 kernels",
    "set-input-shape": "give the input placeholder the fixed shape `shape` (the user says which)",
    "add-fake-quant": "insert a FakeQuantWithMinMaxVars after the node's output with range `min`..`max` "
                      "(measured on calibration data when the range is not given)",
    "drop-fake-quant": "remove the FakeQuant* nodes and let the converter calibrate instead",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Edit:
    """One graph edit: a kind from :data:`KINDS`, the node it applies to and its parameters."""

    kind: str
    node: str | None = None  # node id; None for model-level edits (prune)
    params: tuple[tuple[str, Any], ...] = ()  # small JSON-able values, sorted by key

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown edit kind `{self.kind}` (known: {', '.join(KINDS)})")

    @classmethod
    def of(cls, kind: str, node: str | None = None, **params: Any) -> Edit:
        """Build an edit with keyword parameters: ``Edit.of("bypass", "dropout/Identity", input=0)``."""
        return cls(kind, node, tuple(sorted(params.items())))

    def param(self, key: str, default: Any = None) -> Any:
        """A parameter's value."""
        return dict(self.params).get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": self.kind, "node": self.node, "params": dict(self.params)}
