"""The service's modules import neither TensorFlow nor the web stack where it is not needed."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return {m.split(".")[0] for m in out.split()}


def test_the_app_and_the_conversion_client_import_no_tensorflow(tmp_path):
    loaded = _modules_after(f"""
        from graphlint.api.app import create_app
        from graphlint.api.settings import Settings
        import graphlint.api.jobs, graphlint.client, graphlint.convert.service
        app = create_app(Settings(data_dir={str(tmp_path)!r}, lint_workers=1))
        app.openapi()
    """)
    assert "fastapi" in loaded
    assert not loaded & {"tensorflow", "keras", "tf_keras", "jax"}


def test_check_does_not_load_the_web_stack():
    loaded = _modules_after("""
        import contextlib, io
        from graphlint.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main(["rules"])
    """)
    assert not loaded & {"fastapi", "uvicorn", "starlette", "pydantic", "psycopg", "prometheus_client"}


def test_the_service_does_not_import_the_http_client():
    """Reports are rebuilt from JSON by graphlint.report; the HTTP client module is the CLI's, not the server's
    (an import anywhere in graphlint/api, at module level or inside a function, counts)."""
    import ast
    from pathlib import Path

    import graphlint.api

    offenders = []
    for path in sorted(Path(graphlint.api.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(n == "graphlint.client" or (n.endswith(".client") and n.startswith("graphlint")) for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
