#!/usr/bin/python3
"""Clustering quality: the mean, over every pixel, of the squared CIE Lab distance (CIE76 ΔE²)
between an image and its recoloured version, in which each pixel has the 8-bit sRGB colour of
the cluster centre (or palette entry) it was given. Lower is better.

Both images are read as 8-bit BGR and converted with OpenCV's float conversion (values / 255,
D65 white: L* 0..100, a* and b* unscaled), so the figure does not depend on the 8-bit Lab
encoding. The two must have the same size.

    /usr/bin/python3 benchmarks/lab_error.py ORIGINAL RECOLOURED     (prints e.g. 19.755)
"""
import sys

import cv2
import numpy as np


def read_lab(path):
    """The image at `path` in float CIE Lab, one (L*, a*, b*) triple per pixel."""
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        sys.exit(f"lab_error: cannot read {path}")
    return cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)


def mean_squared_lab_distance(original, recoloured):
    if original.shape != recoloured.shape:
        sys.exit(f"lab_error: sizes differ: {original.shape[1::-1]} and {recoloured.shape[1::-1]}")
    difference = original - recoloured
    return float(np.einsum("...c,...c->...", difference, difference).mean(dtype=np.float64))


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    print(f"{mean_squared_lab_distance(read_lab(argv[1]), read_lab(argv[2])):.3f}")


if __name__ == "__main__":
    main(sys.argv)
