"""Prometheus metrics (``GET /metrics``): requests by route and status, latency, lint time, reports, jobs.

The series live in a registry of this module, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter("graphlint_http_requests_total", "HTTP requests by method, route and status",
                   ("method", "route", "status"), registry=REGISTRY)
LATENCY = Histogram("graphlint_http_request_duration_seconds", "HTTP request latency by route",
                    ("method", "route"), buckets=_BUCKETS, registry=REGISTRY)
IN_FLIGHT = Gauge("graphlint_http_requests_in_flight", "HTTP requests being handled", registry=REGISTRY)
LINT_SECONDS = Histogram("graphlint_lint_seconds", "time a lint worker spent on one model", buckets=_BUCKETS,
                         registry=REGISTRY)
REPORTS = Counter("graphlint_reports_total", "report uploads by outcome (created, cached)", ("outcome",),
                  registry=REGISTRY)
UPLOAD_BYTES = Counter("graphlint_upload_bytes_total", "bytes of model uploads received", registry=REGISTRY)
JOBS = Counter("graphlint_jobs_total", "fix-and-convert jobs by final status", ("status",), registry=REGISTRY)
LINT_WORKERS_BUSY = Gauge("graphlint_lint_workers_busy", "lint runs in progress", registry=REGISTRY)
STORE_BYTES = Gauge("graphlint_store_bytes", "bytes of model files and job files in the store", registry=REGISTRY)
STORE_MODELS = Gauge("graphlint_store_models", "model files in the model store", registry=REGISTRY)
STORE_EVICTIONS = Counter("graphlint_store_evictions_total", "model files evicted by the store's size cap or age limit",
                          registry=REGISTRY)
STORE_JOB_EVICTIONS = Counter("graphlint_store_job_evictions_total",
                              "job folders (conversion outputs, job inputs) evicted by the store's size cap or age "
                              "limit", registry=REGISTRY)
LINT_POOL_RESTARTS = Gauge("graphlint_lint_pool_restarts", "times the lint pool was restarted", registry=REGISTRY)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts every HTTP request by its route template (not its raw path, which would explode cardinality)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, _send)
        finally:
            IN_FLIGHT.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or ("static" if scope.get("path", "/") != "/" else "/")
            method = scope.get("method", "GET")
            REQUESTS.labels(method, template, str(status["code"])).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - start)
