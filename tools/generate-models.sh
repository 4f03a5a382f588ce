#!/usr/bin/env bash
# Regenerates the demo models in models/ and the registry test assets.
#   ML.NET (tools/ModelGen): iris.onnx, house-price.onnx   -- trained on generated data, exported with Microsoft.ML.OnnxConverter
#   python3-onnx (tools/make_mlp.py): tabular-mlp.onnx      -- hand-built multi-layer perceptron
#   test assets (tests/IntegrationTests/Assets): mlp-external-data.onnx (weights in a side file), expand-bomb.onnx (exhausts memory while loading),
#                 matmul-time-bomb.onnx (computes for seconds while loading)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

dotnet run --project tools/ModelGen/ModelGen.csproj -- models

# Debian's interpreter: the python3 first on PATH may lack the onnx package.
PYTHON=/usr/bin/python3
if ! "$PYTHON" -c 'import onnx' 2>/dev/null; then
  echo "tools/make_mlp.py needs the onnx package: apt-get install -y python3-onnx" >&2
  exit 1
fi
"$PYTHON" tools/make_mlp.py models/tabular-mlp.onnx --external-data tests/IntegrationTests/Assets
"$PYTHON" tools/make_memory_bomb.py tests/IntegrationTests/Assets/expand-bomb.onnx
"$PYTHON" tools/make_time_bomb.py tests/IntegrationTests/Assets/matmul-time-bomb.onnx
# iris with two classes swapped, after iris.onnx is (re)built: the quality loop tests deliberately worse version.
"$PYTHON" tools/build_swapped_iris.py
