"""Start-up cost of ``graphlint check`` on a small model, against a bare Python start measured in the same run.

A linter runs in pre-commit hooks over many files, where the process start is most of the cost. This times, in
fresh processes and alternating so that machine load hits every command alike:

* ``python -c pass`` (``python -S -c pass`` too, for scale): the baseline;
* ``graphlint check`` of a 1 KB ``.tflite`` (one FULLY_CONNECTED) and of a small frozen ``.pb``, text output;

and prints the median of each and its ratio to the bare start (the goal: within 8x). Then, with
``python -X importtime``, it lists the packages the ``.tflite`` check imports and what each import cost: what a
smaller start-up would have to avoid.

Usage::

    python bench/bench_startup.py [--runs 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_RATIO = 8.0


def small_tflite() -> bytes:
    """A 1 KB ``.tflite``: one FULLY_CONNECTED over a (1, 16) input."""
    import numpy as np

    from graphlint.testing import TFLiteBuilder

    b = TFLiteBuilder()
    w = b.tensor("w", "float32", (8, 16), data=np.full((8, 16), 0.1, "float32"))
    b.op("FULLY_CONNECTED", [b.input("x", "float32", (1, 16)), w], [b.tensor("y", "float32", (1, 8))])
    b.output("y")
    return b.to_bytes()


def small_pb() -> bytes:
    """A small frozen GraphDef: MatMul, BiasAdd, Relu, Softmax."""
    from graphlint.testing import GraphBuilder

    b = GraphBuilder()
    h = b.op("MatMul", [b.placeholder("x", "float32", (1, 16)), b.const([[0.1] * 8] * 16, name="w")], name="mm")
    h = b.op("Relu", [b.op("BiasAdd", [h, b.const([0.0] * 8, name="b")], name="bias")], name="relu")
    b.op("Softmax", [h], name="y")
    return b.to_bytes()


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def import_costs(command: list[str], top: int = 10) -> list[tuple[str, float]]:
    """The packages ``command`` (a ``python -m ...`` line) imports, by the cumulative time of their own import
    (ms; a package imported inside another is listed too, so the times overlap)."""
    proc = subprocess.run([command[0], "-X", "importtime", *command[1:]], capture_output=True, text=True,
                          check=False)
    costs: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        try:
            cumulative = int(parts[1])
        except ValueError:
            continue
        name = parts[2].strip()
        if "." not in name and not name.startswith("_"):  # a package's own import, at any depth
            costs[name] = max(costs.get(name, 0.0), cumulative / 1000)
    return sorted(costs.items(), key=lambda kv: -kv[1])[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="graphlint-startup-") as tmp:
        tflite, pb = Path(tmp) / "small.tflite", Path(tmp) / "small.pb"
        tflite.write_bytes(small_tflite())
        pb.write_bytes(small_pb())
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -S -c pass": [sys.executable, "-S", "-c", "pass"],
            f"check .tflite ({tflite.stat().st_size / 1024:.1f} KB)": [sys.executable, "-m", "graphlint", "check",
                                                                     str(tflite), "-t", "float,int8"],
            f"check .pb ({pb.stat().st_size / 1024:.1f} KB)": [sys.executable, "-m", "graphlint", "check", str(pb),
                                                             "-t", "float,int8"],
        }
        for command in commands.values():  # compile bytecode, warm the page cache
            timed(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(timed(command))
        imports = import_costs(list(commands.values())[2])
    base = statistics.median(times["python -c pass"])
    print(f"{'command':28} {'median s':>9} {'min s':>7} {'x python':>9}")
    rows = {}
    for name, values in times.items():
        median = statistics.median(values)
        rows[name] = {"median_s": round(median, 4), "min_s": round(min(values), 4), "ratio": round(median / base, 2)}
        print(f"{name:28} {median:9.3f} {min(values):7.3f} {median / base:9.2f}")
    worst = max(r["ratio"] for n, r in rows.items() if n.startswith("check"))
    print(f"\ngoal: a small-model check within {GOAL_RATIO:.0f}x a bare Python start: "
          f"{'met' if worst <= GOAL_RATIO else 'MISSED'} ({worst:.2f}x)")
    print("\nimports of the .tflite check (ms, each package with what it imports):")
    for package, ms in imports:
        print(f"  {package:24} {ms:7.1f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "commands": rows, "imports_ms": dict(imports)},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
