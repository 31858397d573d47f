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
models=${EDGETL_DNN_IMAGE_MODELS:-${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels}

dotnet build src/Cloud.Pretrain -c Release -v q -nologo
[ -f "$models/ResNet18Onnx/ResNet18.onnx" ] || dotnet restore tests/Edge.Trainer.Tests -v q >/dev/null
cli() { dotnet src/Cloud.Pretrain/bin/Release/net10.0/edgetl-cloud.dll "$@"; }

rm -rf "$OUT" && mkdir -p "$OUT"
python3 - "$OUT/images" "$PER_CLASS" <<'PY'
import gzip, os, random, struct, sys, zlib
def png(path, pixels, side=28):   # 8-bit grayscale PNG, written by hand (no imaging library needed)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\0" + pixels[r * side:(r + 1) * side] for r in range(side))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
root, per_class = sys.argv[1], int(sys.argv[2])
names = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
def load(prefix):
    with gzip.open(f"data/fashion-mnist/{prefix}-images-idx3-ubyte.gz") as f: images = f.read()[16:]
    with gzip.open(f"data/fashion-mnist/{prefix}-labels-idx1-ubyte.gz") as f: labels = f.read()[8:]
    return images, labels
for prefix, split, take in (("train", "train", per_class), ("t10k", "val", None)):
    images, labels = load(prefix)
    rng = random.Random(0)
    for c, name in enumerate(names):
        members = [i for i, l in enumerate(labels) if l == c]
        rng.shuffle(members)
        os.makedirs(f"{root}/{split}/{name}", exist_ok=True)
        for i in members[:take]:
            png(f"{root}/{split}/{name}/{i:05d}.png", images[i * 784:(i + 1) * 784])
PY
cli import --from "$models/ResNet18Onnx/ResNet18.onnx" --preprocess "$models/ResNetPrepOnnx/ResNetPreprocess.onnx" --out "$OUT/import-resnet18"
cli train --data "$OUT/images" --from "$OUT/import-resnet18" --out "$OUT/train" "$@"
