"""The one adapter from a target's :class:`~graphlint.engine.targets.Recipe` to TensorFlow's TFLite converter.

The conversion worker, the probe script that measures the op table (``scripts/probe_ops.py``), the corpus judge
and the converter tests all build their converters here, so the table the rules trust was measured with the
settings ``graphlint convert`` runs. TensorFlow is passed in, never imported: this module is importable anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from graphlint.engine.targets import REGISTRY, legacy_input_stats

if TYPE_CHECKING:
    import numpy.typing as npt

# TensorFlow is imported lazily (in a conversion worker, or by the caller) and ships no type information: the
# module and the converters it makes are typed by these names alone.
TFModule = Any
Converter = Any
# One sample of a representative dataset: the arrays in input order (a frozen graph's converter), or keyed by the
# signature's input names (a SavedModel's, which feeds them by name).
Sample: TypeAlias = "list[npt.NDArray[Any]] | dict[str, npt.NDArray[Any]]"

DEFAULT_RANGE = (-1.0, 1.0)


def from_frozen_graph(tf: TFModule, path: str, inputs: Sequence[str], outputs: Sequence[str],
                      shapes: Mapping[str, Sequence[int]] | None) -> Converter:
    """``tf.compat.v1.lite.TFLiteConverter.from_frozen_graph`` as every graphlint conversion calls it."""
    return tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(path, list(inputs), list(outputs),
                                                               dict(shapes) if shapes else None)


def from_saved_model(tf: TFModule, path: str, signature: str) -> Converter:
    """``tf.lite.TFLiteConverter.from_saved_model`` for one signature, as every graphlint conversion of a
    SavedModel (a directory, an unpacked archive or a traced Keras file) calls it."""
    return tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=[signature])


def saved_model_refusal(target: str) -> str | None:
    """Why ``target``'s recipe cannot be applied to ``from_saved_model`` (None: it can).

    The legacy uint8 path (``inference_type`` + ``quantized_input_stats``) exists only on the v1 converter of a
    frozen graph; ``from_saved_model`` returns the v2 converter, which has no such setting.
    """
    recipe = REGISTRY[target].recipe
    if recipe is not None and recipe.inference_type:
        return (f"target `{target}` is the legacy converter's inference_type=tf.{recipe.inference_type} path, "
                "which TFLiteConverter.from_saved_model does not have; freeze the SavedModel to a .pb to convert "
                "it for this target")
    return None


def configure(tf: TFModule, converter: Converter, target: str, *, dataset: Callable[[], Iterable[Sample]] | None = None,
              float_inputs: Mapping[str, Sequence[float] | None] | None = None) -> Converter:
    """Apply ``target``'s recipe to ``converter`` and return it.

    Args:
        tf: the imported ``tensorflow`` module.
        converter: a v1 ``TFLiteConverter`` (:func:`from_frozen_graph`) or a v2 one (:func:`from_saved_model`).
        target: a target name with a recipe (``tflm`` converts as ``int8``).
        dataset: the representative dataset; used by calibrated recipes only.
        float_inputs: the float inputs and their value range (None: :data:`DEFAULT_RANGE`), for the legacy
            uint8 path's ``quantized_input_stats``; inputs of other types get none.

    Raises:
        ValueError: the target has no converter recipe (``gpu``), a calibrated recipe got no dataset, or a
            legacy recipe (``uint8-qat``) was asked of a v2 converter.
    """
    recipe = REGISTRY[target].recipe
    if recipe is None:
        raise ValueError(f"target `{target}` is a runtime, not a converter setting")
    if recipe.inference_type and not hasattr(converter, "quantized_input_stats"):
        raise ValueError(saved_model_refusal(target))
    if recipe.optimize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if recipe.calibrate:
        if dataset is None:
            raise ValueError(f"target `{target}` needs a representative dataset")
        converter.representative_dataset = dataset
    if recipe.supported_ops:
        converter.target_spec.supported_ops = [getattr(tf.lite.OpsSet, name) for name in recipe.supported_ops]
    if recipe.io_type:
        converter.inference_input_type = converter.inference_output_type = getattr(tf, recipe.io_type)
    if recipe.supported_types:
        converter.target_spec.supported_types = [getattr(tf, name) for name in recipe.supported_types]
    if recipe.inference_type:
        converter.inference_type = getattr(tf, recipe.inference_type)
        converter.quantized_input_stats = {name: legacy_input_stats(*(span or DEFAULT_RANGE))
                                           for name, span in (float_inputs or {}).items()}
    return converter
