"""A deterministic work counter: how much a call does, counted instead of timed.

:func:`work` runs a callable under ``sys.setprofile`` and counts one unit per call (Python or C); with
``opcodes=True`` it also counts every bytecode executed (``sys.settrace``), which sees loops that call nothing,
at several times the cost. A C method that scans its container (``list.index``, ``str.find`` ...) is charged
the container's length on top, so a loop that calls one of them per item shows up as quadratic even though
each scan is a single C call. The count depends only on the code path, never on the machine or its
load, so tests can assert that doubling an input roughly doubles the work.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from typing import Any

# C methods whose cost is the length of the object they are bound to.
_SCANS = frozenset({"index", "count", "remove", "insert", "__contains__", "copy", "find", "rfind", "replace",
                    "split", "rsplit", "startswith", "endswith", "strip", "encode", "decode",
                    "join", "lower", "upper", "partition", "rpartition", "tolist", "tobytes"})
_CONTAINERS = (list, tuple, str, bytes, bytearray, deque, memoryview)


class WorkCounter:
    """Counts bytecodes executed, call events (Python and C) and the length of every container a C method
    scans."""

    def __init__(self) -> None:
        self.units = 0

    def profile(self, frame, event: str, arg: Any) -> None:
        if event == "call":
            self.units += 1
        elif event == "c_call":
            self.units += 1
            owner = getattr(arg, "__self__", None)
            if isinstance(owner, _CONTAINERS) and getattr(arg, "__name__", "") in _SCANS:
                self.units += len(owner)

    def trace(self, frame, event: str, arg: Any):
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        return self._opcode

    def _opcode(self, frame, event: str, arg: Any):
        if event == "opcode":
            self.units += 1
        return self._opcode


def work(fn: Callable[..., Any], *args: Any, opcodes: bool = False) -> int:
    """Units of work ``fn(*args)`` does (an exception it raises is swallowed: its work still counts)."""
    counter = WorkCounter()
    sys.setprofile(counter.profile)
    if opcodes:
        sys.settrace(counter.trace)
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - a rejected input's work is what some tests measure
        pass
    finally:
        sys.settrace(None)
        sys.setprofile(None)
    return counter.units


def growth(make: Callable[[int], Any], run: Callable[[Any], Any], size: int, *, opcodes: bool = False) -> float:
    """How much the work of ``run`` grows when the input built by ``make`` doubles: work(2n) / work(n).

    Every run gets a fresh input, built before counting; a first run warms caches and lazy imports. Linear work
    gives about 2, quadratic about 4 (less at small sizes, where the linear part still dominates).
    """
    work(run, make(size), opcodes=opcodes)
    small, large = make(size), make(2 * size)
    return work(run, large, opcodes=opcodes) / work(run, small, opcodes=opcodes)
