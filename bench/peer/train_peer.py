#!/usr/bin/python3
"""PyTorch eager peer for EdgeTL's fine-tuning benchmark.

    /usr/bin/python3 bench/peer/train_peer.py --arch resnet18 --size 64 --batch 16 --seconds 3 --threads 2 [--channels-last] [--train stem,stage1,head]

A full fine-tuning step (forward, cross-entropy, backward, AdamW step) of the torchvision model
with a 10-class classifier in fp32, on random batches; prints one JSON line with images/s.
--channels-last converts model and input to torch.channels_last, as PyTorch's performance
guide recommends for CPU convolutions. --train trains only the named layer groups of a ResNet
(stem = conv1 + bn1, stageN = layerN, head = fc; the rest get requires_grad False), with every
BatchNorm layer in eval mode, as EdgeTL's progressive and surgical fine-tunes run (frozen statistics).
"""
import argparse
import json
import time

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--train", default="")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = getattr(torchvision.models, args.arch)(num_classes=10).train()
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, 10, (args.batch,))
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if args.train:
        groups = {"stem": ["conv1", "bn1"], "stage1": ["layer1"], "stage2": ["layer2"], "stage3": ["layer3"], "stage4": ["layer4"], "head": ["fc"]}
        trained = [name for group in args.train.split(",") for name in groups[group]]
        for name, module in model.named_children():
            if name not in trained:
                module.requires_grad_(False)
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.eval()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    step()  # warm-up
    images, start = 0, time.perf_counter()
    while True:
        step()
        images += args.batch
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds and images >= 2 * args.batch:
            break
    print(json.dumps({"arch": args.arch, "size": args.size, "batch": args.batch, "channels_last": args.channels_last, "train": args.train,
                      "images_per_second": images / elapsed}))


if __name__ == "__main__":
    main()
