"""What a warm conversion worker costs over converting in-process.

Builds a small conv net (depthwise-separable blocks, ~0.3 M parameters) with TensorFlow in this process, then
converts it for ``float`` and ``int8`` with the same job (:func:`graphlint.convert.worker.run_job`: convert, write,
allocate and invoke; numeric check off) twice each way: in this process (the baseline) and through a warm
:class:`graphlint.convert.pool.WorkerPool` (pipe protocol, a separate process). Prints medians and the ratio
warm / in-process per target. Run: ``python bench/bench_convert.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")


def build(path: Path) -> None:
    """A MobileNet-like stack on a 96x96x3 input, frozen, with seeded weights."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, (1, 96, 96, 3), name="x")
        y = tf.nn.relu6(tf.nn.conv2d(x, rng.normal(0, 0.3, (3, 3, 3, 32)).astype(np.float32), 2, "SAME"))
        channels = 32
        for out, stride in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)):
            dw = rng.normal(0, 0.3, (3, 3, channels, 1)).astype(np.float32)
            y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, dw, (1, stride, stride, 1), "SAME"))
            pw = rng.normal(0, 0.1, (1, 1, channels, out)).astype(np.float32)
            y = tf.nn.relu6(tf.nn.conv2d(y, pw, 1, "SAME"))
            channels = out
        y = tf.reduce_mean(y, axis=[1, 2])
        tf.nn.softmax(tf.matmul(y, rng.normal(0, 0.1, (channels, 10)).astype(np.float32)), name="probs")
    path.write_bytes(graph.as_graph_def().SerializeToString())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from graphlint.convert.pool import WorkerPool
    from graphlint.convert.worker import run_job

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "net.pb"
        build(model)
        pool = WorkerPool(size=1)
        pool.warm()
        print(f"model: {model.stat().st_size / 1e6:.2f} MB frozen GraphDef; repeats: {args.repeats} (median)")
        print("| target | in-process s | warm worker s | ratio |")
        print("|---|---|---|---|")
        worst = 0.0
        for target in ("float", "int8"):
            job = {"model": str(model), "inputs": [{"name": "x", "shape": [1, 96, 96, 3], "dtype": "float32",
                                                    "range": None}],
                   "outputs": ["probs"], "target": target, "out": str(Path(tmp) / f"{target}.tflite"),
                   "numeric": False, "debugger": False, "calibration": {"kind": "random", "samples": 8}}
            run_job(job)  # first call pays one-time costs in both places
            assert pool.run(job)["status"] == "ok"
            local, remote = [], []
            for _ in range(args.repeats):  # interleaved, so machine load hits both alike
                t = time.perf_counter()
                assert run_job(job)["status"] == "ok"
                local.append(time.perf_counter() - t)
                t = time.perf_counter()
                result = pool.run(job)
                remote.append(time.perf_counter() - t)
                assert result["status"] == "ok" and result["worker"]["warm"]
            a, b = statistics.median(local), statistics.median(remote)
            worst = max(worst, b / a)
            print(f"| {target} | {a:.3f} | {b:.3f} | {b / a:.3f} |")
        pool.close()
    print(f"warm worker overhead: {(worst - 1) * 100:+.1f}% at worst (goal: <= +20%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
