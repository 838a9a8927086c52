"""Every corpus model with its split: ``dev`` (models.py, the models rules may be written against) and
``heldout`` (heldout.py, a fixed set the rules are never tuned on).

scripts/judge_corpus.py, tests/corpus/build.py and the probe workers load this file by path (it is the module
named by GRAPHLINT_PROBE_CASES), so it puts its own folder on ``sys.path`` for the shared builders.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def _load(name: str, filename: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_dev = _load("corpus_dev", "models.py")
DEV = _dev.CASES
# Models of the first corpus: the test build writes four .tflite files for each, two for every other model.
FIRST = frozenset(c.id for c in _dev.FIRST)
HELDOUT = _load("corpus_heldout", "heldout.py").CASES
CASES = DEV + HELDOUT
SPLIT = {**{c.id: "dev" for c in DEV}, **{c.id: "heldout" for c in HELDOUT}}
# Source files whose bytes decide the built models (the test caches its build by their digest).
SOURCES = [HERE / n for n in ("cases.py", "models.py", "heldout.py", "kinds.py", "corpus_kit.py", "build.py")]

if len(SPLIT) != len(CASES):
    raise ValueError("a model id is used twice in the corpus")
