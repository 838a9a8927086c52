"""The conversion worker: the only graphlint module that imports TensorFlow.

It runs in its own process (``python -m graphlint.convert.worker``), started and supervised by
:mod:`graphlint.convert.pool`. At start it caps its own address space (``GRAPHLINT_WORKER_MEMORY_MB``), imports
TensorFlow once, says ``ready`` and then serves jobs, one JSON line in on stdin, JSON lines out on a private
copy of stdout (progress lines, then one result line). File descriptor 1 itself is pointed at stderr, so what
the converter's C++ code prints never corrupts the protocol.

A job converts a frozen GraphDef (``from_frozen_graph``) or a SavedModel directory (``from_saved_model`` with
``job["signature"]``) for one target (its recipe, docs/design.md §3), writes the ``.tflite``, allocates and
invokes it, and runs the numeric check: the original graph (or the signature's function) in TensorFlow and the
converted model in LiteRT on the same inputs, per-output error, and for integer targets the
QuantizationDebugger's per-layer error. A ``keras`` job traces a Keras file into a SavedModel with
``model.export`` (:mod:`graphlint.convert.keras`). :func:`run_job` is also callable in-process (the benchmark's
baseline does that).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import resource
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import numpy.typing as npt

from graphlint.convert import settings
from graphlint.convert.errors import node_from_message, summarize
from graphlint.convert.settings import Converter, Sample, TFModule
from graphlint.engine.targets import CALIBRATED_TARGETS

if TYPE_CHECKING:
    from graphlint.convert.protocol import (
        CalibrationSpec,
        InputSpec,
        IODetail,
        Job,
        LayerError,
        LayersCheck,
        NumericCheck,
        OutputError,
        Result,
    )

_DEFAULT_RANGE = settings.DEFAULT_RANGE
_TOP_LAYERS = 3

Progress = Callable[[float, str], None]
Array = npt.NDArray[Any]
Samples = list[list[Array]]  # one list of arrays per sample, in input order
Dataset = Callable[[], Iterator[Sample]]  # a representative dataset, as the converter calls it
# LiteRT, TensorFlow Lite Micro and Keras are imported lazily, here only, and ship no type information: their
# interpreters and models are typed by these names alone.
Interpreter = Any
KerasModel = Any


class QuantDetail(TypedDict):
    """What (de)quantizing a tensor reads of LiteRT's tensor details."""

    dtype: npt.DTypeLike
    quantization: tuple[float, int]  # (scale, zero point); scale 0 when the tensor is not quantized


class TensorDetail(QuantDetail):
    """An entry of LiteRT's ``get_input_details()`` / ``get_output_details()``: the members graphlint reads."""

    name: str
    index: int
    shape: Array


def _tf() -> TFModule:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    import tensorflow as tf

    return tf


# -- inputs ------------------------------------------------------------------------------------------------

def _bare(name: str) -> str:
    head, _, tail = name.rpartition(":")
    return head if head and tail.isdigit() else name


def _samples_for(arr: Array, shape: tuple[int, ...], name: str) -> list[Array]:
    if tuple(arr.shape) == shape:
        return [arr]
    if arr.ndim == len(shape) + 1 and tuple(arr.shape[1:]) == shape:
        return list(arr)
    if arr.ndim == len(shape) and shape and shape[0] == 1 and tuple(arr.shape[1:]) == shape[1:]:
        return [a[None] for a in arr]
    raise ValueError(f"calibration array for `{name}` has shape {list(arr.shape)}; expected {list(shape)} or "
                     f"[N, {', '.join(map(str, shape))}]")


def _random_input(rng: np.random.Generator, inp: InputSpec) -> Array:
    """One seeded sample of an input, uniform in its range (0 or 1 for a bool)."""
    lo, hi = inp.get("range") or _DEFAULT_RANGE
    dtype = np.dtype(inp["dtype"])
    if np.issubdtype(dtype, np.floating):
        return rng.uniform(lo, hi, inp["shape"]).astype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, inp["shape"]).astype(bool)
    return rng.integers(int(lo), int(hi) + 1, inp["shape"]).astype(dtype)


def _read_samples(file: Path, inputs: list[InputSpec], per_input: list[list[Array]]) -> None:
    """Add the samples of one ``.npz`` (an array per input name) or ``.npy`` (single input) file to
    ``per_input``."""
    if file.suffix == ".npy":
        if len(inputs) != 1:
            raise ValueError(f"{file}: .npy calibration files need a single-input model; use .npz with "
                             "one array per input name")
        per_input[0].extend(_samples_for(np.load(file), tuple(inputs[0]["shape"]), inputs[0]["name"]))
        return
    with np.load(file) as npz:
        arrays = {_bare(k): npz[k] for k in npz.files}
    for i, inp in enumerate(inputs):
        if inp["name"] not in arrays:
            raise ValueError(f"{file}: no array named `{inp['name']}` (has {', '.join(sorted(arrays))})")
        per_input[i].extend(_samples_for(arrays[inp["name"]], tuple(inp["shape"]), inp["name"]))


def calibration_samples(spec: CalibrationSpec, inputs: list[InputSpec]) -> Samples:
    """The calibration / test samples: one list of arrays (in input order) per sample.

    ``spec``: ``{"kind": "random", "samples": N}`` (seeded, uniform in each input's range), ``{"kind": "npz",
    "path": P}`` (one array per input name, ``[N, *shape]`` or one sample) or ``{"kind": "dir", "path": D}``
    (every ``*.npz`` in D, sorted, each as above; or ``*.npy`` files for a single-input model).
    """
    kind = spec.get("kind", "random")
    if kind == "random":
        rng = np.random.default_rng(int(spec.get("seed", 0)))
        return [[_random_input(rng, inp) for inp in inputs] for _ in range(int(spec.get("samples", 8)))]
    path = Path(spec["path"])
    files = [path] if kind == "npz" else sorted(path.glob("*.npz")) or sorted(path.glob("*.npy"))
    if not files:
        raise ValueError(f"{path}: no .npz or .npy files")
    per_input: list[list[Array]] = [[] for _ in inputs]
    for file in files:
        _read_samples(file, inputs, per_input)
    counts = {len(p) for p in per_input}
    if len(counts) != 1 or 0 in counts:
        raise ValueError("calibration data has a different number of samples per input")
    return [[per_input[i][n].astype(np.dtype(inputs[i]["dtype"])) for i in range(len(inputs))]
            for n in range(counts.pop())]


# -- conversion --------------------------------------------------------------------------------------------

def make_converter(tf: TFModule, job: Job, dataset: Dataset | None) -> Converter:
    """A TF 2.21 converter for the job's model and target, with the target's recipe (graphlint.engine.targets):
    ``from_saved_model`` with the job's signature when ``job["signature"]`` is set (a SavedModel directory),
    else ``from_frozen_graph``."""
    floats = {i["name"]: i.get("range") for i in job["inputs"]
              if np.issubdtype(np.dtype(i.get("dtype") or "float32"), np.floating)}
    if job.get("signature"):
        conv = settings.from_saved_model(tf, job["model"], job["signature"])
    else:
        shapes = {i["name"]: list(i["shape"]) for i in job["inputs"]}
        conv = settings.from_frozen_graph(tf, job["model"], list(shapes), job["outputs"], shapes)
    return settings.configure(tf, conv, job["target"], dataset=dataset, float_inputs=floats)


def representative(job: Job, samples: Samples) -> Dataset:
    """The representative dataset of the job's samples: lists in input order for a frozen graph, dicts keyed by
    the signature's input names for a SavedModel (the converter feeds those by name)."""
    names = [i["name"] for i in job["inputs"]]

    def dataset() -> Iterator[Sample]:
        for sample in samples:
            arrays = [np.asarray(a) for a in sample]
            yield dict(zip(names, arrays)) if job.get("signature") else arrays

    return dataset


def _quantize(x: Array, detail: QuantDetail) -> Array:
    dtype = np.dtype(detail["dtype"])
    scale, zero = detail["quantization"]
    if not np.issubdtype(dtype, np.integer) or not scale or not np.issubdtype(x.dtype, np.floating):
        return x.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)


def _dequantize(q: Array, detail: QuantDetail) -> Array:
    scale, zero = detail["quantization"]
    if scale and np.issubdtype(q.dtype, np.integer):
        return (q.astype(np.float32) - zero) * np.float32(scale)
    return q.astype(np.float32) if q.dtype != np.float32 and np.issubdtype(q.dtype, np.number) else q


def _match(details: list[TensorDetail], names: list[str], by_signature: dict[str, int] | None = None) -> list[int]:
    """Index into ``details`` for each graph tensor name (by name, else through the model's signature, else by
    position)."""
    by_name = {_bare(d["name"]): i for i, d in enumerate(details)}
    if all(_bare(n) in by_name for n in names):
        return [by_name[_bare(n)] for n in names]
    if by_signature and all(_bare(n) in by_signature for n in names):
        position = {d["index"]: i for i, d in enumerate(details)}
        return [position[by_signature[_bare(n)]] for n in names]
    return list(range(len(details)))


def _signature_indices(interp: Interpreter) -> tuple[dict[str, int], dict[str, int]]:
    """Tensor index of each input and output name of the model's only signature (a model converted from a
    SavedModel names them as the signature does); empty without exactly one signature."""
    signatures = interp.get_signature_list()
    if len(signatures) != 1:
        return {}, {}
    runner = interp.get_signature_runner(next(iter(signatures)))
    return ({name: d["index"] for name, d in runner.get_input_details().items()},
            {name: d["index"] for name, d in runner.get_output_details().items()})


def _positional(model: bytes, job: Job, samples: Samples) -> Dataset:
    """The samples as lists in the converted model's input order (the QuantizationDebugger feeds them by
    position, not by the signature's names)."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=model)
    order = _match(interp.get_input_details(), [i["name"] for i in job["inputs"]], _signature_indices(interp)[0])
    slot = {position: k for k, position in enumerate(order)}

    def dataset() -> Iterator[Sample]:
        for sample in samples:
            yield [np.asarray(sample[slot[p]]) for p in range(len(order))]

    return dataset


def run_tflite(model: bytes, samples: Samples, input_names: list[str], output_names: list[str]
               ) -> tuple[Samples, list[TensorDetail], list[TensorDetail]]:
    """Allocate and invoke the model on every sample with LiteRT; float (dequantized) outputs per sample.

    An input whose shape the model leaves open (a SavedModel's unknown batch) is resized to the sample's."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=model)
    interp.allocate_tensors()
    sig_in, sig_out = _signature_indices(interp)
    ins, outs = interp.get_input_details(), interp.get_output_details()
    in_order, out_order = _match(ins, input_names, sig_in), _match(outs, output_names, sig_out)
    if samples and any(tuple(ins[i]["shape"]) != arr.shape for arr, i in zip(samples[0], in_order)):
        for arr, idx in zip(samples[0], in_order):
            interp.resize_tensor_input(ins[idx]["index"], list(arr.shape))
        interp.allocate_tensors()
        ins, outs = interp.get_input_details(), interp.get_output_details()
    results: Samples = []
    for sample in samples:
        for arr, idx in zip(sample, in_order):
            interp.set_tensor(ins[idx]["index"], _quantize(arr, ins[idx]))
        interp.invoke()
        results.append([_dequantize(interp.get_tensor(outs[idx]["index"]), outs[idx]) for idx in out_order])
    return results, [ins[i] for i in in_order], [outs[i] for i in out_order]


def run_micro(model: bytes, samples: Samples, ins: list[TensorDetail]) -> None:
    """Allocate and invoke the model with TensorFlow Lite Micro's interpreter (raises what it raises)."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model)
    for sample in samples[:2]:
        for i, (arr, detail) in enumerate(zip(sample, ins)):
            interp.set_input(_quantize(arr, detail), i)
        interp.invoke()


def run_reference(tf: TFModule, path: str, samples: Samples, input_names: list[str], output_names: list[str],
                  repeats: list[bool] | None = None) -> Samples:
    """Run a frozen GraphDef with TensorFlow on every sample.

    With ``repeats`` (a list), the first sample runs once more and whether the outputs repeat is appended.
    """
    graph_def = tf.compat.v1.GraphDef()
    data = Path(path).read_bytes()
    try:
        graph_def.ParseFromString(data)
    except Exception:  # noqa: BLE001 - not binary: a text GraphDef
        from google.protobuf import text_format

        graph_def = text_format.Parse(data.decode("utf-8"), tf.compat.v1.GraphDef())
    # Only what the outputs depend on: a graph frozen with its training branch cannot even be imported, yet its
    # outputs are well defined.
    graph_def = tf.compat.v1.graph_util.extract_sub_graph(graph_def, sorted({_bare(n) for n in output_names}))
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    fetches = [_tensor(n) for n in output_names]
    present = {op.name for op in graph.get_operations()}
    with tf.compat.v1.Session(graph=graph) as sess:
        def run(sample: list[Array]) -> list[Array]:
            feed = {_tensor(n): a for n, a in zip(input_names, sample) if _bare(n) in present}
            return [np.asarray(v) for v in sess.run(fetches, feed)]

        outputs = [run(sample) for sample in samples]
        if repeats is not None and samples:  # the same input once more, in the same session
            repeats.append(all(np.array_equal(a, b) for a, b in zip(run(samples[0]), outputs[0])))
        return outputs


def run_saved_model(tf: TFModule, path: str, signature: str, samples: Samples, input_names: list[str],
                    output_names: list[str], repeats: list[bool] | None = None) -> Samples:
    """Run a SavedModel's signature with TensorFlow on every sample (inputs and outputs by the signature's
    names); ``repeats`` as :func:`run_reference`."""
    function = tf.saved_model.load(path).signatures[signature]

    def run(sample: list[Array]) -> list[Array]:
        result = function(**{name: tf.constant(a) for name, a in zip(input_names, sample)})
        return [np.asarray(result[_bare(n)]) for n in output_names]

    outputs = [run(sample) for sample in samples]
    if repeats is not None and samples:
        repeats.append(all(np.array_equal(a, b) for a, b in zip(run(samples[0]), outputs[0])))
    return outputs


def _tensor(name: str) -> str:
    return name if _bare(name) != name else f"{name}:0"


def compare(reference: Samples, converted: Samples, names: list[str]) -> list[OutputError]:
    """Per output: max abs error, mean abs error, cosine similarity and (for [N, C] outputs) top-1 agreement."""
    out: list[OutputError] = []
    for k, name in enumerate(names):
        ref = np.stack([np.asarray(s[k], dtype=np.float64) for s in reference])
        got = np.stack([np.asarray(s[k], dtype=np.float64).reshape(np.shape(s_ref[k]))
                        for s, s_ref in zip(converted, reference)])
        diff = np.abs(ref - got)
        a, b = ref.ravel(), got.ravel()
        na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
        cosine = 1.0 if na == nb == 0 else float(a @ b / (na * nb)) if na and nb else 0.0
        item: OutputError = {
            "name": name, "shape": list(ref.shape[1:]), "max_abs_error": float(diff.max()) if diff.size else 0.0,
            "mean_abs_error": float(diff.mean()) if diff.size else 0.0, "cosine": round(cosine, 6),
            "reference_range": [float(ref.min()), float(ref.max())] if ref.size else None,
        }
        if ref.ndim == 3 and ref.shape[-1] >= 2:  # a classifier: per sample [batch, classes]
            top_ref, top_got = ref.argmax(-1), got.argmax(-1)
            item["top1_agreement"] = float((top_ref == top_got).mean())
        out.append(item)
    return out


def debug_layers(tf: TFModule, job: Job, dataset: Dataset) -> list[LayerError]:
    """Per-layer error of the integer model against float, in the QuantizationDebugger's terms, worst first."""
    conv = make_converter(tf, job, dataset)
    debugger = tf.lite.experimental.QuantizationDebugger(converter=conv, debug_dataset=dataset)
    debugger.run()
    buf = io.StringIO()
    debugger.layer_statistics_dump(buf)
    layers: list[LayerError] = []
    for row in csv.DictReader(io.StringIO(buf.getvalue())):
        try:
            mse, scale = float(row["mean_squared_error"]), _first_float(row.get("scale") or row.get("scales"))
        except (KeyError, ValueError):
            continue
        if not scale or not math.isfinite(mse):
            continue
        rmse = math.sqrt(max(mse, 0.0))
        layers.append({"tensor": row.get("tensor_name", ""), "op": row.get("op_name", ""),
                       "rmse": rmse, "scale": scale, "rmse_per_scale": rmse / scale,
                       "max_abs_error": float(row.get("max_abs_error", "nan")),
                       "mean_error": float(row.get("mean_error", "nan"))})
    layers.sort(key=lambda x: (-x["rmse_per_scale"], x["tensor"]))
    for layer in layers[:_TOP_LAYERS]:
        layer["explanation"] = explain_layer(layer)
    return layers


def _first_float(text: str | None) -> float:
    if text is None:
        raise ValueError("no scale")
    cleaned = text.strip("[]() ").replace(",", " ").split()
    return float(cleaned[0]) if cleaned else 0.0


def explain_layer(layer: LayerError) -> str:
    """One plain sentence about how much a layer loses to quantization."""
    ratio = layer["rmse_per_scale"]
    text = (f"`{layer['tensor']}` ({layer['op']}) is off by {layer['rmse']:.3g} on average (RMS) against float, "
            f"{ratio:.2f} quantization steps of {layer['scale']:.3g}; rounding alone would give 0.29 steps")
    if ratio > 1.0:
        text += (". The loss is well beyond rounding: its value range is too wide for 8 bits, or its inputs already "
                 "arrive with error; keep this layer in float (int8-fallback with selective quantization) or "
                 "narrow its range")
    elif ratio > 0.5:
        text += ". The loss is moderate: errors from earlier layers add up here"
    return text + "."


# -- the job -------------------------------------------------------------------------------------------------

def _failure(kind: str, message: str, node: str | None = None, **extra: Any) -> Result:
    return {"status": "failed", "error": {"kind": kind, "message": message, "node": node, **extra}}


def run_job(job: Job, progress: Progress | None = None) -> Result:
    """Run one job; never raises (every failure is a structured result)."""
    progress = progress or (lambda fraction, stage: None)
    try:
        if job.get("kind") == "ranges":
            return measure_ranges(job)
        if job.get("kind") == "keras":
            return export_keras(job)
        if job.get("kind") == "verify":
            from graphlint.convert.judge import verify_job

            return verify_job(job)
        return _convert(job, progress)
    except MemoryError:
        return {**_failure("memory", "out of memory: the job exceeded the worker's memory cap"), "restart": True}
    except Exception as err:  # noqa: BLE001 - a job's failure is data for the caller
        tb = traceback.format_exception(type(err), err, err.__traceback__)
        return _failure("internal", f"{type(err).__name__}: {summarize(str(err))}", traceback="".join(tb[-4:]))


def _convert(job: Job, progress: Progress) -> Result:
    tf = _tf()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    names = [i["name"] for i in job["inputs"]]
    try:
        samples = calibration_samples(job.get("calibration") or {"kind": "random"}, job["inputs"])
    except (ValueError, OSError, KeyError) as err:
        return _failure("input", f"calibration data: {err}")

    dataset = representative(job, samples)
    progress(0.05, "convert")
    try:
        conv = make_converter(tf, job, dataset)
        model = conv.convert()
    except Exception as err:  # noqa: BLE001 - the converter's refusal is the result
        text = str(err)
        return _failure("converter", summarize(text), node_from_message(text), detail=text[-4000:],
                        timings_ms={"convert": (time.perf_counter() - start) * 1000})
    timings["convert"] = (time.perf_counter() - start) * 1000
    Path(job["out"]).write_bytes(model)
    result: Result = {"status": "ok", "error": None, "tflite_bytes": len(model), "timings_ms": timings}
    if not job.get("run", True):
        return result
    progress(0.45, "run")
    t = time.perf_counter()
    try:
        converted, ins, outs = run_tflite(model, samples, names, job["outputs"])
        if job["target"] == "tflm":
            run_micro(model, samples, ins)
    except Exception as err:  # noqa: BLE001 - a model that cannot run is the result
        text = str(err)
        runtime = "TensorFlow Lite Micro" if job["target"] == "tflm" else "LiteRT"
        result.update(_failure("runtime", f"{runtime} cannot allocate or invoke the model: {summarize(text)}",
                               node_from_message(text), detail=text[-4000:]))
        return result
    timings["run"] = (time.perf_counter() - t) * 1000
    result["io"] = {"inputs": [_detail_json(d) for d in ins], "outputs": [_detail_json(d) for d in outs]}
    if job.get("numeric", True):
        progress(0.6, "reference")
        t = time.perf_counter()
        result["numeric"] = _numeric(tf, job, samples, names, converted)
        timings["reference"] = (time.perf_counter() - t) * 1000
    if job.get("debugger", True) and job["target"] in CALIBRATED_TARGETS:
        progress(0.75, "per-layer error")
        t = time.perf_counter()
        result["layers"] = _layers(tf, job, model, samples, dataset)
        timings["debugger"] = (time.perf_counter() - t) * 1000
    return result


def _numeric(tf: TFModule, job: Job, samples: Samples, names: list[str], converted: Samples) -> NumericCheck:
    """How the converted model's outputs compare with the original graph's on ``samples``."""
    try:
        repeats: list[bool] = []
        if job.get("signature"):
            reference = run_saved_model(tf, job["model"], job["signature"], samples, names, job["outputs"],
                                        repeats)
        else:
            reference = run_reference(tf, job.get("reference") or job["model"], samples,
                                      [i.get("reference_name", i["name"]) for i in job["inputs"]],
                                      job.get("reference_outputs") or job["outputs"], repeats)
        deterministic = all(repeats)
        return {"samples": len(samples), "reference_deterministic": deterministic,
                "outputs": compare(reference, converted, job["outputs"])}
    except Exception as err:  # noqa: BLE001 - the check's own failure is reported, not raised
        return {"samples": len(samples), "error": summarize(str(err))}


def _layers(tf: TFModule, job: Job, model: bytes, samples: Samples, dataset: Dataset) -> LayersCheck:
    """The quantization debugger's per-layer error: the layer count and the worst layers."""
    try:
        layers = debug_layers(tf, job, _positional(model, job, samples) if job.get("signature") else dataset)
        return {"count": len(layers), "worst": layers[:_TOP_LAYERS]}
    except Exception as err:  # noqa: BLE001
        return {"error": summarize(str(err))}


def export_keras(job: Job) -> Result:
    """Trace the Keras file ``job["model"]`` (``.keras`` or ``.h5``) into a SavedModel at ``job["out"]`` with
    ``model.export``, as Keras writes one for TFLite; the result names its layers, outermost first."""
    tf = _tf()
    try:
        model = tf.keras.models.load_model(job["model"], compile=False)
    except Exception as err:  # noqa: BLE001 - a file Keras cannot read is the user's input, said in one line
        return _failure("input", f"Keras cannot read it: {type(err).__name__}: {summarize(str(err))}")
    try:
        model.export(job["out"], format="tf_saved_model", verbose=False)
    except Exception as err:  # noqa: BLE001
        return _failure("input", f"Keras cannot export it as a SavedModel: {type(err).__name__}: "
                                 f"{summarize(str(err))}")
    return {"status": "ok", "error": None, "layers": _layer_names(model)}


def _layer_names(model: KerasModel) -> list[str]:
    names: list[str] = []
    for layer in getattr(model, "layers", ()):
        names.append(layer.name)
        names.extend(_layer_names(layer))
    return names


def _detail_json(d: TensorDetail) -> IODetail:
    scale, zero = d["quantization"]
    return {"name": d["name"], "dtype": np.dtype(d["dtype"]).name, "shape": [int(x) for x in d["shape"]],
            "scale": float(scale), "zero_point": int(zero)}


def measure_ranges(job: Job) -> Result:
    """Min and max of the named tensors of a GraphDef over the calibration samples (for add-fake-quant)."""
    tf = _tf()
    samples = calibration_samples(job.get("calibration") or {"kind": "random"}, job["inputs"])
    values = run_reference(tf, job["model"], samples, [i["name"] for i in job["inputs"]], job["tensors"])
    ranges: dict[str, list[float]] = {}
    for k, name in enumerate(job["tensors"]):
        arrays = [np.asarray(s[k], dtype=np.float64) for s in values]
        ranges[name] = [min(float(a.min()) for a in arrays), max(float(a.max()) for a in arrays)]
    return {"status": "ok", "error": None, "ranges": ranges}


# -- process entry point ----------------------------------------------------------------------------------

def _cap_memory() -> None:
    megabytes = int(os.environ.get("GRAPHLINT_WORKER_MEMORY_MB") or 0)
    if megabytes > 0:
        limit = megabytes << 20
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> int:
    """Serve jobs until stdin closes."""
    _cap_memory()
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # whatever the converter's C++ code prints goes to stderr, never into the protocol
    sys.stdout = sys.stderr

    def send(message: dict[str, Any]) -> None:
        proto.write(json.dumps(message) + "\n")
        proto.flush()

    start = time.perf_counter()
    _tf()
    send({"type": "ready", "pid": os.getpid(), "import_s": round(time.perf_counter() - start, 3)})
    for line in sys.stdin:
        if not line.strip():
            continue
        job: Job = json.loads(line)
        job_id = job.get("id")

        def progress(fraction: float, stage: str, job_id: str | None = job_id) -> None:
            send({"type": "progress", "id": job_id, "fraction": fraction, "stage": stage})

        result = run_job(job, progress)
        send({"type": "result", "id": job_id, "result": result})
        if result.get("restart"):
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
