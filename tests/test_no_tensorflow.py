"""The lint path never imports TensorFlow: load, lint and render both formats, then look at sys.modules.

Nor networkx: its import alone costs more than a typical lint, so the IR builds its networkx view on demand.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from graphlint.testing import GraphBuilder, TFLiteBuilder


def test_lint_path_does_not_import_tensorflow(tmp_path):
    b = GraphBuilder()
    x = b.placeholder("x", "float32", (1, 8, 8, 3))
    w = b.const([[[[0.5] * 4] * 3]], name="w")
    b.output(b.op("Conv2D", [x, w], name="y", attrs={"strides": [1, 1, 1, 1], "padding": "SAME"}))
    pb = tmp_path / "m.pb"
    pb.write_bytes(b.to_bytes())
    tfl = TFLiteBuilder()
    x, y = tfl.input("x", "float32", (1, 4)), tfl.tensor("y", "float32", (1, 4))
    tfl.op("RELU", [x], [y])
    tfl.output(y)
    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(tfl.to_bytes())
    code = textwrap.dedent(f'''
        import sys, io, contextlib
        import graphlint
        from graphlint.cli import main
        from graphlint.formats import FORMATS, renderer
        report = graphlint.lint({str(pb)!r}, targets=["float", "int8", "tflm", "gpu"])
        for fmt in FORMATS:
            renderer(fmt)([report])
        with contextlib.redirect_stdout(io.StringIO()):
            main(["check", {str(pb)!r}, {str(tflite)!r}, "--format", "json", "--format", "sarif", "--exit-zero"])
            main(["rules"])
        heavy = sorted(m for m in sys.modules
                       if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "jax", "networkx"))
        print(",".join(heavy))
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_tensorflow_is_banned_in_package_sources():
    """Belt and braces for the ruff banned-api setting: no module of the lint path mentions an import of it."""
    import pathlib
    import re

    import graphlint
    import graphlint_rules

    pattern = re.compile(r"^\s*(import tensorflow|from tensorflow)", re.M)
    roots = [pathlib.Path(graphlint.__file__).parent, pathlib.Path(graphlint_rules.__file__).parent]
    offenders = [str(p) for root in roots for p in root.rglob("*.py")
                 if "convert" not in p.parts and pattern.search(p.read_text("utf-8"))]
    assert offenders == []
