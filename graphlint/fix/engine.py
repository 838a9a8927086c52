"""The fix engine: lint, apply the fixes' edits, re-lint until nothing applicable is left (bounded), validate.

Each pass lints the current graph with every rule (preview rules included: a fix is data the engine checks,
and ``graphlint fix`` is the opt-in), takes the fixes whose applicability is allowed (safe; unsafe with
``unsafe=True``; display-only never) and applies their edits in report order. An edit that no longer fits
(its node went away with an earlier edit, or the handler refuses) is skipped and the next pass sees the graph
afresh. The engine also runs two passes of its own, both stated in the result:

* ``prune`` (safe) when the caller named the outputs: nodes no output depends on are dropped;
* ``set-input-shape`` (unsafe) for every input whose shape the caller gave and the graph declares otherwise.

The loop stops when a pass has nothing to apply (converged), when a graph repeats (an oscillation between
rules) or after ``max_passes``. The result is validated: it must load, satisfy the IR invariants, keep every
input and output, and read no tensor that nothing produces.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

from graphlint.engine.edits import Edit
from graphlint.engine.finding import Applicability, Finding
from graphlint.engine.targets import DEFAULT_TARGETS
from graphlint.loaders import graphdef_schema as pb

from .graph import FixError, Graph, canonical, node_of
from .handlers import HANDLERS, Context

if TYPE_CHECKING:
    from graphlint.engine.registry import Registry
    from graphlint.engine.select import Selection
    from graphlint.ir import ModelGraph, Shape
    from graphlint.report import JSONObject, Report

Measure = Callable[[bytes, list[str]], Mapping[str, tuple[float, float]]]
MAX_PASSES = 8
Todo = tuple[str, str, str, Edit]  # (code of the finding or "engine", fix title, applicability, edit)

# What the engine did with one edit. "pass" is a keyword, so the base uses the functional form.
EditRecord = TypedDict("EditRecord", {"pass": int, "code": str, "node": str | None, "kind": str})


class Applied(EditRecord):
    """An edit the engine applied."""

    title: str
    applicability: str
    what: str  # what the handler did, in one line


class Skipped(EditRecord):
    """An edit the engine left out, and why."""

    reason: str


class FixJSON(TypedDict):
    """A fix run as the conversion report states it (:meth:`FixResult.to_dict`)."""

    passes: int
    converged: bool
    stop_reason: str
    applied: list[Applied]
    skipped: list[Skipped]
    remaining: list[JSONObject]
    inputs: list[str]
    outputs: list[str]
    nodes_before: int | None
    nodes_after: int | None


@dataclasses.dataclass
class FixResult:
    """What the engine did and the fixed graph."""

    data: bytes  # the fixed GraphDef, serialized (binary, or text when the source was text)
    text: bool  # the source was a text GraphDef (.pbtxt)
    applied: list[Applied]
    skipped: list[Skipped]
    passes: int
    converged: bool
    stop_reason: str  # converged | oscillation | max-passes
    remaining: list[JSONObject]  # findings of the final lint (JSON form)
    inputs: tuple[str, ...]  # the input names the caller gave
    outputs: tuple[str, ...]  # the outputs, as given or inferred at the first pass
    before: pb.Message | None = dataclasses.field(repr=False, default=None)  # the original GraphDef message
    after: pb.Message | None = dataclasses.field(repr=False, default=None)  # the fixed GraphDef message

    def to_dict(self) -> FixJSON:
        """JSON form (without the graphs)."""
        return {"passes": self.passes, "converged": self.converged, "stop_reason": self.stop_reason,
                "applied": self.applied, "skipped": self.skipped, "remaining": self.remaining,
                "inputs": list(self.inputs), "outputs": list(self.outputs),
                "nodes_before": len(self.before.node) if self.before is not None else None,
                "nodes_after": len(self.after.node) if self.after is not None else None}

    def diff(self, a_name: str = "a", b_name: str = "b") -> str:
        """A node-level diff of the original and the fixed graph (see :func:`graph_diff`)."""
        return graph_diff(self.before, self.after, a_name, b_name)


def _parse(data: bytes) -> tuple[pb.Message, bool]:
    from graphlint.loaders import sniff

    graph_def = pb.GraphDef()
    if sniff(data[:4096]) == "pbtxt":
        from google.protobuf import text_format

        try:
            text_format.Parse(data.decode("utf-8"), graph_def, allow_unknown_field=True)
        except (text_format.ParseError, UnicodeDecodeError) as err:
            raise FixError(f"not a valid text GraphDef ({str(err).splitlines()[0]})") from None
        return graph_def, True
    try:
        graph_def.ParseFromString(data)
    except Exception as err:  # noqa: BLE001 - protobuf raises several types for corrupt input
        raise FixError(f"not a valid GraphDef ({type(err).__name__})") from None
    return graph_def, False


def _serialize(graph_def: pb.Message, text: bool) -> bytes:
    if text:
        from google.protobuf import text_format

        data: bytes = text_format.MessageToString(graph_def).encode()
    else:
        data = graph_def.SerializeToString(deterministic=True)
    return data


def _allowed(applicability: Applicability, unsafe: bool) -> bool:
    return applicability == Applicability.SAFE or (unsafe and applicability == Applicability.UNSAFE)


def fix_graph(data: bytes, *, inputs: Sequence[str] = (), outputs: Sequence[str] = (), unsafe: bool = False,
              targets: Sequence[str] = DEFAULT_TARGETS, registry: Registry | None = None,
              selection: Selection | None = None, measure: Measure | None = None,
              max_passes: int = MAX_PASSES) -> FixResult:
    """Apply the fixes the rules attach until the graph is stable; validate and return the fixed graph.

    Args:
        data: a frozen GraphDef (binary or text).
        inputs: ``NAME[:SHAPE]`` input specs (shapes are used by the unsafe set-input-shape pass).
        outputs: output tensor names (with them, the safe prune pass runs).
        unsafe: also apply unsafe fixes.
        targets: the targets to lint for (rules attach target-specific fixes).
        registry: the rule registry (default: the installed packs).
        selection: rule selection (default: every rule, preview rules included).
        measure: ``measure(graph bytes, tensor names) -> {tensor: (min, max)}`` for add-fake-quant edits that
            give no range (the convert path measures on calibration data in a worker).
        max_passes: bound on lint-and-fix passes.

    Raises:
        FixError: the model cannot be read, or the fixed graph fails validation.
    """
    from graphlint.engine.runner import lint
    from graphlint.engine.select import Selection

    shapes, graph_def, text = _read(data, inputs)
    before = pb.GraphDef()
    before.CopyFrom(graph_def)
    graph = Graph(graph_def)
    selection = selection or Selection(preview=True)
    applied: list[Applied] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    ctx: Context | None = None
    stop, passes = "max-passes", 0
    user_outputs = tuple(outputs)
    for number in range(1, max_passes + 1):
        current = _serialize(graph_def, False)
        digest = hashlib.sha256(current).hexdigest()
        if digest in seen:
            stop = "oscillation"
            break
        seen.add(digest)
        report = lint(current, targets=targets, inputs=inputs, outputs=user_outputs, selection=selection,
                      registry=registry, name="<fix>")
        model = _loaded(report)
        if ctx is None:  # pin inputs and outputs at the first pass so that every later pass agrees
            ctx = _context(inputs, model)
            user_outputs = tuple(ctx.outputs)
        todo = _collect(report.findings, unsafe)
        todo += _engine_edits(graph, ctx, outputs, shapes if unsafe else {}, number)
        todo = _dedupe(todo)
        if not todo:
            stop = "converged"
            break
        passes = number
        _measure(graph_def, todo, ctx, measure, skipped, number)
        if not _apply(graph, todo, ctx, number, applied, skipped):
            stop = "converged"  # everything left was refused: another pass would refuse it again
            break
    final = _serialize(graph_def, False)
    report = lint(final, targets=targets, inputs=inputs, outputs=user_outputs, selection=selection,
                  registry=registry, name="<fixed>")
    problems = _validate(report, ctx)
    if problems:
        raise FixError("the fixed graph is not valid: " + "; ".join(problems[:3]))
    if ctx is None:  # no pass ran (max_passes < 1): the graph is as it came, and so are its inputs and outputs
        ctx = _context(inputs, _loaded(report))
    return FixResult(data=_serialize(graph_def, text), text=text, applied=applied, skipped=skipped, passes=passes,
                     converged=stop == "converged", stop_reason=stop,
                     remaining=[f.to_dict() for f in report.findings], inputs=ctx.inputs, outputs=ctx.outputs,
                     before=before, after=graph_def)


def _loaded(report: Report) -> ModelGraph:
    """The model a lint loaded; FixError saying why when it could not read it."""
    fatal, model = report.fatal_finding, report.model_graph
    if fatal is not None:
        raise FixError(fatal.message)
    if model is None:  # the runner reports every model it cannot read with a fatal finding
        raise FixError("the graph cannot be read")
    return model


def _context(inputs: Sequence[str], model: ModelGraph) -> Context:
    """The inputs the caller named and the outputs of ``model``, as the handlers keep them."""
    from graphlint.engine.options import parse_io

    return Context(inputs=tuple(node_of(n) for n in parse_io(inputs)[0]),
                   outputs=tuple(canonical(t) for t in model.info.outputs))


def _read(data: bytes, inputs: Sequence[str]) -> tuple[Mapping[str, Shape], pb.Message, bool]:
    """The input shapes the user gave, the parsed GraphDef and whether it was text; FixError when either
    cannot be read or the graph is empty."""
    from graphlint.engine.options import parse_io

    try:
        _, shapes = parse_io(inputs)
    except ValueError as err:
        raise FixError(str(err)) from None
    graph_def, text = _parse(data)
    if not graph_def.node:
        raise FixError("the GraphDef has no nodes")
    return shapes, graph_def, text


def _apply(graph: Graph, todo: list[Todo], ctx: Context, number: int, applied: list[Applied],
           skipped: list[Skipped]) -> bool:
    """Apply pass ``number``'s edits, recording each in ``applied`` or ``skipped``; True when any applied."""
    any_applied = False
    for finding_code, title, applicability, edit in todo:
        record: EditRecord = {"pass": number, "code": finding_code, "node": edit.node, "kind": edit.kind}
        if edit.node is not None and edit.node not in graph:
            skipped.append({**record, "reason": "the node is gone (an earlier edit removed it)"})
            continue
        try:
            what = HANDLERS[edit.kind](graph, edit, ctx)
        except FixError as err:
            if finding_code != "engine" or edit.kind != "prune":  # the engine's own prune may find nothing
                skipped.append({**record, "reason": str(err)})
            continue
        applied.append({**record, "title": title, "applicability": applicability, "what": what})
        any_applied = True
    return any_applied


def _collect(findings: Sequence[Finding], unsafe: bool) -> list[Todo]:
    todo: list[Todo] = []
    for finding in findings:
        fix = finding.fix
        if fix is None or not fix.edits or not _allowed(fix.applicability, unsafe):
            continue
        todo.extend((finding.code, fix.title, fix.applicability.value, edit) for edit in fix.edits)
    return todo


def _engine_edits(graph: Graph, ctx: Context, user_outputs: Sequence[str], shapes: Mapping[str, Shape],
                  number: int) -> list[Todo]:
    """The engine's own passes: prune when outputs were given; input shapes the user gave (unsafe)."""
    todo: list[Todo] = []
    for name, shape in sorted(shapes.items()):
        node = node_of(name)
        if shape is not None and node in graph and graph.node(node).op.startswith("Placeholder"):
            declared = graph.node(node).attr["shape"].shape
            current = None if declared.unknown_rank else tuple(None if d.size < 0 else d.size for d in declared.dim)
            if current != tuple(shape) and None not in shape:
                todo.append(("engine", f"Set the shape of input `{node}`", "unsafe",
                             Edit.of("set-input-shape", node, shape=list(shape))))
    if user_outputs and number == 1:
        todo.append(("engine", "Drop the nodes no output depends on", "safe", Edit.of("prune")))
    return todo


def _dedupe(todo: list[Todo]) -> list[Todo]:
    seen: set[str] = set()
    out: list[Todo] = []
    for item in todo:
        key = json.dumps(item[3].to_dict(), sort_keys=True, default=str)  # params may hold lists
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _measure(graph_def: pb.Message, todo: list[Todo], ctx: Context, measure: Measure | None, skipped: list[Skipped],
             number: int) -> None:
    """Measure the ranges add-fake-quant edits leave open, once per pass."""
    wanted = sorted({t for *_, e in todo if (t := _open_range(e)) is not None and t not in ctx.ranges})
    if not wanted or measure is None:
        return
    try:
        ranges = measure(_serialize(graph_def, False), wanted)
    except FixError as err:
        skipped.append({"pass": number, "code": "engine", "node": None, "kind": "add-fake-quant",
                        "reason": str(err)})
        return
    ctx.ranges = {**ctx.ranges, **{canonical(k): v for k, v in ranges.items()}}


def _open_range(edit: Edit) -> str | None:
    """The tensor whose range an add-fake-quant edit leaves to be measured; None for any other edit, one that gives
    its range, or one that names no tensor (its handler refuses it: there is nothing to measure)."""
    if edit.kind != "add-fake-quant" or (edit.param("min") is not None and edit.param("max") is not None):
        return None
    tensor: str | None = edit.param("tensor") or edit.node
    return canonical(tensor) if tensor is not None else None


def _validate(report: Report, ctx: Context | None) -> list[str]:
    from graphlint.ir import validate

    try:
        model = _loaded(report)
    except FixError as err:
        return [str(err)]
    problems = validate(model)
    for tid, tensor in sorted(model.tensors.items()):
        if tensor.producer is None and tensor.consumers and tensor.subgraph == "main":
            problems.append(f"`{tensor.consumers[0]}` reads `{tid}`, which nothing produces")
    if ctx is not None:
        for t in ctx.outputs:
            if t not in model.tensors or model.tensors[t].producer is None:
                problems.append(f"output `{t}` is gone")
        for n in ctx.inputs:
            if n not in model.nodes:
                problems.append(f"input `{n}` is gone")
    return problems


def graph_diff(before: pb.Message, after: pb.Message, a_name: str = "a", b_name: str = "b") -> str:
    """Node-level diff: ``-`` removed nodes, ``+`` added nodes, ``~`` nodes whose op, inputs or attrs changed."""
    old = {n.name: n for n in before.node}
    new = {n.name: n for n in after.node}
    lines = [f"--- {a_name}", f"+++ {b_name}"]
    for name, node in old.items():
        if name not in new:
            lines.append(f"- {name} ({node.op})")
        else:
            other = new[name]
            changes = []
            if other.op != node.op:
                changes.append(f"op {node.op} -> {other.op}")
            if list(other.input) != list(node.input):
                changes.append(f"inputs [{', '.join(node.input)}] -> [{', '.join(other.input)}]")
            changed_attrs = sorted(k for k in set(node.attr) | set(other.attr)
                                   if k not in node.attr or k not in other.attr or node.attr[k] != other.attr[k])
            if changed_attrs:
                changes.append("attrs " + ", ".join(changed_attrs))
            if changes:
                lines.append(f"~ {name}: " + "; ".join(changes))
    for name, node in new.items():
        if name not in old:
            inputs = ", ".join(node.input)
            lines.append(f"+ {name} ({node.op}{': ' + inputs if inputs else ''})")
    return "\n".join(lines) + "\n"
