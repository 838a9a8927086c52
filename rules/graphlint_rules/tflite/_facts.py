"""Facts about a converted ``.tflite`` model shared by the tflite rules: what computes in float, what kind of
quantization the model really has."""

from __future__ import annotations

from graphlint.ir import ModelGraph

FLOAT_TYPES = frozenset({"float32", "float16", "float64"})
BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})


def computes_in_float(model: ModelGraph, node: str) -> bool:
    """True when a non-boundary op reads or writes a float activation (constants do not count)."""
    if model.nodes[node]["op"] in BOUNDARY_OPS:
        return False
    tensors = [t for t in model.inputs_of(node) if not t.is_const] + model.outputs_of(node)
    return any(t.dtype in FLOAT_TYPES for t in tensors)


def is_hybrid(model: ModelGraph, node: str) -> bool:
    """A dynamic-range (hybrid) op: float activations with int8 constant weights."""
    inputs = model.inputs_of(node)
    return (any(t.is_const and t.dtype == "int8" for t in inputs)
            and any(not t.is_const and t.dtype == "float32" for t in inputs))


def quantization_kind(model: ModelGraph) -> str:
    """float | float16 | dynamic-range | full-integer | 16x8 | mixed (integer with float ops)."""
    ops = [n for n, a in model.ops()]
    if not ops:
        return "float"
    acts = {t.dtype for n in ops for t in (*model.inputs_of(n), *model.outputs_of(n)) if not t.is_const}
    floats = [n for n in ops if computes_in_float(model, n)]
    if "int16" in acts and not floats:
        return "16x8"
    if not floats:
        return "full-integer"
    if any(is_hybrid(model, n) for n in ops):
        return "dynamic-range"
    consts = {t.dtype for t in model.tensors.values() if t.is_const}
    if "float16" in consts and any(model.nodes[n]["op"] == "DEQUANTIZE" for n in ops):
        return "float16"
    if acts & {"int8", "uint8", "int16"} and len(floats) < len(ops):
        return "mixed"
    return "float"
