"""The rule engine, and the rule API in one import::

    from graphlint.engine import Category, Finding, Fix, ModelGraph, Rule, RuleContext, Severity

A rule subclasses :class:`Rule`, sets its metadata and yields findings from
``check(model: ModelGraph, ctx: RuleContext) -> Iterable[Finding]`` through :meth:`Rule.report`;
``scripts/new_rule.py`` writes the skeleton of one, with its test. Fixes carry :class:`Edit` values.
"""

from __future__ import annotations

from graphlint.ir import ModelGraph

from .edits import Edit
from .finding import Applicability, Finding, Fix, Severity
from .rule import Category, Rule, RuleContext
from .targets import REGISTRY as TARGET_REGISTRY

__all__ = ["TARGET_REGISTRY", "Applicability", "Category", "Edit", "Finding", "Fix", "ModelGraph", "Rule",
           "RuleContext", "Severity"]
