"""Convolutions, pooling, matrix products, batch norm, resizing, space/depth/batch moves and FFTs."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Literal

from graphlint.ir import Shape
from graphlint.loaders._nodes import Attrs, AttrValue

from ._table import Node, broadcast, rule, unknown_dims


class _Same(enum.Enum):
    CHANNELS = enum.auto()  # a window op that keeps the input's channels (pooling)


_SAME_CHANNELS = _Same.CHANNELS


def _conv_dim(size: int | None, k: int | None, stride: int, dilation: int, padding: AttrValue,
              pads: Sequence[int] = (0, 0)) -> int | None:
    if size is None or k is None:
        return None
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        return -(-size // stride)
    if padding == "EXPLICIT":
        return (size + pads[0] + pads[1] - eff) // stride + 1
    return (size - eff) // stride + 1


def _window(attrs: Attrs, x: Shape, kernel: tuple[int | None, ...],
            out_channels: int | Literal[_Same.CHANNELS] | None) -> Shape:
    """Output shape of a 2-D or 3-D window op (conv or pool), channels last or first (NCHW, NCDHW)."""
    if x is None or len(x) != len(kernel) + 2:
        return None
    first = str(attrs.get("data_format", "")).startswith("NC")
    spatial = range(2, len(x)) if first else range(1, len(x) - 1)
    strides = attrs.get("strides") or [1] * len(x)
    dil = attrs.get("dilations") or [1] * len(x)
    padding = attrs.get("padding", "VALID")
    explicit = attrs.get("explicit_paddings") or [0] * (2 * len(x))
    out = list(x)
    for i, k in zip(spatial, kernel):
        out[i] = _conv_dim(x[i], k, strides[i], dil[i], padding, explicit[2 * i:2 * i + 2])
    c = 1 if first else len(x) - 1
    if out_channels is not _SAME_CHANNELS:
        out[c] = out_channels
    return tuple(out)


@rule("Conv2D", "DepthwiseConv2dNative", "Conv3D")
def conv(node: Node) -> Shape:
    x, f = node.shapes[0], node.shapes[1]
    spatial = 3 if node.op == "Conv3D" else 2
    if f is None or len(f) != spatial + 2:
        return _window(node.attrs, x, (None,) * spatial, None)
    if node.op == "DepthwiseConv2dNative":
        oc = f[2] * f[3] if f[2] is not None and f[3] is not None else None
    else:
        oc = f[-1]
    return _window(node.attrs, x, f[:spatial], oc)


@rule("MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D")
def pool(node: Node) -> Shape:
    x = node.shapes[0]
    if x is None:
        return None
    k = node.attrs.get("ksize") or [1] * len(x)
    first = str(node.attrs.get("data_format", "")).startswith("NC")
    return _window(node.attrs, x, tuple(k[2:] if first else k[1:-1]), _SAME_CHANNELS)


@rule("MatMul")
def matmul(node: Node) -> Shape:
    a, b = node.shapes[0], node.shapes[1]
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        return None
    m = a[1] if node.attrs.get("transpose_a") else a[0]
    n = b[0] if node.attrs.get("transpose_b") else b[1]
    return (m, n)


@rule("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")
def batch_matmul(node: Node) -> Shape:
    a, b = node.shapes[0], node.shapes[1]
    if a is None or b is None or len(a) < 2 or len(b) < 2:
        return None
    batch = broadcast(a[:-2], b[:-2])
    m = a[-1] if node.attrs.get("adj_x") else a[-2]
    n = b[-2] if node.attrs.get("adj_y") else b[-1]
    return (*batch, m, n)


@rule("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")
def fused_batch_norm(node: Node) -> list[Shape]:
    """y is shaped like x; batch mean/variance and the reserve spaces are per-channel vectors, except V3's
    reserve_space_3, whose shape TensorFlow leaves unknown."""
    x, scale = node.shapes[0], node.shapes[1]
    channels = x[1 if str(node.attrs.get("data_format", "NHWC")).startswith("NC") else -1] if x else None
    if channels is None and scale is not None and len(scale) == 1:
        channels = scale[0]
    return [x, *[(channels,)] * 4, None]


@rule("ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea")
def resize(node: Node) -> Shape:
    x, size = node.shapes[0], node.value(1)
    if x is None or len(x) != 4:
        return None
    size = size or [None, None]
    return (x[0], size[0], size[1], x[3])


@rule("DepthToSpace", "SpaceToDepth")
def depth_space(node: Node) -> Shape:
    x, b = node.shapes[0], node.attrs.get("block_size") or 1
    if x is None or len(x) != 4 or node.attrs.get("data_format", "NHWC") != "NHWC":
        return None
    if type(b) is not int or b < 1:  # a list here once made h * b a list of 2^31 items
        return unknown_dims(x)
    n, h, w, c = x
    if node.op == "DepthToSpace":
        return (n, h and h * b, w and w * b, c and c // (b * b))
    return (n, h and h // b, w and w // b, c and c * b * b)


@rule("SpaceToBatchND", "BatchToSpaceND")
def space_batch(node: Node) -> Shape:
    """Dilated convolutions are written with these: the rank never changes."""
    x, block, pads = node.shapes[0], node.value(1), node.value(2)
    if x is None or block is None or pads is None or len(block) + 1 > len(x):
        return unknown_dims(x)
    to_batch = node.op == "SpaceToBatchND"
    block = [int(b) for b in block]
    out = list(x)
    size = 1
    for b in block:
        size *= b
    for i, (b, (start, end)) in enumerate(zip(block, pads), start=1):
        if x[i] is not None:
            out[i] = (x[i] + start + end) // b if to_batch else x[i] * b - start - end
    if x[0] is not None:
        out[0] = x[0] * size if to_batch else x[0] // size
    return tuple(out)


@rule("RFFT", "RFFT2D", "RFFT3D", "IRFFT", "IRFFT2D", "IRFFT3D")
def real_fft(node: Node) -> Shape:
    """The inner dims become ``fft_length``; a real-to-complex FFT keeps only ``n // 2 + 1`` of the last."""
    x, lengths = node.shapes[0], node.value(1)
    n = int(node.op[-2]) if node.op.endswith("D") else 1  # RFFT2D, IRFFT3D ...: how many inner dims
    if x is None or len(x) < n:
        return None
    if lengths is None:
        return (*x[:-n], *(None,) * n)
    lengths = [int(d) for d in lengths]
    if node.op.startswith("RFFT"):
        lengths[-1] = lengths[-1] // 2 + 1
    return (*x[:-n], *lengths)


