"""Judge the public corpus (tests/corpus/cases.py) with the real TF 2.21 converter, LiteRT and TFLite Micro.

The corpus has two splits: ``dev`` (tests/corpus/models.py) and ``heldout`` (tests/corpus/heldout.py, models the
rules are never tuned on). Writes tests/corpus/outcomes.json: per model, its ``split`` and, per target, the
verdict the real tools give (docs/design.md §3):
``fail`` when the converter refuses or dies or the written model cannot be allocated and invoked, ``warn`` when
it runs but ops stay float where the target promises integers or it reads variables none of its ops assigns (no
weights in the file), ``pass`` otherwise. ``tflm`` is TFLite Micro
running what the int8 settings wrote. The GPU delegate does not run here, so ``gpu`` is not judged.

    python scripts/judge_corpus.py            # all models (about an hour on 2 cores)
    python scripts/judge_corpus.py --only 'qat_*' --only 'ho_qat_*'
    python scripts/judge_corpus.py --corpus saved    # the SavedModels of tests/corpus_saved (minutes)

A model whose case names an intermediate tensor as its input (tests/corpus/corpus_kit.py, ``feed``) is converted
with that tensor as the input array; the test lints it with the same ``--input``.

``--corpus saved`` judges the SavedModel corpus (tests/corpus_saved/cases.py, written to its outcomes.json) the
same way, but each case writes a SavedModel directory (a ``saved_model`` case, which the probe's worker builds)
and the converter is ``TFLiteConverter.from_saved_model`` on the case's signature. uint8-qat is not judged there:
its legacy path exists only for frozen graphs (``graphlint.convert.settings.saved_model_refusal``).
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

from graphlint.convert import settings
from graphlint.engine.targets import CONVERTER_TARGETS

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "corpus" / "cases.py"
OUT = ROOT / "tests" / "corpus" / "outcomes.json"
# corpus name -> (its cases module, the outcomes it writes, the converter targets judged)
CORPORA = {
    "frozen": (MODELS, OUT, CONVERTER_TARGETS),
    "saved": (ROOT / "tests" / "corpus_saved" / "cases.py", ROOT / "tests" / "corpus_saved" / "outcomes.json",
              tuple(t for t in CONVERTER_TARGETS if settings.saved_model_refusal(t) is None)),
}
# Conversions per calibrated target (int8, int8-fallback, int16x8), whose float ops vary run to run; the verdict
# keeps the run with the most float ops. probe_ops uses 5 for the op table; 2 keeps ~200 models within an hour.
CONVERSION_ATTEMPTS = 2
FORK_DEADLINE_ENV = "GRAPHLINT_JUDGE_FORK_S"


def probe_module(cases: Path = MODELS):
    """scripts/probe_ops.py with the corpus ``cases`` registered (workers inherit the environment variable)."""
    os.environ["GRAPHLINT_PROBE_CASES"] = str(cases)
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("probe_ops", ROOT / "scripts" / "probe_ops.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["probe_ops"] = module
    spec.loader.exec_module(module)
    return module


def worker(log_path: str) -> None:
    """A probe worker for the corpus: each job runs in a forked child of the worker, so a converter that aborts
    costs a fork, not a TensorFlow import (which takes most of a minute on a loaded machine).

    The child records the stage it reached; when it dies, the worker reports the crash in that stage's slot, as
    the probe's parent does for a worker that dies. A child that has not finished within a third of the job's time
    (a fork can inherit a lock some TensorFlow thread held) is killed and the job runs again in the worker, which
    then runs its jobs itself until a crash replaces it. The build is done (and cached) in the worker before the fork.
    TFLite Micro runs only on what the int8 settings wrote: the verdicts read it there alone (``tflm``), and on
    float loops whose body grows a tensor of dynamic shape it never returns. Calibrated targets are converted
    CONVERSION_ATTEMPTS times.
    """
    import ctypes
    import signal

    probe_ops = probe_module(Path(os.environ.get("GRAPHLINT_PROBE_CASES", MODELS)))
    probe_ops.CONVERSION_ATTEMPTS = CONVERSION_ATTEMPTS
    run_tflm, current = probe_ops.run_tflm, {}
    stage_path = Path(log_path).with_suffix(".stage")

    def int8_only(model, built, seed, input_names):
        if current["target"] != "int8":
            raise RuntimeError("not run: the corpus judges TFLite Micro on the int8 model only")
        return run_tflm(model, built, seed, input_names)

    class JudgeWorker(probe_ops.Worker):
        in_process = False  # set once a fork blocked: later forks of this worker would block too

        def stage(self, name):
            super().stage(name)
            stage_path.write_text(name)

        def run_job(self, case_id, target):
            current["target"] = target
            if self.in_process:  # until a crash replaces this worker with a fresh one
                super().run_job(case_id, target)
                return
            with contextlib.suppress(Exception):  # the child builds again and reports the failure
                self.built(case_id, target == "uint8-qat" and probe_ops.CASES_BY_ID[case_id].qat_variant)
            stage_path.write_text("queued")
            pid = os.fork()
            if pid == 0:
                ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the worker
                code = 0
                try:
                    super().run_job(case_id, target)
                except BaseException:  # noqa: BLE001
                    code = 1
                os._exit(code)
            deadline = time.monotonic() + float(os.environ.get(FORK_DEADLINE_ENV, "60"))
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() > deadline:  # a child can block on a lock a TF thread held at the fork
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    self.in_process = True
                    super().run_job(case_id, target)  # in the worker itself, as the probe does
                    return
                time.sleep(0.05)
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                return
            stage = stage_path.read_text()
            error = probe_ops.clean_text(probe_ops.stage_log_text(self.log_path)[-600:]) or None
            how = {"stage": stage, "signal": signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status)
                   else f"exit code {os.WEXITSTATUS(status)}"}
            if stage == "tflm":
                self.send(put=["tflm", target], value=probe_ops.outcome("crash", "tflite-micro", error, **how))
            elif stage == "gpu":
                self.send(put=["gpu"], value=probe_ops.outcome("crash", "gpu-analyzer", error, ops=[], messages=[],
                                                                **how))
            else:
                source = "litert-interpreter" if stage == "litert" else "converter"
                self.send(put=["results", target], value=probe_ops.target_outcome("crash", source, error, **how))

    probe_ops.run_tflm, probe_ops.Worker = int8_only, JudgeWorker
    probe_ops.worker_main(log_path)


def load_cases(path: Path):
    """A corpus's cases module (CASES, SPLIT), loaded by path."""
    spec = importlib.util.spec_from_file_location("corpus_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def verdict(status: str | None) -> str:
    """The docs/design.md §3 verdict for one measured status."""
    if status == "ok":
        return "pass"
    if status in ("float_fallback", "unset_variables"):
        return "warn"
    return "fail"


def summarize(case: dict, targets: tuple[str, ...] = CONVERTER_TARGETS) -> dict:
    """Per target: verdict, status and the first line of the error."""
    out = {}
    for target in targets:
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
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="frozen",
                        help="the frozen graphs of tests/corpus or the SavedModels of tests/corpus_saved")
    parser.add_argument("--out", type=Path, default=None, help="the outcomes to write (default: the corpus's)")
    parser.add_argument("--worker", metavar="LOG", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="seconds per (model, target) job (default: probe_ops's); a job over it is a timeout")
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return 0
    cases_path, default_out, targets = CORPORA[args.corpus]
    out = args.out or default_out
    probe_ops = probe_module(cases_path)
    # probe_ops starts each worker as `python <its __file__> --worker LOG`: this script's worker instead
    probe_ops.__file__ = str(Path(__file__).resolve())
    models = load_cases(cases_path)
    ids = [c.id for c in models.CASES if not args.only or any(fnmatch.fnmatchcase(c.id, p) for p in args.only)]
    timeout = args.timeout or probe_ops.DEFAULT_TIMEOUT_S
    os.environ[FORK_DEADLINE_ENV] = str(timeout / 3)  # the workers inherit it
    table = probe_ops.probe(ids, targets, timeout=timeout, progress=lambda done, total, job: print(
        f"{done}/{total} {job['case']} {job['target']}", file=sys.stderr))
    doc = json.loads(out.read_text()) if out.exists() else {"models": {}}
    doc.update({k: table[k] for k in ("tensorflow", "ai_edge_litert", "tflite_micro")},
               generated_by="scripts/judge_corpus.py")
    for case in table["cases"]:
        doc["models"][case["id"]] = {**summarize(case, targets), "split": models.SPLIT[case["id"]]}
    doc["models"] = dict(sorted(doc["models"].items()))
    out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out} ({len(ids)} models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
