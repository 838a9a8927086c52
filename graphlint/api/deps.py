"""Dependencies shared by the routers: the caller's identity and the services on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="a token from the server's token file (when it has one)")


async def _owner(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The owner of the request's bearer token (401 unless it is valid; everyone is one owner without tokens).

    Without a token file this is answered in the event loop; with one, in a thread (it may re-read the file).
    """
    tokens = request.app.state.tokens
    if not tokens.enabled:
        return tokens.owner(None)
    return await to_thread.run_sync(tokens.owner, request.headers.get("authorization"))


OwnerDep = Annotated[str, Depends(_owner)]
