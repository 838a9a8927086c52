"""The protobuf wire format, scanned in place: what lets the GraphDef loader parse one node at a time.

A binary GraphDef is never parsed as one message. :func:`node_ranges` scans its top-level fields for each
``NodeDef``'s byte range, and :func:`parse_node` parses one range at a time, a large node without the values of
its tensor attrs (its weights). The varint reader is shared with the tensor-bundle index (``_bundle.py``), which
uses the same encoding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NoReturn

from google.protobuf.message import DecodeError

from . import LoadError, ModelBytes
from . import graphdef_schema as pb

WireBytes = ModelBytes | memoryview
"""What the scanners read: a model file's content, or a view of it (an index into any of them is an int)."""

Field = tuple[int, int, int, int]
"""A field found by the scan: ``(field number, wire type, value start, value end)``."""

Range = tuple[int, int]
"""A byte range ``(start, end)`` of the file."""


def read_varint(buf: WireBytes, pos: int, end: int) -> tuple[int, int]:
    """A protobuf varint at ``pos`` before ``end``: (value, next position)."""
    result = shift = 0
    while True:
        if pos >= end:
            raise LoadError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise LoadError("varint too long")


def field_at(buf: WireBytes, pos: int, end: int) -> Field:
    """The field whose key is at ``buf[pos]``: ``(field number, wire type, value start, value end)``."""
    key, pos = read_varint(buf, pos, end)
    number, wire = key >> 3, key & 7
    if number == 0:
        raise LoadError("field number 0")
    if wire == 0:
        _, after = read_varint(buf, pos, end)
    elif wire == 1:
        after = pos + 8
    elif wire == 2:
        length, pos = read_varint(buf, pos, end)
        after = pos + length
    elif wire == 5:
        after = pos + 4
    else:
        raise LoadError(f"unsupported wire type {wire}")
    if after > end:
        raise LoadError("truncated")
    return number, wire, pos, after


def scan_fields(buf: WireBytes, start: int = 0, end: int | None = None) -> Iterator[Field]:
    """Yield ``(field number, wire type, value start, value end)`` for a message's top-level fields."""
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        field = field_at(buf, pos, end)
        yield field
        pos = field[3]


# A NodeDef larger than this is parsed without the values of its tensor attrs (its weights): the IR keeps
# only their dtype and shape, and copying the values out of the file is most of the parse time of a
# large model. read_value parses the whole node again when a rule asks for the values.
_SKIP_VALUES_ABOVE = 1 << 16
# TensorProto fields that hold values. One is left out unparsed only when the full parse could not reject
# it: bytes (tensor_content, string_val), packed fixed-width numbers of a whole number of elements, or a
# single unpacked number (checked by scan_fields). A node with packed varints is parsed in full.
_VALUE_FIELDS = frozenset({4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17})
_BYTES_FIELDS = frozenset({4, 8})
_PACKED_WIDTH = {5: 4, 6: 8, 9: 4, 12: 8}  # float, double, complex64 (as floats), complex128 (as doubles)
# Where tensor attrs sit: NodeDef.attr (5) → AttrEntry.value (2) → AttrValue.tensor (8) → TensorProto.
_TENSOR_PATH = (5, 2, 8)


class _KeepValues(Exception):
    """A value field that only the full parse may judge: parse the node in full."""


def parse_node(view: memoryview, start: int, end: int) -> pb.Message:
    """Parse the NodeDef at ``view[start:end]``; a large one without the values of its tensor attrs."""
    if end - start > _SKIP_VALUES_ABOVE:
        try:
            return pb.NodeDef.FromString(_without_values(view, start, end, 0))
        except (LoadError, _KeepValues, DecodeError):
            pass  # the full parse below gives the result, or the error, it always gave
    return pb.NodeDef.FromString(view[start:end])


def _without_values(buf: WireBytes, start: int, end: int, depth: int) -> bytes:
    """Re-encode the message at ``buf[start:end]`` with the value fields of its tensor attrs left out.

    ``depth`` is how far along _TENSOR_PATH the message sits; fields off the path are copied byte for byte.
    """
    out = bytearray()
    field_start = start
    for number, wire, value_start, value_end in scan_fields(buf, start, end):
        key_start, field_start = field_start, value_end
        if depth == len(_TENSOR_PATH) and number in _VALUE_FIELDS:
            if wire == 2 and number not in _BYTES_FIELDS:
                width = _PACKED_WIDTH.get(number)
                if width is None or (value_end - value_start) % width:
                    raise _KeepValues
        elif depth < len(_TENSOR_PATH) and number == _TENSOR_PATH[depth] and wire == 2:
            body = _without_values(buf, value_start, value_end, depth + 1)
            out += _encode_varint(number << 3 | 2) + _encode_varint(len(body)) + body
        else:
            out += buf[key_start:value_end]
    return bytes(out)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_NODE_KEY = 1 << 3 | 2  # GraphDef.node: field 1, length-delimited


def node_ranges(data: WireBytes) -> tuple[list[Range], Range | None, int]:
    """Find each NodeDef's byte range, the library's range and the producer version."""
    nodes: list[Range] = []
    library = None
    producer = 0
    seen_other = False
    pos, size = 0, len(data)
    while pos < size:
        if data[pos] == _NODE_KEY:  # most fields: a node, its length read here without the generic path
            length, start = read_varint(data, pos + 1, size)
            pos = start + length
            if pos > size:
                raise LoadError("truncated")
            nodes.append((start, pos))
            continue
        number, wire, start, end = field_at(data, pos, size)
        pos = end
        if number == 1 and wire == 2:
            nodes.append((start, end))
        elif number == 2 and wire == 2:
            library = (start, end)
        elif number == 4 and wire == 2:
            producer = pb.VersionDef.FromString(memoryview(data)[start:end]).producer
        elif number in (1, 2, 4):
            _raise_not_graphdef(data)
        else:
            seen_other = True
    if not nodes and seen_other:
        _raise_not_graphdef(data)
    return nodes, library, producer


def _raise_not_graphdef(data: WireBytes) -> NoReturn:
    """Name what the file is when it is a protobuf but not a GraphDef."""
    fields: dict[int, int] = {}
    try:
        for number, wire, _, _ in scan_fields(data):
            fields.setdefault(number, wire)
    except LoadError:
        pass
    if all(fields.get(n) == 0 for n in range(1, 6)) and fields.get(6) == 2:
        raise LoadError("this is a SavedModel's fingerprint.pb, not a model; check the SavedModel directory that "
                        "holds it", "unsupported")
    # ONNX's ModelProto: ir_version, then strings (producer, version, domain), the graph and its opset imports
    if fields.get(1) == 0 and (fields.get(8) == 2 or fields.get(7) == 2) and all(
            fields.get(n, 2) == 2 for n in (2, 3, 4)):
        raise LoadError("this is an ONNX model, not a TensorFlow GraphDef", "unsupported")
    if fields.get(1) == 0 and fields.get(2) == 2:
        raise LoadError("this is a SavedModel's saved_model.pb, not a frozen graph; check it as saved_model.pb "
                        "in its directory, beside its variables/", "unsupported")
    raise LoadError("not a GraphDef")
