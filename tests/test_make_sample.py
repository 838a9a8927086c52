"""The sample model the README offers a newcomer is the same file on every run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_sample_writes_the_same_bytes_under_any_hash_seed(tmp_path: Path) -> None:
    # protobuf writes map fields (a node's attrs) in hash order unless asked for key order
    written = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"sample{seed}.pb"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample.py"), str(out)], check=True,
                       capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
        written.append(out.read_bytes())
    assert written[0] and written[0] == written[1] == written[2]
