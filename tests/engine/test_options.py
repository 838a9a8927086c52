"""LintOptions is the one options type: checked when made, the same whether the config file, the command line, the
API or the client built it, and carried whole from one to the other."""

from __future__ import annotations

import pytest

from graphlint.config import ConfigError, load_config
from graphlint.engine.options import LintOptions, OptionsError
from graphlint.engine.runner import lint
from graphlint.engine.select import Selection
from graphlint.engine.targets import DEFAULT_TARGETS, TARGETS
from graphlint.testing import GraphBuilder

FULL = LintOptions(targets=("tflm", "float"), inputs=("x:1,4",), outputs=("y",),
                   selection=Selection(select=("GL1", "GL3"), ignore=("GL102",), extend_select=("GL405",), preview=True,
                                       severity={"GL101": "warning", "training-op": "info"},
                                       per_node_ignores={"save/*": ("GL102", "GL1")}))


def test_defaults_and_canonical_target_order():
    assert LintOptions().targets == DEFAULT_TARGETS
    assert FULL.targets == tuple(t for t in TARGETS if t in ("tflm", "float"))
    assert FULL.input_names == ("x",) and FULL.input_shapes == {"x": (1, 4)}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"targets": ("tpu",)}, "unknown target `tpu`"),
    ({"inputs": ("x:1,abc",)}, "bad shape `1,abc` for `x`"),
    ({"selection": Selection(severity={"GL101": "fatal"})}, "severity must be one of error, info, warning"),
    ({"selection": Selection(per_node_ignores={"w": "GL101"})}, "per-node ignores map node-name globs"),
])
def test_bad_options_are_refused_when_made_in_one_line(kwargs, message):
    with pytest.raises(OptionsError, match=message) as err:
        LintOptions(**kwargs)
    assert "\n" not in str(err.value)


def test_the_query_the_client_sends_is_what_the_api_reads():
    params: dict[str, list[str]] = {}
    for key, value in FULL.to_query():
        params.setdefault(key, []).append(value)
    assert LintOptions.from_query(params) == FULL
    assert LintOptions.from_query(params).to_dict() == FULL.to_dict()


def test_the_query_takes_repeated_and_comma_separated_values():
    options = LintOptions.from_query({"target": ["float,int8", "tflm"], "select": ["GL1,GL2"], "preview": ["yes"],
                                      "per_node_ignore": ["conv*=GL401,GL402"], "severity": ["GL101=info"]})
    assert options.targets == ("float", "int8", "tflm")
    assert options.selection.select == ("GL1", "GL2") and options.selection.preview
    assert options.selection.per_node_ignores == {"conv*": ("GL401", "GL402")}
    with pytest.raises(OptionsError, match="`severity` takes KEY=VALUE, got `GL101`"):
        LintOptions.from_query({"severity": ["GL101"]})


def test_the_content_address_layout_is_fixed():
    """Stored reports are found again by this dict: its layout changing would re-lint every stored model."""
    assert FULL.to_dict() == {
        "targets": ["float", "tflm"], "inputs": ["x:1,4"], "outputs": ["y"], "select": ["GL1", "GL3"],
        "ignore": ["GL102"], "extend_select": ["GL405"], "preview": True,
        "severity": [["GL101", "warning"], ["training-op", "info"]], "per_node_ignores": [["save/*", ["GL102", "GL1"]]]}


def test_the_command_line_lays_its_flags_over_the_config_file(tmp_path):
    path = tmp_path / "graphlint.toml"
    path.write_text('targets = ["int8"]\nselect = ["GL1"]\nignore = ["GL101"]\ninputs = ["x:1,4"]\n'
                    '[severity]\nGL102 = "info"\n')
    config = load_config(path).options
    assert config.targets == ("int8",) and config.selection.severity == {"GL102": "info"}
    merged = config.override(targets=("float",), ignore=("GL103",), select=(), preview=True)
    assert merged.targets == ("float",) and merged.inputs == ("x:1,4",)
    assert merged.selection.select == ("GL1",) and merged.selection.ignore == ("GL101", "GL103")
    assert merged.selection.preview and merged.selection.severity == {"GL102": "info"}
    with pytest.raises(OptionsError, match="unknown target `tpu`"):
        config.override(targets=("tpu",))


def test_a_bad_config_value_names_the_file(tmp_path):
    path = tmp_path / "graphlint.toml"
    path.write_text('targets = ["tpu"]\n')
    with pytest.raises(ConfigError, match=r"graphlint.toml: unknown target `tpu`"):
        load_config(path)
    path.write_text('[severity]\nGL101 = "loud"\n')
    with pytest.raises(ConfigError, match=r"graphlint.toml: severity must be one of"):
        load_config(path)
    path.write_text('preview = "false"\n')
    with pytest.raises(ConfigError, match=r"graphlint.toml: `preview` is true or false"):
        load_config(path)


def test_lint_takes_the_options_or_their_fields_not_both():
    b = GraphBuilder()
    b.output(b.op("Relu", [b.placeholder("x", "float32", (1, 4))], name="y"))
    data = b.to_bytes()
    options = LintOptions(targets=("float",), outputs=("y",))
    assert lint(data, options).to_dict()["targets"] == lint(data, targets=["float"], outputs=["y"]).to_dict()["targets"]
    with pytest.raises(TypeError, match="not both"):
        lint(data, options, targets=["int8"])
