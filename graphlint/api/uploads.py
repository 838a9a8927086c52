"""Receive a model upload: stream the body to a temporary file under the size cap, then hash the file.

Two shapes are accepted: ``multipart/form-data`` with the model in the field ``file`` (other fields are the
lint options), or the model itself as the body (``application/octet-stream``, or no content type). A body
whose ``Content-Length`` is over the cap is refused before any of it is read; a chunked body is refused as
soon as it passes the cap. The temporary file's name is random: nothing the client sends becomes a path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import mmap
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from anyio import to_thread
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from .problems import ProblemError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELDS = 256  # non-file multipart fields
MAX_FIELD_BYTES = 16 << 10  # each of them


@dataclasses.dataclass
class Upload:
    """A received model file and the form fields that came with it."""

    path: Path  # temporary file under the data dir
    sha256: str
    size: int
    filename: str | None  # the client's file name (multipart), used only as text
    fields: dict[str, list[str]]
    has_file: bool = True  # False when a body without the model was allowed (require_file=False)

    def first(self, field: str) -> str | None:
        """The first value of a form field, or None when the form had none."""
        values = self.fields.get(field)
        return values[0] if values else None

    def discard(self) -> None:
        """Delete the temporary file (when it was not moved into the store)."""
        self.path.unlink(missing_ok=True)


def _too_large(cap: int) -> ProblemError:
    return ProblemError(413, f"the upload is larger than the server's limit of {cap} bytes "
                             f"({cap / (1 << 20):g} MB)", slug="too-large")


class _Sink:
    """Writes the model bytes to the temporary file as they arrive, counting them.

    Each piece of the body (a few hundred KB: what the server read from the socket) is written at once, in the
    event loop's thread: that holds the loop for a fraction of a millisecond, and handing the pieces to other
    threads costs more CPU than it saves (a wake-up per batch, the GIL passed back and forth).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        """Write ``data`` (a memoryview is written without a copy)."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        self.size += len(data)

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


def _file_sha256(path: Path) -> str:
    """The SHA-256 of a file, in one call that releases the GIL for the whole file.

    Run in a thread once an upload is written, the hash takes a core of its own while the event loop goes on
    reading other uploads, and costs no more CPU than hashing each piece as it arrives.
    """
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return hashlib.sha256(b"").hexdigest()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return hashlib.sha256(data).hexdigest()


class _Form:
    """State of a streaming multipart parse: the ``file`` part goes to the sink, other fields to memory."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.fields: dict[str, list[str]] = {}
        self.filename: str | None = None
        self.files = 0
        self.count = 0
        self._headers: dict[bytes, bytes] = {}
        self._field, self._value = b"", b""
        self._name: str | None = None
        self._is_file = False
        self._buf = bytearray()
        self.error: str | None = None
        self.ended = False

    def callbacks(self) -> MultipartCallbacks:
        return {"on_part_begin": self._part_begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
                "on_part_end": self._part_end, "on_end": self._end}

    def _part_begin(self) -> None:
        self._headers, self._field, self._value, self._buf = {}, b"", b"", bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        self._name = name.decode("utf-8", "replace") if name is not None else None
        self._is_file = self._name == "file"
        if self._is_file:
            self.files += 1
            if self.files > 1:
                self.error = "only one `file` field is allowed"
            filename = options.get(b"filename")
            self.filename = filename.decode("utf-8", "replace") if filename else None
        else:
            self.count += 1
            if self.count > MAX_FIELDS:
                self.error = f"more than {MAX_FIELDS} form fields"

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error:
            return
        if self._is_file:
            self.sink.write(memoryview(data)[start:end])
        else:
            self._buf += data[start:end]
            if len(self._buf) > MAX_FIELD_BYTES:
                self.error = f"form field `{self._name}` is longer than {MAX_FIELD_BYTES} bytes"

    def _part_end(self) -> None:
        if self._is_file or self.error or self._name is None:
            return
        try:
            value = self._buf.decode("utf-8")
        except UnicodeDecodeError:
            self.error = f"form field `{self._name}` is not UTF-8 text"
            return
        self.fields.setdefault(self._name, []).append(value)

    def _end(self) -> None:
        self.ended = True


async def receive_upload(request: Request, tmp_dir: Path, cap: int, *, require_file: bool = True) -> Upload:
    """Stream the request body into a new file under ``tmp_dir``.

    With ``require_file`` False, a multipart body may lack the ``file`` field and a small
    ``application/x-www-form-urlencoded`` body is accepted too (fields only); the upload is then empty.

    Raises:
        ProblemError: 413 over the cap, 415 for another content type, 422 for a malformed multipart body or a
            missing ``file`` field, 400 when the client went away mid-upload.
    """
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ProblemError(400, "invalid Content-Length header")
        if int(length) > cap:
            raise _too_large(cap)
    raw_type, params = parse_options_header(request.headers.get("content-type", ""))
    ctype = raw_type.decode("latin-1").lower()
    if ctype == "application/x-www-form-urlencoded" and not require_file:
        return await _urlencoded(request, tmp_dir)
    if ctype not in ("", "application/octet-stream", "multipart/form-data"):
        raise ProblemError(415, f"send the model as multipart/form-data (field `file`) or as an "
                                f"application/octet-stream body, not `{ctype}`")
    path = tmp_dir / f"upload-{secrets.token_hex(12)}"
    sink = _Sink(path)
    try:
        if ctype == "multipart/form-data":
            form = await _multipart(request, sink, params.get(b"boundary"), cap, require_file)
            fields, filename, has_file = form.fields, form.filename, form.files > 0
        else:
            received = 0
            async for chunk in request.stream():
                received += len(chunk)
                if received > cap:
                    raise _too_large(cap)
                sink.write(chunk)
            fields, filename, has_file = {}, None, sink.size > 0 or require_file
        sink.close()
        sha256 = await to_thread.run_sync(_file_sha256, path)
        if has_file and sink.size:
            await _refuse_bad_archive(path)
    except ClientDisconnect:
        _discard(sink)
        raise ProblemError(400, "the client closed the connection before the upload finished") from None
    except BaseException:
        _discard(sink)
        raise
    return Upload(path=path, sha256=sha256, size=sink.size, filename=filename, fields=fields, has_file=has_file)


async def _refuse_bad_archive(path: Path) -> None:
    """A SavedModel archive (zip, tar) that would unpack outside its directory, into too many files or too many
    bytes is refused here, from its listing, before anything is stored or unpacked (422)."""
    from graphlint.loaders._archive import check_archive

    problem = await to_thread.run_sync(check_archive, str(path))
    if problem is not None:
        raise ProblemError(422, f"the SavedModel archive is refused: {problem}", slug="bad-archive",
                           title="Archive refused")


async def refuse_bad_keras(upload: Upload, name: str) -> None:
    """A Keras file (by its name or its content) that is not a complete ``.keras`` zip or HDF5 file is refused
    here, before anything is stored or a TensorFlow worker traces it (422 ``bad-keras``); the upload is dropped."""
    from graphlint.loaders import LoadError, read_bytes
    from graphlint.loaders.keras import check_keras, keras_kind

    def check() -> str | None:
        data = read_bytes(upload.path)  # mapped, not read: only the head (and a zip's directory) is looked at
        kind = keras_kind(data, name)
        if kind is None:
            return None
        try:
            check_keras(data, kind, name)
        except LoadError as err:
            return str(err)
        return None

    if not upload.has_file or not upload.size:
        return
    problem = await to_thread.run_sync(check)
    if problem is not None:
        upload.discard()
        raise ProblemError(422, problem, slug="bad-keras", title="Keras file refused")


def _discard(sink: _Sink) -> None:
    """Drop a partial upload: close and delete its file."""
    sink.close()
    sink.path.unlink(missing_ok=True)


async def _urlencoded(request: Request, tmp_dir: Path) -> Upload:
    from urllib.parse import parse_qs

    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FIELD_BYTES:
            raise ProblemError(413, f"a form body is limited to {MAX_FIELD_BYTES} bytes; send models as multipart")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=False, strict_parsing=False,
                          max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as err:
        raise ProblemError(422, f"malformed form body: {err}") from None
    path = tmp_dir / f"upload-{secrets.token_hex(12)}"
    return Upload(path=path, sha256=hashlib.sha256(b"").hexdigest(), size=0, filename=None, fields=fields,
                  has_file=False)


async def _multipart(request: Request, sink: _Sink, boundary: bytes | None, cap: int,
                     require_file: bool = True) -> _Form:
    if not boundary:
        raise ProblemError(422, "multipart/form-data without a boundary")
    form = _Form(sink)
    try:
        parser = MultipartParser(boundary, form.callbacks())
    except ValueError as err:
        raise ProblemError(422, f"invalid multipart boundary: {err}") from None
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > cap:
            raise _too_large(cap)
        try:
            parser.write(chunk)
        except Exception as err:  # noqa: BLE001 - any parser failure is a malformed body
            raise ProblemError(422, f"malformed multipart body: {str(err).splitlines()[0][:200]}") from None
        if form.error:
            raise ProblemError(422, form.error)
    with contextlib.suppress(Exception):
        parser.finalize()
    if not form.ended:
        raise ProblemError(422, "malformed multipart body: it ends before its closing boundary")
    if form.error:
        raise ProblemError(422, form.error)
    if form.files == 0 and require_file:
        raise ProblemError(422, "multipart body without a `file` field holding the model")
    return form

