"""Write every SavedModel of the corpus (cases.py) as the judge wrote it, for the test to lint.

    python tests/corpus_saved/build.py OUT_DIR

Writes OUT_DIR/<id>/ (a SavedModel directory) and OUT_DIR/manifest.json: ``{id: {"split": "dev" | "heldout",
"signature": the signature judged, "inputs": [[name, shape]]}}``. Runs TensorFlow (the test starts it in a child).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main(out: str) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(ROOT))
    from judge_corpus import load_cases, probe_module

    probe_module(HERE / "cases.py")
    import tensorflow as tf

    cases = load_cases(HERE / "cases.py")
    manifest = {}
    for case in cases.CASES:
        built = cases.build_case(tf, case, Path(out) / case.id)
        saved = built.info["saved_model"]
        manifest[case.id] = {"split": cases.SPLIT[case.id], "signature": saved["signature"],
                             "inputs": [[s.name, list(s.run_shape)] for s in built.inputs]}
    (Path(out) / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
