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
from pathlib import Path

from .engine.options import LintOptions
from .report import JSONObject, Report, report_from_dict

USER_AGENT = "graphlint-client"


class ServerError(Exception):
    """The server could not be reached or refused the request; ``str(err)`` is one line."""


def upload(server: str, path: str | Path, options: LintOptions | None = None, *, token: str | None = None,
           name: str | None = None, timeout: float = 600) -> JSONObject:
    """Upload one model file to ``server`` (``POST /v1/reports``, raw body) and return the stored report.

    Raises:
        ServerError: the file cannot be read, the server is unreachable, or it answered with an error.
    """
    params = [("name", str(name if name is not None else path)), *(options or LintOptions()).to_query()]
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
                data = json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise ServerError(f"{server} answered {err.code}: {_problem_detail(err)}") from None
    except urllib.error.URLError as err:
        raise ServerError(f"cannot reach {server}: {err.reason}") from None
    except (OSError, ValueError) as err:
        raise ServerError(f"{path}: {getattr(err, 'strerror', None) or err}") from None
    if not isinstance(data, dict):
        raise ServerError(f"{server} did not answer with a report (its JSON is not an object)")
    return data


def _problem_detail(err: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(err.read() or b"{}")
        return str(body.get("detail") or body.get("title") or err.reason)
    except (ValueError, OSError, AttributeError):
        return str(err.reason)


def lint_remote(server: str, path: str, options: LintOptions, *, token: str | None) -> Report:
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

        return lint(path, options)
    data = upload(server, path, options, token=token, name=path)
    try:
        report = report_from_dict(data)
        report.model = {**report.model, "path": path}
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ServerError(f"{server} did not answer with a report ({type(err).__name__}: {err})") from None
    return report
