#!/usr/bin/python3
"""Writes data/photos: four real photographs, centre-cropped and resized to 256x256 JPEG.

Source: Debian's python3-skimage sample data (no need to install it):
    apt-get download python3-skimage && dpkg-deb -x python3-skimage_*.deb skimage-deb
    /usr/bin/python3 tools/make-photos.py skimage-deb/usr/lib/python3/dist-packages/skimage/data data/photos
Needs python3-pil. The output is deterministic for a given Pillow version.
"""
import os
import sys

from PIL import Image

PHOTOS = {
    "astronaut.png": "astronaut.jpg",
    "chelsea.png": "chelsea.jpg",
    "coffee.png": "coffee.jpg",
    "rocket.jpg": "rocket.jpg",
}


def main(source_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for source, target in PHOTOS.items():
        image = Image.open(os.path.join(source_dir, source)).convert("RGB")
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side)).resize((256, 256), Image.BICUBIC)
        image.save(os.path.join(out_dir, target), quality=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
