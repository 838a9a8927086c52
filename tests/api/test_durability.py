"""Restart and crash safety on the SQLite default, and uploads racing each other."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from .conftest import graphdef, tflite, upload


def test_restart_keeps_every_report(make_server):
    server = make_server()
    with server.client() as c:
        stored = {r["id"]: r for r in (upload(c, graphdef(n), output="y").json() for n in range(3))}
        stored.update({r["id"]: r for r in [upload(c, b"garbage").json()]})
    assert server.stop() in (0, -15)  # uvicorn re-raises SIGTERM after its graceful shutdown
    server.start()
    with server.client() as c:
        for report_id, report in stored.items():
            assert c.get(f"/v1/reports/{report_id}").json() == report
        assert upload(c, graphdef(0), output="y").status_code == 200  # still content-addressed
        assert len(c.get("/v1/reports").json()["items"]) == 4


def test_concurrent_uploads(server):
    same = graphdef(42)

    def send(i: int) -> httpx.Response:
        with server.client() as c:
            if i % 2:
                return upload(c, same, output="y")
            return upload(c, graphdef(i) if i % 4 else tflite(), output="y")

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(24)))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses if r.status_code > 201]
    same_ids = {r.json()["id"] for i, r in enumerate(responses) if i % 2}
    assert len(same_ids) == 1
    assert sum(1 for i, r in enumerate(responses) if i % 2 and r.status_code == 201) == 1
    with server.client() as c:
        listed = {i["id"] for i in c.get("/v1/reports", params={"limit": 100}).json()["items"]}
    assert listed == {r.json()["id"] for r in responses}
    assert len(listed) == 1 + len({r.json()["model"]["sha256"] for i, r in enumerate(responses) if not i % 2})


def test_kill_9_during_writes_loses_no_committed_report(make_server):
    server = make_server()
    committed: dict[str, dict] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def writer(k: int) -> None:
        n = 0
        with server.client(timeout=30) as c:
            while not stop.is_set():
                n += 1
                try:
                    r = upload(c, graphdef(k * 100_000 + n), output="y")
                except httpx.HTTPError:
                    return  # the server died under this request: it was never acknowledged
                if r.status_code == 201:
                    with lock:
                        committed[r.json()["id"]] = r.json()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(committed) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL while the writers are mid-request
    stop.set()
    for t in threads:
        t.join(30)
    assert len(committed) >= 20
    db = sqlite3.connect(server.data_dir / "graphlint.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    server.start()
    with server.client() as c:
        for report_id, report in committed.items():
            assert c.get(f"/v1/reports/{report_id}").json() == report
        assert c.get("/readyz").status_code == 200
    assert not any((server.data_dir / "tmp").iterdir())  # partial uploads were cleaned at start
