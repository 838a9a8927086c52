"""Fix-and-convert jobs over HTTP: validation, the real conversion (TensorFlow in the conversion workers, never
in the server), downloads, cancellation, per-token quotas, and recovery of jobs a dead server left running."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from graphlint.api.blobs import BlobStore
from graphlint.api.jobs import JobRunner
from graphlint.api.problems import ProblemError
from graphlint.api.store import Store
from tests.conftest import tensorflow_version

from .conftest import conversion_children, graphdef, upload, wait_for_job

_ENDED = ("done", "failed", "cancelled")


def _wait(c, job_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(f"/v1/jobs/{job_id}").json()
        assert 0 <= job["progress"] <= 1
        if job["status"] in _ENDED:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.fixture()
def idle_runner(tmp_path):
    """A job runner without threads (its jobs stay queued), with a quota of 2 jobs per owner."""
    store = Store(f"sqlite:///{tmp_path / 'graphlint.db'}")
    blobs = BlobStore.in_dir(tmp_path)
    yield JobRunner(store, blobs, blobs.jobs, workers=0, per_owner=2)
    store.close()


def test_a_cancelled_job_never_starts_and_cannot_be_cancelled_twice(idle_runner):
    job = idle_runner.submit("alice", {"sha256": "0" * 64, "name": "m.pb"})
    with pytest.raises(ProblemError) as other_owner:
        idle_runner.cancel("bob", job.id)
    assert other_owner.value.status == 404
    cancelled = idle_runner.cancel("alice", job.id)
    assert (cancelled.status, cancelled.attempts) == ("cancelled", 0)
    idle_runner.run_one(job.id)  # a worker taking it now skips it
    assert idle_runner.get("alice", job.id) == cancelled
    with pytest.raises(ProblemError) as again:
        idle_runner.cancel("alice", job.id)
    assert again.value.status == 409 and again.value.extra == {"job_status": "cancelled"}
    for unknown in ("0" * 32, "../etc"):
        with pytest.raises(ProblemError) as missing:
            idle_runner.cancel("alice", unknown)
        assert missing.value.status == 404


def test_a_job_that_starts_counts_its_attempt_and_a_cancelled_one_keeps_its_state(idle_runner):
    job = idle_runner.submit("alice", {"sha256": "0" * 64, "name": "m.pb"})
    idle_runner.run_one(job.id)  # its model is not stored: it starts and fails at once
    failed = idle_runner.get("alice", job.id)
    assert (failed.status, failed.attempts) == ("failed", 1) and "no longer stored" in failed.message
    running = idle_runner.submit("alice", {"sha256": "0" * 64, "name": "m.pb"})
    assert idle_runner.store.start_job(running.id).attempts == 1
    idle_runner.cancel("alice", running.id)
    idle_runner._finish(running.id, "done", "done", {"status": "ok", "files": []})  # the run ends after the cancel
    assert idle_runner.get("alice", running.id).status == "cancelled"


def test_a_token_over_its_quota_of_queued_jobs_gets_429(idle_runner):
    first, _ = (idle_runner.submit("alice", {"n": i}) for i in range(2))
    with pytest.raises(ProblemError) as over:
        idle_runner.submit("alice", {"n": 2})
    problem = over.value
    assert problem.status == 429 and problem.slug == "job-quota" and problem.headers["Retry-After"] == "30"
    assert problem.extra["quota"] == {"limit": 2, "active": 2, "setting": "GRAPHLINT_MAX_QUEUED_PER_TOKEN"}
    assert idle_runner.submit("bob", {"n": 0}).status == "queued"  # the quota is per token
    idle_runner.cancel("alice", first.id)  # a cancelled job frees its place
    assert idle_runner.submit("alice", {"n": 3}).status == "queued"


def test_a_cancelled_queued_job_frees_its_place_in_the_queue(tmp_path):
    # its id waits in the in-process queue until a thread skips it, but it no longer counts against the capacity
    store = Store(f"sqlite:///{tmp_path / 'graphlint.db'}")
    blobs = BlobStore.in_dir(tmp_path)
    runner = JobRunner(store, blobs, blobs.jobs, workers=0, capacity=2)
    first, _ = (runner.submit("alice", {"n": i}) for i in range(2))
    with pytest.raises(ProblemError) as full:
        runner.submit("alice", {"n": 2})
    assert full.value.status == 503 and full.value.headers["Retry-After"] == "30"
    runner.cancel("alice", first.id)
    assert runner.submit("alice", {"n": 3}).status == "queued"
    with pytest.raises(ProblemError) as again:
        runner.submit("alice", {"n": 4})
    assert again.value.status == 503
    store.close()


def _tensorflow_libraries(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({line.split()[-1] for line in maps.splitlines() if "tensorflow" in line.lower()})


def test_job_requests_are_validated(server):
    with server.client() as c:
        for params, content in (({}, b""), ({"report_id": "0" * 32}, b""), ({"target": "tpu"}, graphdef()),
                                ({"calibration": "/etc/passwd"}, graphdef()),
                                ({"input_range": "x:5:1"}, graphdef())):
            r = c.post("/v1/jobs", params=params, content=content,
                       headers={"Content-Type": "application/octet-stream"})
            assert r.status_code in (404, 422), r.text
            assert r.headers["content-type"] == "application/problem+json"
        stored = upload(c, graphdef(), output="y").json()
        both = c.post("/v1/jobs", params={"report_id": stored["id"]}, content=graphdef(),
                      headers={"Content-Type": "application/octet-stream"})
        assert both.status_code == 422
        assert c.get("/v1/jobs/" + "0" * 32).status_code == 404
        assert c.get("/v1/jobs/" + "0" * 32 + "/files/model.tflite").status_code == 404
        assert c.get("/v1/jobs").json() == {"items": []}


@pytest.mark.tf
def test_convert_job_end_to_end(server):
    if tensorflow_version() is None:
        pytest.skip("TensorFlow is not installed: the conversion workers need it (pip install -e .[test])")
    with server.client() as c:
        stored = upload(c, graphdef(), name="net.pb", output="y").json()
        queued = c.post("/v1/jobs", data={"report_id": stored["id"], "target": "float", "output": "y"})
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] in ("queued", "running")
        multipart = c.post("/v1/jobs", files={"file": ("net.pb", graphdef(1))},
                           data={"target": "float", "output": "y", "fix": "true"})
        assert multipart.status_code == 202, multipart.text
        job = _wait(c, queued.json()["id"])
        assert job["status"] == "done", job
        assert job["progress"] == 1.0 and job["request"]["report_id"] == stored["id"]
        assert "model.tflite" in job["result"]["files"]
        model = c.get(f"/v1/jobs/{job['id']}/files/model.tflite")
        assert model.status_code == 200 and model.content[4:8] == b"TFL3"
        report = c.get(f"/v1/jobs/{job['id']}/files/report.json")
        assert json.loads(report.content)["status"] == "ok"
        assert c.get(f"/v1/jobs/{job['id']}/files/..%2Fgraphlint.db").status_code == 404
        assert c.get(f"/v1/jobs/{job['id']}/files/fixed.pb").status_code == 404  # not in this job's result
        second = _wait(c, multipart.json()["id"])
        assert second["status"] in ("done", "failed") and second["request"]["fix"] is True
        assert [j["id"] for j in c.get("/v1/jobs").json()["items"]] == [multipart.json()["id"], job["id"]]
        # the converted model lints like any other upload
        again = upload(c, model.content, name="net.tflite")
        assert again.status_code == 201 and again.json()["model"]["format"] == "tflite"
    assert _tensorflow_libraries(server.proc.pid) == []  # TensorFlow ran in the conversion workers only
    server.stop()


def test_a_job_running_when_the_server_died_fails_on_restart(make_server):
    server = make_server()
    with server.client() as c:
        stored = upload(c, graphdef(), output="y").json()
    server.kill()
    db = sqlite3.connect(server.data_dir / "graphlint.db")
    with db:
        for job_id, status in (("a" * 32, "running"), ("b" * 32, "done")):
            db.execute("INSERT INTO jobs (id, owner, status, progress, message, request, result, created_at, "
                       "updated_at) VALUES (?, '', ?, 0.4, 'convert', ?, NULL, 'x', 'x')",
                       (job_id, status, json.dumps({"sha256": stored["model"]["sha256"]})))
    db.close()
    server.start()
    with server.client() as c:
        crashed = c.get("/v1/jobs/" + "a" * 32).json()
        assert crashed["status"] == "failed" and "stopped" in crashed["message"]
        assert c.get("/v1/jobs/" + "b" * 32).json()["status"] == "done"
        ended = c.delete("/v1/jobs/" + "b" * 32)
        assert ended.status_code == 409 and ended.headers["content-type"] == "application/problem+json"
        assert ended.json()["job_status"] == "done" and "already ended" in ended.json()["detail"]
        assert c.delete("/v1/jobs/" + "c" * 32).status_code == 404
        assert c.get("/v1/jobs/" + "b" * 32).json()["status"] == "done"


@pytest.mark.tf
def test_cancel_a_running_and_a_queued_job(server):
    if tensorflow_version() is None:
        pytest.skip("TensorFlow is not installed: the conversion workers need it (pip install -e .[test])")
    with server.client() as c:
        stored = upload(c, graphdef(), name="net.pb", output="y").json()
        ids = [c.post("/v1/jobs", data={"report_id": stored["id"], "target": "float", "output": "y"}).json()["id"]
               for _ in range(2)]
        running = wait_for_job(server, ids[0], ("running", *_ENDED))
        assert running["status"] == "running" and running["attempts"] == 1, running
        assert c.get(f"/v1/jobs/{ids[1]}").json()["status"] == "queued"  # one job thread: it waits
        deadline = time.monotonic() + 60
        while not conversion_children(server.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        children = conversion_children(server.proc.pid)
        assert children
        for job_id in reversed(ids):
            cancelled = c.delete(f"/v1/jobs/{job_id}")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
        deadline = time.monotonic() + 10
        while set(children) & set(conversion_children(server.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not set(children) & set(conversion_children(server.proc.pid)), "the conversion was not stopped"
        time.sleep(2)  # the job thread is free again: it takes the cancelled queued job, and skips it
        first, second = (c.get(f"/v1/jobs/{job_id}").json() for job_id in ids)
        assert (first["status"], first["attempts"], first["result"]) == ("cancelled", 1, None)
        assert (second["status"], second["attempts"]) == ("cancelled", 0)
        assert not (server.data_dir / "jobs" / ids[0]).exists()  # a stopped job's partial files go
        assert c.delete(f"/v1/jobs/{ids[0]}").status_code == 409
        after = c.post("/v1/jobs", data={"report_id": stored["id"], "target": "float", "output": "y"}).json()
        assert _wait(c, after["id"])["status"] == "done"  # the server goes on converting


def test_the_server_process_never_loads_tensorflow(server):
    with server.client() as c:
        upload(c, graphdef(), output="y")
        upload(c, b"\xff" * 100)
        c.get("/v1/rules")
    assert _tensorflow_libraries(server.proc.pid) == []
