"""``/docs``: Swagger UI 5 from files on this machine (the ``swagger-ui-bundle-v2`` package), never from a CDN.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script, which the service's
Content-Security-Policy (``script-src 'self'``) forbids. This page loads the same files from ``/docs/assets`` and
starts Swagger UI from ``/docs/init.js``, so nothing inline runs and nothing comes from another origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>graphlint API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="icon" href="data:,"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>
"""
_INIT = """window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout'});
"""
_MISSING = """<!doctype html><html lang="en"><meta charset="utf-8"><title>graphlint API</title>
<body><h1>graphlint API</h1><p>Swagger UI is not installed here (<code>pip install swagger-ui-bundle-v2</code>).
The API is described by <a href="/openapi.json">/openapi.json</a>.</p></body></html>
"""


def swagger_ui_dir() -> Path | None:
    """The directory of Swagger UI's dist files, when the package is installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    path = Path(str(swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install(app: FastAPI) -> None:
    """Serve ``/docs`` (FastAPI's CDN page is turned off in the app's constructor)."""
    assets = swagger_ui_dir()

    @app.get("/docs", include_in_schema=False)
    async def _docs() -> HTMLResponse:
        return HTMLResponse(_PAGE if assets is not None else _MISSING)

    @app.get("/docs/init.js", include_in_schema=False)
    async def _init() -> Response:
        return Response(_INIT, media_type="text/javascript")

    if assets is not None:
        app.mount("/docs/assets", StaticFiles(directory=assets), name="swagger-ui")
