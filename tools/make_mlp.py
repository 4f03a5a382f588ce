#!/usr/bin/python3
"""Builds models/tabular-mlp.onnx, a small hand-made multi-layer perceptron (8 -> 16 -> 16 -> 3, ReLU, softmax),
with fixed pseudo-random weights so the file is reproducible. With --external-data DIR it also writes the same
graph with its weights in a side file, which the registry must refuse (test asset).

Needs Debian's python3-onnx (run with /usr/bin/python3)."""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LAYERS = [(8, 16), (16, 16), (16, 3)]


def build_model() -> onnx.ModelProto:
    rng = np.random.RandomState(42)
    initializers, nodes = [], []
    current = "input"
    for index, (fan_in, fan_out) in enumerate(LAYERS):
        weight = (rng.randn(fan_in, fan_out) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        bias = (rng.randn(fan_out) * 0.1).astype(np.float32)
        initializers += [numpy_helper.from_array(weight, f"W{index}"), numpy_helper.from_array(bias, f"B{index}")]
        dense = f"dense{index}"
        nodes.append(helper.make_node("Gemm", [current, f"W{index}", f"B{index}"], [dense], name=f"Gemm{index}"))
        if index < len(LAYERS) - 1:
            current = f"relu{index}"
            nodes.append(helper.make_node("Relu", [dense], [current], name=f"Relu{index}"))
        else:
            current = dense
    nodes.append(helper.make_node("Softmax", [current], ["probabilities"], axis=1, name="Softmax"))

    graph = helper.make_graph(
        nodes,
        "tabular_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
        initializers,
    )
    model = helper.make_model(graph, producer_name="mlplatform-make_mlp", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    model.doc_string = "Hand-built MLP: input FP32 [-1, 8] -> probabilities FP32 [-1, 3]"
    onnx.checker.check_model(model)
    return model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("output", help="path of the .onnx file to write")
    parser.add_argument("--external-data", metavar="DIR", help="also write an external-data variant into DIR")
    args = parser.parse_args()

    model = build_model()
    onnx.save_model(model, args.output)
    print(f"wrote {args.output} ({os.path.getsize(args.output)} bytes)")

    if args.external_data:
        os.makedirs(args.external_data, exist_ok=True)
        path = os.path.join(args.external_data, "mlp-external-data.onnx")
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="mlp-external-data.weights", size_threshold=0)
        print(f"wrote {path} (+ weights file)")


if __name__ == "__main__":
    main()
