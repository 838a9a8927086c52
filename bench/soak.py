"""Soak test of the service: N minutes of mixed uploads at R requests per second against a real server.

    python bench/soak.py                                  # 10 minutes at 20 req/s, 2 lint workers
    python bench/soak.py --minutes 2 --rate 10 --json soak.json

It starts ``graphlint serve`` as a subprocess on a free port with a temporary data dir (SQLite, a model store
capped by ``--store-max-mb`` so retention runs too) and offers uploads on an open-loop schedule: request *i* is
due at *i* / R seconds, whether or not earlier ones were answered, and its latency counts from when it was due,
so falling behind shows. The models (``bench/models.py``, built in code, each request a different file) are
drawn with a fixed seed from three kinds: ``normal`` (small GraphDef, text GraphDef and int8 TFLite models),
``hostile`` (fan-in/fan-out, 20,000-deep scopes, 3,000 unfrozen variables, huge shapes, garbage) and ``large``
(4 MB of weights, a chain over the node budget). After a ``variables`` upload the client also fetches its
SARIF, and after a ``deep_scope`` one its viewer graph: the renderings that once ran on the event loop.

Every minute it prints the minute's requests by status, the p50 and p99 latency of uploads, the p99 and the
maximum of ``/healthz`` (probed 4 times a second on its own connection), the server's RSS and its children's
(the lint workers), and the model store's size; then a summary and the goals: no 5xx, ``/healthz`` p99 under
100 ms in every minute, flat memory (the last minute's RSS within 50 MB of the second minute's, server and
workers alike).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import models
from local_services import free_port

GOAL_HEALTHZ_P99_MS = 100.0
GOAL_RSS_GROWTH_MB = 50.0
_HEALTHZ_EVERY_S = 0.25
_REQUEST_TIMEOUT_S = 300.0
_FOLLOW_UPS = {"variables": "sarif", "deep_scope": "graph"}  # kind of model -> rendering fetched after it


@dataclass(frozen=True)
class Sample:
    """One answered (or failed) request."""

    done: float  # seconds since the start, when the answer was in
    kind: str  # normal | hostile | large | sarif | graph
    model: str
    status: str  # the HTTP status, or "timeout" / "error" when none came
    ms: float  # latency from when the request was due


@dataclass
class Minute:
    """What one minute of the run measured."""

    minute: int
    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    healthz_p99_ms: float = 0.0
    healthz_max_ms: float = 0.0
    healthz_failed: int = 0
    server_mb: float = 0.0
    workers_mb: float = 0.0
    worker_max_mb: float = 0.0
    workers: int = 0
    store_mb: float = 0.0


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by the nearest-rank method; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The child processes of every thread of ``pid`` (the lint pool starts its workers from threads)."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError, ValueError):
            out.update(int(p) for p in (task / "children").read_text().split())
    return sorted(out)


def tree_size_mb(path: Path) -> float:
    total = 0
    for item in path.rglob("*"):
        with contextlib.suppress(OSError):
            if item.is_file():
                total += item.stat().st_size
    return total / (1 << 20)


class Server:
    """``graphlint serve`` in a subprocess on a temporary data dir."""

    def __init__(self, workers: int, store_max_mb: float, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.log = open(data_dir.parent / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "GRAPHLINT_LOG_LEVEL": "warning", "GRAPHLINT_WEB_DIR": str(data_dir / "no-web")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "graphlint", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(data_dir), "--lint-workers", str(workers), "--store-max-mb", str(store_max_mb)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}; see {self.log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit("the server did not become ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


class Soak:
    """The schedule, the clients, the ``/healthz`` probe and the per-minute report."""

    def __init__(self, server: Server, args: argparse.Namespace) -> None:
        self.server, self.args = server, args
        self.samples: list[Sample] = []
        self.healthz: list[tuple[float, float, bool]] = []  # (seconds since start, ms, answered 200)
        self.minutes: list[Minute] = []
        self.lock = threading.Lock()
        self.due: queue.Queue[tuple[int, float] | None] = queue.Queue()
        self.stopping = threading.Event()
        self.start = 0.0
        self.probe_log = server.data_dir.parent / "healthz.log"
        self.probe_log.touch()
        self.probe_pos = 0
        mix = dict(part.split("=") for part in args.mix.split(","))
        self.kinds = [k for k in models.KINDS if float(mix.get(k, 0)) > 0]
        self.weights = [float(mix[k]) for k in self.kinds]

    def now(self) -> float:
        return time.monotonic() - self.start

    def pick(self, i: int) -> tuple[str, str, bytes]:
        """The kind, maker name and file of request ``i`` (the same for the same seed)."""
        rng = random.Random(self.args.seed * 1_000_003 + i)
        kind = rng.choices(self.kinds, self.weights)[0]
        name = rng.choice(sorted(models.KINDS[kind]))
        return kind, name, models.KINDS[kind][name](i)

    def record(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def call(self, client: httpx.Client, kind: str, name: str, due: float, method: str, url: str,
             **kwargs) -> httpx.Response | None:
        """One request, recorded with its latency from ``due``; None when no answer came."""
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            self.record(Sample(self.now(), kind, name, "timeout", (self.now() - due) * 1000))
            return None
        except httpx.HTTPError as err:
            self.record(Sample(self.now(), kind, name, f"error:{type(err).__name__}", (self.now() - due) * 1000))
            return None
        self.record(Sample(self.now(), kind, name, str(response.status_code), (self.now() - due) * 1000))
        return response

    def upload(self, client: httpx.Client, i: int, due: float) -> None:
        """Upload request ``i``'s model; after some models, fetch the rendering that once blocked the server."""
        kind, name, data = self.pick(i)
        r = self.call(client, kind, name, due, "POST", "/v1/reports", content=data,
                      params={"name": f"{name}-{i}", "target": "float"},
                      headers={"Content-Type": "application/octet-stream"})
        follow = _FOLLOW_UPS.get(name)
        if r is not None and r.status_code in (200, 201) and follow:
            self.call(client, follow, name, self.now(), "GET", f"/v1/reports/{r.json()['id']}/{follow}",
                      headers={"Accept-Encoding": "identity"})

    def client_loop(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=_REQUEST_TIMEOUT_S) as client:
            while True:
                item = self.due.get()
                if item is None:
                    return
                self.upload(client, *item)

    def schedule(self, total: int) -> None:
        for i in range(total):
            delay = i / self.args.rate - self.now()
            if delay > 0 and self.stopping.wait(delay):
                break
            self.due.put((i, i / self.args.rate))
        for _ in range(self.args.clients):
            self.due.put(None)

    def read_probes(self) -> None:
        """Take in the probe process's lines so far (``monotonic ms ok``, one per probe)."""
        with open(self.probe_log) as fh:
            fh.seek(self.probe_pos)
            lines = fh.readlines()
        if lines and not lines[-1].endswith("\n"):
            lines.pop()  # half written: read it next time
        self.probe_pos += sum(len(line) for line in lines)
        with self.lock:
            for line in lines:
                at, ms, ok = line.split()
                self.healthz.append((float(at) - self.start, float(ms), ok == "1"))

    def measure(self, minute: int) -> Minute:
        """The figures of ``minute`` (its samples by when they were answered), and memory now."""
        lo, hi = minute * 60.0, (minute + 1) * 60.0
        self.read_probes()
        with self.lock:
            done = [s for s in self.samples if lo <= s.done < hi]
            health = [h for h in self.healthz if lo <= h[0] < hi]
        uploads = [s.ms for s in done if s.kind in models.KINDS and s.status in ("200", "201", "422")]
        statuses: dict[str, int] = {}
        for s in done:
            statuses[s.status] = statuses.get(s.status, 0) + 1
        kids = children(self.server.proc.pid)
        kid_rss = [rss_mb(k) for k in kids]
        return Minute(minute=minute + 1, requests=len(done), statuses=dict(sorted(statuses.items())),
                      p50_ms=percentile(uploads, 0.5), p99_ms=percentile(uploads, 0.99),
                      healthz_p99_ms=percentile([h[1] for h in health], 0.99),
                      healthz_max_ms=max((h[1] for h in health), default=0.0),
                      healthz_failed=sum(1 for h in health if not h[2]), server_mb=rss_mb(self.server.proc.pid),
                      workers_mb=sum(kid_rss), worker_max_mb=max(kid_rss, default=0.0), workers=len(kids),
                      store_mb=tree_size_mb(self.server.data_dir / "models"))

    def run(self) -> list[Minute]:
        duration = self.args.minutes * 60.0
        total = int(duration * self.args.rate)
        for kind in self.kinds:  # build the large models once, before the clock starts
            for make in models.KINDS[kind].values():
                make(0)
        self.start = time.monotonic()
        threads = [threading.Thread(target=self.client_loop, daemon=True) for _ in range(self.args.clients)]
        threads.append(threading.Thread(target=self.schedule, args=(total,), daemon=True))
        # /healthz is probed from a process of its own: in this one, the client threads would hold the GIL
        # while they build models, and their waits would read as the server's.
        prober = subprocess.Popen([sys.executable, __file__, "--probe", self.server.url, str(self.probe_log)])
        for thread in threads:
            thread.start()
        print(HEADER, flush=True)
        for minute in range(self.args.minutes):
            wait = (minute + 1) * 60.0 - self.now()
            if wait > 0:
                time.sleep(wait)
            row = self.measure(minute)
            self.minutes.append(row)
            print(format_row(row), flush=True)
        for thread in threads[: self.args.clients]:  # the requests still in flight at the end
            thread.join(_REQUEST_TIMEOUT_S)
        self.stopping.set()
        prober.terminate()
        prober.wait(10)
        self.read_probes()
        return self.minutes


def probe(url: str, log: Path) -> None:
    """Probe ``url``/healthz every 0.25 s on one keep-alive connection until killed; one line per probe."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    with open(log, "a", buffering=1) as out:
        while True:
            start = time.monotonic()
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            ms = (time.monotonic() - start) * 1000
            out.write(f"{start:.6f} {ms:.3f} {int(ok)}\n")
            time.sleep(max(0.0, _HEALTHZ_EVERY_S - ms / 1000))


HEADER = (f"{'min':>3} {'reqs':>5} {'p50 ms':>7} {'p99 ms':>8} {'hz p99':>7} {'hz max':>7} {'server MB':>9} "
          f"{'workers MB':>10} {'max wkr':>7} {'store MB':>8}  statuses")


def format_row(m: Minute) -> str:
    statuses = " ".join(f"{k}:{v}" for k, v in m.statuses.items())
    return (f"{m.minute:>3} {m.requests:>5} {m.p50_ms:>7.0f} {m.p99_ms:>8.0f} {m.healthz_p99_ms:>7.1f} "
            f"{m.healthz_max_ms:>7.1f} {m.server_mb:>9.0f} {m.workers_mb:>10.0f} {m.worker_max_mb:>7.0f} "
            f"{m.store_mb:>8.0f}  {statuses}")


def summary(soak: Soak) -> dict:
    """Totals over the whole run and the goals, PASS or MISS."""
    samples, minutes = soak.samples, soak.minutes
    statuses: dict[str, int] = {}
    by_model: dict[str, dict[str, int]] = {}
    for s in samples:
        statuses[s.status] = statuses.get(s.status, 0) + 1
        counts = by_model.setdefault(f"{s.kind}/{s.model}", {})
        counts[s.status] = counts.get(s.status, 0) + 1
    uploads = [s.ms for s in samples if s.kind in models.KINDS and s.status in ("200", "201", "422")]
    health = [h[1] for h in soak.healthz]
    server_5xx = sum(v for k, v in statuses.items() if k.startswith("5"))
    no_answer = sum(v for k, v in statuses.items() if not k.isdigit())
    base = minutes[1] if len(minutes) > 1 else minutes[0]
    growth = {"server": minutes[-1].server_mb - base.server_mb, "workers": minutes[-1].workers_mb - base.workers_mb}
    worst_minute = max(m.healthz_p99_ms for m in minutes)
    goals = {"no 5xx": server_5xx == 0 and no_answer == 0,
             f"/healthz p99 < {GOAL_HEALTHZ_P99_MS:g} ms every minute": worst_minute < GOAL_HEALTHZ_P99_MS,
             f"flat memory (growth < {GOAL_RSS_GROWTH_MB:g} MB after minute 2)":
                 all(g < GOAL_RSS_GROWTH_MB for g in growth.values())}
    return {"requests": len(samples), "statuses": dict(sorted(statuses.items())), "by_model": by_model,
            "upload_p50_ms": percentile(uploads, 0.5), "upload_p99_ms": percentile(uploads, 0.99),
            "healthz_probes": len(health), "healthz_p99_ms": percentile(health, 0.99),
            "healthz_max_ms": max(health, default=0.0), "worst_minute_healthz_p99_ms": worst_minute,
            "rss_growth_mb": growth, "goals": goals}


def print_summary(result: dict, args: argparse.Namespace) -> None:
    print(f"\n{result['requests']:,} requests in {args.minutes} min at {args.rate:g} req/s offered "
          f"(mix {args.mix}): " + ", ".join(f"{k}: {v:,}" for k, v in result["statuses"].items()))
    print(f"uploads p50 {result['upload_p50_ms']:.0f} ms, p99 {result['upload_p99_ms']:.0f} ms; /healthz "
          f"{result['healthz_probes']:,} probes, p99 {result['healthz_p99_ms']:.1f} ms, max "
          f"{result['healthz_max_ms']:.1f} ms; RSS growth after minute 2: server "
          f"{result['rss_growth_mb']['server']:+.0f} MB, workers {result['rss_growth_mb']['workers']:+.0f} MB")
    for name, counts in sorted(result["by_model"].items()):
        print(f"  {name:<26} " + " ".join(f"{k}:{v}" for k, v in sorted(counts.items())))
    for goal, ok in result["goals"].items():
        print(f"{'PASS' if ok else 'MISS'}  {goal}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe"]:  # the /healthz probe process
        probe(argv[1], Path(argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10, help="how long to run (default 10)")
    parser.add_argument("--rate", type=float, default=20, help="uploads offered per second (default 20)")
    parser.add_argument("--mix", default="normal=0.8,hostile=0.15,large=0.05",
                        help="share of each kind of model (default normal=0.8,hostile=0.15,large=0.05)")
    parser.add_argument("--clients", type=int, default=32, help="client threads, one connection each (default 32)")
    parser.add_argument("--lint-workers", type=int, default=2, help="the server's lint workers (default 2)")
    parser.add_argument("--store-max-mb", type=float, default=256, help="the server's model store cap (default 256)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the model draw (default 1)")
    parser.add_argument("--json", type=Path, help="also write the minutes and the summary here")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and the server log")
    args = parser.parse_args(argv)
    if args.minutes < 1 or args.rate <= 0:
        parser.error("--minutes must be at least 1 and --rate positive")
    root = Path(tempfile.mkdtemp(prefix="graphlint-soak-"))
    server = Server(args.lint_workers, args.store_max_mb, root / "data")
    try:
        server.wait_ready()
        soak = Soak(server, args)
        soak.run()
        result = summary(soak)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"data dir and server log kept in {root}")
    print_summary(result, args)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "minutes": [m.__dict__ for m in soak.minutes], "summary": result},
                                        indent=2))
    return 0 if all(result["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
