#!/usr/bin/python3
"""PyTorch eager peer for EdgeTL's fine-tuning benchmark.

    /usr/bin/python3 bench/peer/train_peer.py --arch resnet18 --size 64 --batch 16 --seconds 3 --threads 2 [--channels-last]

A full fine-tuning step (forward, cross-entropy, backward, AdamW step) of the torchvision model
with a 10-class classifier in fp32, on random batches; prints one JSON line with images/s.
--channels-last converts model and input to torch.channels_last, as PyTorch's performance
guide recommends for CPU convolutions.
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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = getattr(torchvision.models, args.arch)(num_classes=10).train()
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, 10, (args.batch,))
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

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
    print(json.dumps({"arch": args.arch, "size": args.size, "batch": args.batch, "channels_last": args.channels_last,
                      "images_per_second": images / elapsed}))


if __name__ == "__main__":
    main()
