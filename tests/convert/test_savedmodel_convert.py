"""Convert and verify SavedModels and Keras files: TFLiteConverter.from_saved_model with the target's recipe.

The SavedModels are those of ``tests/loaders/savedmodel_models.py`` (a Keras CNN exported with ``model.export``,
a ``tf.Module`` with two signatures); the Keras files those of ``tests/convert/keras_models.py``.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from graphlint.convert.service import ConvertRequest, convert_model
from graphlint.convert.verify import verify_targets
from graphlint.loaders import load
from tests.loaders.sm_fixtures import build

pytestmark = [pytest.mark.tf, pytest.mark.converter]


@pytest.fixture(scope="module")
def sm() -> Path:
    return build()


def _zip(directory: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                zf.write(path, Path("model") / path.relative_to(directory))
    return out


def test_savedmodel_int8_converts_runs_and_agrees_and_says_fixes_were_not_applied(sm, pool, tmp_path):
    report = convert_model(ConvertRequest(sm / "cnn", "int8", fix=True), tmp_path, pool=pool)
    assert report["status"] == "ok", report["error"]
    assert report["checks"]["integer_only"] and report["checks"]["agrees"], report["checks"]["why_not"]
    assert report["verdict"] == "pass" and "model.tflite" in report["files"]
    assert report["fix"]["status"] == "not-applied" and not report["fix"]["applied"]
    assert "from_saved_model" in report["fix"]["reason"]
    assert report["layers"]["count"] > 0, report["layers"]  # the debugger ran on the SavedModel's converter
    assert [o["name"] for o in report["numeric"]["outputs"]] == ["output_0"]
    (image,) = [t.name for t in load(sm / "cnn").input_tensors()]
    recipe = report["io_recipe"]  # named as the signature names them, as a signature runner feeds them
    assert [(t["role"], t["name"]) for t in recipe["tensors"]] == [("input", image), ("output", "output_0")]
    assert recipe["tensors"][0]["tensor"].startswith("serving_default_")
    namespace: dict = {}
    exec(recipe["numpy"], namespace)
    assert {f"quantize_{image}", "dequantize_output_0"} <= set(namespace)


def test_archive_with_a_named_signature_converts_that_signature(sm, pool, tmp_path):
    archive = _zip(sm / "module", tmp_path / "module.zip")
    report = convert_model(ConvertRequest(archive, "float", signature="scaled"), tmp_path / "out", pool=pool)
    assert report["status"] == "ok", report["error"]
    assert report["request"]["signature"] == "scaled"
    (output,) = report["numeric"]["outputs"]
    assert output["name"] == "z" and output["shape"] == [2, 4] and output["cosine"] > 0.9999


def test_legacy_uint8_target_and_foreign_outputs_are_refused_in_one_line(sm, pool, tmp_path):
    refused = convert_model(ConvertRequest(sm / "module", "uint8-qat"), tmp_path / "a", pool=pool)
    assert refused["error"]["kind"] == "input" and "from_saved_model does not have" in refused["error"]["message"]
    wrong = convert_model(ConvertRequest(sm / "module", "float", outputs=("y", "extra")), tmp_path / "b", pool=pool)
    assert wrong["error"]["kind"] == "input" and "signature's outputs (y)" in wrong["error"]["message"]


def test_keras_files_convert_through_their_traced_savedmodel(keras_models, pool, tmp_path):
    for name in ("one.keras", "one.h5"):
        report = convert_model(ConvertRequest(keras_models / name, "int8", fix=True), tmp_path / name, pool=pool)
        assert report["status"] == "ok" and report["verdict"] == "pass", (name, report["error"], report["checks"])
        assert "a Keras file (traced into a SavedModel)" in report["fix"]["reason"]


def test_verify_judges_savedmodels_and_keras_files(sm, keras_models, pool, tmp_path):
    shutil.copy(keras_models / "one.h5", tmp_path / "renamed.h5")
    for source, fmt in ((sm / "cnn", "savedmodel"), (tmp_path / "renamed.h5", "keras-h5")):
        verified = verify_targets({"float": "pass", "int8": "fail", "uint8-qat": "pass"}, str(source), fmt,
                                  pool=pool)
        assert verified["float"]["status"] == "confirmed", verified["float"]
        assert verified["int8"]["status"] == "contradicted" and verified["int8"]["actual"] == "pass"
        assert verified["int8"]["reproduce"].startswith(f"graphlint convert {source} --target int8")
        assert verified["uint8-qat"]["status"] == "not-run"
        assert "from_saved_model does not have" in verified["uint8-qat"]["message"]
    scaled = verify_targets({"float": "pass"}, str(sm / "module"), "savedmodel", pool=pool, signature="scaled")
    assert scaled["float"]["status"] == "confirmed", scaled
    assert scaled["float"]["reproduce"] == (f"graphlint convert {sm / 'module'} --target float -o module.float.tflite "
                                            "--signature scaled --input x:2,3 --output z")


def test_unknown_dims_of_a_savedmodel_input_are_given_with_input_and_resized(keras_models, pool, tmp_path):
    refused = convert_model(ConvertRequest(keras_models / "dyn", "float"), tmp_path / "a", pool=pool)
    assert refused["error"]["message"] == "input `x` has unknown dims (1,?,4); give its shape with --input x:SHAPE"
    request = ConvertRequest(keras_models / "dyn", "float", inputs=("x:1,6,4",))
    report = convert_model(request, tmp_path / "b", pool=pool)
    assert report["status"] == "ok" and report["checks"]["agrees"], report["error"] or report["checks"]
    assert report["numeric"]["outputs"][0]["shape"] == [1, 4]
