"""Codes are forever: retired codes and renamed rules live here, never reused."""

from __future__ import annotations

# code → (version it was removed in, what replaced it or why)
DELETED_CODES: dict[str, tuple[str, str]] = {}
# old code or name → current code
REDIRECTS: dict[str, str] = {}


def canonical(code_or_name: str) -> str:
    """The current code or name for ``code_or_name``: a redirected one is followed (chains too), any other is
    returned stripped, as given."""
    key = code_or_name.strip()
    seen: set[str] = set()
    while key.upper() in REDIRECTS or key.lower() in REDIRECTS:
        if key in seen:  # a cycle is a mistake in REDIRECTS; stop rather than loop
            break
        seen.add(key)
        key = REDIRECTS.get(key.upper()) or REDIRECTS[key.lower()]
    return key
