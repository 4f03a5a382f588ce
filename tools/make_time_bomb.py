#!/usr/bin/python3
"""Writes a ~400-byte ONNX model that is valid but keeps ONNX Runtime computing for seconds while it loads, within ~350 MB:
constant folding evaluates six 3072x3072 matrix products (~350 GFLOP) of a constant-filled matrix. Test asset for the registry's
time-limited inspection process (and a long-running inspection to crash on purpose).

Needs Debian's python3-onnx (run with /usr/bin/python3)."""
import sys

import onnx
from onnx import TensorProto, helper

SIZE = 3072
PRODUCTS = 6


def main() -> None:
    output = sys.argv[1]
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [SIZE, SIZE])
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["m0"],
                         value=helper.make_tensor("fill", TensorProto.FLOAT, [1], [1.0 / SIZE])),
    ]
    for i in range(PRODUCTS):
        nodes.append(helper.make_node("MatMul", [f"m{i}", "m0"], [f"m{i + 1}"]))
    nodes += [
        helper.make_node("ReduceSum", [f"m{PRODUCTS}"], ["total"], keepdims=0),
        helper.make_node("Add", ["x", "total"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "matmul_time_bomb",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [shape],
    )
    model = helper.make_model(graph, producer_name="mlplatform-make_time_bomb", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save_model(model, output)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
