#!/usr/bin/python3
"""Builds models/online/iris-swapped.onnx: models/iris.onnx with its first two classes (setosa, versicolor) swapped.

The quality loop's tests need a version that answers as fast and as surely as iris but is wrong for known inputs: swapping the rows
of the linear classifier's coefficients and intercepts for classes 1 and 2 swaps both outputs (PredictedLabel and the columns of
Score) consistently, so every setosa is called versicolor and the reverse, while virginica stays right.

Run with Debian's python (python3-onnx): /usr/bin/python3 tools/build_swapped_iris.py
"""
import os
import onnx
from onnx import helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

model = onnx.load(os.path.join(ROOT, "models", "iris.onnx"))
classifier = next(n for n in model.graph.node if n.op_type == "LinearClassifier")
attributes = {a.name: a for a in classifier.attribute}
classes = len(attributes["classlabels_ints"].ints)
coefficients = list(attributes["coefficients"].floats)
features = len(coefficients) // classes
rows = [coefficients[i * features:(i + 1) * features] for i in range(classes)]
rows[0], rows[1] = rows[1], rows[0]
intercepts = list(attributes["intercepts"].floats)
intercepts[0], intercepts[1] = intercepts[1], intercepts[0]
for name, values in (("coefficients", [v for row in rows for v in row]), ("intercepts", intercepts)):
    classifier.attribute.remove(attributes[name])
    classifier.attribute.append(helper.make_attribute(name, values))
model.doc_string = "iris with classes 1 and 2 (setosa, versicolor) swapped: a deliberately worse version for the quality loop's tests"
onnx.checker.check_model(model)
onnx.save(model, os.path.join(ROOT, "models", "online", "iris-swapped.onnx"))
print("wrote iris-swapped.onnx")
