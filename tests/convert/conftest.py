"""Fixtures of the fix-and-convert tests: models built by TensorFlow in a child process, and one warm pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import build_cached, tensorflow_version

BUILDER = Path(__file__).parent / "models.py"


@pytest.fixture(scope="session")
def convert_models() -> Path:
    """Directory of the graphs built by tests/convert/models.py (cached by TensorFlow version and builder hash)."""
    return build_cached(BUILDER, "convert")


@pytest.fixture(scope="session")
def pool():
    """One warm worker pool for the session (TensorFlow is imported once, in its worker)."""
    if tensorflow_version() is None:
        pytest.skip("the converter tests need tensorflow-cpu (pip install -e '.[test]')")
    from graphlint.convert.pool import WorkerPool

    workers = WorkerPool(size=1, timeout=300)
    yield workers
    workers.close()
