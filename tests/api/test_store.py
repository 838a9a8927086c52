"""The store on both databases: SQLite (the default) and a real PostgreSQL server."""

from __future__ import annotations

import threading

import pytest

from graphlint.api.store import Store, pack, unpack

from .conftest import graphdef, upload


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'graphlint.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    s = Store(url)
    yield s
    s.close()


def _report(verdict: str = "pass", n: int = 0) -> dict:
    return {"model": {"format": "graphdef", "sha256": "a" * 64}, "targets": {"float": {"verdict": verdict}},
            "findings": [{"code": "GL101"}] * n}


def _add(store: Store, report: dict, **kwargs):
    """``add_report`` with the indexed facts taken from the report, as a lint worker sends them."""
    return store.add_report(report=pack(report), format=report["model"]["format"],
                            verdicts={t: v["verdict"] for t, v in report["targets"].items()},
                            findings=len(report["findings"]), **kwargs)


def test_reports_are_content_addressed_per_owner(store):
    row, created = _add(store, _report(n=2), owner="a", cache_key="k1", sha256="a" * 64, name="m.pb",
                        graph=pack({"nodes": []}))
    again, created_again = _add(store, _report("fail"), owner="a", cache_key="k1", sha256="a" * 64, name="other.pb",
                                graph=None)
    assert (created, created_again) == (True, False) and again == row
    assert unpack(row.report) == _report(n=2) and row.findings == 2 and row.verdicts == {"float": "pass"}
    other, created_other = _add(store, _report(), owner="b", cache_key="k1", sha256="a" * 64, name="m.pb", graph=None)
    assert created_other and other.id != row.id
    assert store.get_report("b", row.id) is None and store.get_report("a", row.id) == row
    assert store.get_graph("a", row.id) == (True, pack({"nodes": []})) and store.get_graph("b", row.id) == (False, None)


def test_pack_writes_json_that_unpacks_to_the_same_data():
    data = {"nodes": [{"id": "conv/Conv2D", "shape": [1, None, 3], "scale": 0.5, "name": "ü"}], "ok": True}
    assert unpack(pack(data)) == data == unpack(pack(data, strict=True))
    assert unpack(pack({1: "int key", "big": 1 << 70})) == {"1": "int key", "big": 1 << 70}  # through json
    assert unpack(pack({"x": float("nan")})) == {"x": None}
    with pytest.raises(ValueError):
        pack({"x": float("nan")}, strict=True)


def test_racing_inserts_make_one_report(store):
    results = []

    def insert():
        results.append(_add(store, _report(), owner="o", cache_key="same", sha256="b" * 64, name="m", graph=None))

    threads = [threading.Thread(target=insert) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({row.id for row, _ in results}) == 1 and sum(created for _, created in results) == 1


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_stores_opened_together_on_a_new_database_all_open(dialect, tmp_path, request):
    # replicas and workers started together (a compose deployment) create the tables at once; on PostgreSQL,
    # CREATE TABLE IF NOT EXISTS racing itself failed ("pg_type_typname_nsp_index") for all but one of them
    url = (f"sqlite:///{tmp_path / 'db' / 'graphlint.db'}" if dialect == "sqlite"
           else request.getfixturevalue("postgres").new_database())
    barrier, errors, stores = threading.Barrier(6), [], []

    def open_store():
        barrier.wait()
        try:
            stores.append(Store(url))
        except Exception as err:  # noqa: BLE001 - collected and shown by the assertion
            errors.append(repr(err))

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for s in stores:
        s.close()
    assert not errors and len(stores) == 6, errors


def test_exclusive_holds_a_name_against_other_processes_connections(postgres):
    # replicas and workers each have their own store: what one holds, another waits for
    url = postgres.new_database()
    mine, theirs = Store(url), Store(url)
    entered = threading.Event()

    def take():
        with theirs.exclusive("verification:r1"):
            entered.set()

    waiter = threading.Thread(target=take)
    with mine.exclusive("verification:r1"):
        waiter.start()
        assert not entered.wait(0.5)
        with theirs.exclusive("verification:r2"):  # another name is free meanwhile
            pass
    assert entered.wait(10)
    waiter.join()
    mine.close()
    theirs.close()


def test_pagination_and_filters(store):
    ids = [_add(store, _report(), owner="o", cache_key=f"k{i}", sha256=("c" if i % 2 else "d") * 64,
                name=f"n{i % 3}", graph=None)[0].id for i in range(7)]
    page, cursor = store.list_reports("o", limit=3)
    seen = [r.id for r in page]
    while cursor is not None:
        page, cursor = store.list_reports("o", limit=3, before=cursor)
        seen += [r.id for r in page]
    assert seen == ids[::-1]
    assert [r.id for r in store.list_reports("o", limit=10, sha256="c" * 64)[0]] == [ids[5], ids[3], ids[1]]
    assert [r.id for r in store.list_reports("o", limit=10, name="n0")[0]] == [ids[6], ids[3], ids[0]]
    assert store.list_reports("x", limit=10) == ([], None)


def test_jobs_and_recovery_after_a_crash(store):
    running = store.add_job("o", {"target": "int8"})
    queued = store.add_job("o", {"target": "float"})
    store.update_job(running.id, status="running", progress=0.5, message="convert")
    assert store.get_job("o", running.id).progress == 0.5 and store.get_job("p", running.id) is None
    assert store.recover_jobs() == [queued.id]
    failed = store.get_job(None, running.id)
    assert failed.status == "failed" and "stopped" in failed.message
    store.update_job(queued.id, status="done", result={"status": "ok", "files": ["model.tflite"]}, progress=1.0)
    assert store.get_job("o", queued.id).result == {"status": "ok", "files": ["model.tflite"]}
    assert [j.id for j in store.list_jobs("o", 10)] == [queued.id, running.id]


def test_job_attempts_cancellation_and_requeue(store):
    job = store.add_job("o", {"target": "int8"})
    assert (job.attempts, job.earlier_attempts) == (0, ())
    started = store.start_job(job.id)
    assert (started.status, started.attempts) == ("running", 1)
    assert store.start_job(job.id) is None  # one worker takes it
    assert store.requeue_job(job.id, 1, "its worker stopped", "queued again")
    assert not store.requeue_job(job.id, 1, "its worker stopped", "queued again")  # another worker was first
    again = store.start_job(job.id)
    assert again.attempts == 2 and [e["attempt"] for e in again.earlier_attempts] == [1]
    assert again.public()["earlier_attempts"][0]["reason"] == "its worker stopped"
    assert store.count_active_jobs("o") == 1 and store.count_active_jobs("p") == 0
    assert store.cancel_job("p", job.id, "cancelled") == (None, False)
    cancelled, changed = store.cancel_job("o", job.id, "cancelled")
    assert changed and cancelled.status == "cancelled" and store.count_active_jobs("o") == 0
    assert store.cancel_job("o", job.id, "cancelled") == (cancelled, False)
    assert not store.update_job(job.id, status="done", only_if=("queued", "running"))
    assert not store.requeue_job(job.id, 2, "its worker stopped", "queued again")
    assert store.job_statuses([job.id, "0" * 32]) == {job.id: "cancelled"}


def test_a_database_of_an_older_version_gets_the_new_job_columns(tmp_path):
    import sqlite3

    path = tmp_path / "graphlint.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, owner TEXT "
                   "NOT NULL, status TEXT NOT NULL, progress REAL NOT NULL, message TEXT NOT NULL, request TEXT NOT "
                   "NULL, result TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
        db.execute("INSERT INTO jobs (id, owner, status, progress, message, request, created_at, updated_at) "
                   "VALUES (?, 'o', 'done', 1, 'done', '{}', 'x', 'x')", ("a" * 32,))
    db.close()
    store = Store(f"sqlite:///{path}")
    old = store.get_job("o", "a" * 32)
    assert (old.status, old.attempts, old.earlier_attempts) == ("done", 0, ())
    store.close()
    Store(f"sqlite:///{path}").close()  # opening it again changes nothing


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError), store._tx() as cur:
        cur.execute(store.dialect.sql("INSERT INTO jobs (id, owner, status, progress, message, request, created_at, "
                                      "updated_at) VALUES (?, 'o', 'queued', 0, '', '{}', 'x', 'x')"), ("f" * 32,))
        raise RuntimeError("crash before commit")
    assert store.get_job(None, "f" * 32) is None


def test_service_on_postgres_keeps_reports_across_restarts(make_server, postgres):
    url = postgres.new_database()
    server = make_server("--database-url", url)
    with server.client() as c:
        assert c.get("/readyz").json()["database"] == "postgresql"
        first = upload(c, graphdef(), output="y")
        bad = upload(c, b"\x00garbage")
        assert (first.status_code, bad.status_code) == (201, 201)
        assert upload(c, graphdef(), output="y").status_code == 200
    server.kill()
    server.start()
    with server.client() as c:
        for r in (first, bad):
            assert c.get(f"/v1/reports/{r.json()['id']}").json() == r.json()
        assert [i["id"] for i in c.get("/v1/reports").json()["items"]] == [bad.json()["id"], first.json()["id"]]


def test_unreachable_database_is_one_line_exit_2(tmp_path):
    import subprocess
    import sys

    from .conftest import free_port

    proc = subprocess.run([sys.executable, "-m", "graphlint", "serve", "--data-dir", str(tmp_path),
                           "--database-url", f"postgresql://nobody@127.0.0.1:{free_port()}/none"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("graphlint: error:") and proc.stderr.count("\n") == 1
