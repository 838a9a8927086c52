"""The rule contract: class-level metadata plus one pure ``check(model, ctx)`` generator.

A rule's docstring is its documentation page, in sections (``## What it does``, ``## Why is this bad?``,
``## Example``, ``## How to fix``, and where relevant ``## Fix safety`` and ``## Known limitations``).
``bad_example`` / ``good_example`` build small models with :class:`graphlint.testing.GraphBuilder`; the
contract test checks that the bad one fires the rule and the good one does not, and the docs show both.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from graphlint.ir import ModelGraph, TensorInfo

from .finding import Finding, Fix, Severity
from .targets import DEFAULT_TARGETS, TARGETS

CODE_RE = re.compile(r"^[A-Z]{2,4}\d{3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "How to fix")


class Category(enum.StrEnum):
    """Code blocks by category: GL0xx loading, GL1xx structure, GL2xx shapes and types, GL3xx TFLite
    compatibility, GL4xx quantization, GL5xx performance, GL6xx checks of converted ``.tflite`` files, GL9xx
    internal."""

    LOADING = "loading"
    STRUCTURE = "structure"
    SHAPES = "shapes"
    COMPATIBILITY = "compatibility"
    QUANTIZATION = "quantization"
    PERFORMANCE = "performance"
    INTERNAL = "internal"


@dataclasses.dataclass(frozen=True)
class RuleContext:
    """What a rule may know besides the model: the run's options. Rules never do I/O."""

    targets: tuple[str, ...] = DEFAULT_TARGETS  # targets requested for this run
    user_inputs: tuple[str, ...] = ()  # --input names as given
    user_outputs: tuple[str, ...] = ()  # --output names as given
    user_shapes: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # --input NAME:SHAPE
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # this rule's options

    def wants(self, *targets: str) -> bool:
        """True when any of ``targets`` was requested."""
        return any(t in self.targets for t in targets)


class Rule:
    """Base class of every rule. Subclasses set the metadata and implement :meth:`check`."""

    code: ClassVar[str]  # "GL101": prefix of the owning pack + 3 digits, never reused
    name: ClassVar[str]  # "unfrozen-variable": names the problem, not the fix
    summary: ClassVar[str]  # one line for tables
    category: ClassVar[Category]
    severity: ClassVar[Severity] = Severity.ERROR
    formats: ClassVar[frozenset[str]] = frozenset({"graphdef", "tflite"})
    targets: ClassVar[tuple[str, ...]] = ()  # targets the rule's findings affect by default; () = all
    fix_availability: ClassVar[str] = "none"  # none | sometimes | always
    status: ClassVar[str] = "stable"  # stable | preview | deprecated
    since: ClassVar[str] = "0.1.0"
    engine_emitted: ClassVar[bool] = False  # reported by the engine itself (load failures, crashes)
    # what the examples build: "graphdef" or "tflite" (GraphBuilder or TFLiteBuilder), or "savedmodel" (a
    # GraphBuilder graph read as the SavedModel loader's IR: see graphlint.testing.savedmodel_view)
    example_format: ClassVar[str] = "graphdef"

    def check(self, model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]:
        """Yield findings for ``model``. Must not mutate the model or do I/O."""
        return ()

    def report(self, model: ModelGraph | None, node: str | None, message: str, *,
               tensor: TensorInfo | str | None = None,
               severity: Severity | None = None, targets: Iterable[str] | None = None,
               target_severity: Mapping[str, Severity] | None = None, fix: Fix | None = None,
               confidence: str = "certain", data: Mapping[str, Any] | None = None) -> Finding:
        """Build a finding of this rule at ``node`` (pylint's ``add_message``)."""
        attrs = model.nodes[node] if model is not None and node is not None and node in model.nodes else {}
        tensor_name = tensor.name if isinstance(tensor, TensorInfo) else tensor
        return Finding(
            code=self.code, rule=self.name, severity=severity or self.severity, message=message, node=node,
            op=attrs.get("op"), tensor=tensor_name,
            targets=tuple(t for t in TARGETS if t in set(targets)) if targets is not None else self.targets,
            target_severity=tuple(sorted((target_severity or {}).items())), fix=fix, confidence=confidence,
            data=tuple(sorted((data or {}).items())), subgraph=attrs.get("subgraph", 0),
            index=attrs.get("index", -1))

    @staticmethod
    def bad_example(b: Any) -> None:
        """Build a model that triggers this rule (``b`` is a :class:`graphlint.testing.GraphBuilder`, or a
        :class:`graphlint.testing.TFLiteBuilder` when ``example_format`` is ``"tflite"``)."""

    @staticmethod
    def good_example(b: Any) -> None:
        """Build the corrected model, which must not trigger this rule."""

    @classmethod
    def doc(cls) -> str:
        """The rule's documentation (its docstring, dedented)."""
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def meta(cls) -> dict[str, Any]:
        """Metadata as JSON (for ``graphlint rules --format json`` and ``GET /v1/rules``)."""
        return {
            "code": cls.code, "name": cls.name, "summary": cls.summary, "category": cls.category.value,
            "severity": cls.severity.value, "formats": sorted(cls.formats), "targets": list(cls.targets),
            "fix": cls.fix_availability, "status": cls.status, "since": cls.since,
        }
