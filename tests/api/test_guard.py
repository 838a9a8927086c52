"""The browser surface of a real server: allowed hosts (DNS rebinding), cross-site writes, security headers,
Swagger UI from local files."""

from __future__ import annotations

import httpx

from .conftest import graphdef, upload

PROBLEM = "application/problem+json"


def _stored(c: httpx.Client) -> int:
    return len(c.get("/v1/reports").json()["items"])


def test_a_foreign_host_is_refused(server):
    """A rebinding page reaches 127.0.0.1 under its own name: the server must not answer for that name."""
    with server.client() as c:
        for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1.evil.example"):
            r = c.get("/v1/reports", headers={"Host": host})
            assert r.status_code == 400 and r.headers["content-type"] == PROBLEM, (host, r.text)
            assert r.json()["type"].endswith("/host-not-allowed")
            r = c.post("/v1/reports", content=graphdef(), params={"name": "m.pb"}, headers={"Host": host})
            assert r.status_code == 400, r.text
        for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "LOCALHOST", f"[::1]:{server.port}"):
            assert c.get("/healthz", headers={"Host": host}).status_code == 200, host
        assert _stored(c) == 0


def test_configured_hosts_are_served_besides_loopback(make_server):
    server = make_server("--allowed-host", "graphlint.internal", env={"GRAPHLINT_ALLOWED_HOSTS": "ignored.example"})
    with server.client() as c:
        assert c.get("/healthz", headers={"Host": "graphlint.internal:8000"}).status_code == 200
        assert c.get("/healthz", headers={"Host": "localhost"}).status_code == 200
        assert c.get("/healthz", headers={"Host": "other.example"}).status_code == 400


def test_cross_site_writes_are_refused_without_tokens(server):
    with server.client() as c:
        for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                        {"Origin": f"http://localhost:{server.port + 1}"},
                        {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
            r = c.post("/v1/reports", content=graphdef(), params={"name": "m.pb"}, headers=headers)
            assert r.status_code == 403 and r.headers["content-type"] == PROBLEM, (headers, r.text)
            assert r.json()["type"].endswith("/cross-site")
            files = {"file": ("m.pb", graphdef(), "application/octet-stream")}
            assert c.post("/v1/reports", files=files, headers=headers).status_code == 403
            assert c.post("/v1/jobs", data={"target": "float"}, files=files, headers=headers).status_code == 403
        assert _stored(c) == 0
        # Reads are not state-changing: a cross-site GET is answered (CORS keeps its body from the page).
        assert c.get("/v1/reports", headers={"Origin": "https://evil.example"}).status_code == 200
        # The viewer's own posts (same origin) and clients that are not browsers still work.
        same = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
        assert upload(c, graphdef(1), output="y").status_code == 201
        r = c.post("/v1/reports", content=graphdef(2), params={"name": "m.pb"}, headers=same)
        assert r.status_code == 201, r.text
        assert _stored(c) == 2


def test_a_cors_origin_may_post(make_server):
    server = make_server("--cors-origin", "https://ci.example")
    with server.client() as c:
        r = c.post("/v1/reports", content=graphdef(), params={"name": "m.pb"},
                   headers={"Origin": "https://ci.example", "Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 201, r.text
        assert r.headers["access-control-allow-origin"] == "https://ci.example"


def _assert_security_headers(r: httpx.Response) -> None:
    csp = r.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, r.url
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_security_headers_on_every_response(make_server, tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>viewer</title>")
    server = make_server(env={"GRAPHLINT_WEB_DIR": str(web)})
    with server.client() as c:
        report = upload(c, graphdef(), output="y")
        assert report.status_code == 201
        rid = report.json()["id"]
        responses = [report, c.get("/"), c.get("/index.html"), c.get("/missing.js"), c.get("/healthz"),
                     c.get("/readyz"), c.get("/metrics"), c.get("/openapi.json"), c.get("/docs"),
                     c.get("/v1/rules"), c.get(f"/v1/reports/{rid}"), c.get(f"/v1/reports/{rid}/graph"),
                     c.get(f"/v1/reports/{rid}/sarif"), c.get("/v1/reports/nope"), c.delete("/v1/reports"),
                     c.get("/v1/reports", params={"limit": "x"}), c.get("/healthz", headers={"Host": "evil.example"}),
                     c.post("/v1/reports", content=b"x", headers={"Origin": "https://evil.example"})]
        statuses = {r.status_code for r in responses}
        assert {200, 201, 400, 403, 404, 405, 422} <= statuses
        for r in responses:
            _assert_security_headers(r)


def test_docs_use_local_swagger_ui_only(server):
    with server.client() as c:
        page = c.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "http" not in page.text.replace("http-equiv", "")  # no CDN, no absolute URL of any kind
        assert "<script>" not in page.text  # nothing inline: the policy forbids it
        scripts = ["/docs/assets/swagger-ui-bundle.js", "/docs/init.js"]
        for src in scripts:
            assert f'src="{src}"' in page.text
            r = c.get(src)
            assert r.status_code == 200 and "javascript" in r.headers["content-type"], src
        css = c.get("/docs/assets/swagger-ui.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
        assert "/openapi.json" in c.get("/docs/init.js").text
        assert c.get("/redoc").status_code == 404  # FastAPI's ReDoc page loads from a CDN: it is off
