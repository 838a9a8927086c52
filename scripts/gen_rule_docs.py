"""Write one Markdown page per rule to docs/rules/ (the same text as ``graphlint rule CODE``) and an index.

    python scripts/gen_rule_docs.py            # regenerate
    python scripts/gen_rule_docs.py --check    # exit 1 when docs/rules/ is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphlint.cli import rule_page, rules_table
from graphlint.engine.codes import REDIRECTS
from graphlint.engine.registry import default_registry

OUT = Path(__file__).resolve().parents[1] / "docs" / "rules"


def pages() -> dict[str, str]:
    """File name → content for every rule page and the index."""
    rules = default_registry().rules
    out = {f"{r.code}-{r.name}.md": rule_page(r) for r in rules}
    links = "\n".join(f"- [{r.code} {r.name}]({r.code}-{r.name}.md): {r.summary}" for r in rules)
    header = "# Rules\n\nGenerated from the rules' docstrings by `scripts/gen_rule_docs.py`.\n\n"
    out["README.md"] = f"{header}{links}\n\n{rules_table(rules)}{_merged(rules)}"
    return out


def _merged(rules) -> str:
    """The codes merged into another rule: they still select, ignore and look up the rule that replaced them."""
    by_code = {r.code: r for r in rules}
    lines = [f"- {old} → [{new} {by_code[new].name}]({new}-{by_code[new].name}.md)"
             for old, new in sorted(REDIRECTS.items()) if new in by_code]
    if not lines:
        return ""
    return ("\n## Merged codes\n\nThese codes were merged into the rule they point to. In `--select`, `--ignore`, "
            "per-node ignores, severity overrides and `graphlint rule`, they stand for that rule.\n\n"
            + "\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    want = pages()
    have = {p.name: p.read_text("utf-8") for p in OUT.glob("*.md")} if OUT.is_dir() else {}
    if args.check:
        stale = sorted(set(want) ^ set(have) | {n for n in want if have.get(n) != want[n]})
        print("\n".join(stale) or "docs/rules is current")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name in set(have) - set(want):
        (OUT / name).unlink()
    for name, text in want.items():
        (OUT / name).write_text(text, "utf-8")
    print(f"wrote {len(want)} pages to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
