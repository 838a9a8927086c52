"""GL304's type checks follow what each TFLite Micro kernel takes: every signature graphlint lets through runs in
the real interpreter, and the refused neighbours fail there and are reported."""

from __future__ import annotations

import numpy as np
import pytest

from graphlint.engine.runner import lint
from graphlint.testing import TFLiteBuilder
from graphlint_rules.micro import MICRO_TYPE_SIGNATURES

from ._micro import run_micro
from .test_gl606_litert_prepare import weighted_op

_QUANT = {"int8": ([0.1], [0]), "uint8": ([0.1], [128]), "int16": ([0.1], [0]), "float32": None}


def _one_op(op: str, src: str, dst: str, *, options=None, shape_operand: bool = False, out_shape=(1, 4),
            extra: tuple = ()) -> bytes:
    b = TFLiteBuilder()
    ins = [b.input("x", src, (1, 4), quant=_QUANT[src])]
    if shape_operand:
        ins.append(b.tensor("new_shape", "int32", (1,), data=np.array([4])))
    if op == "ADD":
        ins.append(b.tensor("c", src, (1, 4), data=np.ones((1, 4)), quant=_QUANT[src]))
    ins.extend(b.tensor(f"operand{i}", "int32", np.shape(value), data=np.array(value)) for i, value in enumerate(extra))
    y = b.tensor("y", dst, (4,) if op in ("RESHAPE", "SQUEEZE") else out_shape, quant=_QUANT[dst])
    b.op(op, ins, [y], options=options)
    b.output(y)
    return b.to_bytes()


def _wake_word() -> bytes:
    """An int8 classifier whose last op converts its int8 scores to the uint8 output, as wake-word models do."""
    b = TFLiteBuilder()
    x = b.input("audio", "int8", (1, 4), quant=([0.1], [0]))
    w = b.tensor("w", "int8", (3, 4), data=np.ones((3, 4)), quant=([0.01], [0]))
    bias = b.tensor("bias", "int32", (3,), data=np.zeros(3), quant=([0.001], [0]))
    scores = b.tensor("scores", "int8", (1, 3), quant=([0.1], [0]))
    out = b.tensor("scores_u8", "uint8", (1, 3), quant=([0.1], [128]))
    b.op("FULLY_CONNECTED", [x, w, bias], [scores], options=("FullyConnectedOptions", {}))
    b.op("QUANTIZE", [scores], [out])
    b.output(out)
    return b.to_bytes()


ACCEPTED = {
    ("QUANTIZE", ("int8",), ("uint8",)): lambda: _one_op("QUANTIZE", "int8", "uint8"),
    ("QUANTIZE", ("uint8",), ("int8",)): lambda: _one_op("QUANTIZE", "uint8", "int8"),
    ("DEQUANTIZE", ("uint8",), ("float32",)): lambda: _one_op("DEQUANTIZE", "uint8", "float32"),
    ("RESHAPE", ("uint8",), ("uint8",)): lambda: _one_op("RESHAPE", "uint8", "uint8",
                                                         options=("ReshapeOptions", {"newShape": [4]})),
    ("RESHAPE", ("uint8", "int32"), ("uint8",)): lambda: _one_op("RESHAPE", "uint8", "uint8", shape_operand=True),
    ("SQUEEZE", ("uint8",), ("uint8",)): lambda: _one_op("SQUEEZE", "uint8", "uint8",
                                                         options=("SqueezeOptions", {"squeezeDims": [0]})),
    ("CONV_2D", ("int16", "int8", "int64"), ("int16",)): lambda: weighted_op("CONV_2D", "int16", "int8", True,
                                                                             (0, 0)),
    ("DEPTHWISE_CONV_2D", ("int16", "int8", "int64"), ("int16",)): lambda: weighted_op(
        "DEPTHWISE_CONV_2D", "int16", "int8", True, (0, 0)),
    ("FULLY_CONNECTED", ("int16", "int8", "int64"), ("int16",)): lambda: weighted_op(
        "FULLY_CONNECTED", "int16", "int8", True, (0, 0)),
    ("TRANSPOSE_CONV", ("int32", "int8", "int16", "int64"), ("int16",)): lambda: weighted_op(
        "TRANSPOSE_CONV", "int16", "int8", True, (0, 0)),
}

REFUSED = {
    "QUANTIZE float32->uint8": lambda: _one_op("QUANTIZE", "float32", "uint8"),
    "QUANTIZE uint8->uint8": lambda: _one_op("QUANTIZE", "uint8", "uint8"),
    "QUANTIZE int16->uint8": lambda: _one_op("QUANTIZE", "int16", "uint8"),
    "QUANTIZE uint8->int16": lambda: _one_op("QUANTIZE", "uint8", "int16"),
    "RELU uint8": lambda: _one_op("RELU", "uint8", "uint8"),
    "LOGISTIC uint8": lambda: _one_op("LOGISTIC", "uint8", "uint8"),
    "ADD uint8": lambda: _one_op("ADD", "uint8", "uint8", options=("AddOptions", {})),
    "SOFTMAX uint8": lambda: _one_op("SOFTMAX", "uint8", "uint8", options=("SoftmaxOptions", {"beta": 1.0})),
    "EXPAND_DIMS uint8": lambda: _one_op("EXPAND_DIMS", "uint8", "uint8", out_shape=(1, 1, 4), extra=([0],)),
    "TRANSPOSE uint8": lambda: _one_op("TRANSPOSE", "uint8", "uint8", out_shape=(4, 1), extra=([1, 0],)),
    "PAD uint8": lambda: _one_op("PAD", "uint8", "uint8", out_shape=(1, 6), extra=([[0, 0], [1, 1]],)),
    "GATHER uint8": lambda: _one_op("GATHER", "uint8", "uint8", out_shape=(1, 2), extra=([0, 1],),
                                    options=("GatherOptions", {"axis": 1})),
}


def _gl304(path):
    report = lint(path, targets=["tflm"])
    return [f for f in report.findings if f.code == "GL304"], report.verdicts()["tflm"]["verdict"]


def test_every_accepted_signature_is_measured():
    assert set(ACCEPTED) == set(MICRO_TYPE_SIGNATURES)


@pytest.mark.parametrize("signature", sorted(ACCEPTED), ids=lambda s: f"{s[0]}:{','.join(s[1])}->{s[2][0]}")
def test_accepted_signature_runs_and_passes(tmp_path, signature):
    path = tmp_path / "model.tflite"
    path.write_bytes(ACCEPTED[signature]())
    run = run_micro(path)
    assert run.ran, run.output
    found, verdict = _gl304(path)
    assert not found, [f.message for f in found]
    assert verdict == "pass"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_type_fails_and_is_reported(tmp_path, case):
    path = tmp_path / "model.tflite"
    path.write_bytes(REFUSED[case]())
    run = run_micro(path)
    assert not run.ran, run.output
    found, verdict = _gl304(path)
    assert verdict == "fail"
    op = case.split()[0]
    assert any(f.message.startswith(f"`y` ({op}): TFLite Micro's {op} kernel does not take") for f in found), \
        [f.message for f in found]


def test_wake_word_model_with_uint8_output_runs_and_passes(tmp_path):
    path = tmp_path / "wake_word.tflite"
    path.write_bytes(_wake_word())
    run = run_micro(path)
    assert run.ran, run.output
    found, verdict = _gl304(path)
    assert not found and verdict == "pass", [f.message for f in found]


def test_a_string_passed_through_the_model_fails_to_allocate_and_is_reported_once(tmp_path):
    b = TFLiteBuilder()
    x = b.input("x", "float32", (1, 4))
    key = b.input("key", "string", (1,))
    y = b.tensor("y", "float32", (1, 4))
    b.op("RELU", [x], [y])
    b.output(y, key)
    path = tmp_path / "keyed.tflite"
    path.write_bytes(b.to_bytes())
    run = run_micro(path)
    assert not run.ran and "failed to allocate" in run.output, run.output
    found, verdict = _gl304(path)
    assert verdict == "fail"
    assert [f.message for f in found] == ["`key` is a string input and output: TFLite Micro has no string tensors "
                                          "(\"TFLM failed to allocate tensors\")"]
