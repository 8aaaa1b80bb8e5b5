#!/usr/bin/env bash
# Time against image size: single operations through `imgpipe run` on one photo
# (shell-5120x2880.jpg of the benchmark photos) scaled to 0.5, 1, 2, 4, 8 and 16 megapixels
# (`vips resize`, JPEG q90, 16:9), JPEG q90 out. Each (operation, size) is timed whole by
# hyperfine (best of RUNS, after one warm-up run), then RUNS times more with --profile-json for
# the time of the step alone (without decode and encode; the fastest run's). "decode + encode"
# is the empty chain.
# The figures go to BENCH_WORK/sizes.csv, and benchmarks/charts.py draws them (CHARTS/sizes.png).
#   benchmarks/size_bench.sh [BUILD_DIR]            (default build/)
# Environment: RUNS (3), SIZES (megapixels, "0.5 1 2 4 8 16"), BENCH_WORK (BUILD_DIR/size-bench:
# inputs, chain files, outputs), PHOTOS (build/bench-photos), CHARTS (docs/images; none: no chart).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build}
build=$(cd "$build" && pwd)
imgpipe="$build/tools/imgpipe/imgpipe"
photos=${PHOTOS:-$root/build/bench-photos}
work=${BENCH_WORK:-$build/size-bench}
charts=${CHARTS:-$root/docs/images}
runs=${RUNS:-3}
read -r -a sizes <<< "${SIZES:-0.5 1 2 4 8 16}"
py=/usr/bin/python3
source_photo="$photos/shell-5120x2880.jpg"

[ -x "$imgpipe" ] || { echo "build imgpipe first: $imgpipe" >&2; exit 1; }
command -v hyperfine > /dev/null || { echo "hyperfine missing: tools/setup-debian.sh" >&2; exit 1; }
command -v vips > /dev/null || { echo "the vips command is missing: tools/setup-debian.sh" >&2; exit 1; }
[ -f "$source_photo" ] || "$here/fetch_photos.sh" "$photos" >&2
mkdir -p "$work/out"
work=$(cd "$work" && pwd)

# name | chain steps (YAML flow items; none for the empty chain)
operations=(
  "decode + encode|"
  "resize to half|resize: {scale: 0.5}"
  "gaussian_blur σ 2|gaussian_blur: {sigma: 2}"
  "sharpen|sharpen: {amount: 0.5, radius: 1}"
  "adjust_colors|adjust_colors: {brightness: 1.1, contrast: 1.2, saturation: 1.1}"
  "palette, one palette|palette: {colors: \"#1d3557,#457b9d,#a8dadc,#f1faee\", name: sea}"
  "pop_art|pop_art: {palette: warhol}"
)

# The inputs, made once: the photo scaled to each size (upscaled for 16 MP: it has 14.7).
src_w=$(vipsheader -f width "$source_photo"); src_h=$(vipsheader -f height "$source_photo")
for mp in "${sizes[@]}"; do
  input="$work/input-${mp}mp.jpg"
  [ -f "$input" ] && continue
  scale=$(awk -v mp="$mp" -v w="$src_w" -v h="$src_h" 'BEGIN { printf "%.6f", sqrt(mp * 1e6 / (w * h)) }')
  vips resize "$source_photo" "$input.tmp.jpg[Q=90,strip]" "$scale"
  mv "$input.tmp.jpg" "$input"
done

# One chain file per operation.
for i in "${!operations[@]}"; do
  step=${operations[$i]#*|}
  {
    if [ -z "$step" ]; then echo "chain: []"; else printf 'chain:\n  - %s\n' "$step"; fi
    echo "output: {format: jpeg, quality: 90}"
  } > "$work/chain-$i.yaml"
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
echo "machine: $(nproc) cores, $cpu_model; load average before: $load_before"
echo "input: $(basename "$source_photo") scaled to ${sizes[*]} MP (JPEG q90), JPEG q90 out; best of $runs"
echo

csv="$work/sizes.csv"
{
  echo "# machine: $(nproc) cores, $cpu_model"
  echo "# date: $(date +%F)"
  echo "# runs: $runs"
  echo "# load_before: $load_before"
  echo "operation,megapixels,width,height,wall_best_s,wall_mean_s,decode_ms,step_ms,encode_ms"
} > "$csv.tmp"
printf '%-22s %6s %11s %10s %10s %9s %9s\n' operation MP size "best s" "mean s" "step ms" "codec ms"
for i in "${!operations[@]}"; do
  name=${operations[$i]%%|*}
  for mp in "${sizes[@]}"; do
    input="$work/input-${mp}mp.jpg"
    size="$(vipsheader -f width "$input")x$(vipsheader -f height "$input")"
    rm -f "$work/out"/* "$work"/profile-*.json
    hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$work/time.json" \
      "$imgpipe -q run $work/chain-$i.yaml $input $work/out/out.jpg" > /dev/null
    for (( run = 1; run <= runs; run++ )); do
      "$imgpipe" -q run "$work/chain-$i.yaml" "$input" "$work/out/out.jpg" --profile-json "$work/profile-$run.json"
    done
    "$py" - "$work/time.json" "$name" "$mp" "$size" "$work"/profile-*.json >> "$csv.tmp" <<'PY'
import json, sys
timing = json.load(open(sys.argv[1]))["results"][0]
name, mp, size = sys.argv[2:5]
best = None
for path in sys.argv[5:]:  # the profiled run with the fastest step (of the runs, the least disturbed)
    ms = {"decode": 0.0, "step": 0.0, "encode": 0.0}
    for run in json.load(open(path))["scopes"]:
        for scope in run["children"]:
            part = "step" if scope["name"].startswith("step ") else scope["name"]
            if part in ms:
                ms[part] += scope["total_ms"]
    key = ms["step"] if ms["step"] else ms["decode"] + ms["encode"]
    if best is None or key < best[0]:
        best = (key, ms)
ms = best[1]
width, height = size.split("x")
print(f'"{name}",{mp},{width},{height},{min(timing["times"]):.4f},{timing["mean"]:.4f},'
      f'{ms["decode"]:.1f},{ms["step"]:.1f},{ms["encode"]:.1f}')
PY
    tail -n1 "$csv.tmp" | "$py" -c '
import csv, sys
r = next(csv.reader(sys.stdin))
size = r[2] + "x" + r[3]
print(f"{r[0]:22} {r[1]:>6} {size:>11} {float(r[4]):10.3f} {float(r[5]):10.3f} "
      f"{float(r[7]):9.1f} {float(r[6]) + float(r[8]):9.1f}")'
  done
done
echo "# load_after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$csv.tmp"
mv "$csv.tmp" "$csv"
echo
echo "best s: the whole process (start, decode, the step, encode, write); step ms: the step alone"
echo "(the fastest of $runs more runs with --profile-json); codec ms: that run's decode + encode."
echo "figures: $csv"
[ "$charts" = none ] || "$py" "$here/charts.py" sizes "$csv" --out "$charts"
