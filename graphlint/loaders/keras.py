"""Keras files (``.keras`` and ``.h5``): recognised and checked here without TensorFlow, then traced into a
SavedModel in a conversion worker (:mod:`graphlint.convert.keras`) and read as one.

The IR is the traced SavedModel's (``model.info.format`` is ``savedmodel``: the rules read it as one); the
report's ``model.format`` is ``keras`` or ``keras-h5`` (``model.info.traced_from``). Node names are those of the
traced SavedModel (``StatefulPartitionedCall_1/.../conv1_1/convolution``); :func:`layer_of` names the Keras layer
a node belongs to, which the engine adds to each finding as ``data.keras_layer``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import zipfile
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Unpack

from graphlint.ir import ModelGraph

from . import LoadError, ModelBytes

if TYPE_CHECKING:
    from .savedmodel import SavedModelOptions

_HDF5 = b"\x89HDF\r\n\x1a\n"
_SUFFIXES = {".keras": "keras", ".h5": "keras-h5", ".hdf5": "keras-h5"}
_SCOPE_SUFFIX = re.compile(r"_\d+$")  # Keras 3 names a layer's scope `conv1_1` when `conv1` is taken


def keras_kind(data: ModelBytes, path: str) -> str | None:
    """``keras``, ``keras-h5`` or None: by the file name's suffix, else by content (an HDF5 file; a zip holding
    a Keras ``config.json``)."""
    by_name = _SUFFIXES.get(os.path.splitext(path)[1].lower())
    if by_name is not None:
        return by_name
    if bytes(data[:8]) == _HDF5:
        return "keras-h5"
    if bytes(data[:4]) == b"PK\x03\x04" and _keras_listing(data):
        return "keras"
    return None


def _keras_listing(data: ModelBytes) -> bool:
    from ._archive import MAX_ENTRIES, _MapReader, zip_entry_count

    declared = zip_entry_count(data)
    if declared is None or declared > MAX_ENTRIES:
        return False
    try:
        with zipfile.ZipFile(_MapReader(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return "config.json" in names and ("model.weights.h5" in names or "metadata.json" in names)


def check_keras(data: ModelBytes, kind: str, path: str) -> None:
    """Refuse, in one line, a file that cannot be the Keras file its name or content says it is.

    Raises:
        LoadError: a ``.keras`` that is not a complete zip holding ``config.json``; an ``.h5`` without the HDF5
            signature, with a superblock that cannot be read, or shorter than its superblock declares. (Damage
            inside a well-formed container is found by Keras, and said in one line too.)
    """
    if kind == "keras-h5":
        if bytes(data[:8]) != _HDF5:
            raise LoadError(f"{path}: not a valid Keras HDF5 file: it does not start with the HDF5 signature")
        end = _hdf5_end(data)
        if end is None:
            raise LoadError(f"{path}: not a valid Keras HDF5 file: its HDF5 superblock is damaged")
        if end > len(data):
            raise LoadError(f"{path}: not a valid Keras HDF5 file: it is truncated ({len(data):,} of the {end:,} "
                            "bytes its superblock declares)")
        return
    if bytes(data[:4]) != b"PK\x03\x04":
        raise LoadError(f"{path}: not a valid .keras file: it is not a zip archive")
    if not _keras_listing(data):
        raise LoadError(f"{path}: not a valid .keras file: the zip archive is truncated or damaged, or holds no "
                        "Keras config.json")


def _hdf5_end(data: ModelBytes) -> int | None:
    """The file size an HDF5 superblock (at the start of the file) declares: base address + end-of-file address;
    None when the superblock cannot be read."""
    head = bytes(data[:64])
    if len(head) < 9:
        return None
    version = head[8]
    if version in (0, 1):
        size, offset = (head[13] if len(head) > 13 else 0), (24 if version == 0 else 28)
        fields = (0, 2)  # base address, (free space), end-of-file address
    elif version in (2, 3):
        size, offset = (head[9] if len(head) > 9 else 0), 12
        fields = (0, 2)  # base address, (superblock extension), end-of-file address
    else:
        return None
    if size not in (2, 4, 8) or len(head) < offset + 3 * size:
        return None
    base, end = (int.from_bytes(head[offset + i * size:offset + (i + 1) * size], "little") for i in fields)
    return base + end if end >= offset + 4 * size else None  # a file ends after its own superblock


def load_keras(source: str | os.PathLike[str] | bytes, data: ModelBytes, kind: str, path: str, *,
               digest: str | Callable[[], str], **options: Unpack[SavedModelOptions]) -> ModelGraph:
    """Trace the Keras file into a SavedModel and build its IR (``options`` as the SavedModel loader's).

    Raises:
        LoadError: as :func:`check_keras` and :func:`graphlint.convert.keras.trace` (TensorFlow not installed,
            Keras cannot read the file), or as the SavedModel loader.
    """
    from graphlint.convert.keras import trace

    from .savedmodel import load_dir

    check_keras(data, kind, path)
    traced = trace(source, kind, path)
    try:
        model = load_dir(traced.root, path, keep=traced, **options)
    except BaseException:
        traced.close()
        raise
    model.info = dataclasses.replace(model.info, traced_from=kind, digest=digest, size_bytes=len(data),
                                     keras_layers=traced.layers)
    return model


def layer_of(node: str, layers: Collection[str]) -> str | None:
    """The Keras layer a node of a traced model belongs to: the innermost scope of its name that is a layer's
    name, as written or with the ``_N`` suffix Keras 3 adds to a scope whose name is taken; None when no scope
    is (the signature's wrappers, the outputs)."""
    for part in reversed(node.split("/")[:-1]):
        if part in layers:
            return part
        base = _SCOPE_SUFFIX.sub("", part)
        if base in layers:
            return base
    return None
