"""Report renderers. Each takes the run's reports and returns text; none does I/O."""

from __future__ import annotations

from collections.abc import Callable


def renderer(name: str) -> Callable[..., str]:
    """The render function of format ``name``."""
    from . import github, json, junit, sarif, text

    return {"text": text.render, "json": json.render, "sarif": sarif.render, "junit": junit.render,
            "github": github.render}[name]


FORMATS = ("text", "json", "sarif", "junit", "github")
__all__ = ["FORMATS", "renderer"]
