#!/usr/bin/env python3
"""Write the balanced Fashion-MNIST subset committed under data/fashion-mnist.

Source: Debian's `dataset-fashion-mnist` package (/usr/share/datasets/fashion-mnist).
Takes the first N images of each class in file order (deterministic), keeps IDX format,
and gzips the result. Standard library only.

    /usr/bin/python3 tools/make-fashion-mnist-subset.py [--train-per-class 600] [--test-per-class 100]
"""
import argparse
import gzip
import os
import struct

SRC = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def write_idx(path, dims, payload):
    header = struct.pack(">I", 0x0800 | len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    # mtime=0 keeps the output byte-identical across runs.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(header + payload)


def subset(split, per_class, out_dir):
    (n, rows, cols), images = read_idx(os.path.join(SRC, f"{split}-images-idx3-ubyte.gz"))
    (nl,), labels = read_idx(os.path.join(SRC, f"{split}-labels-idx1-ubyte.gz"))
    assert n == nl
    size = rows * cols
    taken = {c: 0 for c in range(10)}
    keep = []
    for i, label in enumerate(labels):
        if taken[label] < per_class:
            taken[label] += 1
            keep.append(i)
    out_images = b"".join(images[i * size:(i + 1) * size] for i in keep)
    out_labels = bytes(labels[i] for i in keep)
    write_idx(os.path.join(out_dir, f"{split}-images-idx3-ubyte.gz"), (len(keep), rows, cols), out_images)
    write_idx(os.path.join(out_dir, f"{split}-labels-idx1-ubyte.gz"), (len(keep),), out_labels)
    print(f"{split}: {len(keep)} images, {per_class} per class")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-per-class", type=int, default=600)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "fashion-mnist"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    subset("train", args.train_per_class, args.out)
    subset("t10k", args.test_per_class, args.out)


if __name__ == "__main__":
    main()
