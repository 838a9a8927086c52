"""GL304 on a large int8 SOFTMAX: TFLite Micro's reference softmax aborts at invoke once a row's exps sum to 512
(Q12.19 sum of 2^28, exponent 32). Both sides of each line are run in the real interpreter."""

from __future__ import annotations

import pytest

from graphlint.engine.finding import Severity
from graphlint.engine.runner import lint
from graphlint.testing import TFLiteBuilder
from graphlint_rules.micro import SOFTMAX_SUM_LIMIT, softmax_min_sum

from ._micro import run_micro


def _softmax(classes: int, scale: float) -> bytes:
    b = TFLiteBuilder()
    x = b.input("logits", "int8", (1, classes), quant=([scale], [0]))
    y = b.tensor("probs", "int8", (1, classes), quant=([1 / 256], [-128]))
    b.op("SOFTMAX", [x], [y], options=("SoftmaxOptions", {"beta": 1.0}))
    b.output(y)
    return b.to_bytes()


def _lint(path):
    report = lint(path, targets=["tflm"])
    return [f for f in report.findings if f.code == "GL304"], report.verdicts()["tflm"]["verdict"]


def test_the_class_limit_is_512_equal_logits(tmp_path):
    below, at = tmp_path / "below.tflite", tmp_path / "at.tflite"
    below.write_bytes(_softmax(SOFTMAX_SUM_LIMIT - 1, 0.1))
    at.write_bytes(_softmax(SOFTMAX_SUM_LIMIT, 0.1))
    ran, aborted = run_micro(below), run_micro(at)  # zeros: every logit equal, each exp adds exactly 1
    assert ran.ran, ran.output
    assert aborted.aborted, aborted.output
    assert _lint(below) == ([], "pass")
    found, verdict = _lint(at)  # calibrated to a range of 25.5: typical rows are far from flat, so a note only
    assert verdict == "pass" and [f.severity for f in found] == [Severity.INFO]
    assert "with 512 classes that happens when the logits come out nearly equal" in found[0].message


@pytest.mark.parametrize(("scale", "certain"), [(0.0026, True), (0.0027, False)])
def test_certain_abort_follows_the_widest_spread(tmp_path, scale, certain):
    """1000 classes: 1 + 999 * exp(-255 * scale) reaches 512 at scale 0.00263. The widest int8 spread (one logit at
    127, the rest at -128) is the input least likely to abort; it aborts below that scale and runs above."""
    assert (softmax_min_sum(1000, scale * (1 << 26)) >= SOFTMAX_SUM_LIMIT) is certain
    path = tmp_path / "softmax.tflite"
    path.write_bytes(_softmax(1000, scale))
    widest = run_micro(path, "extreme")
    assert widest.aborted is certain and widest.ran is not certain, widest.output
    equal = run_micro(path)
    assert equal.aborted, equal.output  # equal logits abort either way: the warning is real
    found, verdict = _lint(path)
    # logits calibrated to a range under 0.7 are flat for inputs like the calibration data: an error either way,
    # claimed for every input only where even the widest spread aborts
    assert verdict == "fail" and [f.severity for f in found] == [Severity.ERROR]
    assert ("it aborts on every input" in found[0].message) is certain
    assert ("inputs like them abort" in found[0].message) is not certain
