"""JSON: one report object (schema_version 1), or an array of them when several models were checked."""

from __future__ import annotations

import json


def render(reports, **_) -> str:
    """Serialize deterministically (sorted keys are not used: field order follows the schema)."""
    data = reports[0].to_dict() if len(reports) == 1 else [r.to_dict() for r in reports]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
