#!/usr/bin/python3
"""Writes a ~200-byte ONNX model that is valid but makes ONNX Runtime allocate 1-2 GB while it loads: constant folding
expands a 1x1 tensor to 16000x16000 floats. Test asset for the registry's memory-limited inspection process.

Needs Debian's python3-onnx (run with /usr/bin/python3)."""
import sys

import onnx
from onnx import TensorProto, helper


def main() -> None:
    output = sys.argv[1]
    one = helper.make_tensor("one", TensorProto.FLOAT, [1, 1], [1.0])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [16000, 16000])
    nodes = [
        helper.make_node("Expand", ["one", "shape"], ["big"]),
        helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
        helper.make_node("Add", ["x", "total"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "expand_bomb",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [one, shape],
    )
    model = helper.make_model(graph, producer_name="mlplatform-make_memory_bomb", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save_model(model, output)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
