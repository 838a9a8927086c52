"""Response shapes for the OpenAPI document (with examples). Handlers return plain JSON; these only describe it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graphlint.loaders import FORMAT_NAMES

_SHA = "9f1c2a7d3b8e4f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"
_ID = "5d41402abc4b2a76b9719d911017c592"

REPORT_EXAMPLE: dict[str, Any] = {
    "id": _ID, "name": "net.pb", "created_at": "2026-11-02T10:15:30.123456Z",
    "schema_version": 1, "graphlint_version": "0.1.0",
    "model": {"path": "net.pb", "format": "graphdef", "sha256": _SHA, "size_bytes": 4212, "nodes": 6, "ops": 4,
              "tensors": 6, "inputs": [{"name": "x", "dtype": "float32", "shape": [1, 4]}],
              "outputs": [{"name": "y", "dtype": "float32", "shape": [1, 2]}], "outputs_inferred": False,
              "subgraphs": ["main"]},
    "targets": {"float": {"verdict": "fail", "blocking": ["GL101"], "warnings": []},
                "int8": {"verdict": "fail", "blocking": ["GL101"], "warnings": []}},
    "findings": [{"code": "GL101", "rule": "unfrozen-variable", "severity": "error",
                  "message": "`w` is a variable; freeze the graph so it becomes a constant", "node": "w",
                  "op": "VariableV2", "tensor": None, "targets": [], "fix": None, "fingerprint": "8a1f0c2e4b6d7a90",
                  "confidence": "certain"}],
    "stats": {"by_severity": {"error": 1, "warning": 0, "info": 0}, "by_code": {"GL101": 1}, "findings": 1},
    "rules_run": ["GL003", "GL101"], "broken_packs": [], "timings_ms": {"load": 1.2, "lint": 0.4, "total": 1.6},
}


class Verified(BaseModel):
    """What the real converter, LiteRT and TFLite Micro did with the model for one target (``verify=true``)."""

    status: Literal["confirmed", "contradicted", "not-run"] = Field(
        description="the real verdict equals the predicted one, differs from it, or nothing here can judge it")
    actual: Literal["pass", "warn", "fail"] | None = Field(description="the real verdict; null when not run")
    message: str | None = Field(description="the real tools' words (the converter's or runtime's error text), "
                                            "or why the target was not run")
    reproduce: str | None = Field(description="a command line that shows what the real tools do")


class Verification(BaseModel):
    """The verification job of a report (``POST /v1/reports?verify=true``)."""

    job: str | None = Field(description="the job's id (`GET /v1/jobs/{id}`); null when none could start")
    status: Literal["queued", "running", "done", "failed"]
    message: str | None = Field(description="why it failed, e.g. the server has no TensorFlow")
    summary: dict[str, int] | None = Field(default=None, description="confirmed, contradicted and not_run counts "
                                                                     "once done")


class TargetVerdict(BaseModel):
    """A target's verdict."""

    model_config = ConfigDict(extra="allow")
    verdict: Literal["pass", "warn", "fail"]
    blocking: list[str]
    verified: Verified | None = Field(default=None, description="present once a verification is done")


class StoredReport(BaseModel):
    """The CLI's JSON report (``schema_version`` 1) plus where it is stored."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [REPORT_EXAMPLE]})
    id: str = Field(description="report id (32 hex digits)")
    name: str = Field(description="the model's name as uploaded (also `model.path`)")
    created_at: str = Field(description="when it was first stored, UTC, ISO 8601")
    schema_version: int
    graphlint_version: str
    model: dict[str, Any] = Field(description=f"the model: `path`, `format` ({' | '.join(FORMAT_NAMES)}; null when "
                                              "unreadable), `sha256`, `size_bytes`, counts, `inputs`, `outputs`")
    targets: dict[str, TargetVerdict]
    findings: list[dict[str, Any]]
    stats: dict[str, Any]
    timings_ms: dict[str, float]
    verification: Verification | None = Field(default=None, description="only when verification was asked for")


class ReportSummary(BaseModel):
    """One item of the report list."""

    id: str
    name: str
    sha256: str
    created_at: str
    format: str | None = Field(description=f"{' | '.join(FORMAT_NAMES)} (the report's `model.format`), or null "
                                           "when the model could not be read")
    targets: dict[str, Literal["pass", "warn", "fail"]] = Field(description="verdict per target")
    findings: int = Field(description="number of findings")


class ReportList(BaseModel):
    """A page of reports, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [{
        "id": _ID, "name": "net.pb", "sha256": _SHA, "created_at": "2026-11-02T10:15:30.123456Z",
        "format": "graphdef", "targets": {"float": "fail", "int8": "fail"}, "findings": 1}], "next": "41"}]})
    items: list[ReportSummary]
    next: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class TargetInfo(BaseModel):
    """A conversion target, as graphlint's target registry defines it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "int8", "description": "full integer: every op int8, int8 input and output",
        "recipe": "optimizations=[Optimize.DEFAULT] + representative_dataset + supported_ops=[TFLITE_BUILTINS_INT8]"
                  " + inference_input_type=inference_output_type=tf.int8",
        "runtimes": ["litert"], "integer": True, "fallback": False, "converts_as": None, "default": True}]})
    name: str
    description: str
    recipe: str | None = Field(description="the converter settings; null for a runtime-only target (gpu)")
    runtimes: list[str] = Field(description="what must allocate and run the converted model")
    integer: bool = Field(description="the target promises integer arithmetic: ops left in float are named")
    fallback: bool = Field(description="ops without an integer kernel may stay float by design")
    converts_as: str | None = Field(description="the target whose conversion this one runs (tflm: int8)")
    default: bool = Field(description="checked when a request names no target")


class RuleMeta(BaseModel):
    """A rule's metadata, as `graphlint rules --format json` prints it."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "code": "GL101", "name": "unfrozen-variable", "summary": "A variable was not frozen into a constant",
        "category": "structure", "severity": "error", "formats": ["graphdef"], "targets": [], "fix": "none",
        "status": "stable", "since": "0.1"}]})
    code: str
    name: str
    summary: str
    category: str
    severity: Literal["error", "warning", "info"]
    formats: list[str]
    status: str


class RuleDoc(RuleMeta):
    """A rule's metadata and its documentation (Markdown)."""

    doc: str = Field(description="Markdown: What it does, Why is this bad?, Example, How to fix")


class EarlierAttempt(BaseModel):
    """A run of a job that ended without a result (its worker was killed, say), after which it was queued again."""

    attempt: int = Field(ge=1, description="which run it was: 1 for the first")
    ended_at: str = Field(description="when it was found to have ended, UTC, ISO 8601")
    reason: str = Field(description="why it ended", examples=["its worker stopped (killed, out of memory or gone)"])


class Job(BaseModel):
    """A fix-and-convert or verify job."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": _ID, "status": "done", "progress": 1.0, "message": "done", "attempts": 2,
        "earlier_attempts": [{"attempt": 1, "ended_at": "2026-11-02T10:15:36.000000Z",
                              "reason": "its worker stopped (killed, out of memory or gone)"}],
        "request": {"sha256": _SHA, "name": "net.pb", "report_id": None, "target": "int8", "fix": True,
                    "unsafe_fixes": False, "inputs": [], "outputs": ["y"], "calibration": "random",
                    "input_ranges": []},
        "result": {"status": "ok", "error": None, "files": ["model.tflite", "fixed.pb", "report.json"]},
        "created_at": "2026-11-02T10:15:30.123456Z", "updated_at": "2026-11-02T10:15:41.654321Z"}]})
    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(ge=0, le=1)
    message: str
    attempts: int = Field(ge=0, description="how many times a worker started it (0 while it waits for its first "
                                            "run)")
    earlier_attempts: list[EarlierAttempt] = Field(description="the runs that ended without a result before the "
                                                               "current one, and why; empty for a job run once")
    request: dict[str, Any]
    result: dict[str, Any] | None = Field(description="what the conversion returned: status, error, files, ...")
    created_at: str
    updated_at: str


class JobList(BaseModel):
    """Recent jobs, newest first."""

    items: list[Job]


class Health(BaseModel):
    """Liveness or readiness."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"status": "ok"}]})
    status: Literal["ok"]
