"""Database errors never become 500: a value the database refuses is a 422, a database that is down a 503 (with
Retry-After), on SQLite and PostgreSQL; nothing stored before is lost when the database comes back."""

from __future__ import annotations

import httpx
import pytest

from .conftest import Postgres, graphdef, upload

PROBLEM = "application/problem+json"
NUL_QUERIES = [("/v1/reports", {"name": "a\x00b"}), ("/v1/reports", {"sha256": "\x00" * 64}),
               ("/v1/reports", {"cursor": "1\x00"}), ("/v1/jobs", {"limit": "1\x00"})]


def _check_nul_queries(c: httpx.Client) -> None:
    for path, params in NUL_QUERIES:
        r = c.get(path, params=params)
        assert r.status_code < 500, (path, params, r.status_code, r.text)
        if r.status_code >= 400:
            assert r.headers["content-type"] == PROBLEM, r.text
    r = upload(c, graphdef(7), name="nul\x00name.pb", output="y", select="GL1\x00")
    assert r.status_code in (201, 422), r.text
    r = upload(c, graphdef(8), name="nul\x00name.pb", output="y\x00")
    assert r.status_code in (201, 422), r.text
    if r.status_code == 201:
        assert "\x00" not in r.json()["name"]


def test_nul_in_parameters_on_sqlite(server):
    with server.client() as c:
        assert upload(c, graphdef(), output="y").status_code == 201
        _check_nul_queries(c)
        assert c.get("/v1/reports", params={"name": "a\x00b"}).json()["items"] == []
    assert "Traceback" not in server.output()


@pytest.fixture()
def own_postgres():
    """A PostgreSQL server of this test alone, which it may stop and start."""
    server = Postgres().start()
    yield server
    server.stop()


def test_postgres_nul_is_422_and_a_database_down_is_503(make_server, own_postgres):
    server = make_server("--database-url", own_postgres.new_database())
    with server.client() as c:
        first = upload(c, graphdef(), output="y")
        assert first.status_code == 201, first.text
        r = c.get("/v1/reports", params={"name": "a\x00b"})
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
        _check_nul_queries(c)
        stored = len(c.get("/v1/reports").json()["items"])

        own_postgres.halt()
        for r in (upload(c, graphdef(1), output="y"), c.get("/v1/reports"), c.get(f"/v1/reports/{first.json()['id']}"),
                  c.get(f"/v1/reports/{first.json()['id']}/graph"), c.get("/readyz")):
            assert r.status_code == 503 and r.headers["content-type"] == PROBLEM, (r.request.url, r.text)
            assert "Retry-After" in r.headers or r.request.url.path == "/readyz"

        own_postgres.resume()
        assert c.get("/readyz").status_code == 200
        assert c.get(f"/v1/reports/{first.json()['id']}").json()["id"] == first.json()["id"]
        again = upload(c, graphdef(1), output="y")
        assert again.status_code == 201, again.text
        assert len(c.get("/v1/reports").json()["items"]) == stored + 1
    assert "Traceback" not in server.output()
