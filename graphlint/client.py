"""Talk to a graphlint server: ``graphlint check --server URL`` uploads each model and prints the report the
server returns exactly as a local check would (same formats, same exit codes). Standard library only.

The report the server returns is rebuilt with :func:`graphlint.report.report_from_dict`, so every renderer in
:mod:`graphlint.formats` works on it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .report import Report, report_from_dict

USER_AGENT = "graphlint-client"


class ServerError(Exception):
    """The server could not be reached or refused the request; ``str(err)`` is one line."""


def upload(server: str, path: str | Path, *, token: str | None = None, name: str | None = None,
           targets: Sequence[str] = (), inputs: Sequence[str] = (), outputs: Sequence[str] = (),
           select: Sequence[str] = (), ignore: Sequence[str] = (), extend_select: Sequence[str] = (),
           preview: bool = False, severity: dict | None = None, per_node_ignores: dict | None = None,
           timeout: float = 600) -> dict:
    """Upload one model file to ``server`` (``POST /v1/reports``, raw body) and return the stored report.

    Raises:
        ServerError: the file cannot be read, the server is unreachable, or it answered with an error.
    """
    params: list[tuple[str, str]] = [("name", str(name if name is not None else path))]
    params += [("target", t) for t in targets] + [("input", i) for i in inputs] + [("output", o) for o in outputs]
    params += [("select", s) for s in select] + [("ignore", s) for s in ignore]
    params += [("extend_select", s) for s in extend_select]
    params += [("severity", f"{k}={v}") for k, v in (severity or {}).items()]
    params += [("per_node_ignore", f"{g}={','.join(c)}") for g, c in (per_node_ignores or {}).items()]
    if preview:
        params.append(("preview", "true"))
    url = server.rstrip("/") + "/v1/reports?" + urllib.parse.urlencode(params)
    try:
        with open(path, "rb") as fh:
            size = Path(path).stat().st_size
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size),
                       "Accept": "application/json", "User-Agent": USER_AGENT}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            request = urllib.request.Request(url, data=fh, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise ServerError(f"{server} answered {err.code}: {_problem_detail(err)}") from None
    except urllib.error.URLError as err:
        raise ServerError(f"cannot reach {server}: {err.reason}") from None
    except (OSError, ValueError) as err:
        raise ServerError(f"{path}: {getattr(err, 'strerror', None) or err}") from None


def _problem_detail(err: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(err.read() or b"{}")
        return str(body.get("detail") or body.get("title") or err.reason)
    except (ValueError, OSError, AttributeError):
        return str(err.reason)


def lint_remote(server: str, path: str, *, token: str | None, targets: Sequence[str], inputs: Sequence[str],
                outputs: Sequence[str], selection) -> Report:
    """What :func:`graphlint.lint` returns for ``path``, computed by the server.

    A path that is not a readable regular file is linted locally (that only reports it as unreadable), so
    the output matches a local check; the report's ``model.path`` is ``path`` as given.

    Raises:
        ServerError: the server is unreachable or refused the upload.
    """
    import os
    import stat

    try:
        readable = stat.S_ISREG(os.stat(path).st_mode) and os.access(path, os.R_OK)
    except OSError:
        readable = False
    if not readable:
        from .engine.runner import lint

        return lint(path, targets=targets, inputs=inputs, outputs=outputs, selection=selection)
    data = upload(server, path, token=token, name=path, targets=targets, inputs=inputs, outputs=outputs,
                  select=selection.select, ignore=selection.ignore, extend_select=selection.extend_select,
                  preview=selection.preview, severity=dict(selection.severity),
                  per_node_ignores={k: tuple(v) for k, v in selection.per_node_ignores.items()})
    report = report_from_dict(data)
    report.model = {**report.model, "path": path}
    return report
