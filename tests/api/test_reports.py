"""``/v1/reports`` against a real server: upload shapes, content addressing, listing, graph, SARIF, errors."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

import graphlint
from graphlint.engine.select import Selection
from tests.test_formats import nan_scale_tflite

from .conftest import graphdef, tflite, upload


def test_raw_upload_returns_the_cli_report_plus_id(server, tmp_path):
    data = graphdef(broken=True)
    with server.client() as c:
        r = upload(c, data, name="nets/broken.pb", output="y", target="float", select="GL1")
        assert r.status_code == 201, r.text
        assert r.headers["location"] == f"/v1/reports/{r.json()['id']}"
        body = r.json()
    (tmp_path / "broken.pb").write_bytes(data)
    local = graphlint.lint(tmp_path / "broken.pb", targets=["float"], outputs=["y"], name="nets/broken.pb",
                           selection=Selection(select=("GL1",))).to_dict()
    assert body["name"] == "nets/broken.pb" and len(body["id"]) == 32 and body["created_at"].endswith("Z")
    for key in ("schema_version", "model", "targets", "findings", "stats", "rules_run"):
        assert body[key] == local[key], key
    assert [f["code"] for f in body["findings"]] == ["GL101", "GL102"]


def test_multipart_upload_with_repeated_fields(server):
    with server.client() as c:
        r = c.post("/v1/reports", files={"file": ("m.tflite", tflite(), "application/octet-stream")},
                   data={"target": ["int8", "tflm"]})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["name"] == "m.tflite" and body["model"]["format"] == "tflite"
        assert list(body["targets"]) == ["int8", "tflm"]
        r2 = c.post("/v1/reports", files={"file": ("m.tflite", tflite())}, data={"target": "int8,tflm"})
        assert r2.status_code == 200 and r2.json()["id"] == body["id"]


def test_same_model_and_options_is_content_addressed(server):
    data = graphdef()
    with server.client() as c:
        first = upload(c, data, output="y")
        again = upload(c, data, output="y", name="other-name.pb")
        other_options = upload(c, data, output="y", target="tflm")
        assert (first.status_code, again.status_code, other_options.status_code) == (201, 200, 201)
        assert again.json() == first.json()
        assert other_options.json()["id"] != first.json()["id"]
        assert c.get(f"/v1/reports/{first.json()['id']}").json() == first.json()


def test_list_paginates_and_filters(server):
    with server.client() as c:
        ids = [upload(c, graphdef(n), name=f"m{n % 2}.pb", output="y").json()["id"] for n in range(5)]
        sha = c.get(f"/v1/reports/{ids[0]}").json()["model"]["sha256"]
        seen, cursor = [], None
        while True:
            page = c.get("/v1/reports", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
            assert len(page["items"]) <= 2
            seen += [item["id"] for item in page["items"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert seen == ids[::-1]
        item = c.get("/v1/reports", params={"sha256": sha}).json()["items"]
        assert [i["id"] for i in item] == [ids[0]]
        assert set(item[0]) == {"id", "name", "sha256", "created_at", "format", "targets", "findings"}
        assert item[0]["targets"] == {"float": "pass", "int8": "pass"} and item[0]["format"] == "graphdef"
        named = c.get("/v1/reports", params={"name": "m1.pb"}).json()["items"]
        assert [i["id"] for i in named] == [ids[3], ids[1]]


def test_graph_and_sarif_of_a_stored_report(server):
    with server.client() as c:
        report = upload(c, graphdef(broken=True), output="y", select="GL1").json()
        graph = c.get(f"/v1/reports/{report['id']}/graph")
        assert graph.status_code == 200 and graph.headers["content-type"] == "application/json"
        nodes = {n["id"]: n for n in graph.json()["nodes"]}
        assert nodes["w"]["severity"] == "error" and nodes["w"]["findings"] == [0]
        assert graph.headers["content-encoding"] == "deflate"  # httpx accepts it; the stored bytes are sent
        for accept in ("identity", "gzip, deflate;q=0"):
            plain = c.get(f"/v1/reports/{report['id']}/graph", headers={"Accept-Encoding": accept})
            assert "content-encoding" not in plain.headers and plain.json() == graph.json()
        sarif = c.get(f"/v1/reports/{report['id']}/sarif")
        assert sarif.status_code == 200
        results = json.loads(sarif.text)["runs"][0]["results"]
        assert [r["ruleId"] for r in results] == ["GL101", "GL102"]


def test_a_model_with_nan_scales_is_reported_not_a_500(server):
    with server.client() as c:
        r = upload(c, nan_scale_tflite(), name="nan.tflite")
        assert r.status_code == 201, r.text
        assert r.json()["model"]["inputs"][0]["quantization"]["scale"] == ["nan"]
        again = c.get(f"/v1/reports/{r.json()['id']}")
        assert again.status_code == 200 and again.json()["model"] == r.json()["model"]
        assert c.get(f"/v1/reports/{r.json()['id']}/graph").status_code == 200


@pytest.mark.parametrize(("content", "code"), [
    (b"", "GL002"), (b"\xff" * 64, "GL001"), (graphdef()[:-7], "GL001"), (tflite()[:40], "GL001"),
], ids=["empty", "garbage", "truncated-pb", "truncated-tflite"])  # a damaged Keras file: test_keras_upload.py
def test_unreadable_uploads_are_stored_reports_with_one_fatal_finding(server, content, code):
    with server.client() as c:
        r = upload(c, content)
        assert r.status_code == 201, r.text
        body = r.json()
        assert [f["code"] for f in body["findings"]] == [code]
        assert body["model"]["format"] is None and body["targets"]["float"]["verdict"] == "fail"
        assert c.get(f"/v1/reports/{body['id']}").status_code == 200
        graph = c.get(f"/v1/reports/{body['id']}/graph")
        assert graph.status_code == 404 and graph.headers["content-type"] == "application/problem+json"
        assert c.get("/healthz").status_code == 200


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == status
    assert "Traceback" not in r.text
    return body


def test_error_statuses_are_problem_documents(server):
    with server.client() as c:
        _problem(c.get("/v1/reports/" + "0" * 32), 404)
        _problem(c.get("/v1/reports/not-an-id"), 404)
        _problem(c.get("/v1/nothing-here"), 404)
        _problem(c.get("/v1/rules/GL999"), 404)
        _problem(c.post("/v1/reports", content=b"{}", headers={"Content-Type": "application/json"}), 415)
        _problem(upload(c, graphdef(), target="tpu"), 422)
        _problem(upload(c, graphdef(), input="x:1,a"), 422)
        _problem(upload(c, graphdef(), severity="GL101=fatal"), 422)
        _problem(c.get("/v1/reports", params={"limit": 0}), 422)
        _problem(c.get("/v1/reports", params={"cursor": "abc"}), 422)
        _problem(c.get("/v1/reports", params={"sha256": "xyz"}), 422)
        _problem(c.post("/v1/reports", files={"other": ("a", b"x")}), 422)
        _problem(c.post("/v1/reports", content=b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nab",
                        headers={"Content-Type": "multipart/form-data; boundary=x"}), 422)
        _problem(c.post("/v1/reports", content=b"abc", headers={"Content-Type": "multipart/form-data"}), 422)
        _problem(c.delete("/v1/reports"), 405)
        assert c.get("/v1/reports").json()["items"] == []  # nothing of the above was stored


def test_upload_over_the_cap_is_refused_before_it_is_read(make_server):
    server = make_server("--max-upload-mb", "1")
    size = 64 << 20
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(f"POST /v1/reports?name=big.pb HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n".encode()
                     + b"\0" * 4096)
        answer = sock.recv(65536).decode("latin-1")  # the server answers with 63.99 MB still unsent
    assert answer.startswith("HTTP/1.1 413") and "application/problem+json" in answer


def test_chunked_upload_is_cut_at_the_cap(make_server):
    server = make_server("--max-upload-mb", "1")

    def body():
        for _ in range(64):
            yield b"\0" * (64 << 10)  # 4 MB in all, no Content-Length

    with server.client() as c:
        r = c.post("/v1/reports", content=body(), headers={"Content-Type": "application/octet-stream"})
        _problem(r, 413)
        multipart = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.pb\"\r\n\r\n"
        r = c.post("/v1/reports", content=iter([multipart, *body()]),
                   headers={"Content-Type": "multipart/form-data; boundary=b"})
        _problem(r, 413)
        assert c.get("/v1/reports").json()["items"] == []
    assert not any((server.data_dir / "tmp").iterdir())  # no partial upload left behind


def test_names_never_touch_the_filesystem(server):
    with server.client() as c:
        r = c.post("/v1/reports", files={"file": ("../../../../tmp/evil.pb", graphdef())})
        assert r.status_code == 201 and r.json()["name"] == "../../../../tmp/evil.pb"  # kept as text only
        raw = upload(c, graphdef(1), name="/etc/evil\x00\n.pb")
        assert raw.status_code == 201 and raw.json()["name"] == "/etc/evil.pb"  # control characters dropped
    files = sorted(p.relative_to(server.data_dir).as_posix() for p in server.data_dir.rglob("*") if p.is_file())
    sha = r.json()["model"]["sha256"]
    assert f"models/{sha[:2]}/{sha}" in files
    assert not any("evil" in f for f in files)


def test_rules_endpoints(server):
    with server.client() as c:
        rules = c.get("/v1/rules").json()
        codes = [r["code"] for r in rules]
        assert codes == sorted(codes) and "GL101" in codes and "GL900" not in codes
        assert "GL900" in [r["code"] for r in c.get("/v1/rules", params={"all": True}).json()]
        doc = c.get("/v1/rules/GL101").json()
        assert doc["name"] == "unfrozen-variable" and "## What it does" in doc["doc"]
        assert c.get("/v1/rules/unfrozen-variable").json()["code"] == "GL101"


def test_health_metrics_and_no_cors_by_default(server):
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json()["database"] == "sqlite"
        upload(c, graphdef(), output="y")
        metrics = c.get("/metrics").text
        assert 'graphlint_http_requests_total{method="POST",route="/v1/reports",status="201"} 1.0' in metrics
        assert 'graphlint_reports_total{outcome="created"} 1.0' in metrics
        preflight = c.options("/v1/reports", headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers
        assert "access-control-allow-origin" not in c.get("/v1/rules", headers={"Origin": "https://x"}).headers


def test_cors_when_enabled(make_server):
    server = make_server("--cors-origin", "https://viewer.example")
    with server.client() as c:
        r = c.get("/v1/rules", headers={"Origin": "https://viewer.example"})
        assert r.headers["access-control-allow-origin"] == "https://viewer.example"
        assert "access-control-allow-origin" not in c.get("/v1/rules", headers={"Origin": "https://x"}).headers


def test_a_lint_over_the_time_limit_is_stopped_and_the_server_goes_on(make_server):
    from graphlint.testing import GraphBuilder

    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    for i in range(30_000):  # linting this takes seconds, far over the limit below
        x = b.op("Relu", [x], name=f"r{i}")
    server = make_server(env={"GRAPHLINT_LINT_TIMEOUT_S": "1"})
    with server.client() as c:
        body = _problem(upload(c, b.to_bytes()), 422)
        assert body["type"].endswith("/lint-timeout")
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
        assert c.get("/v1/reports").json()["items"] == []
        assert "graphlint_lint_pool_restarts 1.0" in c.get("/metrics").text


@pytest.mark.parametrize(("header", "accepted"), [
    ("gzip, deflate, br, zstd", True), ("DEFLATE", True), ("*", True), ("deflate;q=0.5", True),
    ("deflate;q=0", False), ("gzip", False), ("", False), (None, False), ("deflate;q=x", False),
    ("gzip;q=1, *;q=0", False), ("*, deflate;q=0", False), ("deflate;q=1, *;q=0", True),
])
def test_accept_encoding(header, accepted):
    from graphlint.api.service import accepts_encoding

    assert accepts_encoding(header, "deflate") is accepted
