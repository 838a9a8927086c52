"""Request heads are bounded in size, field count and time, measured with raw sockets against a real server."""

from __future__ import annotations

import socket

import pytest

from .conftest import graphdef, upload

BIG = 64 << 10  # the default cap on a head


@pytest.fixture()
def limited(make_server):
    return make_server(env={"GRAPHLINT_HEADER_TIMEOUT_S": "1"})


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _send_until_refused(sock: socket.socket, head: bytes, filler: bytes, limit: int) -> bool:
    """Send ``head`` then ``filler`` up to ``limit`` bytes; False when the server closed the connection first."""
    try:
        sock.sendall(head)
        sent = 0
        while sent < limit:
            sock.sendall(filler)
            sent += len(filler)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def test_a_huge_header_gets_431_before_it_is_read(limited):
    with _connect(limited) as sock:
        finished = _send_until_refused(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ", b"a" * 16384,
                                       64 << 20)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"application/problem+json" in answer and b"headers-too-large" in answer
    assert not finished  # the server hung up long before the 64 MB were sent


def test_a_long_request_line_gets_431(limited):
    with _connect(limited) as sock:
        _send_until_refused(sock, b"GET /healthz?", b"q" * 16384, 8 << 20)
        assert _read_all(sock).startswith(b"HTTP/1.1 431 ")


def test_too_many_header_fields_get_431(limited):
    fields = b"".join(b"X-F%d: 1\r\n" % i for i in range(1000))
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + b"\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_a_head_that_never_ends_gets_408_and_the_connection_closes(limited):
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        answer = _read_all(sock)  # returns only once the server closes the connection
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    with _connect(limited) as sock:  # a connection that never sends a byte is closed too
        assert _read_all(sock).startswith(b"HTTP/1.1 408 ")
    with _connect(limited) as sock:  # the server still answers
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert _read_all(sock).startswith(b"HTTP/1.1 200 ")


def test_ordinary_requests_are_not_limited(limited):
    """Large but allowed heads, keep-alive, several requests on one connection, bodies far over the head cap."""
    cookie = "c=" + "x" * (BIG // 2)
    with limited.client() as c:
        assert c.get("/healthz", headers={"Cookie": cookie}).status_code == 200
        assert c.get("/healthz", headers={f"X-F{i}": "1" for i in range(80)}).status_code == 200
        junk = upload(c, b"\x01" * (4 << 20), name="junk.pb")  # a body 64 times the head cap: a report (GL001)
        assert junk.status_code == 201 and junk.json()["findings"][0]["code"] == "GL001", junk.text
        multipart = c.post("/v1/reports", files={"file": ("m.pb", graphdef(4), "application/octet-stream")},
                           data={"name": "n" * 200, "output": "y"})
        assert multipart.status_code == 201, multipart.text
        for _ in range(3):
            assert c.get("/v1/reports").status_code == 200
    with _connect(limited) as sock:  # pipelined requests on one connection
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2
                     + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert _read_all(sock).count(b"HTTP/1.1 200 ") == 3
