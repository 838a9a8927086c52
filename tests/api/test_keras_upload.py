"""Keras files over the API: an upload is traced and linted like the CLI does, a bad one is a 422 before anything
is stored, and a fix-and-convert job converts it (and a SavedModel archive) with from_saved_model, without fixes,
saying so."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from .conftest import upload
from .test_jobs import _tensorflow_libraries, _wait


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def _zip_dir(directory: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                zf.write(path, Path("model") / path.relative_to(directory))
    return buf.getvalue()


def test_bad_keras_uploads_are_refused_before_anything_is_stored(server):
    with server.client() as c:
        not_zip = _problem(upload(c, b"not a zip at all", name="net.keras"), 422)
        assert not_zip["type"].endswith("/bad-keras") and "it is not a zip archive" in not_zip["detail"]
        damaged = _problem(upload(c, b"\x89HDF\r\n\x1a\n" + b"\x00" * 64, name="model.pb"), 422)
        assert "HDF5 superblock is damaged" in damaged["detail"]
        job = c.post("/v1/jobs", files={"file": ("net.h5", b"\x00" * 64)}, data={"target": "float"})
        assert "does not start with the HDF5 signature" in _problem(job, 422)["detail"]
        assert c.get("/v1/reports").json()["items"] == [] and c.get("/v1/jobs").json() == {"items": []}


@pytest.mark.tf
def test_keras_upload_is_linted_and_converted_without_fixes(server, keras_models):
    with server.client() as c:
        r = upload(c, (keras_models / "one.keras").read_bytes(), name="one.keras", target="float,int8")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["model"]["format"] == "keras"
        conv = next(f for f in body["findings"] if f["code"] == "GL404")
        assert conv["data"]["keras_layer"] == "conv1"
        keras_job = c.post("/v1/jobs", data={"report_id": body["id"], "target": "float", "fix": "true"})
        archive_job = c.post("/v1/jobs", files={"file": ("one.zip", _zip_dir(keras_models / "one_sm"))},
                             data={"target": "int8"})
        assert keras_job.status_code == archive_job.status_code == 202, (keras_job.text, archive_job.text)
        done = _wait(c, keras_job.json()["id"])
        assert done["status"] == "done", done
        assert done["result"]["fix"]["status"] == "not-applied" and "fixes not applied" in done["message"]
        assert done["result"]["verdict"] == "pass" and "model.tflite" in done["result"]["files"]
        archived = _wait(c, archive_job.json()["id"])
        assert archived["status"] == "done" and archived["result"]["checks"]["integer_only"], archived
    assert _tensorflow_libraries(server.proc.pid) == []  # traced and converted in the conversion workers only
