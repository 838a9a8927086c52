"""Build every corpus model as a frozen GraphDef, and convert some to ``.tflite`` and judge those with the real
interpreters (run in a child process: it imports TensorFlow).

    python tests/corpus/build.py OUT_DIR

Writes OUT_DIR/<id>.pb, OUT_DIR/<id>.<target>.tflite and OUT_DIR/manifest.json:
``{id: {"split": "dev" | "heldout", "inputs": [[name, shape]], "outputs": [...], "tflite": {target:
{"litert": null | error, "tflm": null | error, "float_ops": [...]}}}}``. The GraphDefs use the same graphs, seeds
and input shapes the judge converted (scripts/judge_corpus.py); an input may name an intermediate tensor, as the
judge's input array did. Each ``.tflite`` is run in LiteRT and TFLite Micro in a forked child with a time limit
(TFLite Micro never returns from some float loops). The models of the first corpus get the four TFLITE_TARGETS;
the grown corpus (about 140 models, keras.applications and TF2-frozen loops among them) gets GROWN_TFLITE_TARGETS,
float and int8, which keeps the whole build within CI's budget.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
TFLITE_TARGETS = ("float", "dynamic", "int8", "float16")
GROWN_TFLITE_TARGETS = ("float", "int8")
RUN_TIMEOUT_S = 10  # the models run in milliseconds; a float loop in TFLite Micro never returns


def _run(queue, fn, *args):
    try:
        fn(*args)
        queue.put(None)
    except Exception as exc:  # noqa: BLE001 - the runtime's failure is the measurement
        queue.put(f"{type(exc).__name__}: {exc}"[:300])


def _judge(fn, *args) -> str | None:
    """Run ``fn(*args)`` in a forked child; None when it returns, else the error (crash and hang included)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(queue, fn, *args))
    proc.start()
    proc.join(RUN_TIMEOUT_S)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return f"no answer within {RUN_TIMEOUT_S} s"
    if proc.exitcode != 0:
        return f"the interpreter died (exit code {proc.exitcode})"
    return queue.get(timeout=5)


def load_cases():
    """tests/corpus/cases.py (every model and its split), loaded by path as the judge loads it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("corpus_cases", Path(__file__).parent / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(out: str) -> None:
    from judge_corpus import probe_module

    probe_ops = probe_module()
    import tensorflow as tf
    from ai_edge_litert import interpreter  # noqa: F401 - imported once here, not in every forked run
    from tflite_micro import runtime  # noqa: F401

    cases = load_cases()
    outcomes = json.loads((Path(__file__).parent / "outcomes.json").read_text())["models"]
    manifest = {}
    for case in cases.CASES:
        built, _, _ = probe_ops.build_graph(tf, case)
        path = Path(out) / f"{case.id}.pb"
        path.write_bytes(built.graph_def)
        entry = {"split": cases.SPLIT[case.id], "inputs": [[s.name, list(s.run_shape)] for s in built.inputs],
                 "outputs": built.outputs, "tflite": {}}
        seed = probe_ops.case_seed(case.id)
        for target in TFLITE_TARGETS if case.id in cases.FIRST else GROWN_TFLITE_TARGETS:
            if outcomes.get(case.id, {}).get(target, {}).get("verdict") == "fail":
                continue  # nothing to judge (and some of these kill the converter)
            model = probe_ops.make_converter(tf, target, built, path, seed).convert()
            (Path(out) / f"{case.id}.{target}.tflite").write_bytes(model)
            ops, inputs = probe_ops.read_model(model)
            names = [i["name"] for i in inputs]
            entry["tflite"][target] = {
                "litert": _judge(probe_ops.run_litert, model, built, seed),
                "tflm": _judge(probe_ops.run_tflm, model, built, seed, names),
                "float_ops": probe_ops.float_ops(ops),
            }
        manifest[case.id] = entry
    (Path(out) / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1])
