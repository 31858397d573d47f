"""Writes the bundled Fashion-MNIST as a user's image folder: <root>/train/<class>/*.png (PER_CLASS images per
class from the train subset) and <root>/val/<class>/*.png (all bundled test images, which no step trains on).

    python3 bench/fashion-folder.py ROOT PER_CLASS

8-bit grayscale PNGs written by hand, so no imaging library is needed."""
import gzip, os, random, struct, sys, zlib

NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def png(path, pixels, side=28):
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\0" + pixels[r * side:(r + 1) * side] for r in range(side))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def load(prefix):
    with gzip.open(f"data/fashion-mnist/{prefix}-images-idx3-ubyte.gz") as f:
        images = f.read()[16:]
    with gzip.open(f"data/fashion-mnist/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = f.read()[8:]
    return images, labels


def main(root, per_class):
    for prefix, split, take in (("train", "train", per_class), ("t10k", "val", None)):
        images, labels = load(prefix)
        rng = random.Random(0)
        for c, name in enumerate(NAMES):
            members = [i for i, l in enumerate(labels) if l == c]
            rng.shuffle(members)
            os.makedirs(f"{root}/{split}/{name}", exist_ok=True)
            for i in members[:take]:
                png(f"{root}/{split}/{name}/{i:05d}.png", images[i * 784:(i + 1) * 784])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
