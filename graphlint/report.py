"""The report: what a lint run found, in the JSON shape of docs/design.md §4 (``schema_version`` 1).

Field names here are a contract with CI jobs and the API: extend freely, never rename or drop.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, Literal, NotRequired, TypedDict

from . import __version__
from .engine.edits import Edit
from .engine.finding import Applicability, Finding, Fix, Severity
from .ir import ModelGraph, ModelInfo, TensorInfo

SCHEMA_VERSION = 1
FATAL_CODES = ("GL001", "GL002", "GL005")  # the model could not be read: unreadable, empty, over budget

# JSON as it is decoded (a stored or received report, what a conversion returned) or built to be encoded: only the
# code that reads a member knows what it should hold, so the values stay open. The service and the client use it too.
JSONValue = Any
JSONObject = dict[str, JSONValue]
# A path to a model file or its bytes, as the loaders take them.
FileSource = str | os.PathLike[str] | bytes | bytearray | memoryview

VerdictName = Literal["pass", "warn", "fail"]
VerifiedStatus = Literal["confirmed", "contradicted", "not-run"]


class Verified(TypedDict):
    """One target's ``verified`` object after ``--verify``: what the real tools said of the predicted verdict."""

    status: VerifiedStatus
    actual: str | None  # the real verdict (pass | warn | fail); None when not run
    message: str | None
    reproduce: str | None  # a command line that shows what the real tools do


class Verdict(TypedDict):
    """One target's entry in the report's ``targets``."""

    verdict: VerdictName
    blocking: list[str]  # codes of the error-level findings
    warnings: list[str]  # codes of the warning-level findings
    verified: NotRequired[Verified | None]  # only in the JSON report, once ``--verify`` ran


class Stats(TypedDict):
    """The report's ``stats``."""

    by_severity: dict[str, int]
    by_code: dict[str, int]
    findings: int


class QuantJSON(TypedDict):
    """A tensor's quantization in the report's ``model`` object."""

    scale: list[float]
    zero_point: list[int]
    axis: int | None


class TensorJSON(TypedDict):
    """An input or output tensor in the report's ``model`` object."""

    name: str
    dtype: str | None
    shape: list[int | None] | None
    quantization: NotRequired[QuantJSON]


class UnreadableModel(TypedDict):
    """The report's ``model`` object for a file that could not be loaded."""

    path: str
    format: None
    sha256: str | None
    size_bytes: int | None
    nodes: int
    ops: int
    tensors: int
    inputs: list[TensorJSON]
    outputs: list[TensorJSON]
    outputs_inferred: bool
    subgraphs: list[str]


def _tensor_json(t: TensorInfo) -> TensorJSON:
    out: TensorJSON = {"name": t.name, "dtype": t.dtype, "shape": list(t.shape) if t.shape is not None else None}
    if t.quant is not None:
        out["quantization"] = {"scale": list(t.quant.scale), "zero_point": list(t.quant.zero_point),
                               "axis": t.quant.axis}
    return out


class ModelSummary(Mapping[str, Any]):
    """The ``model`` object of a report: a read-only mapping whose ``sha256`` is read from the model when first
    asked for, so a report rendered as text, JUnit or GitHub annotations never hashes the file."""

    def __init__(self, fields: dict[str, Any], info: ModelInfo) -> None:
        self._fields = fields  # "sha256" maps to _PENDING: ModelInfo.sha256 computes it once and keeps it
        self._info = info

    def __getitem__(self, key: str) -> Any:
        value = self._fields[key]
        return self._info.sha256 if value is _PENDING else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"ModelSummary({self._fields!r})"


_PENDING = object()


def model_summary(model: ModelGraph) -> ModelSummary:
    """The ``model`` object of a report."""
    info = model.info
    return ModelSummary({
        "path": info.path, "format": info.traced_from or info.format, "sha256": _PENDING, "size_bytes": info.size_bytes,
        "nodes": sum(1 for _, a in model.nodes.items() if a["kind"] != "output"),
        "ops": sum(1 for _ in model.ops()), "tensors": len(model.tensors),
        "inputs": [_tensor_json(model.tensors[t]) for t in info.inputs if t in model.tensors],
        "outputs": [_tensor_json(model.tensors[t]) for t in info.outputs if t in model.tensors],
        "outputs_inferred": info.outputs_inferred, "subgraphs": list(info.subgraphs),
    }, info)


def unreadable_summary(source: FileSource | ModelGraph, name: str | None,
                       sha256: str | None = None) -> UnreadableModel:
    """The ``model`` object for a file that could not be loaded (hash and size when it can be read; ``sha256``
    when the caller already has the hash)."""
    digest: str | None = None
    size: int | None = None
    if isinstance(source, ModelGraph):  # already loaded: there is no file left to read
        path = name or source.info.path
    elif isinstance(source, (bytes, bytearray, memoryview)):
        digest, size, path = sha256 or hashlib.sha256(source).hexdigest(), len(source), name or "<bytes>"
    else:
        path = name or os.fspath(source)
        try:
            if os.path.isfile(source) and os.path.getsize(source) <= 1 << 30:
                size = os.path.getsize(source)
                if sha256 is None:
                    with open(source, "rb") as fh:
                        sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
                digest = sha256
        except OSError:
            pass
    return {"path": path, "format": None, "sha256": digest, "size_bytes": size, "nodes": 0, "ops": 0,
            "tensors": 0, "inputs": [], "outputs": [], "outputs_inferred": False, "subgraphs": []}


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its string (``"nan"``, ``"inf"``, ``"-inf"``) and tuples
    made lists; containers are copied only where something changes."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        out = {k: json_safe(v) for k, v in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    if isinstance(value, (list, tuple)):
        items = [json_safe(v) for v in value]
        return value if isinstance(value, list) and all(a is b for a, b in zip(items, value)) else items
    return value


@dataclasses.dataclass
class Report:
    """The result of linting one model for a set of targets."""

    model: Mapping[str, Any]  # see model_summary
    targets: tuple[str, ...]  # requested targets, in canonical order
    findings: list[Finding]  # sorted: model-level first, then by node position and code
    rules_run: list[str] = dataclasses.field(default_factory=list)
    broken_packs: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # BrokenPack fields
    timings_ms: dict[str, float] = dataclasses.field(default_factory=dict)
    model_graph: ModelGraph | None = dataclasses.field(default=None, repr=False)  # not serialized
    # ``--verify``: per target {status: confirmed | contradicted | not-run, actual, message, reproduce}
    verified: dict[str, Verified] | None = None

    def verdicts(self) -> dict[str, Verdict]:
        """Per target: ``verdict`` pass | warn | fail, ``blocking`` error codes and ``warnings`` codes."""
        out: dict[str, Verdict] = {}
        for target in self.targets:
            errors: dict[str, None] = {}
            warnings: dict[str, None] = {}
            for f in self.findings:
                sev = f.severity_for(target)
                if sev is Severity.ERROR:
                    errors[f.code] = None
                elif sev is Severity.WARNING:
                    warnings[f.code] = None
            verdict: VerdictName = "fail" if errors else "warn" if warnings else "pass"
            out[target] = {"verdict": verdict, "blocking": sorted(errors), "warnings": sorted(warnings)}
        return out

    def targets_json(self) -> dict[str, Verdict]:
        """``targets`` of the JSON report: the verdicts, each with its ``verified`` object after ``--verify``."""
        out = self.verdicts()
        if self.verified is not None:
            for target, verdict in out.items():
                verdict["verified"] = self.verified.get(target)
        return out

    def effective_verdicts(self) -> dict[str, str | None]:
        """Per target: what the real tools did where ``--verify`` judged it, else the predicted verdict."""
        out: dict[str, str | None] = {}
        for target, v in self.verdicts().items():
            real = (self.verified or {}).get(target)
            if real is not None and real.get("status") in ("confirmed", "contradicted"):
                out[target] = real["actual"]
            else:
                out[target] = v["verdict"]
        return out

    @property
    def failed(self) -> bool:
        """True when any finding is at error level for a requested target (CLI exit code 1)."""
        return any(v["verdict"] == "fail" for v in self.verdicts().values())

    @property
    def fatal_finding(self) -> Finding | None:
        """The finding saying the model could not be read at all, if there is one."""
        return next((f for f in self.findings if f.code in FATAL_CODES), None)

    @property
    def fatal(self) -> bool:
        """True when the model could not be read at all."""
        return self.fatal_finding is not None

    def stats(self) -> Stats:
        """Counts by severity and by code."""
        return {"by_severity": {s.value: sum(1 for f in self.findings if f.severity is s) for s in Severity},
                "by_code": dict(sorted(Counter(f.code for f in self.findings).items())),
                "findings": len(self.findings)}

    def to_dict(self) -> JSONObject:
        """The JSON report (schema_version 1). Strict JSON: a NaN or infinite float (a corrupt scale, a range
        attribute) is written as the string ``"nan"``, ``"inf"`` or ``"-inf"``, as the viewer shows it."""
        data: JSONObject = json_safe({
            "schema_version": SCHEMA_VERSION, "graphlint_version": __version__, "model": dict(self.model),
            "targets": self.targets_json(), "findings": [f.to_dict() for f in self.findings], "stats": self.stats(),
            "rules_run": self.rules_run, "broken_packs": self.broken_packs,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        })
        return data


def finding_from_dict(data: JSONObject) -> Finding:
    """The inverse of :meth:`Finding.to_dict`."""
    fix = data.get("fix")
    return Finding(
        code=data["code"], rule=data["rule"], severity=Severity(data["severity"]), message=data["message"],
        node=data.get("node"), op=data.get("op"), tensor=data.get("tensor"), targets=tuple(data.get("targets", ())),
        target_severity=tuple((t, Severity(s)) for t, s in (data.get("target_severity") or {}).items()),
        fix=Fix(title=fix["title"], applicability=Applicability(fix["applicability"]),
                edits=tuple(Edit(e["kind"], e.get("node"), tuple(sorted((e.get("params") or {}).items())))
                            for e in fix.get("edits", ()))) if fix else None,
        confidence=data.get("confidence", "certain"), data=tuple((data.get("data") or {}).items()))


def report_from_dict(data: JSONObject) -> Report:
    """A :class:`Report` from its JSON form (``Report.to_dict()``, or an API response with extra fields).

    ``to_dict()`` of the result gives back the report's fields; verdicts are recomputed from the findings.
    """
    verified = {t: v["verified"] for t, v in data["targets"].items() if isinstance(v, dict) and v.get("verified")}
    return Report(model=data["model"], targets=tuple(data["targets"]),
                  findings=[finding_from_dict(f) for f in data.get("findings", ())],
                  rules_run=list(data.get("rules_run", ())), broken_packs=list(data.get("broken_packs", ())),
                  timings_ms=dict(data.get("timings_ms", {})), verified=verified or None)
