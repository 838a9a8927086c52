"""Files that are not models: every one is a clean, one-line error from ``load``, ``lint`` and the CLI.

For each bad file: :func:`graphlint.loaders.load` raises :class:`LoadError` with a one-line message,
:func:`graphlint.lint` returns a report with exactly one fatal finding and does not raise, and
``graphlint check`` prints one ``graphlint: error:`` line on stderr, no traceback, and exits 2.
No TensorFlow needed: the valid files that get truncated are built in code.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import graphlint
from graphlint.loaders import LoadError, load
from graphlint.testing import GraphBuilder, TFLiteBuilder
from tests.loaders._work import work

HUGE = 4 << 30


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _nest(prefixes: list[bytes], depth: int, core: bytes = b"") -> bytes:
    """``depth`` rounds of the length-delimited wrappers in ``prefixes`` (each ends with its field's tag)
    around ``core``, built inside out in linear time."""
    pieces, size = [core], len(core)
    for i in range(depth * len(prefixes)):
        head = prefixes[-1 - i % len(prefixes)]
        head += _varint(size)
        pieces.append(head)
        size += len(head)
    return b"".join(reversed(pieces))


def _string(field: int, value: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def _valid_pb() -> bytes:
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8, 8, 3))
    y = b.op("Conv2D", [x, b.const([[[[0.5] * 4] * 3] * 3] * 3, name="k")], name="conv",
             attrs={"strides": [1, 1, 1, 1], "padding": "SAME"})
    b.output(b.op("Relu", [y], name="y"))
    return b.to_bytes()


def _valid_tflite() -> bytes:
    b = TFLiteBuilder()
    b.op("RELU", [b.input("x", "float32", (1, 4))], [b.tensor("y", "float32", (1, 4))])
    b.output("y")
    return b.to_bytes()


def _saved_model() -> bytes:
    """A SavedModel: schema version 1 and one MetaGraphDef holding a GraphDef (field 2)."""
    meta_graph = _string(1, _string(4, b"serve")) + _string(2, _valid_pb())
    return b"\x08\x01" + _string(2, meta_graph)


def _onnx() -> bytes:
    """An ONNX ModelProto: ir_version, producer, a graph with one Relu node, an opset import."""
    node = _string(1, b"x") + _string(2, b"y") + _string(4, b"Relu")
    graph = _string(1, node) + _string(2, b"g")
    return (b"\x08\x08" + _string(2, b"pytorch") + _string(3, b"2.1.0") + _string(7, graph)
            + _string(8, b"\x10\x11"))


def _deep_attr_pb() -> bytes:
    """100k levels of AttrValue.func -> NameAttrList.attr -> AttrValue ... inside one NodeDef."""
    entry, func, attrs = b"\x0a\x01a\x12", b"\x52", b"\x12"  # map entry value, AttrValue.func, NameAttrList.attr
    nested = _nest([entry, func, attrs], 100_000)
    node = _string(1, b"n") + _string(2, b"Const") + b"\x2a" + _varint(len(nested)) + nested
    return b"\x0a" + _varint(len(node)) + node


# name -> (file content or a maker taking the path, expected fatal code)
CASES = {
    "empty.pb": (b"", "GL002"),
    "truncated.pb": (lambda: _valid_pb()[: len(_valid_pb()) // 2], "GL001"),
    "truncated.tflite": (lambda: _valid_tflite()[: len(_valid_tflite()) // 2], "GL001"),
    "random.pb": (lambda: random.Random(0).randbytes(4096), "GL001"),
    "random.tflite": (lambda: random.Random(1).randbytes(4) + b"TFL3" + random.Random(2).randbytes(2048), "GL001"),
    "readme.pbtxt": (b"Hello, this is a README and not a GraphDef.\nIt has two lines.\n", "GL001"),
    "config.json": (b'{"model": "resnet", "layers": [1, 2, 3]}\n', "GL001"),
    "no_nodes.pbtxt": (b"versions { producer: 1 }\n", "GL002"),
    "directory.pb": ("dir", "GL001"),
    "missing.pb": (None, "GL001"),
    "huge.pb": ("huge", "GL001"),
    "deep.pb": (lambda: _nest([b"\x0a"], 100_000), "GL001"),
    "deep_attr.pb": (_deep_attr_pb, "GL001"),
    "deep.pbtxt": (lambda: (b'node { name: "n" op: "Const" attr { key: "a" value { '
                            + b'func { name: "f" attr { key: "a" value { ' * 100_000
                            + b"} } } " * 100_000 + b"} } }\n"), "GL001"),
    "renamed_saved_model.pb": (_saved_model, "GL001"),
    "model.onnx": (_onnx, "GL001"),
    "model.h5": (b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00\x00\x08\x08\x00\x04\x00\x10\x00" + bytes(64), "GL001"),
}
KINDS = {"empty.pb": "empty", "no_nodes.pbtxt": "empty", "directory.pb": "unsupported", "missing.pb": "missing",
         "renamed_saved_model.pb": "unsupported", "model.onnx": "unsupported", "model.h5": "unreadable"}
SAYS = {"empty.pb": "file is empty", "directory.pb": "is a directory", "missing.pb": "no such file",
        "renamed_saved_model.pb": "SavedModel", "model.onnx": "ONNX", "model.h5": "HDF5",
        "deep.pbtxt": "nesting too deep",
        "no_nodes.pbtxt": "has no nodes", "truncated.pb": "truncated"}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    paths = {}
    for name, (content, _) in CASES.items():
        path = root / name
        paths[name] = path
        if content is None:
            continue
        if content == "dir":
            path.mkdir()
        elif content == "huge":
            with open(path, "wb") as fh:
                fh.truncate(HUGE)  # sparse: takes no disk space
        else:
            path.write_bytes(content() if callable(content) else content)
    return paths


@pytest.fixture(scope="module")
def cli_runs(bad_files) -> dict[str, subprocess.CompletedProcess]:
    """``graphlint check`` on every bad file, run in parallel."""
    def run(name):
        return name, subprocess.run([sys.executable, "-m", "graphlint", "check", str(bad_files[name])],
                                    capture_output=True, text=True, timeout=120, cwd=bad_files[name].parent)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, CASES))


@pytest.mark.parametrize("name", CASES)
def test_load_raises_one_line_load_error(bad_files, name):
    with pytest.raises(LoadError) as info:
        load(bad_files[name])
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{bad_files[name]}: ")
    assert len(message) < 400
    assert info.value.kind == KINDS.get(name, "unreadable")
    assert SAYS.get(name, "") in message


@pytest.mark.parametrize("name", CASES)
def test_refusing_a_bad_file_is_linear_in_its_size(bad_files, name):
    """Counted work (calls, bytecodes, container scans): at most 3 units per byte of the file plus a constant;
    the 4 GB sparse file is refused from its first bytes."""
    path = bad_files[name]
    size = path.stat().st_size if path.is_file() else 0
    units = work(load, path, opcodes=True)
    assert units <= 20_000 + 3 * size if name != "huge.pb" else units <= 20_000


@pytest.mark.parametrize("name", CASES)
def test_lint_reports_one_fatal_finding(bad_files, name):
    report = graphlint.lint(bad_files[name])
    fatal = [f for f in report.findings if f.code in ("GL001", "GL002")]
    assert [f.code for f in fatal] == [CASES[name][1]]
    assert report.fatal
    assert report.model_graph is None
    assert report.model["path"] == str(bad_files[name])
    assert "\n" not in fatal[0].message


def test_lint_of_bytes_reports_one_fatal_finding():
    report = graphlint.lint(b"\x00\x01\x02garbage", name="upload.pb")
    assert [f.code for f in report.findings if f.code in ("GL001", "GL002")] == ["GL001"]
    assert report.model["path"] == "upload.pb"


@pytest.mark.parametrize("name", CASES)
def test_cli_prints_one_error_line_and_exits_2(cli_runs, bad_files, name):
    proc = cli_runs[name]
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"graphlint: error: {bad_files[name]}: ")
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads peak memory from /proc")
def test_huge_sparse_file_is_not_read(bad_files):
    """A 4 GB file of zeros fails fast in a process whose peak memory stays small."""
    # Peak RSS of this process image (VmHWM): unlike ru_maxrss it does not inherit the parent's peak.
    code = textwrap.dedent('''
        import sys
        from graphlint.loaders import LoadError, load
        try:
            load(sys.argv[1])
        except LoadError:
            pass
        status = open("/proc/self/status").read()
        print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    ''')
    path = bad_files["huge.pb"]
    assert path.stat().st_size == HUGE
    peak_kb = int(subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                                 check=True, timeout=120).stdout.split()[0])
    assert peak_kb < 300 * 1024
    zeros = bad_files["huge.pb"].with_name("zeros.pb")
    zeros.write_bytes(bytes(4096))
    assert work(load, path, opcodes=True) <= work(load, zeros, opcodes=True) * 1.1  # 4 GB of zeros cost 4 KB


def test_truncations_of_a_valid_tflite_never_escape_as_other_errors():
    data = _valid_tflite()
    assert load(data).info.format == "tflite"
    for cut in range(len(data)):
        with pytest.raises(LoadError):
            load(data[:cut])


def test_truncations_of_a_valid_graphdef_never_escape_as_other_errors():
    data = _valid_pb()
    assert len(list(load(data).ops())) == 2
    for cut in range(1, len(data), 7):
        try:
            load(data[:cut])
        except LoadError as err:
            assert "\n" not in str(err)


def _reads_slot(slot: int) -> bytes:
    b = GraphBuilder()
    b.op("Relu", [f"{b.placeholder('x')}:{slot}"], name="y")
    return b.to_bytes()


def test_hostile_output_slot_is_refused_quickly():
    """An 80-byte GraphDef whose input names output 30000000 must not build 30 million tensors: refusing it
    costs no more counted work than loading the same graph reading output 0."""
    with pytest.raises(LoadError, match="reads output 30000000 of `x`"):
        load(_reads_slot(30_000_000))
    assert work(load, _reads_slot(30_000_000), opcodes=True) < work(load, _reads_slot(0), opcodes=True)


def test_many_high_output_slots_are_refused():
    b = GraphBuilder()
    x = b.placeholder("x")
    for i in range(200):
        b.op("Relu", [f"{x}:{60000 - i}"], name=f"y{i}")
        b.op("Relu", [f"y{i}:60000"], name=f"z{i}")
    with pytest.raises(LoadError, match="too many outputs"):
        load(b.to_bytes())


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads peak memory from /proc")
def test_shape_inference_is_not_sized_by_hostile_claims():
    """Tiny GraphDefs claiming a billion dims (a shape operand of that length) or a billion outputs (num_split)
    are linted in a process whose peak memory stays small, with those shapes left unknown."""
    code = textwrap.dedent('''
        import sys
        from graphlint.engine.runner import lint
        from graphlint.testing import GraphBuilder

        fill = GraphBuilder()
        fill.output(fill.op("Fill", [fill.placeholder("n", "int32", (10 ** 9,)), fill.const(1.0, name="v")],
                            name="y"))
        split = GraphBuilder()
        split.output(split.op("Split", [split.const(1, name="axis", dtype="int32"),
                                        split.placeholder("x", "float32", (2, 4))],
                              name="y", attrs={"num_split": 10 ** 9}))
        for b in (fill, split):
            report = lint(b.to_bytes(), outputs=b.outputs)
            model = report.model_graph
            print(model.tensors["y:0"].shape if model is not None else report.findings[0].code)
        status = open("/proc/self/status").read()
        print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=300).stdout.split("\n")
    assert out[0] == "None"  # a rank of a billion is no rank: unknown, not a billion-element tuple
    assert out[1] == "(2, 0)"  # num_split divides the axis; only the outputs the loader made get a shape
    assert int(out[2]) < 300 * 1024
