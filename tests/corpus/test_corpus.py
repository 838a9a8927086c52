"""graphlint's predicted verdicts against the real converter's, on the public corpus (tests/corpus/cases.py).

The outcomes in outcomes.json were recorded by ``scripts/judge_corpus.py`` with TF 2.21, LiteRT and TFLite
Micro; the models are rebuilt here by the same code (in a child process, cached) and linted without TensorFlow.

The corpus has two splits, each model's ``split`` recorded in outcomes.json: ``dev`` (models.py, what rules may
be written against) and ``heldout`` (heldout.py, never tuned on). Agreement and false fails are measured and
required per split; ``test_summary`` prints the table (run with ``-rA`` or ``-s`` to see it).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from graphlint.convert.verify import TFLITE_JUDGED
from graphlint.engine.runner import lint
from graphlint.engine.targets import JUDGED_TARGETS
from tests import corpus_agreement as agreement
from tests.conftest import _cache_root, tensorflow_version

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
OUTCOMES = json.loads((HERE / "outcomes.json").read_text())
JUDGED = JUDGED_TARGETS
SPLITS = ("dev", "heldout")
# Required verdict agreement per target, on each split: 0.98 on both (what is left: the int8 gate split of unrolled
# LSTMs, which calibration quantizes in some conversions and not in others, and softmax logits the weights leave
# small or flat but not certainly enough to call).
REQUIRED_AGREEMENT_DEV = 0.98
REQUIRED_AGREEMENT_HELDOUT = 0.98
REQUIRED = {"dev": REQUIRED_AGREEMENT_DEV, "heldout": REQUIRED_AGREEMENT_HELDOUT}
# graphlint "fail" where the real tools convert and run (model x target cells): none allowed.
ALLOWED_FALSE_FAILS_DEV = 0
ALLOWED_FALSE_FAILS_HELDOUT = 0
ALLOWED_FALSE_FAILS = {"dev": ALLOWED_FALSE_FAILS_DEV, "heldout": ALLOWED_FALSE_FAILS_HELDOUT}
# The build converts about 200 models and judges their .tflite files: minutes on 2 cores.
BUILD_TIMEOUT_S = 1800

pytestmark = [pytest.mark.tf, pytest.mark.converter]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    version = tensorflow_version()
    if version is None:
        pytest.skip("TensorFlow is not installed")
    sources = sorted(p for p in HERE.glob("*.py") if p.name not in ("test_corpus.py", "__init__.py"))
    sources.append(ROOT / "scripts" / "probe_ops.py")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    out = _cache_root() / version / f"corpus-{digest}"
    if not (out / "manifest.json").is_file():
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
        proc = subprocess.run([sys.executable, str(HERE / "build.py"), str(out)], capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S, env=env, cwd=ROOT)
        if proc.returncode != 0:
            pytest.fail(f"building the corpus failed:\n{proc.stderr[-3000:]}", pytrace=False)
    return out


def _shape_spec(shape: list[int]) -> str:
    """A shape as `--input NAME:SHAPE` spells it: `[]` a scalar, a trailing comma for one dimension (`x:1,`; `x:1`
    would name the tensor slot 1)."""
    if not shape:
        return "[]"
    return ",".join(map(str, shape)) + ("," if len(shape) == 1 else "")


@pytest.fixture(scope="session")
def predictions(corpus_dir) -> dict:
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    out = {}
    for model_id, io in manifest.items():
        inputs = [f"{name}:{_shape_spec(shape)}" for name, shape in io["inputs"]]
        report = lint(corpus_dir / f"{model_id}.pb", targets=JUDGED, inputs=inputs, outputs=io["outputs"])
        out[model_id] = report
    return out


def split_of(model_id: str) -> str:
    return OUTCOMES["models"][model_id]["split"]


def test_every_model_was_judged(predictions):
    assert set(predictions) == set(OUTCOMES["models"])


def test_both_splits_are_large_enough():
    counts = Counter(m["split"] for m in OUTCOMES["models"].values())
    assert set(counts) == set(SPLITS)
    assert counts["heldout"] >= 60 and sum(counts.values()) >= 200, counts


def _disagreements(predictions, target, split):
    return agreement.disagreements(OUTCOMES["models"], predictions, target, split)


def _false_fails(predictions, split):
    return agreement.false_fails(OUTCOMES["models"], predictions, split, JUDGED)


def _size(predictions, split):
    return agreement.size(OUTCOMES["models"], predictions, split)


@pytest.mark.parametrize("target", JUDGED)
@pytest.mark.parametrize("split", SPLITS)
def test_verdict_agreement(predictions, split, target):
    wrong = _disagreements(predictions, target, split)
    agreement = 1 - len(wrong) / _size(predictions, split)
    assert agreement >= REQUIRED[split], f"{split} {target}: {agreement:.1%} agreement\n" + "\n".join(wrong)


@pytest.mark.parametrize("split", SPLITS)
def test_no_model_that_runs_gets_fail(predictions, split):
    wrong = _false_fails(predictions, split)
    assert len(wrong) <= ALLOWED_FALSE_FAILS[split], "\n".join(wrong)


def test_summary(predictions, tflite_predictions, capsys):
    """Per split and target: agreement, disagreements and false fails; then the .tflite files per split."""
    lines = ["", "corpus agreement with TF 2.21's converter, LiteRT and TFLite Micro (graphlint verdicts)",
             *agreement.table(OUTCOMES["models"], predictions, JUDGED, SPLITS)]
    lines.append(f"{'.tflite':8} {'files':>6}  " + " ".join(f"{t:>13}" for t in TFLITE_JUDGED))
    for split in SPLITS:
        rows = [r for r in tflite_predictions if split_of(r[0]) == split]
        cells = []
        for target in TFLITE_JUDGED:
            ok = sum(v[target]["verdict"] == _tflite_expected(rec, target) for _, _, rec, v in rows)
            cells.append(f"{ok:>4}/{len(rows)} {ok / max(len(rows), 1):5.1%}")
        lines.append(f"{split:8} {len(rows):>6}  " + " ".join(f"{c:>13}" for c in cells))
    lines.extend(agreement.misses(OUTCOMES["models"], predictions, JUDGED, SPLITS))
    with capsys.disabled():
        print("\n".join(lines))
    assert len(lines) > 6


def test_every_rule_category_is_exercised(predictions):
    seen = Counter(f.code for r in predictions.values() for f in r.findings)
    for code in ("GL301", "GL302", "GL303", "GL304", "GL401", "GL402"):
        assert seen[code], f"no corpus model triggers {code}"


# -- .tflite files: what the converter wrote for the corpus, judged by LiteRT and TFLite Micro ------------------

# Required agreement on the .tflite files the converter wrote, per split of the model they came from.
TFLITE_REQUIRED_DEV = 0.98
TFLITE_REQUIRED_HELDOUT = 0.98
TFLITE_REQUIRED = {"dev": TFLITE_REQUIRED_DEV, "heldout": TFLITE_REQUIRED_HELDOUT}


def _tflite_expected(record: dict, target: str) -> str:
    """docs/design.md §3 for a .tflite input: fail when the runtime cannot allocate and invoke it, warn when it runs
    but computes in float where the target promises integers, pass otherwise."""
    if target == "tflm":
        return "fail" if record["tflm"] else "pass"
    if record["litert"]:
        return "fail"
    return "warn" if target == "int8" and record["float_ops"] else "pass"


@pytest.fixture(scope="session")
def tflite_predictions(corpus_dir) -> list[tuple[str, str, dict, dict]]:
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    out = []
    for model_id, entry in manifest.items():
        for source, record in entry["tflite"].items():
            report = lint(corpus_dir / f"{model_id}.{source}.tflite", targets=TFLITE_JUDGED)
            out.append((model_id, source, record, report.verdicts()))
    return out


@pytest.mark.parametrize("target", TFLITE_JUDGED)
@pytest.mark.parametrize("split", SPLITS)
def test_tflite_verdict_agreement(tflite_predictions, split, target):
    rows = [r for r in tflite_predictions if split_of(r[0]) == split]
    wrong = [f"{m}.{src}.tflite: graphlint {v[target]['verdict']}, runtime {_tflite_expected(r, target)} ({r})"
             for m, src, r, v in rows if v[target]["verdict"] != _tflite_expected(r, target)]
    agreement = 1 - len(wrong) / len(rows)
    assert agreement >= TFLITE_REQUIRED[split], f"{split} {target}: {agreement:.1%} agreement\n" + "\n".join(wrong)
