"""graphlint: a pre-flight check for TensorFlow models going to TFLite.

Public API: :func:`load`, :func:`lint` and ``__version__``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine.options import LintOptions
    from .ir import ModelGraph
    from .report import Report

__version__ = "0.1.0"
__all__ = ["__version__", "lint", "load"]


def load(source: str | os.PathLike[str] | bytes, **kwargs: Any) -> ModelGraph:
    """Load a ``.pb``, ``.pbtxt`` or ``.tflite`` model into the IR (see :func:`graphlint.loaders.load`)."""
    from .loaders import load as _load

    return _load(source, **kwargs)


def lint(source: str | os.PathLike[str] | bytes | ModelGraph, options: LintOptions | None = None,
         **kwargs: Any) -> Report:
    """Lint a model with ``options`` (:class:`graphlint.engine.options.LintOptions`) or their fields as keywords
    (see :func:`graphlint.engine.runner.lint`)."""
    from .engine.runner import lint as _lint

    return _lint(source, options, **kwargs)
