"""Codes are forever: retired codes and renamed rules live here, never reused."""

from __future__ import annotations

# code → (version it was removed in, what replaced it or why)
DELETED_CODES: dict[str, tuple[str, str]] = {}
# old code or name → current code
REDIRECTS: dict[str, str] = {}
