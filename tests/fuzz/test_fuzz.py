"""A short, bounded fuzz of every target on the fixed seed corpus: part of the test command.

A deterministic byte mutator (fixed seed, a fixed number of inputs) always runs; when atheris is installed,
each target also runs a few hundred coverage-guided inputs under libFuzzer. A crash is any exception other
than LoadError escaping a target; the inputs that once crashed live in ``regressions.py``.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from .corpus import seeds
from .targets import TARGETS

RUNS = {"graphdef": 400, "pbtxt": 60, "tflite": 300, "shapes": 150}
_INTERESTING = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\xff", b"\x00\x00\x00\x80", b"\xff\xff\xff\x7f",
                b"\x01\x00\x00\x00", b"{", b"}", b":", b"\"", b"/", b"node {", b"9999999999")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four byte-level edits: overwrite, insert, delete, duplicate a chunk, splice in an interesting
    value, or cut."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(out) + 1)
        kind = rng.randrange(6)
        if kind == 0 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif kind == 1:
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif kind == 2:
            del out[pos:pos + rng.randint(1, 16)]
        elif kind == 3:
            out[pos:pos] = out[pos:pos + rng.randint(1, 64)]
        elif kind == 4:
            out[pos:pos + 1] = rng.choice(_INTERESTING)
        else:
            del out[pos:]
    return bytes(out)


@pytest.mark.parametrize("target", TARGETS)
def test_mutated_seeds_load_or_fail_cleanly(target):
    rng = random.Random(f"graphlint-{target}")
    corpus = seeds(target)
    fn = TARGETS[target]
    for data in corpus:
        fn(data)
    for _ in range(RUNS[target]):
        fn(mutate(rng.choice(corpus), rng))  # raises on a crash: the input is reproducible from the seed


@pytest.mark.parametrize("target", TARGETS)
def test_coverage_guided_short_run(target, tmp_path):
    pytest.importorskip("atheris")
    seed_dir = tmp_path / "seeds"
    seed_dir.mkdir()
    for i, data in enumerate(seeds(target)):
        (seed_dir / f"{i}").write_bytes(data)
    runner = Path(__file__).with_name("run_atheris.py")
    proc = subprocess.run([sys.executable, str(runner), target, str(seed_dir), f"-runs={RUNS[target]}", "-seed=1",
                           "-timeout=10", "-rss_limit_mb=2048", "-max_len=4096",
                           f"-artifact_prefix={tmp_path}/", "-print_final_stats=1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "stat::number_of_executed_units" in proc.stderr
