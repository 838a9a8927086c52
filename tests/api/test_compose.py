"""docker-compose.yml, checked without Docker: its topology, and that every graphlint command in it uses only flags
(and environment variables) that ``graphlint serve`` and ``graphlint worker`` accept."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML reads the compose file (pip install pyyaml)")

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
_OPTION = re.compile(r"^  (?:-\w, )?(--[a-z][a-z0-9-]*)", re.MULTILINE)  # an option line of argparse's help
_VARIABLE = re.compile(r"\[(GRAPHLINT_[A-Z0-9_]+)\]")


@functools.cache
def _help(command: str) -> str:
    out = subprocess.run([sys.executable, "-m", "graphlint", command, "--help"], capture_output=True, text=True,
                         check=True, timeout=120)
    return out.stdout


def accepted_flags(command: str) -> set[str]:
    """The flags ``graphlint COMMAND --help`` lists."""
    return set(_OPTION.findall(_help(command)))


def accepted_variables(command: str) -> set[str]:
    """The GRAPHLINT_* variables a command reads: those its --help names, and for ``serve`` every setting."""
    names = set(_VARIABLE.findall(_help(command)))
    if command == "serve":
        from graphlint.api.settings import Settings

        names |= {f"GRAPHLINT_{field.upper()}" for field in Settings.model_fields}
    return names


def command_problems(service: str, spec: dict) -> list[str]:
    """What is wrong with one compose service's graphlint command and environment (empty when nothing is)."""
    command = spec.get("command")
    if not isinstance(command, list) or not command or command[0] not in ("serve", "worker"):
        return [f"{service}: the command is not a list starting with `serve` or `worker`: {command!r}"]
    problems = []
    flags = accepted_flags(command[0])
    for word in command[1:]:
        flag = str(word).split("=", 1)[0]
        if flag.startswith("--") and flag not in flags:
            problems.append(f"{service}: `graphlint {command[0]}` has no flag `{flag}`")
    variables = accepted_variables(command[0])
    for name in spec.get("environment") or {}:
        if name.startswith("GRAPHLINT_") and name not in variables:
            problems.append(f"{service}: `graphlint {command[0]}` does not read `{name}`")
    return problems


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text("utf-8"))


def _graphlint_services(compose: dict, command: str) -> dict[str, dict]:
    return {name: spec for name, spec in compose["services"].items()
            if isinstance(spec.get("command"), list) and spec["command"][:1] == [command]}


def test_every_graphlint_command_uses_flags_the_cli_accepts(compose):
    services = {**_graphlint_services(compose, "serve"), **_graphlint_services(compose, "worker")}
    assert services
    assert [p for name, spec in services.items() for p in command_problems(name, spec)] == []


def test_the_check_finds_a_flag_the_cli_does_not_accept():
    assert command_problems("api", {"command": ["serve", "--blob-store", "/blobs", "--max-queued", "8"]}) == \
        ["api: `graphlint serve` has no flag `--max-queued`"]
    assert command_problems("w", {"command": ["worker", "--port=1"], "environment": {"GRAPHLINT_NOPE": "1"}}) == \
        ["w: `graphlint worker` has no flag `--port`", "w: `graphlint worker` does not read `GRAPHLINT_NOPE`"]
    assert command_problems("w", {"command": "graphlint worker"})


def _value(command: list[str], flag: str) -> str | None:
    return command[command.index(flag) + 1] if flag in command else None


def test_the_topology_is_postgres_two_replicas_behind_a_proxy_and_two_workers(compose):
    services = compose["services"]
    apis, workers = _graphlint_services(compose, "serve"), _graphlint_services(compose, "worker")
    assert len(apis) == 2 and len(workers) == 2
    assert services["postgres"]["image"].startswith("postgres:") and "healthcheck" in services["postgres"]
    for name, spec in {**apis, **workers}.items():
        assert spec["build"]["context"] == "." and (COMPOSE.parent / "Dockerfile").is_file(), name
        assert spec["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert spec["environment"]["GRAPHLINT_DATABASE_URL"].startswith("postgresql://"), name
        assert "@postgres:" in spec["environment"]["GRAPHLINT_DATABASE_URL"], name
        blob_store = _value(spec["command"], "--blob-store")
        assert f"blobs:{blob_store}" in spec["volumes"], name  # one shared volume, where the command looks
    assert all("team" in spec["build"]["args"]["EXTRAS"].split(",") for spec in {**apis, **workers}.values())
    assert all("convert" in spec["build"]["args"]["EXTRAS"].split(",") for spec in workers.values())
    assert not any("convert" in spec["build"]["args"]["EXTRAS"].split(",") for spec in apis.values())
    proxy = services["proxy"]
    caddyfile = compose["configs"][proxy["configs"][0]["source"]]["content"]
    ports = {_value(spec["command"], "--port") for spec in apis.values()}
    assert all(f"{name}:{port}" in caddyfile for name in apis for port in ports)
    assert set(proxy["depends_on"]) == set(apis) and proxy["ports"]
    assert not any("ports" in spec for spec in {**apis, **workers}.values())  # only through the proxy
    assert {"postgres", "blobs"} <= set(compose["volumes"])
