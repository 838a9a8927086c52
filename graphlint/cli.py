"""``graphlint`` command line. Exit codes: 0 nothing at error level for the chosen targets, 1 findings at
error level, 2 a usage error or a model file that cannot be read."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .engine.options import LintOptions
    from .engine.registry import Registry
    from .engine.rule import Rule
    from .engine.runner import Budgets
    from .report import Report

    Command = Callable[[argparse.Namespace], int]  # runs a subcommand and returns its exit code

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

# Modules that add subcommands: each has ``register(subparsers) -> {command: run(args) -> exit code}`` and keeps
# its heavy imports inside ``run`` so that ``graphlint check`` stays fast.
_COMMAND_MODULES: tuple[str, ...] = ("graphlint.api.commands", "graphlint.convert.commands")
_RUNNERS: dict[str, Command] = {}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"graphlint: error: {message} (see graphlint {self.prog.split()[-1]} --help)\n"
                  if " " in self.prog else f"graphlint: error: {message}\n")


class _NoShortO(argparse.Action):
    """``check -o``: -o names the file ``convert`` and ``fix`` write, so ``check`` answers it with where to go."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> NoReturn:
        parser.error("`check` has no -o: an output tensor is --output NAME, a report file -f FMT:PATH (-o is the "
                     "file written by convert and fix)")


def _build_parser() -> argparse.ArgumentParser:
    from .engine.targets import TARGETS
    from .formats import FORMATS
    from .loaders import ACCEPTED

    parser = _Parser(prog="graphlint", description="Pre-flight check for TensorFlow models going to TFLite.")
    parser.add_argument("--version", action="version", version=f"graphlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = sub.add_parser("check", help="lint models for conversion targets",
                           description="Predict every conversion and quantization problem of MODEL for each target.")
    check.add_argument("models", nargs="+", metavar="MODEL",
                       help=ACCEPTED + "; a Keras file is traced by TensorFlow (graphlint[convert])")
    check.add_argument("--signature", metavar="NAME", default=None,
                       help="the SavedModel signature to check (default: serving_default)")
    check.add_argument("--target", "-t", action="append", metavar="T",
                       help=f"target to check, repeatable or comma-separated ({', '.join(TARGETS)}); "
                            "default: float,int8 or the config's `targets`")
    check.add_argument("--input", "-i", action="append", default=[], metavar="NAME[:SHAPE]",
                       help="GraphDef input tensor, optionally with a shape: x:1,224,224,3 (? = unknown dim)")
    check.add_argument("--output", action="append", default=[], metavar="NAME",
                       help="GraphDef output tensor (default: tensors nothing consumes)")
    check.add_argument("-o", nargs="?", action=_NoShortO, help=argparse.SUPPRESS)
    check.add_argument("--format", "-f", action="append", metavar="FMT[:PATH]",
                       help=f"output format ({', '.join(FORMATS)}), to stdout or to PATH; repeatable")
    check.add_argument("--select", action="append", metavar="CODES", help="run only these codes, prefixes or names")
    check.add_argument("--extend-select", action="append", metavar="CODES", help="add to the selection")
    check.add_argument("--ignore", action="append", metavar="CODES", help="skip these codes, prefixes or names")
    check.add_argument("--preview", action="store_true", help="also run preview rules")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are error findings")
    check.add_argument("--config", metavar="PATH", help="config file (default: nearest graphlint.toml or "
                                                         "pyproject.toml with [tool.graphlint])")
    check.add_argument("--isolated", action="store_true", help="ignore config files")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    check.add_argument("--server", metavar="URL", default=os.environ.get("GRAPHLINT_SERVER") or None,
                       help="lint on a graphlint server instead of locally (upload, then print the same output) "
                            "[GRAPHLINT_SERVER]")
    check.add_argument("--token", metavar="TOKEN", default=os.environ.get("GRAPHLINT_TOKEN") or None,
                       help="bearer token for --server [GRAPHLINT_TOKEN]")
    _add_budget_flags(check)
    check.add_argument("--verify", action="store_true",
                       help="after the prediction, run the real converter, LiteRT and TFLite Micro for each target "
                            "and mark every verdict confirmed or contradicted (needs graphlint[convert])")

    rules = sub.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    rules.add_argument("--all", action="store_true", help="include engine-emitted codes")

    targets = sub.add_parser("targets", help="list the targets: converter settings and what runs the result")
    targets.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    rule = sub.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", metavar="CODE", help="rule code (GL101) or name (unfrozen-variable)")

    for module in _COMMAND_MODULES:
        commands: dict[str, Command] = importlib.import_module(module).register(sub)
        _RUNNERS.update(commands)
    return parser


DEFAULT_MAX_MEMORY_MB = 4096  # address space of `graphlint check`: a 250k-node lint needs about 1 GB


def _add_budget_flags(check: argparse.ArgumentParser) -> None:
    from .engine.runner import DEFAULT_MAX_FINDINGS
    from .loaders import DEFAULT_MAX_NODES

    check.add_argument("--max-nodes", type=int, default=DEFAULT_MAX_NODES, metavar="N",
                       help=f"refuse models with more nodes (default {DEFAULT_MAX_NODES}; 0 = no limit)")
    check.add_argument("--max-findings", type=int, default=DEFAULT_MAX_FINDINGS, metavar="N",
                       help=f"findings listed per rule, the rest summarized (default {DEFAULT_MAX_FINDINGS}; "
                            "0 = no limit)")
    check.add_argument("--max-memory", type=_memory_mb, default=DEFAULT_MAX_MEMORY_MB, metavar="MB",
                       help=f"memory cap of this process (default {DEFAULT_MAX_MEMORY_MB}; 0 = no limit; not "
                            "applied with --verify, whose TensorFlow children would inherit it)")


MIN_MEMORY_MB = 256  # the interpreter and the lint path's imports take about 120 MB of address space


def _memory_mb(text: str) -> int:
    value = int(text)
    if 0 < value < MIN_MEMORY_MB:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or at least {MIN_MEMORY_MB} MB")
    return value


def _budgets(args: argparse.Namespace) -> Budgets:
    """The run's budgets; caps this process's address space to ``--max-memory`` (0 = no limit)."""
    import resource

    from .engine.runner import Budgets

    if args.max_memory > 0 and not getattr(args, "verify", False):
        # OpenBLAS reserves buffers per thread when numpy is imported and exits the process when that fails
        # under the cap; nothing on the lint path needs more than one thread of it.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        limit = args.max_memory << 20
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    return Budgets(max_nodes=args.max_nodes or None, max_findings_per_rule=args.max_findings or None)


def _outputs(specs: list[str] | None) -> list[tuple[str, str | None]]:
    from .formats import FORMATS

    result = []
    for spec in specs or ["text"]:
        fmt, _, path = spec.partition(":")
        if fmt not in FORMATS:
            raise ValueError(f"unknown format `{fmt}` (known: {', '.join(FORMATS)})")
        result.append((fmt, path or None))
    if sum(1 for _, p in result if p is None) > 1:
        raise ValueError("only one format can go to stdout; give the others a path (FMT:PATH)")
    return result


def _use_color(mode: str) -> bool:
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def _check(args: argparse.Namespace) -> int:
    from .config import ConfigError, find_config, load_config
    from .engine.options import split_csv
    from .engine.registry import default_registry

    try:
        config = load_config(None if args.isolated else Path(args.config) if args.config else find_config())
        outputs = _outputs(args.format)
        options = config.options.override(
            targets=split_csv(args.target), inputs=args.input or (), outputs=args.output or (),
            select=split_csv(args.select), ignore=split_csv(args.ignore), extend_select=split_csv(args.extend_select),
            preview=args.preview)
    except (ConfigError, ValueError) as err:  # OptionsError is a ValueError
        print(f"graphlint: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    if args.verify:
        from .convert.verify import missing_tools

        problem = missing_tools("--verify")
        if problem:
            print(f"graphlint: error: {problem}", file=sys.stderr)
            return EXIT_ERROR
    registry = default_registry()
    reports = _lint_all(args, options, registry)
    if reports is None:
        return EXIT_ERROR
    if args.verify:
        _verify(args, options, reports, outputs)
    status = _status(reports, args.exit_zero)
    if not _write(reports, outputs, registry, args.color):
        return EXIT_ERROR
    return status


def _lint_all(args: argparse.Namespace, options: LintOptions, registry: Registry) -> list[Report] | None:
    """A report per model, linted here or on ``--server``; None (the error printed) when the server fails."""
    if args.server:
        from .client import ServerError, lint_remote

        try:
            return [lint_remote(args.server, path, options, token=args.token) for path in args.models]
        except ServerError as err:
            print(f"graphlint: error: {err}", file=sys.stderr)
            return None
    from .engine.runner import lint

    budgets = _budgets(args)
    return [lint(path, options, registry=registry, budgets=budgets, signature=args.signature)
            for path in args.models]


def _verify(args: argparse.Namespace, options: LintOptions, reports: list[Report],
            outputs: list[tuple[str, str | None]]) -> None:
    """Run ``--verify`` on the reports; print the contradictions when no text report goes to stdout."""
    from .convert.verify import contradiction_lines, verify_cli

    verify_cli(reports, args.models, inputs=list(options.inputs), outputs=list(options.outputs),
               tty=sys.stderr.isatty(), signature=args.signature)
    if not any(fmt == "text" and path is None for fmt, path in outputs):
        for line in contradiction_lines(reports):
            print(line, file=sys.stderr)


def _status(reports: list[Report], exit_zero: bool) -> int:
    """The exit code the reports call for (printing each fatal error)."""
    status = EXIT_OK
    for report in reports:
        fatal = report.fatal_finding
        if fatal is not None:
            print(f"graphlint: error: {fatal.message}", file=sys.stderr)
            status = EXIT_ERROR
        elif "fail" in report.effective_verdicts().values() and status == EXIT_OK and not exit_zero:
            status = EXIT_FINDINGS
    return status


def _write(reports: list[Report], outputs: list[tuple[str, str | None]], registry: Registry, color: str) -> bool:
    """Render the reports in each format to stdout or its file; False (the error printed) when a file cannot
    be written."""
    from .formats import renderer

    for fmt, path in outputs:
        text = renderer(fmt)(reports, registry=registry, color=path is None and _use_color(color))
        if path is None:
            sys.stdout.write(text)
        else:
            try:
                Path(path).write_text(text, encoding="utf-8")
            except OSError as err:
                print(f"graphlint: error: cannot write {path}: {err.strerror}", file=sys.stderr)
                return False
    return True


def _rules(args: argparse.Namespace) -> int:
    import json

    from .engine.registry import default_registry

    registry = default_registry()
    rules = [r for r in registry.rules if args.all or not r.engine_emitted]
    if args.format == "json":
        print(json.dumps({"rules": [r.meta() for r in rules],
                          "broken_packs": [{"name": p.name, "value": p.value, "error": p.error}
                                           for p in registry.broken]}, indent=2))
        return EXIT_OK
    if args.format == "markdown":
        print(rules_table(rules), end="")
        return EXIT_OK
    for r in rules:
        status = "" if r.status == "stable" else f" [{r.status}]"
        print(f"{r.code}  {r.name:<28} {r.severity.value:<8} {r.summary}{status}")
    for p in registry.broken:
        print(f"{p.name}*  broken pack {p.value}: {p.error}")
    hidden = [r.code for r in registry.rules if r.engine_emitted and not args.all]
    if hidden:  # to stderr: stdout stays one rule per line for scripts
        print(f"({len(hidden)} more the engine reports itself when a model cannot be read or linted: "
              f"{', '.join(hidden)}; `graphlint rules --all` lists them)", file=sys.stderr)
    return EXIT_OK


def _targets(args: argparse.Namespace) -> int:
    import json

    from .engine.targets import REGISTRY

    if args.format == "json":
        print(json.dumps({"targets": [t.as_dict() for t in REGISTRY.values()]}, indent=2))
    elif args.format == "markdown":
        print(targets_table(), end="")
    else:
        for t in REGISTRY.values():
            print(f"{t.name:<14} {t.description}")
    return EXIT_OK


def targets_table() -> str:
    """The Markdown targets table (README's list of targets is generated from it)."""
    from .engine.targets import REGISTRY

    lines = ["| target | what it is | converter settings | run by | integer |", "|---|---|---|---|---|"]
    for t in REGISTRY.values():
        if t.converts_as:
            settings = f"those of `{t.converts_as}`"
        else:
            settings = t.recipe.describe().replace("tf.", "") if t.recipe else "none (a runtime)"
        lines.append(f"| `{t.name}` | {t.description} | {settings} | {', '.join(t.runtimes)} | "
                     f"{'yes' if t.integer else 'no'} |")
    return "\n".join(lines) + "\n"


def rules_table(rules: Sequence[type[Rule]]) -> str:
    """The Markdown rules table (README's list of rules is generated from it)."""
    lines = ["| code | name | severity | formats | fix | summary |", "|---|---|---|---|---|---|"]
    for r in rules:
        status = "" if r.status == "stable" else f" ({r.status})"
        lines.append(f"| {r.code} | `{r.name}`{status} | {r.severity.value} | {', '.join(sorted(r.formats))} "
                     f"| {r.fix_availability} | {r.summary} |")
    return "\n".join(lines) + "\n"


def _rule(args: argparse.Namespace) -> int:
    from .engine.registry import default_registry

    rule = default_registry().find(args.code)
    if rule is None:
        print(f"graphlint: error: no rule `{args.code}` (see graphlint rules)", file=sys.stderr)
        return EXIT_ERROR
    print(rule_page(rule), end="")
    return EXIT_OK


def rule_page(rule: type[Rule]) -> str:
    """A rule's documentation page in Markdown (``graphlint rule CODE`` and ``docs/rules/`` print it)."""
    meta = rule.meta()
    targets = ", ".join(meta["targets"]) or "all"
    return (f"# {rule.code} {rule.name}\n\n{rule.summary}.\n\n"
            f"category: {meta['category']} · severity: {meta['severity']} · targets: {targets} · formats: "
            f"{', '.join(meta['formats'])} · fix: {meta['fix']} · status: {meta['status']} (since {meta['since']})\n\n"
            f"{rule.doc()}\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``graphlint`` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    commands: dict[str, Command] = {"check": _check, "rules": _rules, "targets": _targets, "rule": _rule, **_RUNNERS}
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        pass  # reported below, once the frames that hold the model are released
    print("graphlint: error: out of memory (raise the limit with --max-memory MB, 0 = no limit)", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
