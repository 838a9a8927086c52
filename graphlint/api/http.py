"""Limits on a request's head (request line and headers) that uvicorn's httptools protocol does not have.

llhttp, under uvicorn's ``httptools`` protocol, buffers a header of any size and waits for the rest of a head
for ever: one 100 MB header per connection took the server to gigabytes, and half-sent heads kept connections
open indefinitely. :func:`protocol_class` gives a subclass that answers 431 (and closes) when a head passes
``max_bytes`` or ``max_headers`` fields, and 408 (and closes) when a head is not complete ``timeout_s`` after
its connection opened or its previous response was sent. Without httptools, uvicorn's ``h11`` protocol takes
``h11_max_incomplete_event_size`` instead (see :func:`uvicorn_options`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import TYPE_CHECKING, Literal, TypedDict

from .problems import MEDIA_TYPE, PROBLEM_TYPE_BASE

if TYPE_CHECKING:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    # The mixin only ever runs mixed into uvicorn's protocol (:func:`protocol_class`): checked as its subclass, it
    # may call the protocol's methods through super() and read its attributes.
    _MixinBase = HttpToolsProtocol
else:
    _MixinBase = object  # uvicorn's protocol imports httptools, which is imported only when a server starts


@dataclasses.dataclass(frozen=True)
class HeadLimits:
    """What one request's head may cost."""

    max_bytes: int = 64 << 10
    max_headers: int = 100
    timeout_s: float = 10.0


def _response(status: int, reason: str, slug: str, title: str, detail: str) -> bytes:
    body = json.dumps({"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status,
                       "detail": detail}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: {MEDIA_TYPE}\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n")
    return head.encode() + body


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head over the field-count limit."""


class _HeadLimitsMixin(_MixinBase):
    """Counts the bytes and fields of each head, and times it; mixed into uvicorn's httptools protocol by
    :func:`protocol_class`, which sets the class attributes."""

    _limits: HeadLimits
    _too_large: bytes  # the 431 response
    _too_slow: bytes  # the 408 response
    # Each connection's state starts from these class values (immutable, so the first assignment makes them the
    # instance's own): no __init__ is needed, which would have to repeat the signature of uvicorn's.
    _in_head = True  # until the first request's headers are complete
    _head_bytes = 0
    _fields = 0
    _over = False
    _head_timer: asyncio.TimerHandle | None = None

    # uvicorn's protocol takes an asyncio.Transport where asyncio's declares the wider BaseTransport; this takes
    # what uvicorn's takes.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self._limits.timeout_s, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        transport = self.transport
        if not transport.is_closing():
            transport.write(response)
            transport.close()

    def _head_timeout(self) -> None:
        self._head_timer = None
        cycle = self.cycle
        if self._in_head and (cycle is None or cycle.response_complete):
            self._refuse(self._too_slow)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self._limits.max_bytes:
                self._refuse(self._too_large)

    def send_400_response(self, msg: str) -> None:
        if self._over:
            self._refuse(self._too_large)
        else:
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._fields = True, 0, 0
        if self._head_timer is None:
            self._arm()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        if self._fields > self._limits.max_headers:
            self._over = True
            raise _HeadTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()


def protocol_class(limits: HeadLimits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with ``limits`` on each request's head."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    too_large = _response(431, "Request Header Fields Too Large", "headers-too-large", "Request headers too large",
                          f"the request line and headers may take at most {limits.max_bytes} bytes in "
                          f"{limits.max_headers} fields")
    too_slow = _response(408, "Request Timeout", "request-timeout", "Request timeout",
                         f"the request headers were not complete within {limits.timeout_s:g} s")
    return type("LimitedHttpToolsProtocol", (_HeadLimitsMixin, HttpToolsProtocol),
                {"_limits": limits, "_too_large": too_large, "_too_slow": too_slow})


class UvicornOptions(TypedDict):
    """The keyword arguments of ``uvicorn.run`` that bound request heads."""

    http: type[asyncio.Protocol] | Literal["h11"]
    h11_max_incomplete_event_size: int


def uvicorn_options(limits: HeadLimits) -> UvicornOptions:
    """``uvicorn.run`` keyword arguments that put ``limits`` on request heads."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return {"http": "h11", "h11_max_incomplete_event_size": limits.max_bytes}
    return {"http": protocol_class(limits), "h11_max_incomplete_event_size": limits.max_bytes}
