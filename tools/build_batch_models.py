#!/usr/bin/python3
"""Builds the small ONNX models the batch scorer's tests and benchmark use (models/batch/).

Run with Debian's python (it has python3-onnx 1.12): /usr/bin/python3 tools/build_batch_models.py
The weights come from a fixed seed, so the files are reproducible byte for byte.

batch-linear.onnx: input [-1, 8] FP32 -> logits = input @ W + b  [-1, 3], probabilities = softmax(logits) [-1, 3].
batch-poison.onnx: the same, plus an output `check` = Gather([1, 2], int64(input[:, 0])): a row whose first value is 2 or more
                   makes ONNX Runtime fail the whole run (index out of bounds), the way a real model fails on data it cannot take.
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


OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "batch")
onnx.save(build(False), os.path.join(OUT, "batch-linear.onnx"))
onnx.save(build(True), os.path.join(OUT, "batch-poison.onnx"))
