#!/usr/bin/python3
"""Writes PyTorch-side parity fixtures for EdgeTL's weight import tests.

Run with Debian's python3-torch and python3-torchvision (use /usr/bin/python3):

    /usr/bin/python3 tools/peer/torchvision_fixtures.py OUT_DIR [--archs resnet18,mobilenet_v2]

For each architecture it writes, into OUT_DIR:
  ARCH.pt             torch.save(model.state_dict()) (zip format)
  ARCH.safetensors    the same state dict in the safetensors format
  ARCH.input.f32      a seeded input batch, float32 little-endian, NCHW
  ARCH.logits.f32     PyTorch's eval-mode logits for that batch, float32 little-endian
  ARCH.json           shapes, versions and the seed
plus the same five files as ARCH_10classes.* for resnet18 and mobilenet_v2 with a 10-class classifier
(what a user fine-tuned in PyTorch exports), and resnet18_7classes.pt, a state dict whose classifier
has another shape.
Weights are seeded random (torchvision's initialization) with perturbed BatchNorm running
statistics, so that every parameter and buffer influences the logits. Nothing is downloaded.
"""
import argparse
import json
import os
import struct

import torch
import torchvision

SEED = 1234
BATCH = 2


def perturb_batchnorm(model, generator):
    """Random affine parameters and running statistics, so loading them is observable."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            with torch.no_grad():
                module.weight.copy_(1.0 + 0.1 * torch.randn(n, generator=generator))
                module.bias.copy_(0.1 * torch.randn(n, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
                module.running_var.copy_(0.75 + 0.5 * torch.rand(n, generator=generator))
                module.num_batches_tracked.fill_(7)


def write_safetensors(state_dict, path):
    """The safetensors layout: u64 header length, JSON header, then raw little-endian data."""
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name in sorted(state_dict):
        tensor = state_dict[name].contiguous()
        data = tensor.numpy().tobytes()
        header[name] = {"dtype": dtypes[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt", "producer": "tools/peer/torchvision_fixtures.py"}
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def write_f32(tensor, path):
    with open(path, "wb") as f:
        f.write(tensor.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes())


def make(arch, size, out_dir, num_classes=1000, name=None):
    name = name or arch
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    model = getattr(torchvision.models, arch)(num_classes=num_classes)
    perturb_batchnorm(model, generator)
    model.eval()
    x = torch.randn(BATCH, 3, size, size, generator=generator)
    with torch.no_grad():
        logits = model(x)
    torch.save(model.state_dict(), os.path.join(out_dir, name + ".pt"))
    write_safetensors(model.state_dict(), os.path.join(out_dir, name + ".safetensors"))
    write_f32(x, os.path.join(out_dir, name + ".input.f32"))
    write_f32(logits, os.path.join(out_dir, name + ".logits.f32"))
    info = {"arch": arch, "seed": SEED, "input_shape": list(x.shape), "logits_shape": list(logits.shape),
            "torch": torch.__version__, "torchvision": torchvision.__version__}
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(info, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--archs", default="resnet18,mobilenet_v2,resnet50")
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for arch in args.archs.split(","):
        make(arch, args.size, args.out_dir)
    for arch in ("resnet18", "mobilenet_v2"):
        make(arch, args.size, args.out_dir, num_classes=10, name=arch + "_10classes")
    torch.manual_seed(SEED)
    other_head = torchvision.models.resnet18(num_classes=7)
    torch.save(other_head.state_dict(), os.path.join(args.out_dir, "resnet18_7classes.pt"))
    print("fixtures written to", args.out_dir)


if __name__ == "__main__":
    main()
