"""What a lint run depends on besides the model: :class:`LintOptions`, the one type the command line, the config
file, the API and the HTTP client build, validated when it is made.

The config file gives a :class:`LintOptions`, the command line lays its flags over it (:meth:`LintOptions.override`),
the client sends one as query parameters (:meth:`LintOptions.to_query`) and the API reads them back
(:meth:`LintOptions.from_query`); the runner, the service's lint workers and the report cache read its fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from graphlint.ir import Shape

from .finding import Severity
from .select import Selection
from .targets import DEFAULT_TARGETS, TARGETS, check_targets

_TRUE = frozenset({"1", "true", "yes", "on"})


class OptionsError(ValueError):
    """A lint option is invalid; ``str(err)`` is one line that names the option and the value."""


def parse_io(specs: Sequence[str]) -> tuple[tuple[str, ...], dict[str, Shape]]:
    """Split ``NAME[:SHAPE]`` specs into names and shapes.

    SHAPE is comma- or ``x``-separated dims, optionally in brackets; ``?``, ``-1`` or ``None`` is an unknown dim
    and ``[]`` a scalar. ``NAME:0`` (a bare number) is a tensor slot, not a shape; write ``NAME:5,`` for a
    one-dimensional shape.

    Raises:
        ValueError: a dim is not an integer or an unknown marker.
    """
    names: list[str] = []
    shapes: dict[str, Shape] = {}
    for spec in specs:
        name, sep, rest = spec.rpartition(":")
        if not sep or rest.isdigit() or not name:
            names.append(spec)
            continue
        shapes[name] = _dims(name, rest)
        names.append(name)
    return tuple(names), shapes


def _dims(name: str, rest: str) -> tuple[int | None, ...]:
    dims: list[int | None] = []
    for part in (p.strip() for p in rest.strip().strip("[]()").replace("x", ",").split(",")):
        if not part:
            continue
        if part in ("?", "-1", "None", "none"):
            dims.append(None)
        elif part.isdigit():
            dims.append(int(part))
        else:
            raise ValueError(f"bad shape `{rest}` for `{name}`: dims are integers or ?")
    return tuple(dims)


def split_csv(values: Iterable[str] | None) -> tuple[str, ...]:
    """Repeatable and comma-separated values, flattened (``-t float,int8 -t tflm``), blanks dropped."""
    return tuple(v.strip() for item in values or () for v in item.split(",") if v.strip())


@dataclasses.dataclass(frozen=True)
class LintOptions:
    """The targets, the model's inputs and outputs, and the choice of rules; checked when made.

    Raises:
        OptionsError: (on construction) an unknown target, a bad input shape, a bad severity or per-node ignore.
    """

    targets: tuple[str, ...] = DEFAULT_TARGETS  # in the registry's order, whatever order they were given in
    inputs: tuple[str, ...] = ()  # NAME[:SHAPE]
    outputs: tuple[str, ...] = ()
    selection: Selection = dataclasses.field(default_factory=Selection)

    def __post_init__(self) -> None:
        try:
            chosen = set(check_targets(list(self.targets or DEFAULT_TARGETS)))
            parse_io(self.inputs)
        except ValueError as err:
            raise OptionsError(str(err)) from None
        object.__setattr__(self, "targets", tuple(t for t in TARGETS if t in chosen))
        object.__setattr__(self, "inputs", tuple(v for v in self.inputs if v))
        object.__setattr__(self, "outputs", tuple(v for v in self.outputs if v))
        _check_selection(self.selection)

    @property
    def input_names(self) -> tuple[str, ...]:
        return parse_io(self.inputs)[0]

    @property
    def input_shapes(self) -> dict[str, Shape]:
        return parse_io(self.inputs)[1]

    def override(self, *, targets: Sequence[str] = (), inputs: Sequence[str] = (), outputs: Sequence[str] = (),
                 select: Sequence[str] = (), ignore: Sequence[str] = (), extend_select: Sequence[str] = (),
                 preview: bool = False) -> LintOptions:
        """These options with the command line's on top: targets, inputs, outputs and ``select`` replace when
        given, ``ignore`` and ``extend_select`` add to the file's, ``preview`` turns preview rules on."""
        s = self.selection
        selection = dataclasses.replace(s, select=tuple(select) or s.select, ignore=s.ignore + tuple(ignore),
                                        extend_select=s.extend_select + tuple(extend_select),
                                        preview=preview or s.preview)
        return LintOptions(targets=tuple(targets) or self.targets, inputs=tuple(inputs) or self.inputs,
                           outputs=tuple(outputs) or self.outputs, selection=selection)

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON values, in a fixed layout: part of a stored report's content address."""
        s = self.selection
        return {"targets": list(self.targets), "inputs": list(self.inputs), "outputs": list(self.outputs),
                "select": list(s.select), "ignore": list(s.ignore), "extend_select": list(s.extend_select),
                "preview": s.preview, "severity": [[k, v] for k, v in s.severity.items()],
                "per_node_ignores": [[glob, list(codes)] for glob, codes in s.per_node_ignores.items()]}

    def to_query(self) -> list[tuple[str, str]]:
        """The options as the query parameters of ``POST /v1/reports`` (what :meth:`from_query` reads)."""
        s = self.selection
        params = [("target", t) for t in self.targets] + [("input", i) for i in self.inputs]
        params += [("output", o) for o in self.outputs] + [("select", v) for v in s.select]
        params += [("ignore", v) for v in s.ignore] + [("extend_select", v) for v in s.extend_select]
        params += [("severity", f"{k}={v}") for k, v in s.severity.items()]
        params += [("per_node_ignore", f"{g}={','.join(c)}") for g, c in s.per_node_ignores.items()]
        return params + ([("preview", "true")] if s.preview else [])

    @classmethod
    def from_query(cls, params: Mapping[str, Sequence[str]]) -> LintOptions:
        """Options from query parameters or form fields, each name repeatable and its values comma-separated
        (``target``, ``select``, ``ignore``, ``extend_select``), ``KEY=VALUE`` (``severity``) or
        ``GLOB=CODE,CODE`` (``per_node_ignore``); ``input`` and ``output`` are taken whole.

        Raises:
            OptionsError: the first bad value.
        """
        severity = dict(_pairs(params.get("severity"), "severity"))
        per_node = {glob: split_csv([codes]) for glob, codes in _pairs(params.get("per_node_ignore"),
                                                                          "per_node_ignore")}
        selection = Selection(select=split_csv(params.get("select")), ignore=split_csv(params.get("ignore")),
                              extend_select=split_csv(params.get("extend_select")),
                              preview=any(v.lower() in _TRUE for v in params.get("preview", ())),
                              severity=severity, per_node_ignores=per_node)
        return cls(targets=split_csv(params.get("target")), inputs=tuple(params.get("input", ())),
                   outputs=tuple(params.get("output", ())), selection=selection)


def _pairs(values: Sequence[str] | None, what: str) -> list[tuple[str, str]]:
    out = []
    for value in values or ():
        key, sep, rest = value.rpartition("=")
        if not sep or not key.strip() or not rest.strip():
            raise OptionsError(f"`{what}` takes KEY=VALUE, got `{value[:100]}`")
        out.append((key.strip(), rest.strip()))
    return out


def _check_selection(selection: Selection) -> None:
    levels = {s.value for s in Severity}
    for key, level in selection.severity.items():
        if not isinstance(key, str) or level not in levels:
            raise OptionsError(f"severity must be one of {', '.join(sorted(levels))}, got `{str(level)[:100]}`")
    for glob, codes in selection.per_node_ignores.items():
        if not isinstance(glob, str) or isinstance(codes, str) or not all(isinstance(c, str) for c in codes):
            raise OptionsError("per-node ignores map node-name globs to lists of codes")
