"""Build the Keras files the Keras tests read, into the directory given on the command line (seeded).

Run in a child process by ``keras_models`` in ``tests/conftest.py`` (the test process never imports TensorFlow):

* ``one.keras`` and ``one.h5``: the same small CNN (``image`` [?, 8, 8, 1], ``conv1`` 3x3 to 4 channels with ReLU,
  ``gap``, ``head`` dense to 5), saved in the Keras format and in legacy HDF5; its one-channel convolution is what
  GL404 reports, on a node of layer ``conv1``;
* ``one_sm/``: the same model exported with ``model.export``, the SavedModel ``graphlint`` traces the files into;
* ``dyn/``: a ``tf.Module`` SavedModel whose input ``x`` is [?, ?, 4] (batch and length unknown), output ``y``
  the sum over the length, times 2.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")


def _dynamic(tf, out: Path) -> None:
    class Summer(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, None, 4], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.reduce_sum(x * 2.0, axis=1)}

    module = Summer()
    tf.saved_model.save(module, str(out), signatures={"serving_default": module.serve})


def main(out: Path) -> None:
    import keras
    import tensorflow as tf

    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((8, 8, 1), name="image"),
                              keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),
                              keras.layers.GlobalAveragePooling2D(name="gap"), keras.layers.Dense(5, name="head")],
                             name="one")
    model.save(out / "one.keras")
    model.save(out / "one.h5")
    model.export(str(out / "one_sm"), verbose=False)
    _dynamic(tf, out / "dyn")
    (out / "manifest.json").write_text(json.dumps({"tensorflow": tf.__version__, "keras": keras.__version__,
                                                   "layers": [layer.name for layer in model.layers]}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
