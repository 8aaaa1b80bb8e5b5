#!/usr/bin/env bash
# Batch throughput: 40 JPEG photos of 2048x1536 (q90, made once with the vips CLI from the photos
# benchmarks/fetch_photos.sh fetches) through resize (inside 1200x800) -> brightness 1.1 / contrast 1.2 -> unsharp mask sigma 1
# amount 0.3 -> text watermark -> WebP q85 method 4, by `imgpipe batch` and by its peers in the
# same run: sharp (2 images in flight), the vips CLI (two worker processes), Python/OpenCV (two
# processes), and the floor (JPEG decode + WebP encode alone). Then imgpipe's throughput against
# --jobs at 512 and 1024 px output long side. Images/second and peak RSS (GNU time), median of
# RUNS runs. The figures also go to BENCH_WORK/batch.json, and benchmarks/charts.py draws them
# (CHARTS/batch.png).
#   benchmarks/batch_bench.sh [BUILD_DIR]            (default build/)
# Environment: RUNS (3), BENCH_WORK (BUILD_DIR/batch-bench: photos, sharp's node_modules, outputs),
# SKIP_IMGPIPE=1 (peers and floor only), PHOTOS (build/bench-photos: the fetched photos),
# CHARTS (docs/images; CHARTS=none: no chart).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

# --- one vips CLI worker: every WORKERS-th JPEG of IN_DIR, starting at WORKER -------------------
# The vips CLI runs one operation per process, so the chain is four processes per image with the
# intermediates in libvips's own uncompressed format (.v, memory-mapped). The watermark is
# rendered once per worker; every input has the same size, so its position is computed once.
if [ "${1:-}" = "--vips-worker" ]; then
  in_dir=$2 out_dir=$3 box_w=$4 box_h=$5 worker=$6 workers=$7
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  mapfile -t files < <(cd "$in_dir" && ls -1 -- *.jpg | sort)
  x="" y=""
  for (( i = worker; i < ${#files[@]}; i += workers )); do
    name=${files[$i]}
    vips thumbnail "$in_dir/$name" "$tmp/t.v" "$box_w" --height "$box_h" --size down
    if [ -z "$x" ]; then
      w=$(vipsheader -f width "$tmp/t.v"); h=$(vipsheader -f height "$tmp/t.v")
      text_h=$(( (4 * (w < h ? w : h) + 50) / 100 ))
      vips text "$tmp/mark.v" '<span foreground="white" fgalpha="60%">© imgpipe</span>' \
        --font "DejaVu Sans ${text_h}px" --rgba
      x=$(( w - 16 - $(vipsheader -f width "$tmp/mark.v") ))
      y=$(( h - 16 - $(vipsheader -f height "$tmp/mark.v") ))
    fi
    vips linear --uchar -- "$tmp/t.v" "$tmp/l.v" 1.32 -25.5  # "--": -25.5 is not an option
    vips sharpen "$tmp/l.v" "$tmp/s.v" --sigma 1 --x1 2 --m1 0.3 --m2 0.3 --y2 1000 --y3 1000
    vips composite2 "$tmp/s.v" "$tmp/mark.v" "$out_dir/${name%.*}.webp[Q=85,effort=4,strip]" over \
      --x "$x" --y "$y"
  done
  exit 0
fi

build=${1:-$root/build}
build=$(cd "$build" && pwd)
imgpipe="$build/tools/imgpipe/imgpipe"
sources=${PHOTOS:-$root/build/bench-photos}
work=${BENCH_WORK:-$build/batch-bench}
charts=${CHARTS:-$root/docs/images}
runs=${RUNS:-3}
py=/usr/bin/python3
skip_imgpipe=${SKIP_IMGPIPE:-0}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# --- tools --------------------------------------------------------------------------------------
# GNU time, the vips CLI and python3-opencv come from tools/setup-debian.sh; sharp needs
# Node.js >= 20.9 with npm (on the machine, or from nodejs.org's packages: Debian 12 has 18).
have_debian_tools() {
  [ -x /usr/bin/time ] && command -v vips >/dev/null && "$py" -c 'import cv2' 2>/dev/null
}
have_debian_tools || "$root/tools/setup-debian.sh"
have_debian_tools || { echo "missing: GNU time (/usr/bin/time), vips or python3-opencv" >&2; exit 1; }
if ! { command -v node >/dev/null && command -v npm >/dev/null &&
        node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; }; then
  echo "sharp needs Node.js >= 20.9 with npm" >&2; exit 1
fi
if [ "$skip_imgpipe" != 1 ]; then
  [ -x "$imgpipe" ] || { echo "build imgpipe first: $imgpipe" >&2; exit 1; }
  "$imgpipe" batch --help >/dev/null 2>&1 || { echo "$imgpipe has no batch command" >&2; exit 1; }
fi
# sharp from the npm registry (its prebuilt libvips comes inside the @img/sharp-* packages), into
# the work folder, once per version of package.json.
sharp_dir="$work/sharp"
if ! cmp -s "$here/sharp/package.json" "$sharp_dir/package.json" || [ ! -d "$sharp_dir/node_modules/sharp" ]; then
  mkdir -p "$sharp_dir"
  cp "$here/sharp/package.json" "$sharp_dir/package.json"
  (cd "$sharp_dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
cp "$here/sharp/batch.js" "$sharp_dir/batch.js"

# --- the photos ---------------------------------------------------------------------------------
# cover SRC OUT W H ZOOM FX FY [flip]: scale SRC to cover WxH times ZOOM, cut WxH at fraction
# (FX, FY) of the slack, optionally mirror it. OUT may carry vips save options ("x.jpg[Q=90]").
cover() {
  local src=$1 out=$2 tw=$3 th=$4 zoom=$5 fx=$6 fy=$7 flip=${8:-}
  local sw sh scale rw rh t="${out%%[*}.tmp.v"
  sw=$(vipsheader -f width "$src"); sh=$(vipsheader -f height "$src")
  scale=$(awk -v a="$tw" -v b="$sw" -v c="$th" -v d="$sh" -v z="$zoom" \
    'BEGIN { s = a / b; if (c / d > s) s = c / d; printf "%.6f", s * z + 0.0005 }')
  vips resize "$src" "$t" "$scale"
  rw=$(vipsheader -f width "$t"); rh=$(vipsheader -f height "$t")
  local left top
  left=$(awk -v s=$(( rw - tw )) -v f="$fx" 'BEGIN { printf "%d", s * f }')
  top=$(awk -v s=$(( rh - th )) -v f="$fy" 'BEGIN { printf "%d", s * f }')
  if [ -n "$flip" ]; then
    vips extract_area "$t" "${t%.v}2.v" "$left" "$top" "$tw" "$th"
    vips flip "${t%.v}2.v" "$out" horizontal
    rm -f "${t%.v}2.v"
  else
    vips extract_area "$t" "$out" "$left" "$top" "$tw" "$th"
  fi
  rm -f "$t"
}

# 40 photos: 10 crops of the 5120x2880 wallpaper and 10 of the 2560x1600 one at several zooms
# and offsets, and 20 mosaics of four 1024x768 tiles cut from the smaller real photos, each
# mosaic a different combination and offset. All 2048x1536, JPEG q90.
make_photos() {
  local dir=$1 small=(hubble_deep_field.jpg rocket.jpg motorcycle_left.png coffee.png chelsea.png
    astronaut.png baboon.jpg building.jpg starry_night.jpg fruits.jpg butterfly.jpg)
  local zooms=(1.0 1.15 1.3) i k flip fx fy
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  for (( i = 0; i < 40; i++ )); do
    local out
    out=$(printf '%s/photo-%02d.jpg' "$dir.tmp" "$i")
    flip=""; (( i % 3 == 2 )) && flip=1
    fx=$(awk -v i="$i" 'BEGIN { printf "%.3f", ((i * 7) % 11) / 10 }')
    fy=$(awk -v i="$i" 'BEGIN { printf "%.3f", ((i * 5) % 9) / 8 }')
    case $(( i % 4 )) in
      0) cover "$sources/shell-5120x2880.jpg" "${out}[Q=90,strip]" 2048 1536 \
           "$(awk -v i="$i" 'BEGIN { printf "%.2f", 1 + ((i / 4) % 3) * 0.35 }')" "$fx" "$fy" $flip ;;
      1) cover "$sources/autumn-2560x1600.jpg" "${out}[Q=90,strip]" 2048 1536 \
           "${zooms[$(( (i / 4) % 3 ))]}" "$fx" "$fy" $flip ;;
      *) local tiles=()
         for (( k = 0; k < 4; k++ )); do
           local src=${small[$(( (i * 3 + k * 5) % ${#small[@]} ))]}
           cover "$sources/$src" "$dir.tmp/tile$k.v" 1024 768 "${zooms[$(( (i + k) % 3 ))]}" \
             "$(awk -v i="$i" -v k="$k" 'BEGIN { printf "%.3f", ((i + 3 * k) % 5) / 4 }')" \
             "$(awk -v i="$i" -v k="$k" 'BEGIN { printf "%.3f", ((2 * i + k) % 5) / 4 }')" $flip
           tiles+=("$dir.tmp/tile$k.v")
         done
         vips arrayjoin "${tiles[*]}" "${out}[Q=90,strip]" --across 2
         rm -f "${tiles[@]}" ;;
    esac
  done
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
}
photos="$work/photos"
if [ "$(ls "$photos" 2>/dev/null | wc -l)" -ne 40 ]; then
  [ -f "$sources/shell-5120x2880.jpg" ] || "$here/fetch_photos.sh" "$sources" >&2
  echo "making 40 photos of 2048x1536 in $photos ..."
  make_photos "$photos"
fi

# --- measuring ----------------------------------------------------------------------------------
results="$work/results.tsv"   # name  jobs  run  wall_s  rss_kb  cpu_s  (one line per run)
: > "$results"
fresh() { rm -rf "$work/out"; mkdir -p "$work/out"; }

# measure NAME JOBS RUN SIZE COMMAND...: one process, GNU time's wall seconds, peak RSS and CPU
# seconds (user + system: less disturbed than wall time when something else runs on the machine).
measure() {
  local name=$1 jobs=$2 run=$3 size=$4 wall rss user sys; shift 4
  fresh
  /usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" "$@" > "$work/stdout.txt" 2> "$work/stderr.txt" ||
    { echo "$name failed:" >&2; cat "$work/stderr.txt" >&2; exit 1; }
  check_outputs "$name" "$size"
  read -r wall rss user sys < <(tail -n1 "$work/time.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$jobs" "$run" "$wall" "$rss" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" >> "$results"
}

# measure_pair NAME RUN SIZE COMMAND...: the command twice at once, with "{W}" replaced by 0 and
# 1; wall from the start until both have finished, peak RSS and CPU seconds summed over the two.
measure_pair() {
  local name=$1 run=$2 size=$3 start end pids=() w; shift 3
  fresh
  start=$(date +%s.%N)
  for w in 0 1; do
    /usr/bin/time -f '%e %M %U %S' -o "$work/time$w.txt" "${@//\{W\}/$w}" > "$work/stdout$w.txt" 2> "$work/stderr$w.txt" &
    pids+=($!)
  done
  for w in 0 1; do
    wait "${pids[$w]}" || { echo "$name worker $w failed:" >&2; cat "$work/stderr$w.txt" >&2; exit 1; }
  done
  end=$(date +%s.%N)
  check_outputs "$name" "$size"
  tail -qn1 "$work/time0.txt" "$work/time1.txt" | awk -v n="$name" -v r="$run" -v a="$start" -v b="$end" \
    '{ rss += $2; cpu += $3 + $4 } END { printf "%s\t2\t%s\t%.3f\t%d\t%.2f\n", n, r, b - a, rss, cpu }' >> "$results"
}

# check_outputs NAME SIZE: the run wrote 40 WebPs, the first of them SIZE (WxH).
check_outputs() {
  local n size
  n=$(ls "$work/out"/*.webp 2>/dev/null | wc -l)
  [ "$n" -eq 40 ] || { echo "$1: wrote $n WebPs, expected 40" >&2; exit 1; }
  size="$(vipsheader -f width "$work/out/photo-00.webp")x$(vipsheader -f height "$work/out/photo-00.webp")"
  [ "$size" = "$2" ] || { echo "$1: output is $size, expected $2" >&2; exit 1; }
  echo "  $1: 40 WebPs of $size, $(du -sk "$work/out" | cut -f1) KB"
}

chain_file() {  # chain_file FILE RESIZE_STEP TEXT_HEIGHT
  cat > "$1" <<YAML
chain:
  - resize: $2
  - adjust_colors: {brightness: 1.1, contrast: 1.2}
  - sharpen: {amount: 0.3, radius: 1}
  - watermark: {text: "© imgpipe", size: $3, opacity: 0.6, position: bottom-right, margin: 16}
output: {format: webp, quality: 85, method: 4}
YAML
}
chain_file "$work/chain-1200x800.yaml" "{width: 1200, height: 800, fit: inside}" 32
chain_file "$work/chain-1024.yaml" "{max_side: 1024}" 31
chain_file "$work/chain-512.yaml" "{max_side: 512}" 15

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ { print $2 }') GiB"
echo "vips $(vips --version | cut -d- -f2), node $(node --version), sharp $(node -p "require('$sharp_dir/node_modules/sharp/package.json').version"), OpenCV $("$py" -c 'import cv2; print(cv2.__version__)')"
echo "input: 40 JPEG q90 2048x1536 ($(du -sk "$photos" | cut -f1) KB), $runs runs each, median"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load_before (anything else running shows in wall times)"
echo

# The floor at each output size: CPU time of decoding at the size actually decoded + encoding
# the output (batch_reference.py floor), one single-threaded process per core at once, so that
# the cores slow each other down as they do for the tools.
cores=$(nproc)
for size in 1200x800 1024x1024 512x512; do
  for (( w = 0; w < cores; w++ )); do
    "$py" "$here/batch_reference.py" floor "$photos" "${size%x*}" "${size#*x}" "$w" "$cores" \
      > "$work/floor-$size-$w.json" &
  done
  wait
done

# Each run measures every tool once, so that anything else running on the machine for a while
# spreads over all of them rather than hitting one tool's runs.
for (( run = 1; run <= runs; run++ )); do
  echo "run $run of $runs"
  if [ "$skip_imgpipe" != 1 ]; then
    for jobs in 1 2; do
      measure "imgpipe batch" "$jobs" "$run" 1067x800 "$imgpipe" batch "$work/chain-1200x800.yaml" \
        --input "$photos" --output "$work/out" --jobs "$jobs" --no-cache -q
    done
  fi
  measure "sharp" 2 "$run" 1067x800 node "$sharp_dir/batch.js" "$photos" "$work/out" 1200 800 2
  measure_pair "vips CLI" "$run" 1067x800 \
    env VIPS_CONCURRENCY=1 bash "$0" --vips-worker "$photos" "$work/out" 1200 800 "{W}" 2
  measure_pair "Python/OpenCV" "$run" 1067x800 \
    "$py" "$here/batch_reference.py" chain "$photos" "$work/out" 1200 800 "{W}" 2
  if [ "$skip_imgpipe" != 1 ]; then
    for side in 512 1024; do
      for jobs in 1 2 4; do
        measure "imgpipe $side px" "$jobs" "$run" "${side}x$(( side * 3 / 4 ))" "$imgpipe" batch \
          "$work/chain-$side.yaml" --input "$photos" --output "$work/out" --jobs "$jobs" --no-cache -q
      done
    done
  fi
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average after: $load_after"
echo
cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
"$py" - "$results" "$work" "$(nproc)" "$runs" "$cpu_model" "$load_before" "$load_after" <<'PY'
import datetime, json, statistics, sys
from collections import defaultdict
results, work, cores, n_runs, cpu_model, load_before, load_after = sys.argv[1:8]
cores, n_runs = int(cores), int(n_runs)
images = 40
figures = {"benchmark": "batch", "date": datetime.date.today().isoformat(), "cores": cores,
           "cpu": cpu_model, "runs": n_runs, "load_before": load_before, "load_after": load_after,
           "images": images, "input": "40 JPEG q90 2048x1536",
           "chain": "resize inside 1200x800, adjust_colors, sharpen, watermark, WebP q85 method 4",
           "tools": [], "jobs": []}
runs = defaultdict(list)
for line in open(results):
    name, jobs, _, wall, rss, cpu = line.rstrip("\n").split("\t")
    runs[(name, int(jobs))].append((float(wall), int(rss), float(cpu)))

def floor(size):
    """The floor: its images/second with every core busy (the sum of the per-core processes'
    rates), and its mean decode and encode CPU seconds per image."""
    parts = [json.load(open(f"{work}/floor-{size}-{w}.json")) for w in range(cores)]
    n = sum(p["images"] for p in parts)
    f = dict(parts[0], images=n, decode_s=sum(p["decode_s"] for p in parts),
             encode_s=sum(p["encode_s"] for p in parts))
    rate = sum(p["images"] / (p["decode_s"] + p["encode_s"]) for p in parts)
    return f, rate

def row(key):
    """Median img/s, slowest and fastest img/s, median peak RSS MB, median CPU ms per image."""
    walls = [w for w, _, _ in runs[key]]
    rss = statistics.median(r for _, r, _ in runs[key]) / 1024
    cpu = statistics.median(c for _, _, c in runs[key]) * 1000 / images
    return images / statistics.median(walls), images / max(walls), images / min(walls), rss, cpu

f, floor_rate = floor("1200x800")
per_image = (f["decode_s"] + f["encode_s"]) / f["images"]
main = [k for k in runs if k[0] in ("imgpipe batch", "sharp", "vips CLI", "Python/OpenCV")]
peers = [k for k in main if k[0] != "imgpipe batch"]
fastest = max(row(k)[0] for k in peers)
print("chain: resize inside 1200x800 -> brightness 1.1, contrast 1.2 -> sharpen 0.3 -> watermark -> WebP q85 method 4")
print(f"{'tool':14} {'jobs':>4} {'img/s':>6} {'(min-max)':>11} {'peak RSS MB':>11} {'CPU ms/img':>10} "
      f"{'/ fastest peer':>14} {'/ floor':>7} {'CPU / floor CPU':>15}")
for k in main:
    rate, lo, hi, rss, cpu = row(k)
    print(f"{k[0]:14} {k[1]:4} {rate:6.2f} {lo:5.2f}-{hi:<5.2f} {rss:11.0f} {cpu:10.0f} "
          f"{rate / fastest:14.2f} {rate / floor_rate:7.2f} {cpu / (per_image * 1000):15.2f}")
    figures["tools"].append({"tool": k[0], "jobs": k[1], "images_per_s": rate, "images_per_s_min": lo,
                             "images_per_s_max": hi, "peak_rss_mb": rss, "cpu_ms_per_image": cpu})
figures["floor"] = {"jobs": cores, "images_per_s": floor_rate, "cpu_ms_per_image": per_image * 1000}
print(f"{'floor':14} {cores:4} {floor_rate:6.2f} {'':11} {'':11} {per_image * 1000:10.0f} "
      f"{floor_rate / fastest:14.2f} {1:7.2f} {1:15.2f}")
print()
print(f"floor: {f['images']} JPEGs decoded from memory at {f['decoded_size']} (the size the output needs): "
      f"{f['decode_s'] * 1000 / f['images']:.1f} ms CPU each; the {f['output_size']} WebP q85 method 4 encoded to")
print(f"memory: {f['encode_s'] * 1000 / f['images']:.1f} ms CPU each. OpenCV -> Debian's libjpeg-turbo and libwebp in "
      f"single-threaded processes; no resize, no chain, no file I/O.")
print(f"floor img/s: {cores} such processes at once, one per core, their images/CPU second added up.")
print("img/s: median of the runs (slowest-fastest). When other programs use the machine, the fastest run")
print("is the closest to a tool's own speed; CPU ms/img (user + system) is the least disturbed figure.")

scaled = [k for k in runs if k[0].startswith("imgpipe ") and k[0].endswith(" px")]
if scaled:
    print()
    print("imgpipe batch against --jobs (the same chain with resize max_side):")
    print(f"{'output':>9} {'jobs':>4} {'img/s':>6} {'(min-max)':>11} {'peak RSS MB':>11} {'CPU ms/img':>10} {'/ floor':>7}")
    for side in (512, 1024):
        f, side_floor = floor(f"{side}x{side}")
        per_image = (f["decode_s"] + f["encode_s"]) / f["images"]
        for k in [k for k in scaled if k[0] == f"imgpipe {side} px"]:
            rate, lo, hi, rss, cpu = row(k)
            print(f"{side:>6} px {k[1]:4} {rate:6.2f} {lo:5.2f}-{hi:<5.2f} {rss:11.0f} {cpu:10.0f} "
                  f"{rate / side_floor:7.2f}")
            figures["jobs"].append({"side": side, "jobs": k[1], "images_per_s": rate, "peak_rss_mb": rss,
                                    "cpu_ms_per_image": cpu, "floor_images_per_s": side_floor})
        print(f"{side:>6} px floor {side_floor:6.2f} {'':11} {'':11} {per_image * 1000:10.0f}"
              f"    (decode at {f['decoded_size']}: {f['decode_s'] * 1000 / f['images']:.1f} ms CPU, "
              f"encode {f['output_size']}: {f['encode_s'] * 1000 / f['images']:.1f} ms CPU)")
with open(f"{work}/batch.json", "w") as f:
    json.dump(figures, f, indent=1)
PY
echo
echo "figures: $work/batch.json"
[ "$charts" = none ] || "$py" "$here/charts.py" batch "$work/batch.json" --out "$charts"
