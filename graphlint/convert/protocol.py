"""What the caller and a conversion worker say to each other: a job goes in as one JSON line, its result comes back
as another (:mod:`graphlint.convert.pool` sends, :mod:`graphlint.convert.worker` answers).

Types only: nothing here runs, so both sides import it without TensorFlow.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class InputSpec(TypedDict):
    """One model input as a worker feeds it."""

    name: str  # the tensor or signature input name (``name`` or ``name:k``)
    shape: list[int]  # fixed dims: an unknown one is given 1 or refused before the job is made
    dtype: str  # numpy's spelling (float32, int8, bool ...)
    range: list[float] | None  # [min, max] of random samples; None: settings.DEFAULT_RANGE
    reference_name: NotRequired[str]  # its name in the reference graph, when that differs from the converted one


class CalibrationSpec(TypedDict, total=False):
    """Where the calibration and test samples come from (see :func:`graphlint.convert.worker.calibration_samples`).

    ``random`` (seeded, ``samples`` of them, uniform in each input's range), ``npz`` (one file at ``path``) or
    ``dir`` (every ``.npz``, or ``.npy`` for a single input, in the directory at ``path``)."""

    kind: Literal["random", "npz", "dir"]
    samples: int
    seed: int
    path: str


class Job(TypedDict, total=False):
    """A job for a conversion worker. ``kind`` says what it does, and so which members it needs:

    * none (a conversion): ``model``, ``inputs``, ``outputs``, ``target``, ``out`` and ``calibration``, with
      ``signature`` for a SavedModel, ``reference`` / ``reference_outputs`` for the graph the numeric check runs,
      and ``run``, ``numeric``, ``debugger`` to leave stages out;
    * ``ranges``: ``model``, ``inputs``, ``tensors`` and ``calibration`` (min and max of each tensor);
    * ``keras``: ``model`` (a Keras file) and ``out`` (the SavedModel it is traced into);
    * ``verify``: as a conversion, plus ``tflite`` (the model is converted already), ``converted`` (by an
      earlier job) and ``run_timeout``.
    """

    id: str  # set by the pool
    kind: Literal["ranges", "keras", "verify"]
    model: str
    out: str
    target: str
    signature: str
    inputs: list[InputSpec]
    outputs: list[str]
    calibration: CalibrationSpec
    reference: str
    reference_outputs: list[str]
    run: bool
    numeric: bool
    debugger: bool
    tensors: list[str]
    tflite: bool
    converted: bool
    run_timeout: float


class OutputError(TypedDict):
    """How one output of the converted model compares with the original graph's (a conversion's
    ``numeric.outputs``)."""

    name: str
    shape: list[int]  # of one sample
    max_abs_error: float
    mean_abs_error: float
    cosine: float
    reference_range: list[float] | None  # [min, max] of the original's values
    top1_agreement: NotRequired[float]  # a classifier's [batch, classes] output: how often the top class agrees


class NumericCheck(TypedDict):
    """A conversion's ``numeric``: the converted model against the original graph on the same samples."""

    samples: int
    reference_deterministic: NotRequired[bool]  # the original gave the same outputs for the same input again
    outputs: NotRequired[list[OutputError]]
    error: NotRequired[str]  # the check itself could not run


class LayerError(TypedDict):
    """One layer's error in the QuantizationDebugger's terms (a conversion's ``layers.worst``)."""

    tensor: str
    op: str
    rmse: float
    scale: float
    rmse_per_scale: float  # the RMS error in quantization steps: 0.29 is rounding alone
    max_abs_error: float
    mean_error: float
    explanation: NotRequired[str]  # a plain sentence, for the worst layers


class LayersCheck(TypedDict):
    """A conversion's ``layers``: how many layers the debugger measured and the worst of them."""

    count: NotRequired[int]
    worst: NotRequired[list[LayerError]]
    error: NotRequired[str]  # the debugger could not run


class IODetail(TypedDict):
    """An input or output of the converted model as LiteRT fed or read it (a conversion's ``io``)."""

    name: str
    dtype: str
    shape: list[int]
    scale: float
    zero_point: int


# A job's result as it crosses the pipe: ``status`` ok | failed, ``error`` None or {kind, message, node, ...}, then
# members that depend on the job's kind (a conversion's timings, numbers and per-layer error; a verification's
# verdict; the pool's ``worker``). It is decoded JSON to its reader, who knows which members to expect.
Result = dict[str, Any]
