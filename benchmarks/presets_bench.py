#!/usr/bin/python3
"""Time and quality of each quality preset against `ultra`, on real photos, with the real CLI.

For each photo (benchmarks/PHOTOS.md; benchmarks/fetch_photos.sh fetches them into $PHOTOS,
default build/bench-photos), shrunk once at the start (area averaging) so that its long side is
at most --max-side (default 1600) and written as a JPEG of quality 95 (so that a chain starting
with a resize can decode a JPEG at a reduced size, as the presets allow), each case below runs
`imgpipe run CASE.yaml PHOTO OUT.png --preset P --profile-json J` at each preset, --runs times
(default 3). Its output at the preset is compared with its output at `ultra`:

  time        the median over the runs of the profile's decode and chain steps (`--profile-json`:
              the `run/decode` and `run/step N: …` scopes), so without process start-up, PNG
              encoding and writing; the process's wall-clock time is kept in the JSON too
  speed-up    ultra's time / the preset's time, per photo
  SSIM        Wang et al. 2004 (Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, L 255, mean of
              the map over the window's valid positions) on luma Y = 0.299 R + 0.587 G + 0.114 B;
              for remove_background's RGBA output on the alpha channel (the mask)
  dE2000      the mean CIEDE2000 difference (Sharma et al. 2005; sRGB D65 to CIE Lab) over the
              pixels, for the operations with colour output
  IoU         remove_background: intersection over union of alpha > 0.5 with ultra's mask
  error       palette and vectorize: the mean dE2000 between the output and the photo itself

Each table cell over photos is "median (worst)". The summary is over every photo and case, and
again over the cases whose output changes with the preset on some photo (the others are the same
at every preset: `imgpipe ops --presets` names them).

usage: benchmarks/presets_bench.py [IMGPIPE] [--photos DIR] [--max-side 1600] [--runs 3]
           [--work DIR] [--json FILE] [--markdown FILE] [--update-doc FILE] [--strips DIR]
           [--only CASE,...] [--merge JSON] [--tables-from JSON]
  IMGPIPE        the CLI (default build/tools/imgpipe/imgpipe)
  --json         every number (default WORK/presets_bench.json)
  --markdown     the generated tables (default: printed)
  --update-doc   writes the tables between <!-- presets-bench:begin --> and
                 <!-- presets-bench:end --> of FILE
  --strips       writes quality-presets-PRESET.jpg there: pop_art, palette and vectorize of one
                 photo at that preset, for the docs (docs/images)
  --merge        keeps an earlier run's rows for the cases not run now (with --only)
  --tables-from  writes the tables (and --update-doc) from an earlier run's --json, measuring
                 nothing; the settings table comes from IMGPIPE
The whole run takes about 5 minutes on 2 cores.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PRESETS = ["ultra", "high", "balanced", "fast", "draft"]
# The promise the presets are measured against: speed-up over ultra (low, high) and SSIM.
PROMISE = {"high": (2, 3, 0.99), "balanced": (5, 8, 0.95), "fast": (10, 15, 0.90), "draft": (20, 30, 0.80)}
# Photos of different sizes and content (benchmarks/PHOTOS.md).
PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png",
          "hubble_deep_field.jpg", "fruits.jpg", "building.jpg", "autumn-2560x1600.jpg", "shell-5120x2880.jpg"]
# name: (chain steps, output kind): rgb (SSIM and dE2000), grey (SSIM), mask (SSIM of alpha, IoU)
CASES = {
    "chain": ("- resize: {width: 400, height: 400}\n- adjust_colors: {brightness: 1.05, contrast: 1.1, saturation: 1.1}\n"
              "- sharpen: {amount: 0.3, radius: 1}", "rgb"),
    "resize": ("- resize: {scale: 0.5}", "rgb"),
    "rotate": ("- rotate: {angle: 30}", "rgb"),
    "gaussian_blur": ("- gaussian_blur: {sigma: 2}", "rgb"),
    "palette": ("- palette: {palettes: centers, k: 8}", "rgb"),
    "pop_art": ("- pop_art: {palette: warhol}", "rgb"),
    "vectorize": ("- vectorize: {colors: 8}", "rgb"),
    "dither": ("- dither: {method: floyd_steinberg, levels: 2}", "rgb"),
    "enhanced_bw": ("- enhanced_bw: {filter: red, clahe: 2, curve: 0.3}", "grey"),
    "remove_background": ("- remove_background: {method: classical, output: rgba}", "mask"),
}
STRIP_CASES = ["pop_art", "palette", "vectorize"]
# Cases whose output is the photo's own colours clustered: k-means started otherwise (fewer starts,
# another seed) finds another partition as good as ultra's, which SSIM against ultra counts as a
# loss; the mean dE2000 from the photo itself (the quantisation error) says whether it is worse.
QUANTISERS = {"palette", "vectorize"}
STRIP_PHOTO = "chelsea.png"

# --- metrics ---------------------------------------------------------------------------------


def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    w = np.exp(-(x * x) / (2 * sigma * sigma))
    return w / w.sum()


def _filter_valid(image, w):
    """Separable correlation with the 1-D window w on both axes, 'valid' part only."""
    n = len(w)
    rows = sum(w[k] * image[k:image.shape[0] - n + 1 + k, :] for k in range(n))
    return sum(w[k] * rows[:, k:image.shape[1] - n + 1 + k] for k in range(n))


def ssim(a, b, data_range=255.0):
    """Mean SSIM of two single-channel images (Wang et al. 2004, Gaussian window 11, sigma 1.5)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"ssim: shapes differ, {a.shape} and {b.shape}")
    if min(a.shape) < 11:
        raise ValueError("ssim: images smaller than the 11x11 window")
    w = _gaussian_window()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = _filter_valid(a, w), _filter_valid(b, w)
    var_a = _filter_valid(a * a, w) - mu_a * mu_a
    var_b = _filter_valid(b * b, w) - mu_b * mu_b
    cov = _filter_valid(a * b, w) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())


def luma(rgb):
    """BT.601 luma of an RGB (not BGR) array."""
    rgb = np.asarray(rgb, dtype=np.float64)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def srgb_to_lab(rgb):
    """CIE Lab (D65 white) of 8-bit sRGB values (..., 3), RGB order."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1, lab2):
    """CIEDE2000 colour difference (Sharma, Wu and Dalal 2005; kL = kC = kH = 1), element-wise."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    c_mean7 = ((C1 + C2) / 2) ** 7
    G = 0.5 * (1 - np.sqrt(c_mean7 / (c_mean7 + 25.0 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    zero = (C1p * C2p) == 0
    dLp = L2 - L1
    dCp = C2p - C1p
    # Hue angles exactly 180 degrees apart (Sharma's pairs 13-15) must take the "<= 180" branches,
    # which rounding in atan2 may miss by 1e-14.
    half_turn = 180 + 1e-9
    dh = h2p - h1p
    dh = np.where(dh > half_turn, dh - 360, np.where(dh < -half_turn, dh + 360, dh))
    dh = np.where(zero, 0.0, dh)
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dh / 2))
    Lp_mean = (L1 + L2) / 2
    Cp_mean = (C1p + C2p) / 2
    h_sum = h1p + h2p
    hp_mean = np.where(np.abs(h1p - h2p) <= half_turn, h_sum / 2,
                       np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2))
    hp_mean = np.where(zero, h_sum, hp_mean)
    T = (1 - 0.17 * np.cos(np.radians(hp_mean - 30)) + 0.24 * np.cos(np.radians(2 * hp_mean))
         + 0.32 * np.cos(np.radians(3 * hp_mean + 6)) - 0.20 * np.cos(np.radians(4 * hp_mean - 63)))
    d_theta = 30 * np.exp(-(((hp_mean - 275) / 25) ** 2))
    cp7 = Cp_mean ** 7
    Rc = 2 * np.sqrt(cp7 / (cp7 + 25.0 ** 7))
    l50 = (Lp_mean - 50) ** 2
    Sl = 1 + 0.015 * l50 / np.sqrt(20 + l50)
    Sc = 1 + 0.045 * Cp_mean
    Sh = 1 + 0.015 * Cp_mean * T
    Rt = -np.sin(np.radians(2 * d_theta)) * Rc
    return np.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh))


def mean_delta_e(rgb1, rgb2):
    return float(ciede2000(srgb_to_lab(rgb1), srgb_to_lab(rgb2)).mean())


def mask_iou(alpha1, alpha2):
    """IoU of alpha > 0.5 (8-bit alpha); 1 when both masks are empty."""
    m1, m2 = np.asarray(alpha1) > 127, np.asarray(alpha2) > 127
    union = np.logical_or(m1, m2).sum()
    return 1.0 if union == 0 else float(np.logical_and(m1, m2).sum() / union)


# --- running ---------------------------------------------------------------------------------


def step_ms(profile):
    """The profile's decode and chain-step time in ms (top-level scopes under `run`)."""
    total = 0.0
    for scope in profile["scopes"]:
        for child in scope.get("children", []):
            if child["name"] == "decode" or child["name"].startswith("step "):
                total += child["total_ms"]
    return total


def prepare_photos(names, source, work, max_side):
    import cv2
    out = []
    folder = os.path.join(work, "photos")
    os.makedirs(folder, exist_ok=True)
    for name in names:
        path = os.path.join(source, name)
        if not os.path.exists(path):
            subprocess.run([os.path.join(HERE, "fetch_photos.sh"), source], check=True, stdout=sys.stderr)
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        h, w = image.shape[:2]
        original = (w, h)
        if max(w, h) > max_side:
            scale = max_side / max(w, h)
            image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        target = os.path.join(folder, os.path.splitext(name)[0] + ".jpg")
        cv2.imwrite(target, image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        out.append({"name": os.path.splitext(name)[0], "file": name, "original": original,
                    "size": (image.shape[1], image.shape[0]), "path": target})
    return out


def run_case(imgpipe, chain, photo, preset, out, profile):
    for stale in (out, profile):
        if os.path.exists(stale):
            os.remove(stale)
    start = time.perf_counter()
    subprocess.run([imgpipe, "run", chain, photo, out, "--preset", preset, "--profile-json", profile],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = (time.perf_counter() - start) * 1000
    with open(profile) as f:
        ms = step_ms(json.load(f))
    written = out
    if not os.path.exists(out):  # a palette step names its variant: OUT-centers.png
        stem = os.path.splitext(out)[0]
        written = next(os.path.join(os.path.dirname(out), f) for f in sorted(os.listdir(os.path.dirname(out)))
                       if os.path.join(os.path.dirname(out), f).startswith(stem + "-"))
    return ms, wall, written


def read_output(path):
    import cv2
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def compare(kind, reference, image):
    if reference.shape != image.shape:
        return {"ssim": None, "note": f"shape {image.shape} != ultra's {reference.shape}"}
    if kind == "mask":
        return {"ssim": ssim(reference[..., 3], image[..., 3]), "iou": mask_iou(reference[..., 3], image[..., 3])}
    if kind == "grey" or reference.ndim == 2:
        grey_ref = reference if reference.ndim == 2 else luma(reference[..., :3])
        grey = image if image.ndim == 2 else luma(image[..., :3])
        return {"ssim": ssim(grey_ref, grey)}
    return {"ssim": ssim(luma(reference[..., :3]), luma(image[..., :3])),
            "delta_e": mean_delta_e(reference[..., :3], image[..., :3])}


def measure(args, photos, cases):
    results = []
    chains = {}
    for case in cases:
        chains[case] = os.path.join(args.work, f"{case}.yaml")
        with open(chains[case], "w") as f:
            f.write("chain:\n" + CASES[case][0] + "\n")
    outputs = os.path.join(args.work, "out")
    os.makedirs(outputs, exist_ok=True)
    for photo in photos:
        for case in cases:
            kind = CASES[case][1]
            reference = None
            for preset in PRESETS:
                ms, walls, written = [], [], None
                for r in range(args.runs):
                    out = os.path.join(outputs, f"{photo['name']}.{case}.{preset}.png")
                    step, wall, written_now = run_case(args.imgpipe, chains[case], photo["path"], preset, out,
                                                       os.path.join(outputs, "profile.json"))
                    ms.append(step)
                    walls.append(wall)
                    written = written or written_now
                image = read_output(written)
                row = {"photo": photo["name"], "size": photo["size"], "case": case, "preset": preset,
                       "ms": statistics.median(ms), "runs_ms": ms, "wall_ms": statistics.median(walls)}
                if preset == "ultra":
                    reference = image
                    row.update({"ssim": 1.0, "speedup": 1.0})
                    if kind == "rgb" and image.ndim == 3:
                        row["delta_e"] = 0.0
                    if kind == "mask":
                        row["iou"] = 1.0
                    ultra_ms = row["ms"]
                else:
                    row.update(compare(kind, reference, image))
                    row["speedup"] = ultra_ms / row["ms"] if row["ms"] > 0 else None
                    row["identical"] = bool(reference.shape == image.shape and np.array_equal(reference, image))
                if case in QUANTISERS:
                    row["error"] = mean_delta_e(read_output(photo["path"]), image)
                results.append(row)
                print(f"{photo['name']:>18} {case:>17} {preset:>8} {row['ms']:8.1f} ms  x{row['speedup']:.2f}  "
                      f"SSIM {row['ssim'] if row['ssim'] is None else round(row['ssim'], 4)}", file=sys.stderr)
    return results


# --- tables ----------------------------------------------------------------------------------


def cell(values, worst, digits):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    return f"{statistics.median(values):.{digits}f} ({worst(values):.{digits}f})"


def case_table(rows, case):
    kind = CASES[case][1]
    error = case in QUANTISERS
    out = [f"#### {case}\n", "`" + CASES[case][0].replace("\n", " ") + "`\n",
           "| preset | time ms | speed-up vs ultra | SSIM | ΔE2000 | IoU |" + (" ΔE2000 to the photo |" if error else ""),
           "|---|---|---|---|---|---|" + ("---|" if error else "")]
    for preset in PRESETS:
        r = [x for x in rows if x["case"] == case and x["preset"] == preset]
        out.append("| {} | {} | {} | {} | {} | {} |".format(
            preset, cell([x["ms"] for x in r], max, 1), cell([x["speedup"] for x in r], min, 2),
            cell([x.get("ssim") for x in r], min, 4),
            cell([x.get("delta_e") for x in r], max, 2) if kind == "rgb" else "—",
            cell([x.get("iou") for x in r], min, 3) if kind == "mask" else "—")
                   + (f" {cell([x.get('error') for x in r], max, 2)} |" if error else ""))
    return "\n".join(out) + "\n"


def changed_cases(rows):
    return sorted({x["case"] for x in rows if x["preset"] != "ultra" and not x.get("identical", True)})


def summary_table(rows, cases, title):
    out = [title, "", "| preset | promise: speed-up, SSIM | speed-up median | worst | SSIM median | worst | "
           "speed-up met | SSIM met |", "|---|---|---|---|---|---|---|---|"]
    for preset in PRESETS[1:]:
        r = [x for x in rows if x["preset"] == preset and x["case"] in cases]
        if not r:
            continue
        low, high, floor = PROMISE[preset]
        speed = [x["speedup"] for x in r if x["speedup"]]
        quality = [x["ssim"] for x in r if x.get("ssim") is not None]
        speed_met = sum(s >= low for s in speed)
        quality_met = sum(q >= floor for q in quality)
        out.append(f"| {preset} | {low}–{high}×, ≥ {floor:.2f} | {statistics.median(speed):.2f}× | {min(speed):.2f}× | "
                   f"{statistics.median(quality):.4f} | {min(quality):.4f} | {speed_met}/{len(speed)} | "
                   f"{quality_met}/{len(quality)} |")
    return "\n".join(out) + "\n"


def machine():
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def markdown(data, settings_table):
    rows, meta = data["results"], data["meta"]
    photos = ", ".join(f"{p['name']} {p['size'][0]}×{p['size'][1]}" for p in meta["photos"])
    changed = changed_cases(rows)
    out = [f"Made by `{meta['command']}` on {meta['date']}: {meta['machine']}; imgpipe {meta['version']}. "
           f"{len(meta['photos'])} photos, long side at most {meta['max_side']} px (shrunk once with area "
           f"averaging, written as JPEG quality 95): {photos}. Times are the median of {meta['runs']} runs "
           "of the profile's decode and chain steps (no start-up, no encoding); on a shared machine they "
           "vary by 10–20 %. Cells over photos are median (worst)."
           + (f" Merged: {meta['merged']}." if meta.get("merged") else "") + "\n",
           "What each preset sets (`imgpipe ops --presets`):\n", settings_table,
           summary_table(rows, meta["cases"], "Against the promise, over every photo and case:"),
           summary_table(rows, changed, "Over the cases the preset changes (" + ", ".join(changed) + "):")
           if changed else "",
           "The same output at every preset, on every photo: "
           + (", ".join(c for c in meta["cases"] if c not in changed) or "none") + ".\n"]
    out += [case_table(rows, case) for case in meta["cases"]]
    return "\n".join(out)


def update_doc(path, text):
    begin, end = "<!-- presets-bench:begin -->", "<!-- presets-bench:end -->"
    with open(path) as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        sys.exit(f"{path}: no {begin} … {end} markers")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + text.rstrip("\n") + "\n" + end + tail)


def strips(args, photos, folder):
    """One strip per preset: pop_art, palette and vectorize of one photo at that preset."""
    import cv2
    photo = next((p for p in photos if p["file"] == STRIP_PHOTO), photos[0])
    os.makedirs(folder, exist_ok=True)
    chains = {case: os.path.join(args.work, f"{case}.yaml") for case in STRIP_CASES}
    for case, path in chains.items():
        with open(path, "w") as f:
            f.write("chain:\n" + CASES[case][0] + "\n")
    for preset in PRESETS:
        panels = []
        for case in STRIP_CASES:
            out = os.path.join(args.work, "out", f"strip.{case}.{preset}.png")
            _, _, written = run_case(args.imgpipe, chains[case], photo["path"], preset, out,
                                     os.path.join(args.work, "out", "profile.json"))
            image = cv2.imread(written, cv2.IMREAD_COLOR)
            scale = 300 / image.shape[1]
            image = cv2.resize(image, (300, round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
            cv2.rectangle(image, (0, 0), (300, 22), (255, 255, 255), -1)
            cv2.putText(image, f"{case}, {preset}", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
            panels.append(image)
        strip = cv2.hconcat(panels)
        cv2.imwrite(os.path.join(folder, f"quality-presets-{preset}.jpg"), strip, [cv2.IMWRITE_JPEG_QUALITY, 85])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("imgpipe", nargs="?", default=os.path.join(ROOT, "build", "tools", "imgpipe", "imgpipe"))
    parser.add_argument("--photos", default=os.environ.get("PHOTOS", os.path.join(ROOT, "build", "bench-photos")))
    parser.add_argument("--max-side", type=int, default=1600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "imgpipe-presets-bench"))
    parser.add_argument("--json", default="")
    parser.add_argument("--markdown", default="")
    parser.add_argument("--update-doc", default="")
    parser.add_argument("--strips", default="")
    parser.add_argument("--only", default="", help="cases to run, comma-separated (default all)")
    parser.add_argument("--merge", default="", help="an earlier run's JSON: its rows of the cases not run here are kept")
    parser.add_argument("--tables-from", default="", help="write the tables of an earlier run's JSON; measure nothing")
    args = parser.parse_args()
    args.imgpipe = os.path.abspath(args.imgpipe)
    cases = [c for c in CASES if not args.only or c in args.only.split(",")]
    os.makedirs(args.work, exist_ok=True)
    if args.tables_from:
        with open(args.tables_from) as f:
            data = json.load(f)
    else:
        if os.path.isdir(os.path.join(args.work, "out")):
            shutil.rmtree(os.path.join(args.work, "out"))
        photos = prepare_photos(PHOTOS, args.photos, args.work, args.max_side)
        started = time.time()
        results = measure(args, photos, cases)
        version = subprocess.run([args.imgpipe, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        command = " ".join(["benchmarks/presets_bench.py"] + [os.path.relpath(a, ROOT) if a.startswith(ROOT) else a
                                                               for a in sys.argv[1:]])
        data = {"meta": {"command": command, "date": datetime.date.today().isoformat(), "machine": machine(),
                         "version": version.replace("imgpipe ", ""), "runs": args.runs, "max_side": args.max_side,
                         "seconds": round(time.time() - started), "cases": cases,
                         "chains": {c: CASES[c][0] for c in cases}, "promise": PROMISE,
                         "photos": [{k: p[k] for k in ("name", "file", "original", "size")} for p in photos]},
                "results": results}
        if args.merge:
            with open(args.merge) as f:
                earlier = json.load(f)
            kept = [r for r in earlier["results"] if r["case"] not in cases]
            data["meta"]["cases"] = [c for c in CASES if c in cases or c in earlier["meta"]["cases"]]
            data["meta"]["chains"] = {c: CASES[c][0] for c in data["meta"]["cases"]}
            data["meta"]["merged"] = f"{', '.join(cases)} measured on {data['meta']['date']}, the others " \
                                     f"by `{earlier['meta']['command']}` on {earlier['meta']['date']}"
            data["results"] = kept + results
        with open(args.json or os.path.join(args.work, "presets_bench.json"), "w") as f:
            json.dump(data, f, indent=1)
    settings = subprocess.run([args.imgpipe, "ops", "--presets"], capture_output=True, text=True, check=True).stdout
    text = markdown(data, settings)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    else:
        print(text)
    if args.update_doc:
        update_doc(args.update_doc, text)
    if args.strips:
        if args.tables_from:
            photos = prepare_photos([STRIP_PHOTO], args.photos, args.work, args.max_side)
        strips(args, photos, args.strips)


if __name__ == "__main__":
    main()
