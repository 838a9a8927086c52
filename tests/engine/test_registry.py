"""Rule packs are found through the ``graphlint.rules`` entry-point group; broken packs are reported, not fatal.

Fake distributions are written as ``*.dist-info`` folders in ``tmp_path`` (flake8's finder tests do the same).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from graphlint.engine.registry import GROUP, find_entry_points, load_packs
from graphlint.engine.runner import lint
from graphlint.testing import GraphBuilder

ROOT = Path(__file__).resolve().parents[2]

_RULE = '''
from graphlint.engine.rule import Category, Rule

class {cls}(Rule):
    """## What it does\\nx\\n## Why is this bad?\\nx\\n## Example\\nx\\n## How to fix\\nx"""
    code, name, summary, category = "{code}", "{name}", "Flags every Relu", Category.STRUCTURE

    def check(self, model, ctx):
        for node, attrs in model.ops():
            if attrs["op"] == "Relu":
                yield self.report(model, node, "a Relu")

def collect():
    {body}
    return [{cls}]
'''


def _fake_pack(tmp_path: Path, monkeypatch, entry: str, module: str, code: str, name: str,
               body: str = "pass") -> list:
    (tmp_path / f"{module}.py").write_text(_RULE.format(cls="R", code=code, name=name, body=body))
    dist = tmp_path / f"{module}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[graphlint.rules]\n{entry} = {module}:collect\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    builtin = [ep for ep in metadata.entry_points(group="graphlint.rules") if ep.value.startswith("graphlint_rules:")]
    found = [ep for d in metadata.distributions(path=[str(tmp_path)]) for ep in d.entry_points
             if ep.group == "graphlint.rules"]
    return builtin + found


def test_third_party_pack_runs_beside_builtin(tmp_path, monkeypatch):
    eps = _fake_pack(tmp_path, monkeypatch, "XY", f"xy_pack_{uuid.uuid4().hex}", "XY001", "relu-seen")
    registry = load_packs(eps)
    assert registry.broken == ()
    assert "XY001" in registry.by_code() and "GL101" in registry.by_code()
    b = GraphBuilder()
    b.output(b.op("Relu", [b.placeholder("x")], name="r"))
    report = lint(b.to_bytes(), outputs=b.outputs, registry=registry)
    assert [(f.code, f.node) for f in report.findings] == [("XY001", "r")]


@pytest.mark.parametrize(("entry", "code", "name", "body", "error"), [
    ("XY", "ZZ001", "relu-seen", "pass", "outside the pack's prefix XY"),
    ("XY", "XY001", "Relu_Seen", "pass", "not kebab-case"),
    ("XY", "XY01", "relu-seen", "pass", "3 digits"),
    ("GL", "GL101", "relu-seen", "pass", "already registered"),
    ("XY", "XY001", "relu-seen", "import not_a_module_anywhere", "ModuleNotFoundError"),
])
def test_broken_pack_is_reported_not_fatal(tmp_path, monkeypatch, entry, code, name, body, error):
    eps = _fake_pack(tmp_path, monkeypatch, entry, f"bad_pack_{uuid.uuid4().hex}", code, name, body)
    registry = load_packs(eps)
    assert len(registry.broken) == 1 and error in registry.broken[0].error
    assert "GL101" in registry.by_code()  # the built-in pack still loads
    b = GraphBuilder()
    b.output(b.op("Relu", [b.placeholder("x")], name="r"))
    report = lint(b.to_bytes(), outputs=b.outputs, registry=registry)
    assert [f.code for f in report.findings] == ["GL901"]
    assert report.verdicts()["float"]["verdict"] == "warn"


def test_builtin_pack_is_found_from_an_installed_wheel(tmp_path):
    """Build the wheel, install it alone into a folder, and discover the pack from there."""
    dist, site = tmp_path / "dist", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("graphlint-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    code = textwrap.dedent('''
        import json
        from importlib import metadata
        import graphlint_rules
        from graphlint.engine.registry import GROUP, find_entry_points, load_packs
        ep = [e for e in metadata.entry_points(group="graphlint.rules") if e.name == "GL"][0]
        registry = load_packs()
        print(json.dumps({"file": graphlint_rules.__file__, "dist": str(ep.dist._path),
                          "codes": [r.code for r in registry.rules], "broken": len(registry.broken)}))
    ''')
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True, capture_output=True,
                         text=True).stdout
    import json

    found = json.loads(out)
    assert found["file"].startswith(str(site)) and found["dist"].startswith(str(site))
    assert found["broken"] == 0
    assert "GL101" in found["codes"] and "GL001" in found["codes"]


def _dist(root: Path, name: str, entries: str) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entries)


def _pairs(eps) -> list[tuple[str, str]]:
    return sorted((e.name, e.value) for e in eps)


def test_entry_point_scan_agrees_with_importlib_metadata(tmp_path, monkeypatch):
    """The direct read of dist-info folders finds what importlib.metadata finds, shadowing included."""
    name = f"scan_pack_{uuid.uuid4().hex}"
    _dist(tmp_path / "first", name, "# a comment\n[console_scripts]\nscan-tool = scan:main\n\n"
                                    "[graphlint.rules]\nSC = scan_first:collect\n")
    _dist(tmp_path / "second", name.upper(), "[graphlint.rules]\nSC = scan_second:collect\n")
    _dist(tmp_path / "second", f"other_{name}", "[graphlint.rules]\nOT = other.rules:collect [extra]\n")
    monkeypatch.syspath_prepend(str(tmp_path / "second"))
    monkeypatch.syspath_prepend(str(tmp_path / "first"))
    for group in (GROUP, "console_scripts", "pytest11"):
        assert _pairs(find_entry_points(group)) == _pairs(metadata.entry_points(group=group))
    found = dict(_pairs(find_entry_points(GROUP)))
    assert found["SC"] == "scan_first:collect" and found["OT"] == "other.rules:collect [extra]"


def test_entry_point_scan_hands_zips_to_importlib_metadata(tmp_path, monkeypatch):
    archive = tmp_path / "packs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped_pack-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped_pack\nVersion: 1.0\n")
        zf.writestr("zipped_pack-1.0.dist-info/entry_points.txt", "[graphlint.rules]\nZP = zipped:collect\n")
    monkeypatch.syspath_prepend(str(archive))
    assert ("ZP", "zipped:collect") in _pairs(find_entry_points(GROUP))
    assert _pairs(find_entry_points(GROUP)) == _pairs(metadata.entry_points(group=GROUP))


def test_entry_point_loads_dotted_attributes():
    from graphlint.engine.registry import EntryPoint

    assert EntryPoint("GL", "graphlint_rules:collect").load().__name__ == "collect"
    assert EntryPoint("X", "graphlint.engine.registry:Registry.by_code").load().__name__ == "by_code"
    with pytest.raises(ValueError, match="module:attr"):
        EntryPoint("X", "not a value").load()
