#!/usr/bin/python3
"""Independent reference for EdgeTL's image preprocessing, computed with PyTorch.

    /usr/bin/python3 tools/peer/preprocess_reference.py CASES.json

CASES.json lists cases: {"input": raw HWC uint8 file, "height", "width", "channels",
"size", "crop", "mean", "std", "bgr", "output": float32 file to write}. Each image is
centre-cropped (crop fraction of the shorter side, integer-aligned in these cases), resized
to size x size with torch.nn.functional.interpolate (bilinear, align_corners=False, no
antialias), scaled to [0, 1], repeated to three channels if grayscale, reordered to BGR when
asked, and normalized with (x - mean) / std. The output is CHW float32 little-endian.
"""
import json
import sys

import numpy as np
import torch


def run(case):
    h, w, c = case["height"], case["width"], case["channels"]
    pixels = np.fromfile(case["input"], dtype=np.uint8).reshape(h, w, c)
    x = torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)
    side = int(round(min(h, w) * case["crop"]))
    top, left = (h - side) // 2, (w - side) // 2
    x = x[:, :, top:top + side, left:left + side]
    size = case["size"]
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    x = x / 255.0
    if c == 1:
        x = x.repeat(1, 3, 1, 1)
    if case["bgr"]:
        x = x[:, [2, 1, 0]]
    mean = torch.tensor(case["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(case["std"]).view(1, 3, 1, 1)
    x = (x - mean) / std
    x[0].numpy().astype("<f4").tofile(case["output"])


def main():
    with open(sys.argv[1]) as f:
        for case in json.load(f):
            run(case)


if __name__ == "__main__":
    main()
