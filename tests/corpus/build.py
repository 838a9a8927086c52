"""Build every corpus model as a frozen GraphDef (run in a child process: it imports TensorFlow).

    python tests/corpus/build.py OUT_DIR

Writes OUT_DIR/<id>.pb and OUT_DIR/manifest.json ({id: {"inputs": [[name, shape]], "outputs": [...]}}), with
the same graphs, seeds and input shapes the judge converted (scripts/judge_corpus.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))


def main(out: str) -> None:
    from judge_corpus import probe_module

    probe_ops = probe_module()
    import tensorflow as tf

    from tests.corpus.models import CASES

    manifest = {}
    for case in CASES:
        built, _, _ = probe_ops.build_graph(tf, case)
        (Path(out) / f"{case.id}.pb").write_bytes(built.graph_def)
        manifest[case.id] = {"inputs": [[s.name, list(s.run_shape)] for s in built.inputs],
                             "outputs": built.outputs}
    (Path(out) / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1])
