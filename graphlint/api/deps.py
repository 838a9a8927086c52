"""Dependencies shared by the routers: the caller's identity and the services on ``app.state``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

if TYPE_CHECKING:
    from graphlint.engine.registry import Registry

    from .auth import TokenStore
    from .blobs import BlobStore
    from .jobs import JobRunner
    from .linting import LintPool
    from .retention import Retention
    from .service import ReportService
    from .settings import Settings
    from .store import Store

_bearer = HTTPBearer(auto_error=False, description="a token from the server's token file (when it has one)")


class ServiceState(State):
    """The ``app.state`` of the service (:func:`graphlint.api.app.create_app` fills it): what each name holds.

    Starlette's ``State`` takes any attribute; these annotations say which ones the routes read, and of what type.
    """

    settings: Settings
    tokens: TokenStore
    store: Store
    blobs: BlobStore
    registry: Registry
    pool: LintPool
    jobs: JobRunner
    reports: ReportService
    retention: Retention


def app_state(request: Request) -> ServiceState:
    """The services of the app serving ``request``.

    Raises:
        RuntimeError: the app was not built by :func:`graphlint.api.app.create_app`.
    """
    state = request.app.state
    if not isinstance(state, ServiceState):
        raise RuntimeError("the app's state was not set up by graphlint.api.app.create_app")
    return state


async def _owner(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The owner of the request's bearer token (401 unless it is valid; everyone is one owner without tokens).

    Without a token file this is answered in the event loop; with one, in a thread (it may re-read the file).
    """
    tokens = app_state(request).tokens
    if not tokens.enabled:
        return tokens.owner(None)
    return await to_thread.run_sync(tokens.owner, request.headers.get("authorization"))


OwnerDep = Annotated[str, Depends(_owner)]
