#!/usr/bin/env bash
# Int8 against fp32 at 224, on held-out images, for each calibration method, through the commands a user runs:
#   ML.NET's ImageNet ResNet-18 (imported with its preprocessing graph) and the zoo's resnet18 and mobilenet_v2
#   (pretrained here on Fashion-MNIST classes 0-4 at 224: no ImageNet weights are available offline), each with a
#   head trained on PER_CLASS images per class of all ten classes (`train --epochs 0`), then
#   `package --from-train --int8` (calibrated on train/, scored on val/) and `quantize --method all`.
# val/ is the 1,000 bundled test images, which no step trains or calibrates on.
#
#   bash bench/int8-accuracy.sh              # about 25 minutes on 2 cores
#   ARCHS="resnet18" bash bench/int8-accuracy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/bench/int8-accuracy}
PER_CLASS=${PER_CLASS:-50}
ARCHS=${ARCHS:-"mlnet resnet18 mobilenet_v2"}
source bench/cloud-cli.sh

rm -rf "$OUT" && mkdir -p "$OUT"
python3 bench/fashion-folder.py "$OUT/images" "$PER_CLASS"
cli keys new --out "$OUT/keys" >/dev/null
for arch in $ARCHS; do
  dir="$OUT/$arch"
  mkdir -p "$dir"
  if [ "$arch" = mlnet ]; then
    cli import --from "$models/ResNet18Onnx/ResNet18.onnx" --preprocess "$models/ResNetPrepOnnx/ResNetPreprocess.onnx" --out "$dir/import" >/dev/null
    start=(--from "$dir/import")
  else
    cli pretrain --arch "$arch" --size 224 --classes 0-4 --per-class 200 --epochs 4 --batch-size 32 --out "$dir/pretrain.bin" | grep -E "^Test"
    start=(--arch "$arch" --weights "$dir/pretrain.bin" --size 224)
  fi
  cli train --data "$OUT/images" "${start[@]}" --epochs 0 --out "$dir/train" >/dev/null
  echo "== $arch at 224: package --int8 (percentile), then quantize --method all"
  cli package --from-train "$dir/train" --key "$OUT/keys/release.key.pem" --counter 1 --version 1.0.0 --int8 --out "$dir/model.tar" | grep -E "^(int8|warning)"
  cli quantize --package "$dir/model.tar" --trusted "$OUT/keys" --calibration "$OUT/images/train" --data "$OUT/images" --method all
done
