"""Judge the public corpus (tests/corpus/models.py) with the real TF 2.21 converter, LiteRT and TFLite Micro.

Writes tests/corpus/outcomes.json: per model and target, the verdict the real tools give (DESIGN.md §3):
``fail`` when the converter refuses or dies or the written model cannot be allocated and invoked, ``warn`` when
it runs but ops stay float where the target promises integers, ``pass`` otherwise. ``tflm`` is TFLite Micro
running what the int8 settings wrote. The GPU delegate does not run here, so ``gpu`` is not judged.

    python scripts/judge_corpus.py            # all models (about 5 minutes on 2 cores)
    python scripts/judge_corpus.py --only 'qat_*'
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "corpus" / "models.py"
OUT = ROOT / "tests" / "corpus" / "outcomes.json"
CONVERTER_TARGETS = ("float", "dynamic", "int8", "int8-fallback", "uint8-qat", "int16x8", "float16")


def probe_module():
    """scripts/probe_ops.py with the corpus registered (workers inherit the environment variable)."""
    os.environ["GRAPHLINT_PROBE_CASES"] = str(MODELS)
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("probe_ops", ROOT / "scripts" / "probe_ops.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["probe_ops"] = module
    spec.loader.exec_module(module)
    return module


def verdict(status: str | None) -> str:
    """The DESIGN.md §3 verdict for one measured status."""
    if status == "ok":
        return "pass"
    if status == "float_fallback":
        return "warn"
    return "fail"


def summarize(case: dict) -> dict:
    """Per target: verdict, status and the first line of the error."""
    out = {}
    for target in CONVERTER_TARGETS:
        result = case["results"].get(target, {})
        out[target] = {"verdict": verdict(result.get("status")), "status": result.get("status"),
                       "error": result.get("error"), "float_ops": result.get("float_ops") or []}
    micro = (case.get("tflm") or {}).get("int8")
    status = micro.get("status") if micro else None
    out["tflm"] = {"verdict": "pass" if status == "ok" else "fail", "status": status or "int8 did not convert",
                   "error": (micro or {}).get("error")}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="GLOB", help="judge only matching model ids")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    probe_ops = probe_module()
    spec = importlib.util.spec_from_file_location("corpus_models", MODELS)
    models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(models)
    ids = [c.id for c in models.CASES if not args.only or any(fnmatch.fnmatchcase(c.id, p) for p in args.only)]
    table = probe_ops.probe(ids, progress=lambda done, total, job: print(f"{done}/{total} {job['case']} "
                                                                        f"{job['target']}", file=sys.stderr))
    doc = json.loads(args.out.read_text()) if args.out.exists() else {"models": {}}
    doc.update({k: table[k] for k in ("tensorflow", "ai_edge_litert", "tflite_micro")},
               generated_by="scripts/judge_corpus.py")
    for case in table["cases"]:
        doc["models"][case["id"]] = summarize(case)
    doc["models"] = dict(sorted(doc["models"].items()))
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out} ({len(ids)} models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
