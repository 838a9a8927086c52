"""Run one fuzz target under atheris (libFuzzer, coverage guided over graphlint's code).

    python tests/fuzz/run_atheris.py TARGET [libFuzzer args: CORPUS_DIR... -runs=N -timeout=10 ...]

TARGET is one of ``graphdef``, ``pbtxt``, ``tflite``, ``shapes`` (see ``targets.py``). A crash is any exception
other than :class:`graphlint.loaders.LoadError`; libFuzzer writes the input to ``<artifact_prefix>crash-*``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["graphlint", "tests.fuzz"]):
    import graphlint.loaders.graphdef
    import graphlint.loaders.shapes
    import graphlint.loaders.tflite  # noqa: F401 (instrumented before the loaders import them lazily)
    from tests.fuzz.targets import TARGETS


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer args]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
