"""GL901 rule-pack-broken."""

from graphlint.engine.finding import Severity
from graphlint.engine.rule import Category, Rule


class RulePackBroken(Rule):
    """## What it does
    Reports a rule pack (an entry point in the `graphlint.rules` group) that failed to import or to
    validate: a code outside its prefix, a duplicate code or name, a retired code.

    ## Why is this bad?
    None of that pack's rules ran.

    ## Example
    A pack registered as `XY = "my_pack:collect"` whose module raises `ImportError`.

    ## How to fix
    Reinstall or fix the pack; `graphlint rules` shows the error.
    """

    code = "GL901"
    name = "rule-pack-broken"
    summary = "A rule pack failed to load; its rules did not run"
    category = Category.INTERNAL
    severity = Severity.WARNING
    engine_emitted = True
