#!/usr/bin/python3
"""The Python module against what a Python service would otherwise do, in one process.

1. Seven palette variations of a 2048x2048 photo, from a numpy array to seven PNG byte
   strings: through the module (Chain.encode), through the CLI in a subprocess (the array
   written as a PNG file, `imgpipe palette`, the seven files read back), and with the
   Python/OpenCV algorithm the module replaces (per palette: cv2.kmeans, k 10, on a copy of at
   most 1024 px, a full-resolution nearest-centre map, cv2.imencode).
2. The cost of one call: a trivial chain (one adjust_colors step) on a 64x64 image.

    PYTHONPATH=build/python /usr/bin/python3 benchmarks/python_bench.py [IMAGE] [CLI]
IMAGE defaults to shell-5120x2880.jpg of the benchmark photos ($PHOTOS, default
build/bench-photos; benchmarks/fetch_photos.sh fetches them when it is missing).
Times are medians of RUNS runs (default 7; 3 for the baseline)."""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

import imgpipe

ROOT = pathlib.Path(__file__).resolve().parents[1]
PHOTOS = pathlib.Path(os.environ.get("PHOTOS", ROOT / "build" / "bench-photos"))
IMAGE = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else PHOTOS / "shell-5120x2880.jpg")
CLI = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "build/tools/imgpipe/imgpipe")
RUNS = int(os.environ.get("RUNS", 7))
K = 10
# Seven palettes of four to six colours, darkest to lightest.
PALETTES = {
    "sunset": ["#2b1d0e", "#7f3b1d", "#c8553d", "#f28f3b", "#ffd5a5"],
    "ocean": ["#03045e", "#0077b6", "#00b4d8", "#90e0ef", "#caf0f8"],
    "forest": ["#1b2f1b", "#2d6a4f", "#52b788", "#b7e4c7"],
    "mono": ["#111111", "#555555", "#999999", "#dddddd"],
    "pop": ["#1a1423", "#d7263d", "#f46036", "#2e294e", "#1b998b", "#e2c044"],
    "pastel": ["#6d6875", "#b5838d", "#e5989b", "#ffb4a2", "#ffcdb2"],
    "sepia": ["#2e1f0f", "#704214", "#a0785a", "#d2b48c", "#f5e6cc"],
}


def median_seconds(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def lightness(hex_colour):
    rgb = np.array([[[int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[0, 0, 0]


def baseline(rgb):
    """The per-palette k-means service, as Python + OpenCV: seven PNG byte strings."""
    out = {}
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    h, w = bgr.shape[:2]
    scale = min(1.0, 1024 / max(h, w))
    small = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    samples = cv2.cvtColor(small, cv2.COLOR_BGR2Lab).reshape(-1, 3).astype(np.float32)
    full = cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).reshape(-1, 3).astype(np.float32)
    for name, colours in PALETTES.items():
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 0.2)
        _, _, centres = cv2.kmeans(samples, K, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
        cc = (centres * centres).sum(1)
        labels = np.empty(len(full), np.uint8)
        for i in range(0, len(full), 1 << 20):
            labels[i:i + (1 << 20)] = (cc[None, :] - 2 * full[i:i + (1 << 20)] @ centres.T).argmin(1)
        ordered = sorted(colours, key=lightness)
        lut = np.zeros((K, 3), np.uint8)
        for rank, ci in enumerate(np.argsort(centres[:, 0], kind="stable")):
            c = ordered[rank * len(ordered) // K]
            lut[ci] = [int(c[5:7], 16), int(c[3:5], 16), int(c[1:3], 16)]
        out[name] = cv2.imencode(".png", lut[labels].reshape(h, w, 3))[1].tobytes()
    return out


def main():
    if len(sys.argv) < 2 and not IMAGE.exists():
        subprocess.run([str(ROOT / "benchmarks" / "fetch_photos.sh"), str(PHOTOS)], check=True, stdout=sys.stderr)
    source = cv2.cvtColor(cv2.imread(str(IMAGE)), cv2.COLOR_BGR2RGB)
    h, w = source.shape[:2]
    side = min(h, w, 2048)
    rgb = np.ascontiguousarray(source[(h - side) // 2:(h + side) // 2, (w - side) // 2:(w + side) // 2])
    print(f"machine: {os.cpu_count()} cores; image: {IMAGE.name} centre crop {side}x{side}; "
          f"7 palettes, k {K}; imgpipe {imgpipe.__version__}")
    work = pathlib.Path(tempfile.mkdtemp())
    (work / "palettes.json").write_text(json.dumps(PALETTES))
    chain = imgpipe.Chain([{"palette": {"palettes": str(work / "palettes.json"), "k": K, "strategy": "direct"}}])

    def module():
        pngs = chain.encode(imgpipe.Image.from_array(rgb), format="png")
        assert len(pngs) == 7

    def cli():
        cv2.imwrite(str(work / "in.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        subprocess.run([CLI, "-q", "palette", str(work / "in.png"), "--palettes", str(work / "palettes.json"),
                        "--k", str(K), "-o", str(work / "cli")], check=True)
        pngs = {p.stem: p.read_bytes() for p in (work / "cli").glob("*.png")}
        assert len(pngs) == 7

    module()  # warm: first use loads libvips's and OpenCV's lazily loaded parts
    t_module = median_seconds(module, RUNS)
    t_cli = median_seconds(cli, RUNS)
    t_base = median_seconds(lambda: baseline(rgb), max(1, RUNS // 2))
    print(f"{'7 palette PNGs from an array':44} {'median s':>9} {'vs module':>10}")
    for label, t in (("imgpipe module (Chain.encode)", t_module), ("imgpipe CLI in a subprocess", t_cli),
                     ("Python + OpenCV, k-means per palette", t_base)):
        print(f"{label:44} {t:9.3f} {t / t_module:9.1f}x")

    tiny = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    trivial = imgpipe.Chain([{"adjust_colors": {"brightness": 1.1}}])
    image = imgpipe.Image.from_array(tiny)
    calls = 20000
    for _ in range(1000):
        trivial.run(image)
    per_call = min(median_seconds(lambda: [trivial.run(image) for _ in range(calls)], 3) / calls for _ in range(1))
    print(f"\none call, adjust_colors on 64x64: {per_call * 1e6:.1f} us (target < 20 us)")


if __name__ == "__main__":
    main()
