"""Build TF1-style SavedModels (``tf.compat.v1.saved_model.simple_save``) for the SavedModel loader tests.

``python tests/loaders/savedmodel_v1_models.py OUT`` writes, seeded: ``v1_ref/`` (reference variables,
``VariableV2``) and ``v1_resource/`` (resource variables), each a conv + relu + dense + softmax over an
``image`` input of [1, 8, 8, 3] with the signature output ``probs``, and ``facts.json`` (each variable's key,
shape and first values as ``tf.train.load_checkpoint`` reads them). Run in a child process.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

v1 = tf.compat.v1


def _save(out: Path, use_resource: bool) -> None:
    rng = np.random.default_rng(3)
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as sess:
        x = v1.placeholder(tf.float32, (1, 8, 8, 3), name="x")
        kernel = v1.get_variable("conv/kernel", initializer=rng.normal(0, 0.5, (3, 3, 3, 4)).astype(np.float32),
                                 use_resource=use_resource)
        dense = v1.get_variable("dense/kernel", initializer=rng.normal(0, 0.3, (256, 5)).astype(np.float32),
                                use_resource=use_resource)
        y = tf.nn.relu(tf.nn.conv2d(x, kernel, [1, 1, 1, 1], "SAME"))
        probs = tf.nn.softmax(tf.matmul(tf.reshape(y, (1, 256)), dense), name="probs")
        sess.run(v1.global_variables_initializer())
        v1.saved_model.simple_save(sess, str(out), inputs={"image": x}, outputs={"probs": probs})


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    facts = {}
    for name, resource in (("v1_ref", False), ("v1_resource", True)):
        _save(out / name, resource)
        reader = tf.train.load_checkpoint(str(out / name / "variables" / "variables"))
        facts[name] = {key: {"shape": list(shape), "head": reader.get_tensor(key).reshape(-1)[:4].tolist()}
                       for key, shape in sorted(reader.get_variable_to_shape_map().items())}
    (out / "facts.json").write_text(json.dumps(facts, indent=1, sort_keys=True), "utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
