"""Find rule packs through the ``graphlint.rules`` entry-point group, validate them, and keep going when
one is broken (it becomes a :class:`BrokenPack`, shown by ``graphlint rules`` and the API).

A pack is an entry point whose name is the code prefix it owns (``GL = "graphlint_rules:collect"``) and
whose object is a callable returning rule classes, as flake8 does with its plugins.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import sys
from collections.abc import Sequence
from functools import cache
from typing import Any

from .codes import DELETED_CODES, REDIRECTS, canonical
from .rule import CODE_RE, NAME_RE, Rule

GROUP = "graphlint.rules"


@dataclasses.dataclass(frozen=True)
class BrokenPack:
    """A pack that could not be loaded or failed validation."""

    name: str  # entry-point name (its code prefix)
    value: str  # "module:attr"
    error: str  # one line


@dataclasses.dataclass(frozen=True)
class Registry:
    """Every valid rule, sorted by code, and the packs that failed."""

    rules: tuple[type[Rule], ...]
    broken: tuple[BrokenPack, ...] = ()

    def by_code(self) -> dict[str, type[Rule]]:
        """Map code → rule class."""
        return {r.code: r for r in self.rules}

    def find(self, code_or_name: str) -> type[Rule] | None:
        """Look a rule up by code (any case) or by name; a merged or renamed code finds the rule that replaced
        it (:data:`graphlint.engine.codes.REDIRECTS`)."""
        key = canonical(code_or_name)
        for rule in self.rules:
            if rule.code == key.upper() or rule.name == key.lower():
                return rule
        return None


def _validate(prefix: str, rules: list[Any], seen_codes: dict[str, str], seen_names: dict[str, str]) -> str | None:
    for rule in rules:
        if not (isinstance(rule, type) and issubclass(rule, Rule)):
            return f"{rule!r} is not a Rule subclass"
        code, name = getattr(rule, "code", ""), getattr(rule, "name", "")
        if not CODE_RE.match(code):
            return f"{rule.__name__}: code {code!r} is not a prefix of 2-4 capitals and 3 digits"
        if not (code.startswith(prefix) and code[len(prefix):].isdigit()):
            return f"{rule.__name__}: code {code} is outside the pack's prefix {prefix}"
        if code in DELETED_CODES or code in REDIRECTS or name in REDIRECTS:
            return f"{rule.__name__}: code {code} / name {name} was retired and cannot be reused"
        if not NAME_RE.match(name):
            return f"{rule.__name__}: name {name!r} is not kebab-case"
        if code in seen_codes or name in seen_names:
            return f"{rule.__name__}: {code} / {name} is already registered"
    return None


@dataclasses.dataclass(frozen=True)
class EntryPoint:
    """An entry point as ``importlib.metadata`` gives it: ``name``, ``value`` (``module:attr``) and ``load()``."""

    name: str
    value: str
    group: str = GROUP

    def load(self) -> Any:
        """Import the module and return the object the value names."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"entry point value {self.value!r} is not `module:attr`")
        obj = importlib.import_module(match["module"])
        for part in match["attr"].split(".") if match["attr"] else ():
            obj = getattr(obj, part)
        return obj


_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


def find_entry_points(group: str = GROUP) -> list[Any]:
    """The entry points of ``group`` of every installed distribution, as ``importlib.metadata`` finds them.

    Importing ``importlib.metadata`` (it pulls in the ``email`` package) and letting it index every
    distribution takes longer than linting a typical model, so the common layout is read directly: the
    ``*.dist-info`` / ``*.egg-info`` folders of each ``sys.path`` directory, the first distribution of a
    name winning, each one's ``entry_points.txt``. A ``sys.path`` entry that is not a directory (a zip
    file, an egg) hands the whole search to ``importlib.metadata``.
    """
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for entry in sys.path:
        root = entry or "."
        try:
            children = os.listdir(root)
        except NotADirectoryError:
            return _metadata_entry_points(group)
        except OSError:
            continue
        if root.lower().endswith(".egg"):
            return _metadata_entry_points(group)
        for child in children:
            low = child.lower()
            if not low.endswith((".dist-info", ".egg-info")):
                continue
            dist = re.sub(r"[-_.]+", "_", low.rpartition(".")[0].partition("-")[0])
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(root, child, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            found.extend(EntryPoint(name, value, group) for name, value in _section(text, group))
    return found


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of one section of an ``entry_points.txt`` (``[group]``, ``name = value``, ``#``)."""
    pairs = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs


def _metadata_entry_points(group: str) -> list[Any]:
    from importlib import metadata

    return list(metadata.entry_points(group=group))


def load_packs(entry_points: Sequence[Any] | None = None) -> Registry:
    """Load every pack in the entry-point group (``entry_points``: default, every installed one)."""
    if entry_points is None:
        entry_points = find_entry_points(GROUP)
    rules: list[type[Rule]] = []
    broken: list[BrokenPack] = []
    seen_codes: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    found_builtin = False
    # The built-in pack first, so a third-party pack cannot take its codes; then by name, for determinism.
    for ep in sorted(entry_points, key=lambda e: (not e.value.startswith("graphlint_rules:"), e.name, e.value)):
        found_builtin |= ep.name == "GL" and ep.value.startswith("graphlint_rules")
        try:
            pack = list(ep.load()())
        except Exception as err:  # noqa: BLE001 - a broken third-party pack must not stop the linter
            broken.append(BrokenPack(ep.name, ep.value, f"{type(err).__name__}: {err}".splitlines()[0]))
            continue
        problem = _validate(ep.name, pack, seen_codes, seen_names)
        if problem:
            broken.append(BrokenPack(ep.name, ep.value, problem))
            continue
        for rule in pack:
            seen_codes[rule.code] = seen_names[rule.name] = ep.name
        rules.extend(pack)
    if not found_builtin:
        broken.append(BrokenPack("GL", "graphlint_rules:collect", "the built-in rule pack is not installed "
                                 "(its `graphlint.rules` entry point is missing): pip install graphlint"))
    return Registry(tuple(sorted(rules, key=lambda r: r.code)), tuple(broken))


@cache
def default_registry() -> Registry:
    """The registry of installed packs, loaded once per process."""
    return load_packs()
