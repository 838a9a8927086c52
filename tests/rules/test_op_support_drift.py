"""The measured op-support table still describes the installed converter: a sample is re-probed with the real
TensorFlow, LiteRT and TFLite Micro (in worker processes) and compared with the committed table."""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path

import pytest

from tests.conftest import tensorflow_version

# One case per outcome kind: converts everywhere, stays float in int8 and is refused by int16x8, has no builtin,
# is refused by TFLite Micro, fails at invoke under uint8; string and complex tensors through builtins that take
# them, and a transpose above the converter's rank limit.
SAMPLE = ["conv2d", "neg", "erf", "topk", "abs", "gather_string_labels", "rfft_magnitude", "transpose_7d"]

pytestmark = [pytest.mark.tf, pytest.mark.converter]


def _probe_ops():
    spec = importlib.util.spec_from_file_location("probe_ops", Path(__file__).parents[2] / "scripts" / "probe_ops.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["probe_ops"] = module
    spec.loader.exec_module(module)
    return module


def test_sample_matches_the_committed_table():
    if tensorflow_version() is None:
        pytest.skip("TensorFlow is not installed")
    table = json.loads(resources.files("graphlint_rules").joinpath("data/op_support.json").read_text())
    if table["tensorflow"] != tensorflow_version():
        pytest.skip(f"the table was measured with TensorFlow {table['tensorflow']}, {tensorflow_version()} is "
                    "installed: re-run scripts/probe_ops.py")
    probe_ops = _probe_ops()
    assert probe_ops.compare(table, probe_ops.probe(SAMPLE)) == []
