"""Team mode with real processes: two ``graphlint serve`` replicas on one PostgreSQL database and one shared blob
store, ``graphlint worker`` processes taking the jobs from the procrastinate queue in that database, a worker
killed with SIGKILL mid-job, and jobs cancelled from another replica than the one that queued them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import tensorflow_version

from .conftest import Server, Team, Worker, graphdef, upload, wait_for_job

pytest.importorskip("procrastinate", reason="team mode needs procrastinate (pip install -e .[team])")
_DONE = ("done", "failed", "cancelled")


@pytest.fixture(scope="module")
def team(make_team) -> Team:
    return make_team()


def _needs_tensorflow() -> None:
    if tensorflow_version() is None:
        pytest.skip("TensorFlow is not installed: the workers need it (pip install -e .[test])")


def _queue_attempts(database_url: str, job_id: str) -> list[tuple[str, int]]:
    """(status, attempts) of the procrastinate jobs that carry this job (a run that ended, or was queued again
    after its worker died, counts as one attempt)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT status::text, attempts FROM procrastinate_jobs WHERE args->>'job_id' = %s",
                            (job_id,)).fetchall()


def _convert_job(server: Server, n: int) -> str:
    """Upload a model and queue its conversion through ``server``; the job's id."""
    with server.client() as c:
        stored = upload(c, graphdef(n), name="net.pb", output="y").json()
        queued = c.post("/v1/jobs", data={"report_id": stored["id"], "target": "float", "output": "y"})
        assert queued.status_code == 202, queued.text
        return queued.json()["id"]


def _running_on_a_new_worker(team: Team, job_id: str, *args: str) -> Worker:
    """Start a worker and wait until it runs the job (a fresh worker starts its TensorFlow child for it: seconds
    in which the job is surely running)."""
    worker = team.worker(*args)
    running = wait_for_job(team.b, job_id, ("running", *_DONE))
    assert running["status"] == "running", (running, worker.output())
    return worker


def _kill_mid_job(team: Team, job_id: str) -> None:
    """SIGKILL a worker while it runs the job."""
    _running_on_a_new_worker(team, job_id).kill()


def test_a_cancelled_queued_job_never_runs(team):
    with team.a.client() as a, team.b.client() as b:
        job_id = _convert_job(team.a, 10)
        cancelled = b.delete(f"/v1/jobs/{job_id}")  # another replica than the one that queued it
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled" and cancelled.json()["attempts"] == 0
        assert a.get(f"/v1/jobs/{job_id}").json() == cancelled.json()
        again = a.delete(f"/v1/jobs/{job_id}")
        assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
        assert again.json()["type"].endswith("/job-ended") and again.json()["job_status"] == "cancelled"
        assert b.delete("/v1/jobs/" + "0" * 32).status_code == 404
        worker = team.worker()  # takes the job's task and skips it: no TensorFlow needed for that
        deadline = time.monotonic() + 60
        while _queue_attempts(team.database_url, job_id)[0][0] == "todo" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.stop() == 0
        assert _queue_attempts(team.database_url, job_id)[0][0] == "succeeded", worker.output()
        assert b.get(f"/v1/jobs/{job_id}").json() == cancelled.json()  # never started
        assert not (team.blob_store / "jobs" / job_id).exists()


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
        assert seen_on_b["attempts"] == 0 and seen_on_b["earlier_attempts"] == []
        assert _queue_attempts(team.database_url, job_id) == [("todo", 0)]
        upload_via_b = b.post("/v1/jobs", files={"file": ("other.pb", graphdef(1))}, data={"output": "y"})
        assert upload_via_b.status_code == 202, upload_via_b.text
        assert a.get(f"/v1/jobs/{upload_via_b.json()['id']}").json()["request"]["name"] == "other.pb"
        assert (team.blob_store / "models" / stored.json()["model"]["sha256"][:2]).is_dir()


@pytest.mark.tf
def test_a_worker_killed_mid_job_leaves_it_to_another(team):
    _needs_tensorflow()
    drainer = team.worker()  # takes what the previous test left queued
    assert all(j["status"] in _DONE for j in _drain(team.a))
    assert drainer.stop() == 0  # SIGTERM: a clean stop
    job_id = _convert_job(team.a, 2)
    _kill_mid_job(team, job_id)
    team.worker("--concurrency", "2")
    with team.a.client() as a, team.b.client() as b:
        done = wait_for_job(team.b, job_id, _DONE)
        assert done["status"] == "done", (done, team.workers[-1].output())
        assert done == a.get(f"/v1/jobs/{job_id}").json()  # identical on every replica
        assert done["attempts"] == 2
        assert [(e["attempt"], e["reason"]) for e in done["earlier_attempts"]] == \
            [(1, "its worker stopped (killed, out of memory or gone)")]
        # one procrastinate job, finished twice: killed, then run again to its end; never lost, never run twice
        assert _queue_attempts(team.database_url, job_id) == [("succeeded", 2)]
        model = b.get(f"/v1/jobs/{job_id}/files/model.tflite")
        assert model.status_code == 200 and model.content[4:8] == b"TFL3"
        assert a.get(f"/v1/jobs/{job_id}/files/model.tflite").content == model.content
    assert _tensorflow_libraries(team.a.proc.pid) == _tensorflow_libraries(team.b.proc.pid) == []


@pytest.mark.tf
def test_a_job_whose_workers_keep_dying_fails_saying_why(team):
    _needs_tensorflow()
    _stop_workers(team)
    job_id = _convert_job(team.a, 3)
    _kill_mid_job(team, job_id)
    team.worker("--max-attempts", "1")
    failed = wait_for_job(team.b, job_id, _DONE)
    assert failed["status"] == "failed" and "worker stopped" in failed["message"], failed
    assert failed["attempts"] == 1 and failed["earlier_attempts"] == []
    assert _queue_attempts(team.database_url, job_id) == [("failed", 1)]


@pytest.mark.tf
def test_a_running_job_cancelled_on_another_replica_stops_its_conversion(team):
    _needs_tensorflow()
    _stop_workers(team)
    job_id = _convert_job(team.a, 4)
    worker = _running_on_a_new_worker(team, job_id)
    deadline = time.monotonic() + 60
    while not worker.conversion_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    children = worker.conversion_children()
    assert children, worker.output()
    with team.b.client() as b:
        cancelled = b.delete(f"/v1/jobs/{job_id}")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    deadline = time.monotonic() + 10
    while set(children) & set(worker.conversion_children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(children) & set(worker.conversion_children()), "the conversion child was not stopped"
    assert worker.proc.poll() is None  # the worker itself goes on
    after = wait_for_job(team.a, job_id, _DONE)
    assert after["status"] == "cancelled" and after["result"] is None, after
    deadline = time.monotonic() + 60
    while _queue_attempts(team.database_url, job_id)[0][0] == "doing" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _queue_attempts(team.database_url, job_id)[0][0] == "succeeded"
    assert wait_for_job(team.b, job_id, _DONE) == after  # still cancelled once the worker is done with it
    next_job = _convert_job(team.b, 5)  # and the same worker runs the next job to its end
    assert wait_for_job(team.a, next_job, _DONE)["status"] == "done", worker.output()


def _stop_workers(team: Team) -> None:
    for worker in team.workers:
        worker.kill()


def _tensorflow_libraries(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({line.split()[-1] for line in maps.splitlines() if "tensorflow" in line.lower()})


def _drain(server: Server) -> list[dict]:
    with server.client() as c:
        jobs = c.get("/v1/jobs").json()["items"]
    return [wait_for_job(server, j["id"], _DONE) for j in jobs]


def test_a_verification_asked_of_both_replicas_at_once_queues_one_job(team):
    # each replica read the report, saw no verification and queued its own job: the check and the write now
    # run under one lock in the database. Three models, as one round of racing requests may not overlap.
    from concurrent.futures import ThreadPoolExecutor

    with team.a.client() as a, team.b.client() as b:
        for n in (41, 42, 43):
            first = upload(a, graphdef(n), output="y")
            assert first.status_code == 201, first.text
            clients = [a, b] * 8
            with ThreadPoolExecutor(len(clients)) as pool:
                answers = list(pool.map(lambda c, n=n: upload(c, graphdef(n), output="y", verify="true"), clients))
            assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
            jobs = a.get("/v1/jobs", params={"limit": 200}).json()["items"]
            mine = [j for j in jobs if j["request"].get("kind") == "verify"
                    and j["request"].get("report_id") == first.json()["id"]]
            assert len(mine) == 1, mine
            assert {r.json()["verification"]["job"] for r in answers} == {mine[0]["id"]}


def test_a_replica_killed_mid_upload_loses_no_acknowledged_report(make_team):
    # writers upload through replica A until it is killed with SIGKILL under them; every report A acknowledged
    # is then served by replica B, with its model in the shared blob store
    import threading

    import httpx

    team = make_team()
    acknowledged: dict[str, dict] = {}
    lock, stop = threading.Lock(), threading.Event()

    def writer(k: int) -> None:
        n = 0
        with team.a.client(timeout=30) as a:
            while not stop.is_set():
                n += 1
                try:
                    answer = upload(a, graphdef(1000 * k + n), output="y")
                except httpx.HTTPError:
                    return  # A died under this request: it was never acknowledged
                if answer.status_code == 201:
                    with lock:
                        acknowledged[answer.json()["id"]] = answer.json()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    team.a.kill()
    stop.set()
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= 20
    with team.b.client() as b:
        for report_id, report in acknowledged.items():
            served = b.get(f"/v1/reports/{report_id}")
            assert served.status_code == 200, (report_id, served.text)
            assert served.json()["model"]["sha256"] == report["model"]["sha256"]
            sha256 = report["model"]["sha256"]
            assert (team.blob_store / "models" / sha256[:2] / sha256).is_file()
