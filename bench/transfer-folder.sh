#!/usr/bin/env bash
# Transfer on a user's image folder, the cloud's way: ML.NET's ImageNet ResNet-18 imported with its
# preprocessing graph, then `edgetl-cloud train` on Fashion-MNIST written as PNG class folders
# (50 training images per class from the bundled train subset; val/ = the 1,000 bundled test images,
# which no step trains on), head-only then progressive unfreezing with the recipe's defaults.
# Prints the recipe, both accuracies with n, and which model was kept; the report lands in $OUT.
#
#   bash bench/transfer-folder.sh            # about 8 minutes on 2 cores
#
# Needs python3 and a restored repository (the ML.NET model files come from NuGet's folder).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/bench/transfer-folder}
PER_CLASS=${PER_CLASS:-50}
source bench/cloud-cli.sh

rm -rf "$OUT" && mkdir -p "$OUT"
python3 bench/fashion-folder.py "$OUT/images" "$PER_CLASS"
cli import --from "$models/ResNet18Onnx/ResNet18.onnx" --preprocess "$models/ResNetPrepOnnx/ResNetPreprocess.onnx" --out "$OUT/import-resnet18"
cli train --data "$OUT/images" --from "$OUT/import-resnet18" --out "$OUT/train" "$@"
