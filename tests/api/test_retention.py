"""Model store retention: a size cap and an age limit evict the least recently used model files, reports stay;
``graphlint gc``; store-size metrics."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from graphlint.api.retention import DAY_S, GRACE_HEADROOM, Retention
from graphlint.api.store import BlobStore, Store

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


def test_recent_models_are_kept_over_the_cap_within_the_headroom(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    paths = [_put(blobs, bytes([i]) * 1000, age_s=10) for i in range(3)]
    assert 2500 * GRACE_HEADROOM >= 3000
    assert Retention(blobs, max_bytes=2500, grace_s=300).collect().evicted == 0
    assert all(p.exists() for p in paths)


def test_a_burst_of_recent_uploads_cannot_grow_the_store_past_the_headroom(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    paths = [_put(blobs, bytes([i]) * 1000, age_s=60 - i) for i in range(10)]  # paths[0] least recently used
    done = Retention(blobs, max_bytes=2000, grace_s=300).collect()
    assert done.bytes <= 2000 * GRACE_HEADROOM and done.evicted == 8
    assert [p.exists() for p in paths] == [False] * 8 + [True] * 2


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


def _job_folder(jobs: Path, name: str, files: dict[str, bytes], age_s: float) -> Path:
    """A job's folder as the job runner leaves it, last written ``age_s`` ago."""
    folder = jobs / name
    folder.mkdir(parents=True)
    for file, data in files.items():
        (folder / file).write_bytes(data)
    stamp = time.time() - age_s
    for path in [*folder.iterdir(), folder]:
        os.utime(path, (stamp, stamp))
    return folder


def test_job_folders_of_finished_jobs_fall_under_the_age_limit(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    store = Store(f"sqlite:///{tmp_path / 'graphlint.db'}")
    running = store.add_job("owner", {"kind": "convert"}).id  # queued: its folders stay, however old
    jobs = tmp_path / "jobs"
    old = _job_folder(jobs, "a" * 32, {"model.tflite": b"t" * 500, "report.json": b"{}"}, age_s=3 * DAY_S)
    old_input = _job_folder(jobs, "a" * 32 + ".input", {"model.pb": b"m" * 300}, age_s=3 * DAY_S)
    new = _job_folder(jobs, "b" * 32, {"model.tflite": b"n" * 100}, age_s=DAY_S / 2)
    busy = _job_folder(jobs, running, {"model.tflite": b"r" * 100}, age_s=3 * DAY_S)
    busy_input = _job_folder(jobs, running + ".input", {"model.pb": b"r" * 100}, age_s=3 * DAY_S)
    model = _put(blobs, b"x" * 10, age_s=3 * DAY_S)
    retention = Retention(blobs, max_age_s=DAY_S, jobs=jobs, active_jobs=store.active_job_ids)
    dry = retention.collect(dry_run=True)
    assert (dry.evicted, dry.jobs_evicted, dry.freed) == (1, 2, 10 + 502 + 300) and old.exists()
    done = retention.collect()
    assert (done.evicted, done.jobs_evicted, done.jobs, done.bytes) == (1, 2, 3, 300)
    assert not old.exists() and not old_input.exists() and not model.exists()
    assert new.exists() and busy.exists() and busy_input.exists()
    assert list(blobs.tmp.iterdir()) == []


def test_job_folders_and_models_share_the_size_cap_least_recently_used_first(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    jobs = tmp_path / "jobs"
    oldest = _job_folder(jobs, "a" * 32, {"model.tflite": b"t" * 2000}, age_s=5 * 3600)
    model = _put(blobs, b"m" * 1000, age_s=4 * 3600)
    # The input of a job is a hard link to the stored model: its bytes are counted once, with the model.
    linked = jobs / ("c" * 32 + ".input")
    linked.mkdir()
    (linked / "model.pb").hardlink_to(model)
    stamp = time.time() - 3 * 3600
    os.utime(linked, (stamp, stamp))
    newer = _job_folder(jobs, "b" * 32, {"model.tflite": b"n" * 1000}, age_s=2 * 3600)
    retention = Retention(blobs, max_bytes=2500, jobs=jobs)
    dry = retention.collect(dry_run=True)
    assert dry.bytes + dry.freed == 2000 + 1000 + 1000  # the input's link is not counted again
    done = retention.collect()
    assert (done.evicted, done.jobs_evicted, done.freed, done.bytes) == (0, 1, 2000, 2000)
    assert not oldest.exists() and model.exists() and linked.exists() and newer.exists()


def test_a_job_folder_written_after_it_was_chosen_stays(tmp_path):
    blobs = BlobStore(tmp_path / "models")
    jobs = tmp_path / "jobs"
    folder = _job_folder(jobs, "a" * 32, {"model.tflite": b"t" * 10}, age_s=3 * DAY_S)
    retention = Retention(blobs, max_age_s=DAY_S, jobs=jobs)
    (entry,) = retention._victims(retention._scan(), time.time())
    (folder / "late.json").write_bytes(b"{}")  # the job writes again between the choice and the eviction
    assert retention._evict(entry) is False and (folder / "model.tflite").exists()


def test_the_server_collects_job_folders(tmp_path):
    from graphlint.api.app import create_app
    from graphlint.api.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, lint_workers=1, store_max_age_days=1))
    retention = app.state.retention
    assert retention.jobs == tmp_path / "jobs" and retention.active_jobs() == set()


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
    job = _job_folder(tmp_path / "jobs", "a" * 32, {"model.tflite": b"t" * 100}, age_s=10 * DAY_S)
    dry = _gc("--data-dir", str(tmp_path), "--store-max-age-days", "7", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert dry.stdout.startswith("would evict 3 model(s) and 1 job folder(s)"), dry.stdout
    assert all(p.exists() for p in old) and job.exists()
    done = _gc("--data-dir", str(tmp_path), "--store-max-age-days", "7")
    assert done.returncode == 0 and done.stdout.startswith("evicted 3 model(s) and 1 job folder(s)"), done.stdout
    assert not any(p.exists() for p in old) and new.exists() and not job.exists()
    missing = _gc("--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "--store-max-mb" in missing.stderr and "Traceback" not in missing.stderr
    nowhere = _gc("--data-dir", str(tmp_path / "nope"), "--store-max-mb", "1")
    assert nowhere.returncode == 2 and "no model store" in nowhere.stderr
