"""A real ``graphlint serve`` on loopback: started as a subprocess on a free port, stopped or killed by tests; a
real PostgreSQL server, and team mode (replicas and ``graphlint worker`` processes on one database and blob store).

Models are built in code (GraphDefs with :class:`graphlint.testing.GraphBuilder`, a tiny TFLite file with
:class:`graphlint.testing.TFLiteBuilder`), never downloaded.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from graphlint.testing import GraphBuilder, TFLiteBuilder

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from local_services import START_TIMEOUT, Postgres, Unavailable, free_port, start_serve, start_worker, stop_process

__all__ = ["Postgres", "free_port", "stop_process"]  # used by the tests of this package


class Server:
    """One ``graphlint serve`` process on a data dir; can be restarted on the same dir."""

    def __init__(self, data_dir: Path, log: Path, *args: str, env: dict | None = None) -> None:
        self.data_dir, self.log, self.args, self.env = data_dir, log, args, env or {}
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        """Start and wait until ``/readyz`` answers 200."""
        env = {"GRAPHLINT_LINT_WORKERS": "1", "GRAPHLINT_WEB_DIR": str(self.data_dir / "no-web"), **self.env}
        try:
            self.proc, self.port = start_serve(self.data_dir, self.log, self.args, env, START_TIMEOUT)
        except RuntimeError as err:
            pytest.fail(str(err), pytrace=False)
        return self

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")[-6000:]

    def stop(self) -> int:
        """SIGTERM and wait (graceful shutdown)."""
        return stop_process(self.proc, graceful=True, timeout=30) if self.proc else 0

    def kill(self) -> None:
        """SIGKILL the server (its lint workers notice their parent is gone and exit)."""
        if self.proc:
            stop_process(self.proc)

    def client(self, token: str | None = None, timeout: float = 60) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)


@pytest.fixture()
def make_server(tmp_path):
    """Factory: ``make_server(*serve_args, data_dir=..., env=...)``; every server is stopped at the end."""
    servers: list[Server] = []

    def make(*args: str, data_dir: Path | None = None, env: dict | None = None, start: bool = True) -> Server:
        server = Server(data_dir or tmp_path / "data", tmp_path / f"server-{len(servers)}.log", *args, env=env)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.kill()


@pytest.fixture()
def server(make_server) -> Server:
    """An open server (no token file) on a fresh data dir."""
    return make_server()


def graphdef(n: int = 0, broken: bool = False) -> bytes:
    """A small frozen GraphDef; ``n`` varies the weights (a different model, same findings)."""
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 4))
    if broken:
        w = b.node("VariableV2", name="w", attrs={"dtype": "float32", "shape": (4, 2)})
        b.op("SaveV2", [x], name="save/SaveV2")
    else:
        w = b.const([[1.0 + n, 2.0]] * 4, name="w")
    b.op("MatMul", [x, w], name="y")
    return b.to_bytes()


def tflite() -> bytes:
    """A one-op TFLite model (RELU on [1, 4])."""
    b = TFLiteBuilder()
    b.op("RELU", [b.input("x", "float32", (1, 4))], [b.tensor("y", "float32", (1, 4))])
    b.output("y")
    return b.to_bytes()


def upload(client: httpx.Client, data: bytes, name: str = "model.pb", **params) -> httpx.Response:
    """``POST /v1/reports`` with the raw body."""
    return client.post("/v1/reports", content=data, params={"name": name, **params},
                       headers={"Content-Type": "application/octet-stream"})


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session (skipped only when PostgreSQL is not installed)."""
    try:
        server = Postgres().start()
    except Unavailable as err:
        pytest.skip(str(err))
    yield server
    server.stop()


# A dead worker is noticed within a few seconds here (defaults: heartbeat 10 s, stalled after 30 s).
FAST_RECOVERY = ("--heartbeat-s", "0.5", "--stalled-s", "2")


class Worker:
    """One ``graphlint worker`` process."""

    def __init__(self, log: Path, *args: str) -> None:
        self.log = log
        self.proc = start_worker(log, args, {"GRAPHLINT_CONVERT_WORKERS": "1"})

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")[-6000:]

    def kill(self) -> None:
        stop_process(self.proc)

    def stop(self) -> int:
        """SIGTERM: the worker ends after its current job."""
        return stop_process(self.proc, graceful=True)

    def conversion_children(self) -> list[int]:
        """The pids of this worker's conversion processes (``graphlint.convert.worker``)."""
        return conversion_children(self.proc.pid)


def conversion_children(pid: int) -> list[int]:
    """The pids of the conversion worker processes (``python -m graphlint.convert.worker``) ``pid`` started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid and b"graphlint.convert.worker" in command:
            found.append(int(entry.name))
    return sorted(found)


class Team:
    """Two replicas on one database and blob store, and the workers started for them."""

    def __init__(self, root: Path, database_url: str, *server_args: str) -> None:
        self.root, self.database_url = root, database_url
        self.blob_store = root / "shared"
        args = ("--database-url", database_url, "--blob-store", str(self.blob_store), *server_args)
        self.a = Server(root / "a", root / "a.log", *args).start()
        self.b = Server(root / "b", root / "b.log", *args).start()
        self.workers: list[Worker] = []

    def worker(self, *args: str) -> Worker:
        worker = Worker(self.root / f"worker-{len(self.workers)}.log", "--database-url", self.database_url,
                        "--blob-store", str(self.blob_store), *FAST_RECOVERY, *args)
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.a.kill()
        self.b.kill()


@pytest.fixture(scope="module")
def make_team(postgres, tmp_path_factory) -> Iterator[Callable[..., Team]]:
    """Factory: ``make_team(*serve_args)``, a team on a fresh database; every process is killed at the end of the
    module."""
    pytest.importorskip("procrastinate", reason="team mode needs procrastinate (pip install -e .[team])")
    teams: list[Team] = []

    def make(*server_args: str) -> Team:
        teams.append(Team(tmp_path_factory.mktemp("team"), postgres.new_database(), *server_args))
        return teams[-1]

    yield make
    for team in teams:
        team.close()


def wait_for_job(server: Server, job_id: str, until: tuple[str, ...], timeout: float = 600,
                 token: str | None = None) -> dict:
    """Poll ``GET /v1/jobs/{id}`` until the job's status is one of ``until``; the job then."""
    deadline = time.monotonic() + timeout
    job: dict = {}
    with server.client(token) as c:
        while time.monotonic() < deadline:
            job = c.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in until:
                return job
            time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {until}: {job}")
