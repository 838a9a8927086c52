"""Turn what the converter or the interpreter said into a one-line message and the node it names."""

from __future__ import annotations

import re
import signal

_NODE_PATTERNS = (
    re.compile(r"Input \d+ of node (\S+?) was passed"),
    re.compile(r"\bnode '([^']+)'"),
    re.compile(r"\{\{node ([^}]+)\}\}"),
    re.compile(r"\bnode `([^`]+)`"),
    re.compile(r"\bNode ([\w./-]+)\b(?: \(op|: )"),
)
_LOC = re.compile(r"loc\((?:fused\[|callsite\()?((?:\"[^\"]*\"(?:, )?)+)")
_QUOTED = re.compile(r'"([^"]*)"')
_ERROR_LINE = re.compile(r"(?:^|\s)error: (.*)$")
_LOG_PREFIX = re.compile(r"^[FEWI]\d{4} [\d:.]+\s+\d+ [\w./]+:\d+\] ")


def node_from_message(message: str) -> str | None:
    """The graph node a converter or interpreter message names, or None.

    Knows the TensorFlow importer's "Input 0 of node X was passed ...", MLIR diagnostics with a location
    (``loc("X")``, ``loc(fused["Conv2D:", "X"])``, ``loc(callsite("X" at ...))``) and "node 'X'" forms.
    """
    for located in _LOC.finditer(message):
        for quoted in _QUOTED.findall(located.group(1)):
            name: str = quoted.split("@", 1)[0]
            if name and not name.endswith(":") and not name.startswith(("<", "/")):
                return name
    for pattern in _NODE_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1).rstrip(".,;:")
    return None


def summarize(message: str, limit: int = 600) -> str:
    """The converter's own words, without the stack of locations and notes: its ``error:`` lines, joined."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    errors = []
    for line in lines:
        match = _ERROR_LINE.search(line)
        if match:
            text = match.group(1).strip()
            text = re.sub(r"^loc\([^)]*\)\)?:\s*", "", text)
            if text not in errors:
                errors.append(text)
    if not errors:
        errors = [_LOG_PREFIX.sub("", line) for line in lines[:3]]
    text = "; ".join(errors) or "no message"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def crash_message(returncode: int | None, stderr_tail: str) -> tuple[str, str]:
    """Describe a worker that died: (kind, message). ``kind`` is crash | memory."""
    fatal = [line for line in stderr_tail.splitlines()
             if line.startswith(("F0", "F1", "E0", "E1")) or "Check failed" in line
             or "terminate called" in line or "bad_alloc" in line or "MemoryError" in line
             or "Fatal Python error" in line]
    detail = summarize("\n".join(fatal[-3:])) if fatal else ""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        how = f"the converter process was killed by {name}"
    else:
        how = f"the converter process exited with status {returncode}"
    memory = any(word in stderr_tail for word in ("bad_alloc", "MemoryError", "Cannot allocate memory",
                                                  "Resource exhausted", "ResourceExhaustedError"))
    kind = "memory" if memory else "crash"
    if memory:
        how += " (out of memory: the job exceeded the worker's memory cap)"
    return kind, f"{how}: {detail}" if detail else how
