"""Run the real TFLite converter (and LiteRT interpreter) in a child process, as the judge of rule claims.

The test process itself never imports TensorFlow; every job list costs one TensorFlow import in a child.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

_SCRIPT = textwrap.dedent('''
    import json, os, sys, warnings
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    warnings.filterwarnings("ignore")
    import numpy as np
    import tensorflow as tf

    from graphlint.convert import settings

    def run(job):
        target = job.get("target", "float")

        def data():
            rng = np.random.default_rng(0)
            for _ in range(4):
                yield [rng.uniform(-1, 1, s).astype(np.float32) for s in job["calib_shapes"]]

        try:
            conv = settings.from_frozen_graph(tf, job["path"], job["inputs"], job["outputs"], job.get("input_shapes"))
            settings.configure(tf, conv, target, dataset=data)
        except Exception as err:
            return {"status": "convert_error", "error": str(err)}
        try:
            model = conv.convert()
        except Exception as err:
            return {"status": "convert_error", "error": str(err)}
        from ai_edge_litert.interpreter import Interpreter
        interp = Interpreter(model_content=model)
        details = [{"shape": d["shape"].tolist(), "shape_signature": d["shape_signature"].tolist(),
                    "dtype": np.dtype(d["dtype"]).name} for d in interp.get_input_details()]
        try:
            interp.allocate_tensors()
            interp.invoke()
        except Exception as err:
            return {"status": "runtime_error", "error": str(err), "inputs": details}
        return {"status": "ok", "inputs": details}

    jobs = json.load(sys.stdin)
    print(json.dumps([run(j) for j in jobs]))
''')


def convert(jobs: list[dict], timeout: float = 600) -> list[dict]:
    """Convert each job ``{path, inputs, outputs, input_shapes?, target?, calib_shapes?}``; one result each."""
    if importlib.util.find_spec("tensorflow") is None:  # find, never import, TensorFlow in this process
        pytest.skip("the converter tests need tensorflow-cpu (pip install -e '.[test]')")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], input=json.dumps(jobs), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
