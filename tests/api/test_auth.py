"""Tokens: every /v1 call needs one when a token file is set, and a token sees only its own reports."""

from __future__ import annotations

import pytest

from graphlint.api.auth import TokenFileError, parse_tokens

from .conftest import graphdef, upload

ALICE, BOB = "alice-token-0123456789abcdef", "bob-token-0123456789abcdef01"


@pytest.fixture()
def secured(make_server, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# team tokens\nalice:{ALICE}\n\nbob:{BOB}\n")
    return make_server("--token-file", str(tokens)), tokens


def test_every_v1_call_needs_a_valid_bearer_token(secured):
    server, _ = secured
    with server.client() as anonymous, server.client("wrong-token-0123456789") as wrong:
        for c in (anonymous, wrong):
            for method, path in (("GET", "/v1/reports"), ("GET", "/v1/rules"), ("GET", "/v1/rules/GL101"),
                                 ("GET", "/v1/reports/" + "0" * 32), ("GET", "/v1/jobs/" + "0" * 32),
                                 ("POST", "/v1/reports"), ("POST", "/v1/jobs")):
                r = c.request(method, path, content=graphdef() if method == "POST" else None)
                assert r.status_code == 401, (method, path, r.text)
                assert r.headers["content-type"] == "application/problem+json"
                assert r.headers["www-authenticate"].startswith("Bearer")
        basic = anonymous.get("/v1/rules", headers={"Authorization": "Basic YWxpY2U6eA=="})
        assert basic.status_code == 401
        assert anonymous.get("/healthz").status_code == 200 and anonymous.get("/metrics").status_code == 200
    with server.client() as c:
        assert c.get("/v1/reports").status_code == 401
    assert not any((server.data_dir / "models").rglob("*.*"))


def test_a_token_sees_only_its_own_reports(secured):
    server, _ = secured
    with server.client(ALICE) as alice, server.client(BOB) as bob:
        mine = upload(alice, graphdef(), output="y")
        assert mine.status_code == 201
        report_id = mine.json()["id"]
        assert bob.get(f"/v1/reports/{report_id}").status_code == 404
        assert bob.get(f"/v1/reports/{report_id}/graph").status_code == 404
        assert bob.get(f"/v1/reports/{report_id}/sarif").status_code == 404
        assert bob.get("/v1/reports").json()["items"] == []
        sha = mine.json()["model"]["sha256"]
        assert bob.get("/v1/reports", params={"sha256": sha}).json()["items"] == []
        theirs = upload(bob, graphdef(), output="y")  # same model and options: bob gets a report of his own
        assert theirs.status_code == 201 and theirs.json()["id"] != report_id
        assert [i["id"] for i in alice.get("/v1/reports").json()["items"]] == [report_id]


def test_token_file_changes_apply_without_restart(secured):
    server, tokens = secured
    carol = "carol-token-0123456789abcdef"
    with server.client(carol) as c:
        assert c.get("/v1/rules").status_code == 401
        tokens.write_text(f"alice:{ALICE}\ncarol:{carol}\n")
        assert c.get("/v1/rules").status_code == 200
    with server.client(BOB) as bob:
        assert bob.get("/v1/rules").status_code == 401  # revoked


def test_token_file_parsing():
    assert parse_tokens(f"alice:{ALICE}\n{BOB}\n") == {ALICE: "alice", BOB: parse_tokens(BOB)[BOB]}
    assert parse_tokens(BOB)[BOB].startswith("token-")
    for bad in ("", "# only a comment\n", "x:short", f"a:{ALICE}\nb:{ALICE}\n"):
        with pytest.raises(TokenFileError):
            parse_tokens(bad)


def test_serve_refuses_a_missing_token_file(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "graphlint", "serve", "--data-dir", str(tmp_path / "d"),
                           "--token-file", str(tmp_path / "missing")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("graphlint: error:") and proc.stderr.count("\n") == 1
