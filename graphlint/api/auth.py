"""Bearer tokens from a token file; each token belongs to an owner, and an owner sees only its own reports.

The file holds one token per line, ``NAME:TOKEN`` or a bare ``TOKEN`` (its owner is then named after a hash of
it); blank lines and ``#`` comments are skipped. The file is re-read when it changes, so tokens can be added
or revoked without a restart. Without a token file the service is open and every caller is the owner ``""``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from pathlib import Path

from .problems import ProblemError

ANONYMOUS = ""


class TokenFileError(Exception):
    """The token file cannot be read or holds no token."""


def parse_tokens(text: str, where: str = "token file") -> dict[str, str]:
    """``{token: owner}`` from the file's text.

    Raises:
        TokenFileError: a token is repeated, too short, or there is none.
    """
    tokens: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        owner, sep, token = line.rpartition(":")
        if not sep:
            token, owner = line, "token-" + hashlib.sha256(line.encode()).hexdigest()[:12]
        owner, token = owner.strip(), token.strip()
        if len(token) < 16 or any(c.isspace() for c in token):
            raise TokenFileError(f"{where}:{number}: a token needs at least 16 characters and no spaces")
        if token in tokens:
            raise TokenFileError(f"{where}:{number}: the same token appears twice")
        tokens[token] = owner
    if not tokens:
        raise TokenFileError(f"{where}: no tokens")
    return tokens


class TokenStore:
    """The tokens in force, re-read when the file's modification time or size changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._tokens: dict[str, str] = {}
        if path is not None:
            self._reload(force=True)

    @property
    def enabled(self) -> bool:
        """True when callers must present a token."""
        return self.path is not None

    def _reload(self, force: bool = False) -> None:
        if self.path is None:  # no token file: nothing to read
            return
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size)
            if not force and stamp == self._stamp:
                return
            tokens = parse_tokens(Path(self.path).read_text("utf-8"), str(self.path))
        except (OSError, UnicodeDecodeError, TokenFileError) as err:
            if force:
                raise TokenFileError(str(err)) from None
            return  # keep the last good set rather than locking everybody out on a half-written file
        with self._lock:
            self._tokens, self._stamp = tokens, stamp

    def owner(self, authorization: str | None) -> str:
        """The owner of the bearer token in an ``Authorization`` header.

        Raises:
            ProblemError: 401 when the header is missing, malformed or names no known token.
        """
        if not self.enabled:
            return ANONYMOUS
        self._reload()
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ProblemError(401, "this server needs `Authorization: Bearer <token>`",
                               headers={"WWW-Authenticate": 'Bearer realm="graphlint"'})
        owner = None
        for known, name in self._tokens.items():  # compare with every token, in constant time each
            if hmac.compare_digest(known.encode(), token.encode()):
                owner = name
        if owner is None:
            raise ProblemError(401, "unknown or revoked token",
                               headers={"WWW-Authenticate": 'Bearer realm="graphlint", error="invalid_token"'})
        return owner
