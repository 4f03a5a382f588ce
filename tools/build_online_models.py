#!/usr/bin/python3
"""Builds the small ONNX models the online scorer's tests and benchmark use (models/online/).

Run with Debian's python (it has python3-onnx 1.12): /usr/bin/python3 tools/build_online_models.py
The weights come from a fixed seed, so the files are reproducible byte for byte.
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "online")
OPSET = [helper.make_opsetid("", 13)]


def save(graph, name, doc):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="mlplatform-tools", doc_string=doc)
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name))
    print("wrote", name)


def linear(name, seed):
    """scores = input @ W + b: FP32 [-1,4] -> [-1,3]; two seeds give two distinguishable versions."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal((3,)).astype(np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "W"], ["mm"]), helper.make_node("Add", ["mm", "B"], ["scores"])],
        "linear",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 3])],
        [w, b])
    save(graph, name, f"linear model, seed {seed}")


def conv():
    """The benchmark's model: a small CNN with a dense classifier head, FP32 [-1,3,32,32] -> [-1,10], about a millisecond per
    image in process. Three 3x3 convolutions (16, 32, 64 channels; strides 1, 2, 2) give 64x8x8 = 4096 features; a 4096x2048
    dense layer (32 MB of weights, the size of this machine's L3) and a 2048x10 one classify them, as in VGG-style networks.
    At batch 1 the head is a matrix-vector product that streams its weights from memory on every Run; at batch 32 it is one
    matrix-matrix product over the same weights, which is the per-call cost dynamic batching amortises on a CPU. (A
    convolution-only model is compute-bound: ONNX Runtime convolves each image of a batch separately, so batching it gains nothing.)"""
    rng = np.random.default_rng(7)
    inits, nodes = [], []

    def conv_layer(i, inp, cin, cout, stride):
        w = (rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), f"b{i}"))
        nodes.append(helper.make_node("Conv", [inp, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride, stride]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        return f"r{i}"

    def dense(i, inp, fin, fout):
        inits.append(numpy_helper.from_array((rng.standard_normal((fin, fout)) * np.sqrt(2.0 / fin)).astype(np.float32), f"fc{i}_w"))
        inits.append(numpy_helper.from_array(np.zeros(fout, np.float32), f"fc{i}_b"))
        nodes.append(helper.make_node("Gemm", [inp, f"fc{i}_w", f"fc{i}_b"], [f"fc{i}"]))
        return f"fc{i}"

    x = conv_layer(0, "image", 3, 16, 1)
    x = conv_layer(1, x, 16, 32, 2)
    x = conv_layer(2, x, 32, 64, 2)
    nodes.append(helper.make_node("Flatten", [x], ["flat"], axis=1))
    x = dense(0, "flat", 64 * 8 * 8, 2048)
    nodes.append(helper.make_node("Relu", [x], ["hidden"]))
    x = dense(1, "hidden", 2048, 10)
    nodes.append(helper.make_node("Softmax", [x], ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes, "conv",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        inits)
    save(graph, "conv.onnx", "benchmark CNN with a dense head")


def types():
    """Every awkward datatype in one model: INT64 (doubled), BOOL (negated), BYTES and FP16 (echoed)."""
    two = numpy_helper.from_array(np.array(2, np.int64), "two")
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["ints", "two"], ["ints_doubled"]),
            helper.make_node("Not", ["flags"], ["flags_negated"]),
            helper.make_node("Identity", ["text"], ["text_echo"]),
            helper.make_node("Identity", ["half"], ["half_echo"]),
        ],
        "types",
        [
            helper.make_tensor_value_info("ints", TensorProto.INT64, ["batch", 3]),
            helper.make_tensor_value_info("flags", TensorProto.BOOL, ["batch", 2]),
            helper.make_tensor_value_info("text", TensorProto.STRING, ["batch", 1]),
            helper.make_tensor_value_info("half", TensorProto.FLOAT16, ["batch", 2]),
        ],
        [
            helper.make_tensor_value_info("ints_doubled", TensorProto.INT64, ["batch", 3]),
            helper.make_tensor_value_info("flags_negated", TensorProto.BOOL, ["batch", 2]),
            helper.make_tensor_value_info("text_echo", TensorProto.STRING, ["batch", 1]),
            helper.make_tensor_value_info("half_echo", TensorProto.FLOAT16, ["batch", 2]),
        ],
        [two])
    save(graph, "types.onnx", "datatype round trips")


def seqsum():
    """total = sum over axis 1 of FP32 [-1,-1]: a dynamic non-batch axis, so only equal lengths may be stacked."""
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["tokens", "axes"], ["total"], keepdims=1)],
        "seqsum",
        [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, ["batch", "length"])],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, ["batch", 1])],
        [axes])
    save(graph, "seqsum.onnx", "sum over a dynamic axis")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    linear("linear-v1.onnx", 1)
    linear("linear-v2.onnx", 2)
    conv()
    types()
    seqsum()
