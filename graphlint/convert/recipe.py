"""The I/O recipe of a converted model: how to feed it and how to read it, in numbers and paste-ready NumPy.

For every quantized input and output: the scale, the zero point, the float range the integer type covers and
the code that (de)quantizes. For the legacy uint8 path (``quantized_input_stats``): mean = the uint8 value that
represents 0.0 (an integer), std = 255 / (fmax - fmin), for a given float range. Also which ops of the model
compute in float (what "still computes in float32" means, per op). Reads the ``.tflite`` with graphlint's own
loader: no TensorFlow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, NotRequired, TypedDict

from graphlint.engine.targets import legacy_input_stats
from graphlint.ir import ModelGraph, TensorInfo

_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-(2 ** 31), 2 ** 31 - 1)}
_FLOAT = ("float32", "float16", "float64")


class LegacyStats(TypedDict):
    """``quantized_input_stats`` of the legacy uint8 converter for one input's float range."""

    mean: float
    std: float
    float_range: list[float]
    note: str  # how mean and std were derived


class RangeError(TypedDict):
    """Why no legacy stats follow from an input's range."""

    error: str


class Uint8Stats(TypedDict):
    """The (mean, std) a uint8 tensor's own quantization stands for."""

    mean: float
    std: float


class RecipeEntry(TypedDict):
    """How to feed one quantized input, or read one quantized output."""

    role: Literal["input", "output"]
    name: str  # the name the user feeds or reads it by
    tensor: str  # the tensor's own name
    dtype: str
    shape: list[int | None]
    scale: float
    zero_point: int
    float_range: list[float]
    step: float
    zero_exact: bool
    numpy: str  # paste-ready (de)quantize code
    legacy_input_stats: NotRequired[Uint8Stats]


class IORecipe(TypedDict):
    """The I/O recipe of a converted model."""

    tensors: list[RecipeEntry]
    numpy: str  # every entry's code, with the import
    quantized_input_stats: dict[str, LegacyStats | RangeError]
    float_io: list[str]  # inputs and outputs that stay float


class FloatOp(TypedDict):
    """An op of a ``.tflite`` that computes in float."""

    node: str
    op: str
    tensor: str
    dtype: str | None


def _legacy_stats(fmin: float, fmax: float) -> LegacyStats:
    """``quantized_input_stats`` (mean, std) of the legacy uint8 converter for the float range [fmin, fmax], as
    ``graphlint convert`` passes them, with how they were derived.

    Raises:
        ValueError: the range is empty or reversed.
    """
    mean, std = legacy_input_stats(fmin, fmax)
    return {"mean": mean, "std": round(std, 6), "float_range": [fmin, fmax],
            "note": f"mean = the uint8 value that represents 0.0, as an integer ({mean:g}); std = 255 / "
                    f"({fmax:g} - {fmin:g}) = {std:.6g}; real = (q - mean) / std"}


def _ident(name: str) -> str:
    text = re.sub(r"\W+", "_", name).strip("_").lower() or "tensor"
    return text if not text[0].isdigit() else f"t_{text}"


def _entry(role: Literal["input", "output"], tensor: TensorInfo, name: str) -> RecipeEntry | None:
    quant, dtype = tensor.quant, tensor.dtype
    if dtype is None or dtype not in _RANGES or quant is None or not quant.scale or quant.per_axis:
        return None
    scale, zero = float(quant.scale[0]), int(quant.zero_point[0])
    qmin, qmax = _RANGES[dtype]
    lo, hi = scale * (qmin - zero), scale * (qmax - zero)
    fn = _ident(name)
    np_type = f"np.{dtype}"
    plus_zero = f"+ {zero}" if zero >= 0 else f"- {-zero}"
    minus_zero = f"- {zero}" if zero >= 0 else f"+ {-zero}"
    if role == "input":
        code = (f"def quantize_{fn}(x):\n"
                f"    \"\"\"float -> {dtype} for input `{name}` (covers {lo:.6g} .. {hi:.6g}).\"\"\"\n"
                f"    q = np.round(np.asarray(x, np.float32) / {scale!r} {plus_zero})\n"
                f"    return np.clip(q, {qmin}, {qmax}).astype({np_type})\n")
    else:
        code = (f"def dequantize_{fn}(q):\n"
                f"    \"\"\"{dtype} -> float for output `{name}` (covers {lo:.6g} .. {hi:.6g}).\"\"\"\n"
                f"    return (np.asarray(q).astype(np.float32) {minus_zero}) * np.float32({scale!r})\n")
    entry: RecipeEntry = {"role": role, "name": name, "tensor": tensor.name, "dtype": dtype,
                          "shape": list(tensor.shape or ()), "scale": scale, "zero_point": zero,
                          "float_range": [lo, hi], "step": scale, "zero_exact": qmin <= zero <= qmax, "numpy": code}
    if dtype == "uint8":
        entry["legacy_input_stats"] = {"mean": float(zero), "std": round(1.0 / scale, 6)}
    return entry


def io_recipe(model: ModelGraph, input_ranges: Mapping[str, tuple[float, float]] | None = None,
              names: Mapping[str, str] | None = None) -> IORecipe:
    """The recipe for a loaded ``.tflite``: quantized inputs/outputs, NumPy code, legacy stats per range.

    ``names`` maps a tensor's name to the name the user feeds or reads it by (a model converted from a SavedModel:
    its signature's names); each entry has that ``name`` and the ``tensor``'s own."""
    names = names or {}
    sides: tuple[tuple[Literal["input", "output"], list[TensorInfo]], ...] = (
        ("input", model.input_tensors()), ("output", model.output_tensors()))
    entries = [e for role, tensors in sides for t in tensors if (e := _entry(role, t, names.get(t.name, t.name)))
               is not None]
    code = ""
    if entries:
        code = "import numpy as np\n\n\n" + "\n\n".join(e["numpy"] for e in entries)
    legacy: dict[str, LegacyStats | RangeError] = {}
    for name, (lo, hi) in sorted((input_ranges or {}).items()):
        try:
            legacy[name] = _legacy_stats(lo, hi)
        except ValueError as err:
            legacy[name] = {"error": str(err)}
    return {"tensors": entries, "numpy": code, "quantized_input_stats": legacy,
            "float_io": [t.name for t in (*model.input_tensors(), *model.output_tensors()) if t.dtype in _FLOAT]}


def float_ops(model: ModelGraph) -> list[FloatOp]:
    """Ops of a ``.tflite`` that compute in float: an output tensor of a float type (QUANTIZE and DEQUANTIZE at
    the model's float boundary only convert, they do not compute)."""
    found: list[FloatOp] = []
    for node, attrs in model.ops():
        if attrs["op"] in ("QUANTIZE", "DEQUANTIZE"):
            continue
        outs = [t for t in model.outputs_of(node) if t.dtype in _FLOAT]
        if outs:
            found.append({"node": node, "op": attrs["op"], "tensor": outs[0].name, "dtype": outs[0].dtype})
    return found
