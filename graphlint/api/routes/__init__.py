"""One router per resource; each handler only translates HTTP to a service call and back."""

from __future__ import annotations

from typing import Any

from graphlint.api.problems import Problem

_DESCRIPTIONS = {400: "Bad request", 401: "Missing or unknown bearer token", 404: "Not found",
                 409: "Conflicts with the resource's state", 413: "Upload over the size limit",
                 415: "Unsupported content type", 422: "Invalid parameters or malformed body",
                 429: "Over this token's quota; see Retry-After", 503: "Busy or not ready"}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error codes (``application/problem+json``)."""
    return {code: {"model": Problem, "description": _DESCRIPTIONS.get(code, "Error")} for code in codes}
