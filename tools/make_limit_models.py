#!/usr/bin/python3
"""Builds the online scorer's limit-test models into tests/IntegrationTests/Assets (tests/IntegrationTests/Limits):
- seqsum-fp64.onnx: total = sum over axis 1 of FP64 [-1,-1] (large FP64 requests, a one-number answer);
- slow-run.onnx: FP32 [1,4] -> [1,1], a Loop of 512x512 products run sum(input) times: the warm-up (zeros) is instant, a request of
  [3000, 0, 0, 0] keeps a core busy for seconds (not batchable: its first axis is fixed, so it runs unbatched).

Run with Debian's python (it has python3-onnx): /usr/bin/python3 tools/make_limit_models.py
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "IntegrationTests", "Assets")
SIZE = 512


def save(graph, name):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name))


def seqsum_fp64():
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["values", "axes"], ["total"], keepdims=1)],
        "seqsum_fp64",
        [helper.make_tensor_value_info("values", TensorProto.DOUBLE, ["batch", "length"])],
        [helper.make_tensor_value_info("total", TensorProto.DOUBLE, ["batch", 1])],
        [axes])
    save(graph, "seqsum-fp64.onnx")


def slow_run():
    """A Loop whose trip count is the sum of the input: zeros (the warm-up) run no step, [3000, 0, 0, 0] runs 3000 products."""
    inits = [
        numpy_helper.from_array(np.array([SIZE, SIZE], np.int64), "square"),
        numpy_helper.from_array(np.array(True), "keep_going"),
    ]
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("MatMul", ["state_in", "ones"], ["state_out"]),
        ],
        "step",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state_in", TensorProto.FLOAT, [SIZE, SIZE]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state_out", TensorProto.FLOAT, [SIZE, SIZE]),
        ])
    nodes = [
        helper.make_node("ReduceSum", ["input"], ["total"], keepdims=0),
        helper.make_node("Cast", ["total"], ["trips"], to=TensorProto.INT64),
        helper.make_node("ConstantOfShape", ["square"], ["ones"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0 / SIZE])),
        helper.make_node("Loop", ["trips", "keep_going", "ones"], ["final"], body=body),
        helper.make_node("ReduceMean", ["final"], ["output"], keepdims=1),
    ]
    graph = helper.make_graph(
        nodes, "slow_run",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1])],
        inits)
    save(graph, "slow-run.onnx")


if __name__ == "__main__":
    seqsum_fp64()
    slow_run()
