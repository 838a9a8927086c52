"""The SavedModels of ``tests/loaders/savedmodel_models.py`` and the real converter's verdicts on them, cached.

Built once per TensorFlow version and builder version under the test cache (as ``tests/conftest.py`` caches the
frozen-graph models), in child processes: one for the build, then, when a test asks for the verdicts, one per
conversion, one at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import _cache_root, tensorflow_version

BUILDER = Path(__file__).parent / "savedmodel_models.py"
BUILDER_V1 = Path(__file__).parent / "savedmodel_v1_models.py"
JUDGED_V1 = {"v1_ref": ("float", "dynamic", "int8"), "v1_resource": ("float", "dynamic", "int8")}
JUDGED = {"cnn": ("float", "dynamic", "int8"), "mobilenet": ("float", "dynamic", "int8"),
          "lstm": ("float", "dynamic", "int8"), "lstm_b1": ("float", "dynamic", "int8")}
_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _run(builder: Path, args: list[str], what: str, timeout: float = 900) -> None:
    proc = subprocess.run([sys.executable, str(builder), *args], capture_output=True, text=True, timeout=timeout,
                          env=_ENV, cwd=Path(__file__).parents[2])
    if proc.returncode != 0:
        pytest.fail(f"{what} failed:\n{proc.stderr[-4000:]}", pytrace=False)


def _judge(root: Path, judged: dict) -> dict:
    found: dict = {}
    for model, targets in judged.items():
        for target in targets:
            out = root / f"judge.{model}.{target}.json"
            proc = subprocess.run([sys.executable, str(BUILDER), "judge", str(root / model), target, str(out)],
                                  capture_output=True, text=True, timeout=900, env=_ENV,
                                  cwd=Path(__file__).parents[2])
            if proc.returncode != 0:  # the converter process died: that is a failed conversion
                found.setdefault(model, {})[target] = {"actual": "fail", "stage": "crash",
                                                          "message": f"exit code {proc.returncode}"}
                continue
            found.setdefault(model, {})[target] = json.loads(out.read_text("utf-8"))
            out.unlink()
    return found


def build(builder: Path = BUILDER) -> Path:
    """The directory of built SavedModels, with ``facts.json`` (``builder``: this module's TF2 or TF1 builder)."""
    version = tensorflow_version()
    if version is None:
        pytest.skip("TensorFlow is not installed: these tests read SavedModels built by it (pip install -e .[test])")
    digest = hashlib.sha256(builder.read_bytes()).hexdigest()[:16]
    final = _cache_root() / version / f"savedmodels-{digest}"
    if (final / "facts.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-sm-", dir=final.parent))
    try:
        _run(builder, ["build", str(tmp)] if builder == BUILDER else [str(tmp)], "building the SavedModels")
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / "facts.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def verdicts(root: Path, judged: dict = JUDGED) -> dict:
    """What the real converter and LiteRT did with each model of ``judged`` (judged once, then cached)."""
    path = root / f"verdicts-{hashlib.sha256(json.dumps(judged).encode()).hexdigest()[:8]}.json"
    if not path.is_file():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_judge(root, judged), indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, path)
    return json.loads(path.read_text("utf-8"))
