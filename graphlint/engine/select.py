"""Which rules run and how their findings are filtered: select / ignore by code, prefix or name (the most
specific match wins, as in flake8's DecisionEngine), per-rule severity overrides and per-node ignores."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping, Sequence

from .codes import canonical
from .finding import Finding, Severity
from .rule import Rule


@dataclasses.dataclass(frozen=True)
class Selection:
    """The user's choices about rules; built from config files and the command line."""

    select: tuple[str, ...] = ()  # codes, prefixes or names; empty = every stable rule
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    preview: bool = False  # also run preview rules
    severity: Mapping[str, str] = dataclasses.field(default_factory=dict)  # code or name → severity
    per_node_ignores: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)  # glob → codes

    def _match(self, patterns: Sequence[str], rule: type[Rule]) -> int:
        """Length of the most specific pattern matching ``rule`` (names count as a full code), or -1."""
        best = -1
        for pattern in patterns:
            p = canonical(pattern)  # a redirected code selects the rule that replaced it
            if p.lower() == rule.name or p.upper() == rule.code:
                best = max(best, len(rule.code))
            elif p.upper() == "ALL" or (p and rule.code.startswith(p.upper())):
                best = max(best, 0 if p.upper() == "ALL" else len(p))
        return best

    def enabled(self, rule: type[Rule]) -> bool:
        """True when ``rule`` should run."""
        if rule.engine_emitted:
            return self._match(self.ignore, rule) < len(rule.code)
        selected = max(self._match(self.select or ("ALL",), rule), self._match(self.extend_select, rule))
        ignored = self._match(self.ignore, rule)
        if selected < 0 or ignored >= selected:
            return False
        if rule.status == "preview" and not self.preview:
            return selected == len(rule.code)  # preview rules run when named exactly
        return rule.status != "deprecated" or selected == len(rule.code)

    def apply(self, finding: Finding) -> Finding | None:
        """Apply per-node ignores and severity overrides to one finding (None = dropped)."""
        if finding.node is not None:
            for glob, codes in self.per_node_ignores.items():
                if fnmatch.fnmatchcase(finding.node, glob) and any(
                        finding.code.startswith(c.upper()) or c.lower() == finding.rule
                        for c in map(canonical, codes)):
                    return None
        override = self._severity_for(finding)
        if override:
            sev = Severity(override)
            return dataclasses.replace(finding, severity=sev,
                                       target_severity=tuple((t, sev) for t, _ in finding.target_severity))
        return finding

    def _severity_for(self, finding: Finding) -> str | None:
        """The severity the user set for ``finding``'s rule, by code or name (a merged code counts as its rule)."""
        by_rule = {canonical(key).upper(): level for key, level in self.severity.items()}
        return by_rule.get(finding.code) or by_rule.get(finding.rule.upper())
