"""Find rule packs through the ``graphlint.rules`` entry-point group, validate them, and keep going when
one is broken (it becomes a :class:`BrokenPack`, shown by ``graphlint rules`` and the API).

A pack is an entry point whose name is the code prefix it owns (``GL = "graphlint_rules:collect"``) and
whose object is a callable returning rule classes, as flake8 does with its plugins.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import metadata

from .codes import DELETED_CODES
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
        """Look a rule up by code (any case) or by name."""
        key = code_or_name.strip()
        for rule in self.rules:
            if rule.code == key.upper() or rule.name == key.lower():
                return rule
        return None


def _validate(prefix: str, rules: list, seen_codes: dict, seen_names: dict) -> str | None:
    for rule in rules:
        if not (isinstance(rule, type) and issubclass(rule, Rule)):
            return f"{rule!r} is not a Rule subclass"
        code, name = getattr(rule, "code", ""), getattr(rule, "name", "")
        if not CODE_RE.match(code):
            return f"{rule.__name__}: code {code!r} is not a prefix of 2-4 capitals and 3 digits"
        if not (code.startswith(prefix) and code[len(prefix):].isdigit()):
            return f"{rule.__name__}: code {code} is outside the pack's prefix {prefix}"
        if code in DELETED_CODES:
            return f"{rule.__name__}: code {code} was retired and cannot be reused"
        if not NAME_RE.match(name):
            return f"{rule.__name__}: name {name!r} is not kebab-case"
        if code in seen_codes or name in seen_names:
            return f"{rule.__name__}: {code} / {name} is already registered"
    return None


def load_packs(entry_points=None) -> Registry:
    """Load every pack in the entry-point group."""
    if entry_points is None:
        entry_points = metadata.entry_points(group=GROUP)
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
        # Running from a source tree that was never installed: the built-in pack is still importable.
        try:
            import graphlint_rules

            pack = list(graphlint_rules.collect())
            if not _validate("GL", pack, seen_codes, seen_names):
                rules.extend(pack)
        except ImportError as err:
            broken.append(BrokenPack("GL", "graphlint_rules:collect", f"ImportError: {err}"))
    return Registry(tuple(sorted(rules, key=lambda r: r.code)), tuple(broken))


@cache
def default_registry() -> Registry:
    """The registry of installed packs, loaded once per process."""
    return load_packs()
