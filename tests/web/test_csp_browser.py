"""The service's Content-Security-Policy in a real browser: the viewer (module script, layout worker, styles)
and the local Swagger UI at /docs run under it without a single violation."""

from __future__ import annotations

from tests.web.models import scoped_graphdef
from tests.web.test_viewer_browser import upload_form, wait_drawn


def _violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text
            or "Refused to" in m.text else None)
    return found


def test_the_viewer_runs_under_the_policy(page, server):
    violations = _violations(page)
    page.reload()
    upload_form(page, "scoped.pb", scoped_graphdef(3).to_bytes())
    wait_drawn(page)  # laid out by the module worker, drawn into the page
    assert page.locator(".graph-svg [data-node]").count() > 0
    response = page.request.get(server.url)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert violations == []


def test_swagger_ui_runs_under_the_policy_from_local_files(page, server):
    violations = _violations(page)
    page.goto(server.url + "docs")
    page.wait_for_selector(".swagger-ui .information-container .title")
    assert "graphlint" in page.locator(".swagger-ui .information-container .title").inner_text()
    page.wait_for_selector(".opblock-tag-section")
    assert violations == []
