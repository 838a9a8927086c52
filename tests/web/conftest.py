"""Fixtures for the viewer tests in a real browser: a real ``graphlint serve`` on a free loopback port with a temp
data dir, and Debian's chromium driven by Playwright.

Outside CI, the browser tests are skipped when Playwright, chromium or the built viewer (``npm run build`` in
``web/``) is missing; in CI (``CI`` set) they fail instead, so a missing install step cannot hide.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import graphlint

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from local_services import free_port

WEB_DIR = Path(graphlint.__file__).parent / "_web"
CHROMIUM = os.environ.get("GRAPHLINT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
MAX_UPLOAD_MB = 1  # the test server refuses uploads over this, for the oversized-file case


def require(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) when something the browser tests need is missing."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


class Server:
    """A ``graphlint serve`` child process."""

    def __init__(self, data_dir: Path, max_upload_mb: float = MAX_UPLOAD_MB, extra_args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = data_dir / "server.log"
        env = {**os.environ, "GRAPHLINT_WEB_DIR": str(WEB_DIR)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "graphlint", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(data_dir / "data"), "--max-upload-mb", str(max_upload_mb), "--lint-workers", "1",
             "--log-level", "warning", *extra_args],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"graphlint serve exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, urllib.error.URLError), \
                    urllib.request.urlopen(self.url + "healthz", timeout=2) as res:
                if res.status == 200:
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"graphlint serve did not answer:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as res:
            return json.loads(res.read())

    def upload(self, name: str, data: bytes, targets=("float", "int8"), outputs=()) -> dict:
        """Upload through the API (for tests whose subject is not the upload form)."""
        boundary = "graphlint-test-boundary"
        parts = [(b'Content-Disposition: form-data; name="file"; filename="%s"\r\n'
                  b"Content-Type: application/octet-stream\r\n\r\n" % name.encode()) + data]
        parts += [b'Content-Disposition: form-data; name="target"\r\n\r\n' + t.encode() for t in targets]
        parts += [b'Content-Disposition: form-data; name="output"\r\n\r\n' + o.encode() for o in outputs]
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
        body += b"--" + boundary.encode() + b"--\r\n"
        req = urllib.request.Request(self.url + "v1/reports", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(req, timeout=120) as res:
            return json.loads(res.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="session")
def viewer_built() -> None:
    """The built viewer and the api extra a server needs to serve it."""
    require((WEB_DIR / "index.html").is_file(),
            f"the viewer is not built ({WEB_DIR}): cd web && npm ci && npm run build")
    require(importlib_ok("fastapi") and importlib_ok("uvicorn"), "the api extra is not installed")


@pytest.fixture(scope="session")
def server(tmp_path_factory, viewer_built):
    srv = Server(tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


def importlib_ok(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@pytest.fixture(scope="session")
def browser():
    require(importlib_ok("playwright"), "playwright is not installed (pip install playwright)")
    require(Path(CHROMIUM).exists(), f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh page on the server; fails the test on any uncaught script error or any request elsewhere."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    foreign: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # no CDN, no network: every request the page makes goes to the service (or is a local blob/data URL)
    pg.on("request", lambda r: None if r.url.startswith((server.url, "blob:", "data:")) else foreign.append(r.url))
    pg.goto(server.url)
    yield pg
    context.close()
    assert not errors, f"script errors on the page: {errors}"
    assert not foreign, f"requests outside the service: {foreign}"
