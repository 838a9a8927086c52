"""Scale-out benchmark: the same workload against 1 and 2 API replicas and 1 and 2 conversion workers.

Team mode runs here as it would across machines: a real PostgreSQL (Debian's packages) holds reports and job
state and carries the task queue (procrastinate), a shared directory is the blob store, ``graphlint serve``
replicas answer HTTP and ``graphlint worker`` processes convert. Each configuration gets a fresh database and
blob store. The clients spread requests over the replicas round-robin, as a load balancer would.

The workload: ``--clients`` threads (default 8), each request a distinct model (a small CNN whose weights carry
the request number) linted synchronously; every ``--every``-th request (default 20) also queues a fix-and-convert
job for that report (int8, calibrated on ``--calibration-samples`` random inputs). Lint throughput and latency
are measured over the requests; a job's latency from its ``created_at`` to its end, and job throughput from the
first job's creation to the last one's end, waiting for every job after the last request.

Before the timed run, each configuration converts one job per worker, so every worker has loaded TensorFlow.
The embedded default (one ``graphlint serve``, SQLite, jobs on its own threads) runs the same workload first,
for reference; ratios are against team mode with 1 replica and 1 worker, measured in the same run.

Usage::

    python bench/bench_scale.py [--requests 400] [--clients 8] [--every 20] [--json out.json]

Needs PostgreSQL (``apt-get install postgresql``), the ``team`` extra (procrastinate, psycopg) and the
``convert`` extra (TensorFlow) for the workers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from local_services import Postgres, Unavailable, start_serve, start_worker, stop_process  # noqa: E402

CONFIGS = ((1, 1), (2, 1), (1, 2), (2, 2))  # (API replicas, conversion workers)
JOB_TIMEOUT_S = 900  # every queued job must end within this after the last request
# Room for every job of the run in the queue (the default, 16, refuses a burst with 503 and Retry-After), so the
# run measures conversions, not refusals.
SERVE_ENV = {"GRAPHLINT_JOB_QUEUE": "1000"}
CONV = {"strides": [1, 1, 1, 1], "padding": "SAME", "data_format": "NHWC"}


def model_bytes(n: int) -> bytes:
    """A small CNN (three conv blocks on a 64x64 image, pooling, dense, softmax) whose first weight is ``n``: a
    distinct model per request, every one the same work to lint and to convert."""
    import numpy as np

    from graphlint.testing import GraphBuilder

    rng = np.random.default_rng(7)
    b = GraphBuilder()
    h = b.placeholder("x", "float32", (1, 64, 64, 3))
    channels = 3
    for k, width in enumerate((16, 32, 32)):
        w = (rng.standard_normal((3, 3, channels, width)) * 0.3).astype("float32")
        if k == 0:
            w.flat[0] = n / 1000.0
        h = b.op("Conv2D", [h, b.const(w, name=f"w{k}")], name=f"conv{k}", attrs=CONV)
        h = b.op("BiasAdd", [h, b.const(np.zeros(width, "float32"), name=f"b{k}")], name=f"bias{k}",
                 attrs={"data_format": "NHWC"})
        h = b.op("MaxPool", [b.op("Relu", [h], name=f"relu{k}")], name=f"pool{k}",
                 attrs={"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID", "data_format": "NHWC"})
        channels = width
    h = b.op("Reshape", [h, b.const(np.array([1, 8 * 8 * 32], "int32"), name="flat")], name="flatten",
             attrs={"Tshape": "int32"})
    dense = b.const((rng.standard_normal((8 * 8 * 32, 10)) * 0.05).astype("float32"), name="dense")
    b.op("Softmax", [b.op("MatMul", [h, dense], name="logits")], name="y")
    return b.to_bytes()


@dataclass
class Result:
    """What one configuration measured."""

    name: str
    replicas: int
    workers: int
    lint_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    jobs: dict[str, dict] = field(default_factory=dict)  # id -> final job JSON
    per_worker: list[int] = field(default_factory=list)  # timed jobs each worker started
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds of the timed part, by process group

    def summary(self) -> dict:
        lint = sorted(self.lint_ms)
        job_s = sorted(_job_seconds(j) for j in self.jobs.values() if j.get("status") == "done")
        statuses: dict[str, int] = {}
        for job in self.jobs.values():  # a job's status, and its conversion's when it ran
            key = job.get("status", "?") + (f"/{job['result'].get('status')}" if job.get("result") else "")
            statuses[key] = statuses.get(key, 0) + 1
        return {"config": self.name, "replicas": self.replicas, "workers": self.workers,
                "lint_requests": len(lint), "lint_per_s": round(len(lint) / self.wall_s, 1) if self.wall_s else 0,
                "lint_p50_ms": _pct(lint, 0.5), "lint_p99_ms": _pct(lint, 0.99), "jobs": statuses,
                "job_p50_s": _pct(job_s, 0.5), "job_p99_s": _pct(job_s, 0.99),
                "jobs_per_min": self.jobs_per_min(),
                "jobs_per_worker": self.per_worker, "cpu_ms_per_lint": self.cpu_per("api", len(lint)),
                "db_ms_per_lint": self.cpu_per("postgres", len(lint)),
                "worker_cpu_s_per_job": round(self.cpu_per("workers", len(job_s)) / 1000, 2),
                "errors": len(self.errors), "first_errors": self.errors[:3]}

    def cpu_per(self, group: str, count: int) -> float:
        """CPU milliseconds of a process group per request or job (nan when not measured)."""
        return round(self.cpu_s[group] * 1000 / count, 1) if group in self.cpu_s and count else float("nan")


    def jobs_per_min(self) -> float:
        """Jobs done per minute, from the first job's creation to the last job's end."""
        done = [j for j in self.jobs.values() if j.get("status") == "done"]
        if not done:
            return 0.0
        span = max(_at(j["updated_at"]) for j in done) - min(_at(j["created_at"]) for j in done)
        return round(len(done) / (span / 60), 2) if span > 0 else 0.0


def tree_cpu_seconds(pids: list[int]) -> dict[str, float]:
    """CPU time (user + system, reaped children included) of ``pids`` and all their descendants, in seconds:
    ``conversion`` for the conversion processes (``graphlint.convert.worker``) among them, ``other`` for the
    rest."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parent[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(f) for f in fields[11:15]) / tick
    wanted = set(pids)
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in wanted and pid not in wanted:
                wanted.add(pid)
                grew = True
    split = {"conversion": 0.0, "other": 0.0}
    for pid in wanted:
        try:
            conversion = b"graphlint.convert.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        split["conversion" if conversion else "other"] += times.get(pid, 0.0)
    return split


class CpuMeter:
    """CPU seconds spent by process groups between :meth:`start` and :meth:`stop`: ``api`` (the replicas or the
    embedded server, its conversions excepted), ``workers`` (every conversion, and the team workers) and
    ``postgres``."""

    def __init__(self, api: list[int], workers: list[int], postgres: list[int]) -> None:
        self.groups = {"api": api, "workers": workers, "postgres": postgres}
        self.begun: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        api = tree_cpu_seconds(self.groups["api"])
        workers = tree_cpu_seconds(self.groups["workers"])
        return {"api": api["other"], "workers": api["conversion"] + sum(workers.values()),
                "postgres": sum(tree_cpu_seconds(self.groups["postgres"]).values())}

    def start(self) -> None:
        self.begun = self._now()

    def stop(self) -> dict[str, float]:
        end = self._now()
        return {k: round(end[k] - self.begun[k], 2) for k in end if k != "postgres" or self.groups[k]}


def _pct(values: list[float], q: float) -> float:
    return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else float("nan")


def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _job_seconds(job: dict) -> float:
    return _at(job["updated_at"]) - _at(job["created_at"])


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    return response.status, json.loads(payload) if payload else {}


def queue_job(conn: http.client.HTTPConnection, report_id: str, samples: int) -> tuple[int, dict]:
    """Queue the int8 conversion of a stored report, calibrated on ``samples`` random inputs."""
    return _request(conn, "POST", f"/v1/jobs?report_id={report_id}&target=int8&output=y&calibration=random:{samples}")


def drive(ports: list[int], total: int, clients: int, every: int, samples: int, result: Result) -> None:
    """Send ``total`` lint requests from ``clients`` threads, round-robin over ``ports``; queue a convert job
    for every ``every``-th report."""
    counter = iter(range(total))
    lock = threading.Lock()
    bodies = [model_bytes(n) for n in range(total)]

    def client() -> None:
        conns = {p: http.client.HTTPConnection("127.0.0.1", p, timeout=300) for p in ports}
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            body = bodies[n]
            conn = conns[ports[n % len(ports)]]
            start = time.perf_counter()
            try:
                status, report = _request(conn, "POST", f"/v1/reports?name=net{n}.pb&target=float&target=int8",
                                          body)
                elapsed = (time.perf_counter() - start) * 1000
                if status not in (200, 201):
                    raise RuntimeError(f"lint answered {status}: {str(report)[:200]}")
                if n % every == every - 1:
                    status, job = queue_job(conn, report["id"], samples)
                    if status != 202:
                        raise RuntimeError(f"job answered {status}: {str(job)[:200]}")
                    with lock:
                        result.jobs[job["id"]] = job
            except (OSError, http.client.HTTPException, ValueError, KeyError, RuntimeError) as err:
                conn.close()
                with lock:
                    result.errors.append(f"{type(err).__name__}: {err}")
                continue
            with lock:
                result.lint_ms.append(elapsed)
        for conn in conns.values():
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall_s = time.perf_counter() - start


def wait_for_jobs(port: int, jobs: dict[str, dict], timeout: float = JOB_TIMEOUT_S) -> None:
    """Poll every job through one replica until it has ended (each replica reports the same state)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    deadline = time.monotonic() + timeout
    pending = set(jobs)
    while pending and time.monotonic() < deadline:
        for job_id in sorted(pending):
            _, job = _request(conn, "GET", f"/v1/jobs/{job_id}")
            if job.get("status") in ("done", "failed", "cancelled"):
                jobs[job_id] = job
                pending.discard(job_id)
        time.sleep(0.5)
    conn.close()


def warm_up(port: int, count: int, samples: int) -> None:
    """Convert ``count`` jobs (one per worker), as the timed run does, so it finds TensorFlow loaded everywhere."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    jobs = {}
    for k in range(count):
        _, report = _request(conn, "POST", f"/v1/reports?name=warm{k}.pb", model_bytes(10**6 + k))
        _, job = queue_job(conn, report["id"], samples)
        jobs[job["id"]] = job
    conn.close()
    wait_for_jobs(port, jobs)


def run_embedded(root: Path, args: argparse.Namespace) -> Result:
    """The single-machine default: one ``graphlint serve`` on SQLite and local disk, jobs on its threads."""
    result = Result("embedded", 1, 1)
    proc, port = start_serve(root / "embedded", root / "embedded.log", env=SERVE_ENV)
    try:
        warm_up(port, 1, args.calibration_samples)
        meter = CpuMeter([proc.pid], [], [])
        meter.start()
        drive([port], args.requests, args.clients, args.every, args.calibration_samples, result)
        wait_for_jobs(port, result.jobs)
        result.cpu_s = meter.stop()
    finally:
        stop_process(proc, graceful=True, timeout=30)
    return result


def run_team(root: Path, postgres: Postgres, replicas: int, workers: int, args: argparse.Namespace) -> Result:
    """``replicas`` API processes and ``workers`` conversion workers on a fresh database and blob store."""
    name = f"team {replicas}r x {workers}w"
    result = Result(name, replicas, workers)
    base = Path(tempfile.mkdtemp(prefix=f"team-{replicas}-{workers}-", dir=root))
    shared = ("--database-url", postgres.new_database(), "--blob-store", str(base / "blobs"))
    procs = []
    try:
        ports = []
        for k in range(replicas):
            proc, port = start_serve(base / f"replica-{k}", base / f"replica-{k}.log", shared, SERVE_ENV)
            procs.append(proc)
            ports.append(port)
        api = [p.pid for p in procs]
        procs += [start_worker(base / f"worker-{k}.log", (*shared, "--concurrency", "1")) for k in range(workers)]
        warm_up(ports[0], workers, args.calibration_samples)
        meter = CpuMeter(api, [p.pid for p in procs[replicas:]], [postgres.proc.pid] if postgres.proc else [])
        meter.start()
        drive(ports, args.requests, args.clients, args.every, args.calibration_samples, result)
        wait_for_jobs(ports[-1], result.jobs)
        result.cpu_s = meter.stop()
        result.per_worker = [_started(base / f"worker-{k}.log", result.jobs) for k in range(workers)]
    finally:
        for proc in procs:
            stop_process(proc, graceful=True, timeout=30)
    return result


def _started(log: Path, jobs: dict[str, dict]) -> int:
    """How many of ``jobs`` the worker writing ``log`` started (its "job ID: attempt N" lines)."""
    text = log.read_text("utf-8", "replace") if log.exists() else ""
    return sum(f"job {job_id}: attempt" in text for job_id in jobs)


def print_table(results: list[Result]) -> None:
    rows = [r.summary() for r in results]
    base = next((r for r in rows if r["config"] == "team 1r x 1w"), rows[0])
    print(f"\n{'config':16} {'lint/s':>7} {'x base':>7} {'p50 ms':>7} {'p99 ms':>8} {'jobs':>16} "
          f"{'job p50 s':>9} {'job p99 s':>9} {'jobs/min':>8} {'x base':>7} {'errors':>6}")
    for r in rows:
        lint_ratio = r["lint_per_s"] / base["lint_per_s"] if base["lint_per_s"] else float("nan")
        job_ratio = r["jobs_per_min"] / base["jobs_per_min"] if base["jobs_per_min"] else float("nan")
        jobs = ", ".join(f"{k} {v}" for k, v in sorted(r["jobs"].items()))
        print(f"{r['config']:16} {r['lint_per_s']:7.1f} {lint_ratio:7.2f} {r['lint_p50_ms']:7.1f} "
              f"{r['lint_p99_ms']:8.1f} {jobs:>16} {r['job_p50_s']:9.1f} {r['job_p99_s']:9.1f} "
              f"{r['jobs_per_min']:8.2f} {job_ratio:7.2f} {r['errors']:6d}")
        database = "" if r["db_ms_per_lint"] != r["db_ms_per_lint"] else f", {r['db_ms_per_lint']} ms in PostgreSQL"
        print(f"    CPU: {r['cpu_ms_per_lint']} ms per lint in the API processes{database}; "
              f"{r['worker_cpu_s_per_job']} s per job in the workers"
              + (f"; jobs started per worker: {r['jobs_per_worker']}" if r["jobs_per_worker"] else ""))
        for err in r["first_errors"]:
            print(f"    error: {err}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="lint requests per configuration")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--every", type=int, default=20, help="queue a convert job for every N-th report")
    parser.add_argument("--calibration-samples", type=int, default=100, help="random inputs per int8 conversion")
    parser.add_argument("--configs", default=",".join(f"{r}x{w}" for r, w in CONFIGS),
                        help="team configurations to run, REPLICASxWORKERS, comma-separated (default: %(default)s)")
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded reference run")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers and PostgreSQL on the way out
    try:
        postgres = Postgres().start()
    except Unavailable as err:
        print(f"bench_scale: {err}", file=sys.stderr)
        return 2
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="graphlint-scale-") as tmp:
            root = Path(tmp)
            if not args.no_embedded:
                results.append(run_embedded(root, args))
                print(json.dumps(results[-1].summary()), flush=True)
            for replicas, workers in (map(int, c.split("x")) for c in args.configs.split(",")):
                results.append(run_team(root, postgres, replicas, workers, args))
                print(json.dumps(results[-1].summary()), flush=True)
    finally:
        postgres.stop()
    print_table(results)
    print(f"\n{args.clients} clients, {args.requests} distinct models per configuration, a convert job (int8, "
          f"{args.calibration_samples} calibration samples) every {args.every}th request")
    if args.json:
        args.json.write_text(json.dumps([r.summary() for r in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
