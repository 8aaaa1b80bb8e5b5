#!/usr/bin/env bash
# Streaming a 16000x16000 JPEG (768 MB decoded) through a Gaussian blur, sigma 2, to JPEG q90:
# `imgpipe run --stream` against `vips gaussblur`, wall time and peak RSS, 3 runs each. Then a
# chain of several stages (blur, downscale to 6000 wide, sharpen) streamed, against the same
# chain run in memory (no single vips command runs such a chain).
#   benchmarks/stream_bench.sh [BUILD_DIR]
#
# The input is made once (kept in $STREAM_BENCH_DIR, default BUILD_DIR/stream-bench): the real
# photos benchmarks/fetch_photos.sh fetches (into $PHOTOS, default build/bench-photos) cut to
# 2000x2000 tiles and joined 8x8, without an ICC profile (with one, imgpipe converts it to sRGB
# as load() does, which vips gaussblur does not).
#
# Kernels: imgpipe's blur reaches ceil(3 sigma) = 6 pixels (13 taps, float); vips gaussblur
# stops where the Gaussian falls below min_ampl (default 0.2: 9 taps, fixed point for 8-bit).
# vips is timed at its default and with min_ampl 0.011, which gives it imgpipe's 13 taps.
# Neither writer optimises Huffman tables (that holds the whole image's coefficients).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build}
imgpipe="$build/tools/imgpipe/imgpipe"
images=${PHOTOS:-$root/build/bench-photos}
data=${STREAM_BENCH_DIR:-$build/stream-bench}
runs=${RUNS:-3}
timer=/usr/bin/time  # Debian package `time`: GNU time prints peak RSS (%M)
[ -x "$timer" ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
command -v vips > /dev/null || { echo "needs the vips command: apt-get install libvips-tools" >&2; exit 2; }
[ -x "$imgpipe" ] || { echo "no $imgpipe: build first" >&2; exit 2; }

mkdir -p "$data"
input="$data/input-16000.jpg"
if [ ! -f "$input" ]; then
  [ -f "$images/shell-5120x2880.jpg" ] || "$here/fetch_photos.sh" "$images" >&2
  echo "making $input ..."
  tiles=()
  i=0
  for photo in "$images"/*.jpg "$images"/*.png; do
    case "$photo" in *truncated*) continue ;; esac
    tile="$data/tile-$i.v"
    # Fill a 2000x2000 square from the middle of each photo; RGB only.
    vips thumbnail "$photo" "$data/t.v" 2000 --height 2000 --crop centre --size force
    vips extract_band "$data/t.v" "$tile" 0 --n 3
    tiles+=("$tile")
    i=$((i + 1))
  done
  rm -f "$data/t.v"
  list=()
  for n in $(seq 0 63); do list+=("${tiles[$((n % ${#tiles[@]}))]}"); done
  vips arrayjoin "${list[*]}" "$input[Q=90,strip]" --across 8
  rm -f "$data"/tile-*.v
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/blur.yml" << 'EOF'
performance: {max_pixels: 0}
chain:
  - gaussian_blur: {sigma: 2}
output: {quality: 90}
EOF
cat > "$work/chain.yml" << 'EOF'
performance: {max_pixels: 0}
chain:
  - gaussian_blur: {sigma: 1.2}
  - resize: {width: 6000}
  - sharpen: {amount: 0.6}
output: {quality: 90}
EOF

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $(vipsheader "$input"), $(( $(stat -c %s "$input") / 1000000 )) MB; $(vips --version)"
echo

measure() {  # name, command...: one line per run
  local name=$1
  shift
  for run in $(seq 1 "$runs"); do
    rm -f "$work/out.jpg"
    "$timer" -f '%e %M' -o "$work/time" "$@" > /dev/null
    read -r seconds kib < "$work/time"
    printf '%-34s %3d %9.2f %9.0f\n' "$name" "$run" "$seconds" "$((kib / 1024))"
  done
}

printf '%-34s %3s %9s %9s\n' "command" "run" "wall s" "peak MB"
measure "imgpipe run --stream" "$imgpipe" run "$work/blur.yml" "$input" "$work/out.jpg" --stream
measure "vips gaussblur 2" vips gaussblur "$input" "$work/out.jpg[Q=90]" 2
measure "vips gaussblur 2 --min-ampl 0.011" vips gaussblur "$input" "$work/out.jpg[Q=90]" 2 --min-ampl 0.011
measure "imgpipe chain --stream" "$imgpipe" run "$work/chain.yml" "$input" "$work/out.jpg" --stream
measure "imgpipe chain (in memory)" "$imgpipe" run "$work/chain.yml" "$input" "$work/out.jpg"
