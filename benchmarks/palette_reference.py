#!/usr/bin/python3
"""The palette-variation job done with Python and OpenCV, as a service without imgpipe does it:
the baseline that benchmarks/palette_bench.sh times imgpipe against, in the same run.

    /usr/bin/python3 benchmarks/palette_reference.py IMAGE PALETTES.json OUT_DIR
    RECON=recon.png /usr/bin/python3 benchmarks/palette_reference.py ...

writes OUT_DIR/<palette name>.png for every palette of PALETTES.json (an object of name: list
of "#rrggbb"), and with RECON set also the image recoloured with its own cluster centres, to
judge the clustering with benchmarks/lab_error.py.

The job, clustering once for all palettes:
  1. a copy of the image with its long side at most 1024 px (area interpolation);
  2. k-means on that copy's pixels in OpenCV's 8-bit Lab (L, a, b each 0..255): k 10, at most
     50 iterations or a move under 0.2, the best of 5 attempts from random centres, RNG seed
     12345;
  3. every full-resolution pixel, in the same Lab, given its nearest centre (squared
     Euclidean distance), once;
  4. per palette: its colours sorted by CIE L*, the centres ranked by their L; the centre of
     rank r of K gets colour r * P // K of the P colours (10 centres, 5 colours: two centres a
     colour), and the image is written as PNG from the cluster of each pixel.
"""
import json
import os
import sys

import cv2
import numpy as np

K = 10
ANALYSIS_SIDE = 1024
CRITERIA = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 0.2)
ATTEMPTS = 5
SEED = 12345


def cie_lightness(red, green, blue):
    """CIE L* (0..100) of an 8-bit sRGB colour."""
    def linear(value):
        v = value / 255.0
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    y = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    f = y ** (1 / 3) if y > 0.008856 else 7.787 * y + 16 / 116
    return 116 * f - 16


def read_palettes(path):
    """[(name, uint8 array of BGR colours, darkest first)] in the file's order."""
    with open(path) as f:
        palettes = json.load(f)
    result = []
    for name, colours in palettes.items():
        rgb = [tuple(int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) for c in colours]
        rgb.sort(key=lambda c: cie_lightness(*c))
        result.append((name, np.array([(b, g, r) for r, g, b in rgb], np.uint8)))
    return result


def shrunk(bgr, side):
    """`bgr` with its long side at most `side` (area interpolation)."""
    height, width = bgr.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return bgr
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)


def lab_samples(bgr):
    """One float32 row (L, a, b in OpenCV's 8-bit scaling) per pixel."""
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).reshape(-1, 3).astype(np.float32)


def nearest_centre(samples, centres, rows=1 << 20):
    """The index of the nearest centre of every sample, in blocks of `rows` samples."""
    centres = centres.astype(np.float32)
    # |x - c|^2 = |x|^2 - 2 x.c + |c|^2, and |x|^2 is the same for every centre of a sample.
    centre_norms = (centres * centres).sum(axis=1)
    labels = np.empty(len(samples), np.uint8)
    for start in range(0, len(samples), rows):
        block = samples[start:start + rows]
        labels[start:start + rows] = (centre_norms[None, :] - 2.0 * (block @ centres.T)).argmin(axis=1)
    return labels


def colour_table(centres, palette):
    """The palette colour of each centre: centres by rank of L, colours by rank of L*."""
    table = np.zeros((len(centres), 3), np.uint8)
    for rank, centre in enumerate(np.argsort(centres[:, 0], kind="stable")):
        table[centre] = palette[rank * len(palette) // len(centres)]
    return table


def centre_colours(centres):
    """The centres (8-bit-scaled Lab) as 8-bit BGR colours, through OpenCV's float Lab."""
    lab = centres.astype(np.float32).reshape(1, -1, 3).copy()
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    bgr = cv2.cvtColor(lab, cv2.COLOR_Lab2BGR).reshape(-1, 3)
    return np.clip(np.rint(bgr * 255.0), 0, 255).astype(np.uint8)


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    image_path, palettes_path, out_dir = argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    cv2.setRNGSeed(SEED)
    bgr = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if bgr is None:
        sys.exit(f"palette_reference: cannot read {image_path}")
    height, width = bgr.shape[:2]

    _, _, centres = cv2.kmeans(lab_samples(shrunk(bgr, ANALYSIS_SIDE)), K, None, CRITERIA, ATTEMPTS,
                               cv2.KMEANS_RANDOM_CENTERS)
    labels = nearest_centre(lab_samples(bgr), centres)
    for name, palette in read_palettes(palettes_path):
        recoloured = colour_table(centres, palette)[labels].reshape(height, width, 3)
        cv2.imwrite(os.path.join(out_dir, f"{name}.png"), recoloured)
    recon = os.environ.get("RECON")
    if recon:
        cv2.imwrite(recon, centre_colours(centres)[labels].reshape(height, width, 3))


if __name__ == "__main__":
    main(sys.argv)
