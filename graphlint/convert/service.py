"""Fix and convert as one blocking call, shared by ``graphlint convert`` and the REST service.

:func:`convert_model` never imports TensorFlow and never raises for what the model or the converter does: the
converter runs in a warm worker (:mod:`graphlint.convert.pool`), and every failure (bad input, a fix that cannot
apply, a converter refusal, a crash, a timeout) becomes ``status: "failed"`` with ``error{kind, message, node}``.
It is safe to call from several threads; the pool bounds how many conversions run at once. A SavedModel (a
directory, an archive unpacked here, a Keras file traced in a worker) converts with ``from_saved_model`` and the
request's signature; graphlint's fixes rewrite frozen GraphDefs only, so it converts as it is and the report's
``fix`` says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import mmap
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict

from graphlint.engine.targets import CALIBRATED_TARGETS, INTEGER_ONLY_TARGETS, check_targets

from .pool import WorkerPool, default_pool

if TYPE_CHECKING:
    from graphlint.engine.registry import Registry
    from graphlint.ir import ModelGraph
    from graphlint.report import VerdictName

    from .protocol import CalibrationSpec, InputSpec, Job, Result

Progress = Callable[[float, str], None]
COSINE_MIN = 0.99
REPORT_VERSION = 1
Ranges = Mapping[str, tuple[float, float]]  # input name -> the float range (min, max) the user gave it
# The conversion report (``report.json``, a service job's result): the request, then what each stage found, much of
# it the worker's answer as it came back over the pipe (see convert_model for its members).
ConvertReport = dict[str, Any]


class RequestJSON(TypedDict):
    """The request as the conversion report states it."""

    model: str  # the file's name, not its path
    target: str
    signature: str | None
    fix: bool
    unsafe_fixes: bool
    inputs: list[str]
    outputs: list[str]
    calibration: str  # random, random:N, or the file or directory's name
    input_ranges: list[list[str | float]]  # [name, min, max]


class Promises(TypedDict):
    """The promises of a conversion and whether each is kept."""

    allocates_and_runs: bool
    integer_only: NotRequired[bool]  # integer targets: no op computes in float
    float_fallback_ops: NotRequired[int]  # int8-fallback: how many ops stayed float
    agrees: NotRequired[bool | None]  # with the original graph, to cosine COSINE_MIN; None: the check failed
    min_cosine: NotRequired[float]


class Checks(Promises):
    """The report's ``checks``: the promises, then why any is not kept."""

    why_not: list[str]


class HeldSavedModel(Protocol):
    """A SavedModel directory that exists until :meth:`close`: an unpacked archive, a traced Keras file."""

    @property
    def root(self) -> str: ...

    def close(self) -> None: ...


@dataclasses.dataclass
class ConvertRequest:
    """What to convert and how (the CLI flags of ``graphlint convert``)."""

    model_path: Path  # a frozen GraphDef (.pb, .pbtxt), a SavedModel (directory or archive) or a Keras file
    target: str  # one of graphlint.engine.targets.TARGETS
    fix: bool = False  # apply safe fixes first
    unsafe_fixes: bool = False  # also apply unsafe fixes (implies fix)
    inputs: tuple[str, ...] = ()  # NAME[:SHAPE] specs; default: every Placeholder
    outputs: tuple[str, ...] = ()  # output tensor names; default: the tensors nothing consumes
    calibration: str = "random"  # "random", "random:N", a directory of .npz/.npy files, or one .npz file
    input_ranges: tuple[tuple[str, float, float], ...] = ()  # (input name, float min, float max)
    signature: str | None = None  # a SavedModel's signature (default serving_default)

    def to_dict(self) -> RequestJSON:
        """JSON form (for the report)."""
        return {"model": Path(self.model_path).name, "target": self.target, "signature": self.signature,
                "fix": self.fix, "unsafe_fixes": self.unsafe_fixes, "inputs": list(self.inputs),
                "outputs": list(self.outputs),
                "calibration": self.calibration if self.calibration.startswith("random") else
                Path(self.calibration).name, "input_ranges": [list(r) for r in self.input_ranges]}


class InputError(Exception):
    """The request cannot be carried out as given (one line for the user)."""


def parse_range(spec: str) -> tuple[str, float, float]:
    """``NAME=MIN,MAX`` → (name, min, max).

    Raises:
        InputError: the spec is malformed or the range is empty.
    """
    name, sep, rest = spec.partition("=")
    parts = rest.split(",")
    if not sep or not name or len(parts) != 2:
        raise InputError(f"bad --input-range `{spec}`: expected NAME=MIN,MAX")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise InputError(f"bad --input-range `{spec}`: MIN and MAX are numbers") from None
    if not hi > lo:
        raise InputError(f"bad --input-range `{spec}`: MAX must be greater than MIN")
    return name.strip(), lo, hi


def calibration_spec(text: str) -> CalibrationSpec:
    """The worker's calibration spec for ``random``, ``random:N``, a directory or an ``.npz`` file.

    Raises:
        InputError: the file or directory does not exist, or N is not a positive integer.
    """
    if text == "random" or text.startswith("random:"):
        count = text.partition(":")[2] or "8"
        if not count.isdigit() or int(count) < 1:
            raise InputError(f"bad --calibration `{text}`: random:N takes a positive sample count")
        return {"kind": "random", "samples": int(count), "seed": 0}
    path = Path(text)
    if path.is_dir():
        return {"kind": "dir", "path": str(path.resolve())}
    if path.is_file() and path.suffix == ".npz":
        return {"kind": "npz", "path": str(path.resolve())}
    raise InputError(f"--calibration {text}: not `random`, a directory or an existing .npz file")


def _bare(tensor_id: str) -> str:
    head, _, tail = tensor_id.rpartition(":")
    return head if head and tail == "0" else tensor_id


def resolve_io(model: ModelGraph, ranges: Ranges) -> tuple[list[InputSpec], list[str]]:
    """Converter inputs (name, fixed shape, dtype, range) and output names of a loaded GraphDef.

    Raises:
        InputError: an input has unknown dims, a range names no input, or there are no outputs.
    """
    inputs: list[InputSpec] = []
    for tensor in model.input_tensors():
        name = _bare(tensor.id)
        if tensor.shape is None:
            raise InputError(f"input `{name}` has an unknown rank; give its shape: --input {name}:1,224,224,3")
        shape = list(tensor.shape)
        if shape and shape[0] is None:
            shape[0] = 1  # the converter's own choice for an unknown batch dim
        if None in shape:
            dims = ",".join("?" if d is None else str(d) for d in shape)
            fix = "" if model.info.format == "savedmodel" else " (and --fix --unsafe-fixes to write it into the graph)"
            raise InputError(f"input `{name}` has unknown dims ({dims}); give its shape with --input {name}:SHAPE"
                             f"{fix}")
        fixed = [d for d in shape if d is not None]  # every dim: the unknown ones were refused above
        inputs.append({"name": name, "shape": fixed, "dtype": tensor.dtype or "float32",
                       "range": list(ranges[name]) if name in ranges else None})
    unknown = sorted(set(ranges) - {i["name"] for i in inputs})
    if unknown:
        raise InputError(f"--input-range names `{unknown[0]}`, which is not an input "
                         f"(inputs: {', '.join(i['name'] for i in inputs)})")
    outputs = [_bare(t) for t in model.info.outputs]
    if not outputs:
        raise InputError("the graph has no outputs; name them with --output")
    return inputs, outputs


@dataclasses.dataclass(frozen=True)
class ModelSource:
    """A model as the converter takes it: ``path`` is read by the loader and the converter (the file itself, or
    a SavedModel directory: the one given, an archive's unpacked, a Keras file's traced); ``saved_model`` says
    it converts with ``from_saved_model``; ``kind`` is ``savedmodel``, ``keras`` or ``keras-h5`` for those,
    else ``file``."""

    path: Path
    saved_model: bool
    kind: str


@contextlib.contextmanager
def model_source(path: Path, pool: WorkerPool | None = None, target: str | None = None) -> Iterator[ModelSource]:
    """The model at ``path`` as the converter takes it, for as long as the block runs (an unpacked archive or a
    traced Keras file is removed after). A Keras file is traced in ``pool`` (default: the process-wide one).

    Raises:
        InputError: the file is missing, a refused or damaged archive, a Keras file that cannot be traced, or
            a SavedModel for a ``target`` whose recipe ``from_saved_model`` cannot take (said before any
            unpacking or tracing).
    """
    from graphlint.loaders import LoadError, read_bytes

    from .settings import saved_model_refusal

    path = Path(path)
    try:
        data = None if path.is_dir() else read_bytes(path)
        kind = "savedmodel" if data is None else _kind(data, path)
    except LoadError as err:
        raise InputError(str(err)) from None
    if kind == "file":
        yield ModelSource(path, False, kind)
        return
    refusal = saved_model_refusal(target) if target else None
    if refusal:
        raise InputError(refusal)
    if data is None:
        yield ModelSource(path, True, kind)
        return
    try:
        held = _open_saved_model(data, kind, path, pool)
    except LoadError as err:
        raise InputError(str(err)) from None
    try:
        yield ModelSource(Path(held.root), True, kind)
    finally:
        held.close()


def _kind(data: bytes | mmap.mmap, path: Path) -> str:
    """``keras`` or ``keras-h5`` (a Keras file), ``savedmodel`` (an archive) or ``file``."""
    from graphlint.loaders._archive import archive_kind
    from graphlint.loaders.keras import keras_kind

    return keras_kind(data, str(path)) or ("savedmodel" if archive_kind(bytes(data[:4096])) else "file")


def _open_saved_model(data: bytes | mmap.mmap, kind: str, path: Path, pool: WorkerPool | None) -> HeldSavedModel:
    """What holds the SavedModel directory (``.root``, ``.close()``) of an archive or a Keras file."""
    if kind == "savedmodel":
        from graphlint.loaders import LoadError
        from graphlint.loaders._archive import Unpacked, archive_kind

        archive = archive_kind(bytes(data[:4096]))
        if archive is None:  # _kind found one in these same bytes
            raise LoadError(f"{path}: not an archive")
        return Unpacked(data, archive, str(path))
    from graphlint.loaders.keras import check_keras

    from .keras import trace

    check_keras(data, kind, str(path))
    return trace(path, kind, str(path), pool)


def load_model(path: Path, request: ConvertRequest, name: str | None = None) -> ModelGraph:
    """Load a GraphDef or a SavedModel directory (reported as ``name``) with the request's inputs, shapes,
    outputs and signature; InputError for anything unusable."""
    from graphlint.engine.options import parse_io
    from graphlint.loaders import LoadError, load

    try:
        names, shapes = parse_io(request.inputs)
    except ValueError as err:
        raise InputError(str(err)) from None
    try:
        model = load(path, name=name, input_shapes=shapes, inputs=names, outputs=request.outputs,
                     signature=request.signature)
    except LoadError as err:
        raise InputError(str(err)) from None
    if model.info.format not in ("graphdef", "savedmodel"):
        raise InputError(f"{request.model_path}: already a .tflite; convert takes a frozen GraphDef (.pb, .pbtxt), "
                         "a SavedModel or a Keras file")
    if model.info.format == "savedmodel" and request.outputs:
        given = sorted(_bare(o) for o in request.outputs)
        declared = sorted(_bare(o) for o in model.info.outputs)
        if given != declared:
            raise InputError(f"a SavedModel converts with its signature's outputs ({', '.join(declared)}); "
                             "--output cannot choose others (choose a signature with --signature)")
    missing = [t for t in (*model.info.inputs, *model.info.outputs) if t not in model.tensors
               or model.tensors[t].producer is None]
    if missing:
        raise InputError(f"`{_bare(missing[0])}` is not a tensor of the graph")
    return model


def _failed(report: ConvertReport, kind: str, message: str, node: str | None = None) -> ConvertReport:
    report.update(status="failed", error={"kind": kind, "message": message, "node": node})
    return report


def convert_model(request: ConvertRequest, out_dir: Path, progress: Progress | None = None,
                  pool: WorkerPool | None = None, registry: Registry | None = None) -> ConvertReport:
    """Fix (optionally), convert, run and check a model; write the results into ``out_dir``.

    Args:
        request: the model and the options.
        out_dir: where ``model.tflite``, ``fixed.pb`` (when fixes were applied) and ``report.json`` go.
        progress: called with (fraction 0..1, stage) as the work advances; must be quick.
        pool: the worker pool (default: the process-wide one).
        registry: the rule registry whose fixes apply (default: the installed packs).

    Returns:
        The report (also written to ``report.json``): ``status`` ok | failed, ``error`` None or {kind, message,
        node}, ``files``, ``fix``, ``conversion``, ``numeric``, ``layers``, ``io_recipe``, ``float_ops``,
        ``checks`` and ``verdict``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    say = progress or (lambda fraction, stage: None)
    report: ConvertReport = {"schema_version": REPORT_VERSION, "status": "ok", "error": None,
                             "request": request.to_dict(), "files": [], "fix": None, "conversion": None,
                             "numeric": None, "layers": None, "io_recipe": None, "float_ops": None,
                             "checks": None, "verdict": None, "timings_ms": {}}
    try:
        _run(request, out_dir, report, say, pool or default_pool(), registry)
    except InputError as err:
        _failed(report, "input", str(err))
    except Exception as err:  # noqa: BLE001 - the caller gets a report, never a traceback
        _failed(report, "internal", f"{type(err).__name__}: {err}".splitlines()[0])
    report["timings_ms"]["total"] = round((time.perf_counter() - started) * 1000, 1)
    report["files"] = sorted({*report["files"], "report.json"})
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n",
                                         encoding="utf-8")
    say(1.0, "done")
    return report


def _run(request: ConvertRequest, out_dir: Path, report: ConvertReport, say: Progress, pool: WorkerPool,
         registry: Registry | None) -> None:
    try:
        check_targets([request.target])
    except ValueError as err:
        raise InputError(str(err)) from None
    source = Path(request.model_path)
    ranges: dict[str, tuple[float, float]] = {}
    for name, lo, hi in request.input_ranges:
        if not hi > lo:
            raise InputError(f"input range of `{name}` is empty ({lo}..{hi})")
        ranges[name] = (float(lo), float(hi))
    calibration = calibration_spec(request.calibration)
    with model_source(source, pool, request.target) as src:
        original = load_model(src.path, request, name=str(source))
        inputs, outputs = resolve_io(original, ranges)
        if src.saved_model:
            job = _saved_model_job(request, src, report, inputs, outputs)
            share = 0.0
        else:
            job, share = _graphdef_job(request, source, out_dir, report, inputs, outputs, calibration, ranges,
                                       say, pool, registry)
        job.update({"calibration": calibration, "out": str((out_dir / "model.tflite").resolve()), "numeric": True,
                    "debugger": request.target in CALIBRATED_TARGETS})
        _convert(job, request, out_dir, report, ranges, say, share, pool)


def _graphdef_job(request: ConvertRequest, source: Path, out_dir: Path, report: ConvertReport,
                  inputs: list[InputSpec], outputs: list[str], calibration: CalibrationSpec, ranges: Ranges,
                  say: Progress, pool: WorkerPool, registry: Registry | None) -> tuple[Job, float]:
    """The worker job converting a frozen GraphDef (fixed first when asked), and the progress share used."""
    convert_path = source
    share = 0.0
    if request.fix or request.unsafe_fixes:
        say(0.02, "fix")
        share = 0.2
        convert_path = _apply_fixes(request, source, out_dir, report, inputs, outputs, calibration, pool, registry)
        fixed = load_model(convert_path, dataclasses.replace(request, outputs=tuple(outputs)))
        inputs, outputs = resolve_io(fixed, ranges)
    return {"model": str(Path(convert_path).resolve()), "reference": str(source.resolve()), "inputs": inputs,
            "outputs": outputs, "target": request.target}, share


def fixes_not_applied(kind: str) -> str:
    """Why ``--fix`` leaves a SavedModel (``kind`` ``savedmodel``, ``keras`` or ``keras-h5``) as it is."""
    what = "a SavedModel" if kind == "savedmodel" else "a Keras file (traced into a SavedModel)"
    return (f"fixes not applied: graphlint's fixes rewrite a frozen GraphDef, and {what} is converted as it is "
            "by TFLiteConverter.from_saved_model")


def _saved_model_job(request: ConvertRequest, src: ModelSource, report: ConvertReport, inputs: list[InputSpec],
                     outputs: list[str]) -> Job:
    """The worker job converting a SavedModel directory with ``from_saved_model``; the fixes it leaves out are
    said in ``report["fix"]``."""
    from graphlint.loaders.savedmodel import DEFAULT_SIGNATURE

    if request.fix or request.unsafe_fixes:
        report["fix"] = {"status": "not-applied", "reason": fixes_not_applied(src.kind), "applied": [],
                         "skipped": []}
    return {"model": str(src.path.resolve()), "signature": request.signature or DEFAULT_SIGNATURE,
            "inputs": inputs, "outputs": outputs, "target": request.target}


def _convert(job: Job, request: ConvertRequest, out_dir: Path, report: ConvertReport, ranges: Ranges,
             say: Progress, share: float, pool: WorkerPool) -> None:
    say(share, "convert")
    result = pool.run(job, progress=lambda f, stage: say(share + (0.95 - share) * f, stage))
    report["conversion"] = {k: result.get(k) for k in ("tflite_bytes", "worker", "timings_ms") if k in result}
    report["numeric"] = result.get("numeric")
    report["layers"] = result.get("layers")
    if (out_dir / "model.tflite").is_file() and result.get("tflite_bytes"):
        report["files"].append("model.tflite")
    if result.get("status") != "ok":
        error = result.get("error") or {}
        report.update(status="failed", error={"kind": error.get("kind", "converter"),
                                              "message": error.get("message", "conversion failed"),
                                              "node": error.get("node")})
        if error.get("detail"):
            report["error"]["detail"] = error["detail"]
    if "model.tflite" in report["files"]:
        _inspect(out_dir / "model.tflite", request, report, ranges, _signature_names(job, result))
    report["checks"], report["verdict"] = checks(request.target, report)


def _apply_fixes(request: ConvertRequest, source: Path, out_dir: Path, report: ConvertReport,
                 inputs: list[InputSpec], outputs: list[str], calibration: CalibrationSpec, pool: WorkerPool,
                 registry: Registry | None) -> Path:
    from graphlint.fix import FixError, fix_graph

    def measure(graph_bytes: bytes, tensors: list[str]) -> dict[str, tuple[float, float]]:
        tmp = out_dir / ".measure.pb"
        tmp.write_bytes(graph_bytes)
        try:
            res = pool.run({"kind": "ranges", "model": str(tmp.resolve()), "inputs": inputs, "tensors": tensors,
                            "calibration": calibration})
        finally:
            tmp.unlink(missing_ok=True)
        if res.get("status") != "ok":
            raise FixError(f"measuring tensor ranges failed: {(res.get('error') or {}).get('message')}")
        return {k: tuple(v) for k, v in res["ranges"].items()}

    try:
        result = fix_graph(source.read_bytes(), inputs=request.inputs, outputs=tuple(outputs),
                           unsafe=request.unsafe_fixes, targets=(request.target,), measure=measure,
                           registry=registry)
    except FixError as err:
        raise InputError(f"fix: {err}") from None
    name = "fixed.pbtxt" if result.text else "fixed.pb"
    (out_dir / name).write_bytes(result.data)
    report["files"].append(name)
    report["fix"] = result.to_dict()
    return out_dir / name


def _signature_names(job: Job, result: Result) -> dict[str, str]:
    """The converted model's tensor name → its signature's name, for a SavedModel's conversion that ran (the
    worker's ``io`` lists the tensors it fed and read, in the job's order)."""
    io = result.get("io") or {}
    if not job.get("signature") or not io:
        return {}
    pairs = [*zip(io.get("inputs") or (), (i["name"] for i in job["inputs"])),
             *zip(io.get("outputs") or (), job["outputs"])]
    return {detail["name"]: name for detail, name in pairs}


def _inspect(path: Path, request: ConvertRequest, report: ConvertReport, ranges: Ranges,
             names: dict[str, str] | None = None) -> None:
    from graphlint.loaders import LoadError, load

    from .recipe import float_ops, io_recipe

    try:
        model = load(path)
    except LoadError as err:
        report["io_recipe"] = {"error": str(err)}
        return
    recipe_ranges = dict(ranges)
    if request.target == "uint8-qat":
        for tensor in model.input_tensors():
            recipe_ranges.setdefault(_bare(tensor.name), (-1.0, 1.0))
    report["io_recipe"] = io_recipe(model, recipe_ranges, names)
    report["float_ops"] = float_ops(model)


def checks(target: str, report: ConvertReport) -> tuple[Checks, VerdictName]:
    """The three promises of a conversion and why each is or is not kept; and a verdict pass | warn | fail."""
    why: list[str] = []
    ran = report["status"] == "ok"
    result: Promises = {"allocates_and_runs": ran}
    if not ran:
        error = report.get("error") or {}
        where = f" at `{error['node']}`" if error.get("node") else ""
        why.append(f"{error.get('kind', 'conversion')} failure{where}: {error.get('message', '')}")
    floats = report.get("float_ops") or []
    if target in INTEGER_ONLY_TARGETS and ran:
        result["integer_only"] = not floats
        if floats:
            names = ", ".join(f"`{f['tensor']}` ({f['op']})" for f in floats[:5])
            why.append(f"{len(floats)} op(s) compute in float although {target} promises integers: {names}"
                       + (" ..." if len(floats) > 5 else ""))
    elif target == "int8-fallback" and ran:
        result["float_fallback_ops"] = len(floats)
    if ran:
        _numeric_checks(report, result, why)
    if not ran:
        verdict: VerdictName = "fail"
    elif why or result.get("float_fallback_ops"):
        verdict = "warn"
    else:
        verdict = "pass"
    return {**result, "why_not": why}, verdict


def _numeric_checks(report: ConvertReport, result: Promises, why: list[str]) -> None:
    """Whether the converted model agrees with the original graph (``agrees``, ``min_cosine``) and, when it
    does not, why."""
    numeric = report.get("numeric") or {}
    if numeric.get("error"):
        result["agrees"] = None
        why.append(f"the numeric check could not run the original graph: {numeric['error']}")
        return
    if not numeric.get("outputs"):
        return
    if numeric.get("reference_deterministic") is False:
        why.append("the original graph gives different outputs for the same input (random ops such as "
                   "training-mode dropout), so no converted model can agree with it exactly; the check "
                   "compares with one run of it")
    low = [o for o in numeric["outputs"] if o["cosine"] < COSINE_MIN]
    result["agrees"] = not low
    result["min_cosine"] = min(o["cosine"] for o in numeric["outputs"])
    for o in low:
        text = (f"output `{o['name']}` agrees with the original graph only to cosine {o['cosine']:.4f} "
                f"(< {COSINE_MIN}), max abs error {o['max_abs_error']:.4g}")
        worst = ((report.get("layers") or {}).get("worst") or [])[:1]
        if worst:
            text += f"; the layer that loses the most: {worst[0]['explanation']}"
        why.append(text)
