#!/usr/bin/python3
"""Builds the small ONNX models the batch scorer's tests and benchmark use (models/batch/).

Run with Debian's python (it has python3-onnx 1.12): /usr/bin/python3 tools/build_batch_models.py
The weights come from a fixed seed, so the files are reproducible byte for byte.

batch-linear.onnx: input [-1, 8] FP32 -> logits = input @ W + b  [-1, 3], probabilities = softmax(logits) [-1, 3].
batch-poison.onnx: the same, plus an output `check` = Gather([1, 2], int64(input[:, 0])): a row whose first value is 2 or more
                   makes ONNX Runtime fail the whole run (index out of bounds), the way a real model fails on data it cannot take.
batch-slow.onnx:   the same outputs as batch-linear.onnx (bit for bit), plus ~8 MFLOP of work per row (64 dense 256x256 tanh layers whose
                   result is added to the logits times zero): chunks take seconds, for the tests of claim renewal and hand-back.
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261126)
W = rng.normal(size=(8, 3)).astype(np.float32)
B = rng.normal(size=(3,)).astype(np.float32)


def build(poison: bool) -> onnx.ModelProto:
    nodes = [
        helper.make_node("Gemm", ["input", "W", "B"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    inits = [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")]
    outputs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, [-1, 3]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [-1, 3]),
    ]
    if poison:
        inits += [
            numpy_helper.from_array(np.array([1.0, 2.0], dtype=np.float32), "table"),
            numpy_helper.from_array(np.array([0], dtype=np.int64), "starts"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "ends"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        ]
        nodes += [
            helper.make_node("Slice", ["input", "starts", "ends", "axes"], ["first"]),
            helper.make_node("Cast", ["first"], ["index"], to=TensorProto.INT64),
            helper.make_node("Gather", ["table", "index"], ["check"], axis=0),
        ]
        outputs.append(helper.make_tensor_value_info("check", TensorProto.FLOAT, [-1, 1]))
    graph = helper.make_graph(
        nodes, "batch_poison" if poison else "batch_linear",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [-1, 8])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="mlplatform-tools")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_slow() -> onnx.ModelProto:
    slow_rng = np.random.default_rng(20261127)
    width, layers = 256, 64
    spread = slow_rng.normal(size=(8, width)).astype(np.float32) / np.float32(np.sqrt(8))
    square = slow_rng.normal(size=(width, width)).astype(np.float32) / np.float32(np.sqrt(width))
    nodes = [
        helper.make_node("Gemm", ["input", "W", "B"], ["linear"]),
        helper.make_node("MatMul", ["input", "spread"], ["h0_pre"]),
        helper.make_node("Tanh", ["h0_pre"], ["h0"]),
    ]
    for i in range(layers):
        nodes += [
            helper.make_node("MatMul", [f"h{i}", "square"], [f"h{i + 1}_pre"]),
            helper.make_node("Tanh", [f"h{i + 1}_pre"], [f"h{i + 1}"]),
        ]
    nodes += [
        # tanh keeps the work finite, so zero times it is exactly zero and the logits stay those of batch-linear.onnx.
        helper.make_node("ReduceSum", [f"h{layers}", "axes"], ["work"], keepdims=1),
        helper.make_node("Mul", ["work", "zero"], ["nothing"]),
        helper.make_node("Add", ["linear", "nothing"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    inits = [
        numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B"),
        numpy_helper.from_array(spread, "spread"), numpy_helper.from_array(square, "square"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
    ]
    outputs = [
        helper.make_tensor_value_info("logits", TensorProto.FLOAT, [-1, 3]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [-1, 3]),
    ]
    graph = helper.make_graph(nodes, "batch_slow", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [-1, 8])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="mlplatform-tools")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "batch")
onnx.save(build(False), os.path.join(OUT, "batch-linear.onnx"))
onnx.save(build(True), os.path.join(OUT, "batch-poison.onnx"))
onnx.save(build_slow(), os.path.join(OUT, "batch-slow.onnx"))
