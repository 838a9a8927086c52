"""GL900 rule-crashed."""

from graphlint.engine.finding import Severity
from graphlint.engine.rule import Category, Rule


class RuleCrashed(Rule):
    """## What it does
    Reports a rule that raised an exception on this model. The other rules still ran.

    ## Why is this bad?
    The crashed rule's checks are missing from the report, so a problem it looks for may go unreported.

    ## Example
    A third-party rule that assumes every tensor has a known shape.

    ## How to fix
    Report it to the rule's authors with the traceback in the finding's `data`. Meanwhile
    `--ignore <code>` silences the rule.
    """

    code = "GL900"
    name = "rule-crashed"
    summary = "A rule raised an exception; its checks are missing from this report"
    category = Category.INTERNAL
    severity = Severity.WARNING
    engine_emitted = True
