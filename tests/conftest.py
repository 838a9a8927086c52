"""Session fixtures shared by all tests: models built by the real TensorFlow, cached on disk.

``tf_models`` runs ``tests/loaders/tf_models.py`` once in a child process, so this process never imports
TensorFlow, and keeps the files under ``~/.cache/graphlint-tests/<TensorFlow version>/<builder hash>/``
(``$GRAPHLINT_TEST_CACHE`` or ``$XDG_CACHE_HOME`` move it). A later run finds the files there and starts no
TensorFlow at all; editing the builder or upgrading TensorFlow builds a fresh set. Tests that use the fixture
are marked ``@pytest.mark.tf`` and are skipped when TensorFlow is not installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

BUILDER = Path(__file__).parent / "loaders" / "tf_models.py"
_BUILD_LOG: list[str] = []


def tensorflow_version() -> str | None:
    """The installed TensorFlow version, found without importing it (None when it is not installed)."""
    if importlib.util.find_spec("tensorflow") is None:
        return None
    for dist in ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tf-nightly", "tf-nightly-cpu"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def _cache_root() -> Path:
    if os.environ.get("GRAPHLINT_TEST_CACHE"):
        return Path(os.environ["GRAPHLINT_TEST_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "graphlint-tests"


@dataclasses.dataclass(frozen=True)
class TFModels:
    """The directory of built models and what TensorFlow said about them."""

    root: Path
    weights: dict  # name -> numpy array, as frozen into the models
    facts: dict  # GraphDef file -> tensor name -> {"dtype", "shape"} from TensorFlow's shape inference
    tensorflow: str

    def __truediv__(self, name: str) -> Path:
        return self.root / name


def _build(version: str) -> Path:
    digest = hashlib.sha256(BUILDER.read_bytes()).hexdigest()[:16]
    final = _cache_root() / version / digest
    if (final / "manifest.json").is_file():
        _BUILD_LOG.append(f"TensorFlow test models: cached in {final}")
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    start = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    try:
        proc = subprocess.run([sys.executable, str(BUILDER), str(tmp)], capture_output=True, text=True,
                              timeout=900, env=env)
        if proc.returncode != 0:
            pytest.fail(f"building the TensorFlow test models failed:\n{proc.stderr[-4000:]}", pytrace=False)
        try:
            os.replace(tmp, final)  # atomic: a concurrent run either sees all the files or none
        except OSError:
            if not (final / "manifest.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _BUILD_LOG.append(f"TensorFlow test models: built in {time.perf_counter() - start:.1f}s into {final}")
    return final


@pytest.fixture(scope="session")
def tf_models() -> TFModels:
    """Models written by TensorFlow's own freezing and TFLite converter (see tests/loaders/tf_models.py)."""
    version = tensorflow_version()
    if version is None:
        pytest.skip("TensorFlow is not installed: these tests read models built by it (pip install -e .[test])")
    root = _build(version)
    import numpy as np

    with np.load(root / "weights.npz") as npz:
        weights = {k: npz[k] for k in npz.files}
    facts = json.loads((root / "facts.json").read_text("utf-8"))
    return TFModels(root=root, weights=weights, facts=facts, tensorflow=version)


KERAS_BUILDER = Path(__file__).parent / "convert" / "keras_models.py"


def build_cached(builder: Path, prefix: str, *, sources: Sequence[Path] = (), timeout: float = 900,
                 cwd: Path | None = None) -> Path:
    """Run ``builder OUT`` once per TensorFlow version and version of ``builder`` and ``sources``, into the test
    cache (built aside, then renamed into place); the directory. Skips the test when TensorFlow is not
    installed, fails it with the builder's stderr when the build fails."""
    version = tensorflow_version()
    if version is None:
        pytest.skip("TensorFlow is not installed: these tests read models built by it (pip install -e .[test])")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in (builder, *sources))).hexdigest()[:16]
    final = _cache_root() / version / f"{prefix}-{digest}"
    if (final / "manifest.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    try:
        proc = subprocess.run([sys.executable, str(builder), str(tmp)], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=cwd)
        if proc.returncode != 0:
            pytest.fail(f"{builder.name} failed:\n{proc.stderr[-4000:]}", pytrace=False)
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / "manifest.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


@pytest.fixture(scope="session")
def keras_models() -> Path:
    """The Keras files of tests/convert/keras_models.py and the SavedModel they trace into (cached)."""
    return build_cached(KERAS_BUILDER, "keras")


def pytest_terminal_summary(terminalreporter) -> None:
    for line in _BUILD_LOG:
        terminalreporter.write_line(line)
