"""Model store retention: a size cap and an age limit evict the least recently used model files, reports stay;
``graphlint gc``; store-size metrics."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from graphlint.api.retention import DAY_S, Retention
from graphlint.api.store import BlobStore

from .conftest import graphdef, upload


def _put(blobs: BlobStore, data: bytes, age_s: float) -> Path:
    sha = hashlib.sha256(data).hexdigest()
    tmp = blobs.tmp / sha
    tmp.write_bytes(data)
    path = blobs.put(sha, tmp)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_size_cap_evicts_least_recently_used_first(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    paths = [_put(blobs, bytes([i]) * 1000, age_s=3600 * (10 - i)) for i in range(6)]  # paths[0] is the oldest
    blobs.get(hashlib.sha256(bytes([1]) * 1000).hexdigest())  # used just now: the last to go
    fresh = _put(blobs, b"f" * 1000, age_s=0)  # within the grace period
    done = Retention(blobs, max_bytes=3500).collect()
    assert (done.evicted, done.freed, done.models, done.bytes) == (4, 4000, 3, 3000)
    assert [p.exists() for p in paths] == [False, True, False, False, False, True]
    assert fresh.exists()
    assert list(blobs.tmp.iterdir()) == []  # nothing left aside


def test_recent_models_are_never_evicted_for_size(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    paths = [_put(blobs, bytes([i]) * 1000, age_s=10) for i in range(3)]
    assert Retention(blobs, max_bytes=100, grace_s=300).collect().evicted == 0
    assert all(p.exists() for p in paths)


def test_age_limit_and_dry_run(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    old = _put(blobs, b"o" * 10, age_s=3 * DAY_S)
    new = _put(blobs, b"n" * 10, age_s=DAY_S / 2)
    retention = Retention(blobs, max_age_s=DAY_S)
    assert retention.collect(dry_run=True).evicted == 1 and old.exists()
    assert retention.collect().evicted == 1
    assert not old.exists() and new.exists()


def test_a_model_used_after_it_was_chosen_stays(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    path = _put(blobs, b"x" * 10, age_s=3 * DAY_S)
    retention = Retention(blobs, max_age_s=DAY_S)
    (entry,) = retention._victims(retention._scan(), time.time())
    blobs.get(path.name)  # a job reads it between the choice and the eviction
    assert retention._evict(entry) is False and path.exists()


def _evictions(c) -> float:
    for line in c.get("/metrics").text.splitlines():
        if line.startswith("graphlint_store_evictions_total "):
            return float(line.split()[1])
    return 0.0


def test_server_evicts_models_over_its_cap_and_keeps_reports(make_server, tmp_path):
    data_dir = tmp_path / "data"
    server = make_server("--store-max-mb", "0.0004", data_dir=data_dir)  # 419 bytes: two of these models
    models = [graphdef(i) for i in range(3)]
    with server.client() as c:
        ids = [upload(c, m, output="y").json()["id"] for m in models[:2]]
        metrics = c.get("/metrics").text
        assert "graphlint_store_models 2.0" in metrics and "graphlint_store_bytes " in metrics
        stale = time.time() - 3600
        for m in models[:2]:
            os.utime(BlobStore(data_dir / "models").path(hashlib.sha256(m).hexdigest()), (stale, stale))
        ids.append(upload(c, models[2], output="y").json()["id"])  # over the cap: the collector wakes
        for _ in range(300):
            if _evictions(c) >= 1:
                break
            time.sleep(0.1)
        assert _evictions(c) >= 1
        stored = [BlobStore(data_dir / "models").get(hashlib.sha256(m).hexdigest()) is not None for m in models]
        assert stored[2] and not all(stored)
        for rid in ids:  # every report, and its graph, is still there
            assert c.get(f"/v1/reports/{rid}").status_code == 200
            assert c.get(f"/v1/reports/{rid}/graph").status_code == 200
        gone = stored.index(False)
        again = upload(c, models[gone], output="y")  # the same report, and the model is back
        assert again.status_code == 200 and again.json()["id"] == ids[gone]
        assert BlobStore(data_dir / "models").get(hashlib.sha256(models[gone]).hexdigest()) is not None


def _gc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphlint", "gc", *args], capture_output=True, text=True,
                          timeout=120)


def test_gc_command(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    old = [_put(blobs, bytes([i]) * 100, age_s=10 * DAY_S) for i in range(3)]
    new = _put(blobs, b"n" * 100, age_s=0)
    dry = _gc("--data-dir", str(tmp_path), "--store-max-age-days", "7", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("would evict 3 model(s)"), dry.stdout + dry.stderr
    assert all(p.exists() for p in old)
    done = _gc("--data-dir", str(tmp_path), "--store-max-age-days", "7")
    assert done.returncode == 0 and done.stdout.startswith("evicted 3 model(s)"), done.stdout + done.stderr
    assert not any(p.exists() for p in old) and new.exists()
    missing = _gc("--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "--store-max-mb" in missing.stderr and "Traceback" not in missing.stderr
    nowhere = _gc("--data-dir", str(tmp_path / "nope"), "--store-max-mb", "1")
    assert nowhere.returncode == 2 and "no model store" in nowhere.stderr
