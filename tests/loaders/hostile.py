"""Hostile model shapes built in code, each sized by one number ``n``: linearity tests and the fuzz seed corpus
use them.

Each maker returns the file's bytes (GraphDef, text GraphDef or TFLite). The shapes are the ones an attack
found to cost more than their size: one op with n outputs feeding one op with n inputs, name scopes n levels
deep, long chains, wide fan-in and fan-out, huge declared shapes, many subgraphs.
"""

from __future__ import annotations

from graphlint.testing import GraphBuilder, TFLiteBuilder


def _pb(b: GraphBuilder, text: bool) -> bytes:
    return b.to_text().encode() if text else b.to_bytes()


def pb_fan(n: int, text: bool = False) -> bytes:
    """One IdentityN with n outputs, all read by one AddN with n inputs."""
    b = GraphBuilder()
    x = b.placeholder("x")
    ident = b.node("IdentityN", [x] * n, name="fan", attrs={"T": ["float32"] * n})
    b.op("AddN", [f"{ident}:{i}" for i in range(n)], name="sum", attrs={"N": n})
    return _pb(b, text)


def pb_chain(n: int, text: bool = False) -> bytes:
    """A chain of n Relu ops."""
    b = GraphBuilder()
    t = b.placeholder("x")
    for i in range(n):
        t = b.op("Relu", [t], name=f"r{i}")
    return _pb(b, text)


def pb_fan_out(n: int, text: bool = False) -> bytes:
    """One placeholder read by n ops, all read by one AddN (fan-out, then fan-in)."""
    b = GraphBuilder()
    x = b.placeholder("x")
    outs = [b.op("Relu", [x], name=f"r{i}") for i in range(n)]
    b.op("AddN", outs, name="sum", attrs={"N": n})
    return _pb(b, text)


def pb_deep_scope(n: int, text: bool = False) -> bytes:
    """One op whose name is n levels of name scope deep (``s/s/.../s/y``), fed by a placeholder named likewise."""
    b = GraphBuilder()
    scope = "s/" * n
    x = b.placeholder(scope + "x")
    b.op("Relu", [x], name=scope + "y")
    return _pb(b, text)


def pb_huge_shapes(n: int, text: bool = False) -> bytes:
    """n placeholders declaring shapes of 2^40 x 2^40 elements, each through a Reshape and an Add."""
    b = GraphBuilder()
    big = (1 << 40, 1 << 40)
    for i in range(n):
        x = b.placeholder(f"x{i}", shape=big)
        y = b.op("Reshape", [x, b.const([1 << 40, 1 << 40], name=f"s{i}", dtype="int64")], name=f"y{i}",
                 attrs={"Tshape": "int64"})
        b.op("Add", [y, x], name=f"a{i}")
    return _pb(b, text)


def pb_concat(n: int, text: bool = False) -> bytes:
    """n rank-8 inputs of unknown dims into one ConcatV2 (shape inference merges n shapes)."""
    b = GraphBuilder()
    xs = [b.placeholder(f"x{i}", shape=(None,) * 8) for i in range(n)]
    b.op("ConcatV2", [*xs, b.const(0, name="axis", dtype="int32")], name="c", attrs={"N": n, "Tidx": "int32"})
    return _pb(b, text)


def pb_reshape_chain(n: int, text: bool = False) -> bytes:
    """A chain of n Reshapes, each by its own constant shape operand (shape inference reads n operands)."""
    b = GraphBuilder()
    t = b.placeholder("x", shape=(4, 6))
    for i in range(n):
        shape = [6, 4] if i % 2 == 0 else [4, 6]
        t = b.op("Reshape", [t, b.const(shape, name=f"s{i}", dtype="int32")], name=f"r{i}", attrs={"Tshape": "int32"})
    return _pb(b, text)


def tflite_fan(n: int) -> bytes:
    """One op with n outputs feeding one op with n inputs (the TFLite loader used to be quadratic in n)."""
    b = TFLiteBuilder()
    outs = [b.tensor(f"t{i}") for i in range(n)]
    b.op("SPLIT", [b.input("x")], outs)
    b.op("CONCATENATION", outs, [b.tensor("y")])
    b.output("y")
    return b.to_bytes()


def tflite_chain(n: int) -> bytes:
    """A chain of n RELU ops, with one constant per op."""
    b = TFLiteBuilder()
    t = b.input("x")
    for i in range(n):
        c = b.tensor(f"c{i}", data=[[1.0, 2.0, 3.0, 4.0]])
        out = b.tensor(f"t{i}")
        b.op("ADD", [t, c], [out])
        t = out
    b.output(t)
    return b.to_bytes()


def tflite_deep_scope(n: int) -> bytes:
    """One op whose output tensor is named n scopes deep."""
    b = TFLiteBuilder()
    b.op("RELU", [b.input("x")], [b.tensor("s/" * n + "y")])
    b.output("s/" * n + "y")
    return b.to_bytes()


def tflite_subgraphs(n: int) -> bytes:
    """n subgraphs, each with a constant tensor and one op (the loader once walked every tensor per subgraph)."""
    import flatbuffers
    import numpy as np
    from ai_edge_litert import schema_py_generated as s

    model = s.ModelT()
    model.version = 3
    model.buffers = [s.BufferT()]
    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.ADD
    code.version = 1
    model.operatorCodes = [code]
    model.subgraphs = []
    for i in range(n):
        buf = s.BufferT()
        buf.data = np.ones(4, np.float32).tobytes()
        model.buffers.append(buf)
        tensors = []
        for name, buffer in (("x", 0), ("c", len(model.buffers) - 1), ("y", 0)):
            t = s.TensorT()
            t.name, t.shape, t.type, t.buffer = f"{name}{i}", [1, 4], s.TensorType.FLOAT32, buffer
            tensors.append(t)
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1], [2]
        sub = s.SubGraphT()
        sub.tensors, sub.operators, sub.inputs, sub.outputs, sub.name = tensors, [op], [0], [2], f"g{i}"
        model.subgraphs.append(sub)
    fb = flatbuffers.Builder(1024)
    fb.Finish(model.Pack(fb), file_identifier=b"TFL3")
    return bytes(fb.Output())


def pb_loops_over_one_list(n: int, text: bool = False) -> bytes:
    """A chain of n TensorList writes read by n functional While loops (each loop's list storage is that chain)."""
    b = GraphBuilder()
    shape = b.const([4], name="elem", dtype="int32")
    index = b.const(0, name="i", dtype="int32")
    item = b.placeholder("x", "float32", (4,))
    lst = b.node("TensorListReserve", [shape, b.const(n, name="n", dtype="int32")], name="reserve",
                 attrs={"element_dtype": "float32", "shape_type": "int32"})
    for i in range(n):
        lst = b.node("TensorListSetItem", [lst, index, item], name=f"set{i}", attrs={"element_dtype": "float32"})
    for i in range(n):
        b.node("StatelessWhile", [lst], name=f"loop{i}", attrs={"T": ["variant"], "body": {"func": "body"},
                                                               "cond": {"func": "cond"}})
    b.output(*[f"loop{i}" for i in range(n)])
    return _pb(b, text)


GRAPHDEF = {"fan": pb_fan, "chain": pb_chain, "fan_out": pb_fan_out, "deep_scope": pb_deep_scope,
            "huge_shapes": pb_huge_shapes}
SHAPES = {"fan": pb_fan, "concat": pb_concat, "reshape_chain": pb_reshape_chain, "huge_shapes": pb_huge_shapes}
TFLITE = {"fan": tflite_fan, "chain": tflite_chain, "deep_scope": tflite_deep_scope, "subgraphs": tflite_subgraphs}
