"""The worker side of ``graphlint check --verify``: judge one target with the real tools, as the corpus judge does.

A ``verify`` job (run by :func:`graphlint.convert.worker.run_job` in a conversion worker) converts a frozen
GraphDef or a SavedModel directory with the target's settings (``tflm`` with the int8 ones), or takes a
``.tflite`` as it is, and runs the result: in LiteRT for every target, in TensorFlow Lite Micro for ``tflm``.
The verdict follows ``scripts/judge_corpus.py`` and ``tests/corpus/build.py``: ``fail`` when the converter
refuses, or the runtime cannot allocate and invoke the model (a crash or a hang of the runtime included); ``warn``
when it runs but ops compute in float where the target promises integers, or it reads variables it never
assigns (no weights in the file); ``pass`` otherwise. The runtimes run
in a child process with a time limit, so a runtime that crashes or never returns is a verdict, not a lost worker.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphlint.convert.errors import node_from_message, summarize
from graphlint.engine.targets import INTEGER_CONVERTER_TARGETS
from graphlint.ir import ModelGraph
from graphlint.ops import reads_unset_variables

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess
    from multiprocessing.queues import Queue

    from .protocol import Job, Result
    from .worker import Samples

# Targets whose float ops make a model that runs a ``warn`` (the judge's ``float_fallback``); tflm is judged by
# TensorFlow Lite Micro alone.
FLOAT_OPS_WARN = INTEGER_CONVERTER_TARGETS
MICRO_ARENA_BYTES = 32 << 20  # the arena the corpus judge gives TensorFlow Lite Micro
RUN_TIMEOUT_S = 60.0
_FLOAT_TYPES = ("float32", "float16", "float64")
_BOUNDARY = ("QUANTIZE", "DEQUANTIZE")


_STARTED = "\0started"
STARTUP_TIMEOUT_S = 300.0  # starting Python and importing a runtime, on a machine that may be busy


def _child(queue: Queue[str | None], fn: Callable[..., object], args: tuple[Any, ...],
           modules: tuple[str, ...]) -> None:
    import importlib

    for module in modules:  # imported before the clock starts: a slow start is not a hang
        importlib.import_module(module)
    queue.put(_STARTED)
    try:
        fn(*args)
        queue.put(None)
    except Exception as exc:  # noqa: BLE001 - the runtime's failure is the measurement
        queue.put(f"{type(exc).__name__}: {exc}"[-4000:])


def _answer(proc: BaseProcess, queue: Queue[str | None], deadline: float) -> tuple[bool, str | None]:
    """(answered, message) once the child answers, dies or reaches ``deadline`` (monotonic)."""
    import queue as queues
    import time

    while time.monotonic() < deadline:
        try:
            return True, queue.get(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
        except queues.Empty:
            if not proc.is_alive():
                proc.join()
                try:  # it may have answered just before it ended
                    return True, queue.get(timeout=1)
                except queues.Empty:
                    return False, f"the interpreter died (exit code {proc.exitcode})"
    return False, None


def in_child(fn: Callable[..., object], *args: Any, modules: tuple[str, ...] = (),
             timeout: float = RUN_TIMEOUT_S) -> str | None:
    """Run ``fn(*args)`` in a child process: None when it returns, else what went wrong (crash and hang too).
    ``timeout`` counts from when the child has imported ``modules``.

    The child is spawned, not forked: a fork of a process that ran TensorFlow can inherit a lock one of its
    threads held and block, which would read as a runtime that never answers.
    """
    import time

    ctx = multiprocessing.get_context("spawn")
    queue: Queue[str | None] = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, fn, args, modules))
    proc.start()
    try:
        answered, message = _answer(proc, queue, time.monotonic() + STARTUP_TIMEOUT_S)
        if answered and message == _STARTED:
            answered, message = _answer(proc, queue, time.monotonic() + timeout)
            if not answered and message is None:
                return f"no answer within {timeout:g} s"
        elif not answered and message is None:
            return f"the runtime did not start within {STARTUP_TIMEOUT_S:g} s"
        return message
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def run_micro(model: bytes, samples: Samples) -> None:
    """Allocate and invoke ``model`` in TensorFlow Lite Micro on the first sample (inputs quantized by its own
    input details)."""
    from tflite_micro.python.tflite_micro import runtime

    from .worker import _quantize

    interp = runtime.Interpreter.from_bytes(model, arena_size=MICRO_ARENA_BYTES)
    for i, arr in enumerate(samples[0] if samples else []):
        detail = interp.get_input_details(i)
        q = detail["quantization_parameters"]
        scale = float(q["scales"][0]) if len(q["scales"]) else 0.0
        zero = int(q["zero_points"][0]) if len(q["zero_points"]) else 0
        value = _quantize(np.asarray(arr), {"dtype": detail["dtype"], "quantization": (scale, zero)})
        interp.set_input(value.reshape(detail["shape"]), i)
    interp.invoke()


def run_litert(model: bytes, samples: Samples, inputs: list[str], outputs: list[str]) -> None:
    """Allocate and invoke ``model`` in LiteRT on every sample."""
    from .worker import run_tflite

    run_tflite(model, samples, inputs, outputs)


def _tflite_graph(model: bytes) -> ModelGraph:
    from graphlint.loaders import load

    return load(model, name="model.tflite")


def float_ops(model: bytes | ModelGraph) -> list[str]:
    """Ops of a ``.tflite`` (its bytes or its loaded graph; QUANTIZE and DEQUANTIZE aside) that read or write a
    float tensor, as the judge counts them: one entry per op type, in order of appearance."""
    graph = model if isinstance(model, ModelGraph) else _tflite_graph(model)
    names: list[str] = []
    for node, attrs in graph.ops():
        tensors = [*graph.inputs_of(node), *graph.outputs_of(node)]
        if attrs["op"] not in _BOUNDARY and any(t is not None and t.dtype in _FLOAT_TYPES for t in tensors) \
                and attrs["op"] not in names:
            names.append(attrs["op"])
    return names


def _verdict(stage: str, actual: str, message: str | None = None, **extra: Any) -> Result:
    return {"status": "ok", "error": None, "stage": stage, "actual": actual, "message": message, **extra}


def _convert(job: Job, samples: Samples) -> bytes | Result:
    """The converted model, or the ``fail`` verdict of a converter that refuses."""
    from .worker import _tf, make_converter, representative

    tf = _tf()
    try:
        model: bytes = make_converter(tf, job, representative(job, samples)).convert()
    except Exception as err:  # noqa: BLE001 - the converter's refusal is the verdict
        text = str(err) or type(err).__name__
        return _verdict("convert", "fail", f"the converter refused: {summarize(text)}",
                        node=node_from_message(text), detail=text[-4000:])
    if job.get("out"):
        Path(job["out"]).write_bytes(model)
    return model


def verify_job(job: Job) -> Result:
    """Judge ``job["target"]`` for ``job["model"]`` (``job["tflite"]``: the file is already converted)."""
    from .worker import calibration_samples

    target = job["target"]
    samples = calibration_samples(job.get("calibration") or {"kind": "random", "samples": 8, "seed": 0},
                                  job["inputs"])
    done = "" if job.get("tflite") and not job.get("converted") else "the converter wrote it; "
    if job.get("tflite"):
        model = Path(job["model"]).read_bytes()
    else:
        converted = _convert(job, samples)
        if isinstance(converted, dict):  # the converter refused: that is the verdict
            return converted
        model = converted
    if target == "tflm":
        error = in_child(run_micro, model, samples, modules=("tflite_micro.python.tflite_micro.runtime",),
                         timeout=float(job.get("run_timeout", RUN_TIMEOUT_S)))
        if error:
            return _verdict("tflm", "fail", f"TensorFlow Lite Micro cannot allocate or invoke the model: "
                                            f"{summarize(error)}", node=node_from_message(error))
        return _verdict("tflm", "pass", f"{done}TensorFlow Lite Micro allocates and invokes the model")
    names = [i["name"] for i in job["inputs"]]
    error = in_child(run_litert, model, samples, names, job["outputs"], modules=("ai_edge_litert.interpreter",),
                     timeout=float(job.get("run_timeout", RUN_TIMEOUT_S)))
    if error:
        return _verdict("litert", "fail", f"LiteRT cannot allocate or invoke the model: {summarize(error)}",
                        node=node_from_message(error))
    graph = _tflite_graph(model)
    if reads_unset_variables(attrs["op"] for _, attrs in graph.ops()):
        text = (f"{done}LiteRT runs it, but it reads resource variables that no op of it assigns: the file holds "
                "no values for them (it computes without its weights)")
        return _verdict("litert", "warn", text, unset_variables=True)
    floats = float_ops(graph) if target in FLOAT_OPS_WARN else []
    if floats:
        text = (f"{done}LiteRT runs it, but {len(floats)} op type(s) compute in float although {target} promises "
                f"integers: {', '.join(floats[:8])}")
        return _verdict("litert", "warn", text, float_ops=floats)
    return _verdict("litert", "pass", f"{done}LiteRT allocates and invokes the model")
