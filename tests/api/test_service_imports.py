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
