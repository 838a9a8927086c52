"""Team mode with real processes: two ``graphlint serve`` replicas on one PostgreSQL database and one shared blob
store, ``graphlint worker`` processes taking the jobs from the procrastinate queue in that database, and a worker
killed with SIGKILL mid-job."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import tensorflow_version

from .conftest import Server, graphdef, upload

pytest.importorskip("procrastinate", reason="team mode needs procrastinate (pip install -e .[team])")
# A dead worker is noticed within a few seconds here (defaults: heartbeat 10 s, stalled after 30 s).
_FAST_RECOVERY = ("--heartbeat-s", "0.5", "--stalled-s", "2")


class Worker:
    """One ``graphlint worker`` process."""

    def __init__(self, log: Path, *args: str) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "graphlint", "worker", *args], stdout=out,
                                         stderr=subprocess.STDOUT, env={**os.environ, "GRAPHLINT_CONVERT_WORKERS": "1"})

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")[-6000:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


class Team:
    """Two replicas on one database and blob store, and the workers started for them."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root, self.database_url = root, database_url
        self.blob_store = root / "shared"
        args = ("--database-url", database_url, "--blob-store", str(self.blob_store))
        self.a = Server(root / "a", root / "a.log", *args).start()
        self.b = Server(root / "b", root / "b.log", *args).start()
        self.workers: list[Worker] = []

    def worker(self, *args: str) -> Worker:
        worker = Worker(self.root / f"worker-{len(self.workers)}.log", "--database-url", self.database_url,
                        "--blob-store", str(self.blob_store), *_FAST_RECOVERY, *args)
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.a.kill()
        self.b.kill()


@pytest.fixture(scope="module")
def team(postgres, tmp_path_factory) -> Iterator[Team]:
    team = Team(tmp_path_factory.mktemp("team"), postgres.new_database())
    yield team
    team.close()


def _wait(server: Server, job_id: str, until: tuple[str, ...], timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    with server.client() as c:
        while time.monotonic() < deadline:
            job = c.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in until:
                return job
            time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {until}: {job}")


def _queue_attempts(database_url: str, job_id: str) -> list[tuple[str, int]]:
    """(status, attempts) of the procrastinate jobs that carry this job (a run that ended, or was queued again
    after its worker died, counts as one attempt)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT status::text, attempts FROM procrastinate_jobs WHERE args->>'job_id' = %s",
                            (job_id,)).fetchall()


def test_jobs_wait_in_the_database_for_a_worker(team):
    with team.a.client() as a, team.b.client() as b:
        stored = upload(a, graphdef(), name="net.pb", output="y")
        assert stored.status_code == 201, stored.text
        assert b.get(f"/v1/reports/{stored.json()['id']}").status_code == 200  # one database
        queued = a.post("/v1/jobs", data={"report_id": stored.json()["id"], "target": "float", "output": "y"})
        assert queued.status_code == 202, queued.text
        job_id = queued.json()["id"]
        seen_on_b = b.get(f"/v1/jobs/{job_id}").json()
        assert seen_on_b == a.get(f"/v1/jobs/{job_id}").json()
        assert seen_on_b["status"] == "queued"  # no worker runs yet: it waits, on every replica
        assert _queue_attempts(team.database_url, job_id) == [("todo", 0)]
        upload_via_b = b.post("/v1/jobs", files={"file": ("other.pb", graphdef(1))}, data={"output": "y"})
        assert upload_via_b.status_code == 202, upload_via_b.text
        assert a.get(f"/v1/jobs/{upload_via_b.json()['id']}").json()["request"]["name"] == "other.pb"
        assert (team.blob_store / "models" / stored.json()["model"]["sha256"][:2]).is_dir()


@pytest.mark.tf
def test_a_worker_killed_mid_job_leaves_it_to_another(team):
    if tensorflow_version() is None:
        pytest.skip("TensorFlow is not installed: the workers need it (pip install -e .[test])")
    drainer = team.worker()  # takes what the previous test left queued
    assert all(j["status"] in ("done", "failed") for j in _drain(team.a))
    assert drainer.stop() == 0  # SIGTERM: a clean stop
    with team.a.client() as a, team.b.client() as b:
        stored = upload(a, graphdef(2), name="net.pb", output="y").json()
        job_id = a.post("/v1/jobs", data={"report_id": stored["id"], "target": "float", "output": "y"}).json()["id"]
        # A fresh worker starts its TensorFlow child for this job: seconds in which the job is surely running.
        first = team.worker()
        running = _wait(team.b, job_id, ("running", "done", "failed"))
        assert running["status"] == "running", (running, first.output())
        first.kill()
        team.worker("--concurrency", "2")
        done = _wait(team.b, job_id, ("done", "failed"))
        assert done["status"] == "done", (done, team.workers[-1].output())
        assert done == a.get(f"/v1/jobs/{job_id}").json()  # identical on every replica
        # one procrastinate job, finished twice: killed, then run again to its end; never lost, never run twice
        assert _queue_attempts(team.database_url, job_id) == [("succeeded", 2)]
        model = b.get(f"/v1/jobs/{job_id}/files/model.tflite")
        assert model.status_code == 200 and model.content[4:8] == b"TFL3"
        assert a.get(f"/v1/jobs/{job_id}/files/model.tflite").content == model.content
    assert _tensorflow_libraries(team.a.proc.pid) == _tensorflow_libraries(team.b.proc.pid) == []


@pytest.mark.tf
def test_a_job_whose_workers_keep_dying_fails_saying_why(team):
    if tensorflow_version() is None:
        pytest.skip("TensorFlow is not installed: the workers need it (pip install -e .[test])")
    for worker in team.workers:
        worker.kill()
    with team.a.client() as a:
        stored = upload(a, graphdef(3), name="net.pb", output="y").json()
        job_id = a.post("/v1/jobs", data={"report_id": stored["id"], "target": "float", "output": "y"}).json()["id"]
    doomed = team.worker()
    running = _wait(team.b, job_id, ("running", "done", "failed"))
    assert running["status"] == "running", (running, doomed.output())
    doomed.kill()
    team.worker("--max-attempts", "1")
    failed = _wait(team.b, job_id, ("done", "failed"))
    assert failed["status"] == "failed" and "worker stopped" in failed["message"], failed
    assert _queue_attempts(team.database_url, job_id) == [("failed", 1)]


def _tensorflow_libraries(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({line.split()[-1] for line in maps.splitlines() if "tensorflow" in line.lower()})


def _drain(server: Server) -> list[dict]:
    with server.client() as c:
        jobs = c.get("/v1/jobs").json()["items"]
    return [_wait(server, j["id"], ("done", "failed")) for j in jobs]
