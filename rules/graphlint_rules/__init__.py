"""graphlint's built-in rule pack (codes ``GL``).

Registered through the ``graphlint.rules`` entry point like any third-party pack. Adding a rule is adding
one file ``<category>/glNNN_<snake_name>.py``: :func:`collect` walks the package.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from graphlint.engine.rule import Rule

_RULE_MODULE = re.compile(r"^gl\d{3}_\w+$")


def collect() -> list[type[Rule]]:
    """Import every rule module of the pack and return its rule classes, sorted by code."""
    found: list[type[Rule]] = []
    for info in sorted(pkgutil.walk_packages(__path__, __name__ + "."), key=lambda i: i.name):
        if not _RULE_MODULE.match(info.name.rsplit(".", 1)[-1]):
            continue
        module = importlib.import_module(info.name)
        found.extend(obj for _, obj in inspect.getmembers(module, inspect.isclass)
                     if issubclass(obj, Rule) and obj.__module__ == module.__name__ and hasattr(obj, "code"))
    return sorted(found, key=lambda r: r.code)
