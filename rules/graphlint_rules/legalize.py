"""Which non-numeric tensor types the converter legalizes per op: string and complex tensors are not refused as
such; an op on them converts when its TFLite builtin takes that type.

Read from the operand type lists of ``tflite/converter/ir/tfl_ops.td`` (TF 2.21's converter): ``TFL_Str`` operands
on GATHER, GATHER_ND, EQUAL, NOT_EQUAL, FILL, SLICE, STRIDED_SLICE, TILE and the hash-table ops; ``AnyTensor`` on the
shape-only ops (RESHAPE, EXPAND_DIMS, SQUEEZE, SHAPE, RANK, BITCAST); complex64 on RFFT2D's output,
COMPLEX_ABS, REAL, IMAG and CAST (``tf.signal.rfft`` is rewritten to RFFT2D between an EXPAND_DIMS and a SQUEEZE).
The measured table has a case for several of them (``gather_string_labels``, ``string_reshape``,
``string_strided_slice``, ``string_tile``, ``string_equal``, ``rfft_magnitude``, ``complex_real_imag``); where a
node matches one, that measurement decides.
"""

from __future__ import annotations

_SHAPE_ONLY = frozenset({"Identity", "Reshape", "ExpandDims", "Squeeze", "Shape", "Rank", "Bitcast"})
_STRING = _SHAPE_ONLY | {"Gather", "GatherV2", "GatherNd", "Equal", "NotEqual", "Fill", "Slice", "StridedSlice",
                         "Tile", "LookupTableFindV2", "LookupTableImportV2"}
_COMPLEX = _SHAPE_ONLY | {"ComplexAbs", "Real", "Imag", "Cast"}
LEGALIZED: dict[str, frozenset[str]] = {"string": _STRING, "complex64": _COMPLEX}


def legalizes(op: str, dtype: str | None) -> bool:
    """True when the converter has a builtin for ``op`` on tensors of ``dtype`` (string or complex64)."""
    return op in LEGALIZED.get(dtype or "", ())
