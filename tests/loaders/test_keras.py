"""Keras ``.keras`` and ``.h5`` files: traced into a SavedModel by TensorFlow in a conversion worker, linted as one.

Bad files are refused in one line before any TensorFlow starts; without TensorFlow installed, the one line names
the extra to install.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from graphlint.engine.runner import lint
from graphlint.formats import renderer
from graphlint.loaders.keras import check_keras, keras_kind, layer_of


def _keras_zip(config: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", "{}")
        if config:
            zf.writestr("config.json", "{}")
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 200)
    return buf.getvalue()


def _hdf5_head(declared: int) -> bytes:
    """An HDF5 version-0 superblock (8-byte offsets) declaring a file of ``declared`` bytes."""
    head = b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0]) + struct.pack("<HHI", 4, 16, 0)
    return head + struct.pack("<QQQQ", 0, 2 ** 64 - 1, declared, 2 ** 64 - 1) + b"\x00" * 32


def _check(*args: str, cwd: Path, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"{prelude}\nimport sys\nfrom graphlint.cli import main\nsys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_keras_kind_by_name_then_content():
    assert keras_kind(b"", "m.keras") == "keras" and keras_kind(b"", "M.H5") == "keras-h5"
    assert keras_kind(_keras_zip(), "upload") == "keras" and keras_kind(_hdf5_head(100), "upload") == "keras-h5"
    assert keras_kind(_keras_zip(config=False), "m.zip") is None and keras_kind(b"PK\x03\x04", "m.pb") is None


def test_layer_of_is_the_innermost_scope_naming_a_layer():
    layers = frozenset({"conv1", "block", "head"})
    assert layer_of("StatefulPartitionedCall_1/StatefulPartitionedCall/one_1/conv1_1/convolution", layers) == "conv1"
    assert layer_of("a/block/conv1/BiasAdd", layers) == "conv1"
    assert layer_of("StatefulPartitionedCall_1/Identity", layers) is None
    assert layer_of("conv1", layers) is None  # a node's own name is not its scope


@pytest.mark.parametrize(("name", "content", "words"), [
    ("m.keras", b"just text, not a zip", "not a valid .keras file: it is not a zip archive"),
    ("m.keras", _keras_zip()[:-30], "the zip archive is truncated or damaged"),
    ("m.keras", _keras_zip(config=False), "holds no Keras config.json"),
    ("m.h5", b"\x00" * 64, "does not start with the HDF5 signature"),
    ("m.h5", _hdf5_head(18080), "it is truncated (88 of the 18,080 bytes its superblock declares)"),
], ids=["keras-not-zip", "keras-truncated", "keras-no-config", "h5-not-hdf5", "h5-truncated"])
def test_bad_keras_files_are_one_line_exit_2_before_tensorflow(tmp_path, name, content, words):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(Exception, match="not a valid"):
        check_keras(content, keras_kind(content, name), name)
    proc = _check("check", name, cwd=tmp_path, prelude="import sys; sys.modules['tensorflow'] = None")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_without_tensorflow_a_keras_file_names_the_convert_extra(tmp_path):
    (tmp_path / "m.keras").write_bytes(_keras_zip())
    proc = _check("check", "m.keras", cwd=tmp_path, prelude="import sys; sys.modules['tensorflow'] = None")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "TensorFlow, which is not installed" in proc.stderr and "pip install 'graphlint[convert]'" in proc.stderr


@pytest.mark.tf
def test_keras_files_lint_as_their_savedmodel_with_layer_names(keras_models):
    targets = ("float", "int8", "uint8-qat")
    exported = lint(keras_models / "one_sm", targets=targets)
    for name, fmt in (("one.keras", "keras"), ("one.h5", "keras-h5")):
        report = lint(keras_models / name, targets=targets)
        assert report.model["format"] == fmt and not report.fatal, report.findings
        assert report.verdicts() == exported.verdicts()
        assert sorted(f.code for f in report.findings) == sorted(f.code for f in exported.findings)
        conv = next(f for f in report.findings if f.code == "GL404")
        assert conv.node.endswith("/conv1_1/convolution") and dict(conv.data)["keras_layer"] == "conv1"
        assert "[Keras layer conv1]" in renderer("text")([report])
        assert report.model["size_bytes"] == (keras_models / name).stat().st_size
    assert not [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")]  # traced in a worker


@pytest.mark.tf
def test_a_keras_file_keras_cannot_read_is_one_line(tmp_path):
    (tmp_path / "m.keras").write_bytes(_keras_zip())  # a well-formed zip whose config is not a model
    report = lint(tmp_path / "m.keras")
    assert report.fatal and report.fatal_finding.code == "GL001"
    message = report.fatal_finding.message
    assert message.startswith(f"{tmp_path / 'm.keras'}: Keras cannot read it: ") and "\n" not in message


def test_fix_says_it_rewrites_frozen_graphdefs_only(tmp_path, capsys):
    from graphlint.cli import main

    (tmp_path / "m.keras").write_bytes(_keras_zip())
    (tmp_path / "sm").mkdir()
    for model, what in (("m.keras", "a Keras file"), ("sm", "a SavedModel directory")):
        assert main(["fix", str(tmp_path / model), "-o", str(tmp_path / "out.pb")]) == 2
        err = capsys.readouterr().err
        assert err == (f"graphlint: error: {tmp_path / model}: {what}; graphlint fix rewrites frozen GraphDefs "
                       "(.pb, .pbtxt) only, and graphlint convert converts it as it is\n")
    assert not (tmp_path / "out.pb").exists()


def test_uint8_qat_of_a_keras_file_is_refused_before_it_is_traced(tmp_path):
    from graphlint.convert.service import ConvertRequest, convert_model

    class NoWorkers:
        def run(self, job, **options):
            raise AssertionError(f"no worker job was expected, got {job.get('kind')}")

    (tmp_path / "m.keras").write_bytes(_keras_zip())
    report = convert_model(ConvertRequest(tmp_path / "m.keras", "uint8-qat"), tmp_path / "out", pool=NoWorkers())
    assert report["error"]["kind"] == "input", report["error"]
    assert report["error"]["message"].startswith("target `uint8-qat` is the legacy converter's inference_type")
