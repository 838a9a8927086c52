"""Fuzz each loader with N inputs (default 1,000,000) and report crashes, hangs and peak memory.

    python bench/fuzz.py                                  # 1M inputs for each of graphdef, pbtxt, tflite, shapes
    nice -n 19 python bench/fuzz.py --runs 200000 --targets graphdef,tflite --out build/fuzz --json fuzz.json
    python bench/fuzz.py --targets pbtxt,shapes --max-seconds 1800   # as many inputs as 30 minutes each allow

Each target (``tests/fuzz/targets.py``) runs under atheris, libFuzzer's coverage-guided engine over graphlint's
code, in a child process, starting from the fixed seed corpus (``tests/fuzz/corpus.py``) and the corpus earlier
runs grew in ``--out``. libFuzzer stops at the first crash, hang (an input running longer than ``--hang``
seconds) or memory overrun (peak RSS above ``--rss-mb``, like a worker's cap); the input is kept in ``--out``
and the run resumes with the inputs left, until N have run or ``--max-seconds`` have passed on that target.
The report gives per target: inputs run, crashes, hangs, out-of-memory inputs, slow inputs (over ``--slow``
seconds: kept, without stopping the run), the slowest input, the peak RSS of the fuzzing processes and the files
kept.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TARGETS = ("graphdef", "pbtxt", "tflite", "shapes")
_STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)
_KINDS = {"crash": "crashes", "timeout": "hangs", "oom": "ooms", "leak": "crashes", "slow": "slow_inputs"}


def _write_seeds(target: str, directory: Path) -> None:
    """The fixed seed corpus, written by the tests' own module in a child (bench imports nothing from tests)."""
    subprocess.run([sys.executable, "-m", "tests.fuzz.corpus", target, str(directory)], cwd=ROOT, check=True)


def _run_once(target: str, runs: int, seed: int, args, out: Path, seconds: int) -> tuple[dict, str]:
    """One libFuzzer process (stopped after ``seconds`` when that is not 0): its final stats and the tail of its
    log."""
    corpus, seeds = out / "corpus" / target, out / "seeds" / target
    corpus.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(ROOT / "tests" / "fuzz" / "run_atheris.py"), target, str(corpus), str(seeds),
           f"-runs={runs}", f"-seed={seed}", f"-timeout={args.hang}", f"-rss_limit_mb={args.rss_mb}",
           f"-max_len={args.max_len}", f"-artifact_prefix={out / 'artifacts' / target}-", "-print_final_stats=1",
           "-print_pcs=0", "-reduce_inputs=0", f"-report_slow_units={args.slow}", f"-max_total_time={seconds}"]
    log = out / f"{target}.log"
    with open(log, "a") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT, check=False)
    text = log.read_text(errors="replace")
    tail = text[text.rfind("INFO: Seed:"):] if "INFO: Seed:" in text else text[-20000:]
    stats = {k: int(v) for k, v in _STAT.findall(tail)}
    stats["returncode"] = proc.returncode
    return stats, tail


def _seconds_left(budget: float, start: float) -> int:
    """libFuzzer's ``-max_total_time`` for the next run: 0 (no limit) without a budget, -1 once it is spent."""
    if not budget:
        return 0
    left = int(budget - (time.monotonic() - start))
    return left if left >= 1 else -1


def fuzz_target(target: str, args, out: Path) -> dict:
    """Run ``args.runs`` inputs of ``target``, resuming after each crash, hang or overrun."""
    _write_seeds(target, out / "seeds" / target)
    (out / "artifacts").mkdir(parents=True, exist_ok=True)
    result = {"target": target, "inputs": 0, "crashes": 0, "hangs": 0, "ooms": 0, "slow_inputs": 0, "peak_rss_mb": 0,
              "slowest_input_s": 0, "restarts": 0, "artifacts": [], "seconds": 0.0}
    start = time.monotonic()
    seed = args.seed
    while result["inputs"] < args.runs:
        seconds = _seconds_left(args.max_seconds, start)
        if seconds < 0:
            break
        before = set((out / "artifacts").glob(f"{target}-*"))
        stats, tail = _run_once(target, args.runs - result["inputs"], seed, args, out, seconds)
        ran = stats.get("number_of_executed_units", 0)
        result["inputs"] += ran
        result["peak_rss_mb"] = max(result["peak_rss_mb"], stats.get("peak_rss_mb", 0))
        result["slowest_input_s"] = max(result["slowest_input_s"], stats.get("slowest_unit_time_sec", 0))
        new = sorted(set((out / "artifacts").glob(f"{target}-*")) - before)
        for path in new:
            kind = path.name[len(target) + 1:].split("-", 1)[0]
            result[_KINDS.get(kind, "crashes")] += 1
            result["artifacts"].append(str(path))
        if stats["returncode"] != 0 and not [p for p in new if "-slow-unit-" not in p.name]:
            result["crashes"] += 1
            result["artifacts"].append(f"(no artifact; exit {stats['returncode']}: {tail[-300:]!r})")
        if stats["returncode"] == 0 and ran == 0:
            break
        if stats["returncode"] != 0:
            result["restarts"] += 1
            result["inputs"] += 1 if ran == 0 else 0  # the input that stopped the run
        seed += 1
        print(f"{target}: {result['inputs']:,}/{args.runs:,} inputs, {result['crashes']} crashes, "
              f"{result['hangs']} hangs, {result['ooms']} ooms, peak {result['peak_rss_mb']} MB", flush=True)
    result["seconds"] = round(time.monotonic() - start, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000, help="inputs per target (default 1,000,000)")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated ({','.join(TARGETS)})")
    parser.add_argument("--hang", type=int, default=10, help="seconds one input may take (default 10)")
    parser.add_argument("--slow", type=int, default=2, help="seconds above which an input is kept as slow (default 2)")
    parser.add_argument("--rss-mb", type=int, default=2048, help="memory cap of the fuzzing process (default 2048)")
    parser.add_argument("--max-len", type=int, default=16384, help="largest input in bytes (default 16384)")
    parser.add_argument("--max-seconds", type=float, default=0,
                        help="stop each target after this long, whatever --runs says (default 0: no limit)")
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer seed of the first run (default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "fuzz", help="corpus, artifacts and logs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    try:
        import atheris  # noqa: F401
    except ImportError:
        parser.error("atheris is not installed (pip install atheris)")
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]} (known: {', '.join(TARGETS)})")
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for target in targets:
        results.append(fuzz_target(target, args, args.out))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    print(f"\n{'target':<10} {'inputs':>10} {'crashes':>8} {'hangs':>6} {'ooms':>5} {'slow':>5} {'slowest s':>10} "
          f"{'peak MB':>8} {'time s':>8}")
    for r in results:
        print(f"{r['target']:<10} {r['inputs']:>10,} {r['crashes']:>8} {r['hangs']:>6} {r['ooms']:>5} "
              f"{r['slow_inputs']:>5} {r['slowest_input_s']:>10} {r['peak_rss_mb']:>8} {r['seconds']:>8}")
    return 1 if any(r["crashes"] or r["hangs"] or r["ooms"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
