"""SavedModel directory → :class:`~graphlint.ir.ModelGraph`, read without TensorFlow.

The IR is what the converter sees once it has frozen the SavedModel (``from_saved_model`` inlines the signature's
function and turns variable reads into constants): the loader rewrites the SavedModel into a frozen GraphDef and
builds the IR from that with the GraphDef loader, so every rule reads the same ops it reads in a ``.pb``.

* The signature (``serving_default`` unless asked) names its inputs and outputs: each input becomes a
  ``Placeholder`` named as the signature names it, with the signature's dtype and shape; each output an
  ``Identity`` of that name.
* The function behind the signature (the ``StatefulPartitionedCall`` / ``PartitionedCall`` its outputs come
  from) is inlined with every function it calls the same way, each call's nodes under ``<call node>/``.
  Functions referenced by control flow (``While`` bodies, ``If`` branches) stay in the library.
* Captured resource variables (the call's trailing inputs; ``SavedConcreteFunction.bound_inputs`` names their
  objects, and the checkpoint's object graph their keys) become constants: each ``ReadVariableOp`` of one is a
  ``Const`` with the dtype and shape from ``variables/variables.index``. Their values are read from
  ``variables.data-*`` only when a rule asks (``model.value``). A ``ResourceGather`` of one is a ``GatherV2`` of
  that constant (axis 0), as the converter's freezing rewrites it. A variable used otherwise (assigned, say) is
  left as a ``VarHandleOp``, as an unfrozen graph has it. So is a captured variable the checkpoint's TF2 saver is
  never given (a Keras 3 model written by ``tf.saved_model.save``), with its reads kept: the converter restores
  through the saver and cannot freeze it (``ModelInfo.unrestored_variables``, GL105). A captured lookup table
  (``HashTableV2``) stays a table.
  Control flow stays functional (a ``While`` or ``If`` calls its functions, copied into the library), as
  ``from_saved_model`` imports it; variables it is given become constants.
* A TF1 SavedModel (its signature reads the outer graph, not a function call) is frozen as
  ``convert_variables_to_constants`` does: the nodes the outputs depend on, each variable a ``Const`` (its
  checkpoint key is its node name), each ``ReadVariableOp`` an ``Identity``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypedDict, Unpack

from graphlint.ir import ModelGraph, Shape, TensorInfo

from . import BudgetExceeded, LoadError, ModelBytes, check_nodes
from . import graphdef_schema as gpb
from . import savedmodel_schema as spb
from ._bundle import Bundle, Entry
from .graphdef import OUTPUT_ARGS, load_graphdef
from .graphdef_schema import Message
from .tensors import DTYPES, ITEMSIZE

DEFAULT_SIGNATURE = "serving_default"
MAX_PROTO_BYTES = 1 << 30  # saved_model.pb larger than this is refused (protobuf's own limit is 2 GB)
_CALLS = frozenset({"StatefulPartitionedCall", "PartitionedCall"})
# Outer-graph nodes a signature's function may capture and the frozen graph keeps: constants and lookup tables.
_CAPTURABLE = frozenset({"Const", "HashTableV2", "MutableHashTableV2", "MutableHashTableOfTensorsV2",
                         "MutableDenseHashTableV2"})
# Ops that name functions in their attrs (besides calls to a library function by name): what they name is copied
# into the frozen graph's library.
_FUNC_OPS = frozenset({"If", "StatelessIf", "_If", "While", "StatelessWhile", "_While", "Case", "StatelessCase",
                       "For", "RemoteCall", "SymbolicGradient", "PartitionedCall", "StatefulPartitionedCall",
                       "MapDefun", "TPUPartitionedCall", "BatchFunction"})
_INIT_SIGNATURE = "__saved_model_init_op"
# Control flow that takes variables as inputs: first data input that is an argument, the type-list attr, and
# the functions it calls.
_LOOPS = {"While": (0, "T", ("cond", "body")), "StatelessWhile": (0, "T", ("cond", "body")),
          "If": (1, "Tin", ("then_branch", "else_branch")),
          "StatelessIf": (1, "Tin", ("then_branch", "else_branch"))}
_EMBED_INTS = 4096  # int variables up to this many bytes are written into the graph (shape operands)
_MAX_DEPTH = 64  # nested function calls


class SavedModelOptions(TypedDict):
    """How to read a SavedModel, as :func:`graphlint.loaders.load` passes it on (for a Keras file too)."""

    signature: str
    input_shapes: Mapping[str, Shape] | None
    max_nodes: int | None


def is_savedmodel_dir(path: str) -> bool:
    """A directory that holds ``saved_model.pb``."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, "saved_model.pb"))


@dataclasses.dataclass
class _Sources:
    """What a SavedModel directory holds, parsed."""

    meta: Message  # MetaGraphDef
    graph: Message  # GraphDef
    bundle: Bundle | None
    keys: dict[int, str]  # object id -> checkpoint key of its VARIABLE_VALUE


def _read_meta(root: str, path: str) -> tuple[Message, bytes]:
    pb_path = os.path.join(root, "saved_model.pb")
    size = os.path.getsize(pb_path)
    if size == 0:
        raise LoadError(f"{path}: saved_model.pb is empty", "empty")
    if size > MAX_PROTO_BYTES:
        raise LoadError(f"{path}: saved_model.pb is larger than {MAX_PROTO_BYTES >> 20} MB", "too-large")
    with open(pb_path, "rb") as fh:
        data = fh.read()
    try:
        saved = spb.SavedModel.FromString(data)
    except Exception:  # noqa: BLE001 - any decode failure is a corrupt file
        raise LoadError(f"{path}: saved_model.pb is not a valid SavedModel") from None
    # the serving graph, as from_saved_model loads it (tag "serve"), else the only one
    metas = [m for m in saved.meta_graphs if "serve" in m.meta_info_def.tags] or list(saved.meta_graphs[:1])
    if not metas or not metas[0].graph_def:
        raise LoadError(f"{path}: saved_model.pb holds no graph", "empty")
    return metas[0], data


def _read_sources(root: str, path: str) -> tuple[_Sources, bytes]:
    meta, data = _read_meta(root, path)
    try:
        graph = gpb.GraphDef.FromString(meta.graph_def)
    except Exception:  # noqa: BLE001
        raise LoadError(f"{path}: saved_model.pb holds a graph that cannot be read") from None
    prefix = os.path.join(root, "variables", "variables")
    needs_vars = any(n.op in ("VarHandleOp", "VariableV2") for n in graph.node)
    bundle: Bundle | None = None
    keys: dict[int, str] = {}
    if needs_vars:
        if not os.path.isdir(os.path.join(root, "variables")):
            raise LoadError(f"{path}: the SavedModel has variables but no variables/ directory", "missing")
        if not os.path.isfile(prefix + ".index"):
            raise LoadError(f"{path}: variables/variables.index is missing", "missing")
        try:
            bundle = Bundle(prefix)
        except LoadError as err:
            raise LoadError(f"{path}: variables/variables.index: {err}", err.kind) from None
        keys = _checkpoint_keys(bundle, path)
    return _Sources(meta, graph, bundle, keys), data


def _restored_handles(meta: Message, nodes: Mapping[str, Message]) -> frozenset[str] | None:
    """The VarHandleOps a TF2 saver's restore function is given (``saver_def.restore_op_name`` names a call), or
    None when the saver is another kind (a TF1 ``save/restore_all``) or absent.

    Keras 3 models written by ``tf.saved_model.save`` capture one set of handles in their functions and give the
    saver copies of them (``Variable``, ``Variable_1``, ...): the converter, which restores the checkpoint through
    the saver, finds the captured ones never set and keeps them as resource variables without values.
    """
    restore = _tensor_ref(meta.saver_def.restore_op_name)[0] if meta.saver_def.restore_op_name else ""
    call = nodes.get(restore)
    if call is None or call.op not in _CALLS:
        return None
    handles = frozenset(name for name in (_tensor_ref(i)[0] for i in call.input if not i.startswith("^"))
                        if name in nodes and nodes[name].op == "VarHandleOp")
    return handles or None


def _checkpoint_keys(bundle: Bundle, path: str) -> dict[int, str]:
    """Object id → checkpoint key, from the object graph the checkpoint stores (ids shared with the SavedModel's)."""
    try:
        raw = bundle.string("_CHECKPOINTABLE_OBJECT_GRAPH")
        graph = spb.TrackableObjectGraph.FromString(raw) if raw is not None else None
    except LoadError as err:
        raise LoadError(f"{path}: the checkpoint's object graph cannot be read ({err})") from None
    except Exception:  # noqa: BLE001
        raise LoadError(f"{path}: the checkpoint's object graph cannot be read") from None
    keys: dict[int, str] = {}
    for node_id, node in enumerate(graph.nodes if graph is not None else ()):
        for attr in node.attributes:
            if attr.name == "VARIABLE_VALUE":
                keys[node_id] = attr.checkpoint_key
    return keys


def _signature(meta: Message, name: str, path: str) -> Message:
    available = sorted(k for k in meta.signature_def if k != _INIT_SIGNATURE)
    if name not in meta.signature_def or name == _INIT_SIGNATURE:
        listed = ", ".join(available) if available else "none"
        raise LoadError(f"{path}: no signature `{name}` (the SavedModel has: {listed}; pick one with --signature)",
                        "missing")
    return meta.signature_def[name]


def _tensor_ref(name: str) -> tuple[str, int]:
    head, _, tail = name.rpartition(":")
    return (head, int(tail)) if head and tail.isdigit() else (name, 0)


def _shape_of(raw: bytes) -> Shape:
    proto = gpb.TensorShapeProto.FromString(raw)
    if proto.unknown_rank:
        return None
    return tuple(d.size if d.size >= 0 else None for d in proto.dim)


class _Inliner:
    """Writes the frozen GraphDef: inlined calls, variables as constants."""

    def __init__(self, src: _Sources, path: str, max_nodes: int | None) -> None:
        self.src = src
        self.path = path
        self.max_nodes = max_nodes
        self.library = {f.signature.name: f for f in src.graph.library.function}
        self.outer = {n.name: n for n in src.graph.node}
        self.restored = _restored_handles(src.meta, self.outer)  # None: every captured variable counts as restored
        self.entries: Mapping[str, Entry] = src.bundle.entries if src.bundle is not None else {}
        self.out = gpb.GraphDef()
        self.names: set[str] = set()
        # Const node name -> bundle entry. Looked up by a tensor's producer, which is None for a tensor that
        # nothing produces.
        self.variables: dict[str | None, Entry] = {}
        self.outer_calls: dict[str, list[str]] = {}
        self.copied_outer: set[str] = set()
        self.frozen_functions: dict[str, dict[int, int]] = {}  # function -> argument index -> variable dtype
        self.referenced: list[str] = []  # functions named by the copied nodes' attrs
        self.unrestored: list[str] = []  # VarHandleOps emitted for captured variables the checkpoint never fills

    # -- emitting ------------------------------------------------------------------------------------------
    def emit(self, node: Message) -> None:
        if node.name in self.names:
            raise LoadError(f"{self.path}: not a valid SavedModel (two inlined nodes are named `{node.name}`)")
        self.names.add(node.name)
        self.out.node.append(node)
        check_nodes(self.path, len(self.out.node), self.max_nodes)

    def emit_copy(self, node: Message, name: str) -> Message:
        """Add a copy of ``node`` named ``name`` to the output graph and return it."""
        if name in self.names:
            raise LoadError(f"{self.path}: not a valid SavedModel (two inlined nodes are named `{name}`)")
        self.names.add(name)
        new = self.out.node.add()
        new.CopyFrom(node)
        new.name = name
        check_nodes(self.path, len(self.out.node), self.max_nodes)
        if node.op in _FUNC_OPS or node.op in self.library:
            self.referenced += _funcs_of(node.attr)
        return new

    def placeholder(self, key: str, info: Message, shape: Shape) -> None:
        node = gpb.NodeDef(name=key, op="Placeholder")
        node.attr["dtype"].type = info.dtype
        if shape is not None:
            for dim in shape:
                node.attr["shape"].shape.dim.add(size=-1 if dim is None else dim)
        else:
            node.attr["shape"].shape.unknown_rank = True
        self.emit(node)

    def variable_const(self, name: str, key: str) -> None:
        bundle, entry = self.src.bundle, self.entries.get(key)
        if entry is None or bundle is None:  # entries come only from a bundle
            raise LoadError(f"{self.path}: variable `{key}` is not in variables/variables.index", "missing")
        try:
            bundle.check(entry, ITEMSIZE.get(DTYPES.get(entry.dtype)))
        except LoadError as err:
            raise LoadError(f"{self.path}: variables/variables.index: {err}") from None
        node = gpb.NodeDef(name=name, op="Const")
        node.attr["dtype"].type = entry.dtype
        tensor = node.attr["value"].tensor
        tensor.dtype = entry.dtype
        for dim in entry.shape or ():
            tensor.tensor_shape.dim.add(size=dim)
        if DTYPES.get(entry.dtype) in ("int32", "int64") and entry.size <= _EMBED_INTS:
            tensor.tensor_content = bundle.raw(entry)
        else:
            self.variables[name] = entry
        self.emit(node)

    def shared_const(self, key: str) -> tuple[str, Entry]:
        """One Const per variable, for the variables control flow takes as inputs."""
        name = "var/" + key
        if name not in self.names:
            self.variable_const(name, key)
        return name, self.entries[key]

    def freeze_control_flow(self, node: Message, inputs: list[str]) -> None:
        """A While or If given variables: pass their values instead, as the converter's freezing does (the
        input becomes a Const, its type the variable's dtype, and the called functions read the argument
        with an Identity instead of a ReadVariableOp)."""
        first, type_attr, func_attrs = _LOOPS[node.op]
        frozen: dict[int, int] = {}
        for i, ref in enumerate(inputs):
            if ref.startswith("var:") and i >= first:
                inputs[i], entry = self.shared_const(ref[4:])
                frozen[i - first] = entry.dtype
                node.attr[type_attr].list.type[i - first] = entry.dtype
                if node.op in ("While", "StatelessWhile") and len(node.attr["output_shapes"].list.shape) > i:
                    shape = node.attr["output_shapes"].list.shape[i]
                    shape.Clear()
                    for dim in entry.shape or ():
                        shape.dim.add(size=dim)
        for attr in func_attrs:
            self.frozen_functions[node.attr[attr].func.name] = frozen

    def gather_of_const(self, node: Message, name: str, inputs: list[str]) -> None:
        """A ``ResourceGather`` of a frozen variable (``inputs``: the variable's Const, the indices, control
        inputs) as the converter's freezing rewrites it: a ``GatherV2`` on axis 0 (a Const ``<name>/axis``)."""
        index_type = node.attr["Tindices"].type
        axis = gpb.NodeDef(name=name + "/axis", op="Const")
        axis.attr["dtype"].type = index_type
        axis.attr["value"].tensor.dtype = index_type
        if DTYPES.get(index_type) == "int64":
            axis.attr["value"].tensor.int64_val.append(0)
        else:
            axis.attr["value"].tensor.int_val.append(0)
        self.emit(axis)
        gather = gpb.NodeDef(name=name, op="GatherV2", input=[*inputs[:2], axis.name, *inputs[2:]])
        gather.attr["Tparams"].type = node.attr["dtype"].type
        gather.attr["Tindices"].type = index_type
        gather.attr["Taxis"].type = index_type
        self.emit(gather)

    def var_handle(self, name: str, key: str) -> str:
        """A VarHandleOp for a variable used other than by a read (what an unfrozen graph has)."""
        if name not in self.names:
            entry = self.entries.get(key)
            node = gpb.NodeDef(name=name, op="VarHandleOp")
            node.attr["shared_name"].s = key.encode()
            if entry is not None:
                node.attr["dtype"].type = entry.dtype
                for dim in entry.shape or ():
                    node.attr["shape"].shape.dim.add(size=dim)
            self.emit(node)
        return name

    def unrestored_handle(self, key: str) -> str:
        """A VarHandleOp for a captured variable the converter cannot freeze (the saver never restores it): its
        reads stay ``ReadVariableOp``s, as the converter keeps them."""
        name = "var/" + key
        if name not in self.names:
            self.unrestored.append(self.var_handle(name, key))
        return name

    # -- the signature ---------------------------------------------------------------------------------------
    def captured(self, fname: str, raw: list[str]) -> list[str]:
        """The graph refs of a top-level call's captured inputs ``raw`` (outer-graph tensor names)."""
        objects = self.src.meta.object_graph_def
        bound = list(objects.concrete_functions[fname].bound_inputs) if fname in objects.concrete_functions else []
        refs: list[str] = []
        for i, outer_input in enumerate(raw):
            node_id = bound[i] if i < len(bound) else None
            key = self.src.keys.get(node_id) if node_id is not None else None
            if key is not None and self.restored is not None and _tensor_ref(outer_input)[0] not in self.restored:
                refs.append(self.unrestored_handle(key))
                continue
            if key is not None:
                refs.append("var:" + key)
                continue
            refs.append(self.copy_outer(_tensor_ref(outer_input)[0]))
        return refs

    def copy_outer(self, name: str) -> str:
        """Copy a captured outer-graph node into the frozen graph: a constant, or a lookup table's handle (kept as
        the graph has it: freezing leaves a table a table, and the rules judge its ops)."""
        node = self.outer.get(name)
        if node is None or node.op not in _CAPTURABLE:
            what = node.op if node is not None else "a missing node"
            raise LoadError(f"{self.path}: the signature's function captures `{name}` ({what}), which graphlint "
                            "cannot freeze", "unsupported")
        if name not in self.copied_outer:
            self.copied_outer.add(name)
            self.emit(node)
        return name

    def outer_call(self, name: str, inputs: dict[str, str]) -> list[str]:
        """Inline the outer-graph call node ``name``; return the refs of its outputs."""
        if name in self.outer_calls:
            return self.outer_calls[name]
        call = self.outer.get(name)
        if call is None or call.op not in _CALLS:
            op = call.op if call is not None else "missing"
            raise LoadError(f"{self.path}: the signature's output comes from `{name}` ({op}); graphlint reads "
                            "signatures whose outputs all come from function calls (TF2) or none do (TF1)",
                            "unsupported")
        fname = call.attr["f"].func.name
        fdef = self.library.get(fname)
        if fdef is None:
            raise LoadError(f"{self.path}: function `{fname}` is not in the SavedModel's library")
        data_inputs = [i for i in call.input if not i.startswith("^")]
        args: list[str] = []
        for raw in data_inputs:
            node_name = _tensor_ref(raw)[0]
            if node_name in inputs:
                args.append(inputs[node_name])
        args += self.captured(fname, data_inputs[len(args):])
        outs = self.outer_calls[name] = self.call(fname, args, name + "/", 0)
        return outs

    # -- function bodies -------------------------------------------------------------------------------------
    def call(self, fname: str, args: list[str], prefix: str, depth: int) -> list[str]:
        """Inline function ``fname`` with its arguments bound to ``args``; return its outputs' refs."""
        if depth > _MAX_DEPTH:
            raise LoadError(f"{self.path}: function calls nested more than {_MAX_DEPTH} deep")
        fdef = self.library.get(fname)
        if fdef is None:
            raise LoadError(f"{self.path}: function `{fname}` is not in the SavedModel's library")
        sig = fdef.signature
        if len(args) != len(sig.input_arg):
            raise LoadError(f"{self.path}: function `{fname}` takes {len(sig.input_arg)} inputs, is given "
                            f"{len(args)}")
        body = _Body(self, fdef, dict(zip([a.name for a in sig.input_arg], args)), prefix, depth)
        body.run()
        return [body.resolve(fdef.ret[a.name]) for a in sig.output_arg]


class _Body:
    """One inlined function body."""

    def __init__(self, inl: _Inliner, fdef: Message, args: dict[str, str], prefix: str, depth: int) -> None:
        self.inl = inl
        self.fdef = fdef
        self.args = args
        self.prefix = prefix
        self.depth = depth
        self.nodes: dict[str, Message] = {n.name: n for n in fdef.node_def}
        self.call_outs: dict[str, list[str] | None] = {}

    def run(self) -> None:
        for node in self.fdef.node_def:
            if node.op in _CALLS:
                self.inline_call(node.name)
            else:
                self.copy(node)

    def inline_call(self, name: str) -> list[str]:
        done = self.call_outs.get(name, ())
        if done is None:
            raise LoadError(f"{self.inl.path}: not a valid SavedModel (function calls in a cycle)")
        if done:
            return done
        self.call_outs[name] = None
        node = self.nodes[name]
        args = [self.resolve(i) for i in node.input if not i.startswith("^")]
        outs = self.inl.call(node.attr["f"].func.name, args, self.prefix + name + "/", self.depth + 1)
        self.call_outs[name] = outs
        return outs

    def resolve(self, raw: str) -> str:
        """A function-body input reference → a graph ref (``node:slot``) or a ``var:`` marker."""
        if ":" not in raw:
            if raw not in self.args:
                raise LoadError(f"{self.inl.path}: `{raw}` is neither an argument nor a node of "
                                f"`{self.fdef.signature.name}`")
            return self.args[raw]
        parts = raw.split(":")
        node = parts[0]
        idx = int(parts[-1]) if parts[-1].isdigit() else 0
        target = self.nodes.get(node)
        if target is None:
            raise LoadError(f"{self.inl.path}: `{raw}` names no node of `{self.fdef.signature.name}`")
        names = OUTPUT_ARGS.get(target.op)
        slot = (names.index(parts[1]) if names and len(parts) == 3 and parts[1] in names else 0) + idx
        if target.op in _CALLS:
            outs = self.inline_call(node)
            if slot >= len(outs):
                raise LoadError(f"{self.inl.path}: `{raw}` reads an output the called function lacks")
            return outs[slot]
        name = self.prefix + node
        return f"{name}:{slot}" if slot else name

    def copy(self, node: Message) -> None:
        name = self.prefix + node.name
        inputs: list[str] = []
        for raw in node.input:
            if raw.startswith("^"):
                target = self.nodes.get(raw[1:])
                if target is not None and target.op not in _CALLS:
                    inputs.append("^" + self.prefix + raw[1:])
                continue
            inputs.append(self.resolve(raw))
        if node.op == "ReadVariableOp" and inputs and inputs[0].startswith("var:"):
            self.inl.variable_const(name, inputs[0][4:])
            return
        if node.op == "ResourceGather" and inputs and inputs[0].startswith("var:") and not node.attr["batch_dims"].i:
            params, _ = self.inl.shared_const(inputs[0][4:])
            self.inl.gather_of_const(node, name, [params, *inputs[1:]])
            return
        for i, ref in enumerate(inputs):
            if ref.startswith("var:") and node.op not in _LOOPS:
                inputs[i] = self.inl.var_handle("var/" + ref[4:], ref[4:])
        new = self.inl.emit_copy(node, name)  # one copy, made in place in the output graph
        if node.op in _LOOPS and any(ref.startswith("var:") for ref in inputs):
            self.inl.freeze_control_flow(new, inputs)
            inputs = [self.inl.var_handle("var/" + r[4:], r[4:]) if r.startswith("var:") else r for r in inputs]
        del new.input[:]
        new.input.extend(inputs)


def _renamed(ref: str, placeholders: dict[str, str]) -> str:
    """An outer-graph input reference with the signature's placeholders renamed as the signature names them."""
    control = ref.startswith("^")
    name, slot = _tensor_ref(ref[1:] if control else ref)
    if name not in placeholders:
        return ref
    return ("^" if control else "") + placeholders[name] + (f":{slot}" if slot else "")


def _copy_v1(inl: _Inliner, placeholders: dict[str, str], outputs: list[str]) -> None:
    """A TF1 SavedModel (its signature reads the graph itself): copy what the outputs depend on, in file order,
    with variables as constants (the checkpoint key of a variable is its node name) and their reads as Identity,
    as ``convert_variables_to_constants`` freezes them."""
    needed: set[str] = set()
    stack = [_tensor_ref(ref)[0] for ref in outputs]
    while stack:
        name = stack.pop()
        if name in needed or name not in inl.outer:
            continue
        needed.add(name)
        stack += [_tensor_ref(raw.lstrip("^"))[0] for raw in inl.outer[name].input]
    for node in inl.src.graph.node:
        if node.name not in needed or node.name in placeholders:
            continue
        if node.op in ("VariableV2", "Variable", "VarHandleOp"):
            inl.variable_const(node.name, _v1_key(inl, node))
            continue
        new = inl.emit_copy(node, node.name)
        if node.op == "ReadVariableOp":
            new.op = "Identity"
            new.attr["T"].type = node.attr["dtype"].type
            del new.attr["dtype"]
        renamed = [_renamed(raw, placeholders) for raw in node.input]
        del new.input[:]
        new.input.extend(renamed)


def _v1_key(inl: _Inliner, node: Message) -> str:
    entries = inl.entries
    shared = node.attr["shared_name"].s.decode("utf-8", "replace") if "shared_name" in node.attr else ""
    return node.name if node.name in entries or not shared else shared


def _library(inl: _Inliner) -> None:
    """Copy the functions the frozen graph still references (control flow bodies) into its library."""
    wanted = list(inl.referenced)
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen or name not in inl.library:
            continue
        seen.add(name)
        fdef = inl.library[name]
        if name in inl.frozen_functions:
            fdef = _freeze_args(fdef, inl.frozen_functions[name])
        inl.out.library.function.append(fdef)
        for node in fdef.node_def:
            wanted += _funcs_of(node.attr)


def _freeze_args(fdef: Message, frozen: dict[int, int]) -> Message:
    """A copy of ``fdef`` whose arguments ``frozen`` (index -> dtype) carry values instead of variables."""
    copy = type(fdef)()
    copy.CopyFrom(fdef)
    names: dict[str, int] = {}
    for index, dtype in frozen.items():
        if index < len(copy.signature.input_arg):
            arg = copy.signature.input_arg[index]
            arg.type = dtype
            names[arg.name] = dtype
    for out in copy.signature.output_arg:  # a loop body passes the variable on unchanged
        if copy.ret.get(out.name) in names:
            out.type = names[copy.ret[out.name]]
    for node in copy.node_def:
        if node.op == "ReadVariableOp" and node.input and node.input[0] in names:
            node.op = "Identity"
            node.attr["T"].type = names[node.input[0]]
            del node.attr["dtype"]
    return copy


def _funcs_of(attrs: Message) -> list[str]:
    """The functions a NodeDef's attr map names."""
    names: list[str] = []
    for value in attrs.values():
        which = value.WhichOneof("value")
        if which == "func":
            names.append(value.func.name)
        elif which == "list":
            names += [f.name for f in value.list.func]
    return names


class Frozen(NamedTuple):
    """A SavedModel rewritten as a frozen GraphDef (:func:`freeze`)."""

    graph_def: bytes
    inputs: list[str]
    outputs: list[str]
    variables: dict[str | None, Entry]  # each variable's Const node name -> its bundle entry
    bundle: Bundle | None
    proto: bytes  # saved_model.pb as read
    unrestored: tuple[str, ...]  # VarHandleOps left for captured variables the checkpoint never fills


def freeze(root: str, path: str, signature: str = DEFAULT_SIGNATURE,
           input_shapes: Mapping[str, Shape] | None = None, max_nodes: int | None = None) -> Frozen:
    """Rewrite the SavedModel at ``root`` as a frozen GraphDef."""
    src, data = _read_sources(root, path)
    sig = _signature(src.meta, signature, path)
    inl = _Inliner(src, path, max_nodes)
    shapes = dict(input_shapes or {})
    placeholders: dict[str, str] = {}
    for key in sorted(sig.inputs):
        info = sig.inputs[key]
        shape = shapes.get(key, shapes.get(key + ":0", _shape_of(info.tensor_shape)))
        inl.placeholder(key, info, shape)
        placeholders[_tensor_ref(info.name)[0]] = key
    outputs: list[str] = []
    if not any(inl.outer.get(_tensor_ref(t.name)[0], gpb.NodeDef()).op in _CALLS for t in sig.outputs.values()):
        _copy_v1(inl, placeholders, [sig.outputs[k].name for k in sig.outputs])  # a TF1 SavedModel
    for key in sorted(sig.outputs):
        node_name, slot = _tensor_ref(sig.outputs[key].name)
        if node_name in inl.outer and inl.outer[node_name].op not in _CALLS:
            ref = _renamed(sig.outputs[key].name, placeholders)
        else:
            refs = inl.outer_call(node_name, placeholders)
            if slot >= len(refs):
                raise LoadError(f"{path}: signature output `{key}` reads an output `{node_name}` lacks")
            ref = refs[slot]
        if key in inl.names:  # a TF1 signature key that names a node: the tensor itself is the output
            outputs.append(key if _tensor_ref(ref) == (key, 0) else ref)
            continue
        ident = gpb.NodeDef(name=key, op="Identity", input=[ref])
        ident.attr["T"].type = sig.outputs[key].dtype
        inl.emit(ident)
        outputs.append(key)
    _library(inl)
    check_nodes(path, len(inl.out.node) + sum(len(f.node_def) for f in inl.out.library.function), max_nodes)
    return Frozen(inl.out.SerializeToString(), sorted(sig.inputs), outputs, inl.variables, src.bundle, data,
                  tuple(inl.unrestored))


def load_savedmodel(root: str, path: str, *, signature: str = DEFAULT_SIGNATURE,
                    input_shapes: Mapping[str, Shape] | None = None, max_nodes: int | None = None,
                    keep: object = None) -> ModelGraph:
    """Build the IR of the SavedModel directory ``root`` (reported as ``path``).

    ``keep`` is held as long as the model can read values (e.g. the temporary directory an archive was
    unpacked into).
    """
    frozen = freeze(root, path, signature, input_shapes, max_nodes)
    variables, bundle = frozen.variables, frozen.bundle
    model = load_graphdef(frozen.graph_def, path, "", text=False, input_shapes={}, inputs=frozen.inputs,
                          outputs=frozen.outputs, max_nodes=max_nodes)
    frozen_reader = model._value_reader
    assert frozen_reader is not None  # load_graphdef gives every model one

    def read_value(tensor: TensorInfo) -> Any:
        entry = variables.get(tensor.producer)
        if entry is None or bundle is None:  # entries come only from a bundle
            return frozen_reader(tensor)
        _ = keep
        return bundle.value(entry, tensor.dtype)

    info = dataclasses.replace(model.info, format="savedmodel", digest=_digest(frozen.proto, bundle),
                               size_bytes=len(frozen.proto) + _bundle_bytes(bundle),
                               unrestored_variables=frozen.unrestored)
    return ModelGraph(model.nodes, model.succ, model.tensors, info, read_value)


def _digest(proto: bytes, bundle: Bundle | None) -> Callable[[], str]:
    """What computes the model's SHA-256 when first asked: of saved_model.pb and variables.index (which holds
    every variable's CRC, so it changes with their values)."""
    index = bundle.prefix + ".index" if bundle is not None else None

    def compute() -> str:
        digest = hashlib.sha256(proto)
        if index is not None:
            with open(index, "rb") as fh:
                digest.update(fh.read())
        return digest.hexdigest()

    return compute


def _bundle_bytes(bundle: Bundle | None) -> int:
    if bundle is None:
        return 0
    total = os.path.getsize(bundle.prefix + ".index")
    for shard in range(bundle.shards):
        total += os.path.getsize(bundle.shard_path(shard))
    return total


def load_dir(root: str, path: str, *, keep: object = None, **options: Unpack[SavedModelOptions]) -> ModelGraph:
    """:func:`load_savedmodel` with every failure as a one-line :class:`LoadError`."""
    if not os.path.isfile(os.path.join(root, "saved_model.pb")):
        raise LoadError(f"{path}: is a directory without saved_model.pb (not a SavedModel)", "unsupported")
    try:
        return load_savedmodel(root, path, keep=keep, **options)
    except BudgetExceeded:
        raise
    except LoadError as err:
        text = str(err)
        if text.isprintable():
            raise
        # names from the file may hold line breaks or control characters: show them escaped
        raise LoadError("".join(c if c.isprintable() else repr(c)[1:-1] for c in text), err.kind) from None
    except RecursionError:
        raise LoadError(f"{path}: not a valid SavedModel (nesting too deep)") from None
    except OSError as err:
        raise LoadError(f"{path}: cannot read ({err.strerror or err})", "missing") from None
    except Exception as err:  # noqa: BLE001 - any parser failure is a corrupt SavedModel, reported in one line
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise LoadError(f"{path}: not a valid SavedModel ({detail[:200]})") from None


def load_archive(data: ModelBytes, kind: str, path: str, **options: Unpack[SavedModelOptions]) -> ModelGraph:
    """A SavedModel sent as a zip or tar archive: unpacked safely into a temporary directory, kept while the
    model can read values from it."""
    from ._archive import Unpacked

    unpacked = Unpacked(data, kind, path)
    try:
        return load_dir(unpacked.root, path, keep=unpacked, **options)
    except BaseException:
        unpacked.close()
        raise
