#!/usr/bin/env bash
# Regenerates the before/after pictures of docs/effects.md: each effect run through the real
# imgpipe binary on a photo of the benchmark set (benchmarks/fetch_photos.sh fetches it from
# Debian's packages), written as small WebP files.
#   tools/make-effects-doc.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
imgpipe="$build/tools/imgpipe/imgpipe"
images=${PHOTOS:-$root/build/bench-photos}
[ -f "$images/fruits.jpg" ] || bash "$root/benchmarks/fetch_photos.sh" "$images"
out="$root/docs/effects"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# effect name | photo | chain steps (YAML flow list items after a 360 px resize)
effects=(
  "original|chelsea.png|"
  "enhanced_bw|chelsea.png|- enhanced_bw: {filter: red, clahe: 2.5, curve: 0.4, grain: 0.08}"
  "pop_art_grid|chelsea.png|- pop_art: {palette: warhol, grid: 2x2}"
  "pop_art_halftone|chelsea.png|- pop_art: {palette: pop, halftone: true, dot_size: 6}"
  "dither_floyd_steinberg|chelsea.png|- dither: {method: floyd_steinberg, levels: 2}"
  "dither_bayer8|chelsea.png|- dither: {method: bayer8, levels: 2}"
  "dither_palette|fruits.jpg|- dither: {method: atkinson, palette: \"#1a1c2c,#b13e53,#ef7d57,#ffcd75,#a7f070,#38b764,#257179,#f4f4f4\"}"
  "original_fruits|fruits.jpg|"
  "remove_background|coffee.png|- remove_background: {output: colour, background: \"#4060a0\", seed: frame}"
  "remove_background_saliency|coffee.png|- remove_background: {output: colour, background: \"#4060a0\"}"
  "original_coffee|coffee.png|"
  "vectorize_raster|fruits.jpg|- vectorize: {colors: 12}"
)
for entry in "${effects[@]}"; do
  IFS='|' read -r name photo step <<< "$entry"
  {
    echo "chain:"
    echo "  - resize: {max_side: 360}"
    [ -n "$step" ] && echo "  $step"
    echo "output: {format: webp, quality: 78}"
  } > "$work/$name.yaml"
  "$imgpipe" run "$work/$name.yaml" "$images/$photo" "$out/$name.webp"
done

# The SVG itself, rendered back to pixels by libvips (librsvg) for the page.
printf 'chain:\n  - resize: {max_side: 360}\noutput: {format: png}\n' > "$work/small.yaml"
"$imgpipe" run "$work/small.yaml" "$images/fruits.jpg" "$work/fruits-small.png"
"$imgpipe" vectorize "$work/fruits-small.png" -o "$out/vectorize.svg" --colors 12
vips copy "$out/vectorize.svg" "$out/vectorize_rendered.webp[Q=78]"
ls -l "$out"
