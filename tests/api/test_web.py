"""The viewer's static files at ``/``: served when built, never shadowing the API; a hint page when not built."""

from __future__ import annotations


def test_not_built_page(server):
    with server.client() as c:
        r = c.get("/")
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        assert "npm run build" in r.text


def test_built_viewer_is_served_without_shadowing_the_api(make_server, tmp_path):
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>viewer</title>")
    (web / "assets" / "app.js").write_text("console.log(1)")
    (web / "v1").mkdir()
    (web / "v1" / "rules").write_text("static file that must never answer for the API")
    (web / "healthz").write_text("shadow")
    server = make_server(env={"GRAPHLINT_WEB_DIR": str(web)})
    with server.client() as c:
        assert c.get("/").text.startswith("<!doctype html><title>viewer")
        assert c.get("/assets/app.js").text == "console.log(1)"
        rules = c.get("/v1/rules")
        assert rules.headers["content-type"] == "application/json" and rules.json()[0]["code"].startswith("GL")
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/missing.js").status_code == 404
