"""Fix and convert with the real TF 2.21 converter and LiteRT interpreter, in warm workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from graphlint.convert.pool import cancel_on
from graphlint.convert.service import ConvertRequest, convert_model
from tests.fix import pack

pytestmark = [pytest.mark.tf, pytest.mark.converter]

# model, target, outputs, registry (None = the built-in rules only)
FIXABLE = [
    ("training", "int8", ("logits",), None),  # training leftovers: the engine prunes to the outputs
    ("neg", "int8", ("probs",), None),  # float-only Neg: the built-in rule rewrites it as Mul by -1
    ("qat", "uint8-qat", ("logits",), None),  # incomplete fake-quant ranges: completed from calibration data
    ("instnorm", "int8", ("logits",), "pack"),  # moments / SquaredDifference instance norm
    ("bn_train", "int8", ("logits",), "pack"),  # training-mode batch norm: decomposed
    ("bn_infer", "int8", ("logits",), "pack"),  # inference batch norm: folded into the conv weights
    ("cast_out", "int8", ("logits",), "pack"),  # a no-op Cast at the output
    ("qat", "int8", ("logits",), "pack"),  # fake quant dropped, int8 calibration instead
]


@pytest.mark.parametrize(("name", "target", "outputs", "rules"), FIXABLE,
                         ids=[f"{m}-{t}-{r or 'builtin'}" for m, t, _, r in FIXABLE])
def test_fixable_model_converts_to_integers_and_agrees(convert_models, pool, tmp_path, name, target, outputs, rules):
    request = ConvertRequest(convert_models / f"{name}.pb", target, fix=True, unsafe_fixes=True, outputs=outputs)
    report = convert_model(request, tmp_path, pool=pool, registry=pack.registry() if rules else None)
    assert report["status"] == "ok", report["error"]
    checks = report["checks"]
    assert checks["allocates_and_runs"] and checks["integer_only"], checks["why_not"]
    assert checks["agrees"] and checks["min_cosine"] >= 0.99, checks["why_not"]
    assert report["verdict"] == "pass"
    assert report["fix"]["applied"], "a fix was expected to apply"
    assert sorted(report["files"]) == sorted(["model.tflite", "fixed.pb", "report.json"])
    assert json.loads((tmp_path / "report.json").read_text())["verdict"] == "pass"


def test_unfixed_training_graph_fails_with_the_converters_words(convert_models, pool, tmp_path):
    report = convert_model(ConvertRequest(convert_models / "training.pb", "int8", outputs=("logits",)), tmp_path,
                           pool=pool)
    assert report["status"] == "failed" and report["error"]["kind"] == "converter"
    assert report["error"]["node"].startswith("train/")
    assert "was passed float" in report["error"]["message"]
    assert report["verdict"] == "fail" and report["checks"]["why_not"]


def test_dropout_removed_and_report_says_why_the_numbers_differ(convert_models, pool, tmp_path):
    request = ConvertRequest(convert_models / "dropout.pb", "int8", fix=True, outputs=("logits",))
    report = convert_model(request, tmp_path, pool=pool, registry=pack.registry())
    assert "remove-dropout" in [a["kind"] for a in report["fix"]["applied"]]
    assert report["checks"]["integer_only"]
    assert report["numeric"]["reference_deterministic"] is False
    assert any("different outputs for the same input" in w for w in report["checks"]["why_not"])


def test_int8_report_has_per_layer_error_and_a_working_recipe(convert_models, pool, tmp_path):
    report = convert_model(ConvertRequest(convert_models / "neg.pb", "int8", fix=True, outputs=("probs",)),
                           tmp_path, pool=pool)
    worst = report["layers"]["worst"]
    assert worst and all("quantization steps" in layer["explanation"] for layer in worst)
    assert worst == sorted(worst, key=lambda x: -x["rmse_per_scale"])
    recipe = report["io_recipe"]
    namespace: dict = {}
    exec(recipe["numpy"], namespace)  # the paste-ready code runs as written
    x = recipe["tensors"][0]
    assert x["role"] == "input" and x["dtype"] == "int8"
    q = namespace["quantize_x"](np.array([0.0, x["float_range"][1], 10.0]))
    assert q.dtype == np.int8 and q[0] == x["zero_point"] and q[2] == 127
    probs = next(t for t in recipe["tensors"] if t["role"] == "output")
    assert namespace["dequantize_probs"](np.array([probs["zero_point"]], np.int8))[0] == 0.0
    assert report["numeric"]["outputs"][0]["top1_agreement"] == 1.0


def test_converter_segfault_becomes_a_structured_failure_and_the_worker_is_replaced(convert_models, pool, tmp_path):
    meta = json.loads((convert_models / "loop.json").read_text())
    before = pool.stats()["replaced"]
    request = ConvertRequest(convert_models / "loop.pb", "int8", inputs=(meta["input"],), outputs=(meta["output"],))
    report = convert_model(request, tmp_path / "crash", pool=pool)
    assert report["status"] == "failed"
    assert report["error"]["kind"] == "crash" and "SIGSEGV" in report["error"]["message"]
    assert pool.stats()["replaced"] == before + 1
    after = convert_model(ConvertRequest(convert_models / "neg.pb", "float", outputs=("probs",)), tmp_path / "ok",
                          pool=pool)
    assert after["status"] == "ok"
    assert after["conversion"]["worker"]["pid"] != report["conversion"]["worker"]["pid"]


def test_killed_worker_and_timeout_are_failures_not_exceptions(convert_models, pool, tmp_path):
    job = {"model": str(convert_models / "neg.pb"), "inputs": [{"name": "x", "shape": [1, 8, 8, 3],
                                                               "dtype": "float32", "range": None}],
           "outputs": ["probs"], "target": "int8", "out": str(tmp_path / "m.tflite")}
    killed = pool.run(job, on_worker=lambda pid: os.kill(pid, signal.SIGSEGV))
    assert killed["status"] == "failed" and killed["error"]["kind"] == "crash"
    assert "SIGSEGV" in killed["error"]["message"] and killed["worker"]["replaced"]
    slow = pool.run(job, timeout=0.001)
    assert slow["status"] == "failed" and slow["error"]["kind"] == "timeout" and slow["worker"]["replaced"]
    again = pool.run(job)
    assert again["status"] == "ok" and again["worker"]["pid"] not in (killed["worker"]["pid"], slow["worker"]["pid"])


def test_a_cancelled_job_stops_its_worker_and_the_next_ones_do_not_start(convert_models, pool, tmp_path):
    job = {"model": str(convert_models / "neg.pb"), "inputs": [{"name": "x", "shape": [1, 8, 8, 3],
                                                               "dtype": "float32", "range": None}],
           "outputs": ["probs"], "target": "int8", "out": str(tmp_path / "m.tflite")}
    cancel = threading.Event()
    with cancel_on(cancel):
        stopped = pool.run(job, on_worker=lambda pid: cancel.set())
        later = pool.run(job)
    assert stopped["status"] == "failed" and stopped["error"]["kind"] == "cancelled" and stopped["worker"]["replaced"]
    with pytest.raises(ProcessLookupError):
        os.kill(stopped["worker"]["pid"], 0)  # killed and reaped
    assert later["error"]["kind"] == "cancelled" and "worker" not in later  # never reached a worker
    assert pool.run(job)["status"] == "ok"  # outside the block, jobs run again


def test_cli_convert_writes_model_fixed_graph_and_report(convert_models, tmp_path):
    out = tmp_path / "neg.tflite"
    proc = subprocess.run([sys.executable, "-m", "graphlint", "convert", str(convert_models / "neg.pb"), "--target",
                           "int8", "-o", str(out), "--fix", "--output", "probs", "--report", str(tmp_path / "r.json"),
                           "--calibration", "random:4", "--input-range", "x=0,1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.is_file() and (tmp_path / "neg.fixed.pb").is_file()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["numeric"]["samples"] == 4 and report["verdict"] == "pass"
    assert "verdict: pass" in proc.stdout and "Traceback" not in proc.stderr
