"""Servers on this machine for the tests and the benchmarks: a throwaway PostgreSQL from Debian's packages, and
``graphlint serve`` / ``graphlint worker`` processes on loopback.

Nothing here needs pytest: a test turns :class:`Unavailable` into a skip, a benchmark into an error message.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 90  # seconds a server gets to answer /readyz


class Unavailable(RuntimeError):
    """What a service needs is not installed here; ``str()`` says what to install."""


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, *, graceful: bool = False, timeout: float = 60) -> int:
    """End a child process and reap it: SIGKILL, or with ``graceful`` SIGTERM first (SIGKILL after ``timeout``)."""
    if proc.poll() is None:
        if graceful:
            proc.terminate()
            try:
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        proc.kill()
        proc.wait(10)
    return proc.returncode


def start_serve(data_dir: Path, log: Path, args: tuple[str, ...] = (), env: dict | None = None,
                timeout: float = START_TIMEOUT) -> tuple[subprocess.Popen, int]:
    """Start ``graphlint serve`` on a free loopback port and wait until ``/readyz`` answers 200; the process and
    its port. Raises RuntimeError (the log's tail in the message) when it exits or never gets ready."""
    import httpx

    port = free_port()
    env = {**os.environ, "GRAPHLINT_LOG_LEVEL": "warning", **(env or {})}
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "graphlint", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--data-dir", str(data_dir), *args], stdout=out, stderr=subprocess.STDOUT,
                                env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_process(proc)
    raise RuntimeError(f"server did not become ready:\n{_tail(log)}")


def start_worker(log: Path, args: tuple[str, ...], env: dict | None = None) -> subprocess.Popen:
    """Start ``graphlint worker`` with ``args``, its output to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "graphlint", "worker", *args], stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})


def _tail(log: Path) -> str:
    return log.read_text("utf-8", "replace")[-6000:] if log.exists() else ""


class Postgres:
    """A throwaway PostgreSQL server from the Debian packages, on loopback, trust authentication.

    Raises :class:`Unavailable` when PostgreSQL is not installed (or cannot run as another user than root).
    """

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            raise Unavailable("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bins[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="graphlint-pg-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        # initdb refuses to run as root: run the server as the `postgres` system user then.
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise Unavailable("running as root without runuser: cannot start PostgreSQL as another user")
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
        with open(self.root / "log", "ab") as log:
            self.proc = subprocess.Popen(
                [*self.prefix, str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port), "-k",
                 str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                stdout=subprocess.DEVNULL, stderr=log)
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return self
            except psycopg.OperationalError as err:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"PostgreSQL did not start: {_tail(self.root / 'log')[-2000:]}") from err
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
        if self.proc is not None:  # smart shutdown; the `runuser` wrapper passes SIGTERM on
            stop_process(self.proc, graceful=True, timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
