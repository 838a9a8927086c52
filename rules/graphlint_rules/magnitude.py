"""How large each activation of a frozen graph comes out, estimated from its weights.

Some integer kernels check the calibrated range of a tensor, not its type: a ReLU6 fused into an int16x8
DEPTHWISE_CONV_2D fails to prepare when its output range is so small that 6.0 no longer fits in int32
quantized steps, and TFLite Micro's int8 SOFTMAX aborts when a row of logits comes out nearly flat. Both
follow from the weights: an untrained network (Keras builds with ``weights=None``, code written to try a
conversion) shrinks its activations layer after layer and gives flat logits. The converter's calibration
measures the range on data; this module predicts it from the file, with the statistics of a linear layer:

- a tensor's root mean square (rms) is propagated from the inputs, taken at ``INPUT_RMS`` (an input scaled to
  [-1, 1] or [0, 1]);
- a convolution or matmul with constant weights multiplies the mean square of its input by the mean, over
  output channels, of the sum of squared weights feeding one output (exact for independent inputs);
- an elementwise op with a constant (a folded batch norm, a bias) combines the mean squares;
- activations and data movement scale or keep the rms; any other op makes its outputs unknown (None).

The estimate is a typical scale, not a bound: callers compare it with a kernel's limit only with a wide
margin (``MARGIN``), so that only ranges many times too small are reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from graphlint.ir import ModelGraph, TensorInfo

if TYPE_CHECKING:  # numpy is imported when a value is first needed: a lint that reads none never pays for it
    import numpy as np
    from numpy.typing import NDArray

    FloatArray: TypeAlias = NDArray[np.floating[Any]]
    """A constant's value or a folded one: float32 weights stay float32, the rest is float64."""

INPUT_RMS = 0.5  # rms of a model input: uniform in [0, 1] is 0.58, in [-1, 1] also 0.58, N(0, 0.5) is 0.5
PEAK_TO_RMS = 4.0  # the largest |value| calibration sees, over a batch of inputs, relative to the rms
MARGIN = 10.0  # how many times the estimate may be off before a limit is called certain
_MAX_ELEMENTS = 1 << 22  # constants evaluated at most this large (4M elements): larger ones make results unknown

# Ops that keep the rms of their first input (data movement, pooling, casts between float types).
_KEEP = frozenset({
    "Identity", "Reshape", "Squeeze", "ExpandDims", "Pad", "PadV2", "MirrorPad", "Transpose", "MaxPool",
    "AvgPool", "Mean", "Max", "Slice", "StridedSlice", "SpaceToDepth", "DepthToSpace", "SpaceToBatchND",
    "BatchToSpaceND", "ResizeBilinear", "ResizeNearestNeighbor", "Cast", "Tile", "Gather", "GatherV2",
    "IdentityN", "StopGradient", "PreventGradient", "Split", "SplitV", "Unpack", "Pack",
    "ConcatV2", "Concat", "Neg", "MaxPool3D", "AvgPool3D",
})
_HALF = frozenset({"Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Swish", "HardSwish", "Gelu"})  # rms / sqrt(2)
_CONV = frozenset({"Conv2D", "Conv3D", "DepthwiseConv2dNative", "MatMul", "Conv2DBackpropInput"})
_CACHED_ELEMENTS = 1 << 16  # computed constants kept (batch-norm scales); larger ones are recomputed
_NUMERIC = frozenset({"float32", "float16", "float64", "bfloat16", "int8", "uint8", "int16", "int32", "int64"})
_CONCATS = frozenset({"ConcatV2", "Concat", "Pack"})
_BATCH_MATMUL = frozenset({"BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"})
_DIVISIONS = frozenset({"RealDiv", "Div"})
_ELEMENTWISE_ADD = frozenset({"Add", "AddV2", "BiasAdd", "Sub"})
_MOVES = frozenset({"Identity", "Cast", "Reshape", "ExpandDims", "Squeeze", "Transpose"})  # folded data movement
_FOLD: dict[str, Callable[..., FloatArray]] = {}  # op → numpy function over constant inputs, filled lazily


def _numpy_ops() -> dict[str, Callable[..., FloatArray]]:
    import numpy as np

    if not _FOLD:
        _FOLD.update({
            "Identity": lambda a: a, "Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply,
            "RealDiv": np.divide, "Rsqrt": lambda a: 1.0 / np.sqrt(a), "Sqrt": np.sqrt, "Neg": np.negative,
            "Square": np.square, "Reciprocal": lambda a: 1.0 / a, "Cast": lambda a: a,
            "Maximum": np.maximum, "Minimum": np.minimum,
            "Reshape": lambda a, shape: np.reshape(a, [int(d) for d in shape.reshape(-1)]),
            "ExpandDims": lambda a, axis: np.expand_dims(a, int(axis.reshape(-1)[0])),
            "Squeeze": np.squeeze, "Transpose": lambda a, perm: np.transpose(a, perm.astype(int).reshape(-1)),
        })
    return _FOLD


def _too_large(args: list[FloatArray]) -> bool:
    """Whether broadcasting ``args`` together (an elementwise op on constants) would exceed the element cap: two
    vectors of a million elements each broadcast to 10^12."""
    import numpy as np

    try:
        shape: tuple[int, ...] = np.broadcast_shapes(*[a.shape for a in args])
    except ValueError:
        return False  # not an elementwise combination (a reshape's shape, an axis): the op checks it
    return math.prod(shape) > _MAX_ELEMENTS


class Magnitudes:
    """Estimated rms of the float tensors of ``model`` (tensor id → rms, or None when unknown)."""

    def __init__(self, model: ModelGraph, live: frozenset[str], folded: frozenset[str]) -> None:
        self._model = model
        self._live = live
        self._folded = folded
        self._rms: dict[str, float | None] = {}
        self._values: dict[str, FloatArray | None] = {}

    # -- constants ---------------------------------------------------------------------------------------
    def value(self, tensor: TensorInfo) -> FloatArray | None:
        """The value of a constant, or of a computation the converter folds (a batch norm's scale and shift, a
        reshaped bias), as a numpy array (float32 weights stay float32, the rest float64); None when it is not one
        or is too large."""
        if tensor.is_const:  # read from the file each time: weights are not held in memory
            return self._constant(tensor)
        if tensor.producer not in self._folded:
            return None
        if tensor.id not in self._values:
            self._fold(tensor)
        result = self._values[tensor.id]
        if result is not None and result.size > _CACHED_ELEMENTS:
            del self._values[tensor.id]
        return result

    def _fold(self, tensor: TensorInfo) -> None:
        """Evaluate ``tensor`` and the folded tensors it reads, producers first, without recursion; keep only
        small results (a weight read through Identity is evaluated again when asked, not held)."""
        stack: list[tuple[TensorInfo, bool]] = [(tensor, False)]
        computed: list[str] = []
        while stack:
            top, expanded = stack.pop()
            if top.is_const or top.id in self._values:
                continue
            if top.producer not in self._folded:
                self._values[top.id] = None
                continue
            if not expanded:
                stack.append((top, True))
                stack.extend((t, False) for t in self._model.inputs_of(top.producer) if t.id not in self._values)
                continue
            self._values[top.id] = self._evaluate(top)
            computed.append(top.id)
        for tensor_id in computed:
            value = self._values[tensor_id]
            if tensor_id != tensor.id and value is not None and value.size > _CACHED_ELEMENTS:
                del self._values[tensor_id]

    def _constant(self, tensor: TensorInfo) -> FloatArray | None:
        import numpy as np

        if tensor.dtype not in _NUMERIC or (tensor.nbytes is not None and tensor.nbytes > 8 * _MAX_ELEMENTS):
            return None
        try:
            raw = self._model.value(tensor)  # float weights keep their type: squares summed in float32 suffice
            if raw is None:
                return None
            if tensor.dtype == "float32":
                value: FloatArray = np.asarray(raw, dtype=np.float32)
            else:
                value = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        return value if value.size <= _MAX_ELEMENTS else None

    def _evaluate(self, tensor: TensorInfo) -> FloatArray | None:
        import numpy as np

        node = tensor.producer
        if node is None or node not in self._model.nodes:
            return None
        op = self._model.nodes[node].get("op", "")
        fn = _numpy_ops().get(op)
        inputs = self._model.inputs_of(node)
        if fn is None or not inputs:
            return None
        found = [self._constant(t) if t.is_const else self._values.get(t.id) for t in inputs]
        args = [a for a in found if a is not None]
        if len(args) != len(found) or _too_large(args):
            return None
        with np.errstate(all="ignore"):
            try:
                out = np.asarray(fn(*args))
            except (ValueError, TypeError, IndexError):  # shapes that do not broadcast, a bad axis or shape
                return None
        if out.dtype.kind != "f":
            out = out.astype(np.float64)
        if out.size > _MAX_ELEMENTS:
            return None
        # data movement (a weight read through Identity) is not copied nor scanned again: only arithmetic can
        # make a value that is not finite
        return out if op in _MOVES or np.all(np.isfinite(out)) else None

    # -- activations -------------------------------------------------------------------------------------
    def rms(self, tensor: TensorInfo) -> float | None:
        """The estimated rms of ``tensor`` over typical inputs, or None when it cannot be estimated."""
        stack = [(tensor, False)]
        visiting: set[str] = set()
        while stack:  # producers first, without recursion: graphs can be thousands of ops deep
            top, expanded = stack.pop()
            if top.id in self._rms:
                continue
            if expanded:
                visiting.discard(top.id)
                self._rms[top.id] = self._estimate(top)
                continue
            if top.id in visiting:  # a cycle (a loop frame's NextIteration): unknown
                self._rms[top.id] = None
                continue
            visiting.add(top.id)
            stack.append((top, True))
            stack.extend((t, False) for t in self._operands(top) if t.id not in self._rms)
        return self._rms[tensor.id]

    def _operands(self, tensor: TensorInfo) -> list[TensorInfo]:
        """The inputs whose rms the estimate of ``tensor`` reads (none for constants and model inputs)."""
        node = tensor.producer
        if tensor.is_const or node is None or node not in self._live or tensor.id in self._model.info.inputs:
            return []
        attrs = self._model.nodes[node]
        if attrs["kind"] != "op":
            return []
        return [t for t in self._model.inputs_of(node) if not t.is_const and t.dtype in ("float32", "float16")
                and t.producer not in self._folded]

    def _estimate(self, tensor: TensorInfo) -> float | None:
        model = self._model
        node = tensor.producer
        if tensor.id in model.info.inputs or (node is not None and model.nodes[node]["kind"] == "input"):
            return INPUT_RMS
        if tensor.is_const or node is None or node not in self._live:
            return None
        op = model.nodes[node]["op"]
        inputs = model.inputs_of(node)
        if op in ("Placeholder", "PlaceholderWithDefault"):
            return INPUT_RMS
        if not inputs:
            return None
        first = self._scale(inputs[0])
        if op in _KEEP:
            return first if op not in _CONCATS else self._concat(inputs)
        if op in _HALF:
            return None if first is None else first / math.sqrt(2.0)
        if op in _CONV:
            return self._linear(node, op, inputs)
        if op == "FusedBatchNorm" or op.startswith("FusedBatchNormV"):
            return self._batch_norm(inputs)
        if op in _ELEMENTWISE_ADD or op == "Mul":
            return self._elementwise(op, inputs)
        if op in _DIVISIONS:
            return self._divided(inputs)
        if op in _BATCH_MATMUL:
            return self._batch_matmul(node, inputs)
        if op == "Tanh":
            return None if first is None else min(first, 1.0)
        if op == "Sigmoid":
            return 0.5
        return None

    def _scale(self, tensor: TensorInfo) -> float | None:
        """The rms of an operand: its estimate, or the rms of its value when it is constant."""
        import numpy as np

        if tensor.id in self._rms and self._rms[tensor.id] is not None:
            return self._rms[tensor.id]
        value = self.value(tensor)
        return None if value is None else float(np.sqrt(np.mean(value * value))) if value.size else 0.0

    def _linear(self, node: str, op: str, inputs: list[TensorInfo]) -> float | None:
        import numpy as np

        if len(inputs) < (3 if op == "Conv2DBackpropInput" else 2):  # a malformed graph: an operand missing
            return None
        data, weights = (inputs[2], inputs[1]) if op == "Conv2DBackpropInput" else (inputs[0], inputs[1])
        w, x = self.value(weights), self._scale(data)
        if w is None or x is None or w.ndim < 2:
            return None
        attrs = self._model.nodes[node].get("attrs") or {}
        if op == "MatMul":
            w = w.T if attrs.get("transpose_b") else w
            gain = np.mean(np.sum(w * w, axis=0))
        elif op == "DepthwiseConv2dNative":
            gain = np.mean(np.sum(w * w, axis=(0, 1)))
        elif op == "Conv2DBackpropInput":  # filter (h, w, out, in): each output sums a 1/stride^2 share
            strides = attrs.get("strides") or [1, 1, 1, 1]
            share = max(1, int(strides[1]) * int(strides[2])) if len(strides) == 4 else 1
            gain = np.mean(np.sum(w * w, axis=(0, 1, 3))) / share
        else:
            gain = np.mean(np.sum(w * w, axis=tuple(range(w.ndim - 1))))
        return float(x * math.sqrt(gain))

    def _concat(self, inputs: list[TensorInfo]) -> float | None:
        scales = [self._scale(t) for t in inputs if t.dtype in ("float32", "float16")]
        known = [s for s in scales if s is not None]
        return max(known) if known and len(known) == len(scales) else None

    def _batch_matmul(self, node: str, inputs: list[TensorInfo]) -> float | None:
        """Two activations multiplied (attention scores): each output sums K products of independent terms."""
        if len(inputs) != 2 or inputs[0].shape is None or len(inputs[0].shape) < 2:
            return None
        a, b = self._scale(inputs[0]), self._scale(inputs[1])
        adjoint = (self._model.nodes[node].get("attrs") or {}).get("adj_x")
        depth = inputs[0].shape[-2] if adjoint else inputs[0].shape[-1]
        if a is None or b is None or not isinstance(depth, int):
            return None
        return a * b * math.sqrt(depth)

    def _batch_norm(self, inputs: list[TensorInfo]) -> float | None:
        import numpy as np

        if len(inputs) < 5:
            return None
        x = self._scale(inputs[0])
        scale, offset, mean, var = (self.value(t) for t in inputs[1:5])
        if x is None or scale is None or offset is None or mean is None or var is None or var.size == 0:
            return None
        factor = scale / np.sqrt(var + 1e-3)
        shift = offset - mean * factor
        return float(math.sqrt(x * x * np.mean(factor * factor) + np.mean(shift * shift)))

    def _divided(self, inputs: list[TensorInfo]) -> float | None:
        """An activation divided by a constant (a Keras Normalization's standard deviation, hard-swish's 6)."""
        import numpy as np

        if len(inputs) != 2:
            return None
        x, divisor = self._scale(inputs[0]), self.value(inputs[1])
        if x is None or divisor is None or divisor.size == 0 or not np.all(divisor):
            return None
        return float(x * np.sqrt(np.mean(1.0 / np.square(divisor, dtype=np.float64))))

    def _elementwise(self, op: str, inputs: list[TensorInfo]) -> float | None:
        if len(inputs) != 2:
            return None
        a, b = self._scale(inputs[0]), self._scale(inputs[1])
        if a is None or b is None:
            return None
        squares = (float(a) * float(a), float(b) * float(b))
        if op == "Mul":
            return math.sqrt(squares[0] * squares[1])
        return math.sqrt(squares[0] + squares[1])


def peak(rms: float) -> float:
    """The largest |value| calibration is expected to see for a tensor of this rms."""
    return rms * PEAK_TO_RMS
