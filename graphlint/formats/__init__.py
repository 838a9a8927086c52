"""Report renderers. Each takes the run's reports and returns text; none does I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from graphlint.report import Report


class Renderer(Protocol):
    """A format's ``render``: the run's reports to text. Options a format does not use (``registry``,
    ``color``) are accepted and ignored, so every format is called the same way."""

    def __call__(self, reports: Sequence[Report], **options: Any) -> str: ...


def renderer(name: str) -> Renderer:
    """The render function of format ``name``."""
    from . import github, json, junit, sarif, text

    renderers: dict[str, Renderer] = {"text": text.render, "json": json.render, "sarif": sarif.render,
                                      "junit": junit.render, "github": github.render}
    return renderers[name]


FORMATS = ("text", "json", "sarif", "junit", "github")
__all__ = ["FORMATS", "Renderer", "renderer"]
