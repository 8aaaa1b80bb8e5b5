#!/usr/bin/env bash
# Palette variations, end to end: 7 palettes applied to a 2048x2048 crop of a real photo, each
# written as PNG, by imgpipe and by the Python/OpenCV baseline in the same run; then clustering
# quality (mean squared Lab error, benchmarks/lab_error.py) of imgpipe, the baseline and
# exact k-means on every full-resolution pixel (cv2.kmeans, k-means++, 3 attempts).
#   benchmarks/palette_bench.sh [BUILD_DIR] [IMAGE]   (default IMAGE: shell-5120x2880.jpg)
# The palettes are benchmarks/palettes.json, the baseline benchmarks/palette_reference.py.
# Environment: RUNS (10, imgpipe), BASELINE_RUNS (3), PHOTOS (build/bench-photos: filled by
# benchmarks/fetch_photos.sh when the default image is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build}
photos=${PHOTOS:-$root/build/bench-photos}
source_image=${2:-$photos/shell-5120x2880.jpg}
[ -n "${2:-}" ] || [ -f "$source_image" ] || "$here/fetch_photos.sh" "$photos" >&2
imgpipe="$build/tools/imgpipe/imgpipe"
palettes="$here/palettes.json"
baseline="$here/palette_reference.py"
lab_error="$here/lab_error.py"
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A 2048x2048 crop from the middle of the photo (JPEG q90).
w=$(vipsheader -f width "$source_image"); h=$(vipsheader -f height "$source_image")
side=$(( w < h ? w : h )); side=$(( side < 2048 ? side : 2048 ))
vips extract_area "$source_image" "$work/crop.jpg[Q=90]" $(( (w - side) / 2 )) $(( (h - side) / 2 )) "$side" "$side"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "image: $(basename "$source_image") centre crop ${side}x${side}, 7 palettes, k = 10"
echo

hyperfine -N --warmup 2 --runs ${RUNS:-10} --export-json "$work/imgpipe.json" \
  -n imgpipe "$imgpipe palette $work/crop.jpg --palettes $palettes -o $work/imgpipe"
hyperfine --warmup 1 --runs ${BASELINE_RUNS:-3} --export-json "$work/baseline.json" \
  -n baseline "$py $baseline $work/crop.jpg $palettes $work/baseline"

echo; echo "where imgpipe's time goes:"
"$imgpipe" palette "$work/crop.jpg" --palettes "$palettes" -o "$work/imgpipe" --profile --centers "$work/imgpipe_recon.png"
RECON="$work/baseline_recon.png" "$py" "$baseline" "$work/crop.jpg" "$palettes" "$work/baseline"
echo; echo "exact k-means on every pixel (cv2.kmeans, k-means++, 3 attempts) ..."
kmeans_seconds=$("$py" "$here/kmeans_reference.py" "$work/crop.jpg" 10 "$work/kmeans_recon.png")

e_imgpipe=$("$py" "$lab_error" "$work/crop.jpg" "$work/imgpipe_recon.png")
e_baseline=$("$py" "$lab_error" "$work/crop.jpg" "$work/baseline_recon.png")
e_kmeans=$("$py" "$lab_error" "$work/crop.jpg" "$work/kmeans_recon.png")

"$py" - "$work/imgpipe.json" "$work/baseline.json" "$e_imgpipe" "$e_baseline" "$e_kmeans" "$kmeans_seconds" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["results"][0]
b = json.load(open(sys.argv[2]))["results"][0]
ei, eb, ek, ks = map(float, sys.argv[3:7])
print()
print(f"{'':34} {'wall s (mean)':>14} {'mean Lab error':>15}")
print(f"{'imgpipe palette (7 PNG)':34} {t['mean']:14.3f} {ei:15.3f}")
print(f"{'Python baseline (7 PNG)':34} {b['mean']:14.3f} {eb:15.3f}")
print(f"{'cv2.kmeans, all pixels (cluster)':34} {ks:14.3f} {ek:15.3f}")
print()
print(f"speed-up over the baseline: {b['mean'] / t['mean']:.0f}x   (target >= 100x)")
print(f"imgpipe wall: {t['mean'] * 1000:.0f} ms             (target <= 150 ms)")
print(f"quality vs exact k-means: {100 * (ei / ek - 1):+.2f} %   (target <= +1 %)")
PY
