"""Build the SavedModels the SavedModel loader tests read, and judge them with the real converter.

Run in child processes (the test process never imports TensorFlow):

* ``python tests/loaders/savedmodel_models.py build OUT`` writes, seeded:

  - ``cnn/``: a small Keras CNN (conv, pool, conv, global pool, dense softmax) saved with ``model.export``;
  - ``module/``: a ``tf.Module`` with two variables and two signatures (``serving_default``, ``scaled``), saved
    with ``tf.saved_model.save``;
  - ``mobilenet/`` and ``mobilenet.pb``: Keras MobileNetV2 (``weights=None``, 96x96, alpha 0.35) exported, and the
    same model's serving function frozen with ``convert_variables_to_constants_v2``;
  - ``lstm/``: a Keras LSTM (8 steps of 4 features, 16 units) and a dense head, exported; ``lstm_b1/`` the same
    with a fixed batch of 1;
  - ``facts.json``: per SavedModel, each variable's checkpoint key, dtype and shape, and a few values, as
    TensorFlow reads them back (``tf.train.load_checkpoint``); the frozen graph's input and output names.

* ``python tests/loaders/savedmodel_models.py judge DIR TARGET OUT.json`` converts one SavedModel with
  ``TFLiteConverter.from_saved_model`` and the target's settings, runs it in LiteRT and writes the verdict the
  way ``graphlint/convert/judge.py`` gives it (one process per conversion: int8 calibration of a recurrent model
  may crash the process).
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

MODELS = ("cnn", "mobilenet", "lstm", "lstm_b1", "module")


def _keras_models(keras):
    keras.utils.set_random_seed(7)
    cnn = keras.Sequential([
        keras.Input((16, 16, 3)),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool"),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(10, activation="softmax", name="head"),
    ], name="cnn")
    mobilenet = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10)
    lstm = keras.Sequential([keras.Input((8, 4)), keras.layers.LSTM(16, name="lstm"),
                             keras.layers.Dense(3, name="head")], name="lstm")
    lstm_b1 = keras.Sequential([keras.Input((8, 4), batch_size=1), keras.layers.LSTM(16, name="lstm"),
                                keras.layers.Dense(3, name="head")], name="lstm_b1")
    return {"cnn": cnn, "mobilenet": mobilenet, "lstm": lstm, "lstm_b1": lstm_b1}


def _module(tf):
    class Scaler(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4) / 10.0, name="w")
            self.b = tf.Variable(np.array([1.0, -1.0, 0.5, 0.0], np.float32), name="b")

        @tf.function(input_signature=[tf.TensorSpec([1, 3], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.nn.relu(tf.matmul(x, self.w) + self.b)}

        @tf.function(input_signature=[tf.TensorSpec([2, 3], tf.float32, name="x")])
        def scaled(self, x):
            return {"z": tf.matmul(x * 2.0, self.w)}

    return Scaler()


def _variable_facts(tf, directory: Path) -> dict:
    reader = tf.train.load_checkpoint(str(directory / "variables" / "variables"))
    facts = {}
    for key, shape in sorted(reader.get_variable_to_shape_map().items()):
        if key.startswith("_CHECKPOINTABLE"):
            continue
        value = reader.get_tensor(key)
        facts[key] = {"dtype": value.dtype.name, "shape": list(shape),
                      "head": np.asarray(value).reshape(-1)[:4].tolist()}
    return facts


def _freeze(tf, directory: Path, out: Path) -> dict:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    loaded = tf.saved_model.load(str(directory))  # keeps the variables alive while freezing
    frozen_fn = loaded.signatures["serving_default"]
    frozen = convert_variables_to_constants_v2(frozen_fn)
    out.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return {"inputs": [t.name for t in frozen.inputs], "outputs": [t.name for t in frozen.outputs]}


def build(out: Path) -> None:
    import keras
    import tensorflow as tf

    out.mkdir(parents=True, exist_ok=True)
    facts: dict = {"tensorflow": tf.__version__, "keras": keras.__version__, "variables": {}}
    for name, model in _keras_models(keras).items():
        model.export(str(out / name), verbose=False)
    module = _module(tf)
    tf.saved_model.save(module, str(out / "module"), signatures={"serving_default": module.serve,
                                                                 "scaled": module.scaled})
    for name in MODELS:
        facts["variables"][name] = _variable_facts(tf, out / name)
    facts["mobilenet_pb"] = _freeze(tf, out / "mobilenet", out / "mobilenet.pb")
    (out / "facts.json").write_text(json.dumps(facts, indent=1, sort_keys=True), "utf-8")


def _float_ops(model: bytes) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from graphlint.convert.judge import float_ops

    return float_ops(model)


def judge(directory: str, target: str) -> dict:
    """The verdict of converting ``directory`` for ``target`` with from_saved_model and running it in LiteRT."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from graphlint.convert import settings
    from graphlint.convert.judge import FLOAT_OPS_WARN

    sig = tf.saved_model.load(directory).signatures["serving_default"]
    specs = [(s.shape.as_list(), s.dtype.name) for s in sig.structured_input_signature[1].values()]
    shapes = [[1 if d is None else d for d in shape] for shape, _ in specs]

    def dataset():
        rng = np.random.default_rng(0)
        for _ in range(4):
            yield [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]

    try:
        conv = tf.lite.TFLiteConverter.from_saved_model(directory)
        settings.configure(tf, conv, target, dataset=dataset)
        model = conv.convert()
    except Exception as err:  # noqa: BLE001 - the refusal is the verdict
        return {"actual": "fail", "stage": "convert", "message": str(err)[-2000:]}
    interp = Interpreter(model_content=model)
    try:
        interp.allocate_tensors()
        for detail in interp.get_input_details():
            interp.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
        interp.invoke()
    except Exception as err:  # noqa: BLE001
        return {"actual": "fail", "stage": "litert", "message": str(err)[-2000:]}
    from graphlint.loaders import load

    ops = sorted({attrs["op"] for _, attrs in load(model, name="m.tflite").ops()})
    floats = _float_ops(model) if target in FLOAT_OPS_WARN else []
    return {"actual": "warn" if floats else "pass", "stage": "litert", "float_ops": floats, "ops": ops}


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(Path(sys.argv[2]))
    else:
        Path(sys.argv[4]).write_text(json.dumps(judge(sys.argv[2], sys.argv[3])), "utf-8")
