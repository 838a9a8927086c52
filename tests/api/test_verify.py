"""``POST /v1/reports?verify=true`` on a real server: the lint answers at once, the verification runs as a job
with the real converter, LiteRT and TFLite Micro (in conversion workers), and the stored report gains
``targets[T].verified`` when it is done."""

from __future__ import annotations

import os
import time

import pytest

from graphlint.testing import GraphBuilder
from tests.conftest import tensorflow_version

from .conftest import graphdef, upload


def _digamma() -> bytes:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.op("Digamma", [x], name="y")
    return b.to_bytes()


def _wait_verified(c, report_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = c.get(f"/v1/reports/{report_id}").json()
        if report["verification"]["status"] in ("done", "failed"):
            return report
        time.sleep(0.5)
    raise AssertionError(f"verification of {report_id} did not finish: {report['verification']}")


@pytest.mark.tf
@pytest.mark.converter
def test_verify_runs_as_a_job_and_lands_in_the_stored_report(server):
    if tensorflow_version() is None:
        pytest.skip("verification needs tensorflow-cpu (pip install -e '.[test]')")
    with server.client() as c:
        created = upload(c, _digamma(), name="digamma.pb", output="y", target="float,gpu", ignore="GL301",
                         verify="true")
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["targets"]["float"]["verdict"] == "pass"  # GL301 ignored: the prediction is wrong
        assert body["verification"]["status"] in ("queued", "running") and body["verification"]["job"]
        assert "verified" not in body["targets"]["float"]
        # the server keeps answering while the job runs
        assert upload(c, graphdef(3), output="y").status_code == 201
        report = _wait_verified(c, body["id"])
        assert report["verification"]["status"] == "done", report["verification"]
        assert report["verification"]["summary"] == {"confirmed": 0, "contradicted": 1, "not_run": 1}
        verified = report["targets"]["float"]["verified"]
        assert verified["status"] == "contradicted" and verified["actual"] == "fail"
        assert "Digamma" in verified["message"]
        assert verified["reproduce"] == ("graphlint convert digamma.pb --target float -o digamma.float.tflite "
                                         "--input x:1,8 --output y")
        assert report["targets"]["gpu"]["verified"]["status"] == "not-run"
        assert report["targets"]["float"]["verdict"] == "pass"  # the prediction is kept as it was
        job = c.get(f"/v1/jobs/{body['verification']['job']}").json()
        assert job["status"] == "done" and job["result"]["verified"]["float"]["status"] == "contradicted"
        # asking again for the same model and options: the stored, verified report; no second job
        again = upload(c, _digamma(), name="digamma.pb", output="y", target="float,gpu", ignore="GL301",
                       verify="true")
        assert again.status_code == 200
        assert again.json()["verification"] == report["verification"]
        assert again.json()["targets"] == report["targets"]
        sarif = c.get(f"/v1/reports/{body['id']}/sarif").json()
        assert sarif["runs"][0]["properties"]["verified"]["digamma.pb"]["float"] == verified


def test_verify_on_a_server_without_tensorflow_says_so(make_server, tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    # the server process finds no `tensorflow` (as after `pip install graphlint[api]` alone)
    (shim / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'tensorflow':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, _Block())\n")
    server = make_server(env={"PYTHONPATH": os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH"))
                                                          if p)})
    with server.client() as c:
        created = upload(c, graphdef(), output="y", verify="true")
        assert created.status_code == 201, created.text
        verification = created.json()["verification"]
        assert verification["status"] == "failed" and verification["job"] is None
        assert "pip install 'graphlint[convert]'" in verification["message"]
        assert c.get(f"/v1/reports/{created.json()['id']}").json()["verification"] == verification
        plain = upload(c, graphdef(1), output="y")
        assert "verification" not in plain.json()
