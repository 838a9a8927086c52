"""``graphlint check --verify``: hold each predicted verdict against what the real tools do with the model.

For a frozen GraphDef, every target is converted with its settings and run (LiteRT; TensorFlow Lite Micro for
``tflm``) in the warm conversion workers (:mod:`graphlint.convert.pool`, the jobs of
:mod:`graphlint.convert.judge`); a SavedModel (a directory, an archive, a traced Keras file) is converted the same
way with ``from_saved_model`` and its signature; for a ``.tflite`` the file itself runs in LiteRT (``float``,
``int8``) and TensorFlow Lite Micro (``tflm``). Each target gets ``verified = {status, actual, message,
reproduce}``: ``confirmed`` when the real verdict equals the prediction, ``contradicted`` when it does not,
``not-run`` when nothing here can judge it (``gpu``; a ``.tflite`` for a target that needs a conversion;
``uint8-qat`` for a SavedModel, a setting ``from_saved_model`` lacks; I/O that cannot be fed).
This module never imports TensorFlow: it only checks that the workers will be able to.
"""

from __future__ import annotations

import importlib.util
import shlex
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphlint.engine.targets import JUDGED_TARGETS, REGISTRY

from .pool import WorkerPool, default_pool

if TYPE_CHECKING:
    from graphlint.report import Report, Verified, VerifiedStatus

    from .protocol import CalibrationSpec, InputSpec, Job, Result

INSTALL_HINT = "pip install 'graphlint[convert]'"
TFLITE_JUDGED = ("float", "int8", "tflm")  # what a finished .tflite can be judged for by running it
SAVED_MODEL_FORMATS = ("savedmodel", "keras", "keras-h5")  # converted with from_saved_model
_JUDGED_FORMATS = ("graphdef", "tflite", *SAVED_MODEL_FORMATS)
_NEEDED = ("tensorflow", "ai_edge_litert", "tflite_micro")
_CALIBRATION: CalibrationSpec = {"kind": "random", "samples": 8, "seed": 0}
_FAILED_RUNS = ("crash", "memory", "timeout")  # a worker that died or hung on the model: the judge's "fail"
Progress = Callable[[int, int, str], None]


def missing_tools(what: str) -> str | None:
    """None when TensorFlow, LiteRT and TensorFlow Lite Micro can be imported (found, not imported); else one
    line saying what ``what`` needs and how to install it."""
    for module in _NEEDED:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return (f"{what} needs TensorFlow, LiteRT and TensorFlow Lite Micro, and `{module}` is not installed; "
                    f"install the convert extra: {INSTALL_HINT}")
    return None


def entry(status: VerifiedStatus, actual: str | None = None, message: str | None = None,
          reproduce: str | None = None) -> Verified:
    """One target's ``verified`` object of the JSON report."""
    return {"status": status, "actual": actual, "message": message, "reproduce": reproduce}


def judged(predicted: str, actual: str, message: str | None, reproduce: str | None) -> Verified:
    """``confirmed`` or ``contradicted``, comparing the predicted verdict with the real one."""
    return entry("confirmed" if actual == predicted else "contradicted", actual, message, reproduce)


def _not_run_reason(target: str, tflite: bool) -> str | None:
    if target not in JUDGED_TARGETS:
        return f"{REGISTRY[target].description} does not run here; only a device with it can judge this target"
    if tflite and target not in TFLITE_JUDGED:
        return (f"a .tflite is already converted; `{target}` is a converter setting, judged by converting the "
                "GraphDef it came from")
    return None


def _unjudged(fmt: str | None) -> str:
    return f"verification converts frozen GraphDefs, SavedModels and Keras files and runs .tflite files, not a {fmt}"


def _reproduce_convert(source: str, target: str, inputs: list[InputSpec], outputs: list[str],
                       signature: str | None = None) -> str:
    words = ["graphlint", "convert", source, "--target", target, "-o", f"{Path(source).stem}.{target}.tflite"]
    if signature:
        words += ["--signature", signature]
    for spec in inputs:
        words += ["--input", f"{spec['name']}:" + ",".join(str(d) for d in spec["shape"])]
    for spec in inputs:
        if spec_range := spec.get("range"):
            words += ["--input-range", f"{spec['name']}=" + ",".join(f"{v:g}" for v in spec_range)]
    for name in outputs:
        words += ["--output", name]
    return shlex.join(words)


def _reproduce_run(path: str, target: str) -> str:
    if target == "tflm":
        code = (f"from tflite_micro.python.tflite_micro import runtime; "
                f"runtime.Interpreter.from_bytes(open({path!r}, 'rb').read(), arena_size={32 << 20}).invoke()")
    else:
        code = (f"from ai_edge_litert.interpreter import Interpreter; i = Interpreter(model_path={path!r}); "
                "i.allocate_tensors(); i.invoke(); print(sorted({d['name'] for d in i.get_tensor_details() "
                "if 'float' in d['dtype'].__name__}))")
    return shlex.join(["python", "-c", code])


def _from_result(result: Result) -> tuple[str | None, str | None]:
    """(actual verdict or None when the job could not judge, message) of a worker's answer."""
    if result.get("status") == "ok" and result.get("actual"):
        return result["actual"], result.get("message")
    error = result.get("error") or {}
    message = error.get("message") or "the verification job failed"
    if error.get("kind") in _FAILED_RUNS:
        return "fail", message
    return None, message


_INTEGER_RANGE = [0, 1]  # integer inputs are often indices (token ids, labels): never fed negative values
_INTEGER_TYPES = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")


def _graphdef_io(source: Path, inputs: Sequence[str], outputs: Sequence[str], signature: str | None = None
                 ) -> tuple[list[InputSpec], list[str]]:
    """The converter's inputs (fixed shapes) and outputs of a frozen GraphDef or a SavedModel directory;
    InputError when they cannot be fed."""
    from .service import ConvertRequest, load_model, resolve_io

    model = load_model(source, ConvertRequest(source, "float", inputs=tuple(inputs), outputs=tuple(outputs),
                                              signature=signature))
    feeds, names = resolve_io(model, {})
    for feed in feeds:
        if feed["dtype"] in _INTEGER_TYPES:
            feed["range"] = list(_INTEGER_RANGE)
    return feeds, names


def _tflite_io(source: Path) -> tuple[list[InputSpec], list[str]]:
    """Inputs of a ``.tflite`` to feed: quantized ones get float samples (the runners quantize them)."""
    from graphlint.loaders import load

    model = load(source)
    inputs: list[InputSpec] = []
    for tensor in model.input_tensors():
        quantized = tensor.quant is not None and tensor.dtype not in ("float32", "float16")
        dtype = "float32" if quantized else (tensor.dtype or "float32")
        inputs.append({"name": tensor.name, "shape": [1 if d is None else int(d) for d in tensor.shape or ()],
                       "dtype": dtype, "range": list(_INTEGER_RANGE) if dtype in _INTEGER_TYPES else None})
    return inputs, [t.rsplit(":", 1)[0] if t.endswith(":0") else t for t in model.info.outputs]


class Verifier:
    """Runs the verification jobs of one model, one target at a time, in the worker pool."""

    def __init__(self, source: str, fmt: str | None, *, name: str | None = None, inputs: Sequence[str] = (),
                 outputs: Sequence[str] = (), pool: WorkerPool | None = None, timeout: float | None = None,
                 signature: str | None = None) -> None:
        """``source``: the model file, or for a SavedModel (``fmt`` savedmodel, keras, keras-h5) the directory
        the converter reads (see :func:`graphlint.convert.service.model_source`)."""
        self.source, self.name, self.fmt, self.tflite = source, name or source, fmt, fmt == "tflite"
        self.saved_model = fmt in SAVED_MODEL_FORMATS
        self.signature = signature
        self.spec_inputs, self.spec_outputs = tuple(inputs), tuple(outputs)
        self.pool, self.timeout = pool, timeout
        self.io: tuple[list[InputSpec], list[str]] | None = None
        self.io_error: str | None = None
        self.int8_model: Path | None = None

    def prepare(self) -> None:
        """Resolve what to feed the model; an unusable model or I/O becomes ``io_error``."""
        from graphlint.loaders import LoadError

        from .service import InputError

        if self.fmt not in _JUDGED_FORMATS:
            self.io_error = _unjudged(self.fmt)
            return
        try:
            path = Path(self.source)
            self.io = _tflite_io(path) if self.tflite else _graphdef_io(path, self.spec_inputs, self.spec_outputs,
                                                                        self.signature)
        except (InputError, LoadError, OSError) as err:
            self.io_error = str(err)

    def job(self, target: str, tmp: Path) -> Job:
        """The worker job judging ``target``."""
        inputs, outputs = self.io or ([], [])
        job: Job = {"kind": "verify", "target": target, "inputs": inputs, "outputs": outputs,
                    "calibration": _CALIBRATION, "model": str(Path(self.source).resolve()), "tflite": self.tflite}
        if self.saved_model:
            from graphlint.loaders.savedmodel import DEFAULT_SIGNATURE

            job["signature"] = self.signature or DEFAULT_SIGNATURE
        if not self.tflite:
            if target == "tflm" and self.int8_model is not None:  # TFLite Micro runs what int8 wrote
                job.update({"model": str(self.int8_model), "tflite": True, "converted": True})
            else:
                job["out"] = str(tmp / f"{target}.tflite")
        return job

    def reproduce(self, target: str) -> str:
        """A command line that shows what the real tools do."""
        if self.tflite:
            return _reproduce_run(self.name, target)
        inputs, outputs = self.io or ([], [])
        return _reproduce_convert(self.name, target, inputs, outputs, self.signature)

    def one(self, target: str, predicted: str, tmp: Path) -> Verified:
        """The ``verified`` object of one target."""
        reason = _not_run_reason(target, self.tflite)
        if reason is None and self.saved_model:
            from .settings import saved_model_refusal

            reason = saved_model_refusal(target)
        if reason is None and self.io_error is not None:
            reason = self.io_error if self.fmt not in _JUDGED_FORMATS else \
                f"the model cannot be fed to the converter: {self.io_error}"
        if reason is not None:
            return entry("not-run", message=reason)
        result = (self.pool or default_pool()).run(self.job(target, tmp), timeout=self.timeout)
        written = tmp / "int8.tflite"
        if target == "int8" and not self.tflite and written.is_file() and result.get("stage") != "convert":
            self.int8_model = written
        actual, message = _from_result(result)
        if actual is None:
            return entry("not-run", message=message)
        return judged(predicted, actual, message, self.reproduce(target))


def verify_targets(predicted: dict[str, str], source: str, fmt: str | None, *, name: str | None = None,
                   inputs: Sequence[str] = (), outputs: Sequence[str] = (), pool: WorkerPool | None = None,
                   timeout: float | None = None, progress: Progress | None = None,
                   signature: str | None = None) -> dict[str, Verified]:
    """Judge the predicted verdict of each target (``{target: verdict}``) for the model ``source`` (a file, or a
    SavedModel directory; ``fmt``: its ``model.format``, None when unreadable) with the real tools; ``name`` is
    the model's path as the user knows it, for the reproduction commands. Returns ``{target: {status, actual,
    message, reproduce}}``."""
    from .service import InputError, model_source

    if fmt is None:
        return {t: entry("not-run", message="the model could not be read") for t in predicted}
    if fmt not in _JUDGED_FORMATS:
        return {t: entry("not-run", message=_not_run_reason(t, False) or _unjudged(fmt)) for t in predicted}
    verified: dict[str, Verified] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="graphlint-verify-") as tmp, model_source(Path(source), pool) as src:
            verifier = Verifier(str(src.path), fmt, name=name or source, inputs=inputs, outputs=outputs, pool=pool,
                                timeout=timeout, signature=signature)
            verifier.prepare()
            for done, (target, verdict) in enumerate(predicted.items()):
                if progress is not None:
                    progress(done, len(predicted), target)
                verified[target] = verifier.one(target, verdict, Path(tmp))
    except InputError as err:
        return {t: entry("not-run", message=_not_run_reason(t, fmt == "tflite")
                         or f"the model cannot be fed to the converter: {err}") for t in predicted}
    if progress is not None:
        progress(len(predicted), len(predicted), "done")
    return verified


def verify_report(report: Report, source: str, **options: Any) -> dict[str, Verified]:
    """Judge every target of ``report`` (a :class:`graphlint.report.Report` of ``source``) with the real tools
    (options as :func:`verify_targets`); set and return ``report.verified``."""
    predicted: dict[str, str] = {t: v["verdict"] for t, v in report.verdicts().items()}
    fmt = None if report.fatal else report.model["format"]
    verified = report.verified = verify_targets(predicted, source, fmt, **options)
    return verified


def summary(verified: Mapping[str, Verified]) -> dict[str, int]:
    """How many targets were confirmed, contradicted and not run."""
    return {status.replace("-", "_"): sum(1 for v in verified.values() if v["status"] == status)
            for status in ("confirmed", "contradicted", "not-run")}


def contradictions(report: Report) -> list[tuple[str, Verified]]:
    """The contradicted targets of a verified report, in target order."""
    return [(t, v) for t, v in (getattr(report, "verified", None) or {}).items() if v["status"] == "contradicted"]


def _say(enabled: bool) -> Progress | None:
    """A one-line progress display on stderr (only on a terminal)."""
    import sys

    if not enabled:
        return None

    def show(done: int, total: int, target: str) -> None:
        line = f"\rverify: {target} ({done}/{total})" if done < total else ""
        sys.stderr.write(line.ljust(60) + ("\r" if not line else ""))
        sys.stderr.flush()

    return show


def verify_cli(reports: Sequence[Report], paths: Sequence[str], *, inputs: Sequence[str], outputs: Sequence[str],
               tty: bool = False, signature: str | None = None) -> None:
    """``graphlint check --verify``: verify every readable report in place (TensorFlow only in the workers)."""
    for report, path in zip(reports, paths):
        verify_report(report, str(path), inputs=inputs, outputs=outputs, progress=_say(tty), signature=signature)


def contradiction_lines(reports: Sequence[Report]) -> list[str]:
    """One line per contradicted target and the command that reproduces it (for stderr)."""
    lines = []
    for report in reports:
        for target, v in contradictions(report):
            predicted = report.verdicts()[target]["verdict"]
            lines.append(f"{report.model['path']}: {target}: predicted {predicted}, the real tools say {v['actual']}: "
                         f"{v['message'] or ''}".rstrip(": "))
            if v.get("reproduce"):
                lines.append(f"  reproduce: {v['reproduce']}")
    return lines
