"""Helpers shared by the loader tests."""

from __future__ import annotations

import dataclasses

import numpy as np

from graphlint.ir import ModelGraph


def arrays_in(model: ModelGraph) -> list[str]:
    """Where the IR holds a numpy array or numpy scalar (it must hold plain Python values only)."""
    found: list[str] = []

    def walk(value, where: str) -> None:
        if isinstance(value, (np.ndarray, np.generic)):
            found.append(where)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{where}[{k!r}]")
        elif isinstance(value, (list, tuple, set, frozenset)):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                walk(getattr(value, field.name), f"{where}.{field.name}")

    walk(dict(model.g.graph), "graph")
    for node, attrs in model.g.nodes(data=True):
        walk(attrs, f"node {node}")
    for u, v, key, data in model.g.edges(keys=True, data=True):
        walk(data, f"edge {u}->{v} {key}")
    for tid, tensor in model.tensors.items():
        walk(tensor, f"tensor {tid}")
    walk(model.info, "info")
    return found


def shape_of(model: ModelGraph, tensor_id: str):
    """A tensor's shape as a list (None for unknown rank), the way TensorFlow's facts.json spells it."""
    shape = model.tensors[tensor_id].shape
    return None if shape is None else list(shape)
