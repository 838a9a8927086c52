"""The blob store: models by SHA-256 in a data dir or a shared directory, and ``graphlint gc`` on the latter."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphlint.api.blobs import STALE_TMP_S, BlobStore


def _put(blobs: BlobStore, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    tmp = blobs.tmp / "upload"
    tmp.write_bytes(data)
    blobs.put(sha, tmp)
    return sha


def test_models_by_sha256_in_the_data_dir_layout(tmp_path):
    blobs = BlobStore.in_dir(tmp_path)
    sha = _put(blobs, b"model bytes")
    assert (tmp_path / "models" / sha[:2] / sha).read_bytes() == b"model bytes"  # the layout servers already use
    assert blobs.jobs == tmp_path / "jobs" and blobs.tmp == tmp_path / "tmp"
    assert blobs.exists(sha) and blobs.size(sha) == len(b"model bytes")
    with blobs.open(sha) as handle:
        assert handle.read() == b"model bytes"
    assert blobs.delete(sha) and not blobs.exists(sha) and blobs.size(sha) is None
    assert not blobs.delete(sha) and blobs.get(sha) is None
    with pytest.raises(FileNotFoundError):
        blobs.open(sha).__enter__()
    for bad in ("../../etc/passwd", "A" * 64, ""):
        assert not blobs.exists(bad) and blobs.get(bad) is None and not blobs.delete(bad)
        with pytest.raises(ValueError):
            blobs.path(bad)


def test_a_shared_store_keeps_other_processes_uploads(tmp_path):
    local, shared = BlobStore.in_dir(tmp_path / "local"), BlobStore.in_dir(tmp_path / "shared", shared=True)
    for blobs in (local, shared):
        (blobs.tmp / "fresh").write_bytes(b"x")
        old = blobs.tmp / "old"
        old.mkdir()
        os.utime(old, (time.time() - STALE_TMP_S - 60,) * 2)
        blobs.clean_tmp()
    assert sorted(p.name for p in local.tmp.iterdir()) == []
    assert sorted(p.name for p in shared.tmp.iterdir()) == ["fresh"]  # another replica may be receiving it


def test_gc_collects_a_shared_blob_store(tmp_path):
    blobs = BlobStore.in_dir(tmp_path / "shared", shared=True)
    sha = _put(blobs, b"m" * 4096)
    old = time.time() - 10 * 86400
    os.utime(blobs.path(sha), (old, old))
    env = {**os.environ, "GRAPHLINT_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'graphlint.db'}"}
    run = subprocess.run([sys.executable, "-m", "graphlint", "gc", "--data-dir", str(tmp_path / "data"),
                          "--blob-store", str(tmp_path / "shared"), "--store-max-age-days", "1"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "evicted 1 model(s)" in run.stdout and not blobs.exists(sha)
    assert not Path(tmp_path / "data" / "models").exists()
