"""The conversion targets a report gives verdicts for (docs/design.md §3): the one place a target is defined.

A :class:`Target` holds its description, the converter settings that produce it (a :class:`Recipe`, plain data,
no TensorFlow here: :mod:`graphlint.convert.settings` applies it to a real converter), which runtimes judge it,
and whether it promises integer arithmetic. The engine, the rules, the conversion worker, the probe script that
measures the op table, the tests and the viewer (``GET /v1/targets``) all read this registry. Order here is
report order.
"""

from __future__ import annotations

import dataclasses
from typing import Any

# Optimisation op sets a recipe can ask for (names of ``tf.lite.OpsSet`` members).
BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
BUILTINS_16X8 = "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"

# Runtimes that judge a target (what "runs" means for it).
LITERT = "litert"
TFLM = "tflite-micro"
GPU_DELEGATE = "gpu-delegate"


@dataclasses.dataclass(frozen=True, slots=True)
class Recipe:
    """The settings of ``tf.compat.v1.lite.TFLiteConverter.from_frozen_graph`` (and, but for the legacy
    ``inference_type``, of ``tf.lite.TFLiteConverter.from_saved_model``) for one target.

    Attributes:
        optimize: ``optimizations=[tf.lite.Optimize.DEFAULT]``.
        calibrate: a representative dataset is given (full-integer or 16x8 quantization).
        supported_ops: names of ``tf.lite.OpsSet`` members for ``target_spec.supported_ops`` (empty: default).
        io_type: ``inference_input_type`` and ``inference_output_type`` (a ``tf`` dtype name), or None.
        supported_types: ``target_spec.supported_types`` (``tf`` dtype names).
        inference_type: the legacy path's ``inference_type`` (``uint8``), which needs ``quantized_input_stats``.
    """

    optimize: bool = False
    calibrate: bool = False
    supported_ops: tuple[str, ...] = ()
    io_type: str | None = None
    supported_types: tuple[str, ...] = ()
    inference_type: str | None = None

    def describe(self) -> str:
        """The settings in the converter's own words, e.g. ``optimizations=[Optimize.DEFAULT] + ...``."""
        parts = []
        if self.optimize:
            parts.append("optimizations=[Optimize.DEFAULT]")
        if self.calibrate:
            parts.append("representative_dataset")
        if self.supported_ops:
            parts.append(f"supported_ops=[{', '.join(self.supported_ops)}]")
        if self.io_type:
            parts.append(f"inference_input_type=inference_output_type=tf.{self.io_type}")
        if self.supported_types:
            parts.append(f"supported_types=[{', '.join('tf.' + t for t in self.supported_types)}]")
        if self.inference_type:
            parts.append(f"inference_type=tf.{self.inference_type} + quantized_input_stats")
        return " + ".join(parts) or "no optimizations"


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """One target: how a model is converted for it and what must run the result.

    Attributes:
        name: the target's name on the command line, in reports and in the measured table.
        description: one line for help texts and the viewer.
        recipe: the converter settings; None when the target is a runtime only (``gpu``).
        runtimes: what judges the converted model, in order (all must allocate and invoke it).
        integer: the target promises integer arithmetic, so an op left in float matters (a warning).
        fallback: ops without an integer kernel may stay float by design (``int8-fallback``): they are counted.
        converts_as: the target whose conversion this one runs (``tflm`` runs what ``int8`` writes).
    """

    name: str
    description: str
    recipe: Recipe | None
    runtimes: tuple[str, ...] = (LITERT,)
    integer: bool = False
    fallback: bool = False
    converts_as: str | None = None

    @property
    def converter(self) -> bool:
        """The target is a setting of the converter itself (measured per op in the table)."""
        return self.recipe is not None and self.converts_as is None

    def as_dict(self) -> dict[str, Any]:
        recipe = self.recipe.describe() if self.recipe else None
        return {"name": self.name, "description": self.description, "recipe": recipe,
                "runtimes": list(self.runtimes), "integer": self.integer, "fallback": self.fallback,
                "converts_as": self.converts_as}


_INT8 = Recipe(optimize=True, calibrate=True, supported_ops=(BUILTINS_INT8,), io_type="int8")

REGISTRY: dict[str, Target] = {t.name: t for t in (
    Target("float", "TFLite converter with no optimizations", Recipe()),
    Target("dynamic", "dynamic-range quantization: int8 weights, float activations", Recipe(optimize=True)),
    Target("int8", "full integer: every op int8, int8 input and output", _INT8, integer=True),
    Target("int8-fallback", "integer where possible, float fallback allowed", Recipe(optimize=True, calibrate=True),
           integer=True, fallback=True),
    Target("uint8-qat", "legacy fake-quant (quantization-aware) uint8 path", Recipe(inference_type="uint8"),
           integer=True),
    Target("int16x8", "16-bit activations, 8-bit weights",
           Recipe(optimize=True, calibrate=True, supported_ops=(BUILTINS_16X8,)), integer=True),
    Target("float16", "float16 weights", Recipe(optimize=True, supported_types=("float16",))),
    Target("tflm", "TensorFlow Lite Micro on a microcontroller, running what the int8 settings write", _INT8,
           runtimes=(TFLM,), integer=True, converts_as="int8"),
    Target("gpu", "the TFLite GPU delegate", None, runtimes=(GPU_DELEGATE,)),
)}

TARGETS: dict[str, str] = {name: t.description for name, t in REGISTRY.items()}
DEFAULT_TARGETS: tuple[str, ...] = ("float", "int8")
CONVERTER_TARGETS: tuple[str, ...] = tuple(name for name, t in REGISTRY.items() if t.converter)
INTEGER_TARGETS: tuple[str, ...] = tuple(name for name, t in REGISTRY.items() if t.integer)
INTEGER_ONLY_TARGETS: tuple[str, ...] = tuple(name for name, t in REGISTRY.items() if t.integer and not t.fallback)
CALIBRATED_TARGETS: tuple[str, ...] = tuple(name for name, t in REGISTRY.items() if t.recipe and t.recipe.calibrate)
# Targets a conversion here can judge: the converter's settings and what runs their output (``tflm``); not a
# runtime with no recipe of its own (``gpu``), which needs a device.
JUDGED_TARGETS: tuple[str, ...] = tuple(name for name, t in REGISTRY.items() if t.recipe is not None)
# Converter settings that promise integer arithmetic: an op a conversion leaves in float is worth naming there.
INTEGER_CONVERTER_TARGETS: tuple[str, ...] = tuple(name for name, t in REGISTRY.items() if t.integer and t.converter)


def check_targets(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The names as a tuple, in the order given.

    Raises:
        ValueError: a name is not a target (the message lists the known ones).
    """
    bad = [t for t in names if t not in REGISTRY]
    if bad:
        raise ValueError(f"unknown target `{bad[0]}` (known: {', '.join(REGISTRY)})")
    return tuple(names)


def legacy_input_stats(low: float, high: float) -> tuple[float, float]:
    """``quantized_input_stats`` ``(mean, std)`` of the legacy uint8 path for the float range [low, high].

    mean is the uint8 value that represents 0.0, nudged to an integer in 0..255 as FakeQuant nudges its zero
    point (the converter's zero point is an integer); std = 255 / (high - low).

    Raises:
        ValueError: the range is empty or reversed.
    """
    if not high > low:
        raise ValueError(f"the float range {low}..{high} is empty")
    scale = (high - low) / 255.0
    return float(min(max(round(-low / scale), 0), 255)), 1.0 / scale
