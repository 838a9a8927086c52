"""Run a ``.tflite`` in the real TFLite Micro interpreter (the ``tflite-micro`` package), in a child process: its
kernels abort the program on some models, so it never runs in the test's own."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

_RUN_MICRO = """
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
interpreter = runtime.Interpreter.from_bytes(open(sys.argv[1], "rb").read(), arena_size=1 << 22)
detail = interpreter.get_input_details(0)
dtype, shape = detail["dtype"], detail["shape"]
if sys.argv[2] == "extreme":  # one logit at the type's top, every other at its bottom
    info = np.iinfo(dtype)
    data = np.full(shape, info.min, dtype=dtype)
    data.reshape(-1)[0] = info.max
else:
    data = np.zeros(shape, dtype=dtype)
interpreter.set_input(data, 0)
interpreter.invoke()
print("invoked")
"""


@dataclasses.dataclass(frozen=True)
class MicroRun:
    returncode: int
    output: str

    @property
    def ran(self) -> bool:
        return self.returncode == 0 and "invoked" in self.output

    @property
    def aborted(self) -> bool:
        return self.returncode < 0


def run_micro(path: Path, data: str = "zeros") -> MicroRun:
    """Allocate ``path`` in TFLite Micro, feed its first input zeros (or ``"extreme"`` values), invoke."""
    pytest.importorskip("tflite_micro")
    proc = subprocess.run([sys.executable, "-c", _RUN_MICRO, str(path), data], capture_output=True, text=True,
                          timeout=120)
    return MicroRun(proc.returncode, (proc.stdout + proc.stderr)[-1500:])


_RUN_MANY = """
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
for path in sys.argv[1:]:
    print("start", path, flush=True)
    try:
        interpreter = runtime.Interpreter.from_bytes(open(path, "rb").read(), arena_size=1 << 22)
        detail = interpreter.get_input_details(0)
        interpreter.set_input(np.zeros(detail["shape"], dtype=detail["dtype"]), 0)
        interpreter.invoke()
        print("ran", path, flush=True)
    except Exception as err:
        print("failed", path, str(err).replace(chr(10), " "), flush=True)
"""


def run_micro_many(paths: list[Path]) -> dict[str, bool]:
    """Whether each model allocates and invokes on zeros in TFLite Micro; one child for many models, and a new
    child after a model that aborts the program (that model counts as not run)."""
    pytest.importorskip("tflite_micro")
    todo, out = [str(p) for p in paths], {}
    while todo:
        proc = subprocess.run([sys.executable, "-c", _RUN_MANY, *todo], capture_output=True, text=True, timeout=600)
        for line in proc.stdout.splitlines():
            status, _, rest = line.partition(" ")
            path = rest.split(" ", 1)[0]
            if status in ("ran", "failed"):
                out[path] = status == "ran"
            elif status == "start" and path not in out:
                out[path] = False  # overwritten unless the program died on it
        left = [p for p in todo if p not in out]
        assert len(left) < len(todo), proc.stderr[-1500:]  # the child could not even start
        todo = left
    return out
