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

from graphlint.engine.edits import Edit
from graphlint.engine.finding import Applicability, Finding
from graphlint.engine.targets import DEFAULT_TARGETS
from graphlint.loaders import _graphdef_schema as pb

from .graph import FixError, Graph, canonical, node_of
from .handlers import HANDLERS, Context

Measure = Callable[[bytes, list[str]], Mapping[str, tuple[float, float]]]
MAX_PASSES = 8


@dataclasses.dataclass
class FixResult:
    """What the engine did and the fixed graph."""

    data: bytes  # the fixed GraphDef, serialized (binary, or text when the source was text)
    text: bool  # the source was a text GraphDef (.pbtxt)
    applied: list[dict]  # {pass, code, node, kind, title, applicability, what}
    skipped: list[dict]  # {pass, code, node, kind, reason}
    passes: int
    converged: bool
    stop_reason: str  # converged | oscillation | max-passes
    remaining: list[dict]  # findings of the final lint (JSON form)
    inputs: tuple[str, ...]  # the input names the caller gave
    outputs: tuple[str, ...]  # the outputs, as given or inferred at the first pass
    before: object = dataclasses.field(repr=False, default=None)  # the original GraphDef message
    after: object = dataclasses.field(repr=False, default=None)  # the fixed GraphDef message

    def to_dict(self) -> dict:
        """JSON form (without the graphs)."""
        return {"passes": self.passes, "converged": self.converged, "stop_reason": self.stop_reason,
                "applied": self.applied, "skipped": self.skipped, "remaining": self.remaining,
                "inputs": list(self.inputs), "outputs": list(self.outputs),
                "nodes_before": len(self.before.node) if self.before is not None else None,
                "nodes_after": len(self.after.node) if self.after is not None else None}

    def diff(self, a_name: str = "a", b_name: str = "b") -> str:
        """A node-level diff of the original and the fixed graph (see :func:`graph_diff`)."""
        return graph_diff(self.before, self.after, a_name, b_name)


def _parse(data: bytes) -> tuple[object, bool]:
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


def _serialize(graph_def, text: bool) -> bytes:
    if text:
        from google.protobuf import text_format

        return text_format.MessageToString(graph_def).encode()
    return graph_def.SerializeToString(deterministic=True)


def _allowed(applicability: Applicability, unsafe: bool) -> bool:
    return applicability == Applicability.SAFE or (unsafe and applicability == Applicability.UNSAFE)


def fix_graph(data: bytes, *, inputs: Sequence[str] = (), outputs: Sequence[str] = (), unsafe: bool = False,
              targets: Sequence[str] = DEFAULT_TARGETS, registry=None, selection=None, measure: Measure | None = None,
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
    from graphlint.engine.options import parse_io
    from graphlint.engine.runner import lint
    from graphlint.engine.select import Selection

    shapes, graph_def, text = _read(data, inputs)
    before = pb.GraphDef()
    before.CopyFrom(graph_def)
    graph = Graph(graph_def)
    selection = selection or Selection(preview=True)
    applied: list[dict] = []
    skipped: list[dict] = []
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
        if report.fatal:
            raise FixError(report.fatal_finding.message)
        model = report.model_graph
        if ctx is None:  # pin inputs and outputs at the first pass so that every later pass agrees
            ctx = Context(inputs=tuple(node_of(n) for n in parse_io(inputs)[0]),
                          outputs=tuple(canonical(t) for t in model.info.outputs))
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
    return FixResult(data=_serialize(graph_def, text), text=text, applied=applied, skipped=skipped, passes=passes,
                     converged=stop == "converged", stop_reason=stop,
                     remaining=[f.to_dict() for f in report.findings], inputs=ctx.inputs, outputs=ctx.outputs,
                     before=before, after=graph_def)


def _read(data: bytes, inputs: Sequence[str]) -> tuple[Mapping, pb.GraphDef, bool]:
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


def _apply(graph: Graph, todo: list[tuple[str, str, str, Edit]], ctx: Context, number: int, applied: list[dict],
           skipped: list[dict]) -> bool:
    """Apply pass ``number``'s edits, recording each in ``applied`` or ``skipped``; True when any applied."""
    any_applied = False
    for finding_code, title, applicability, edit in todo:
        record = {"pass": number, "code": finding_code, "node": edit.node, "kind": edit.kind}
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


def _collect(findings: Sequence[Finding], unsafe: bool) -> list[tuple[str, str, str, Edit]]:
    todo = []
    for finding in findings:
        fix = finding.fix
        if fix is None or not fix.edits or not _allowed(fix.applicability, unsafe):
            continue
        todo.extend((finding.code, fix.title, fix.applicability.value, edit) for edit in fix.edits)
    return todo


def _engine_edits(graph: Graph, ctx: Context, user_outputs: Sequence[str], shapes: Mapping,
                  number: int) -> list[tuple[str, str, str, Edit]]:
    """The engine's own passes: prune when outputs were given; input shapes the user gave (unsafe)."""
    todo = []
    for name, shape in sorted(shapes.items()):
        node = node_of(name)
        if node in graph and graph.node(node).op.startswith("Placeholder"):
            declared = graph.node(node).attr["shape"].shape
            current = None if declared.unknown_rank else tuple(None if d.size < 0 else d.size for d in declared.dim)
            if current != tuple(shape) and None not in shape:
                todo.append(("engine", f"Set the shape of input `{node}`", "unsafe",
                             Edit.of("set-input-shape", node, shape=list(shape))))
    if user_outputs and number == 1:
        todo.append(("engine", "Drop the nodes no output depends on", "safe", Edit.of("prune")))
    return todo


def _dedupe(todo: list) -> list:
    seen, out = set(), []
    for item in todo:
        key = json.dumps(item[3].to_dict(), sort_keys=True, default=str)  # params may hold lists
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _measure(graph_def, todo: list, ctx: Context, measure: Measure | None, skipped: list, number: int) -> None:
    """Measure the ranges add-fake-quant edits leave open, once per pass."""
    wanted = sorted({canonical(e.param("tensor") or e.node) for *_, e in todo
                     if e.kind == "add-fake-quant" and (e.param("min") is None or e.param("max") is None)})
    wanted = [t for t in wanted if t not in ctx.ranges]
    if not wanted or measure is None:
        return
    try:
        ranges = measure(_serialize(graph_def, False), wanted)
    except FixError as err:
        skipped.append({"pass": number, "code": "engine", "node": None, "kind": "add-fake-quant",
                        "reason": str(err)})
        return
    ctx.ranges = {**ctx.ranges, **{canonical(k): v for k, v in ranges.items()}}


def _validate(report, ctx: Context | None) -> list[str]:
    from graphlint.ir import validate

    if report.fatal:
        return [report.fatal_finding.message]
    model = report.model_graph
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


def graph_diff(before, after, a_name: str = "a", b_name: str = "b") -> str:
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
