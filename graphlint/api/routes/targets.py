"""``/v1/targets``: the conversion targets this server gives verdicts for, as graphlint's target registry
defines them (name, description, converter settings, runtimes that judge them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from graphlint.api.schemas import TargetInfo
from graphlint.engine.targets import DEFAULT_TARGETS, REGISTRY

router = APIRouter(prefix="/v1/targets", tags=["targets"])


@router.get("", name="list", response_model=list[TargetInfo])
def list_targets() -> list[dict[str, Any]]:
    """Every target in report order; `default` marks those checked when a request names none."""
    return [{**t.as_dict(), "default": name in DEFAULT_TARGETS} for name, t in REGISTRY.items()]
