"""Load a model file into a :class:`~graphlint.ir.ModelGraph`, sniffing the format from its content.

``load`` raises :class:`LoadError` with a one-line, user-facing message for anything it cannot read; it
never lets a parser exception escape and bounds the work it does on hostile input.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import mmap
import os
import stat
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from graphlint._gc import gc_paused
from graphlint.ir import ModelGraph, Shape

if TYPE_CHECKING:
    from .savedmodel import SavedModelOptions

ModelBytes = bytes | mmap.mmap
"""A model file's content, as the loaders read it: its bytes, or the file mapped read-only (:func:`read_bytes`)."""

# The formats a report's ``model.format`` names, with what they are called in text.
FORMAT_NAMES = {"graphdef": "GraphDef", "savedmodel": "SavedModel", "keras": "Keras", "keras-h5": "Keras HDF5",
                "tflite": "TFLite"}
# What graphlint reads, in one phrase for help texts and the API's documentation.
ACCEPTED = (".pb, .pbtxt, .tflite, .keras or .h5 file, or a SavedModel directory (or a .zip / .tar / .tar.gz of "
            "one)")
MAX_TEXT_BYTES = 512 << 20  # a .pbtxt larger than this is refused (text parsing holds it in memory)
# Nodes of one model (GraphDef NodeDefs, functions included; TFLite operators plus tensors). Measured on a 2-core
# machine, a chain costs about 150 us and 3 KB per node through load and lint: 100k nodes took 15 s and 300 MB,
# so the default keeps a lint under about 40 s and 1 GB; a chain of 10^6 nodes took 46 s and 7 GB in the service.
DEFAULT_MAX_NODES = 250_000


class LoadError(Exception):
    """The file cannot be read as a model. ``str(err)`` is a one-line message for the user."""

    def __init__(self, message: str, kind: str = "unreadable") -> None:
        super().__init__(message)
        self.kind = kind  # unreadable | empty | unsupported | too-large | missing | over-budget


class BudgetExceeded(LoadError):
    """The model is larger than a per-model budget allows (a service maps it to 422).

    ``budget`` names the budget (``max-nodes``, ``max-memory``), ``limit`` its value and ``actual`` what the
    model needs, when known; ``str(err)`` is one line that says how to raise the budget.
    """

    def __init__(self, message: str, budget: str, limit: int, actual: int | None = None) -> None:
        super().__init__(message, "over-budget")
        self.budget = budget
        self.limit = limit
        self.actual = actual


_MEMORY_HEADROOM = 0.85  # share of the address-space limit a load or lint may use before it stops cleanly
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def check_memory(path: str) -> None:
    """Raise :class:`BudgetExceeded` when this process uses more than 85% of its address-space limit
    (``RLIMIT_AS``, which ``--max-memory`` and service workers set); do nothing without a limit.

    Called every few thousand nodes: C extensions (protobuf's upb) crash or spin instead of raising when an
    allocation fails under the limit, so the loaders and the rules stop before it is reached.
    """
    limit = _address_limit()
    if limit is None:
        return
    try:
        with open("/proc/self/statm", "rb") as fh:
            size = int(fh.read().split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        return
    if size > limit * _MEMORY_HEADROOM:
        raise BudgetExceeded(f"{path}: model over budget: it needs more memory than the {limit >> 20} MB allowed "
                             "(raise the limit with --max-memory)", "max-memory", limit >> 20, size >> 20)


def _address_limit() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Linux
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def check_nodes(path: str, count: int, limit: int | None) -> None:
    """Raise :class:`BudgetExceeded` when a model has more than ``limit`` nodes (None: no limit)."""
    if limit is not None and count > limit:
        raise BudgetExceeded(f"{path}: model over budget: {count:,} nodes, more than the {limit:,} allowed "
                             "(raise it with --max-nodes)", "max-nodes", limit, count)


def sniff(head: bytes) -> str:
    """Guess the format of a model from its first bytes.

    Returns one of ``tflite``, ``graphdef``, ``pbtxt``, ``hdf5``, ``empty``.
    """
    if not head:
        return "empty"
    if head[4:8] == b"TFL3":
        return "tflite"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if _looks_like_text(head):
        return "pbtxt"
    return "graphdef"


def _looks_like_text(head: bytes) -> bool:
    sample = head[:4096]
    if b"\x00" in sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sample.
        try:
            text = sample[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return False
    stripped = text.lstrip()
    return bool(stripped) and (stripped[0].isalpha() or stripped[0] == "#")


def read_bytes(path: str | os.PathLike[str]) -> ModelBytes:
    """Map a model file read-only; raise :class:`LoadError` for anything that is not a readable file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise LoadError(f"{os.fspath(path)}: no such file", "missing") from None
    except OSError as err:
        raise LoadError(f"{os.fspath(path)}: cannot read ({err.strerror})", "missing") from None
    if stat.S_ISDIR(st.st_mode):
        raise LoadError(f"{os.fspath(path)}: is a directory, not a model file (for a SavedModel directory, "
                        "freeze it to a .pb or convert it to .tflite first)", "unsupported")
    if not stat.S_ISREG(st.st_mode):
        raise LoadError(f"{os.fspath(path)}: not a regular file", "unsupported")
    if st.st_size == 0:
        return b""
    try:
        with open(path, "rb") as fh:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as err:
        if err.errno == errno.ENOMEM:  # the file is larger than the address space a memory cap leaves
            raise BudgetExceeded(f"{os.fspath(path)}: model over budget: a {st.st_size >> 20} MB file does not fit "
                                 "in the memory allowed (raise the limit with --max-memory)", "max-memory", 0,
                                 st.st_size) from None
        raise LoadError(f"{os.fspath(path)}: cannot read ({err.strerror})", "missing") from None


def load(source: str | os.PathLike[str] | bytes, *, name: str | None = None,
         input_shapes: Mapping[str, Shape] | None = None, inputs: Sequence[str] = (),
         outputs: Sequence[str] = (), sha256: str | None = None,
         max_nodes: int | None = DEFAULT_MAX_NODES, signature: str | None = None) -> ModelGraph:
    """Load a ``.pb``, ``.pbtxt`` or ``.tflite`` model, a SavedModel (a directory, or one as a zip or tar), or a
    Keras ``.keras`` / ``.h5`` file (traced into a SavedModel by TensorFlow in a conversion worker).

    Args:
        source: a path, or the file's bytes.
        name: the name to report for in-memory sources (defaults to ``<bytes>``).
        input_shapes: shapes given by the user for GraphDef inputs (``None`` dims stay unknown).
        inputs: GraphDef input tensor names chosen by the user (default: every Placeholder).
        outputs: GraphDef output tensor names chosen by the user (default: unconsumed tensors).
        sha256: the source's SHA-256 (hex) when the caller already has it, e.g. a service that hashed an upload
            as it arrived. Otherwise ``model.info.sha256`` hashes the source when first read (at ~1.4 GB/s,
            as long as reading a whole TFLite model).
        max_nodes: the node budget (see :data:`DEFAULT_MAX_NODES`), counted before the nodes are parsed where
            the format allows; None for no limit.
        signature: a SavedModel's signature (default ``serving_default``); a Keras file has only that one.

    Returns:
        The model IR.

    Raises:
        LoadError: the source is missing, empty, not a model, or corrupt.
        BudgetExceeded: a :class:`LoadError` saying the model is over the node budget, or the memory ran out.
    """
    data: ModelBytes
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        path = name or "<bytes>"
    else:
        directory = _saved_model_dir(source)
        if directory is not None:
            from .savedmodel import load_dir

            return load_dir(directory, name or os.fspath(source), **_sm_options(input_shapes, max_nodes, signature))
        data = read_bytes(source)
        path = name or os.fspath(source)
    kind = sniff(data[:4096])
    if kind == "empty":
        raise LoadError(f"{path}: file is empty", "empty")
    from .keras import keras_kind

    keras = keras_kind(data, path)
    if keras is not None:
        from .keras import load_keras

        return load_keras(source, data, keras, path, digest=sha256 if sha256 is not None else _Digest(data),
                          **_sm_options(input_shapes, max_nodes, signature))
    archive = _archive_kind(data[:4096])
    if archive is not None:
        from .savedmodel import load_archive

        model = load_archive(data, archive, path, **_sm_options(input_shapes, max_nodes, signature))
        if sha256 is not None:
            model.info = dataclasses.replace(model.info, digest=sha256)
        return model
    with gc_paused():
        model = _parse(data, kind, path, input_shapes, inputs, outputs, max_nodes)
    model.info = dataclasses.replace(model.info, digest=sha256 if sha256 is not None else _Digest(data))
    return model


def _saved_model_dir(source: str | os.PathLike[str]) -> str | None:
    """The SavedModel directory ``source`` names: the directory itself, or the one holding ``source`` when it is
    a SavedModel's ``saved_model.pb`` (TensorFlow reads a SavedModel only as a whole directory)."""
    path = os.fspath(source)
    if os.path.isdir(path):
        return path
    if os.path.basename(path) == "saved_model.pb" and os.path.isfile(path):
        return os.path.dirname(path) or "."
    return None


def _archive_kind(head: bytes) -> str | None:
    from ._archive import archive_kind

    return archive_kind(head)


def _sm_options(input_shapes: Mapping[str, Shape] | None, max_nodes: int | None,
                signature: str | None) -> SavedModelOptions:
    from .savedmodel import DEFAULT_SIGNATURE

    return {"input_shapes": input_shapes, "max_nodes": max_nodes, "signature": signature or DEFAULT_SIGNATURE}


def _parse(data: ModelBytes, kind: str, path: str, input_shapes: Mapping[str, Shape] | None, inputs: Sequence[str],
           outputs: Sequence[str], max_nodes: int | None) -> ModelGraph:
    """Run the format's loader; turn any parser failure into a one-line :class:`LoadError`."""
    try:
        if kind == "tflite":
            from .tflite import load_tflite

            model = load_tflite(data, path, "", max_nodes=max_nodes)
        else:
            from .graphdef import load_graphdef

            if kind == "pbtxt" and len(data) > MAX_TEXT_BYTES:
                raise LoadError(f"{path}: text GraphDef is larger than {MAX_TEXT_BYTES >> 20} MB", "too-large")
            model = load_graphdef(data, path, "", text=kind == "pbtxt", input_shapes=input_shapes or {},
                                  inputs=inputs, outputs=outputs, max_nodes=max_nodes)
    except LoadError:
        raise
    except RecursionError:
        raise LoadError(f"{path}: not a valid model (nesting too deep)") from None
    except MemoryError:
        raise BudgetExceeded(f"{path}: model over budget: not enough memory to read it (raise the limit with "
                             "--max-memory)", "max-memory", 0) from None
    except Exception as err:  # noqa: BLE001 - any parser failure is a corrupt file, reported in one line
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise LoadError(f"{path}: not a valid {_FORMAT_NAMES[kind]} ({detail[:200]})") from None
    return model


class _Digest:
    """SHA-256 of the model, computed on the first call: linting never needs it (see ModelInfo.sha256).

    It is not computed beside the parse either: measured on a 2-core machine, a second busy core slowed the
    parse by about a third, so a background hash cost the lint as much as hashing in line did.
    """

    def __init__(self, data: ModelBytes) -> None:
        self._data = data
        self._hex: str | None = None

    def __call__(self) -> str:
        if self._hex is None:
            self._hex = hashlib.sha256(self._data).hexdigest()
        return self._hex


_FORMAT_NAMES = {"tflite": "TFLite flatbuffer", "graphdef": "GraphDef", "pbtxt": "text GraphDef"}
