"""JSON: one report object (schema_version 1), or an array of them when several models were checked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphlint.report import Report


def render(reports: Sequence[Report], **_: object) -> str:
    """Serialize deterministically (sorted keys are not used: field order follows the schema)."""
    data = reports[0].to_dict() if len(reports) == 1 else [r.to_dict() for r in reports]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
