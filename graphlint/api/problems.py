"""Errors as ``application/problem+json`` (RFC 9457): ``{type, title, status, detail}``, never a traceback."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE_BASE = "https://graphlint.dev/problems/"
MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("graphlint.api")

_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 411: "Length required", 413: "Upload too large",
           415: "Unsupported media type", 422: "Unprocessable request", 429: "Too many requests",
           500: "Internal error", 503: "Service unavailable"}
_SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
          409: "conflict", 411: "length-required", 413: "too-large", 415: "unsupported-media-type",
          422: "invalid-request", 429: "too-many-requests", 500: "internal-error", 503: "unavailable"}


class FieldError(TypedDict):
    """One validation error of a 422 problem's ``errors``: where, what and its kind."""

    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """An error response."""

    type: str = Field(description="URI naming the kind of problem",
                      examples=[PROBLEM_TYPE_BASE + "not-found"])
    title: str = Field(description="short summary of the kind of problem", examples=["Not found"])
    status: int = Field(description="the HTTP status code", examples=[404])
    detail: str = Field(description="what went wrong with this request", examples=["no report `3f2a...`"])
    errors: list[dict[str, Any]] | None = Field(None, description="per-field validation errors (422 only)")
    budget: dict[str, Any] | None = Field(None, description="the per-model budget a model overran (422 `too-large` "
                                          "and `lint-timeout` only): `name` (`time`, `max-memory`, `max-nodes`, "
                                          "`depth`), this server's `limit` and its `unit`, and the `setting` that "
                                          "raises it",
                                          examples=[{"name": "max-nodes", "limit": 250000, "unit": "nodes",
                                                     "setting": "GRAPHLINT_MAX_NODES"}])
    job_status: str | None = Field(None, description="the status of a job that has already ended (409 `job-ended` "
                                   "only)", examples=["done"])
    quota: dict[str, Any] | None = Field(None, description="the caller's quota of jobs queued or running (429 "
                                         "`job-quota` only): its `limit`, the jobs `active` now, and the `setting` "
                                         "that raises it",
                                         examples=[{"limit": 8, "active": 8,
                                                    "setting": "GRAPHLINT_MAX_QUEUED_PER_TOKEN"}])


class ProblemError(Exception):
    """Raise to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, slug: str | None = None, title: str | None = None,
                 headers: dict[str, str] | None = None, errors: list[FieldError] | None = None,
                 extra: Mapping[str, object] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.errors = status, detail, headers or {}, errors
        self.extra = extra or {}  # extension members of the problem document (RFC 9457 section 3.2)
        self.slug = slug or _SLUGS.get(status, "error")
        self.title = title or _TITLES.get(status, "Error")


def problem_response(status: int, detail: str, *, slug: str | None = None, title: str | None = None,
                     headers: Mapping[str, str] | None = None, errors: list[FieldError] | None = None,
                     extra: Mapping[str, object] | None = None) -> JSONResponse:
    """A ``application/problem+json`` response (``extra``: extension members, which never replace the
    standard ones)."""
    body: dict[str, object] = {**(extra or {})}
    body.update({"type": PROBLEM_TYPE_BASE + (slug or _SLUGS.get(status, "error")),
                 "title": title or _TITLES.get(status, "Error"), "status": status, "detail": detail})
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _plain_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Validation errors without the raw input (it may be large or binary)."""
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in errors]


def _validation_detail(errors: list[FieldError]) -> str:
    """The problem's ``detail``: the first error, after where it is (without ``body.``, ``query.``)."""
    if not errors:
        return "invalid request"
    loc, msg = errors[0]["loc"], errors[0]["msg"]
    return f"{'.'.join(loc[1:] or loc)}: {msg}" if loc else msg


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API serves at this path, from the OpenAPI document (Starlette's own 405 names only
    the methods of the first route that matched the path)."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")
            table.append((pattern, sorted(m.upper() for m in operations)))
        request.app.state.allowed_methods = table
    return sorted({m for pattern, methods in table if pattern.match(request.url.path) for m in methods})


def database_errors() -> tuple[type[Exception], ...]:
    """The base exception classes of the database drivers that are installed."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error,)
    return sqlite3.Error, psycopg.Error


def database_problem(exc: Exception) -> tuple[int, str]:
    """The status and detail for a database error: 422 when the request's data cannot be stored or compared
    (PostgreSQL refuses a NUL character in text, say), else 503: the database is down, locked or failing."""
    bad_input: tuple[type[Exception], ...] = (sqlite3.DataError, sqlite3.ProgrammingError)
    if len(database_errors()) > 1:
        import psycopg

        bad_input += (psycopg.DataError,)  # SQLSTATE class 22, and the driver's own refusal of NUL
    if isinstance(exc, bad_input):
        return 422, "a value in this request cannot be stored or looked up (a NUL character, say)"
    return 503, f"the database is unavailable ({type(exc).__name__}); try again"


async def _database(request: Request, exc: Exception) -> JSONResponse:
    status, detail = database_problem(exc)
    if status == 503:
        log.warning("database error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "")
    return problem_response(status, detail, headers={"Retry-After": "5"} if status == 503 else None)


def install(app: FastAPI) -> None:
    """Answer every error the app can raise with a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, slug=exc.slug, title=exc.title, headers=exc.headers,
                                errors=exc.errors, extra=exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.url.path}"
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not allowed here (allowed: {', '.join(allowed)})"
        return problem_response(exc.status_code, detail, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _plain_errors(exc.errors())
        return problem_response(422, _validation_detail(errors), errors=errors)

    for error_class in database_errors():
        app.add_exception_handler(error_class, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "the server failed to handle this request; it has been logged")
