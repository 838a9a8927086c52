"""Codes are forever: retired codes and renamed rules live here, never reused."""

from __future__ import annotations

# code → (version it was removed in, what replaced it or why)
DELETED_CODES: dict[str, tuple[str, str]] = {}
# old code or name → current code. A merged code selects, ignores and looks up the rule that replaced it, and is
# never given to another rule.
REDIRECTS: dict[str, str] = {
    # 0.x: the .tflite twins of the TFLite Micro and GPU rules joined them (one rule per concept, any format)
    "GL604": "GL304", "tflite-micro-unsupported": "micro-unsupported",
    "GL605": "GL305", "tflite-gpu-unsupported": "gpu-unsupported",
}


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
