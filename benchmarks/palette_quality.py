#!/usr/bin/python3
"""Palette clustering quality at default settings against exact k-means, on real photos.

For each photo (1-16 MP: the project's two large benchmark photos, which
benchmarks/fetch_photos.sh fetches into $PHOTOS (default build/bench-photos), and photographs
from Debian's wallpaper packages, fetched here with `apt-get download`, never committed) and
each k (10, and 0 = imgpipe picks k):
  imgpipe   `imgpipe palette PHOTO --palettes centers --k K -o DIR`: the command at its
            defaults, timed (wall, best of --runs); and the `palette` chain step at its
            defaults (`imgpipe run chain.yaml`): both recolour each pixel with its cluster centre
  exact     cv2.kmeans on EVERY pixel in float CIE Lab, k-means++, 3 attempts, 100 iterations,
            eps 0.01, RNG seed 12345 (benchmarks/kmeans_reference.py), with the k imgpipe used
  error     benchmarks/lab_error.py's measure: the mean squared CIE Lab distance between
            each pixel and the 8-bit colour of the centre it was given (lower is better)
  strategies  with --strategies (e.g. auto,direct,scaled,pyramid): the command again with
            `--strategy S` for each, timed and judged the same way (auto is the default run)
Exact k-means takes 5-40 s a photo; its results are cached in the work folder.

usage: benchmarks/palette_quality.py [--build DIR] [--work DIR] [--ks 10,0] [--runs 3] [--only NAME,...]
                                     [--strategies auto,direct,scaled,pyramid] [--csv FILE] [--chart DIR]
Prints a table: photo, size, k, imgpipe error (command / chain step), exact error, ratio,
imgpipe seconds, and each strategy's ratio and seconds; writes the same figures, one row per
photo, k and measure, to --csv (default WORK/palette_quality.csv), and with --chart draws
time against quality per strategy (benchmarks/charts.py strategies: DIR/strategies.png).
Exits 1 when a ratio of the defaults is above --limit (default 1.01).
"""
import argparse
import csv
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PHOTOS = os.environ.get("PHOTOS", os.path.join(ROOT, "build", "bench-photos"))

# Debian packages with photographs, and the photographs used from each (paths inside the
# package). Every photograph of 1-16 MP in them is here: plasma's nature photos, MATE's.
PACKAGES = {
    "plasma-workspace-wallpapers": [
        f"usr/share/wallpapers/{name}/contents/images/2560x1600.jpg"
        for name in ["FallenLeaf", "Path", "DarkestHour", "summer_1am", "EveningGlow", "Kite",
                     "OneStandsOut", "ColdRipple", "BytheWater", "ColorfulCups"]
    ],
    "mate-backgrounds": [
        f"usr/share/backgrounds/mate/nature/{name}.jpg"
        for name in ["Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird",
                     "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower"]
    ],
}
# Artwork (rendered or painted, not photographs) at the large sizes the photographs lack.
ARTWORK = {
    "plasma-workspace-wallpapers": ["usr/share/wallpapers/SafeLanding/contents/images/5120x2880.jpg"],
    "mate-backgrounds": ["usr/share/backgrounds/mate/abstract/Elephants_3840x2160.jpg"],
}
BENCH = ["autumn-2560x1600.jpg", "shell-5120x2880.jpg"]


def fetch(work):
    """The photos' paths, fetching and unpacking the packages on first use."""
    if not all(os.path.exists(os.path.join(PHOTOS, name)) for name in BENCH):
        subprocess.run([os.path.join(HERE, "fetch_photos.sh"), PHOTOS], check=True, stdout=sys.stderr)
    photos = [(os.path.join(PHOTOS, name), os.path.splitext(name)[0], "bench") for name in BENCH]
    for table, kind in ((PACKAGES, "photo"), (ARTWORK, "artwork")):
        for package, paths in table.items():
            unpacked = os.path.join(work, package)
            if not os.path.isdir(unpacked):
                os.makedirs(work, exist_ok=True)
                subprocess.run(["apt-get", "download", package], cwd=work, check=True,
                               stdout=subprocess.DEVNULL)
                deb = next(f for f in os.listdir(work) if f.startswith(package + "_") and f.endswith(".deb"))
                subprocess.run(["dpkg", "-x", os.path.join(work, deb), unpacked], check=True)
            for path in paths:
                parts = path.split("/")
                name = parts[3] if package.startswith("plasma") else os.path.splitext(parts[-1])[0]
                photos.append((os.path.join(unpacked, path), name, kind))
    return photos


def lab_of(bgr):
    return cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)


def error_of(original_lab, recon_path):
    """lab_error.py: mean squared Lab distance of the original to the recoloured image."""
    recon = cv2.imread(recon_path, cv2.IMREAD_COLOR)
    assert recon.shape[:2] == original_lab.shape[:2], (recon.shape, original_lab.shape)
    return float(((original_lab - lab_of(recon)) ** 2).sum(-1).mean())


def exact_error(path, bgr, original_lab, k, cache, cache_path):
    """kmeans_reference.py's clustering, judged like imgpipe's; cached by file content and k."""
    with open(path, "rb") as f:
        key = f"{hashlib.sha1(f.read()).hexdigest()}:{k}"
    if key not in cache:
        cv2.setRNGSeed(12345)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 100, 0.01)
        started = time.time()
        _, labels, centres = cv2.kmeans(original_lab.reshape(-1, 3), k, None, criteria, 3,
                                        cv2.KMEANS_PP_CENTERS)
        seconds = time.time() - started
        colours = cv2.cvtColor(centres.reshape(1, -1, 3), cv2.COLOR_Lab2BGR).reshape(-1, 3)
        colours = np.clip(np.rint(colours * 255.0), 0, 255).astype(np.uint8)
        recon = colours[labels.ravel()].reshape(bgr.shape)
        error = float(((original_lab - lab_of(recon)) ** 2).sum(-1).mean())
        cache[key] = {"error": error, "seconds": seconds}
        with open(cache_path + ".tmp", "w") as f:
            json.dump(cache, f, indent=1)
        os.replace(cache_path + ".tmp", cache_path)
    return cache[key]["error"]


def distinct_colours(path):
    """The k a recoloured image shows (centres that round to one 8-bit colour count once)."""
    pixels = cv2.imread(path, cv2.IMREAD_COLOR).reshape(-1, 3).astype(np.uint32)
    return len(np.unique(pixels[:, 0] << 16 | pixels[:, 1] << 8 | pixels[:, 2]))


def run_imgpipe(imgpipe, photo, k, out_dir, runs, strategy=None):
    """The command at its defaults (or with --strategy): best wall time, the recoloured image
    and the k it used."""
    out_dir = tempfile.mkdtemp(dir=out_dir)  # the recoloured image is the one PNG written there
    command = [imgpipe, "palette", photo, "--palettes", "centers", "--k", str(k), "-o", out_dir]
    if strategy:
        command += ["--strategy", strategy]
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True)
        best = min(best, time.perf_counter() - started)
    profile = subprocess.run(command + ["--profile"], check=True, capture_output=True, text=True).stderr
    used = next(int(line.rsplit(" k ", 1)[1]) for line in profile.splitlines() if ": palette: " in line)
    (recon,) = [os.path.join(out_dir, name) for name in os.listdir(out_dir) if name.endswith(".png")]
    return best, recon, used


def run_chain_step(imgpipe, photo, k, work):
    """The `palette` chain step at its defaults (strategy auto)."""
    chain = os.path.join(work, "chain.yaml")
    with open(chain, "w") as f:
        f.write(f"chain:\n  - palette: {{palettes: centers, k: {k}}}\n")
    subprocess.run([imgpipe, "run", chain, photo, os.path.join(work, "chain.png")], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(work, "chain-centers.png")  # the step's one variant is named "centers"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown CPU")


def write_csv(path, rows, notes):
    """The figures so far, one row per photo, k and measure, after '# key: value' lines."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", newline="") as f:
        for key, value in notes.items():
            f.write(f"# {key}: {value}\n")
        writer = csv.DictWriter(f, fieldnames=["photo", "kind", "width", "height", "megapixels", "k_asked",
                                               "measure", "strategy", "k", "error", "exact", "ratio", "seconds"])
        writer.writeheader()
        for row in rows:
            writer.writerow({key: f"{value:.6g}" if isinstance(value, float) else value for key, value in row.items()})
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "imgpipe-palette-quality"))
    parser.add_argument("--ks", default="10,0", help="k values; 0 = imgpipe picks k")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the command (best kept)")
    parser.add_argument("--only", default="", help="comma-separated photo names")
    parser.add_argument("--limit", type=float, default=1.01)
    parser.add_argument("--strategies", default="",
                        help="comma-separated strategies to time and judge too: auto, direct, scaled, pyramid")
    parser.add_argument("--csv", default="", help="where the figures go (default WORK/palette_quality.csv)")
    parser.add_argument("--chart", default="", help="folder for strategies.png (benchmarks/charts.py)")
    args = parser.parse_args()
    imgpipe = os.path.join(args.build, "tools", "imgpipe", "imgpipe")
    cache_path = os.path.join(args.work, "exact-kmeans.json")
    photos = fetch(args.work)
    cache = json.load(open(cache_path)) if os.path.exists(cache_path) else {}
    only = set(filter(None, args.only.split(",")))
    ks = [int(k) for k in args.ks.split(",")]
    strategies = [s for s in args.strategies.split(",") if s]
    csv_path = args.csv or os.path.join(args.work, "palette_quality.csv")
    rows = []

    machine = f"{os.cpu_count()} cores, {cpu_model()}"
    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"machine: {machine}; imgpipe: {imgpipe}; load average {load_before}")
    header = (f"{'photo':22} {'kind':8} {'size':>10} {'MP':>5} {'k':>5} {'imgpipe':>8} {'step':>8} "
              f"{'exact':>8} {'ratio':>7} {'step/ex':>7} {'imgpipe s':>9}"
              + "".join(f" {s[:7] + ' ratio':>13} {'s':>6}" for s in strategies))
    print(header)
    print("-" * len(header))
    worst = 0.0
    ratios = []
    for path, name, kind in photos:
        if only and name not in only:
            continue
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        original_lab = lab_of(bgr)
        h, w = bgr.shape[:2]
        for k in ks:
            by_strategy = {}
            with tempfile.TemporaryDirectory(dir=args.work) as scratch:
                seconds, recon, used = run_imgpipe(imgpipe, path, k, scratch, args.runs)
                mine = error_of(original_lab, recon)
                step_recon = run_chain_step(imgpipe, path, k, scratch)
                step = error_of(original_lab, step_recon)
                step_used = k or distinct_colours(step_recon)
                for strategy in strategies:
                    if strategy == "auto":
                        by_strategy[strategy] = (seconds, mine, used)
                        continue
                    s_seconds, s_recon, s_used = run_imgpipe(imgpipe, path, k, scratch, args.runs, strategy)
                    by_strategy[strategy] = (s_seconds, error_of(original_lab, s_recon), s_used)
            exact = exact_error(path, bgr, original_lab, used, cache, cache_path)
            step_exact = exact_error(path, bgr, original_lab, step_used, cache, cache_path)
            ratio, step_ratio = mine / exact, step / step_exact
            worst = max(worst, ratio, step_ratio)
            ratios += [ratio, step_ratio]
            label = f"{used}" if k else f"{used}a" + ("" if step_used == used else f"/{step_used}")
            common = {"photo": name, "kind": kind, "width": w, "height": h, "megapixels": round(w * h / 1e6, 2),
                      "k_asked": k}
            rows.append(dict(common, measure="command", strategy="auto", k=used, error=mine, exact=exact,
                             ratio=ratio, seconds=seconds))
            rows.append(dict(common, measure="chain step", strategy="auto", k=step_used, error=step,
                             exact=step_exact, ratio=step_ratio, seconds=""))
            columns = ""
            for strategy, (s_seconds, s_error, s_used) in by_strategy.items():
                s_exact = exact_error(path, bgr, original_lab, s_used, cache, cache_path)
                rows.append(dict(common, measure=f"--strategy {strategy}", strategy=strategy, k=s_used,
                                 error=s_error, exact=s_exact, ratio=s_error / s_exact, seconds=s_seconds))
                columns += f" {s_error / s_exact:13.4f} {s_seconds:6.2f}"
            print(f"{name:22} {kind:8} {f'{w}x{h}':>10} {w * h / 1e6:5.1f} {label:>5} {mine:8.3f} {step:8.3f} "
                  f"{exact:8.3f} {ratio:7.4f} {step_ratio:7.4f} {seconds:9.3f}{columns}", flush=True)
            write_csv(csv_path, rows, {"machine": machine, "date": datetime.date.today().isoformat(),
                                       "runs": args.runs, "load_before": load_before})
    print("-" * len(header))
    print("k: 'a' = chosen by imgpipe (k 0), '/n' where the chain step chose another k (n).")
    print("imgpipe: the command's error; step: the chain step's; exact: exact k-means at the command's k.")
    print("ratio = imgpipe / exact; step/ex = step / exact k-means at the step's k.")
    if strategies:
        print("strategy columns: the command with --strategy S (auto: the default run), error / exact k-means at")
        print("the k it used, and its best wall seconds.")
    print(f"worst ratio {worst:.4f}, mean {np.mean(ratios):.4f} over {len(ratios)} (limit {args.limit})")
    load_after = " ".join(open("/proc/loadavg").read().split()[:3])
    write_csv(csv_path, rows, {"machine": machine, "date": datetime.date.today().isoformat(), "runs": args.runs,
                               "load_before": load_before, "load_after": load_after})
    print(f"figures: {csv_path}")
    if args.chart:
        subprocess.run([sys.executable, os.path.join(HERE, "charts.py"), "strategies", csv_path, "--out", args.chart],
                       check=True)
    return 0 if worst <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
