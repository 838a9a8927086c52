"""Benchmark ``graphlint check DIR`` on a Keras MobileNetV2 SavedModel against the same model frozen as ``.pb``.

The models are the ones ``tests/loaders/savedmodel_models.py`` builds (MobileNetV2, ``weights=None``, 96x96,
alpha 0.35, exported with ``model.export``, and its serving function frozen with
``convert_variables_to_constants_v2``), cached as the tests cache them (built once, TensorFlow in a child).

Each measurement is a fresh ``graphlint check PATH --format json -t float,dynamic,int8`` process, run
alternately for the two inputs, and the median of ``--runs`` runs is printed with the ratio (issue 14 asks for
at most 2x). The in-process line times ``graphlint.lint`` alone, after the imports.

Usage::

    python bench/bench_savedmodel.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_INPROCESS = """
import sys, time
from graphlint.engine.runner import lint
times = {}
for _ in range(int(sys.argv[3])):
    for path in sys.argv[1:3]:
        start = time.perf_counter()
        report = lint(path, targets=["float", "dynamic", "int8"])
        assert not report.fatal, report.fatal_finding.message
        times.setdefault(path, []).append(time.perf_counter() - start)
import json, statistics
print(json.dumps({p: statistics.median(t) for p, t in times.items()}))
"""


def _models() -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.loaders.sm_fixtures import build

    return build()


def _cli(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "graphlint", "check", str(path), "--format", "json", "-t",
                    "float,dynamic,int8", "--exit-zero"], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    root = _models()
    sm, pb = root / "mobilenet", root / "mobilenet.pb"
    cli: dict[str, list[float]] = {"sm": [], "pb": []}
    for _ in range(args.runs):
        cli["pb"].append(_cli(pb))
        cli["sm"].append(_cli(sm))
    proc = subprocess.run([sys.executable, "-c", _INPROCESS, str(sm), str(pb), str(args.runs)], check=True,
                          capture_output=True, text=True, cwd=ROOT)
    inproc = json.loads(proc.stdout)
    cli_sm, cli_pb = statistics.median(cli["sm"]), statistics.median(cli["pb"])
    lint_sm, lint_pb = inproc[str(sm)], inproc[str(pb)]
    print(f"MobileNetV2 0.35/96, median of {args.runs}")
    print(f"  graphlint check (process)  SavedModel {cli_sm * 1000:7.0f} ms   frozen .pb {cli_pb * 1000:7.0f} ms   "
          f"ratio {cli_sm / cli_pb:.2f}")
    print(f"  lint() in process          SavedModel {lint_sm * 1000:7.0f} ms   frozen .pb {lint_pb * 1000:7.0f} ms   "
          f"ratio {lint_sm / lint_pb:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
