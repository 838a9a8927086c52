"""Trace a Keras file (``.keras`` or ``.h5``) into a SavedModel, in a conversion worker.

TensorFlow and Keras read the file in the worker (:mod:`graphlint.convert.worker`, job kind ``keras``), which
writes the SavedModel with ``model.export``: the graph ``TFLiteConverter.from_saved_model`` converts. This module
never imports TensorFlow; without it installed, tracing is refused in one line that names the extra to install.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

from graphlint.loaders import LoadError

from .verify import INSTALL_HINT

if TYPE_CHECKING:
    from .pool import WorkerPool

SUFFIX = {"keras": ".keras", "keras-h5": ".h5"}  # Keras chooses its reader by the file's suffix


@dataclasses.dataclass
class Traced:
    """A SavedModel traced from a Keras file, in a temporary directory removed by :meth:`close`."""

    root: str  # the SavedModel directory
    layers: tuple[str, ...]  # the Keras layer names, outermost first
    _tmp: tempfile.TemporaryDirectory[str]

    def close(self) -> None:
        self._tmp.cleanup()


def tensorflow_missing(path: str) -> str | None:
    """The one-line refusal when TensorFlow is not installed (found, not imported); None when it is."""
    try:
        found = importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    return (f"{path}: a Keras file is read by TensorFlow, which is not installed; install the convert extra: "
            f"{INSTALL_HINT}")


def _place(source: str | os.PathLike[str] | bytes, target: str) -> None:
    if isinstance(source, (bytes, bytearray, memoryview)):
        with open(target, "wb") as fh:
            fh.write(source)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def trace(source: str | os.PathLike[str] | bytes, kind: str, path: str, pool: WorkerPool | None = None) -> Traced:
    """Trace the Keras file ``source`` (a path or its bytes; ``kind`` ``keras`` or ``keras-h5``; reported as
    ``path``) into a SavedModel in a conversion worker.

    Raises:
        LoadError: TensorFlow is not installed, Keras cannot read or export the file, or the worker failed.
    """
    problem = tensorflow_missing(path)
    if problem:
        raise LoadError(problem, "unsupported")
    from .pool import default_pool

    tmp = tempfile.TemporaryDirectory(prefix="graphlint-keras-")
    try:
        model = os.path.join(tmp.name, "model" + SUFFIX[kind])
        _place(source, model)
        out = os.path.join(tmp.name, "saved_model")
        result = (pool or default_pool()).run({"kind": "keras", "model": model, "out": out})
        if result.get("status") != "ok":
            error = result.get("error") or {}
            message = str(error.get("message") or "the conversion worker failed").splitlines()[0]
            raise LoadError(f"{path}: {message}", "unreadable")
        return Traced(root=out, layers=tuple(result.get("layers") or ()), _tmp=tmp)
    except BaseException:
        tmp.cleanup()
        raise
