"""TensorFlow tensors as graphlint reads them: dtype names and sizes, and the values a ``TensorProto`` holds.

:data:`DTYPES` names TensorFlow's ``DataType`` numbers as numpy does (``float32``, ``int8`` ...);
:func:`tensor_value` decodes a ``TensorProto`` (of :mod:`graphlint.loaders.graphdef_schema`) into a numpy array,
and :func:`tensor_list` into plain Python, without importing numpy for the small operands shape inference reads.
The loaders, the fix engine and the test builders all read tensors through this module.
"""

from __future__ import annotations

import array
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from graphlint.ir import Shape

from . import graphdef_schema as pb

if TYPE_CHECKING:
    import numpy.typing as npt

PlainValue = Any
"""A tensor's value as plain Python, as ``ndarray.tolist()`` gives it: a scalar, or lists nested as deep as its
rank, of the Python type its dtype decodes to. What a file holds decides its shape and types, so code that reads
one lets a value it cannot use raise (and catches that) rather than checking every element."""

_DTYPE_NAMES = {
    "DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_INT32": "int32", "DT_UINT8": "uint8", "DT_INT16": "int16",
    "DT_INT8": "int8", "DT_STRING": "string", "DT_COMPLEX64": "complex64", "DT_INT64": "int64", "DT_BOOL": "bool",
    "DT_QINT8": "qint8", "DT_QUINT8": "quint8", "DT_QINT32": "qint32", "DT_BFLOAT16": "bfloat16",
    "DT_QINT16": "qint16", "DT_QUINT16": "quint16", "DT_UINT16": "uint16", "DT_COMPLEX128": "complex128",
    "DT_HALF": "float16", "DT_RESOURCE": "resource", "DT_VARIANT": "variant", "DT_UINT32": "uint32",
    "DT_UINT64": "uint64", "DT_INT4": "int4", "DT_UINT4": "uint4",
}
# Reference dtypes (DT_FLOAT_REF = DT_FLOAT + 100) appear on unfrozen variables.
DTYPES: dict[int, str] = {num: _DTYPE_NAMES.get(name, name[3:].lower()) for name, num in pb.DATA_TYPES.items()}
DTYPES.update({num + 100: f"{DTYPES[num]}_ref" for num in list(DTYPES) if num})

# Bytes per element of the dtypes whose size is fixed. Keyed by a dtype name or None (an unknown dtype, as
# DTYPES.get gives it), which has no size.
ITEMSIZE: Mapping[str | None, int] = {
    "float32": 4, "float64": 8, "int32": 4, "uint8": 1, "int16": 2, "int8": 1, "int64": 8, "bool": 1, "float16": 2,
    "bfloat16": 2, "uint16": 2, "uint32": 4, "uint64": 8, "complex64": 8, "complex128": 16,
}


def nbytes(dtype: str | None, shape: Shape) -> int | None:
    """Bytes a tensor of ``dtype`` and ``shape`` holds; None when a dim or the dtype's size is unknown."""
    if shape is None or None in shape or dtype not in ITEMSIZE:
        return None
    n = 1
    for d in cast("tuple[int, ...]", shape):  # every dim is known: checked above
        n *= d
    return n * ITEMSIZE[dtype]


def proto_shape(proto: pb.Message) -> Shape:
    """A ``TensorShapeProto`` as a shape (a negative dim is an unknown one)."""
    if proto.unknown_rank:
        return None
    return tuple([size if size >= 0 else None for size in [d.size for d in proto.dim[:]]])


def tensor_value(proto: pb.Message) -> npt.NDArray[Any]:
    """Decode a TensorProto into a numpy array (from ``tensor_content`` or the typed value fields)."""
    import numpy as np

    dtype_name = DTYPES.get(proto.dtype)
    # A TensorProto's dims are all known: one a file gives as unknown (negative) makes numpy raise below.
    shape = cast("tuple[int, ...]", proto_shape(proto.tensor_shape) or ())
    if dtype_name == "string":
        arr = np.array(list(proto.string_val), dtype=object)
        return arr.reshape(shape) if arr.size == int(np.prod(shape)) else arr
    np_dtype = np.dtype("float16" if dtype_name == "bfloat16" else dtype_name)
    count = int(np.prod(shape)) if shape else 1
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=np_dtype).reshape(shape)
    field = _TYPED_FIELDS.get(dtype_name, "int_val")
    values = list(getattr(proto, field))
    if dtype_name == "float16":
        arr = np.array(values, dtype=np.uint16).view(np.float16)
    else:
        arr = np.array(values, dtype=np_dtype)
    if arr.size == 0:
        return np.zeros(shape, dtype=np_dtype)
    if arr.size < count:  # TensorFlow repeats the last value to fill the shape
        arr = np.concatenate([arr, np.full(count - arr.size, arr[-1], dtype=arr.dtype)])
    return arr[:count].reshape(shape)


# The typed-value field of each dtype (int_val for the others).
_TYPED_FIELDS: Mapping[str | None, str] = {
    "float32": "float_val", "float64": "double_val", "int64": "int64_val", "bool": "bool_val", "float16": "half_val",
    "bfloat16": "half_val", "uint32": "uint32_val", "uint64": "uint64_val", "complex64": "scomplex_val",
    "complex128": "dcomplex_val",
}

# Typed-value field and array typecode of the dtypes tensor_list decodes itself (typecodes by item size, so
# they match numpy's on any platform; a dtype whose typecode has another size is left to numpy).
_LIST_FIELDS: Mapping[str | None, tuple[str, int]] = {
    "int32": ("int_val", 4), "int64": ("int64_val", 8), "float32": ("float_val", 4), "float64": ("double_val", 8)}
_TYPECODES: Mapping[str | None, str] = {
    name: code for name, code in (("int32", "i"), ("int64", "q"), ("float32", "f"), ("float64", "d"))
    if array.array(code).itemsize == _LIST_FIELDS[name][1]}


def tensor_list(proto: pb.Message) -> PlainValue:
    """``tensor_value(proto).tolist()``, without importing numpy for the common case.

    Shape inference reads only small operands (shape vectors, axes, paddings): 32/64-bit ints or floats of
    rank 0 to 2. Importing numpy costs more than loading a typical model, so those are decoded here; every
    other case goes through :func:`tensor_value` and gives exactly what it gives (or raises what it raises).
    """
    dtype_name = DTYPES.get(proto.dtype)
    shape = proto_shape(proto.tensor_shape) or ()
    code = _TYPECODES.get(dtype_name)
    if code is None or len(shape) > 2 or None in shape or 0 in shape:
        return tensor_value(proto).tolist()
    fields, dims = _LIST_FIELDS[dtype_name], cast("tuple[int, ...]", shape)  # every dim is known: checked above
    count = 1
    for d in dims:
        count *= d
    content = proto.tensor_content
    if content:
        if len(content) != count * fields[1]:  # numpy refuses it: let it say so
            return tensor_value(proto).tolist()
        flat = array.array(code, content).tolist()
    else:
        flat = list(getattr(proto, fields[0]))
        if not flat:
            flat = [0 if code in "iq" else 0.0] * count
        elif len(flat) < count:  # TensorFlow repeats the last value to fill the shape
            flat += [flat[-1]] * (count - len(flat))
        flat = flat[:count]
    if not dims:
        return flat[0]
    if len(dims) == 1:
        return flat
    cols = dims[1]
    return [flat[i:i + cols] for i in range(0, count, cols)]
