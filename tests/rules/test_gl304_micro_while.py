"""GL304 and WHILE: TFLite Micro runs a float WHILE loop over fixed shapes (measured on the corpus's TF2 loops,
Keras RNNs among them); it never returns from one whose body writes a tensor of dynamic shape (a TensorArray the
converter lowered into a growing concatenation), which the corpus's .tflite agreement test measures."""

from __future__ import annotations

import pytest

from graphlint.engine.runner import lint

from ._micro import run_micro


@pytest.mark.tf
def test_a_float_while_over_fixed_shapes_runs_on_micro_and_is_not_reported(tf_models):
    path = tf_models / "while.tflite"
    report = lint(path, targets=("tflm",))
    assert not [f for f in report.findings if f.code == "GL304" and f.op == "WHILE"], report.findings
    assert report.verdicts()["tflm"]["verdict"] == "pass"
    run = run_micro(path)
    assert run.ran, run.output
