"""Op patterns the converter fuses into one builtin, matched to the measured case of the fused form."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from graphlint.ir import ModelGraph, TensorInfo
from graphlint.ops import is_fake_quant

# Ops that keep a constant's values (only its shape changes), seen through when reading a constant.
_VALUE_PRESERVING = frozenset({"Identity", "Squeeze", "Reshape", "ExpandDims"})
_CONST_STEPS = 32  # longest such chain seen through


def uniform_value(model: ModelGraph, tensor: TensorInfo) -> float | None:
    """The value of a constant tensor whose elements are all equal (through Identity, Squeeze, Reshape and
    ExpandDims, as frozen variable reads write it), or None."""
    import numpy as np

    for _ in range(_CONST_STEPS):
        if tensor.is_const or not tensor.producer or model.nodes[tensor.producer]["op"] not in _VALUE_PRESERVING:
            break
        inputs = model.inputs_of(tensor.producer)
        if not inputs:
            return None
        tensor = inputs[0]
    if not tensor.is_const:
        return None
    try:
        value = np.asarray(model.value(tensor))
    except Exception:  # noqa: BLE001 - an unreadable constant is simply not a match
        return None
    return float(value.reshape(-1)[0]) if value.size == 1 or (value.size and np.all(value == value.flat[0])) else None


_CONV_OPS = frozenset({"Conv2D", "DepthwiseConv2dNative"})
_MATMUL_OPS = frozenset({"MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"})


def _producer_op(model: ModelGraph, tensor: TensorInfo) -> tuple[str | None, str | None]:
    """The node that writes ``tensor`` and its op, or (None, None) when no node of the graph does."""
    node = tensor.producer
    return (node, model.nodes[node]["op"]) if node and node in model.nodes else (None, None)


def _is_constant(model: ModelGraph, tensor: TensorInfo) -> bool:
    """A constant, or something the converter folds into one (zeros_like, fill, ones_like of a known shape)."""
    _, op = _producer_op(model, tensor)
    return tensor.is_const or op in ("ZerosLike", "OnesLike", "Fill", "Const")


def _upstream(model: ModelGraph, tensor: TensorInfo, ops: tuple[str, ...], depth: int = 3) -> list[str]:
    """Producer nodes of ``tensor`` through ops in ``ops`` (first input only), nearest first."""
    found: list[str] = []
    for _ in range(depth):
        node, op = _producer_op(model, tensor)
        if node is None or op not in ops:
            break
        found.append(node)
        inputs = model.inputs_of(node)
        if not inputs:
            break
        tensor = inputs[0]
    return found


def _softmax_parts(model: ModelGraph, node: str) -> list[str]:
    """exp(x - max(x)) / sum(exp(x - max(x))): the nodes the converter fuses into SOFTMAX, or []."""
    inputs = model.inputs_of(node)
    if len(inputs) != 2:
        return []
    num, op = _producer_op(model, inputs[0])
    den, den_op = _producer_op(model, inputs[1])
    if num is None or den is None or op != "Exp" or den_op != "Sum":
        return []
    den_inputs = model.inputs_of(den)
    if not den_inputs:  # a malformed graph: a Sum of nothing
        return []
    exps = [num, *_upstream(model, den_inputs[0], ("Exp",))]
    subs = [n for e in exps if (e_inputs := model.inputs_of(e)) for n in _upstream(model, e_inputs[0], ("Sub",), 1)]
    maxes = [p for sub in subs for t in model.inputs_of(sub)[1:] for p in _upstream(model, t, ("Max",), 1)]
    return [*exps, den, *subs, *maxes]


def _l2norm_parts(model: ModelGraph, node: str) -> list[str]:
    """x * rsqrt(max(sum(square(x)), eps)): the nodes the converter fuses into L2_NORMALIZATION, or []."""
    inputs = model.inputs_of(node)
    chain = _upstream(model, inputs[0], ("Maximum", "Sum", "Square"), 3) if inputs else []
    ops = [model.nodes[n]["op"] for n in chain]
    if "Sum" not in ops or "Square" not in ops:
        return []
    muls = [u for u in model.successors(node) if model.nodes[u]["op"] == "Mul"]
    return [*chain, *muls]


Match = tuple[str, tuple[str, ...]]  # (measured case id, nodes absorbed into the anchor)
Finder = Callable[[ModelGraph, str, set[str]], Match | None]


def _ops_of(model: ModelGraph, nodes: list[str]) -> list[str]:
    return [model.nodes[n]["op"] for n in nodes]


def _gelu_exact(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    """0.5 * x * (1 + erf(x / sqrt(2))): the converter writes GELU."""
    users = model.successors(node)
    adds = [u for u in users if model.nodes[u]["op"] in ("AddV2", "Add")]
    if not adds:
        return None
    scaled = [t.producer for t in model.inputs_of(node)[:1]
              if t.producer and model.nodes[t.producer]["op"] in ("RealDiv", "Mul")]
    muls = [m for a in adds for m in model.successors(a) if model.nodes[m]["op"] == "Mul"]
    return "gelu_exact", (*scaled, *adds, *muls)


def _gelu_tanh(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    """GELU's tanh approximation, anchored on its pow(x, 3)."""
    cubed = [t for t in model.inputs_of(node)[1:] if uniform_value(model, t) == 3.0]
    return ("gelu_tanh", ()) if cubed and "Mul" in _ops_of(model, model.successors(node)) else None


def _hard_swish(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    """x * relu6(x + 3) / 6: the converter writes HARD_SWISH."""
    inputs = model.inputs_of(node)
    add = inputs[0].producer if inputs else None
    if not add or model.nodes[add]["op"] not in ("AddV2", "Add") or not any(
            uniform_value(model, t) == 3.0 for t in model.inputs_of(add)):
        return None
    absorbed = [add]
    for user in model.successors(node):
        if model.nodes[user]["op"] == "Mul":
            absorbed.append(user)
            absorbed += [u for u in model.successors(user) if model.nodes[u]["op"] in ("RealDiv", "Mul")]
    return "hard_swish_pattern", tuple(absorbed)


def _division(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    """A softmax written by hand, or a division by a constant (the converter multiplies by the reciprocal)."""
    parts = _softmax_parts(model, node)
    if parts:
        return "softmax_by_hand", tuple(parts)
    inputs = model.inputs_of(node)
    if model.nodes[node]["op"] == "RealDiv" and len(inputs) == 2 and (
            inputs[1].is_const or inputs[1].producer in folded):
        return "realdiv_const", ()
    return None


def _l2_normalize(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    parts = _l2norm_parts(model, node)
    return ("l2_normalize", tuple(parts)) if parts else None


def _select(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    """SELECT_V2 with a constant operand, or with operands that broadcast."""
    if any(_is_constant(model, t) for t in model.inputs_of(node)[1:3]):
        return "select_v2_const_operand", ()
    if len({t.shape for t in model.inputs_of(node)}) > 1:
        return "select_v2_broadcast", ()
    return None


# The measured cases of per-channel fake-quant weights read by a matmul, by the matmul's kind.
PER_CHANNEL_MATMUL_CASES = {"matmul": "fake_quant_per_channel_matmul",
                            "transposed": "fake_quant_per_channel_matmul_transposed",
                            "batch_matmul": "fake_quant_per_channel_batch_matmul"}


def _per_channel_matmul_case(model: ModelGraph, user: str) -> str:
    """The measured case of per-channel fake-quant weights read by the matmul ``user``: the weights a
    FULLY_CONNECTED keeps are (out, in), so a plain MatMul's are transposed and one with ``transpose_b`` (or
    ``adj_y``) is not."""
    attrs = model.nodes[user].get("attrs") or {}
    if attrs.get("transpose_b") or attrs.get("adj_y"):
        return PER_CHANNEL_MATMUL_CASES["transposed"]
    return PER_CHANNEL_MATMUL_CASES["matmul" if model.nodes[user]["op"] == "MatMul" else "batch_matmul"]


def _fake_quant_weights(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    """Fake-quantized weights (the second operand of a conv or matmul), measured apart by where they go. A
    convolution's, per tensor or per channel: the legacy uint8 path cannot run a per-channel conv, whose kernel
    takes int8 input only. A matmul's per channel: ``from_saved_model`` transposes them to FULLY_CONNECTED's
    (out, in) layout with their quantization axis left behind. A matmul's per tensor are judged by the op."""
    per_channel = model.nodes[node]["op"].endswith("PerChannel")
    for user, keyed in model.succ[node].items():
        if not any(data.get("dst_slot") == 1 for data in keyed.values()):
            continue
        op = model.nodes[user]["op"]
        if op in _CONV_OPS:
            return ("fake_quant_per_channel" if per_channel else "fake_quant_conv_weights"), ()
        if per_channel and op in _MATMUL_OPS:
            return _per_channel_matmul_case(model, user), ()
    return None


# Ops whose TFLite kernel keeps its operands' scale, by their measured case with every operand ranged by FakeQuant.
_SAME_SCALE_CASES = {"ConcatV2": "fake_quant_concat_ranged_inputs", "MaxPool": "fake_quant_max_pool_ranged_input",
                     "AvgPool": "fake_quant_avg_pool_ranged_input"}


def _fake_quant_same_scale(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    """A concat or pooling op whose every data operand comes straight from a FakeQuant (a QAT graph): int8's
    calibration gives the result a scale of its own, which the FakeQuant ranges cannot share. A concat with one
    operand left unranged takes the ranges it is given."""
    data = [t for t in model.inputs_of(node) if not t.is_const and t.producer not in folded]
    ranged = [t for t in data if t.producer and is_fake_quant(model.nodes[t.producer]["op"])]
    return (_SAME_SCALE_CASES[model.nodes[node]["op"]], ()) if data and len(ranged) == len(data) else None


_GATE_SUMS = frozenset({"Add", "AddV2", "Mul"})
_GATE_FANOUT = 8  # split parts looked through for a gate (a cell splits into 2 to 4)


def _rnn_gate_split(model: ModelGraph, node: str, folded: set[str]) -> Match | None:
    """The gate split of an RNN cell (int8 sometimes leaves that SPLIT float)."""
    users = list(model.successors(node))
    user_ops = _ops_of(model, users)
    # a gate reads a split part directly (LSTM, TF1 GRU) or after adding the recurrent part (Keras GRU)
    summed = [u for u in users if model.nodes[u]["op"] in _GATE_SUMS]
    gate_ops = user_ops + _ops_of(model, [v for u in summed[:_GATE_FANOUT]
                                          for v in itertools.islice(model.successors(u), _GATE_FANOUT)])
    gates = "Sigmoid" in gate_ops or "Tanh" in gate_ops
    for t in model.inputs_of(node):
        op = model.nodes[t.producer]["op"] if t.producer else None
        if op == "Sigmoid" or (op in ("MatMul", "BiasAdd", "AddV2") and gates):
            return "lstm_static_rnn", ()
    return None


# Each pattern's finder, by the op it is anchored on (fake-quant ops anchor `_fake_quant_weights`).
FINDERS: dict[str, Finder] = {
    "Erf": _gelu_exact, "Pow": _gelu_tanh, "Relu6": _hard_swish, "RealDiv": _division, "Div": _division,
    "Rsqrt": _l2_normalize, "Select": _select, "SelectV2": _select, "Split": _rnn_gate_split,
    "SplitV": _rnn_gate_split, **dict.fromkeys(_SAME_SCALE_CASES, _fake_quant_same_scale),
}


def fused_patterns(model: ModelGraph, nodes: set[str], folded: set[str]) -> dict[str, Match]:
    """Ops the converter fuses into one builtin, matched to the measured case of the fused form.

    Returns anchor node → (case id, nodes absorbed into it). Measured: GELU written with ``erf`` (case
    ``gelu_exact``) or with ``tanh`` and ``pow(x, 3)`` (``gelu_tanh``), hard-swish ``x * relu6(x + 3) / 6``
    (``hard_swish_pattern``), the gate split of an RNN cell (``lstm_static_rnn``: int8 sometimes leaves
    that SPLIT float), fake-quantized conv weights (``fake_quant_conv_weights``: the int8 model the
    calibrated targets write fails to prepare; fake-quant on activations or per tensor on MatMul weights does
    not), per-channel fake-quantized matmul weights (``fake_quant_per_channel_matmul`` and its kinds), and a
    division by a constant (``realdiv_const``: the converter writes a multiplication by the reciprocal, which
    every target quantizes, where a division by a tensor fails int16x8). ``folded`` are the nodes constant
    folding removes. A node a pattern absorbed anchors no other.
    """
    found: dict[str, Match] = {}
    taken: set[str] = set()  # nodes absorbed by a pattern found earlier
    for node, attrs in model.ops():  # in graph order, so overlapping patterns always resolve the same way
        op = attrs["op"]
        finder = _fake_quant_weights if is_fake_quant(op) else FINDERS.get(op)
        if finder is None or node not in nodes or node in taken:
            continue
        hit = finder(model, node, folded)
        if hit is not None:
            found[node] = hit
            taken.update(hit[1])
    return found
