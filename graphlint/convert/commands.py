"""``graphlint fix`` and ``graphlint convert``: thin command-line layers over the fix engine and the service.

Heavy imports (the fix engine, numpy, the worker pool) happen inside the run functions, so that registering
these commands costs ``graphlint check`` nothing. Errors are one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphlint.fix.engine import Measure

    from .service import ConvertReport

Command = Callable[[argparse.Namespace], int]  # runs a subcommand and returns its exit code
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# What ``graphlint convert`` takes.
CONVERTED = ("frozen GraphDef (.pb or .pbtxt), SavedModel directory (or a .zip / .tar / .tar.gz of one) or Keras "
             ".keras / .h5 file")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Command]:
    """Add the ``fix`` and ``convert`` subcommands; return their run functions."""
    from graphlint.engine.targets import TARGETS

    fix = sub.add_parser("fix", help="apply the fixes the rules attach and write a fixed GraphDef",
                         description="Apply safe fixes (and unsafe ones with --unsafe-fixes), re-lint until stable, "
                                     "validate and write the fixed GraphDef.")
    fix.add_argument("model", metavar="MODEL", help="frozen GraphDef (.pb or .pbtxt)")
    fix.add_argument("-o", "--out", required=True, metavar="OUT", help="where to write the fixed GraphDef")
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that may change results")
    fix.add_argument("--diff", action="store_true", help="print a node-level diff of the changes")
    fix.add_argument("--input", "-i", action="append", default=[], metavar="NAME[:SHAPE]",
                     help="input tensor, optionally with the shape to give it (unsafe)")
    fix.add_argument("--output", action="append", default=[], metavar="NAME",
                     help="output tensor; with outputs given, nodes no output depends on are dropped")
    fix.add_argument("--target", "-t", action="append", metavar="T",
                     help=f"targets to lint for while fixing ({', '.join(TARGETS)}); default float,int8")

    conv = sub.add_parser("convert", help="convert with the real TFLite converter and check the numbers",
                          description="Convert MODEL for a target in a sandboxed worker, run the result, compare it "
                                      "with the original graph and print how to feed and read it.")
    conv.add_argument("model", metavar="MODEL", help=f"{CONVERTED}; a SavedModel or Keras file converts with "
                                                     "TFLiteConverter.from_saved_model")
    conv.add_argument("--target", "-t", required=True, metavar="T", help=f"one of {', '.join(TARGETS)}")
    conv.add_argument("-o", "--out", required=True, metavar="OUT.tflite", help="where to write the .tflite")
    conv.add_argument("--signature", metavar="NAME", default=None,
                      help="the SavedModel signature to convert (default: serving_default)")
    conv.add_argument("--fix", action="store_true", help="apply safe fixes first (writes OUT.fixed.pb too; "
                                                         "frozen GraphDefs only)")
    conv.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes (implies --fix)")
    conv.add_argument("--input", "-i", action="append", default=[], metavar="NAME[:SHAPE]", help="input tensor")
    conv.add_argument("--output", action="append", default=[], metavar="NAME", help="output tensor")
    conv.add_argument("--calibration", default="random", metavar="random|DIR|FILE.npz",
                      help="calibration and test inputs: random (seeded; random:N for N samples), a directory of "
                           ".npz/.npy files, or one .npz with an array per input name ([N, *shape])")
    conv.add_argument("--input-range", action="append", default=[], metavar="NAME=MIN,MAX",
                      help="float range of an input (random calibration, legacy uint8 stats); default -1,1")
    conv.add_argument("--report", metavar="FILE", help="write the full JSON report (numbers, recipe) to FILE")
    conv.add_argument("--timeout", type=float, default=None, metavar="S", help="seconds for the conversion job")
    return {"fix": run_fix, "convert": run_convert}


def _error(message: str) -> int:
    print(f"graphlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _targets(values: list[str] | None) -> tuple[str, ...]:
    from graphlint.engine.targets import DEFAULT_TARGETS, check_targets

    return check_targets(tuple(v.strip() for item in values or () for v in item.split(",") if v.strip())
                         or DEFAULT_TARGETS)


def _writable(out: Path) -> str | None:
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        return f"{out}: is a directory; give a file name"
    if not parent.is_dir():
        return f"{out}: the directory {parent} does not exist"
    if not os.access(parent, os.W_OK):
        return f"{out}: cannot write in {parent}"
    return None


def run_fix(args: argparse.Namespace) -> int:
    """``graphlint fix``: exit 0 when no error-level finding is left, 1 when some are, 2 on bad input."""
    from graphlint.fix import FixError, fix_graph

    try:
        targets = _targets(args.target)
    except ValueError as err:
        return _error(str(err))
    out = Path(args.out)
    problem = _writable(out)
    if problem:
        return _error(problem)
    problem = _not_a_graphdef(Path(args.model))
    if problem:
        return _error(problem)
    try:
        data = Path(args.model).read_bytes()
    except OSError as err:
        return _error(f"{args.model}: cannot read ({err.strerror})")
    try:
        result = fix_graph(data, inputs=tuple(args.input), outputs=tuple(args.output), unsafe=args.unsafe_fixes,
                           targets=targets, measure=_measure_with_workers(args.input))
    except FixError as err:
        return _error(f"{args.model}: {err}")
    try:
        out.write_bytes(result.data)
    except OSError as err:
        return _error(f"cannot write {out}: {err.strerror}")
    if args.diff:
        sys.stdout.write(result.diff(args.model, str(out)))
    for item in result.applied:
        print(f"fixed  {item['code']:<6} {item['what']}")
    for skip in result.skipped:
        where = f" `{skip['node']}`" if skip["node"] else ""
        print(f"skip   {skip['code']:<6} {skip['kind']}{where}: {skip['reason']}")
    errors = [f for f in result.remaining if f["severity"] == "error"]
    state = "stable" if result.converged else f"stopped ({result.stop_reason})"
    print(f"{len(result.applied)} edit(s) in {result.passes} pass(es), {state}; wrote {out}; "
          f"{len(result.remaining)} finding(s) left, {len(errors)} at error level")
    for finding in errors:
        hint = f" [{finding['fix']['applicability']} fix: {finding['fix']['title']}]" if finding.get("fix") else ""
        print(f"left   {finding['code']:<6} {finding['node'] or '-'}: {finding['message']}{hint}")
    return EXIT_FINDINGS if errors else EXIT_OK


def _not_a_graphdef(path: Path) -> str | None:
    """Why ``graphlint fix`` cannot rewrite ``path`` when it is a SavedModel (a directory or an archive) or a Keras
    file; None otherwise (a file that cannot be read is said by the reading)."""
    from graphlint.loaders import LoadError, read_bytes
    from graphlint.loaders._archive import archive_kind
    from graphlint.loaders.keras import keras_kind

    what: str | None
    if path.is_dir():
        what = "a SavedModel directory"
    else:
        try:
            data = read_bytes(path)
        except LoadError:
            return None
        what = ("a Keras file" if keras_kind(data, str(path)) else
                "an archive (of a SavedModel)" if archive_kind(bytes(data[:4096])) else None)
    if what is None:
        return None
    return (f"{path}: {what}; graphlint fix rewrites frozen GraphDefs (.pb, .pbtxt) only, and graphlint convert "
            "converts it as it is")


def _measure_with_workers(input_specs: list[str]) -> Measure:
    """A range-measuring callback for add-fake-quant edits: random inputs in a conversion worker."""
    def measure(graph_bytes: bytes, tensors: list[str]) -> dict[str, tuple[float, float]]:
        import tempfile

        from graphlint.convert.pool import default_pool
        from graphlint.convert.service import ConvertRequest, InputError, load_model, resolve_io
        from graphlint.fix import FixError

        with tempfile.TemporaryDirectory(prefix="graphlint-measure-") as tmp:
            path = Path(tmp) / "graph.pb"
            path.write_bytes(graph_bytes)
            try:
                model = load_model(path, ConvertRequest(path, "float", inputs=tuple(input_specs)))
                inputs, _ = resolve_io(model, {})
            except InputError as err:
                raise FixError(str(err)) from None
            res = default_pool().run({"kind": "ranges", "model": str(path), "inputs": inputs, "tensors": tensors,
                                      "calibration": {"kind": "random", "samples": 8, "seed": 0}})
        if res.get("status") != "ok":
            raise FixError(f"measuring ranges failed: {(res.get('error') or {}).get('message')}")
        return {k: tuple(v) for k, v in res["ranges"].items()}

    return measure


class _Bar:
    """A one-line progress bar on stderr (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = ""

    def __call__(self, fraction: float, stage: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(max(0.0, min(1.0, fraction)) * width)
        line = f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:3.0f}% {stage[:40]:<40}"
        if line != self.last:
            sys.stderr.write(line)
            sys.stderr.flush()
            self.last = line

    def done(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\r" + " " * len(self.last) + "\r")
            sys.stderr.flush()


def run_convert(args: argparse.Namespace) -> int:
    """``graphlint convert``: exit 0 when every check passes, 1 when the conversion fails or a check does not,
    2 on bad input."""
    import shutil
    import tempfile

    from graphlint.convert.pool import default_pool
    from graphlint.convert.service import ConvertRequest, InputError, convert_model, parse_range
    from graphlint.engine.targets import check_targets

    try:
        check_targets([args.target])
    except ValueError as err:
        return _error(str(err))
    from graphlint.convert.verify import missing_tools

    problem = missing_tools("graphlint convert")
    if problem:
        return _error(problem)
    out = Path(args.out)
    problem = _writable(out) or (_writable(Path(args.report)) if args.report else None)
    if problem:
        return _error(problem)
    if not Path(args.model).exists():
        return _error(f"{args.model}: no such file or directory")
    try:
        ranges = tuple(parse_range(spec) for spec in args.input_range)
    except InputError as err:
        return _error(str(err))
    request = ConvertRequest(model_path=Path(args.model), target=args.target, fix=args.fix or args.unsafe_fixes,
                             unsafe_fixes=args.unsafe_fixes, inputs=tuple(args.input), outputs=tuple(args.output),
                             calibration=args.calibration, input_ranges=ranges, signature=args.signature)
    pool = default_pool()
    if args.timeout:
        pool.timeout = args.timeout
    bar = _Bar(sys.stderr.isatty())
    with tempfile.TemporaryDirectory(prefix=".graphlint-", dir=out.parent if str(out.parent) else ".") as tmp:
        try:
            report = convert_model(request, Path(tmp), progress=bar)
        finally:
            bar.done()
        if (Path(tmp) / "model.tflite").is_file() and "model.tflite" in report["files"]:
            shutil.move(Path(tmp) / "model.tflite", out)
        for name in ("fixed.pb", "fixed.pbtxt"):
            if (Path(tmp) / name).is_file():
                shutil.move(Path(tmp) / name, out.with_suffix("." + name))
        if args.report:
            shutil.move(Path(tmp) / "report.json", args.report)
    error = report.get("error") or {}
    if error.get("kind") == "input":
        return _error(error["message"])
    _print_summary(report, out, args)
    return EXIT_OK if report.get("verdict") == "pass" else EXIT_FINDINGS


def _print_summary(report: ConvertReport, out: Path, args: argparse.Namespace) -> None:
    fix = report.get("fix")
    if fix and fix.get("status") == "not-applied":
        print(f"fix: {fix['reason']}")
    elif fix:
        print(f"fix: {len(fix['applied'])} edit(s) in {fix['passes']} pass(es); wrote "
              f"{out.with_suffix('.fixed.pb')}")
        for item in fix["applied"]:
            print(f"  {item['code']:<6} {item['what']}")
    if report["status"] != "ok":
        error = report["error"]
        where = f" (node `{error['node']}`)" if error.get("node") else ""
        print(f"convert {args.target}: FAILED, {error['kind']}{where}: {error['message']}")
    else:
        print(f"convert {args.target}: wrote {out} ({report['conversion'].get('tflite_bytes')} bytes)")
    for item in (report.get("numeric") or {}).get("outputs") or []:
        top1 = f", top-1 agreement {item['top1_agreement']:.0%}" if "top1_agreement" in item else ""
        print(f"  output {item['name']}: cosine {item['cosine']:.5f}, max abs error {item['max_abs_error']:.4g}"
              f"{top1}")
    for layer in ((report.get("layers") or {}).get("worst") or [])[:3]:
        print(f"  layer  {layer['explanation']}")
    for entry in (report.get("io_recipe") or {}).get("tensors") or []:
        lo, hi = entry["float_range"]
        print(f"  {entry['role']:<6} {entry['name']}: {entry['dtype']}, scale {entry['scale']:.6g}, zero point "
              f"{entry['zero_point']}, covers {lo:.4g} .. {hi:.4g}")
    for name, stats in ((report.get("io_recipe") or {}).get("quantized_input_stats") or {}).items():
        if "mean" in stats:
            print(f"  quantized_input_stats[{name!r}] = ({stats['mean']:.6g}, {stats['std']:.6g})")
    for line in (report.get("checks") or {}).get("why_not") or []:
        print(f"  why not: {line}")
    hint = f"; NumPy (de)quantize code in {args.report}" if args.report else "; --report FILE for NumPy code"
    print(f"verdict: {report.get('verdict')}{hint if (report.get('io_recipe') or {}).get('numpy') else ''}")
