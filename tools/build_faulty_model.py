#!/usr/bin/python3
"""Builds models/online/linear-faulty.onnx: the linear models' signature (FP32 input [-1,4] -> scores [-1,3]) whose every Run fails,
so a version of it answers server errors (500) on requests that pass validation (tests/IntegrationTests/Feedback: the guard and a
canary rollout roll it back; a version with an incompatible signature is refused at promotion instead).

Run with Debian's python (it has python3-onnx 1.12): /usr/bin/python3 tools/build_faulty_model.py
The input (N x 4 values) is reshaped to a constant 5 x 7: 4N is never 35, so ONNX Runtime fails the Reshape on every Run, whatever
the batch. The shape depends on the input's batch size, so the failure cannot show when the model loads or is inspected.
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "online", "linear-faulty.onnx")


def main():
    rng = np.random.default_rng(13)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W"),
        numpy_helper.from_array(rng.standard_normal((3,)).astype(np.float32), "B"),
        numpy_helper.from_array(np.array([5, 7], np.int64), "impossible"),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "W"], ["mm"]),
        helper.make_node("Add", ["mm", "B"], ["linear"]),
        helper.make_node("Reshape", ["input", "impossible"], ["bad"]),
        helper.make_node("ReduceSum", ["bad"], ["poison"], keepdims=0),
        helper.make_node("Add", ["linear", "poison"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes, "linear_faulty",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 3])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="mlplatform-tools",
                              doc_string="linear model whose every run fails (Reshape of N x 4 values to 5 x 7)")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
