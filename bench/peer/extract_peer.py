#!/usr/bin/python3
"""PyTorch eager peer for EdgeTL's feature-extraction benchmark.

    /usr/bin/python3 bench/peer/extract_peer.py --arch resnet18 --size 224 --batch 16 --seconds 3 --threads 2 [--int8]

Builds the torchvision backbone without its classifier (random weights: speed does not depend
on their values), runs it in eval mode under no_grad on random batches, and prints one JSON
line: {"arch", "size", "batch", "images", "seconds", "images_per_second"}. With --int8 the
model is PyTorch's own static int8: FX graph-mode quantization with the oneDNN engine (Debian's
python3-torch has no fbgemm), calibrated on the benchmark batch.
"""
import argparse
import json
import time

import torch
import torchvision


def backbone(arch):
    model = getattr(torchvision.models, arch)()
    if hasattr(model, "fc"):
        model.fc = torch.nn.Identity()
    else:
        model.classifier = torch.nn.Identity()
    return model.eval()


def quantized(model, x):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = "onednn"
    prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), example_inputs=(x,))
    with torch.no_grad():
        prepared(x)  # calibration
    return convert_fx(prepared)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = backbone(args.arch)
    x = torch.randn(args.batch, 3, args.size, args.size)
    if args.int8:
        model = quantized(model, x)
    with torch.no_grad():
        model(x)  # warm-up
        images, start = 0, time.perf_counter()
        while True:
            model(x)
            images += args.batch
            elapsed = time.perf_counter() - start
            if elapsed >= args.seconds and images >= 2 * args.batch:
                break
    print(json.dumps({"arch": args.arch, "size": args.size, "batch": args.batch, "int8": args.int8, "images": images,
                      "seconds": elapsed, "images_per_second": images / elapsed}))


if __name__ == "__main__":
    main()
