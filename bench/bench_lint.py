"""Benchmark graphlint on real-size models: whole-process time, peak memory and lint-core speed.

Every measurement runs in a fresh subprocess and is the median of ``--runs`` runs, all in one invocation, so
each ratio compares numbers taken under the same machine load:

* ``graphlint check FILE --format json`` as a user runs it (wall time and peak RSS from ``os.wait4``);
* a raw-parse baseline: ``GraphDef.FromString(file bytes)`` with graphlint's own schema (same protobuf
  runtime), or for ``.tflite`` a walk of every operator and tensor with LiteRT's generated accessors;
* ``python -c "import tensorflow"``, what any TensorFlow-based check pays before it starts;
* in-process, after the imports: ``graphlint.lint(path)`` against the raw parse of the same file, then the
  report's ``to_dict()`` (the JSON report, which is where the file's SHA-256 is computed: ``lint`` itself
  never needs it).

Keras application models (weights=None) are built once with TensorFlow in a separate process and cached per
TensorFlow version (default ``~/.cache/graphlint-bench``). Synthetic GraphDefs of 10k to 100k nodes are
generated without TensorFlow to check that the cost per node stays flat.

This process (the one that measures) imports only the standard library: on Linux a child's peak RSS
includes its parent's at the time it was started, so the parent stays small.

Usage::

    python bench/bench_lint.py [--runs 5] [--cache DIR] [--json results.json]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KERAS_MODELS = {"MobileNetV2": 224, "InceptionV3": 299, "ResNet50": 224}
SYNTH_SIZES = (10_000, 25_000, 50_000, 100_000)
SYNTH_VERSION = 1  # bump when the synthetic graph generator changes, to invalidate the cache

GOAL_SECONDS = 0.5  # InceptionV3 .pb, whole process
GOAL_RSS_RATIO = 2.5  # peak RSS / file size, for models of at least GOAL_RSS_MIN_MB
GOAL_RSS_MIN_MB = 50  # below this, the interpreter and its imports dominate peak RSS
GOAL_CORE_RATIO = 2.0  # lint core / raw parse, in-process
GOAL_GROWTH_EXPONENT = 1.15  # lint-core time ~ nodes ** exponent over the synthetic sizes

# Children run as an installed tool would: with cached bytecode (kept under the cache directory, see main),
# quiet TensorFlow logging and no GPU probing.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")

# Raw-parse baselines. The same source runs in a bare subprocess (whole-process baseline) and inside the
# lint-core worker (in-process baseline), so both measure exactly the same work. ``schema`` is graphlint's
# GraphDef schema module for .pb and ``ai_edge_litert.schema_py_generated`` for .tflite.
_RAW_PB = '''
def raw_parse(path, schema):
    with open(path, "rb") as fh:
        return len(schema.GraphDef.FromString(fh.read()).node)
'''
_RAW_TFLITE = '''
def raw_parse(path, schema):
    with open(path, "rb") as fh:
        data = fh.read()
    model = schema.Model.GetRootAs(data, 0)
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        code.BuiltinCode(), code.DeprecatedBuiltinCode(), code.CustomCode(), code.Version()
    count = 0
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        for t in range(sg.TensorsLength()):
            tensor = sg.Tensors(t)
            tensor.Name(), tensor.Type(), tensor.ShapeAsNumpy(), tensor.Buffer(), tensor.Quantization()
        for k in range(sg.OperatorsLength()):
            op = sg.Operators(k)
            op.OpcodeIndex(), op.InputsAsNumpy(), op.OutputsAsNumpy(), op.BuiltinOptionsType()
            count += 1
    return count
'''
# The whole-process pb baseline loads the schema module by file path: importing it as
# ``graphlint.loaders.graphdef_schema`` would also import the loaders package and the IR, which are not
# part of a raw parse.
_RAW_MAIN = {
    "pb": _RAW_PB + '''
import importlib.util, sys
spec = importlib.util.spec_from_file_location("graphdef_schema", sys.argv[2])
schema = importlib.util.module_from_spec(spec)
spec.loader.exec_module(schema)
raw_parse(sys.argv[1], schema)
''',
    "tflite": _RAW_TFLITE + '''
import sys
from ai_edge_litert import schema_py_generated
raw_parse(sys.argv[1], schema_py_generated)
''',
}


# ---------------------------------------------------------------------------------------------- workers
# Workers run in subprocesses started by this script: ``bench_lint.py --worker NAME ARGS...``.

def _worker_keras(name: str, size: str, out_dir: str) -> None:
    """Build one Keras application as a frozen .pb and a float .tflite (imports TensorFlow)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    side = int(size)
    model = getattr(tf.keras.applications, name)(weights=None, input_shape=(side, side, 3))
    spec = tf.TensorSpec((1, side, side, 3), tf.float32, name="input")
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    graph_def = frozen.graph.as_graph_def()
    out = Path(out_dir)
    _write_atomic(out / f"{name}.pb", graph_def.SerializeToString())
    _write_atomic(out / f"{name}.tflite", tf.lite.TFLiteConverter.from_keras_model(model).convert())
    meta = {"input": frozen.inputs[0].name, "output": frozen.outputs[0].name, "pb_nodes": len(graph_def.node),
            "tensorflow": tf.__version__}
    _write_atomic(out / f"{name}.json", json.dumps(meta).encode())


def _worker_synth(nodes: str, path: str) -> None:
    """Write a synthetic frozen GraphDef of exactly ``nodes`` nodes, without TensorFlow.

    Residual blocks of Const(3x3x4x4) → Conv2D → Const(4) → BiasAdd → Relu → AddV2(skip), six nodes each,
    after a Placeholder; the last block output feeds an Identity named ``output``.
    """
    import numpy as np

    from graphlint.testing import GraphBuilder

    total = int(nodes)
    channels = 4
    b = GraphBuilder()
    x = b.placeholder("input", "float32", (1, 16, 16, channels))
    rng = np.random.default_rng(0)
    conv_attrs = {"strides": [1, 1, 1, 1], "padding": "SAME", "data_format": "NHWC"}
    blocks, extra = divmod(total - 2, 6)
    for i in range(blocks):
        w = b.const(rng.standard_normal((3, 3, channels, channels), dtype=np.float32), name=f"b{i}/w")
        conv = b.op("Conv2D", [x, w], name=f"b{i}/conv", attrs=conv_attrs)
        bias = b.const(np.zeros(channels, np.float32), name=f"b{i}/bias")
        act = b.op("Relu", [b.op("BiasAdd", [conv, bias], name=f"b{i}/bias_add")], name=f"b{i}/relu")
        x = b.op("AddV2", [act, x], name=f"b{i}/add")
    for i in range(extra):
        x = b.op("Relu", [x], name=f"tail{i}")
    b.node("Identity", [x], name="output", attrs={"T": "float32"})
    _write_atomic(Path(path), b.to_bytes())


def _worker_core(path: str, fmt: str, output: str) -> None:
    """Time ``graphlint.lint`` and the raw parse in one process, after warming up every import."""
    from graphlint.engine.registry import default_registry
    from graphlint.engine.runner import lint
    from graphlint.loaders import graphdef, graphdef_schema, tflite  # noqa: F401 - warm-up imports

    default_registry()
    if fmt == "pb":
        schema, source = graphdef_schema, _RAW_PB
    else:
        from ai_edge_litert import schema_py_generated as schema

        source = _RAW_TFLITE
    import numpy  # noqa: F401 - the TFLite paths use it; import it before timing

    namespace: dict = {}
    exec(source, namespace)
    start = time.perf_counter()
    namespace["raw_parse"](path, schema)
    raw = time.perf_counter() - start
    outputs = (output,) if output else ()
    start = time.perf_counter()
    report = lint(path, outputs=outputs)
    core = time.perf_counter() - start
    if report.fatal:
        raise SystemExit(f"{path}: {report.findings[0].message}")
    start = time.perf_counter()
    report.to_dict()  # the JSON report: this is where the file's SHA-256 is computed
    to_json = time.perf_counter() - start
    print(json.dumps({"raw": raw, "core": core, "json": to_json, "load_ms": report.timings_ms.get("load"),
                      "rules_ms": report.timings_ms.get("lint")}))


def _worker_profile(path: str, output: str, sort: str = "cumulative") -> None:
    """Print a cProfile of one ``graphlint.lint`` call (imports warmed up first)."""
    import cProfile
    import pstats

    from graphlint.engine.registry import default_registry
    from graphlint.engine.runner import lint
    from graphlint.loaders import graphdef, tflite  # noqa: F401 - warm-up imports

    default_registry()
    profile = cProfile.Profile()
    profile.runcall(lint, path, outputs=(output,) if output else ())
    pstats.Stats(profile).sort_stats(sort).print_stats(30)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


_WORKERS = {"keras": _worker_keras, "synth": _worker_synth, "core": _worker_core, "profile": _worker_profile}


# ---------------------------------------------------------------------------------------------- running

class Sample:
    """One child process: wall time (s), CPU time (user + system, s), peak RSS (MB) and captured stdout."""

    def __init__(self, wall: float, cpu: float, rss_mb: float, stdout: str) -> None:
        self.wall, self.cpu, self.rss_mb, self.stdout = wall, cpu, rss_mb, stdout


def run_child(cmd: list[str], cwd: str | None = None) -> Sample:
    """Run ``cmd`` and reap it with ``os.wait4`` to get that one child's peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=_ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode not in (0, 1):  # graphlint exits 1 when it has error findings
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n{stderr[-3000:]}")
    # ru_maxrss is in KiB on Linux
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout)


def _worker_cmd(name: str, *args: str) -> list[str]:
    return [sys.executable, os.path.abspath(__file__), "--worker", name, *args]


def _graphlint_exe() -> str:
    exe = Path(sys.executable).parent / "graphlint"
    if not exe.exists():
        raise SystemExit(f"graphlint console script not found next to {sys.executable}; pip install -e .")
    return str(exe)


def _schema_path() -> str:
    """Path of graphlint's GraphDef schema module, found without importing graphlint's packages."""
    spec = importlib.util.find_spec("graphlint")
    return str(Path(spec.submodule_search_locations[0]) / "loaders" / "graphdef_schema.py")


def _tf_version() -> str:
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise SystemExit("TensorFlow is not installed; it is needed once, to build the Keras models")


# ---------------------------------------------------------------------------------------------- models

class Model:
    """A model file to measure."""

    def __init__(self, name: str, fmt: str, path: Path, output: str, synthetic: bool = False) -> None:
        self.name, self.fmt, self.path, self.output, self.synthetic = name, fmt, path, output, synthetic
        self.size_mb = path.stat().st_size / 1e6


def ensure_keras(cache: Path, names: list[str]) -> list[Model]:
    """Build (once per TensorFlow version) and return the Keras application models."""
    out_dir = cache / f"tf-{_tf_version()}"
    out_dir.mkdir(parents=True, exist_ok=True)
    models = []
    for name in names:
        meta_path = out_dir / f"{name}.json"
        if not meta_path.exists():
            print(f"building {name} with TensorFlow (once, cached in {out_dir}) ...", flush=True)
            start = time.perf_counter()
            subprocess.run(_worker_cmd("keras", name, str(KERAS_MODELS[name]), str(out_dir)), check=True, env=_ENV)
            print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
        output = json.loads(meta_path.read_text())["output"]
        models.append(Model(name, "pb", out_dir / f"{name}.pb", output))
        models.append(Model(name, "tflite", out_dir / f"{name}.tflite", ""))
    return models


def ensure_synthetic(cache: Path, sizes: list[int]) -> list[Model]:
    """Generate (once) and return the synthetic GraphDefs."""
    out_dir = cache / f"synthetic-v{SYNTH_VERSION}"
    out_dir.mkdir(parents=True, exist_ok=True)
    models = []
    for n in sizes:
        path = out_dir / f"synth_{n}.pb"
        if not path.exists():
            subprocess.run(_worker_cmd("synth", str(n), str(path)), check=True, env=_ENV)
        models.append(Model(f"synth-{n // 1000}k", "pb", path, "output:0", synthetic=True))
    return models


# ---------------------------------------------------------------------------------------------- measuring

def measure(models: list[Model], runs: int) -> dict:
    """Run every measurement ``runs`` times, interleaved so that load drift hits all of them alike.

    A first, unrecorded round compiles bytecode and brings the model files into the page cache.
    """
    exe, schema = _graphlint_exe(), _schema_path()
    samples: dict[str, dict[str, list]] = {m.path.name: {"gl": [], "raw": [], "core": []} for m in models}
    tf_samples: list[Sample] = []
    python_samples: list[Sample] = []
    nodes: dict[str, int] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as cwd:  # no graphlint config is found from here
        for r in range(runs + 1):
            print(f"run {r}/{runs} ..." if r else "warm-up run ...", flush=True)
            for m in models:
                s = samples[m.path.name] if r else {"gl": [], "raw": [], "core": []}
                cmd = [exe, "check", str(m.path), *(["--output", m.output] if m.output else []), "--format", "json"]
                gl = run_child(cmd, cwd)
                nodes.setdefault(m.path.name, _nodes(gl.stdout))
                s["gl"].append(gl)
                raw_extra = [schema] if m.fmt == "pb" else []
                s["raw"].append(run_child([sys.executable, "-c", _RAW_MAIN[m.fmt], str(m.path), *raw_extra], cwd))
                core = run_child(_worker_cmd("core", str(m.path), m.fmt, m.output), cwd)
                s["core"].append(json.loads(core.stdout.strip().splitlines()[-1]))
            tf = run_child([sys.executable, "-c", "import tensorflow"], cwd)
            python = run_child([sys.executable, "-c", "pass"], cwd)
            if r:
                tf_samples.append(tf)
                python_samples.append(python)
    results = _summarize(models, samples, tf_samples, nodes)
    results["python_start"] = {"time_s": _median(s.wall for s in python_samples),
                               "rss_mb": _median(s.rss_mb for s in python_samples)}
    results["load_average"] = {"before": load_before, "after": os.getloadavg(), "cpus": os.cpu_count()}
    results["parent_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def _nodes(report_json: str) -> int:
    """Node count from graphlint's JSON output (one report object, or a list of them)."""
    data = json.loads(report_json)
    report = data[0] if isinstance(data, list) else data.get("reports", [data])[0]
    return report["model"]["nodes"]


def _median(values) -> float:
    return statistics.median(values)


def _summarize(models, samples, tf_samples, nodes) -> dict:
    tf = {"time_s": _median(s.wall for s in tf_samples), "cpu_s": _median(s.cpu for s in tf_samples),
          "rss_mb": _median(s.rss_mb for s in tf_samples)}
    rows = []
    for m in models:
        s = samples[m.path.name]
        gl_time = _median(x.wall for x in s["gl"])
        gl_rss = _median(x.rss_mb for x in s["gl"])
        core = _median(x["core"] for x in s["core"])
        raw_in = _median(x["raw"] for x in s["core"])
        rows.append({
            "model": m.name, "format": m.fmt, "synthetic": m.synthetic, "path": str(m.path),
            "size_mb": m.size_mb, "nodes": nodes[m.path.name], "graphlint_s": gl_time,
            "graphlint_cpu_s": _median(x.cpu for x in s["gl"]), "graphlint_rss_mb": gl_rss,
            "rss_per_file": gl_rss / m.size_mb, "raw_s": _median(x.wall for x in s["raw"]),
            "raw_rss_mb": _median(x.rss_mb for x in s["raw"]), "core_s": core, "raw_inproc_s": raw_in,
            "core_per_raw": core / raw_in if raw_in else math.inf,
            "json_s": _median(x["json"] for x in s["core"]),
            "load_ms": _median(x["load_ms"] for x in s["core"]), "rules_ms": _median(x["rules_ms"] for x in s["core"]),
            "speedup_vs_tf": tf["time_s"] / gl_time,
        })
    return {"import_tensorflow": tf, "rows": rows, "runs": len(tf_samples), "python": sys.version.split()[0],
            "tensorflow": _tf_version()}


# ---------------------------------------------------------------------------------------------- reporting

_COLUMNS = [
    ("model", "{:<14}", "model"), ("fmt", "{:<6}", "format"), ("MB", "{:>6.1f}", "size_mb"),
    ("nodes", "{:>7}", "nodes"), ("gl s", "{:>6.3f}", "graphlint_s"), ("gl cpu", "{:>6.3f}", "graphlint_cpu_s"),
    ("gl MB", "{:>6.0f}", "graphlint_rss_mb"),
    ("RSS/file", "{:>8.2f}", "rss_per_file"), ("raw s", "{:>6.3f}", "raw_s"), ("raw MB", "{:>6.0f}", "raw_rss_mb"),
    ("core s", "{:>6.3f}", "core_s"), ("json s", "{:>6.3f}", "json_s"), ("rawin s", "{:>7.3f}", "raw_inproc_s"),
    ("core/raw", "{:>8.2f}", "core_per_raw"), ("tf s", "{:>5.2f}", "tf_s"), ("tf MB", "{:>5.0f}", "tf_mb"),
    ("vs tf", "{:>6.1f}x", "speedup_vs_tf"),
]


def print_table(results: dict) -> None:
    """Print one row per model file, with the import-tensorflow baseline on every row."""
    tf = results["import_tensorflow"]
    header = " ".join(f"{name:>{len(fmt.format(0) if 'f' in fmt else fmt.format(''))}}"
                      if i > 1 else fmt.format(name) for i, (name, fmt, _) in enumerate(_COLUMNS))
    load, start = results["load_average"], results["python_start"]
    print(f"\nmedian of {results['runs']} runs; Python {results['python']}, TensorFlow {results['tensorflow']}; "
          f"{load['cpus']} CPUs, load average {load['before'][0]:.1f} before, {load['after'][0]:.1f} after")
    print(f"interpreter start alone (`python -c pass`): {start['time_s']:.3f} s, {start['rss_mb']:.0f} MB "
          f"(a child's peak RSS includes this process's {results['parent_rss_mb']:.0f} MB)")
    print(header)
    for row in results["rows"]:
        values = {**row, "tf_s": tf["time_s"], "tf_mb": tf["rss_mb"]}
        print(" ".join(fmt.format(values[key]) for _, fmt, key in _COLUMNS))
    print("gl = `graphlint check FILE --format json` whole process (wall, CPU user+sys, peak RSS); raw = raw-parse "
          "baseline whole process; core = graphlint.lint() in-process; json = its report.to_dict(), SHA-256 of the "
          "file included; rawin = raw parse in-process; "
          "tf = `python -c 'import tensorflow'`")


def print_growth(results: dict) -> float:
    """Print time per node for the synthetic graphs; return the fitted exponent of core time vs nodes."""
    rows = sorted((r for r in results["rows"] if r["synthetic"]), key=lambda r: r["nodes"])
    if len(rows) < 2:
        return math.nan
    print("\nsynthetic GraphDefs (linear growth check)")
    print(f"{'nodes':>8} {'core s':>8} {'core us/node':>13} {'load ms':>8} {'rules ms':>9} {'gl s':>7} "
          f"{'gl us/node':>11} {'gl MB':>6}")
    for r in rows:
        print(f"{r['nodes']:>8} {r['core_s']:>8.3f} {r['core_s'] / r['nodes'] * 1e6:>13.1f} {r['load_ms']:>8.0f} "
              f"{r['rules_ms']:>9.0f} {r['graphlint_s']:>7.3f} {r['graphlint_s'] / r['nodes'] * 1e6:>11.1f} "
              f"{r['graphlint_rss_mb']:>6.0f}")
    xs = [math.log(r["nodes"]) for r in rows]
    ys = [math.log(r["core_s"]) for r in rows]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def check_goals(results: dict, exponent: float) -> list[tuple[str, bool, str]]:
    """Evaluate the performance goals; each is (goal, met, evidence)."""
    rows = [r for r in results["rows"] if not r["synthetic"]]
    goals = []
    inception = next((r for r in rows if r["model"] == "InceptionV3" and r["format"] == "pb"), None)
    if inception:
        goals.append((f"InceptionV3 .pb checked in <= {GOAL_SECONDS} s (whole process)",
                      inception["graphlint_s"] <= GOAL_SECONDS,
                      f"{inception['graphlint_s']:.3f} s wall, {inception['graphlint_cpu_s']:.3f} s CPU"))
    for r in rows:
        if r["size_mb"] >= GOAL_RSS_MIN_MB:
            goals.append((f"peak RSS <= {GOAL_RSS_RATIO}x file size: {r['model']} .{r['format']}",
                          r["rss_per_file"] <= GOAL_RSS_RATIO,
                          f"{r['graphlint_rss_mb']:.0f} MB / {r['size_mb']:.0f} MB = {r['rss_per_file']:.2f}x"))
    for r in rows:
        goals.append((f"lint core <= {GOAL_CORE_RATIO}x raw parse: {r['model']} .{r['format']}",
                      r["core_per_raw"] <= GOAL_CORE_RATIO,
                      f"{r['core_s']:.3f} s / {r['raw_inproc_s']:.3f} s = {r['core_per_raw']:.2f}x"))
    if not math.isnan(exponent):
        goals.append((f"linear growth to 100k nodes (core time ~ nodes^k, k <= {GOAL_GROWTH_EXPONENT})",
                      exponent <= GOAL_GROWTH_EXPONENT, f"k = {exponent:.3f}"))
    print("\ngoals")
    for goal, met, evidence in goals:
        print(f"  {'PASS' if met else 'MISS'}  {goal:<60} {evidence}")
    return goals


# ---------------------------------------------------------------------------------------------- main

def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median is reported)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "graphlint-bench",
                        help="where built models are kept (default: ~/.cache/graphlint-bench)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save the results as JSON")
    parser.add_argument("--models", default=",".join(KERAS_MODELS),
                        help="comma-separated Keras applications (empty for none)")
    parser.add_argument("--sizes", default=",".join(str(n) for n in SYNTH_SIZES),
                        help="comma-separated synthetic graph sizes in nodes (empty for none)")
    parser.add_argument("--build-only", action="store_true", help="build or generate the models and stop")
    parser.add_argument("--profile", metavar="FILE", help="print a cProfile of graphlint.lint(FILE) and stop")
    parser.add_argument("--output", default="", help="output tensor for --profile")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build the models, measure them and print the table and the goals."""
    args = _parse_args(argv)
    # Bytecode of every child goes under the cache, so the repository and site-packages stay untouched.
    _ENV["PYTHONPYCACHEPREFIX"] = str(args.cache / "pycache")
    if args.worker:
        _WORKERS[args.worker[0]](*args.worker[1:])
        return 0
    if args.profile:
        subprocess.run(_worker_cmd("profile", args.profile, args.output), check=True, env=_ENV)
        return 0
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in KERAS_MODELS]
    if unknown:
        raise SystemExit(f"unknown model {unknown[0]} (known: {', '.join(KERAS_MODELS)})")
    models = ensure_keras(args.cache, names) + ensure_synthetic(args.cache, [int(n) for n in args.sizes.split(",")
                                                                            if n])
    if args.build_only:
        return 0
    results = measure(models, args.runs)
    print_table(results)
    exponent = print_growth(results)
    goals = check_goals(results, exponent)
    results["growth_exponent"] = exponent
    results["goals"] = [{"goal": g, "met": met, "evidence": e} for g, met, e in goals]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nsaved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
