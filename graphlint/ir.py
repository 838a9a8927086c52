"""The format-free model IR: a directed multigraph of ops and tensors, plus a side table of tensor facts.

Nodes are ops and pseudo-nodes; edges are tensors from producer to consumer. Both loaders (GraphDef and
TFLite) build this structure and nothing else; rules read only this structure.

The graph is held as networkx holds a ``MultiDiGraph`` (a node table and a successor adjacency of keyed
edges) and :attr:`ModelGraph.g` is that ``networkx.MultiDiGraph``, built on first access. The lint path
reads the tables directly (:attr:`ModelGraph.nodes`, :meth:`ModelGraph.edges`,
:meth:`ModelGraph.predecessors` ...): importing networkx alone takes longer than loading and linting a
typical model, so a lint never pays for it; plugins that want networkx's algorithms use ``model.g``.

Node ids (stable strings, used in findings and by the viewer):

* GraphDef op: the node name (``conv1/Conv2D``); inside a function body ``<function>::<node>``
  with ``subgraph`` set to the function name (its arguments ``<function>::<arg>``, op ``_Arg``; its
  results ``<function>::ret/<output arg>``, op ``_Retval``).
* TFLite op: ``<subgraph index>:<op index>`` (``0:12``).
* Pseudo-nodes: ``input:<tensor id>`` (TFLite subgraph inputs), ``const:<tensor id>`` (TFLite constant
  buffers) and ``output:<tensor id>`` (graph outputs, both formats).

Node attributes: ``kind`` (op | input | const | output), ``op`` (source spelling: ``Conv2D``, ``CONV_2D`` or a
custom code), ``family`` (normalized by :mod:`graphlint.ops`), ``name``, ``attrs`` (plain Python values),
``subgraph``, ``index`` (position in the file), ``version`` (TFLite op version), ``device`` (GraphDef),
``custom`` (bool), ``calls`` (names of the functions / subgraph ids it calls), ``inputs`` and ``outputs``
(tensor ids in slot order; an input whose producer does not exist still has a tensor, with no producer).
Nodes are inserted in file order, main graph first, so iteration order is deterministic.

Edge key ``"<tensor id>#<dst slot>"``; attributes ``tensor``, ``src_slot``, ``dst_slot`` and ``control``
(GraphDef ``^name`` inputs, where ``tensor`` is None).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

Shape = tuple[int | None, ...] | None
"""A tensor shape: a tuple of dims where ``None`` is an unknown dim, or ``None`` for unknown rank."""


@dataclasses.dataclass(frozen=True, slots=True)
class QuantParams:
    """Affine quantization of a tensor: ``real = scale * (q - zero_point)``."""

    scale: tuple[float, ...]  # one per tensor, or one per channel along ``axis``
    zero_point: tuple[int, ...]  # same length as ``scale``
    axis: int | None = None  # quantized dimension for per-axis quantization, else None
    min: tuple[float, ...] = ()  # recorded float range (TFLite ``min``/``max``, FakeQuant attrs), optional
    max: tuple[float, ...] = ()

    @property
    def per_axis(self) -> bool:
        """True when the tensor has one scale per channel."""
        return len(self.scale) > 1


@dataclasses.dataclass(slots=True)
class TensorInfo:
    """Facts about one tensor. Values are never held here: see :meth:`ModelGraph.value`."""

    id: str  # GraphDef ``node:slot``; TFLite ``<subgraph>/<tensor index>``
    name: str  # the name as written in the file
    dtype: str | None  # canonical numpy-style name: float32, int8, uint8, string, resource ...; None = unknown
    shape: Shape  # tuple with None for unknown dims, or None for unknown rank
    producer: str | None = None  # node id that writes it (None for TFLite constants without a node)
    consumers: list[str] = dataclasses.field(default_factory=list)  # node ids reading it, in graph order
    is_const: bool = False  # a weight/constant (GraphDef Const output, TFLite tensor with buffer data)
    nbytes: int | None = None  # size of its constant data in the file, when const
    quant: QuantParams | None = None
    subgraph: str | int = 0  # function name (GraphDef) or subgraph index (TFLite)
    shape_signature: Shape = None  # TFLite ``shape_signature`` (-1 dims as None) when the file has one
    shape_source: str = "unknown"  # where ``shape`` came from: file | placeholder | inferred | user | unknown
    is_variable: bool = False  # TFLite variable tensor (stateful)
    stored_shape: Shape = None  # TFLite: the file's ``shape`` when ``shape_signature`` replaces it in ``shape``

    @property
    def rank(self) -> int | None:
        """Number of dims, or None when the rank is unknown."""
        return None if self.shape is None else len(self.shape)


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """Facts about the model file as a whole."""

    path: str  # as given by the caller (never used to reach the filesystem again)
    format: str  # "graphdef" | "tflite" | "savedmodel": what the IR was read as (rules look at it)
    digest: str | Callable[[], str]  # the SHA-256 (hex), or what computes it when first asked: see sha256
    size_bytes: int
    inputs: tuple[str, ...]  # ordered tensor ids of the (main subgraph) inputs
    outputs: tuple[str, ...]  # ordered tensor ids of the outputs (declared, or inferred for GraphDef)
    outputs_inferred: bool = False  # GraphDef: outputs guessed from unconsumed tensors (none were given)
    producer: str = ""  # GraphDef versions.producer; TFLite description / converter
    schema_version: int | None = None  # TFLite schema version
    subgraphs: tuple[str, ...] = ()  # names of subgraphs / functions, main first
    text_format: bool = False  # GraphDef read from text (``.pbtxt``)
    traced_from: str | None = None  # "keras" | "keras-h5": the file a SavedModel was traced from (the report's format)
    keras_layers: tuple[str, ...] = ()  # a Keras file's layer names (see graphlint.loaders.keras.layer_of)
    # SavedModel: VarHandleOp nodes of captured variables its checkpoint never restores (the converter keeps them
    # as resource variables with no value)
    unrestored_variables: tuple[str, ...] = ()

    @functools.cached_property
    def sha256(self) -> str:
        """The file's SHA-256 (hex). Computed on first use: linting never needs it, only reports that carry it
        (JSON, the service) do."""
        return self.digest if isinstance(self.digest, str) else self.digest()


Adjacency = dict[str, dict[str, dict[str, dict[str, Any]]]]
"""Successor adjacency, as networkx keeps it: ``src → dst → edge key → edge attrs``."""


class ModelGraph:
    """A loaded model: the graph, its tensors and lazy access to constant values.

    ``nodes`` maps node id → attribute dict, in file order; ``succ`` is the successor adjacency. Both are
    owned by the model: ``g`` is a ``networkx.MultiDiGraph`` copy of them, built once on first access.
    """

    __slots__ = ("_g", "_ops", "_pred", "_value_reader", "info", "nodes", "succ", "tensors")

    def __init__(self, nodes: dict[str, dict[str, Any]], succ: Adjacency, tensors: Mapping[str, TensorInfo],
                 info: ModelInfo, value_reader: Callable[[TensorInfo], Any] | None = None) -> None:
        self.nodes = nodes
        self.succ = succ
        self.tensors = tensors
        self.info = info
        self._value_reader = value_reader
        self._g: nx.MultiDiGraph | None = None
        self._pred: dict[str, list[str]] | None = None
        self._ops: list[tuple[str, dict[str, Any]]] | None = None

    @property
    def g(self) -> nx.MultiDiGraph:
        """The model as a ``networkx.MultiDiGraph`` (graph attr ``format``), built on first access."""
        if self._g is None:
            import networkx as nx

            g = nx.MultiDiGraph(format=self.info.format)
            g.add_nodes_from(self.nodes.items())
            g.add_edges_from(self.edges())
            self._g = g
        return self._g

    # -- navigation -------------------------------------------------------------------------------------
    def ops(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(node id, attrs)`` for every op node (not pseudo-nodes), in file order."""
        if self._ops is None:  # every rule walks the ops: list them once
            self._ops = [(n, a) for n, a in self.nodes.items() if a["kind"] == "op"]
        return iter(self._ops)

    def node(self, node_id: str) -> dict[str, Any]:
        """Return a node's attribute dict."""
        return self.nodes[node_id]

    def edges(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """Yield ``(src, dst, key, attrs)`` for every edge, in networkx's ``edges(keys=True, data=True)`` order."""
        for src, dsts in self.succ.items():
            for dst, keyed in dsts.items():
                for key, data in keyed.items():
                    yield src, dst, key, data

    def predecessors(self, node_id: str) -> list[str]:
        """Nodes with an edge (data or control) into ``node_id``, in edge order."""
        if self._pred is None:
            pred: dict[str, dict[str, None]] = {}
            for src, dsts in self.succ.items():
                for dst in dsts:
                    pred.setdefault(dst, {})[src] = None
            self._pred = {dst: list(srcs) for dst, srcs in pred.items()}
        return self._pred.get(node_id, [])

    def inputs_of(self, node_id: str) -> list[TensorInfo]:
        """Data input tensors of a node in slot order (absent optional inputs, such as a TFLite op's missing bias,
        are left out)."""
        return [self.tensors[t] for t in self.nodes[node_id].get("inputs", ()) if t is not None]

    def outputs_of(self, node_id: str) -> list[TensorInfo]:
        """Output tensors of a node in slot order."""
        return [self.tensors[t] for t in self.nodes[node_id].get("outputs", ()) if t is not None]

    def successors(self, node_id: str) -> list[str]:
        """Nodes that read any output of ``node_id`` (data edges only), in graph order."""
        seen: dict[str, None] = {}
        for tensor_id in self.nodes[node_id].get("outputs", ()):
            seen.update(dict.fromkeys(self.tensors[tensor_id].consumers))
        return list(seen)

    def input_tensors(self) -> list[TensorInfo]:
        """The model's input tensors, in declared order."""
        return [self.tensors[t] for t in self.info.inputs]

    def output_tensors(self) -> list[TensorInfo]:
        """The model's output tensors, in declared order."""
        return [self.tensors[t] for t in self.info.outputs]

    def value(self, tensor: TensorInfo | str, max_bytes: int = 64 << 20) -> Any:
        """Read a constant tensor's value as a numpy array, or None when it is not a readable constant.

        Values are read from the model file on demand and never stored in the IR.
        """
        info = self.tensors[tensor] if isinstance(tensor, str) else tensor
        if not info.is_const or self._value_reader is None:
            return None
        if info.nbytes is not None and info.nbytes > max_bytes:
            return None
        return self._value_reader(info)

    def __repr__(self) -> str:
        return f"ModelGraph({self.info.format}, {len(self.nodes)} nodes, {len(self.tensors)} tensors)"


def add_edge(succ: Adjacency, src: str, dst: str, key: str, tensor: str | None, src_slot: int, dst_slot: int,
             control: bool) -> None:
    """Add an edge, with the attributes every edge has, to a successor adjacency (``src`` must already be a node
    of it)."""
    succ[src].setdefault(dst, {})[key] = {"tensor": tensor, "src_slot": src_slot, "dst_slot": dst_slot,
                                          "control": control}


def validate(model: ModelGraph) -> list[str]:
    """Check IR invariants; return a list of problems (empty when the IR is consistent)."""
    problems: list[str] = []
    for u, v, _key, data in model.edges():
        if data.get("control"):
            continue
        tensor = model.tensors.get(data["tensor"])
        if tensor is None:
            problems.append(f"edge {u}->{v} names unknown tensor {data['tensor']}")
        elif v not in tensor.consumers:
            problems.append(f"tensor {tensor.id} does not list consumer {v}")
    for tid, tensor in model.tensors.items():
        if tensor.producer is not None and tensor.producer not in model.nodes:
            problems.append(f"tensor {tid} has unknown producer {tensor.producer}")
    return problems
