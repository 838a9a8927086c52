"""graphlint's predicted verdicts against the real converter's, on the public corpus (tests/corpus/models.py).

The outcomes in outcomes.json were recorded by ``scripts/judge_corpus.py`` with TF 2.21, LiteRT and TFLite
Micro; the models are rebuilt here by the same code (in a child process, cached) and linted without TensorFlow.
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

from graphlint.engine.runner import lint
from tests.conftest import _cache_root, tensorflow_version

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
OUTCOMES = json.loads((HERE / "outcomes.json").read_text())
JUDGED = ("float", "dynamic", "int8", "int8-fallback", "uint8-qat", "int16x8", "float16", "tflm")
REQUIRED_AGREEMENT = 0.98

pytestmark = [pytest.mark.tf, pytest.mark.converter]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    version = tensorflow_version()
    if version is None:
        pytest.skip("TensorFlow is not installed")
    sources = [HERE / "models.py", HERE / "build.py", ROOT / "scripts" / "probe_ops.py"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    out = _cache_root() / version / f"corpus-{digest}"
    if not (out / "manifest.json").is_file():
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
        proc = subprocess.run([sys.executable, str(HERE / "build.py"), str(out)], capture_output=True, text=True,
                              timeout=900, env=env, cwd=ROOT)
        if proc.returncode != 0:
            pytest.fail(f"building the corpus failed:\n{proc.stderr[-3000:]}", pytrace=False)
    return out


@pytest.fixture(scope="session")
def predictions(corpus_dir) -> dict:
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    out = {}
    for model_id, io in manifest.items():
        inputs = [f"{name}:" + ",".join(map(str, shape)) for name, shape in io["inputs"]]
        report = lint(corpus_dir / f"{model_id}.pb", targets=JUDGED, inputs=inputs, outputs=io["outputs"])
        out[model_id] = report
    return out


def test_every_model_was_judged(predictions):
    assert set(predictions) == set(OUTCOMES["models"])


def _disagreements(predictions, target):
    wrong = []
    for model_id, report in predictions.items():
        expected = OUTCOMES["models"][model_id][target]["verdict"]
        got = report.verdicts()[target]["verdict"]
        if got != expected:
            wrong.append(f"{model_id}: graphlint {got}, converter {expected} "
                         f"({OUTCOMES['models'][model_id][target]['status']}: "
                         f"{(OUTCOMES['models'][model_id][target]['error'] or '')[:120]}); "
                         f"graphlint findings {report.verdicts()[target]}")
    return wrong


@pytest.mark.parametrize("target", JUDGED)
def test_verdict_agreement(predictions, target):
    wrong = _disagreements(predictions, target)
    agreement = 1 - len(wrong) / len(predictions)
    assert agreement >= REQUIRED_AGREEMENT, f"{target}: {agreement:.1%} agreement\n" + "\n".join(wrong)


def test_no_model_that_runs_gets_fail(predictions):
    wrong = [f"{m} {t}" for m, r in predictions.items() for t in JUDGED
             if r.verdicts()[t]["verdict"] == "fail" and OUTCOMES["models"][m][t]["verdict"] != "fail"]
    assert wrong == []


def test_every_rule_category_is_exercised(predictions):
    seen = Counter(f.code for r in predictions.values() for f in r.findings)
    for code in ("GL301", "GL302", "GL303", "GL304", "GL401", "GL402"):
        assert seen[code], f"no corpus model triggers {code}"


# -- .tflite files: what the converter wrote for the corpus, judged by LiteRT and TFLite Micro ------------------

TFLITE_JUDGED = ("float", "int8", "tflm")


def _tflite_expected(record: dict, target: str) -> str:
    """DESIGN.md §3 for a .tflite input: fail when the runtime cannot allocate and invoke it, warn when it runs
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
def test_tflite_verdict_agreement(tflite_predictions, target):
    wrong = [f"{m}.{src}.tflite: graphlint {v[target]['verdict']}, runtime {_tflite_expected(r, target)} ({r})"
             for m, src, r, v in tflite_predictions if v[target]["verdict"] != _tflite_expected(r, target)]
    agreement = 1 - len(wrong) / len(tflite_predictions)
    assert agreement >= REQUIRED_AGREEMENT, f"{target}: {agreement:.1%} agreement\n" + "\n".join(wrong)
