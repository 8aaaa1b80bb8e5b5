#!/usr/bin/env bash
# Progressive preview: how much sooner the draft (`imgpipe run … --preview FILE`) arrives than
# the output, for four chains on four photos of different sizes. The draft's time is the one
# `-v` prints for it (decode, chain, encode and write of the draft, in a --preview run); the
# output's is the `run` scope of `--profile` in a run without --preview. Median of RUNS each.
#   benchmarks/preview_bench.sh [BUILD_DIR]          (default build/)
# Environment: RUNS (5), PHOTOS (../shared/images), BENCH_WORK (BUILD_DIR/preview-bench).
# Prints a Markdown table (docs/quality.md, "Progressive preview").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
imgpipe="$build/tools/imgpipe/imgpipe"
photos=${PHOTOS:-$root/../shared/images}
work=${BENCH_WORK:-$build/preview-bench}
runs=${RUNS:-5}
[ -x "$imgpipe" ] || { echo "build imgpipe first: $imgpipe" >&2; exit 1; }
mkdir -p "$work"
cd "$work"

cat > tone.yaml <<'EOF'
chain:
  - adjust_colors: {brightness: 1.05, contrast: 1.15, saturation: 1.2}
output: {format: webp, quality: 85}
EOF
cat > look.yaml <<'EOF'
chain:
  - adjust_colors: {brightness: 1.05, contrast: 1.15, saturation: 1.2}
  - sharpen: {amount: 0.4}
output: {format: jpeg, quality: 90}
EOF
cat > web.yaml <<'EOF'
chain:
  - resize: {width: 1200, height: 1200, fit: inside}
  - adjust_colors: {brightness: 1.05, contrast: 1.1, saturation: 1.1}
  - sharpen: {amount: 0.3}
output: {format: webp, quality: 85}
EOF
cat > poster.yaml <<'EOF'
chain:
  - palette: {colors: '{"sea": ["#1d3557", "#457b9d", "#a8dadc", "#f1faee", "#e63946"]}', k: 8}
output: {format: png}
EOF

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| photo | chain | draft ms | output ms | output / draft |"
echo "|---|---|---:|---:|---:|"
for photo in shell-5120x2880.jpg autumn-2560x1600.jpg hubble_deep_field.jpg starry_night.jpg; do
  for chain in tone look web poster; do
    ext=$(grep -o "format: [a-z]*" "$chain.yaml" | tail -1 | cut -d' ' -f2)
    draft=$(for _ in $(seq "$runs"); do
      "$imgpipe" -v run "$chain.yaml" "$photos/$photo" "out.$ext" --preview "preview.$ext" 2>&1 |
        grep "wrote preview" | grep -o "in [0-9.]* ms" | grep -o "[0-9.]*"
    done | median)
    output=$(for _ in $(seq "$runs"); do
      "$imgpipe" run "$chain.yaml" "$photos/$photo" "out.$ext" --profile 2>&1 | awk '$1=="run" {print $3}'
    done | median)
    awk -v p="$photo" -v c="$chain" -v d="$draft" -v o="$output" \
      'BEGIN {printf "| %s | %s | %.0f | %.0f | %.1f |\n", p, c, d, o, o / d}'
  done
done
