"""Load test of the service: lint a MobileNetV2-size ``.tflite`` over HTTP with concurrent clients.

It starts a real ``graphlint serve`` (SQLite in a temporary data dir) and drives it with ``--clients`` threads,
each on its own keep-alive connection, posting the model as a raw body (what ``graphlint check --server``
sends). Three workloads, each measured in the same run:

* ``distinct``: every request carries a different model (8 bytes of a weight buffer hold the request number),
  so every request is hashed, stored, linted in a worker and committed: the full cost of a new model. The
  clients never pause, so this measures the most the service sustains; their latency there is set by Little's
  law (``clients / throughput``), not by how fast one request is served;
* ``paced``: the same distinct models offered at ``--rate`` requests per second (default: the 20 req/s the
  service must sustain) through the same ``--clients`` connections, latency counted from when each request was
  due: the latency CI jobs see from a service carrying that load;
* ``repeat``: the same model every time, answered from the content-addressed store (what a CI job re-running
  on an unchanged model sees).

Before that, the same model is linted in-process (``graphlint.lint(path)`` in a child, after its imports): the
baseline an HTTP request is compared with. The server's RSS (its process plus the lint workers) is sampled
every 100 requests of a ``--requests``-long distinct run. Each client deletes the model file the server stored
for its request once the answer is in, to bound disk use (the server does not read it again) without a burst of
deletions that would stall the requests in flight. The model is built once with TensorFlow in a child
process and cached by ``bench_lint.py``'s builder (``~/.cache/graphlint-bench``).

Usage::

    python bench/bench_api.py [--clients 8] [--requests 1000] [--rate 20] [--paced-requests 600]
                              [--lint-workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import contextlib

from bench_lint import ensure_keras
from local_services import free_port

GOAL_P50_MS = 150
GOAL_RPS = 20
GOAL_RSS_GROWTH_MB = 50  # "flat": the last sample within this of the one after warm-up

_BASELINE = r'''
import sys, time, statistics, graphlint
path, runs = sys.argv[1], int(sys.argv[2])
graphlint.lint(path)
times = []
for _ in range(runs):
    t = time.perf_counter(); graphlint.lint(path); times.append((time.perf_counter() - t) * 1000)
print(statistics.median(times))
'''


def weight_offset(data: bytes) -> int:
    """Where the largest weight buffer of a TFLite file starts (8 bytes there make a different model)."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as fb

    model = fb.Model.GetRootAs(data, 0)
    best, best_len = None, 0
    for i in range(model.BuffersLength()):
        buf = model.Buffers(i)
        if buf.Offset() > 1 and buf.Size() > best_len:
            best, best_len = int(buf.Offset()), int(buf.Size())
        elif buf.DataLength() > best_len:
            arr = buf.DataAsNumpy()
            base = np.frombuffer(data, np.uint8).__array_interface__["data"][0]
            best, best_len = arr.__array_interface__["data"][0] - base, buf.DataLength()
    if best is None or best_len < 8:
        raise SystemExit("no weight buffer found in the model")
    return best


def _children(pid: int) -> list[int]:
    """Child processes of any thread of ``pid`` (the lint pool is started from a worker thread)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(children))


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) of a process and of its direct children (the lint workers), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")

    def one(p: int) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            return 0.0

    return one(pid), sum(one(c) for c in _children(pid))


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its direct children, in MB."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Run:
    """Latencies and errors of one workload."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.statuses: dict[int, int] = {}
        self.wall = 0.0
        self.rss: list[tuple[int, float]] = []
        self.cpu: dict[str, float] = {}

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: float("nan"))
        return {"workload": self.name, "requests": len(lat) + len(self.errors), "errors": len(self.errors),
                "statuses": self.statuses, "p50_ms": round(p(0.50), 1), "p90_ms": round(p(0.90), 1),
                "p99_ms": round(p(0.99), 1), "max_ms": round(p(1.0), 1),
                "req_per_s": round(len(lat) / self.wall, 1) if self.wall else 0.0, "rss_mb": self.rss,
                "cpu_ms_per_request": self.cpu, "first_errors": self.errors[:3]}


def drive(port: int, model: bytes, offset: int | None, clients: int, total: int, name: str, server_pid: int,
          data_dir: Path, first_id: int = 0, rate: float | None = None) -> Run:
    """Send ``total`` uploads from ``clients`` threads; ``offset`` set = a distinct model per request.

    Without ``rate`` every client sends its next request as soon as the last one is answered (saturation).
    With ``rate`` request ``i`` is due at ``i / rate`` seconds after the start (an open-loop arrival schedule
    served by the ``clients`` connections), and its latency counts from when it was due, so a server that falls
    behind the schedule shows it in the latencies instead of slowing the clients down.
    """
    run = Run(name)
    counter = iter(range(first_id, first_id + total))
    lock = threading.Lock()
    done = [0]
    start = 0.0

    def client() -> None:
        body = bytearray(model)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            if offset is not None:
                body[offset:offset + 8] = n.to_bytes(8, "little")
            if rate is None:
                sent = time.perf_counter()
            else:
                sent = start + (n - first_id) / rate
                time.sleep(max(0.0, sent - time.perf_counter()))
            try:
                conn.request("POST", "/v1/reports?name=mobilenet_v2.tflite&target=float&target=int8", body=body,
                             headers={"Content-Type": "application/octet-stream"})
                response = conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - sent
                model_info = json.loads(payload)["model"] if response.status in (200, 201) else {}
                ok = model_info.get("format") == "tflite"
            except (OSError, http.client.HTTPException, ValueError, KeyError) as err:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    run.errors.append(f"{type(err).__name__}: {err}")
                continue
            if ok and offset is not None:  # bound disk use: the server never reads a stored model again
                sha256 = model_info["sha256"]
                (data_dir / "models" / sha256[:2] / sha256).unlink(missing_ok=True)
            with lock:
                run.statuses[response.status] = run.statuses.get(response.status, 0) + 1
                if ok:
                    run.latencies.append(elapsed)
                else:
                    run.errors.append(f"HTTP {response.status}: {payload[:200]!r}")
                done[0] += 1
                if done[0] % 100 == 0:
                    run.rss.append((done[0], round(tree_rss_mb(server_pid), 1)))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    server0, workers0 = cpu_seconds(server_pid)
    own0 = time.process_time()
    start = time.perf_counter() + (0.05 if rate else 0.0)  # paced: every client runs before the first is due
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.wall = time.perf_counter() - start
    server1, workers1 = cpu_seconds(server_pid)
    n = max(1, total)
    run.cpu = {"server": round((server1 - server0) * 1000 / n, 1),
               "lint_workers": round((workers1 - workers0) * 1000 / n, 1),
               "clients": round((time.process_time() - own0) * 1000 / n, 1)}
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1000, help="requests of the distinct-model run")
    parser.add_argument("--repeat-requests", type=int, default=400, help="requests of the repeat run")
    parser.add_argument("--rate", type=float, default=GOAL_RPS,
                        help="offered requests per second of the paced run (distinct models, open loop)")
    parser.add_argument("--paced-requests", type=int, default=600, help="requests of the paced run")
    parser.add_argument("--lint-workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "graphlint-bench")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    path = next(m.path for m in ensure_keras(args.cache, ["MobileNetV2"]) if m.fmt == "tflite")
    model = path.read_bytes()
    offset = weight_offset(model)
    print(f"model: {path.name}, {len(model) / 1e6:.1f} MB; {args.clients} clients; "
          f"{args.lint_workers} lint worker(s); {os.cpu_count()} CPUs", flush=True)

    baseline = float(subprocess.run([sys.executable, "-c", _BASELINE, str(path), "20"], capture_output=True,
                                    text=True, check=True).stdout)
    print(f"in-process baseline: graphlint.lint() p50 {baseline:.1f} ms", flush=True)

    data_dir = Path(tempfile.mkdtemp(prefix="graphlint-bench-api-"))
    port = free_port()
    env = {**os.environ, "GRAPHLINT_LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-m", "graphlint", "serve", "--port", str(port), "--data-dir",
                               str(data_dir), "--lint-workers", str(args.lint_workers), "--max-upload-mb", "64"],
                              env=env)
    results: dict = {"model": path.name, "model_mb": round(len(model) / 1e6, 1), "clients": args.clients,
                     "lint_workers": args.lint_workers, "baseline_lint_p50_ms": round(baseline, 1)}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        drive(port, model, offset, args.clients, 4 * args.clients, "warm-up", server.pid, data_dir,
              first_id=1 << 40)
        distinct = drive(port, model, offset, args.clients, args.requests, "distinct", server.pid, data_dir)
        paced = drive(port, model, offset, args.clients, args.paced_requests, f"paced {args.rate:g}/s", server.pid,
                      data_dir, first_id=1 << 41, rate=args.rate)
        repeat = drive(port, model, None, args.clients, args.repeat_requests, "repeat", server.pid, data_dir)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)

    results["runs"] = [distinct.summary(), paced.summary(), repeat.summary()]
    print()
    print("| workload | requests | errors | p50 ms | p90 ms | p99 ms | max ms | req/s | CPU ms/req: server, "
          "lint workers, clients |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in results["runs"]:
        cpu = s["cpu_ms_per_request"]
        print(f"| {s['workload']} | {s['requests']} | {s['errors']} | {s['p50_ms']} | {s['p90_ms']} | "
              f"{s['p99_ms']} | {s['max_ms']} | {s['req_per_s']} | {cpu['server']}, {cpu['lint_workers']}, "
              f"{cpu['clients']} |")
        for error in s["first_errors"]:
            print(f"  error: {error}")
    rss = distinct.rss
    growth = rss[-1][1] - rss[0][1] if len(rss) > 1 else 0.0
    print("\nserver RSS (main + lint workers), MB, every 100 distinct requests: "
          + ", ".join(f"{mb:.0f}" for _, mb in rss))
    d, p = results["runs"][0], results["runs"][1]
    print(f"paced p50 / in-process lint p50: {p['p50_ms'] / baseline:.1f}x")
    print(f"saturated: {args.clients} clients that never pause keep {args.clients} requests in flight, so their "
          f"p50 is about {args.clients} / throughput (Little's law): {d['p50_ms']:.0f} ms at {d['req_per_s']} req/s")
    goals = [(f"p50 <= {GOAL_P50_MS} ms, {args.clients} clients sustaining {args.rate:g} req/s (distinct models)",
              p["p50_ms"] <= GOAL_P50_MS and p["req_per_s"] >= 0.97 * args.rate),
             (f">= {GOAL_RPS} req/s saturated (distinct models)", d["req_per_s"] >= GOAL_RPS),
             ("zero errors", all(s["errors"] == 0 for s in results["runs"])),
             (f"flat RSS (growth after warm-up {growth:+.0f} MB <= {GOAL_RSS_GROWTH_MB})",
              growth <= GOAL_RSS_GROWTH_MB)]
    print()
    for text, ok in goals:
        print(f"  {'PASS' if ok else 'MISS'}  {text}")
    results["goals"] = dict(goals)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(ok for _, ok in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
