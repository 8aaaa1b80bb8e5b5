#!/usr/bin/env bash
# Cold start: one fresh process that decodes a 512x512 JPEG, resizes it to 256 px and writes
# WebP, for imgpipe, `vips thumbnail` and ImageMagick, measured in the same hyperfine run; then
# the same job from the photo as PNG and as a JPEG with a Display P3 profile to convert.
#   benchmarks/cold_start.sh [BUILD_DIR]   (default build/)
# Environment: RUNS (40), PHOTOS (build/bench-photos: benchmarks/fetch_photos.sh fills it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build}
imgpipe="$build/tools/imgpipe/imgpipe"
photos=${PHOTOS:-$root/build/bench-photos}
input="$photos/baboon.jpg"
[ -f "$input" ] || "$here/fetch_photos.sh" "$photos" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/resize256.yaml" <<'YAML'
chain:
  - resize: {width: 256, height: 256}
output: {format: webp, quality: 80}
YAML
[ -x "$imgpipe" ] || { echo "build imgpipe first: $imgpipe" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine missing: tools/setup-debian.sh" >&2; exit 1; }
vips copy "$input" "$work/input.png"
vips icc_transform "$input" "$work/p3.jpg[Q=90]" p3

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
hyperfine -N --warmup 5 --runs ${RUNS:-40} --export-json "$work/cold.json" \
  -n imgpipe "$imgpipe run $work/resize256.yaml $input $work/imgpipe.webp" \
  -n "vips thumbnail" "vips thumbnail $input $work/vips.webp 256" \
  -n "ImageMagick" "/usr/bin/convert-im6.q16 $input -resize 256x256 $work/im.webp" \
  -n "imgpipe --help (process start only)" "$imgpipe --help" \
  -n "imgpipe info (start + JPEG header)" "$imgpipe info $input" \
  -n "imgpipe with libvips modules" "env IMGPIPE_VIPS_MODULES=1 $imgpipe run $work/resize256.yaml $input $work/imgpipe2.webp" \
  -n "imgpipe, PNG in" "$imgpipe run $work/resize256.yaml $work/input.png $work/png.webp" \
  -n "vips thumbnail, PNG in" "vips thumbnail $work/input.png $work/vips-png.webp 256" \
  -n "ImageMagick, PNG in" "/usr/bin/convert-im6.q16 $work/input.png -resize 256x256 $work/im-png.webp" \
  -n "imgpipe, P3 JPEG in" "$imgpipe run $work/resize256.yaml $work/p3.jpg $work/p3.webp"

python3 - "$work/cold.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ms = lambda n: r[n]["mean"] * 1000
print()
print(f"{'command':45} {'mean ms':>9} {'median ms':>10}")
for n, x in r.items():
    print(f"{n:45} {x['mean']*1000:9.1f} {x['median']*1000:10.1f}")
print()
print(f"imgpipe / vips thumbnail = {ms('imgpipe') / ms('vips thumbnail'):.2f}x   (target <= 1.00)")
print(f"imgpipe / ImageMagick    = {ms('imgpipe') / ms('ImageMagick'):.2f}x")
print(f"PNG in: imgpipe / ImageMagick = {ms('imgpipe, PNG in') / ms('ImageMagick, PNG in'):.2f}x, "
      f"/ vips thumbnail = {ms('imgpipe, PNG in') / ms('vips thumbnail, PNG in'):.2f}x")
PY
