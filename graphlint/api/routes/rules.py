"""``/v1/rules``: the rules this server runs, and each one's documentation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from graphlint.api.deps import OwnerDep, app_state
from graphlint.api.problems import ProblemError
from graphlint.api.schemas import RuleDoc, RuleMeta

from . import problems

router = APIRouter(prefix="/v1/rules", tags=["rules"])


@router.get("", name="list", response_model=list[RuleMeta], responses=problems(401, 422))
def list_rules(request: Request, _: OwnerDep,
               all: Annotated[bool, Query(description="include codes the engine emits itself")] = False,
               ) -> list[dict[str, Any]]:
    """Every rule's metadata, by code (as `graphlint rules --format json`)."""
    return [r.meta() for r in app_state(request).registry.rules if all or not r.engine_emitted]


@router.get("/{code}", name="get", response_model=RuleDoc, responses=problems(401, 404))
def get_rule(request: Request, _: OwnerDep, code: str) -> dict[str, Any]:
    """A rule's metadata and its documentation (Markdown), by code (`GL101`) or name (`unfrozen-variable`)."""
    rule = app_state(request).registry.find(code)
    if rule is None:
        raise ProblemError(404, f"no rule `{code[:64]}`")
    return {**rule.meta(), "doc": rule.doc()}
