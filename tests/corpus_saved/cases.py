"""Every SavedModel corpus model with its split: ``dev`` (models.py) and ``heldout`` (heldout.py, never tuned on).

``scripts/judge_corpus.py --corpus saved``, build.py and the probe workers load this file by path (it is the
module named by GRAPHLINT_PROBE_CASES), so it puts its own folder and the frozen corpus's (for the shared
``corpus_kit``) on ``sys.path``. ``build_case`` writes one for build.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _folder in (HERE, HERE.parent / "corpus"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


def _load(name: str, filename: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


build_case = _load("saved_kit", "saved_kit.py").build_case
DEV = _load("saved_corpus_dev", "models.py").CASES
HELDOUT = _load("saved_corpus_heldout", "heldout.py").CASES
CASES = DEV + HELDOUT
SPLIT = {**{c.id: "dev" for c in DEV}, **{c.id: "heldout" for c in HELDOUT}}

if len(SPLIT) != len(CASES):
    raise ValueError("a model id is used twice in the SavedModel corpus")
