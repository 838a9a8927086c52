"""GraphDef wire schema, declared in Python so the lint path never needs TensorFlow.

Only the messages graphlint reads are declared. Field numbers and enum values are facts of the GraphDef
wire format (they are stable: TensorFlow never renumbers them); anything not declared here is kept by
the protobuf runtime as unknown fields and ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

Message = Any
"""A protobuf message: one of the classes below, or a descriptor message they are built from. protobuf ships no
type information, and these classes are made at import time from descriptors declared in Python, so no static
type describes their fields; this alias only says, in a signature, that a value is a message."""

_F = descriptor_pb2.FieldDescriptorProto
_OPT, _REP = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_PKG = "graphlint.tf"

# DataType enum of TensorFlow (types.proto). Values are wire facts; names match TensorFlow's spelling
# so text-format `.pbtxt` files parse.
DATA_TYPES: dict[str, int] = {
    "DT_INVALID": 0, "DT_FLOAT": 1, "DT_DOUBLE": 2, "DT_INT32": 3, "DT_UINT8": 4, "DT_INT16": 5,
    "DT_INT8": 6, "DT_STRING": 7, "DT_COMPLEX64": 8, "DT_INT64": 9, "DT_BOOL": 10, "DT_QINT8": 11,
    "DT_QUINT8": 12, "DT_QINT32": 13, "DT_BFLOAT16": 14, "DT_QINT16": 15, "DT_QUINT16": 16,
    "DT_UINT16": 17, "DT_COMPLEX128": 18, "DT_HALF": 19, "DT_RESOURCE": 20, "DT_VARIANT": 21,
    "DT_UINT32": 22, "DT_UINT64": 23, "DT_FLOAT8_E5M2": 24, "DT_FLOAT8_E4M3FN": 25,
    "DT_FLOAT8_E4M3FNUZ": 26, "DT_FLOAT8_E4M3B11FNUZ": 27, "DT_FLOAT8_E5M2FNUZ": 28, "DT_INT4": 29,
    "DT_UINT4": 30, "DT_INT2": 31, "DT_UINT2": 32,
}


def _field(name: str, number: int, kind: str, label: int = _OPT, type_name: str | None = None,
           packed: bool = False) -> Message:
    field = _F(name=name, number=number, label=label, type=getattr(_F, "TYPE_" + kind.upper()))
    if type_name:
        field.type_name = f".{_PKG}.{type_name}"
    if packed:
        field.options.packed = True
    return field


def _message(file: Message | None, name: str, fields: list[Message], nested: Sequence[Message] = (),
             oneofs: dict[str, list[str]] | None = None) -> Message:
    msg = file.message_type.add() if file is not None else descriptor_pb2.DescriptorProto()
    msg.name = name
    msg.nested_type.extend(nested)
    for index, (oneof, members) in enumerate((oneofs or {}).items()):
        msg.oneof_decl.add(name=oneof)
        for field in fields:
            if field.name in members:
                field.oneof_index = index
    msg.field.extend(fields)
    return msg


def _map_entry(name: str, value_kind: str, value_type: str | None = None) -> Message:
    entry = _message(None, name, [_field("key", 1, "string"), _field("value", 2, value_kind,
                                                                       type_name=value_type)])
    entry.options.map_entry = True
    return entry


def _build_file() -> Message:
    f = descriptor_pb2.FileDescriptorProto(name="graphlint/tf_graph.proto", package=_PKG, syntax="proto3")
    enum = f.enum_type.add(name="DataType")
    for name, number in DATA_TYPES.items():
        enum.value.add(name=name, number=number)

    _declare_tensors(f)
    _declare_attrs(f)
    _declare_graph(f)
    return f


def _declare_tensors(f: Message) -> None:
    """TensorShapeProto and TensorProto."""
    _message(f, "TensorShapeProto", [
        _field("dim", 2, "message", _REP, "TensorShapeProto.Dim"),
        _field("unknown_rank", 3, "bool"),
    ], nested=[_message(None, "Dim", [_field("size", 1, "int64"), _field("name", 2, "string")])])
    _message(f, "TensorProto", [
        _field("dtype", 1, "enum", type_name="DataType"),
        _field("tensor_shape", 2, "message", type_name="TensorShapeProto"),
        _field("version_number", 3, "int32"),
        _field("tensor_content", 4, "bytes"),
        _field("float_val", 5, "float", _REP, packed=True),
        _field("double_val", 6, "double", _REP, packed=True),
        _field("int_val", 7, "int32", _REP, packed=True),
        _field("string_val", 8, "bytes", _REP),
        _field("scomplex_val", 9, "float", _REP, packed=True),
        _field("int64_val", 10, "int64", _REP, packed=True),
        _field("bool_val", 11, "bool", _REP, packed=True),
        _field("dcomplex_val", 12, "double", _REP, packed=True),
        _field("half_val", 13, "int32", _REP, packed=True),
        _field("uint32_val", 16, "uint32", _REP, packed=True),
        _field("uint64_val", 17, "uint64", _REP, packed=True),
    ])


def _declare_attrs(f: Message) -> None:
    """AttrValue and the NameAttrList of its ``func`` values."""
    _message(f, "NameAttrList", [
        _field("name", 1, "string"),
        _field("attr", 2, "message", _REP, "NameAttrList.AttrEntry"),
    ], nested=[_map_entry("AttrEntry", "message", "AttrValue")])
    _message(f, "AttrValue", [
        _field("list", 1, "message", type_name="AttrValue.ListValue"),
        _field("s", 2, "bytes"),
        _field("i", 3, "int64"),
        _field("f", 4, "float"),
        _field("b", 5, "bool"),
        _field("type", 6, "enum", type_name="DataType"),
        _field("shape", 7, "message", type_name="TensorShapeProto"),
        _field("tensor", 8, "message", type_name="TensorProto"),
        _field("placeholder", 9, "string"),
        _field("func", 10, "message", type_name="NameAttrList"),
    ], nested=[_message(None, "ListValue", [
        _field("s", 2, "bytes", _REP),
        _field("i", 3, "int64", _REP, packed=True),
        _field("f", 4, "float", _REP, packed=True),
        _field("b", 5, "bool", _REP, packed=True),
        _field("type", 6, "enum", _REP, "DataType", packed=True),
        _field("shape", 7, "message", _REP, "TensorShapeProto"),
        _field("tensor", 8, "message", _REP, "TensorProto"),
        _field("func", 9, "message", _REP, "NameAttrList"),
    ])], oneofs={"value": ["list", "s", "i", "f", "b", "type", "shape", "tensor", "placeholder", "func"]})


def _declare_graph(f: Message) -> None:
    """NodeDef, the function library, GraphDef, and SavedModel's top level (to recognise one)."""
    _message(f, "NodeDef", [
        _field("name", 1, "string"),
        _field("op", 2, "string"),
        _field("input", 3, "string", _REP),
        _field("device", 4, "string"),
        _field("attr", 5, "message", _REP, "NodeDef.AttrEntry"),
    ], nested=[_map_entry("AttrEntry", "message", "AttrValue")])
    _message(f, "ArgDef", [
        _field("name", 1, "string"),
        _field("type", 3, "enum", type_name="DataType"),
        _field("type_attr", 4, "string"),
        _field("number_attr", 5, "string"),
        _field("type_list_attr", 6, "string"),
        _field("is_ref", 16, "bool"),
    ])
    _message(f, "OpDef", [
        _field("name", 1, "string"),
        _field("input_arg", 2, "message", _REP, "ArgDef"),
        _field("output_arg", 3, "message", _REP, "ArgDef"),
    ])
    _message(f, "FunctionDef", [
        _field("signature", 1, "message", type_name="OpDef"),
        _field("node_def", 3, "message", _REP, "NodeDef"),
        _field("ret", 4, "message", _REP, "FunctionDef.RetEntry"),
        _field("attr", 5, "message", _REP, "FunctionDef.AttrEntry"),
    ], nested=[_map_entry("RetEntry", "string"), _map_entry("AttrEntry", "message", "AttrValue")])
    _message(f, "FunctionDefLibrary", [_field("function", 1, "message", _REP, "FunctionDef")])
    _message(f, "VersionDef", [
        _field("producer", 1, "int32"),
        _field("min_consumer", 2, "int32"),
    ])
    _message(f, "GraphDef", [
        _field("node", 1, "message", _REP, "NodeDef"),
        _field("library", 2, "message", type_name="FunctionDefLibrary"),
        _field("versions", 4, "message", type_name="VersionDef"),
    ])
    # The top-level message of a SavedModel, declared only to recognise one and say so.
    _message(f, "SavedModel", [
        _field("saved_model_schema_version", 1, "int64"),
        _field("meta_graphs", 2, "bytes", _REP),
    ])


def _classes() -> dict[str, type[Message]]:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_build_file())
    names = ("GraphDef", "NodeDef", "AttrValue", "TensorProto", "TensorShapeProto", "FunctionDefLibrary",
             "VersionDef", "SavedModel")
    return {n: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PKG}.{n}")) for n in names}


_CLASSES = _classes()
GraphDef: type[Message] = _CLASSES["GraphDef"]
NodeDef: type[Message] = _CLASSES["NodeDef"]
AttrValue: type[Message] = _CLASSES["AttrValue"]
TensorProto: type[Message] = _CLASSES["TensorProto"]
TensorShapeProto: type[Message] = _CLASSES["TensorShapeProto"]
FunctionDefLibrary: type[Message] = _CLASSES["FunctionDefLibrary"]
VersionDef: type[Message] = _CLASSES["VersionDef"]
SavedModel: type[Message] = _CLASSES["SavedModel"]
