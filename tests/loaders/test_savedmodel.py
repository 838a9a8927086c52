"""The SavedModel loader, read against what TensorFlow wrote and what its converter does with it."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from graphlint.engine.runner import lint
from graphlint.loaders import LoadError, _archive, _bundle, load

from .sm_fixtures import BUILDER_V1, JUDGED, JUDGED_V1, build, verdicts


@pytest.fixture(scope="module")
def sm() -> Path:
    return build()


@pytest.fixture(scope="module")
def facts(sm: Path) -> dict:
    return json.loads((sm / "facts.json").read_text("utf-8"))


def _zip_dir(directory: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                zf.write(path, f"{directory.name}/{path.relative_to(directory)}")
    return buf.getvalue()


def test_signature_names_inputs_and_outputs(sm: Path) -> None:
    model = load(sm / "cnn")
    assert model.info.format == "savedmodel"
    (inp,) = model.input_tensors()
    assert (inp.name, inp.dtype, inp.shape) == ("keras_tensor", "float32", (None, 16, 16, 3))
    (out,) = model.output_tensors()
    assert (out.name, out.dtype, out.shape) == ("output_0", "float32", (None, 10))
    ops = [a["op"] for _, a in model.ops()]
    assert "StatefulPartitionedCall" not in ops and "ReadVariableOp" not in ops and "VarHandleOp" not in ops
    assert {"Conv2D", "MaxPool", "MatMul", "Softmax"} <= set(ops)


def test_variables_are_constants_read_from_the_bundle(sm: Path, facts: dict) -> None:
    model = load(sm / "cnn")
    consts = [t for t in model.tensors.values() if t.is_const and t.producer.endswith("ReadVariableOp")]
    expected = facts["variables"]["cnn"]
    assert len(consts) == len([k for k in expected if k.startswith("variables/")])
    by_shape = {tuple(f["shape"]): f for k, f in expected.items() if k.startswith("variables/")}
    for tensor in consts:
        fact = by_shape[tensor.shape]
        assert tensor.dtype == fact["dtype"]
        value = model.value(tensor)
        assert value.shape == tensor.shape
        np.testing.assert_allclose(value.reshape(-1)[:4], fact["head"], rtol=0, atol=0)


def test_index_entries_match_tensorflow(sm: Path, facts: dict) -> None:
    for name in ("cnn", "mobilenet", "lstm", "module"):
        _, entries = _bundle.read_index(str(sm / name / "variables" / "variables.index"))
        got = {k: [list(e.shape)] for k, e in entries.items() if not k.startswith("_CHECKPOINTABLE")}
        assert got == {k: [f["shape"]] for k, f in facts["variables"][name].items()}


def test_signatures_are_chosen_and_listed(sm: Path) -> None:
    scaled = load(sm / "module", signature="scaled")
    assert [t.shape for t in scaled.input_tensors()] == [(2, 3)]
    assert [t.name for t in scaled.output_tensors()] == ["z"]
    with pytest.raises(LoadError, match=r"no signature `nope` \(the SavedModel has: scaled, serving_default;"):
        load(sm / "module", signature="nope")


def test_while_stays_functional_and_is_given_constants(sm: Path) -> None:
    """from_saved_model imports a While as it is: the loop calls its cond and body, and the variables it is given
    are constants its body reads through an Identity."""
    model = load(sm / "lstm")
    ops = [a["op"] for _, a in model.ops()]
    assert "ReadVariableOp" not in ops and "VarHandleOp" not in ops and "LoopCond" not in ops and "Enter" not in ops
    (loop,) = [n for n, a in model.ops() if a["op"] == "While"]
    assert loop == "StatefulPartitionedCall_1/StatefulPartitionedCall/lstm_1/lstm_1/while"
    assert len(model.node(loop)["calls"]) == 2
    kernels = [t for t in model.inputs_of(loop) if t.is_const and t.rank == 2]
    assert sorted(t.shape for t in kernels) == [(4, 64), (16, 64)]
    assert all(model.value(t).shape == t.shape for t in kernels)


def test_a_loop_over_a_list_with_a_free_batch_fails_every_target(sm: Path) -> None:
    """The exported LSTM's While is fed a TensorList reserved with element shape [-1, units]: the case measured
    through from_saved_model stands for the loop, and GL302 says what to change."""
    report = lint(sm / "lstm", targets=["float", "int8"])
    (finding,) = [f for f in report.findings if f.code == "GL302"]
    assert dict(finding.data)["case"] == "tensor_list_free_batch_saved"
    assert "requires element_shape to be static" in finding.message and "fixed batch" in finding.fix.title


def test_archives_load_as_the_directory(sm: Path, tmp_path: Path) -> None:
    direct = load(sm / "cnn")
    data = _zip_dir(sm / "cnn")
    tar_path = tmp_path / "cnn.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tf:
        tf.add(sm / "cnn", arcname=".")
    for model in (load(data, name="cnn.zip"), load(tar_path)):
        assert [a["op"] for _, a in model.ops()] == [a["op"] for _, a in direct.ops()]
        kernel = next(t for t in model.tensors.values() if t.is_const and t.shape == (3, 3, 3, 8))
        assert model.value(kernel).shape == (3, 3, 3, 8)


# -- bad input: one clear line each --------------------------------------------------------------------------

def _copy(sm: Path, tmp_path: Path, name: str = "cnn") -> Path:
    dst = tmp_path / name
    shutil.copytree(sm / name, dst)
    return dst


def test_saved_model_without_a_graph(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "saved_model.pb").write_bytes(b"\x08\x01")  # schema version only
    with pytest.raises(LoadError, match=r"saved_model\.pb holds no graph$"):
        load(tmp_path / "m")


def test_missing_variables_dir(sm: Path, tmp_path: Path) -> None:
    root = _copy(sm, tmp_path)
    shutil.rmtree(root / "variables")
    with pytest.raises(LoadError, match=r"has variables but no variables/ directory$"):
        load(root)


def test_truncated_index(sm: Path, tmp_path: Path) -> None:
    root = _copy(sm, tmp_path)
    index = root / "variables" / "variables.index"
    index.write_bytes(index.read_bytes()[:-20])
    with pytest.raises(LoadError, match=r"variables\.index: truncated or not a tensor-bundle index"):
        load(root)
    index.write_bytes(b"\x00" * 100 + (sm / "cnn" / "variables" / "variables.index").read_bytes()[-48:])
    with pytest.raises(LoadError, match=r"variables\.index: truncated index"):
        load(root)


def test_archive_with_parent_paths(sm: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil/saved_model.pb", b"x")
    with pytest.raises(LoadError, match=r"entry `../evil/saved_model.pb` points outside the archive"):
        load(buf.getvalue(), name="evil.zip")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("m/../../x")
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(LoadError, match=r"points outside the archive"):
        load(buf.getvalue(), name="evil.tar")


def _zip_of(count: int) -> bytes:
    """A real zip of ``count`` empty entries named ``a`` (zip64 end records), written without zipfile."""
    local = b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    body = local * count
    central = b"".join(b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 45, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                                                                   0, 0, i * len(local)) + b"a"
                       for i in range(count))
    cd_start, cd_size = len(body), len(central)
    zip64 = b"PK\x06\x06" + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, count, count, cd_size, cd_start)
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, cd_start + cd_size, 1)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + central + zip64 + locator + end


def test_zip_with_a_million_entries() -> None:
    data = _zip_of(1_000_000)
    assert zipfile.ZipFile(io.BytesIO(_zip_of(3))).namelist() == ["a"] * 3  # the builder writes real zips
    assert _archive.zip_entry_count(data) == 1_000_000
    with pytest.raises(LoadError, match=r"archive has 1,000,000 entries, more than the 10,000 allowed"):
        load(data, name="bomb.zip")


def test_cli_errors_are_one_line(sm: Path, tmp_path: Path) -> None:
    root = _copy(sm, tmp_path)
    shutil.rmtree(root / "variables")
    proc = subprocess.run([sys.executable, "-m", "graphlint", "check", str(root)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"graphlint: error: {root}: the SavedModel has variables but no "
                                                "variables/ directory"]
    proc = subprocess.run([sys.executable, "-m", "graphlint", "check", str(sm / "module"), "--signature", "x"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "the SavedModel has: scaled, serving_default" in proc.stderr


def test_cli_checks_a_directory_and_a_signature(sm: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "graphlint", "check", str(sm / "module"), "--signature", "scaled",
                           "-f", "json", "-t", "float"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["model"]["format"] == "savedmodel"
    assert report["model"]["inputs"][0]["shape"] == [2, 3]


def test_a_saved_model_pb_is_checked_as_its_directory(sm: Path) -> None:
    # the file a user finds is saved_model.pb; TensorFlow reads it only with the directory around it
    whole = load(sm / "cnn")
    model = load(sm / "cnn" / "saved_model.pb")
    assert model.info.format == "savedmodel" and model.info.path == str(sm / "cnn" / "saved_model.pb")
    assert sorted(a["op"] for _, a in model.ops()) == sorted(a["op"] for _, a in whole.ops())
    proc = subprocess.run([sys.executable, "-m", "graphlint", "check", str(sm / "cnn" / "fingerprint.pb")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "fingerprint.pb, not a model" in proc.stderr, proc.stderr


def test_lint_never_imports_tensorflow(sm: Path) -> None:
    code = ("import sys; from graphlint.engine.runner import lint; "
            f"r = lint({str(sm / 'mobilenet')!r}, targets=['float', 'int8']); "
            "assert not r.fatal; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- verdicts: the same as from_saved_model's -----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(JUDGED))
def test_verdicts_match_from_saved_model(sm: Path, name: str) -> None:
    judged = verdicts(sm)[name]
    report = lint(sm / name, targets=list(JUDGED[name]))
    predicted = report.effective_verdicts()
    for target in JUDGED[name]:
        assert predicted[target] == judged[target]["actual"], (target, judged[target].get("message", "")[:300])


def test_a_keras_zip_is_traced_as_a_keras_file_not_unpacked(monkeypatch) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # the layout Keras 3 writes: metadata, config, weights
        for name in ("metadata.json", "config.json", "model.weights.h5"):
            zf.writestr(name, b"{}")
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # tracing it needs TensorFlow: its refusal shows the route
    with pytest.raises(LoadError, match=r"upload: a Keras file is read by TensorFlow, which is not installed"):
        load(buf.getvalue(), name="upload")


@pytest.mark.parametrize("part", ["saved_model.pb", "variables/variables.index"])
def test_corrupt_bytes_give_one_line_errors(sm: Path, tmp_path: Path, part: str) -> None:
    """Seeded byte flips and cuts of each file: a model or a one-line LoadError, never another exception."""
    import random

    root = _copy(sm, tmp_path, "lstm" if part == "saved_model.pb" else "module")
    original = (root / part).read_bytes()
    rng = random.Random(part)
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[:rng.randrange(len(data))]
        (root / part).write_bytes(bytes(data))
        try:
            model = load(root)
        except LoadError as err:
            assert str(err).isprintable() and str(err).startswith(f"{root}: ")
            continue
        for tensor in model.tensors.values():  # values are read lazily: reading them may fail the same way
            try:
                model.value(tensor)
            except LoadError as err:
                assert "\n" not in str(err)


def test_the_serving_meta_graph_is_read(sm: Path, tmp_path: Path) -> None:
    from graphlint.loaders import savedmodel_schema as spb

    root = _copy(sm, tmp_path)
    saved = spb.SavedModel.FromString((root / "saved_model.pb").read_bytes())
    assert list(saved.meta_graphs[0].meta_info_def.tags) == ["serve"]
    two = spb.SavedModel(saved_model_schema_version=1)
    two.meta_graphs.add().meta_info_def.tags.append("train")  # first, and without a graph
    two.meta_graphs.add().CopyFrom(saved.meta_graphs[0])
    (root / "saved_model.pb").write_bytes(two.SerializeToString())
    assert [a["op"] for _, a in load(root).ops()] == [a["op"] for _, a in load(sm / "cnn").ops()]


# -- TF1 SavedModels (simple_save): the signature reads the graph itself --------------------------------------

@pytest.fixture(scope="module")
def sm_v1() -> Path:
    return build(BUILDER_V1)


@pytest.mark.parametrize("name", sorted(JUDGED_V1))
def test_tf1_savedmodel_freezes_its_variables(sm_v1: Path, name: str) -> None:
    facts = json.loads((sm_v1 / "facts.json").read_text("utf-8"))[name]
    model = load(sm_v1 / name)
    assert [(t.name, t.shape) for t in model.input_tensors()] == [("image", (1, 8, 8, 3))]
    assert [(t.name, t.shape) for t in model.output_tensors()] == [("probs", (1, 5))]
    ops = [a["op"] for _, a in model.ops()]
    assert not {"VariableV2", "VarHandleOp", "ReadVariableOp"} & set(ops)
    assert {"Conv2D", "MatMul", "Softmax"} <= set(ops)
    for key, fact in facts.items():
        tensor = model.tensors[f"{key}:0"]
        assert list(tensor.shape) == fact["shape"]
        np.testing.assert_array_equal(model.value(tensor).reshape(-1)[:4], np.float32(fact["head"]))


@pytest.mark.parametrize("name", sorted(JUDGED_V1))
def test_tf1_verdicts_match_from_saved_model(sm_v1: Path, name: str) -> None:
    judged = verdicts(sm_v1, JUDGED_V1)[name]
    predicted = lint(sm_v1 / name, targets=list(JUDGED_V1[name])).effective_verdicts()
    assert predicted == {t: judged[t]["actual"] for t in JUDGED_V1[name]}


def test_archive_bombs_and_links_are_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("m/saved_model.pb", b"\0" * (64 << 20))  # 64 MB of zeros, about 64 KB compressed
    with pytest.raises(LoadError, match=r"archive entry unpacks to more than 200x its compressed size"):
        load(buf.getvalue(), name="bomb.zip")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        link = tarfile.TarInfo("m/saved_model.pb")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    with pytest.raises(LoadError, match=r"archive entry `m/saved_model.pb` is a link or device, not a file"):
        load(buf.getvalue(), name="link.tar")


def test_input_shapes_given_by_the_user_replace_the_signatures(sm: Path) -> None:
    report = lint(sm / "cnn", inputs=["keras_tensor:2,16,16,3"], targets=["float"])
    assert report.model["inputs"][0]["shape"] == [2, 16, 16, 3]
    assert "GL202" not in [f.code for f in report.findings]  # the signature's dynamic batch is fixed
    assert "GL202" in [f.code for f in lint(sm / "cnn", targets=["float"]).findings]
