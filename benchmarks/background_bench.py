#!/usr/bin/python3
"""remove_background, classical against model (ISNet), by IoU against known masks.

    benchmarks/background_bench.py [--imgpipe build/tools/imgpipe/imgpipe] [--model isnet]
                                   [--out DIR] [--json FILE]

How the truth is made (the composites are built here, from the photos of ../shared/images
beside the checkout or $IMGPIPE_PHOTOS, see benchmarks/PHOTOS.md): three cut-outs whose masks are known exactly,
each composited onto three real photos used as backgrounds (nine composites):
  - opencv-logo-rgba.png: a real alpha cut-out (the graphic's own alpha channel is the truth,
    composited with it, so soft edges are soft in the truth too; thresholded at 0.5 for IoU);
  - logo.png (scikit-image's logo): a disc on a pure white studio-like background; the mask is
    every pixel not connected to the border through near-white (>= 235 in every channel)
    pixels, i.e. the white surround flood-filled from the corners, holes inside kept;
  - starry_night.jpg: the photographed painting on its white page; the mask is the same flood
    fill of the white surround.
The two thresholded masks were checked by eye (written next to the composites with --out).
Each cut-out is scaled to 60 % of the background's short side and placed at a fixed offset.

Prints a Markdown table (composite, size, classical IoU, model IoU, classical ms, model ms;
time = the wall time of one `imgpipe run`, load and save included) and writes JSON.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CUTOUTS = ["opencv-logo-rgba.png", "logo.png", "starry_night.jpg"]
BACKGROUNDS = {
    "opencv-logo-rgba.png": ["autumn-2560x1600.jpg", "building.jpg", "baboon.jpg"],
    "logo.png": ["shell-5120x2880.jpg", "rocket.jpg", "motorcycle_left.png"],
    "starry_night.jpg": ["coffee.png", "chelsea.png", "fruits.jpg"],
}
PLACES = [(0.5, 0.5), (0.3, 0.55), (0.7, 0.45)]  # centre of the cut-out, fractions of the background


def photos_dir():
    for candidate in [os.environ.get("IMGPIPE_PHOTOS"), ROOT.parent / "shared" / "images"]:
        if candidate and (Path(candidate) / "SOURCES.md").is_file():
            return Path(candidate)
    sys.exit("background_bench: no photo folder: set IMGPIPE_PHOTOS (see benchmarks/PHOTOS.md)")


def find_imgpipe(given):
    if given:
        return Path(given)
    for build in sorted(ROOT.glob("build*/tools/imgpipe/imgpipe")):
        return build
    sys.exit("background_bench: no imgpipe binary: pass --imgpipe PATH")


def white_surround_mask(bgr):
    """255 where the pixel is not reachable from the border through near-white pixels."""
    white = np.all(bgr >= 235, axis=2).astype(np.uint8)
    h, w = white.shape
    flood = white.copy()
    ff = np.zeros((h + 2, w + 2), np.uint8)
    for x, y in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]:
        if flood[y, x] == 1:
            cv2.floodFill(flood, ff, (x, y), 2)
    return np.where(flood == 2, 0, 255).astype(np.uint8)


def cutout(photos, name):
    """(BGR colours, alpha 0..1 float) of a cut-out."""
    image = cv2.imread(str(photos / name), cv2.IMREAD_UNCHANGED)
    if image.ndim == 3 and image.shape[2] == 4 and image[..., 3].min() < 255:
        return image[..., :3], image[..., 3].astype(np.float32) / 255
    bgr = image[..., :3] if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return bgr, white_surround_mask(bgr).astype(np.float32) / 255


def composite(background, colours, alpha, place):
    h, w = background.shape[:2]
    side = int(min(h, w) * 0.6)
    scale = side / max(colours.shape[:2])
    size = (max(1, round(colours.shape[1] * scale)), max(1, round(colours.shape[0] * scale)))
    colours = cv2.resize(colours, size, interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    x = min(max(0, int(place[0] * w - size[0] / 2)), w - size[0])
    y = min(max(0, int(place[1] * h - size[1] / 2)), h - size[1])
    out = background.astype(np.float32)
    truth = np.zeros((h, w), np.float32)
    region = out[y:y + size[1], x:x + size[0]]
    a = alpha[..., None]
    out[y:y + size[1], x:x + size[0]] = colours.astype(np.float32) * a + region * (1 - a)
    truth[y:y + size[1], x:x + size[0]] = alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), truth


def run_mask(imgpipe, chain, image_path, out_path):
    start = time.perf_counter()
    result = subprocess.run([str(imgpipe), "run", str(chain), str(image_path), str(out_path), "-v"],
                            capture_output=True, text=True)
    ms = (time.perf_counter() - start) * 1000
    if result.returncode != 0:
        sys.exit(f"background_bench: imgpipe failed ({result.returncode}): {result.stderr.strip()}")
    alpha = cv2.imread(str(out_path), cv2.IMREAD_UNCHANGED)[..., 3]
    lines = [l for l in result.stderr.splitlines() if "remove_background" in l]
    return alpha.astype(np.float32) / 255, ms, lines


def iou(mask, truth):
    found, true = mask >= 0.5, truth >= 0.5
    union = np.count_nonzero(found | true)
    return np.count_nonzero(found & true) / union if union else 1.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--imgpipe", help="the imgpipe binary (default: the first build*/tools/imgpipe/imgpipe)")
    parser.add_argument("--model", default="isnet", help="the model name or path for method: model")
    parser.add_argument("--out", help="keep the composites, truths and masks in this folder")
    parser.add_argument("--json", default="background_bench.json", help="where the JSON results go")
    args = parser.parse_args()
    photos, imgpipe = photos_dir(), find_imgpipe(args.imgpipe)
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="background_bench."))
    work.mkdir(parents=True, exist_ok=True)
    chains = {
        "classical": "chain:\n  - remove_background: {method: classical}\n",
        "model": f"chain:\n  - remove_background: {{method: model, model: {args.model}}}\n",
    }
    for name, text in chains.items():
        (work / f"{name}.yaml").write_text(text)

    rows = []
    for cut in CUTOUTS:
        colours, alpha = cutout(photos, cut)
        cv2.imwrite(str(work / f"truth-{Path(cut).stem}.png"), (alpha * 255).astype(np.uint8))
        for background_name, place in zip(BACKGROUNDS[cut], PLACES):
            background = cv2.imread(str(photos / background_name), cv2.IMREAD_COLOR)
            image, truth = composite(background, colours, alpha, place)
            label = f"{Path(cut).stem} on {Path(background_name).stem}"
            stem = f"{Path(cut).stem}-on-{Path(background_name).stem}"
            image_path = work / f"{stem}.png"
            cv2.imwrite(str(image_path), image)
            row = {"composite": label, "width": image.shape[1], "height": image.shape[0]}
            for method in chains:
                mask, ms, lines = run_mask(imgpipe, work / f"{method}.yaml", image_path, work / f"{stem}-{method}.png")
                row[f"{method}_iou"] = round(iou(mask, truth), 4)
                row[f"{method}_ms"] = round(ms)
                row[f"{method}_plan"] = lines
            rows.append(row)
            print(f"{label}: classical {row['classical_iou']:.3f} ({row['classical_ms']} ms), "
                  f"model {row['model_iou']:.3f} ({row['model_ms']} ms)", file=sys.stderr)

    truth_note = ("truth: opencv-logo-rgba.png's own alpha; logo.png and starry_night.jpg masked by flood-filling "
                  "their white surround (>= 235) from the corners, checked by eye; each cut-out at 60 % of the "
                  "background's short side on real photos from ../shared/images")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"
    print(f"\n{truth_note}.\nmachine: {machine}; time: one `imgpipe run` (load, mask, save) per image.\n")
    print("| composite | size | classical IoU | model IoU | classical ms | model ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['composite']} | {r['width']}×{r['height']} | {r['classical_iou']:.3f} | {r['model_iou']:.3f} "
              f"| {r['classical_ms']} | {r['model_ms']} |")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ["classical_iou", "model_iou", "classical_ms", "model_ms"]}
    print(f"| **mean** | | {mean['classical_iou']:.3f} | {mean['model_iou']:.3f} | {mean['classical_ms']:.0f} "
          f"| {mean['model_ms']:.0f} |")
    Path(args.json).write_text(json.dumps({"truth": truth_note, "machine": machine, "model": args.model,
                                           "imgpipe": str(imgpipe), "rows": rows, "mean": mean}, indent=2) + "\n")


if __name__ == "__main__":
    main()
