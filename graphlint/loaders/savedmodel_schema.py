"""SavedModel and tensor-bundle wire schema, declared in Python so the lint path never needs TensorFlow.

Only the fields the SavedModel loader reads are declared (``saved_model.proto``, ``meta_graph.proto``,
``saver.proto``, ``saved_object_graph.proto``, ``trackable_object_graph.proto``, ``tensor_bundle.proto``); field
numbers are facts of TensorFlow's wire format. Messages of the GraphDef schema (the graph, shapes) are declared as bytes
here and parsed with :mod:`graphlint.loaders.graphdef_schema`.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from .graphdef_schema import Message

_F = descriptor_pb2.FieldDescriptorProto
_OPT, _REP = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_PKG = "graphlint.tfsm"


def _field(name: str, number: int, kind: str, label: int = _OPT, type_name: str | None = None) -> Message:
    field = _F(name=name, number=number, label=label, type=getattr(_F, "TYPE_" + kind.upper()))
    if type_name:
        field.type_name = f".{_PKG}.{type_name}"
    return field


def _message(file: Message | None, name: str, fields: list[Message], nested: Sequence[Message] = ()) -> Message:
    msg = file.message_type.add() if file is not None else descriptor_pb2.DescriptorProto()
    msg.name = name
    msg.nested_type.extend(nested)
    msg.field.extend(fields)
    return msg


def _map_entry(name: str, value_type: str) -> Message:
    entry = _message(None, name, [_field("key", 1, "string"), _field("value", 2, "message", type_name=value_type)])
    entry.options.map_entry = True
    return entry


def _build_file() -> Message:
    f = descriptor_pb2.FileDescriptorProto(name="graphlint/tf_saved_model.proto", package=_PKG, syntax="proto3")
    _message(f, "TensorInfo", [
        _field("name", 1, "string"), _field("dtype", 2, "int32"), _field("tensor_shape", 3, "bytes"),
        _field("coo_sparse", 4, "bytes"), _field("composite_tensor", 5, "bytes"),
    ])
    _message(f, "SignatureDef", [
        _field("inputs", 1, "message", _REP, "SignatureDef.InputsEntry"),
        _field("outputs", 2, "message", _REP, "SignatureDef.OutputsEntry"),
        _field("method_name", 3, "string"),
    ], nested=[_map_entry("InputsEntry", "TensorInfo"), _map_entry("OutputsEntry", "TensorInfo")])
    _message(f, "SavedVariable", [_field("dtype", 1, "int32"), _field("shape", 2, "bytes"),
                                  _field("name", 6, "string")])
    _message(f, "SavedConstant", [_field("operation", 1, "string")])
    _message(f, "SavedObject", [
        _field("variable", 7, "message", type_name="SavedVariable"),
        _field("constant", 9, "message", type_name="SavedConstant"),
    ])
    _message(f, "SavedConcreteFunction", [_field("bound_inputs", 2, "int32", _REP)])
    _message(f, "SavedObjectGraph", [
        _field("nodes", 1, "message", _REP, "SavedObject"),
        _field("concrete_functions", 2, "message", _REP, "SavedObjectGraph.ConcreteFunctionsEntry"),
    ], nested=[_map_entry("ConcreteFunctionsEntry", "SavedConcreteFunction")])
    _message(f, "MetaInfoDef", [_field("tags", 4, "string", _REP)])
    _message(f, "SaverDef", [_field("restore_op_name", 3, "string")])
    _message(f, "MetaGraphDef", [
        _field("meta_info_def", 1, "message", type_name="MetaInfoDef"),
        _field("graph_def", 2, "bytes"),
        _field("saver_def", 3, "message", type_name="SaverDef"),
        _field("signature_def", 5, "message", _REP, "MetaGraphDef.SignatureDefEntry"),
        _field("object_graph_def", 7, "message", type_name="SavedObjectGraph"),
    ], nested=[_map_entry("SignatureDefEntry", "SignatureDef")])
    _message(f, "SavedModel", [
        _field("saved_model_schema_version", 1, "int64"),
        _field("meta_graphs", 2, "message", _REP, "MetaGraphDef"),
    ])
    # trackable_object_graph.proto: the object graph a TF2 checkpoint stores, with each variable's key.
    _message(f, "SerializedTensor", [_field("name", 1, "string"), _field("full_name", 2, "string"),
                                     _field("checkpoint_key", 3, "string")])
    _message(f, "TrackableObject", [_field("attributes", 2, "message", _REP, "SerializedTensor")])
    _message(f, "TrackableObjectGraph", [_field("nodes", 1, "message", _REP, "TrackableObject")])
    # tensor_bundle.proto: the entries of variables.index.
    _message(f, "BundleHeaderProto", [_field("num_shards", 1, "int32"), _field("endianness", 2, "int32")])
    _message(f, "BundleEntryProto", [
        _field("dtype", 1, "int32"), _field("shape", 2, "bytes"), _field("shard_id", 3, "int32"),
        _field("offset", 4, "int64"), _field("size", 5, "int64"), _field("crc32c", 6, "fixed32"),
        _field("slices", 7, "bytes", _REP),
    ])
    return f


def _classes() -> dict[str, type[Message]]:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_build_file())
    names = ("SavedModel", "MetaGraphDef", "SignatureDef", "TensorInfo", "SavedObjectGraph", "TrackableObjectGraph",
             "BundleHeaderProto", "BundleEntryProto")
    return {n: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PKG}.{n}")) for n in names}


_CLASSES = _classes()
SavedModel: type[Message] = _CLASSES["SavedModel"]
MetaGraphDef: type[Message] = _CLASSES["MetaGraphDef"]
SignatureDef: type[Message] = _CLASSES["SignatureDef"]
TensorInfo: type[Message] = _CLASSES["TensorInfo"]
SavedObjectGraph: type[Message] = _CLASSES["SavedObjectGraph"]
TrackableObjectGraph: type[Message] = _CLASSES["TrackableObjectGraph"]
BundleHeaderProto: type[Message] = _CLASSES["BundleHeaderProto"]
BundleEntryProto: type[Message] = _CLASSES["BundleEntryProto"]
