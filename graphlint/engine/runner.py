"""Run the selected rules over a model and build the :class:`~graphlint.report.Report`.

A rule that raises becomes one internal-error finding (GL900) and the other rules still run; a model that
cannot be loaded becomes one fatal finding (GL001 / GL002) instead of an exception, and so does a model over
its :class:`Budgets` (GL005: too many nodes, or the memory ran out while loading or linting it).
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from graphlint._gc import gc_paused
from graphlint.ir import ModelGraph
from graphlint.loaders import DEFAULT_MAX_NODES, BudgetExceeded, LoadError, check_memory, load
from graphlint.report import Report, model_summary, unreadable_summary

from .finding import Finding, Severity
from .options import LintOptions
from .registry import Registry, default_registry
from .rule import Category, Rule, RuleContext
from .select import Selection


class _EngineRule(Rule):
    """Stand-in used only when the built-in pack that documents engine codes failed to load."""

    category = Category.INTERNAL
    engine_emitted = True


DEFAULT_MAX_FINDINGS = 1000  # findings listed per rule; a model of 100k unfrozen variables gave 100,001


@dataclasses.dataclass(frozen=True)
class Budgets:
    """Per-model limits. ``max_nodes`` over: one fatal GL005 finding. A rule's findings beyond
    ``max_findings_per_rule`` become one summary finding of that rule. None means no limit."""

    max_nodes: int | None = DEFAULT_MAX_NODES
    max_findings_per_rule: int | None = DEFAULT_MAX_FINDINGS


def _engine_rule(registry: Registry, code: str, name: str) -> Rule:
    rule = registry.by_code().get(code)
    if rule is None:
        rule = type(name, (_EngineRule,), {"code": code, "name": name, "summary": name})
    return rule()


# A SavedModel (a Keras file is traced into one) is read as the frozen GraphDef the converter makes of it: the
# GraphDef rules apply.
_RULE_FORMAT = {"savedmodel": "graphdef"}


def lint(source: str | os.PathLike[str] | bytes | ModelGraph, options: LintOptions | None = None, *,
         targets: Sequence[str] | None = None, inputs: Sequence[str] | None = None,
         outputs: Sequence[str] | None = None, selection: Selection | None = None, registry: Registry | None = None,
         name: str | None = None, rule_options: Mapping[str, Mapping[str, Any]] | None = None,
         sha256: str | None = None, budgets: Budgets | None = None, signature: str | None = None) -> Report:
    """Load a model (unless given one) and lint it.

    Args:
        source: a path, the file's bytes, or an already loaded model.
        options: the targets, inputs, outputs and rules (default: :class:`LintOptions`'s defaults).
        targets, inputs, outputs, selection: instead of ``options``, its fields (the options are made of them).
        registry: the rule registry (default: the installed packs).
        name: the path to report for in-memory sources.
        rule_options: per-rule options, keyed by code (a rule reads its own as ``ctx.options``).
        sha256: the source's SHA-256 when the caller already computed it (see :func:`graphlint.loaders.load`).
        budgets: per-model limits (default: :class:`Budgets` defaults).
        signature: a SavedModel's signature (default ``serving_default``).

    Returns:
        The report. Never raises for a bad model: that becomes a fatal finding.

    Raises:
        OptionsError: the options (or the fields given instead) are invalid.
        TypeError: both ``options`` and some of its fields were given.
    """
    fields = {"targets": targets, "inputs": inputs, "outputs": outputs, "selection": selection}
    if options is not None and any(v is not None for v in fields.values()):
        given = ", ".join(k for k, v in fields.items() if v is not None)
        raise TypeError(f"lint() takes either options or its fields, not both (got {given})")
    if options is None:
        options = LintOptions(targets=tuple(targets or ()), inputs=tuple(inputs or ()), outputs=tuple(outputs or ()),
                              selection=selection or Selection())
    with gc_paused():
        return _lint(source, options, registry=registry, name=name, rule_options=rule_options, sha256=sha256,
                     budgets=budgets or Budgets(), signature=signature)


def _lint(source: str | os.PathLike[str] | bytes | ModelGraph, options: LintOptions, *, registry: Registry | None,
          name: str | None, rule_options: Mapping[str, Mapping[str, Any]] | None, sha256: str | None,
          budgets: Budgets, signature: str | None = None) -> Report:
    targets, selection = options.targets, options.selection
    registry = registry or default_registry()
    input_names, shapes = options.input_names, options.input_shapes
    output_names = options.outputs
    ctx = RuleContext(targets=targets, user_inputs=input_names, user_outputs=output_names, user_shapes=shapes)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    findings: list[Finding] = []
    rules_run: list[str] = []
    summary: Mapping[str, Any]
    model: ModelGraph | None
    try:
        if isinstance(source, ModelGraph):
            model = source
        else:
            model = load(source, name=name, input_shapes=shapes, inputs=input_names, outputs=output_names,
                         sha256=sha256, max_nodes=budgets.max_nodes, signature=signature)
        summary = model_summary(model)
    except LoadError as err:
        model = None
        findings.append(_load_failure(registry, err))
        summary = unreadable_summary(source, name, sha256)
    timings["load"] = (time.perf_counter() - start) * 1000
    lint_start = time.perf_counter()
    if model is not None:
        findings = _run_rules(model, ctx, registry, selection, rule_options or {}, rules_run)
    findings.extend(_broken_packs(registry, selection))
    kept = _kept(findings, targets, selection)
    if model is not None and model.info.keras_layers:
        kept = _with_layers(kept, frozenset(model.info.keras_layers))
    kept = _cap_per_rule(kept, budgets.max_findings_per_rule, targets)
    timings["lint"] = (time.perf_counter() - lint_start) * 1000
    timings["total"] = (time.perf_counter() - start) * 1000
    return Report(model=summary, targets=targets, findings=kept, rules_run=sorted(rules_run),
                  broken_packs=[dataclasses.asdict(p) for p in registry.broken], timings_ms=timings,
                  model_graph=model)


def _load_failure(registry: Registry, err: LoadError) -> Finding:
    """The one fatal finding of a model that could not be loaded."""
    code, rule_name = _LOAD_CODES.get(err.kind, ("GL001", "unreadable-model"))
    rule = _engine_rule(registry, code, rule_name)
    data = {"kind": err.kind, **({"budget": err.budget} if isinstance(err, BudgetExceeded) else {})}
    return rule.report(None, None, str(err), severity=Severity.ERROR, data=data)


def _applies(rule_cls: type[Rule], model: ModelGraph, selection: Selection) -> bool:
    if rule_cls.engine_emitted or not selection.enabled(rule_cls):
        return False
    return _RULE_FORMAT.get(model.info.format, model.info.format) in rule_cls.formats


def _run_rules(model: ModelGraph, ctx: RuleContext, registry: Registry, selection: Selection,
               options: Mapping[str, Mapping[str, Any]], rules_run: list[str]) -> list[Finding]:
    """Every selected rule's findings (appending each code run to ``rules_run``); a rule over budget or out of
    memory leaves one fatal finding instead, and a rule that crashes leaves a GL900 warning."""
    findings: list[Finding] = []
    for rule_cls in registry.rules:
        if not _applies(rule_cls, model, selection):
            continue
        rules_run.append(rule_cls.code)
        rule = rule_cls()
        rule_ctx = dataclasses.replace(ctx, options=options.get(rule_cls.code, {}))
        try:
            check_memory(model.info.path)
            findings.extend(rule.check(model, rule_ctx))
        except BudgetExceeded as err:
            return [_engine_rule(registry, "GL005", "model-over-budget").report(
                None, None, str(err), severity=Severity.ERROR,
                data={"kind": err.kind, "budget": err.budget, "rule": rule_cls.code})]
        except MemoryError:
            return [_out_of_memory(registry, model, rule_cls)]
        except Exception as err:  # noqa: BLE001 - one broken rule must not stop the others
            crash = _crash(registry, selection, rule_cls, err)
            if crash is not None:
                findings.append(crash)
    return findings


def _crash(registry: Registry, selection: Selection, rule_cls: type[Rule], err: Exception) -> Finding | None:
    """The GL900 warning for a rule that raised ``err`` (None when GL900 is not selected)."""
    crash = _engine_rule(registry, "GL900", "rule-crashed")
    if not selection.enabled(type(crash)):
        return None
    tb = traceback.format_exception(type(err), err, err.__traceback__)
    return crash.report(
        None, None, f"rule {rule_cls.code} ({rule_cls.name}) crashed: {type(err).__name__}: {err}"
        .splitlines()[0], severity=Severity.WARNING,
        data={"rule": rule_cls.code, "traceback": "".join(tb[-3:])[-2000:]})


def _broken_packs(registry: Registry, selection: Selection) -> list[Finding]:
    broken = _engine_rule(registry, "GL901", "rule-pack-broken")
    return [broken.report(None, None, f"rule pack `{pack.name}` ({pack.value}) was not loaded: {pack.error}",
                          severity=Severity.WARNING)
            for pack in (registry.broken if selection.enabled(type(broken)) else ())]


def _kept(findings: list[Finding], targets: Sequence[str], selection: Selection) -> list[Finding]:
    """The findings for the chosen targets, after the selection's filters, in report order."""
    kept = []
    for finding in findings:
        if finding.targets and not set(finding.targets) & set(targets):
            continue
        chosen = selection.apply(finding)
        if chosen is not None:
            kept.append(chosen)
    kept.sort(key=_sort_key)
    return kept


def _with_layers(findings: list[Finding], layers: frozenset[str]) -> list[Finding]:
    """A Keras model's findings, each on a node of a layer with ``data.keras_layer`` naming it."""
    from graphlint.loaders.keras import layer_of

    out = []
    for finding in findings:
        layer = layer_of(finding.node, layers) if finding.node else None
        out.append(finding if layer is None else dataclasses.replace(finding, data=(*finding.data,
                                                                                    ("keras_layer", layer))))
    return out


def _sort_key(f: Finding) -> tuple[Any, ...]:
    return (f.node is not None, f.index, f.code, f.node or "", f.tensor or "", f.message)


_LOAD_CODES = {"empty": ("GL002", "empty-model"), "over-budget": ("GL005", "model-over-budget")}


def _out_of_memory(registry: Registry, model: ModelGraph, rule_cls: type[Rule]) -> Finding:
    """The one fatal finding left when a rule ran out of memory (its partial results and the others' are
    dropped: a report written after memory ran out would be incomplete without saying so)."""
    rule = _engine_rule(registry, "GL005", "model-over-budget")
    err = BudgetExceeded(f"{model.info.path}: model over budget: not enough memory to lint it (rule "
                         f"{rule_cls.code} ran out; raise the limit with --max-memory)", "max-memory", 0)
    return rule.report(None, None, str(err), severity=Severity.ERROR,
                       data={"kind": err.kind, "budget": err.budget, "rule": rule_cls.code})


def _cap_per_rule(findings: list[Finding], cap: int | None, targets: Sequence[str]) -> list[Finding]:
    """Keep the first ``cap`` findings of each code (in report order); the rest of a code become one summary
    finding of that rule with their worst severity per target, so no verdict changes."""
    if cap is None:
        return findings
    counts: dict[str, int] = {}
    kept: list[Finding] = []
    over: dict[str, list[Finding]] = {}
    for finding in findings:
        seen = counts[finding.code] = counts.get(finding.code, 0) + 1
        if seen <= cap:
            kept.append(finding)
        else:
            over.setdefault(finding.code, []).append(finding)
    if not over:
        return kept
    kept.extend(_summary(omitted, cap, targets) for omitted in over.values())
    kept.sort(key=_sort_key)
    return kept


def _summary(omitted: list[Finding], cap: int, targets: Sequence[str]) -> Finding:
    """One model-level finding standing for ``omitted`` (same code and rule)."""
    worst: dict[str, Severity] = {}
    for finding in omitted:
        for target in targets:
            sev = finding.severity_for(target)
            if sev is not None and (target not in worst or sev.rank > worst[target].rank):
                worst[target] = sev
    severity = max(worst.values(), key=lambda s: s.rank, default=omitted[0].severity)
    first = omitted[0]
    message = (f"{len(omitted):,} more {first.code} ({first.rule}) findings are not listed: the report lists "
               f"{cap:,} per rule (raise it with --max-findings)")
    return dataclasses.replace(
        first, severity=severity, message=message, node=None, op=None, tensor=None,
        targets=tuple(t for t in targets if t in worst),
        target_severity=tuple(sorted((t, s) for t, s in worst.items() if s is not severity)), fix=None,
        data=(("budget", "max-findings"), ("omitted", len(omitted))), subgraph=0, index=-1)
