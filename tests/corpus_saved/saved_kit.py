"""Builders of the SavedModel corpus: each case writes one SavedModel directory, as users write theirs.

A case is a ``probe_ops.Case`` with ``saved_model`` set, whose ``build(b, tf, out)`` runs eagerly and saves into
``out`` (Keras' ``model.export``, ``tf.saved_model.save`` of a ``tf.Module`` or of a Keras model, or a TF1
``SavedModelBuilder``), then calls :func:`record` with the inputs it feeds and the signature the corpus judges.
The probe's worker builds it (``probe_ops.build_saved_case``) and converts it with
``TFLiteConverter.from_saved_model``, as it does its own SavedModel cases; build.py runs :func:`build_case` for
the test. Weights come from the case's seed (``b.rng``; Keras' seeds through ``corpus_kit.reset_keras``), so the
judge and the test build the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from corpus_kit import Inp, reset_keras
from probe_ops import Case  # Built, GraphBuilder, InputSpec: defined after probe_ops loads these cases

if TYPE_CHECKING:
    from probe_ops import Built

DEFAULT_SIGNATURE = "serving_default"


def saved_case(case_id: str, build, note: str) -> Case:
    """A SavedModel case (uint8-qat is not judged on SavedModels, so there is no fake-quant variant)."""
    return Case(case_id, "savedmodel", build, note, qat_variant=False, saved_model=True)


def build_case(tf, case: Case, out: Path) -> Built:
    """Write the case's SavedModel into ``out`` (replacing what is there) and return what the judge feeds it."""
    from probe_ops import build_saved_case

    return build_saved_case(tf, case, out)


def record(b, tf, out: str, inputs: list[Inp], signature: str = DEFAULT_SIGNATURE) -> None:
    """Read back the saved signature and record its inputs, fed from ``inputs`` (matched by name), and outputs
    (``probe_ops.record_signature``)."""
    from probe_ops import InputSpec, record_signature

    specs = [InputSpec(i.name, i.dtype, i.declared, tuple(i.shape), i.low, i.high, i.choices) for i in inputs]
    record_signature(b, tf, out, specs, signature)


def _specs(tf, inputs: list[Inp]):
    return [tf.TensorSpec(i.declared or i.shape, tf.as_dtype(i.dtype), name=i.name) for i in inputs]


def save_functions(b, tf, out: str, obj, signatures: dict, judged: str = DEFAULT_SIGNATURE) -> None:
    """``tf.saved_model.save(obj)`` with ``signatures``: ``{key: (function of the inputs, [Inp])}``; the corpus
    judges the ``judged`` one."""
    concrete = {key: tf.function(fn).get_concrete_function(*_specs(tf, inputs))
                for key, (fn, inputs) in signatures.items()}
    tf.saved_model.save(obj, out, signatures=concrete)
    record(b, tf, out, signatures[judged][1], judged)


def export_keras(b, tf, out: str, make, inputs: list[Inp]) -> None:
    """A Keras model (``make(keras)``) written by ``model.export``, as Keras 3 writes a SavedModel for TFLite."""
    keras = reset_keras(b)
    model = make(keras)
    model.export(out, verbose=False)
    record(b, tf, out, inputs)


def tf_save_keras(b, tf, out: str, make, inputs: list[Inp]) -> None:
    """A Keras model (``make(keras)``) saved with ``tf.saved_model.save`` under a ``tf.Module``, with a serving
    signature that calls it with ``training=False``."""
    keras = reset_keras(b)
    holder = tf.Module()
    holder.model = make(keras)

    def serve(*xs):
        return {"output_0": holder.model(list(xs) if len(xs) > 1 else xs[0], training=False)}

    save_functions(b, tf, out, holder, {DEFAULT_SIGNATURE: (serve, inputs)})


def tf_save_keras_direct(b, tf, out: str, make, inputs: list[Inp]) -> None:
    """A Keras model (``make(keras)``) passed to ``tf.saved_model.save`` as it is, with the signature Keras
    traces for it (its input is named ``inputs``)."""
    keras = reset_keras(b)
    tf.saved_model.save(make(keras), out)
    record(b, tf, out, inputs)


def variable(b, tf, shape, scale: float = 0.5):
    """A float32 tf.Variable with seeded random values."""
    return tf.Variable((b.rng.standard_normal(shape) * scale).astype("float32"))
