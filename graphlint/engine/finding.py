"""What a rule reports: :class:`Finding`, with an optional :class:`Fix` (fixes are data, never code)."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from typing import Any

from .edits import Edit


class Severity(enum.StrEnum):
    """How much a finding matters for the targets it names."""

    ERROR = "error"  # the target fails: the converter refuses, or the model it writes cannot run
    WARNING = "warning"  # the target converts and runs, but falls short of its promise
    INFO = "info"  # worth knowing; never changes a verdict

    @property
    def rank(self) -> int:
        """Higher is worse."""
        return {"info": 0, "warning": 1, "error": 2}[self.value]


class Applicability(enum.StrEnum):
    """How safely a fix can be applied (ruff's model)."""

    SAFE = "safe"  # keeps the model's meaning; applied by `graphlint fix`
    UNSAFE = "unsafe"  # may change results; applied with --unsafe-fixes
    DISPLAY = "display"  # a suggestion for a person; never applied automatically


@dataclasses.dataclass(frozen=True, slots=True)
class Fix:
    """A proposed change: an imperative title plus graph edits the engine applies."""

    title: str  # "Remove training op `Adam/update`"
    applicability: Applicability = Applicability.DISPLAY
    edits: tuple[Edit, ...] = ()  # graph edits from the closed set in graphlint.engine.edits; none = display-only

    def to_dict(self) -> dict[str, Any]:
        """JSON form used in reports."""
        out: dict[str, Any] = {"title": self.title, "applicability": self.applicability.value}
        if self.edits:
            out["edits"] = [e.to_dict() for e in self.edits]
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place in a model."""

    code: str  # stable rule code, "GL101"
    rule: str  # rule name, "unfrozen-variable"
    severity: Severity  # worst severity over ``targets``
    message: str  # one or two sentences; names nodes and tensors in backticks
    node: str | None = None  # node id (None for model-level findings)
    op: str | None = None  # the node's op as spelled in the file
    tensor: str | None = None  # tensor name the finding is about, when it is about one
    targets: tuple[str, ...] = ()  # targets this finding affects; empty = every target
    target_severity: tuple[tuple[str, Severity], ...] = ()  # per-target severity where it differs
    fix: Fix | None = None
    confidence: str = "certain"  # certain | likely
    data: tuple[tuple[str, Any], ...] = ()  # small JSON-able facts for formatters and the viewer
    subgraph: str | int = 0
    index: int = -1  # node position in the file, for sorting

    def severity_for(self, target: str) -> Severity | None:
        """Severity of this finding for ``target``, or None when it does not affect it."""
        if self.targets and target not in self.targets:
            return None
        return dict(self.target_severity).get(target, self.severity)

    @property
    def fingerprint(self) -> str:
        """Stable id of this finding across runs (code, node and tensor), for baselines and SARIF."""
        key = "\x1f".join((self.code, self.node or "", self.tensor or ""))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (report schema 1)."""
        out = {
            "code": self.code, "rule": self.rule, "severity": self.severity.value, "message": self.message,
            "node": self.node, "op": self.op, "tensor": self.tensor, "targets": list(self.targets),
            "fix": self.fix.to_dict() if self.fix else None, "fingerprint": self.fingerprint,
            "confidence": self.confidence,
        }
        if self.target_severity:
            out["target_severity"] = {t: s.value for t, s in self.target_severity}
        if self.data:
            out["data"] = dict(self.data)
        return out
