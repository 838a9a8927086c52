"""``graphlint check --server``: the same output and exit code as a local check, in every format."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading

import pytest

from .conftest import graphdef

TOKEN = "ci-token-0123456789abcdef"


def _check(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphlint", "check", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "NO_COLOR": "1", **(env or {})}, timeout=120)


@pytest.fixture()
def secured(make_server, tmp_path):
    (tmp_path / "tokens").write_text(f"ci:{TOKEN}\n")
    return make_server("--token-file", str(tmp_path / "tokens"))


def _without_timings(text: str) -> object:
    data = json.loads(text)
    for report in data if isinstance(data, list) else [data]:
        report.pop("timings_ms")
    return data


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_remote_check_prints_what_a_local_check_prints(secured, tmp_path, fmt):
    (tmp_path / "broken.pb").write_bytes(graphdef(broken=True))
    (tmp_path / "clean.pb").write_bytes(graphdef())
    (tmp_path / "graphlint.toml").write_text('ignore = ["GL102"]\n[severity]\nGL004 = "warning"\n')
    for models in (["broken.pb"], ["clean.pb"], ["clean.pb", "broken.pb"]):
        args = [*models, "-f", fmt, "-t", "float,tflm"]
        local = _check(*args, cwd=tmp_path)
        remote = _check(*args, "--server", secured.url, "--token", TOKEN, cwd=tmp_path)
        assert remote.returncode == local.returncode, remote.stderr
        assert remote.stderr == local.stderr
        if fmt == "json":
            assert _without_timings(remote.stdout) == _without_timings(local.stdout)
        else:
            assert remote.stdout == local.stdout
    assert _check("broken.pb", "--server", secured.url, "--token", TOKEN, cwd=tmp_path).returncode == 1


def test_remote_check_of_unreadable_files_exits_2(secured, tmp_path):
    (tmp_path / "junk.pb").write_bytes(b"\xff" * 64)
    for args in (["junk.pb"], ["missing.pb"], ["junk.pb", "-f", "json"]):
        local = _check(*args, cwd=tmp_path)
        remote = _check(*args, cwd=tmp_path, env={"GRAPHLINT_SERVER": secured.url, "GRAPHLINT_TOKEN": TOKEN})
        assert (remote.returncode, remote.stderr) == (local.returncode, local.stderr) == (2, local.stderr)
        if "-f" not in args:
            assert remote.stdout == local.stdout


def test_server_errors_are_one_line_and_exit_2(secured, tmp_path):
    (tmp_path / "m.pb").write_bytes(graphdef())
    no_token = _check("m.pb", "--server", secured.url, cwd=tmp_path)
    assert no_token.returncode == 2 and no_token.stderr.count("\n") == 1
    assert "answered 401" in no_token.stderr and no_token.stdout == ""
    secured.kill()
    down = _check("m.pb", "--server", secured.url, "--token", TOKEN, cwd=tmp_path)
    assert down.returncode == 2 and down.stderr.startswith("graphlint: error: cannot reach")
    assert "Traceback" not in down.stderr


@pytest.mark.parametrize("body", [b"[]", b'"a report"', b"{}", b'{"model": 1, "targets": {}}',
                                  b'{"model": {}, "targets": []}'])
def test_an_answer_that_is_not_a_report_is_one_line_and_exits_2(tmp_path, body):
    # A proxy or another service on the port may answer 200 with JSON that is no report: one line, never a traceback.
    class NotGraphlint(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotGraphlint)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    (tmp_path / "m.pb").write_bytes(graphdef())
    try:
        proc = _check("m.pb", "--server", f"http://127.0.0.1:{other.server_port}", cwd=tmp_path)
    finally:
        other.shutdown()
        other.server_close()
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "did not answer with a report" in proc.stderr and "Traceback" not in proc.stderr
