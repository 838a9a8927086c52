"""The rule engine, and the rule API in one import::

    from graphlint.engine import Category, Finding, Fix, Rule, RuleContext, Severity

A rule subclasses :class:`Rule`, sets its metadata and yields findings from ``check(model, ctx)`` through
:meth:`Rule.report`; ``scripts/new_rule.py`` writes the skeleton of one, with its test.
"""

from __future__ import annotations

from .finding import Applicability, Finding, Fix, Severity
from .rule import Category, Rule, RuleContext
from .targets import REGISTRY as TARGET_REGISTRY

__all__ = ["TARGET_REGISTRY", "Applicability", "Category", "Finding", "Fix", "Rule", "RuleContext", "Severity"]
