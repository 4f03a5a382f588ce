#!/usr/bin/python3
"""Builds models/online/linear-slow.onnx: the linear models' signature (FP32 input [-1,4] -> scores [-1,3]) with a deliberately
slow body, so a rollout of it breaches a p99 threshold on real traffic (tests/IntegrationTests/Feedback).

Run with Debian's python (it has python3-onnx 1.12): /usr/bin/python3 tools/build_slow_model.py [--steps N] [--size S]
Each Run multiplies an S x S matrix derived from the input by a constant S x S matrix N times (about N * 2 * S^3 floating-point
operations; the defaults take 50-150 ms per Run at one intra-op thread, the scorer's default, on this project's 2-core machines). The matrix depends on the input, so ONNX
Runtime cannot fold the chain away at load time, and the constant is generated in the graph (ConstantOfShape), so the file stays
a few kilobytes. The chain's result is multiplied by zero before it joins the output: the scores equal those of a plain linear
model with the same weights.
"""
import argparse
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "online", "linear-slow.onnx")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    n, s = args.steps, args.size

    rng = np.random.default_rng(11)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W"),
        numpy_helper.from_array(rng.standard_normal((3,)).astype(np.float32), "B"),
        numpy_helper.from_array(np.array([s, s], np.int64), "square"),
        numpy_helper.from_array(np.array([1, 1], np.int64), "one_by_one"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "W"], ["mm"]),
        helper.make_node("Add", ["mm", "B"], ["linear"]),
        # The averaging matrix (every entry 1/S) keeps the chain's values bounded however long it is.
        helper.make_node("ConstantOfShape", ["square"], ["mix"],
                         value=numpy_helper.from_array(np.array([1.0 / s], np.float32))),
        helper.make_node("ReduceMean", ["input"], ["seed"], keepdims=0),
        helper.make_node("Reshape", ["seed", "one_by_one"], ["seed11"]),
        helper.make_node("Expand", ["seed11", "square"], ["m0"]),
    ]
    for i in range(n):
        nodes.append(helper.make_node("MatMul", [f"m{i}", "mix"], [f"m{i + 1}"]))
    nodes += [
        helper.make_node("ReduceMean", [f"m{n}"], ["chain"], keepdims=0),
        helper.make_node("Mul", ["chain", "zero"], ["nothing"]),
        helper.make_node("Add", ["linear", "nothing"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes, "linear_slow",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 3])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="mlplatform-tools",
                              doc_string=f"linear model with a slow body: {n} MatMuls of {s}x{s}")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
