"""Project configuration: ``[tool.graphlint]`` in ``pyproject.toml`` or the top level of ``graphlint.toml``.

The nearest file from the current directory upward wins; ``graphlint.toml`` beats ``pyproject.toml`` in the
same directory. Command-line options override the file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .engine.options import LintOptions, OptionsError
from .engine.select import Selection

# A TOML table as tomllib decodes it: each value is whatever the file holds (a string, a number, a list, a table)
# until the code that reads it checks it.
_Table = dict[str, Any]


class ConfigError(Exception):
    """The configuration file is invalid; ``str(err)`` is one line."""


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings from a config file."""

    path: str | None = None  # the file they came from
    options: LintOptions = dataclasses.field(default_factory=LintOptions)


_KEYS = {"targets", "select", "ignore", "extend-select", "preview", "severity", "per-node-ignores", "inputs",
         "outputs"}


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``graphlint.toml`` or ``pyproject.toml`` with a ``[tool.graphlint]`` table."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "graphlint.toml"
        if candidate.is_file():
            return candidate
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text("utf-8")
                # Most projects have no graphlint table: skip parsing (and importing tomllib) for them.
                tool = _toml(text).get("tool") if "graphlint" in text else None
                if isinstance(tool, dict) and "graphlint" in tool:
                    return candidate
            except (ValueError, OSError):  # tomllib.TOMLDecodeError and UnicodeDecodeError are ValueErrors
                continue
    return None


def _toml(text: str) -> _Table:
    import tomllib

    return tomllib.loads(text)


def _strings(table: _Table, key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    return tuple(value)


def load_config(path: Path | None) -> Config:
    """Read and validate a config file (``None`` gives the defaults)."""
    if path is None:
        return Config()
    try:
        data = _toml(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read ({err})") from None
    except ValueError as err:  # tomllib.TOMLDecodeError
        raise ConfigError(f"{path}: invalid TOML ({err})") from None
    table = _settings_table(data) if Path(path).name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `tool.graphlint` must be a table of settings")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting `{unknown[0]}` (known: {', '.join(sorted(_KEYS))})")
    where = str(path)
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{path}: `severity` maps codes to error, warning or info")
    ignores = table.get("per-node-ignores", {})
    if not isinstance(ignores, dict) or not all(isinstance(v, list) for v in ignores.values()):
        raise ConfigError(f"{path}: `per-node-ignores` maps node-name globs to lists of codes")
    preview = table.get("preview", False)
    if not isinstance(preview, bool):  # a string such as "false" would read as true
        raise ConfigError(f"{path}: `preview` is true or false (a TOML boolean, not a string)")
    try:
        selection = Selection(
            select=_strings(table, "select", where), ignore=_strings(table, "ignore", where),
            extend_select=_strings(table, "extend-select", where), preview=preview,
            severity=dict(severity), per_node_ignores={k: tuple(v) for k, v in ignores.items()})
        options = LintOptions(targets=_strings(table, "targets", where), inputs=_strings(table, "inputs", where),
                              outputs=_strings(table, "outputs", where), selection=selection)
    except OptionsError as err:
        raise ConfigError(f"{path}: {err}") from None
    return Config(path=where, options=options)


def _settings_table(pyproject: _Table) -> object:
    """The ``[tool.graphlint]`` value of a ``pyproject.toml`` (an empty table when it has none); not a table when
    the file gives ``tool`` or ``tool.graphlint`` some other value."""
    tool = pyproject.get("tool", {})
    return tool.get("graphlint", {}) if isinstance(tool, dict) else tool
