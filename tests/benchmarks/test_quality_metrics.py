"""The quality measures of benchmarks/presets_bench.py against published values: SSIM (Wang et
al. 2004) and CIEDE2000 (the 34 test pairs of Sharma, Wu and Dalal 2005, to their 4 decimals)."""
import os
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(os.environ.get("IMGPIPE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT / "benchmarks"))
import presets_bench as bench  # noqa: E402

# Sharma, Wu and Dalal, "The CIEDE2000 color-difference formula: implementation notes,
# supplementary test data, and mathematical observations", Color Res. Appl. 30 (2005), table 1.
SHARMA = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def test_ciede2000_matches_sharma_pairs():
    lab1 = np.array([p[0] for p in SHARMA])
    lab2 = np.array([p[1] for p in SHARMA])
    expected = np.array([p[2] for p in SHARMA])
    np.testing.assert_allclose(bench.ciede2000(lab1, lab2), expected, atol=5e-5)
    np.testing.assert_allclose(bench.ciede2000(lab2, lab1), expected, atol=5e-5)  # symmetric
    assert bench.ciede2000(lab1, lab1).max() == 0


def test_srgb_to_lab_of_known_colours():
    lab = bench.srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 0, 255]]))
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=1e-9)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.02)
    np.testing.assert_allclose(lab[3], [32.30, 79.19, -107.86], atol=0.02)


def photo_like(seed=1, shape=(64, 80)):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    return np.clip(120 + 60 * np.sin(x / 7.0) * np.cos(y / 5.0) + rng.normal(0, 10, shape), 0, 255)


def test_ssim_of_identical_images_is_one():
    a = photo_like()
    assert bench.ssim(a, a) == pytest.approx(1.0, abs=1e-12)


def test_ssim_of_constant_images_follows_the_formula():
    # Flat windows have no variance: SSIM is the luminance term (2ab + C1) / (a² + b² + C1).
    c1 = (0.01 * 255) ** 2
    a, b = 100.0, 140.0
    expected = (2 * a * b + c1) / (a * a + b * b + c1)
    assert bench.ssim(np.full((20, 30), a), np.full((20, 30), b)) == pytest.approx(expected, rel=1e-12)


def test_ssim_map_equals_the_direct_window_sum():
    # The separable 'valid' filtering against the 11x11 Gaussian window written out for one
    # image that is exactly one window: the map has one value.
    a, b = photo_like(2, (11, 11)), photo_like(3, (11, 11))
    g = bench._gaussian_window()
    w = np.outer(g, g)
    assert w.sum() == pytest.approx(1.0)
    mu_a, mu_b = (w * a).sum(), (w * b).sum()
    var_a, var_b = (w * (a - mu_a) ** 2).sum(), (w * (b - mu_b) ** 2).sum()
    cov = (w * (a - mu_a) * (b - mu_b)).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    expected = (2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    assert bench.ssim(a, b) == pytest.approx(expected, rel=1e-10)


def test_ssim_falls_with_noise_and_is_symmetric():
    a = photo_like()
    noisy = np.clip(a + np.random.default_rng(4).normal(0, 20, a.shape), 0, 255)
    s = bench.ssim(a, noisy)
    assert 0 < s < 0.95
    assert bench.ssim(noisy, a) == pytest.approx(s, rel=1e-12)


def test_mask_iou():
    a = np.zeros((4, 4), np.uint8)
    b = np.zeros((4, 4), np.uint8)
    assert bench.mask_iou(a, b) == 1.0
    a[:2] = 255  # 8 pixels
    b[1:3] = 200  # 8 pixels, 4 shared
    assert bench.mask_iou(a, b) == pytest.approx(4 / 12)
    b[1:3] = 127  # not above 0.5
    assert bench.mask_iou(a, b) == 0.0
