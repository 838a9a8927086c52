"""A SavedModel uploaded as an archive is linted like the directory; a hostile archive is a 422, nothing stored."""

from __future__ import annotations

import io
import zipfile

from tests.loaders.sm_fixtures import build
from tests.loaders.test_savedmodel import _zip_dir, _zip_of

from .conftest import upload


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def test_savedmodel_archives_are_linted_and_bad_ones_refused(server):
    sm = build()
    escape = io.BytesIO()
    with zipfile.ZipFile(escape, "w") as zf:
        zf.writestr("m/saved_model.pb", b"x")
        zf.writestr("m/../../etc/cron.d/x", b"x")
    with server.client() as c:
        r = upload(c, _zip_dir(sm / "module"), name="module.zip", target="float")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["model"]["format"] == "savedmodel"
        assert [i["name"] for i in body["model"]["inputs"]] == ["x"]
        assert body["targets"]["float"]["verdict"] == "pass"
        bad = _problem(upload(c, escape.getvalue(), name="escape.zip"), 422)
        assert bad["type"].endswith("/bad-archive") and "points outside the archive" in bad["detail"]
        bomb = _problem(upload(c, _zip_of(1_000_000), name="bomb.zip"), 422)
        assert "1,000,000 entries" in bomb["detail"]
        assert [item["id"] for item in c.get("/v1/reports").json()["items"]] == [body["id"]]
        assert c.get("/healthz").status_code == 200
