"""The viewer's "verify" toggle in Debian's chromium against a real ``graphlint serve``: the check answers at
once, then each verdict card says what the real converter and LiteRT did (the server runs them in a job)."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from graphlint.testing import GraphBuilder
from tests.conftest import tensorflow_version

pytestmark = [pytest.mark.tf, pytest.mark.converter]
VERIFY_TIMEOUT_MS = 600_000  # the first job starts a conversion worker (TensorFlow import) on a busy machine


def _digamma() -> bytes:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.op("Digamma", [x], name="y")
    return b.to_bytes()


def _post(server, data: bytes, **params: str) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    req = urllib.request.Request(f"{server.url}v1/reports?{query}", data=data, method="POST",
                                 headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(req, timeout=120) as res:
        return json.loads(res.read())


@pytest.fixture(autouse=True)
def _needs_tensorflow():
    if tensorflow_version() is None:
        pytest.skip("verification needs tensorflow-cpu (pip install -e '.[test]')")


def test_verify_toggle_marks_each_verdict_confirmed(page, server):
    page.set_input_files("#model-file", {"name": "digamma.pb", "mimeType": "application/octet-stream",
                                         "buffer": _digamma()})
    page.locator("details.io summary").click()
    page.fill("#io-outputs", "y")
    page.check("#verify-toggle")
    page.get_by_role("button", name="Check the model").click()
    page.wait_for_url(re.compile(r"#/report/"))
    stored = server.get(f"v1/reports/{page.url.rsplit('/', 1)[1]}")
    assert stored["verification"]["job"], "the toggle asks the service to verify"
    status = page.locator(".verification")
    assert "Verifying" in status.inner_text() or "Verified" in status.inner_text()
    page.wait_for_selector(".verification.vs-done", timeout=VERIFY_TIMEOUT_MS)
    for target in ("float", "int8"):  # Digamma has no builtin: predicted fail, and the converter refuses
        line = page.locator(".verdict", has=page.locator(".vt", has_text=re.compile(f"^{target}$"))).locator(".vver")
        assert line.get_attribute("data-verified") == "confirmed"
        assert line.inner_text() == "confirmed by the real tools (fail)"
    assert status.inner_text() == "Verified: 2 confirmed, 0 contradicted, 0 not run."


def test_a_contradiction_shows_the_real_error_and_the_reproduction(page, server):
    report = _post(server, _digamma(), name="digamma.pb", output="y", target="float", ignore="GL301", verify="true")
    page.goto(f"{server.url}#/report/{report['id']}")
    page.wait_for_selector(".verification.vs-done", timeout=VERIFY_TIMEOUT_MS)
    card = page.locator(".verdict", has=page.locator(".vt", has_text=re.compile("^float$")))
    assert card.locator(".vv").inner_text().lower() == "pass"  # the prediction, GL301 being ignored
    line = card.locator(".vver")
    assert line.get_attribute("data-verified") == "contradicted"
    assert "contradicted: the real tools say fail" in line.inner_text() and "Digamma" in line.inner_text()
    assert card.locator(".vrepro").inner_text() == ("graphlint convert digamma.pb --target float -o "
                                                    "digamma.float.tflite --input x:1,8 --output y")
