"""Fixtures of the fix-and-convert tests: models built by TensorFlow in a child process, and one warm pool."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import _cache_root, tensorflow_version

BUILDER = Path(__file__).parent / "models.py"


@pytest.fixture(scope="session")
def convert_models() -> Path:
    """Directory of the graphs built by tests/convert/models.py (cached by TensorFlow version and builder hash)."""
    version = tensorflow_version()
    if version is None:
        pytest.skip("TensorFlow is not installed: these tests build models with it (pip install -e .[test])")
    final = _cache_root() / version / ("convert-" + hashlib.sha256(BUILDER.read_bytes()).hexdigest()[:16])
    if (final / "manifest.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    try:
        proc = subprocess.run([sys.executable, str(BUILDER), str(tmp)], capture_output=True, text=True, timeout=900,
                              env=env)
        if proc.returncode != 0:
            pytest.fail(f"building the convert test models failed:\n{proc.stderr[-4000:]}", pytrace=False)
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / "manifest.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


@pytest.fixture(scope="session")
def pool():
    """One warm worker pool for the session (TensorFlow is imported once, in its worker)."""
    if tensorflow_version() is None:
        pytest.skip("the converter tests need tensorflow-cpu (pip install -e '.[test]')")
    from graphlint.convert.pool import WorkerPool

    workers = WorkerPool(size=1, timeout=300)
    yield workers
    workers.close()
