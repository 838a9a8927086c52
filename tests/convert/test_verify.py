"""``graphlint check --verify``: predictions held against the real TF 2.21 converter, LiteRT and TFLite Micro.

The contradiction is made honestly: ``--ignore GL301`` silences the rule that knows Digamma has no TFLite builtin,
so graphlint predicts ``pass`` and the real converter refuses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphlint.convert.verify import verify_report
from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder, TFLiteBuilder

ROOT = Path(__file__).resolve().parents[2]


def _dense(path: Path) -> Path:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    w = b.const([[0.1 * (i - j) for j in range(4)] for i in range(8)], name="w")
    mm = b.op("MatMul", [x, w], name="mm", attrs={"transpose_a": False, "transpose_b": False})
    b.output(b.op("Relu", [mm], name="y"))
    path.write_bytes(b.to_bytes())
    return path


def _digamma(path: Path) -> Path:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    b.output(b.op("Digamma", [x], name="y"))
    path.write_bytes(b.to_bytes())
    return path


def _float_relu_tflite(path: Path) -> Path:
    tfl = TFLiteBuilder()
    x, y = tfl.input("x", "float32", (1, 4)), tfl.tensor("y", "float32", (1, 4))
    tfl.op("RELU", [x], [y])
    tfl.output(y)
    path.write_bytes(tfl.to_bytes())
    return path


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphlint.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=900)


@pytest.mark.tf
@pytest.mark.converter
def test_verify_confirms_and_contradicts_with_the_real_tools(tmp_path):
    dense, digamma = _dense(tmp_path / "dense.pb"), _digamma(tmp_path / "digamma.pb")
    proc = _cli("check", dense.name, digamma.name, "--output", "y", "-t", "float,int8,tflm,gpu", "--ignore", "GL301",
                "--verify", "-f", "json:report.json", "-f", "text", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # the real converter refuses digamma.pb
    assert "Traceback" not in proc.stderr
    dense_report, digamma_report = json.loads((tmp_path / "report.json").read_text())
    for target in ("float", "int8", "tflm"):
        verified = dense_report["targets"][target]["verified"]
        assert verified["status"] == "confirmed" and verified["actual"] == "pass", (target, verified)
    assert dense_report["targets"]["gpu"]["verified"] == {
        "status": "not-run", "actual": None, "reproduce": None,
        "message": "the TFLite GPU delegate does not run here; only a device with it can judge this target"}
    float_check = digamma_report["targets"]["float"]
    assert float_check["verdict"] == "pass"
    assert float_check["verified"]["status"] == "contradicted" and float_check["verified"]["actual"] == "fail"
    assert "Digamma" in float_check["verified"]["message"]
    command = "graphlint convert digamma.pb --target float -o digamma.float.tflite --input x:1,8 --output y"
    assert float_check["verified"]["reproduce"] == command
    assert "CONTRADICTED, the real tools say fail" in proc.stdout
    assert f"reproduce float: {command}" in proc.stdout
    # the reproduction is a command that really shows the refusal
    again = _cli(*command.split()[1:], cwd=tmp_path)
    assert again.returncode == 1 and "Digamma" in again.stdout, again.stdout + again.stderr


@pytest.mark.tf
@pytest.mark.converter
def test_verify_runs_a_tflite_file_in_the_runtimes(tmp_path, pool):
    model = _float_relu_tflite(tmp_path / "relu.tflite")
    report = lint(model, targets=("float", "dynamic", "int8", "tflm"))
    verified = verify_report(report, str(model), pool=pool)
    assert verified["float"]["status"] == "confirmed" and verified["float"]["actual"] == "pass"
    assert verified["dynamic"]["status"] == "not-run" and "already converted" in verified["dynamic"]["message"]
    # a float RELU runs, but int8 promises integers: the judge's warn, as GL602 predicts
    assert report.verdicts()["int8"]["verdict"] == "warn"
    assert verified["int8"] == {**verified["int8"], "status": "confirmed", "actual": "warn"}
    assert "RELU" in verified["int8"]["message"]
    assert verified["tflm"]["actual"] == "pass", verified["tflm"]
    assert verified["tflm"]["reproduce"].startswith("python -c ")
    run = subprocess.run(["sh", "-c", verified["float"]["reproduce"].replace("python", sys.executable, 1)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "['x', 'y']" in run.stdout, run.stderr


@pytest.mark.tf
@pytest.mark.converter
def test_an_op_left_float_is_the_judges_warn(tmp_path, pool):
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8))
    w = b.const([[0.1 * (i - j) for j in range(4)] for i in range(8)], name="w")
    mm = b.op("MatMul", [x, w], name="mm", attrs={"transpose_a": False, "transpose_b": False})
    b.output(b.op("Sin", [mm], name="y"))  # SIN has no integer kernel: it stays float
    path = tmp_path / "sin.pb"
    path.write_bytes(b.to_bytes())
    report = lint(path, targets=("float", "int8", "int8-fallback"), outputs=["y"])
    verified = verify_report(report, str(path), outputs=["y"], pool=pool)
    assert verified["float"]["actual"] == "pass"
    for target in ("int8", "int8-fallback"):
        assert verified[target]["actual"] == "warn", verified[target]
        assert verified[target]["message"].endswith(f"although {target} promises integers: SIN")
        assert verified[target]["status"] == ("confirmed" if report.verdicts()[target]["verdict"] == "warn"
                                              else "contradicted")


@pytest.mark.tf
@pytest.mark.converter
def test_integer_inputs_are_fed_as_indices(tmp_path, pool):
    """An embedding lookup converts and runs; fed negative ids, LiteRT's GATHER would refuse to invoke."""
    b = GraphBuilder()
    ids = b.placeholder("ids", "int32", (1, 6))
    table = b.const([[0.1 * i + j for j in range(4)] for i in range(10)], name="table")
    axis = b.const(0, name="axis", dtype="int32")
    emb = b.node("GatherV2", [table, ids, axis], name="emb",
                 attrs={"Tparams": "float32", "Tindices": "int32", "Taxis": "int32", "batch_dims": 0})
    b.output(b.op("Relu", [emb], name="y"))
    path = tmp_path / "emb.pb"
    path.write_bytes(b.to_bytes())
    report = lint(path, targets=("float",), outputs=["y"])
    verified = verify_report(report, str(path), outputs=["y"], pool=pool)
    assert verified["float"]["actual"] == "pass", verified["float"]
    assert "--input-range ids=0,1" in verified["float"]["reproduce"]


def test_verify_on_an_unreadable_model_is_not_run(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_bytes(b"\x00not a graph")
    report = lint(bad, targets=("float",))
    verified = verify_report(report, str(bad))
    assert verified == {"float": {"status": "not-run", "actual": None, "message": "the model could not be read",
                                  "reproduce": None}}


_BLOCK_TF = textwrap.dedent('''
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "tensorflow":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Block())
    from graphlint.cli import main
    sys.exit(main(sys.argv[1:]))
''')


@pytest.mark.parametrize("command", [["check", "{pb}", "--verify"],
                                     ["convert", "{pb}", "-t", "int8", "-o", "{out}"]], ids=["check", "convert"])
def test_without_tensorflow_says_how_to_install_it(tmp_path, command):
    pb = _dense(tmp_path / "dense.pb")
    args = [a.format(pb=pb, out=tmp_path / "out.tflite") for a in command]
    proc = subprocess.run([sys.executable, "-c", _BLOCK_TF, *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("graphlint: error: "), proc.stderr
    assert "pip install 'graphlint[convert]'" in lines[0] and "`tensorflow` is not installed" in lines[0]
    assert not (tmp_path / "out.tflite").exists()


def test_every_format_shows_the_verified_state(tmp_path):
    import xml.etree.ElementTree as ET

    from graphlint.formats import renderer

    report = lint(_dense(tmp_path / "dense.pb"), targets=("float", "int8"), outputs=["y"])
    report.verified = {
        "float": {"status": "contradicted", "actual": "fail", "message": "the converter refused: boom",
                  "reproduce": "graphlint convert dense.pb --target float -o dense.float.tflite"},
        "int8": {"status": "confirmed", "actual": "pass", "message": None, "reproduce": None}}
    data = json.loads(renderer("json")([report]))
    assert data["targets"]["float"]["verdict"] == "pass" and data["targets"]["float"]["verified"]["actual"] == "fail"
    text = renderer("text")([report])
    assert "CONTRADICTED, the real tools say fail: the converter refused: boom" in text
    assert "reproduce float: graphlint convert dense.pb --target float" in text and "int8   pass  confirmed" in text
    suite = ET.fromstring(renderer("junit")([report]).split("\n", 1)[1])[0]
    cases = {c.get("name"): c for c in suite}
    assert suite.get("failures") == "1"
    assert "the real tools fail it: the converter refused: boom" in cases["target float"].find("failure").get("message")
    assert "reproduce: graphlint convert" in cases["target float"].find("system-err").text
    assert cases["target int8"].find("failure") is None
    assert {p.get("name"): p.get("value") for p in cases["target int8"].iter("property")} == {
        "verified": "confirmed", "actual": "pass"}
    sarif = json.loads(renderer("sarif")([report]))
    assert sarif["runs"][0]["properties"]["verified"][str(tmp_path / "dense.pb")]["float"]["status"] == "contradicted"
    github = renderer("github")([report])
    assert "::warning" in github and "float contradicted" in github and "reproduce: graphlint convert" in github
    assert report.effective_verdicts() == {"float": "fail", "int8": "pass"}


def test_a_worker_that_cannot_import_tensorflow_is_one_clear_line(tmp_path):
    """The CLI sees a `tensorflow` module, but importing it fails in the worker: the failure names the import
    (this path used to end in "internal: ValueError: I/O operation on closed file")."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "tensorflow.py").write_text("raise ModuleNotFoundError(\"No module named 'tensorflow'\", "
                                        "name='tensorflow')\n")
    pb = _dense(tmp_path / "dense.pb")
    env = {**os.environ, "PYTHONPATH": str(shim)}
    proc = subprocess.run([sys.executable, "-m", "graphlint.cli", "convert", str(pb), "-t", "float", "-o",
                           str(tmp_path / "out.tflite")], capture_output=True, text=True, timeout=300, env=env,
                          cwd=ROOT)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr and "closed file" not in proc.stdout
    assert "the conversion worker did not start" in proc.stdout
    assert "No module named 'tensorflow'" in proc.stdout and "pip install 'graphlint[convert]'" in proc.stdout


def test_a_format_verify_cannot_convert_is_not_run_with_the_reason():
    from graphlint.convert.verify import verify_targets

    verified = verify_targets({"float": "pass", "gpu": "pass"}, "model.onnx", "onnx")
    assert verified["float"] == {"status": "not-run", "actual": None, "reproduce": None, "message":
                                 "verification converts frozen GraphDefs, SavedModels and Keras files and runs "
                                 ".tflite files, not a onnx"}
    assert verified["gpu"]["status"] == "not-run" and "GPU delegate" in verified["gpu"]["message"]
    gone = verify_targets({"float": "pass", "gpu": "pass"}, "no-such-dir", "savedmodel")
    assert gone["float"]["message"] == "the model cannot be fed to the converter: no-such-dir: no such file"
    assert "GPU delegate" in gone["gpu"]["message"]


def test_a_runtime_that_fails_crashes_or_hangs_is_a_verdict_not_a_lost_worker():
    import operator
    import time

    from graphlint.convert.judge import in_child

    assert in_child(len, ()) is None
    assert in_child(operator.truediv, 1, 0) == "ZeroDivisionError: division by zero"
    assert in_child(os.abort) == "the interpreter died (exit code -6)"
    assert in_child(time.sleep, 30, modules=("json",), timeout=1) == "no answer within 1 s"
