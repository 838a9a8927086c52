"""``/healthz`` (the process answers), ``/readyz`` (it can serve: database, data dir, lint workers), ``/metrics``."""

from __future__ import annotations

import os

from anyio import to_thread
from fastapi import APIRouter, Request, Response

from graphlint.api import metrics
from graphlint.api.deps import app_state
from graphlint.api.problems import ProblemError
from graphlint.api.schemas import Health

from . import problems

router = APIRouter(tags=["health"])


@router.get("/healthz", name="live", response_model=Health)
async def healthz() -> dict[str, str]:
    """Liveness: the server process answers."""
    return {"status": "ok"}


@router.get("/readyz", name="ready", response_model=Health, responses=problems(503))
async def readyz(request: Request) -> dict[str, str | int]:
    """Readiness: the database answers, the data dir is writable and the lint workers are up."""
    state = app_state(request)
    try:
        await to_thread.run_sync(state.store.ping)
    except Exception as err:  # noqa: BLE001 - any database failure means not ready
        raise ProblemError(503, f"database unavailable: {type(err).__name__}") from None
    if not os.access(state.blobs.root, os.W_OK):
        raise ProblemError(503, "the data directory is not writable")
    if not state.pool.alive:
        raise ProblemError(503, "the lint workers are not running")
    return {"status": "ok", "database": state.store.dialect.name, "lint_workers": state.pool.workers}


@router.get("/metrics", name="metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition format"}})
async def prometheus(request: Request) -> Response:
    """Prometheus metrics."""
    pool = app_state(request).pool
    metrics.LINT_WORKERS_BUSY.set(pool.busy)
    metrics.LINT_POOL_RESTARTS.set(pool.restarts)
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
