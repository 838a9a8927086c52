"""The ASGI app: :func:`create_app` wires settings, store, token file, lint workers, job runner and routers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from graphlint import __version__
from graphlint.engine.registry import default_registry

from . import docs, metrics, problems
from .auth import TokenStore
from .blobs import BlobStore
from .deps import ServiceState
from .guard import GuardMiddleware
from .jobs import JobRunner
from .linting import LintPool
from .retention import from_settings
from .routes import health, jobs, reports, rules, targets
from .service import ReportService
from .settings import Settings
from .store import Store

log = logging.getLogger("graphlint.api")

DESCRIPTION = """Lint TensorFlow models for TFLite conversion targets and keep every report.

Upload a frozen GraphDef (`.pb`, `.pbtxt`) or a `.tflite` file to `POST /v1/reports` and get the same JSON
report as `graphlint check --format json`, plus an `id`. The same model with the same options returns the stored
report. With a token file, every `/v1` call needs `Authorization: Bearer <token>` and sees only its own reports.
Errors are `application/problem+json`.
"""

_NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>graphlint</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>graphlint</h1><p>The service is running, but the web viewer is not built.</p>
<p>Build it with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> (it writes
<code>graphlint/_web/</code>) and restart the server, or set <code>GRAPHLINT_WEB_DIR</code>.</p>
<p>The API is under <a href="/docs">/docs</a> (<a href="/openapi.json">openapi.json</a>).</p></body></html>
"""


def _operation_id(route: APIRoute) -> str:
    """``tag-name`` operation ids (``reports-create``)."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


class GraphlintAPI(FastAPI):
    """The service's FastAPI app: its OpenAPI document types error responses ``application/problem+json``."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, built once."""
        if self.openapi_schema:
            return self.openapi_schema
        schema = get_openapi(title=self.title, version=self.version, openapi_version=self.openapi_version,
                             description=self.description, routes=self.routes, tags=self.openapi_tags)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[:1] in "45" and "application/json" in content:
                        content[problems.MEDIA_TYPE] = content.pop("application/json")
        self.openapi_schema = schema
        return schema


def _job_runner(settings: Settings, store: Store, blobs: BlobStore, tokens: TokenStore) -> JobRunner:
    """This process's job threads, or in team mode the shared queue that ``graphlint worker`` processes work.
    With tokens, each token has its quota of jobs queued or running."""
    per_owner = settings.max_queued_per_token if tokens.enabled else None
    if not settings.team:
        return JobRunner(store, blobs, blobs.jobs, settings.job_workers, settings.job_queue, per_owner=per_owner)
    from .taskqueue import QueuedJobs

    return QueuedJobs(store, blobs, blobs.jobs, capacity=settings.job_queue, per_owner=per_owner,
                      queue_url=settings.queue_url or settings.db_url)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Opens the database and reads the token file now, so a bad setting fails at start-up.

    Raises:
        graphlint.api.auth.TokenFileError: the token file cannot be read or holds no token.
        ValueError: the database URL is not sqlite or postgresql.
    """
    settings = settings or Settings()
    data_dir = settings.data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    tokens = TokenStore(settings.token_file)
    blobs = BlobStore.in_dir(settings.blob_store or data_dir, shared=settings.blob_store is not None)
    store = Store(settings.db_url)
    registry = default_registry()
    pool = LintPool(settings.lint_workers, settings.lint_timeout_s, settings.lint_memory_mb,
                    max_graph_mb=settings.max_graph_mb, max_findings_per_rule=settings.max_findings_per_rule,
                    max_nodes=settings.max_nodes)
    runner = _job_runner(settings, store, blobs, tokens)
    retention = from_settings(blobs, settings.store_max_mb, settings.store_max_age_days, jobs=runner.root,
                              active_jobs=store.active_job_ids)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        blobs.clean_tmp()
        await to_thread.run_sync(pool.start)
        await to_thread.run_sync(runner.start)
        retention.start()
        log.info("graphlint %s: %s database, data in %s, models in %s, %d lint worker(s), jobs %s, authentication "
                 "%s", __version__, store.dialect.name, data_dir, blobs.root.parent, settings.lint_workers,
                 "on the shared queue" if settings.team else "in this process", "on" if tokens.enabled else "off")
        try:
            yield
        finally:
            retention.stop()
            runner.stop()
            pool.close()
            store.close()

    app = GraphlintAPI(title="graphlint", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                       generate_unique_id_function=_operation_id, docs_url=None, redoc_url=None, openapi_tags=_TAGS)
    state = ServiceState()
    app.state = state
    state.settings, state.tokens, state.store, state.blobs = settings, tokens, store, blobs
    state.registry, state.pool, state.jobs = registry, pool, runner
    state.reports = ReportService(store, blobs, pool, registry, retention)
    state.retention = retention
    problems.install(app)
    for router in (reports.router, rules.router, targets.router, jobs.router, health.router):
        app.include_router(router)
    docs.install(app)
    _install_http(app, settings)
    return app


_TAGS = [{"name": "reports", "description": "lint a model, stored reports"},
         {"name": "rules", "description": "the rules and their documentation"},
         {"name": "targets", "description": "the conversion targets and their settings"},
         {"name": "jobs", "description": "fix-and-convert jobs"},
         {"name": "health", "description": "liveness, readiness, metrics"}]


def _install_http(app: FastAPI, settings: Settings) -> None:
    """The middleware (CORS when origins are given, the host and origin guard, metrics) and the viewer."""
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"], expose_headers=["Location"])
    app.add_middleware(GuardMiddleware, allowed_hosts=settings.hosts, trusted_origins=settings.cors_origins)
    app.add_middleware(metrics.MetricsMiddleware)
    web_dir = settings.web_dir
    if (web_dir / "index.html").is_file():
        # Mounted last: every API route above is matched first, so static files never shadow /v1.
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    else:
        @app.get("/", include_in_schema=False)
        async def _viewer_not_built() -> HTMLResponse:
            return HTMLResponse(_NOT_BUILT)
