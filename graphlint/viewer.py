"""The graph as the web viewer draws it, and findings as Google Model Explorer node data.

:func:`graph_json` turns a loaded model and its report into plain JSON: nodes (with their name scope, worst
severity and the indices of their findings in the report), edges (one per tensor use), a tensor table (dtype,
shape, quantization and the float range it represents), the name-scope tree and the subgraphs. The viewer lays
out collapsed scopes and expands them on demand, so a scope tree is computed here once.

:func:`model_explorer_node_data` writes the report's findings in the node-data format of Google's Model Explorer
(``{graph id: {"results": {node key: {"value": n}}, "thresholds": [...]}}``), so its users can overlay them.

Both are pure and deterministic (same input, same output, in file order) and import no TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

from ._gc import gc_paused
from .ir import ModelGraph, ModelInfo, QuantParams, TensorInfo

if TYPE_CHECKING:
    from .report import Report

GRAPH_SCHEMA_VERSION = 1
SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}  # 0 = no finding
SEVERITY_COLOR = {"info": "#5b8def", "warning": "#f0a020", "error": "#d93025"}
# Integer range per quantized storage type: real = scale * (q - zero_point) for q in [qmin, qmax].
QUANT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
               "int4": (-8, 7), "int32": (-(2 ** 31), 2 ** 31 - 1), "int64": (-(2 ** 63), 2 ** 63 - 1)}
MAX_CHANNELS = 64  # per-axis scale / zero point lists longer than this are cut (``channels`` keeps the count)
_MAX_ATTR_ITEMS = 64  # attribute lists longer than this are cut, with a marker
# Name scopes deeper than this are not drawn: a node sits in its 64th-level scope. Every scope stores its
# path, so scopes n deep cost n^2 bytes (one node named ``s/`` x 20,000, a 40 KB file, made a 1.2 GB graph).
MAX_SCOPE_DEPTH = 64


_SCALARS = (bool, int, str, type(None))

# An attribute value made JSON: scalars, and lists and objects of them to any depth; what it holds is the node's.
JSONValue = Any
FloatJSON = float | str  # a float, or "nan" / "inf" / "-inf": strict JSON has no non-finite numbers
SubgraphId = str | int  # GraphDef: "main" or the function's name; TFLite: the subgraph's index


class QuantJSON(TypedDict):
    """A tensor's quantization, with the float range its integers represent (see :func:`quant_json`)."""

    scale: list[FloatJSON]
    zero_point: list[int]
    axis: int | None
    channels: int
    per_axis: bool
    truncated: bool
    range: list[FloatJSON] | None
    recorded_range: NotRequired[list[FloatJSON]]
    channel_ranges: NotRequired[list[list[FloatJSON]]]


class NodeJSON(TypedDict):
    """A node of the viewer's graph (see :func:`graph_json`)."""

    id: str
    name: str
    label: str
    op: str | None
    family: str | None
    kind: str
    subgraph: SubgraphId
    scope: str | None
    index: int
    attrs: dict[str, JSONValue]
    inputs: list[str]
    outputs: list[str]
    calls: list[SubgraphId]
    severity: str | None
    findings: list[int]
    version: NotRequired[int]
    device: NotRequired[str]
    custom: NotRequired[bool]


class EdgeJSON(TypedDict):
    """One use of a tensor, or a control edge (``tensor`` None)."""

    tensor: str | None
    src: str
    dst: str
    src_slot: int
    dst_slot: int
    control: bool


# The functional form: "class" is a keyword.
TensorJSON = TypedDict("TensorJSON", {
    "name": str, "dtype": str | None, "shape": list[int | None] | None, "producer": str | None, "consumers": int,
    "const": bool, "subgraph": SubgraphId, "class": str, "quant": QuantJSON | None,
    "shape_signature": NotRequired[list[int | None]], "nbytes": NotRequired[int],
})


class ScopeJSON(TypedDict):
    """A name scope: what lies below it and the worst finding there."""

    id: str
    path: str
    name: str
    parent: str | None
    subgraph: SubgraphId
    depth: int
    nodes: int
    severity: str | None
    findings: int


class SubgraphJSON(TypedDict):
    """A subgraph (TFLite) or function (GraphDef), main first."""

    id: SubgraphId
    name: str
    main: bool


class GraphJSON(TypedDict):
    """The model graph as the viewer draws it (see :func:`graph_json`)."""

    schema_version: int
    format: str
    subgraphs: list[SubgraphJSON]
    nodes: list[NodeJSON]
    edges: list[EdgeJSON]
    tensors: dict[str, TensorJSON]
    scopes: list[ScopeJSON]
    inputs: list[str]
    outputs: list[str]
    model_findings: list[int]
    unplaced_findings: list[int]
    counts: dict[str, int]


class NodeResult(TypedDict):
    """Model Explorer's data for one node."""

    value: int
    bgColor: str


class Threshold(TypedDict):
    """One of Model Explorer's colour levels."""

    value: int
    bgColor: str
    textColor: str


class GraphNodeData(TypedDict):
    """Model Explorer's ``GraphNodeData``: the results by node key and the colour levels."""

    results: dict[str, NodeResult]
    thresholds: list[Threshold]


def _attrs_json(attrs: Mapping[str, Any]) -> dict[str, JSONValue]:
    """A node's attributes as JSON (the common case, scalars only, without recursion)."""
    out: dict[str, JSONValue] = {}
    for k, v in attrs.items():
        out[k] = v if type(v) in _SCALARS else _plain(v)
    return out


def _plain(value: Any, depth: int = 0) -> JSONValue:
    """An attribute value as JSON: tuples become lists, bytes text, non-finite floats strings; bounded size."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value[:256]).decode("utf-8", "replace")
    if depth > 6:
        return str(value)[:200]
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        if all(type(v) in _SCALARS for v in items[:_MAX_ATTR_ITEMS]):
            out = items[:_MAX_ATTR_ITEMS]
        else:
            out = [_plain(v, depth + 1) for v in items[:_MAX_ATTR_ITEMS]]
        if len(items) > _MAX_ATTR_ITEMS:
            out.append(f"... {len(items) - _MAX_ATTR_ITEMS} more")
        return out
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item(), depth + 1)
    return str(value)[:200]


def _float(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


def quant_json(dtype: str | None, quant: QuantParams) -> QuantJSON:
    """Quantization of a tensor as JSON, with the float range its integers represent.

    ``range`` is ``[lo, hi]`` = ``scale * (qmin - zero_point)``, ``scale * (qmax - zero_point)`` for a
    per-tensor scale; for per-axis quantization it spans all channels (``channel_ranges`` lists the first
    :data:`MAX_CHANNELS`). It is None when the storage type has no known integer range.
    """
    n = len(quant.scale)
    out: QuantJSON = {
        "scale": [_float(s) for s in quant.scale[:MAX_CHANNELS]],
        "zero_point": list(quant.zero_point[:MAX_CHANNELS]),
        "axis": quant.axis, "channels": n, "per_axis": n > 1, "truncated": n > MAX_CHANNELS,
        "range": None,
    }
    if quant.min and quant.max:
        out["recorded_range"] = [_float(min(quant.min)), _float(max(quant.max))]
    bounds = QUANT_RANGE.get(dtype or "")
    if bounds and n and len(quant.zero_point) == n:
        qmin, qmax = bounds
        ranges = [(s * (qmin - z), s * (qmax - z)) for s, z in zip(quant.scale, quant.zero_point)]
        out["range"] = [_float(min(lo for lo, _ in ranges)), _float(max(hi for _, hi in ranges))]
        if n > 1:
            out["channel_ranges"] = [[_float(lo), _float(hi)] for lo, hi in ranges[:MAX_CHANNELS]]
    return out


def dtype_class(dtype: str | None, quantized: bool) -> str:
    """The colour class of a tensor on the graph: int8, uint8, int16, int32, float16, float, other, unknown."""
    if dtype is None:
        return "unknown"
    if dtype in ("float32", "float64", "bfloat16"):
        return "float"
    if dtype in ("int8", "uint8", "int16", "float16"):
        return dtype
    if dtype == "int32":
        return "int32q" if quantized else "int32"
    return "other"


def _display_name(attrs: Mapping[str, Any], node_id: str) -> str:
    """The name whose ``/`` parts are the node's name scopes (TFLite names list fused ops joined by ``;``)."""
    name: str = attrs.get("name") or node_id
    if "::" in node_id and attrs.get("subgraph") not in (None, 0, "main"):
        name = node_id.split("::", 1)[1]
    return name.split(";", 1)[0]


def _finding_rows(report: Report | Mapping[str, Any] | None) -> list[tuple[str | None, str]]:
    """``(node id, severity)`` per finding of a Report, a report dict or None."""
    if report is None:
        return []
    if isinstance(report, Mapping):
        return [(f.get("node"), f.get("severity", "info")) for f in report.get("findings", ())]
    return [(f.node, f.severity.value) for f in report.findings]


def graph_json(model: ModelGraph, report: Report | Mapping[str, Any] | None = None) -> GraphJSON:
    """The model graph for the viewer, with the report's findings attached to their nodes.

    Args:
        model: the loaded model (``report.model_graph`` after a lint run).
        report: the :class:`~graphlint.report.Report` (or its JSON dict) the finding indices refer to; None for
            a graph without findings.

    Returns:
        ``{"schema_version", "format", "subgraphs", "nodes", "edges", "tensors", "scopes", "inputs", "outputs",
        "model_findings", "unplaced_findings", "counts"}``. A node: ``id``, ``name``, ``label`` (the last part
        of its name), ``op``, ``family``, ``kind`` (op | input | const | output), ``subgraph``, ``scope`` (scope
        id or None at top level), ``index``, ``attrs``, ``inputs`` / ``outputs`` (tensor ids), ``calls``,
        ``severity`` (worst of its findings or None) and ``findings`` (indices into the report's findings). An
        edge: ``tensor`` (None for a control edge), ``src``, ``dst``, ``src_slot``, ``dst_slot``, ``control``.
        A scope: ``id`` (``<subgraph>::<path>``), ``path``, ``name``, ``parent``, ``subgraph``, ``depth``,
        ``nodes`` (ops and pseudo-nodes below it, at any depth), ``severity``, ``findings`` (count below it).
    """
    with gc_paused():
        return _graph_json(model, report)


def _place_findings(rows: list[tuple[str | None, str]], table: Mapping[str, object]
                    ) -> tuple[dict[str, list[int]], list[int], list[int]]:
    """Finding indices by node, at model level (no node) and unplaced (a node the model lacks)."""
    by_node: dict[str, list[int]] = {}
    model_level: list[int] = []
    unplaced: list[int] = []
    for i, (node, _sev) in enumerate(rows):
        if node is None:
            model_level.append(i)
        elif node in table:
            by_node.setdefault(node, []).append(i)
        else:
            unplaced.append(i)
    return by_node, model_level, unplaced


def _add_scopes(scopes: dict[str, ScopeJSON], parts: list[str], subgraph: SubgraphId) -> str | None:
    """Count a node in each scope its name passes through (creating them); return its innermost scope id."""
    if len(parts) <= 1:
        return None
    path = ""
    parent = None
    for depth, part in enumerate(parts[:min(len(parts) - 1, MAX_SCOPE_DEPTH)]):
        path = f"{path}/{part}" if path else part
        sid = f"{subgraph}::{path}"
        sc = scopes.get(sid)
        if sc is None:
            sc = scopes[sid] = {"id": sid, "path": path, "name": part, "parent": parent, "subgraph": subgraph,
                                "depth": depth, "nodes": 0, "severity": None, "findings": 0}
        sc["nodes"] += 1
        parent = sid
    return parent


def _worst(severities: Iterable[str]) -> str | None:
    worst: str | None = None
    for sev in severities:
        if worst is None or SEVERITY_RANK.get(sev, 0) > SEVERITY_RANK.get(worst, 0):
            worst = sev
    return worst


def _count_in_scopes(scopes: dict[str, ScopeJSON], scope_id: str | None, count: int, worst: str | None) -> None:
    """Add a node's ``count`` findings of severity up to ``worst`` to its scope and every scope above it."""
    sid = scope_id
    while sid is not None:
        sc = scopes[sid]
        sc["findings"] += count
        if sc["severity"] is None or SEVERITY_RANK.get(worst or "", 0) > SEVERITY_RANK.get(sc["severity"], 0):
            sc["severity"] = worst
        sid = sc["parent"]


_NODE_EXTRAS: tuple[Literal["version", "device", "custom"], ...] = ("version", "device", "custom")


def _node_json(node_id: str, a: Mapping[str, Any], parts: list[str], scope_id: str | None, worst: str | None,
               idx: list[int]) -> NodeJSON:
    node: NodeJSON = {
        "id": node_id, "name": a.get("name") or node_id, "label": parts[-1] if parts else node_id,
        "op": a.get("op"), "family": a.get("family"), "kind": a.get("kind", "op"), "subgraph": a.get("subgraph", 0),
        "scope": scope_id, "index": a.get("index", 0), "attrs": _attrs_json(a.get("attrs") or {}),
        "inputs": list(a.get("inputs", ())), "outputs": list(a.get("outputs", ())),
        "calls": list(a.get("calls", ())), "severity": worst, "findings": idx,
    }
    for extra in _NODE_EXTRAS:
        if a.get(extra) not in (None, "", False):
            node[extra] = a[extra]
    return node


def _tensor_json(t: TensorInfo) -> TensorJSON:
    entry: TensorJSON = {
        "name": t.name, "dtype": t.dtype, "shape": list(t.shape) if t.shape is not None else None,
        "producer": t.producer, "consumers": len(t.consumers), "const": t.is_const, "subgraph": t.subgraph,
        "class": dtype_class(t.dtype, t.quant is not None), "quant": None,
    }
    if t.shape_signature is not None and t.shape_signature != t.shape:
        entry["shape_signature"] = list(t.shape_signature)
    if t.nbytes is not None:
        entry["nbytes"] = t.nbytes
    if t.quant is not None:
        entry["quant"] = quant_json(t.dtype, t.quant)
    return entry


def _subgraphs_json(nodes: list[NodeJSON], info: ModelInfo) -> list[SubgraphJSON]:
    # Subgraph ids are the values nodes carry (TFLite: the index; GraphDef: "main" or the function name), in
    # file order, main first; names are the ones the file gives.
    seen: dict[SubgraphId, None] = dict.fromkeys(n["subgraph"] for n in nodes)
    names = list(info.subgraphs)
    return [{"id": s, "name": names[s] if isinstance(s, int) and 0 <= s < len(names) and names[s] else str(s),
             "main": i == 0} for i, s in enumerate(seen)]


def _nodes_and_scopes(model: ModelGraph, rows: list[tuple[str | None, str]],
                      by_node: dict[str, list[int]]) -> tuple[list[NodeJSON], dict[str, ScopeJSON], int]:
    """The viewer's nodes, the scopes their names make, and how many names were deeper than MAX_SCOPE_DEPTH."""
    scopes: dict[str, ScopeJSON] = {}
    nodes: list[NodeJSON] = []
    cut = 0  # nodes deeper than MAX_SCOPE_DEPTH
    for node_id, a in model.nodes.items():
        parts = [p for p in _display_name(a, node_id).split("/") if p]
        if len(parts) > MAX_SCOPE_DEPTH + 1:
            cut += 1
        scope_id = _add_scopes(scopes, parts, a.get("subgraph", 0))
        idx = by_node.get(node_id, [])
        worst = _worst(rows[i][1] for i in idx)
        if idx:
            _count_in_scopes(scopes, scope_id, len(idx), worst)
        nodes.append(_node_json(node_id, a, parts, scope_id, worst, idx))
    return nodes, scopes, cut


def _graph_json(model: ModelGraph, report: Report | Mapping[str, Any] | None) -> GraphJSON:
    rows = _finding_rows(report)
    by_node, model_level, unplaced = _place_findings(rows, model.nodes)
    nodes, scopes, cut = _nodes_and_scopes(model, rows, by_node)
    edges: list[EdgeJSON] = [{"tensor": d.get("tensor"), "src": u, "dst": v, "src_slot": d.get("src_slot", 0),
                               "dst_slot": d.get("dst_slot", 0), "control": bool(d.get("control"))}
                              for u, v, _key, d in model.edges()]
    tensors = {tid: _tensor_json(t) for tid, t in model.tensors.items()}
    info = model.info
    counts: dict[str, int] = {}
    for n in nodes:
        counts[n["kind"]] = counts.get(n["kind"], 0) + 1
    return {
        "schema_version": GRAPH_SCHEMA_VERSION, "format": info.format,
        "subgraphs": _subgraphs_json(nodes, info),
        "nodes": nodes, "edges": edges, "tensors": tensors,
        "scopes": sorted(scopes.values(), key=lambda s: (str(s["subgraph"]), s["path"])),
        "inputs": list(info.inputs), "outputs": list(info.outputs),
        "model_findings": model_level, "unplaced_findings": unplaced,
        "counts": {"nodes": len(nodes), "edges": len(edges), "tensors": len(tensors), "scopes": len(scopes),
                   "scopes_cut": cut,
                   **{f"kind_{k}": v for k, v in sorted(counts.items())}},
    }


def _node_key(node: NodeJSON, graph: GraphJSON) -> str:
    """The key Model Explorer matches a node by: for TFLite ops, the name of its first output tensor (Model
    Explorer's own TFLite node ids are its own numbering); for GraphDef, the node name, which is its node id."""
    if graph.get("format") == "tflite" and node.get("outputs"):
        tensor = graph.get("tensors", {}).get(node["outputs"][0])
        if tensor and tensor.get("name"):
            return tensor["name"]
    if node.get("kind") != "op" or graph.get("format") != "graphdef" or "::" not in node["id"]:
        return node["id"]
    return node["id"].split("::", 1)[1]


def model_explorer_node_data(report_dict: Mapping[str, Any], graph: GraphJSON) -> dict[str, GraphNodeData]:
    """The report's findings as Model Explorer node data (``ModelNodeData``: graph id → ``GraphNodeData``).

    Each node with findings gets ``value`` = the rank of its worst severity (1 info, 2 warning, 3 error) and
    ``bgColor`` for that severity; ``thresholds`` colour the same three levels. Graph ids are the subgraph
    names the file gives (GraphDef: ``main`` and function names; TFLite: the subgraph's name, or its index as
    text when it has none). Nodes without findings are left out, and so are model-level findings, which have
    no node.

    Args:
        report_dict: the JSON report (``findings`` with ``node`` and ``severity``).
        graph: the output of :func:`graph_json` for the same model.
    """
    findings = report_dict.get("findings", [])
    worst: dict[str, str] = {}
    for f in findings:
        node, sev = f.get("node"), f.get("severity", "info")
        if node is not None and SEVERITY_RANK.get(sev, 0) > SEVERITY_RANK.get(worst.get(node, ""), 0):
            worst[node] = sev
    thresholds: list[Threshold] = [{"value": rank, "bgColor": SEVERITY_COLOR[sev],
                                    "textColor": "#ffffff" if rank > 1 else "#000000"}
                                   for sev, rank in SEVERITY_RANK.items()]
    names = {str(s["id"]): s["name"] for s in graph.get("subgraphs", [])}
    out: dict[str, GraphNodeData] = {}
    for node in graph.get("nodes", []):
        sev = worst.get(node["id"])
        if sev is None:
            continue
        gid = str(node.get("subgraph", 0))
        gid = names.get(gid) or gid
        data = out.setdefault(gid, {"results": {}, "thresholds": thresholds})
        data["results"][_node_key(node, graph)] = {"value": SEVERITY_RANK[sev], "bgColor": SEVERITY_COLOR[sev]}
    return out
