"""Per-token quotas of jobs queued or running, counted on all replicas together (team mode with a token file and
no worker, so that every job stays queued)."""

from __future__ import annotations

import pytest

from .conftest import Team, graphdef, upload

ALICE, BOB = "alice-token-0123456789abcdef", "bob-token-0123456789abcdef01"


@pytest.fixture(scope="module")
def team(make_team, tmp_path_factory) -> Team:
    tokens = tmp_path_factory.mktemp("tokens") / "tokens"
    tokens.write_text(f"alice:{ALICE}\nbob:{BOB}\n")
    return make_team("--token-file", str(tokens), "--max-queued-per-token", "2")


def _convert(client, report_id: str):
    return client.post("/v1/jobs", data={"report_id": report_id, "target": "float", "output": "y"})


def test_a_token_over_its_quota_gets_429_on_every_replica(team):
    with team.a.client(ALICE) as alice_a, team.b.client(ALICE) as alice_b, team.b.client(BOB) as bob:
        report = upload(alice_a, graphdef(), output="y").json()["id"]
        first = _convert(alice_a, report)
        assert first.status_code == 202 and _convert(alice_b, report).status_code == 202
        over = _convert(alice_b, report)
        assert over.status_code == 429 and over.headers["content-type"] == "application/problem+json"
        assert over.headers["retry-after"] == "30"
        problem = over.json()
        assert problem["type"].endswith("/job-quota") and problem["status"] == 429
        assert problem["quota"] == {"limit": 2, "active": 2, "setting": "GRAPHLINT_MAX_QUEUED_PER_TOKEN"}
        refused_upload = alice_a.post("/v1/jobs", files={"file": ("other.pb", graphdef(1))}, data={"output": "y"})
        assert refused_upload.status_code == 429  # refused before the body is stored
        assert not list((team.blob_store / "tmp").iterdir())
        verified = upload(alice_a, graphdef(2), output="y", verify="true")
        assert verified.status_code == 201  # the report is stored; its verification could not be queued
        assert verified.json()["verification"]["status"] == "failed"
        assert "quota" in verified.json()["verification"]["message"]
        bob_report = upload(bob, graphdef(), output="y").json()["id"]
        assert _convert(bob, bob_report).status_code == 202  # the quota is per token
        assert alice_b.delete(f"/v1/jobs/{first.json()['id']}").status_code == 200  # a cancelled job frees a place
        assert _convert(alice_a, report).status_code == 202
        assert _convert(alice_a, report).status_code == 429
