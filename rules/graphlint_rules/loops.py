"""v1 control-flow loops, seen as the converter sees them.

A frozen graph holds a ``tf.while_loop`` either as a functional ``While``/``StatelessWhile`` that calls a body
function, or lowered into a v1 *frame*: ``Enter`` nodes bring tensors in, ``Merge``/``Switch``/``NextIteration``
carry the loop variables round, ``LoopCond`` decides, ``Exit`` hands results out. Freezing a Keras RNN the
standard TF2 way (``convert_variables_to_constants_v2``, which lowers control flow) writes frames around
``TensorList*`` ops; TF1's ``dynamic_rnn`` writes frames around ``TensorArray*V3`` ops.

The converter functionalizes every frame back into one ``WHILE`` before it legalizes a single op
(``FunctionalizeControlFlow`` in the MLIR importer), then lowers TensorLists to plain tensors
(``LowerStaticTensorList``) and leaves TensorArrayV3 ops as TensorFlow ops, which have no builtin. So a frame is
judged as a unit: by what its body carries (a TensorList, a TensorArrayV3, or plain tensors), once, on the loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from graphlint.ir import ModelGraph, TensorInfo

FRAME_OPS = frozenset({"Enter", "RefEnter", "Exit", "RefExit", "Merge", "RefMerge", "Switch", "RefSwitch",
                       "NextIteration", "RefNextIteration", "LoopCond"})
_ENTER = frozenset({"Enter", "RefEnter"})
_EXIT = frozenset({"Exit", "RefExit"})
_MERGE = frozenset({"Merge", "RefMerge"})
_SWITCH = frozenset({"Switch", "RefSwitch"})
_NEXT = frozenset({"NextIteration", "RefNextIteration"})

# What a loop body carries, and the measured case that stands for a loop of that kind.
TENSOR_LIST = "tensor-list"
TENSOR_ARRAY = "tensor-array"
PLAIN = "plain"
CASES = {TENSOR_LIST: "tensor_array_v2", TENSOR_ARRAY: "tensor_array_v1", PLAIN: "while_v1"}
# A frame around a TensorList created without an element shape (a scalar -1, as `tf.TensorArray(size=n)` and
# `tf.map_fn` write it): the converter's TensorList lowering needs a 1-D shape, which only a functional While
# lets it infer (case `tensor_array_v2` converts).
UNSHAPED_LIST_CASE = "tensor_list_unshaped_frame"
_LIST_MAKERS = frozenset({"TensorListReserve", "EmptyTensorList"})
# The measured case of a plain loop that captures a computed tensor, per form (v1 frame, functional While).
CAPTURED_CASES = {"frame": "while_captured_v1", "functional": "while_captured_v2"}
FUNCTIONAL_PLAIN_CASE = "while_v2"
# A frame with a loop variable whose Merge feeds no Switch on the frame's LoopCond (TF2's lowering of the nested
# loops of `tf.image.non_max_suppression_padded` writes one): functionalization stops with "Missing Switch
# successor to ..." (FunctionalizeLoop), whatever the target.
UNSWITCHED_CASE = "while_merge_without_switch"
# A functional While fed a TensorList made with a constant element shape whose first dimension is free (-1, as
# `tf.TensorArray(element_shape=(None, n))` and a Keras RNN traced with a free batch dimension write it): the
# converter's TensorList lowering refuses it ("requires element_shape to be static") unless it is told to default
# to a batch of 1, whatever the target. Measured through `from_saved_model`, which keeps such a loop functional.
FREE_BATCH_LIST_CASE = "tensor_list_free_batch_saved"
# Cases that stand for a whole loop of a kind this module recognises: chosen here, never by op matching.
CHOSEN_CASES = frozenset({UNSHAPED_LIST_CASE, UNSWITCHED_CASE, FREE_BATCH_LIST_CASE, *CAPTURED_CASES.values()})

Constant = Callable[[TensorInfo], bool]
"""Whether the converter sees a tensor as a constant (a weight, or folded from constants)."""


FUNCTIONAL_LOOPS = frozenset({"While", "StatelessWhile"})


def is_list_op(op: str) -> bool:
    """A TensorList (TF2) or TensorArray (TF1) op: the loop's storage, judged with the loop."""
    return op.startswith("TensorList") or op.startswith("TensorArray")


def is_loop_op(op: str) -> bool:
    """An op that only makes sense as part of a loop: frame plumbing, a functional While, list storage."""
    return op in FRAME_OPS or op in FUNCTIONAL_LOOPS or is_list_op(op)


@dataclasses.dataclass(frozen=True, slots=True)
class Loop:
    """One v1 frame: its ``LoopCond`` (where findings go), its frame name, its nodes and what it carries."""

    anchor: str
    frame: str
    members: frozenset[str]
    carries: str
    storage: frozenset[str] = frozenset()  # list ops outside the frame that fill or read what it carries
    captures: bool = False  # the body reads a computed tensor from outside, unchanged every iteration
    unshaped: bool = False  # a TensorList it carries was made without an element shape
    unswitched: str | None = None  # a loop Merge (its own or a nested frame's) with no Switch on a LoopCond

    @property
    def case(self) -> str:
        """The measured case that stands for this loop."""
        if self.unswitched is not None:  # functionalization stops before anything else is looked at
            return UNSWITCHED_CASE
        if self.carries == PLAIN and self.captures:
            return CAPTURED_CASES["frame"]
        if self.carries == TENSOR_LIST and self.unshaped:
            return UNSHAPED_LIST_CASE
        return CASES[self.carries]

    def absorbed(self, model: ModelGraph) -> list[str]:
        """Members judged with the loop rather than on their own: the frame's plumbing and its list storage."""
        inside = [n for n in self.members if model.nodes[n]["op"] in FRAME_OPS or is_list_op(model.nodes[n]["op"])]
        return sorted({*inside, *self.storage} - {self.anchor})


def _members(model: ModelGraph, starts: list[str], owned: set[str]) -> list[str]:
    """Nodes reachable by data edges from ``starts`` without leaving through an ``Exit`` (which is included),
    skipping nodes an earlier frame owns (a nested frame belongs to the frame around it)."""
    nodes, tensors = model.nodes, model.tensors
    found: list[str] = []
    stack = [s for s in starts if s not in owned]
    while stack:
        node = stack.pop()
        if node in owned:
            continue
        owned.add(node)
        found.append(node)
        if nodes[node]["op"] in _EXIT:
            continue
        for tensor_id in nodes[node]["outputs"]:
            stack.extend([c for c in tensors[tensor_id].consumers if c not in owned and nodes[c]["kind"] == "op"])
    return found


def _connected_lists(model: ModelGraph, seeds: dict[str, bool], exclude: set[str], claimed: set[str]) -> set[str]:
    """List ops reached from ``seeds`` through list ops only. A seed maps to whether its consumers count as well
    as its producers (an Exit's do, an Enter's do not); list ops found on the way count both ways. A list op in
    ``claimed`` (reached from an earlier loop) is not walked again, so many loops over one long list chain cost
    the chain once; what this walk finds joins ``claimed``."""
    nodes, tensors = model.nodes, model.tensors
    found: set[str] = set()
    stack = list(seeds)
    while stack:
        node = stack.pop()
        near = [t.producer for t in model.inputs_of(node) if t.producer]
        if seeds.get(node, True):
            near += [c for t in nodes[node]["outputs"] for c in tensors[t].consumers]
        for other in near:
            if other not in exclude and other not in claimed and is_list_op(nodes[other]["op"]):
                claimed.add(other)
                found.add(other)
                stack.append(other)
    return found


def _storage(model: ModelGraph, members: list[str], claimed: set[str]) -> set[str]:
    """What fills the lists a frame's Enters take in, and what reads the lists its Exits hand out."""
    ops = model.nodes
    seeds = {n: ops[n]["op"] in _EXIT for n in members if ops[n]["op"] in _ENTER or ops[n]["op"] in _EXIT}
    return _connected_lists(model, seeds, set(members), claimed)


def _carries(model: ModelGraph, members: list[str], storage: set[str]) -> str:
    ops = [model.nodes[n]["op"] for n in (*members, *storage)]
    if [op for op in ops if op.startswith("TensorArray")]:
        return TENSOR_ARRAY
    if [op for op in ops if op.startswith("TensorList")]:
        return TENSOR_LIST
    return PLAIN


_IDENTITY_STEPS = 32  # an Identity chain longer than this is not seen through (keeps every walk bounded)


def _through_identity(model: ModelGraph, tensor: TensorInfo) -> TensorInfo:
    """The tensor an Identity chain forwards, seen through at most :data:`_IDENTITY_STEPS` Identities."""
    for _ in range(_IDENTITY_STEPS):
        if not tensor.producer or model.nodes[tensor.producer]["op"] != "Identity":
            break
        inputs = model.inputs_of(tensor.producer)
        if not inputs:
            break
        tensor = inputs[0]
    return tensor


def _is_invariant(model: ModelGraph, enter: str) -> bool:
    """Whether the loop variable an ``Enter`` starts is never changed: a constant Enter (TF1 capture), or a
    ``Merge`` whose ``NextIteration`` receives what its own ``Switch`` handed the body (TF2 lowering)."""
    nodes, tensors = model.nodes, model.tensors
    if (nodes[enter].get("attrs") or {}).get("is_constant"):
        return True
    merges = [c for t in nodes[enter]["outputs"] for c in tensors[t].consumers if nodes[c]["op"] in _MERGE]
    for merge in merges:
        back = [p for t in model.inputs_of(merge) if (p := t.producer) and nodes[p]["op"] in _NEXT]
        for next_iteration in back:
            inputs = model.inputs_of(next_iteration)
            source = _through_identity(model, inputs[0]) if inputs else None
            if source is None or source.producer is None or nodes[source.producer]["op"] not in _SWITCH:
                continue
            switched = model.inputs_of(source.producer)
            if switched and switched[0].producer == merge:
                return True
    return False


def _unshaped(model: ModelGraph, nodes: list[str]) -> bool:
    """A TensorList among ``nodes`` made with a rank-0 element shape (unknown rank)."""
    for node in nodes:
        if model.nodes[node]["op"] in _LIST_MAKERS:
            inputs = model.inputs_of(node)
            if inputs and inputs[0].shape == ():
                return True
    return False


def _unswitched(model: ModelGraph, members: list[str]) -> str | None:
    """The first loop ``Merge`` among ``members`` (fed by an Enter and a NextIteration) that no ``Switch`` gated by
    a ``LoopCond`` reads as its data input: the converter's FunctionalizeLoop needs exactly one per loop variable."""
    nodes, tensors = model.nodes, model.tensors
    for node in members:
        if nodes[node]["op"] not in _MERGE:
            continue
        fed_by = {nodes[t.producer]["op"] for t in model.inputs_of(node) if t.producer}
        if not fed_by & _ENTER or not fed_by & _NEXT:
            continue
        readers = [c for t in nodes[node]["outputs"][:1] for c in tensors[t].consumers]
        if not any(_switched_by_loop(model, reader, node) for reader in readers):
            return node
    return None


def _switched_by_loop(model: ModelGraph, reader: str, merge: str) -> bool:
    if model.nodes[reader]["op"] not in _SWITCH:
        return False
    inputs = model.inputs_of(reader)
    return (len(inputs) == 2 and inputs[0].producer == merge and inputs[1].producer is not None
            and model.nodes[inputs[1].producer]["op"] == "LoopCond")


def _captures(model: ModelGraph, members: list[str], constant: Constant) -> bool:
    """A frame whose body reads a computed (non-constant) tensor from outside, unchanged on every iteration."""
    for node in members:
        if model.nodes[node]["op"] not in _ENTER:
            continue
        inputs = model.inputs_of(node)
        if inputs and not constant(_through_identity(model, inputs[0])) and _is_invariant(model, node):
            return True
    return False


def captured_whiles(model: ModelGraph, whiles: list[str], constant: Constant) -> set[str]:
    """The functional ``While`` nodes of ``whiles`` that pass a computed tensor through their body unchanged
    (argument *k* returned as result *k*, fed a non-constant). One walk over the graph for all the loops."""
    bodies = {node: _body(model, node) for node in whiles}
    wanted = set(bodies.values()) - {None}
    args: dict[str, list[tuple[int, str]]] = {}
    rets: dict[str, list[tuple[int, str]]] = {}
    for node, attrs in model.nodes.items():
        if attrs.get("subgraph") in wanted and attrs["kind"] in ("input", "output"):
            (args if attrs["kind"] == "input" else rets).setdefault(attrs["subgraph"], []).append(
                (attrs["index"], node))
    return {node for node, body in bodies.items()
            if body and _passes_computed(model, node, sorted(args.get(body, [])), sorted(rets.get(body, [])),
                                         constant)}


def _body(model: ModelGraph, node: str) -> str | None:
    body = (model.nodes[node].get("attrs") or {}).get("body")
    return body.get("func") if isinstance(body, dict) else None


def _passes_computed(model: ModelGraph, node: str, args: list[tuple[int, str]], rets: list[tuple[int, str]],
                     constant: Constant) -> bool:
    fed = model.inputs_of(node)
    for position, ((_, arg), (_, ret)) in enumerate(zip(args, rets)):
        returned = model.inputs_of(ret)
        if (position < len(fed) and returned and _through_identity(model, returned[0]).producer == arg
                and not constant(_through_identity(model, fed[position]))):
            return True
    return False


def find_loops(model: ModelGraph, constant: Constant = lambda t: t.is_const) -> list[Loop]:
    """The v1 frames of the main graph, outermost first, each walked once (linear in the graph)."""
    enters: dict[str, list[str]] = {}
    for node, attrs in model.ops():
        if attrs["op"] in _ENTER and attrs["subgraph"] == "main":
            frame = str((attrs.get("attrs") or {}).get("frame_name") or "")
            enters.setdefault(frame, []).append(node)
    owned: set[str] = set()
    claimed: set[str] = set()
    loops = []
    for frame, starts in enters.items():  # file order: an outer frame's first Enter comes first
        members = _members(model, starts, owned)
        anchor = next((n for n in members if model.nodes[n]["op"] == "LoopCond"), None)
        if anchor is not None:
            storage = _storage(model, members, claimed)
            loops.append(Loop(anchor, frame, frozenset(members), _carries(model, members, storage),
                              frozenset(storage), _captures(model, members, constant),
                              _unshaped(model, [*members, *storage]), _unswitched(model, members)))
    return loops


def functional_storage(model: ModelGraph, loops: list[str]) -> set[str]:
    """List ops that fill the lists functional ``While`` loops take in or read the lists they hand out, through
    list ops only: the converter lowers them with the loops (``LowerStaticTensorList``), so the loops are judged
    for them. One walk for all the loops."""
    return _connected_lists(model, dict.fromkeys(loops, True), set(loops), set())


def free_batch_whiles(model: ModelGraph, loops: list[str]) -> set[str]:
    """The functional ``While`` nodes of ``loops`` whose lists (reached through list ops, as
    :func:`functional_storage` reaches them) include one made with a constant element shape whose first dimension
    is -1."""
    return {node for node in loops
            if any(_free_first_dim(model, other) for other in _connected_lists(model, {node: True}, {node}, set()))}


def _free_first_dim(model: ModelGraph, node: str) -> bool:
    if model.nodes[node]["op"] not in _LIST_MAKERS:
        return False
    inputs = model.inputs_of(node)
    value = model.value(inputs[0], max_bytes=1024) if inputs else None
    return value is not None and value.ndim == 1 and value.size > 0 and int(value[0]) == -1
