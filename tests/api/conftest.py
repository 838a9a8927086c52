"""A real ``graphlint serve`` on loopback: started as a subprocess on a free port, stopped or killed by tests.

Models are built in code (GraphDefs with :class:`graphlint.testing.GraphBuilder`, a tiny TFLite file with
:class:`graphlint.testing.TFLiteBuilder`), never downloaded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from graphlint.testing import GraphBuilder, TFLiteBuilder

START_TIMEOUT = 90


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        self.port = free_port()
        env = {**os.environ, "GRAPHLINT_LINT_WORKERS": "1", "GRAPHLINT_LOG_LEVEL": "warning",
               "GRAPHLINT_WEB_DIR": str(self.data_dir / "no-web"), **self.env}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "graphlint", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--data-dir", str(self.data_dir), *self.args], stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.output()}", pytrace=False)
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"server did not become ready:\n{self.output()}", pytrace=False)

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")[-6000:]

    def stop(self) -> int:
        """SIGTERM and wait (graceful shutdown)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode if self.proc else 0

    def kill(self) -> None:
        """SIGKILL the server (its lint workers notice their parent is gone and exit)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

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


class Postgres:
    """A throwaway PostgreSQL server from the Debian packages, on loopback, trust authentication."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bins[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="graphlint-pg-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        # initdb refuses to run as root: run the server as the `postgres` system user then.
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
            self.prefix = [runuser, "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o755)

    def start(self) -> Postgres:
        data = self.root / "data"
        subprocess.run([*self.prefix, str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "graphlint",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True, timeout=120)
        return self.resume()

    def halt(self) -> None:
        """Stop the server, keeping its data (``resume`` starts it again): the database goes down."""
        if self.proc is not None and self.proc.poll() is None:
            # Fast shutdown (clients are disconnected at once); `runuser` does not pass SIGINT on, pg_ctl signals
            # the postmaster itself.
            subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "stop", "-m",
                            "fast", "-w"], check=True, capture_output=True, timeout=60)
            self.proc.wait(60)

    def resume(self) -> Postgres:
        """Start the server on the data directory ``start`` made and wait until it takes connections."""
        data = self.root / "data"
        self.proc = subprocess.Popen(
            [*self.prefix, str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.root),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=open(self.root / "log", "ab"))  # noqa: SIM115
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return self
            except psycopg.OperationalError as err:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    log = (self.root / "log").read_text()[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start: {log}") from err
                time.sleep(0.2)

    def url(self, db: str) -> str:
        return f"postgresql://graphlint@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t_{os.urandom(6).hex()}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # smart shutdown; the `runuser` wrapper passes the signal on
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session (skipped only when PostgreSQL is not installed)."""
    server = Postgres().start()
    yield server
    server.stop()
