#!/usr/bin/env bash
# Regenerates the pictures under docs/images/ with the real imgpipe binary, from the photos in
# examples/images/ only (so any clone can remake them):
#   docs/images/readme-strip.jpg      README: a photo and four results
#   docs/images/palette-variants.jpg  docs/palette.md: a photo recoloured with examples/palettes.json
#   docs/images/resize-fit.jpg        docs/yaml.md: resize into one box with each fit mode
# imgpipe makes every result; ImageMagick (convert-im6.q16) only labels them and joins them
# into strips.
#   tools/make-doc-pictures.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
imgpipe="$build/tools/imgpipe/imgpipe"
images="$root/examples/images"
palettes="$root/examples/palettes.json"
out="$root/docs/images"
im=convert-im6.q16
font=DejaVu-Sans
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
[ -x "$imgpipe" ] || { echo "make-doc-pictures: no $imgpipe; build first (tools/dev demo)" >&2; exit 2; }

# chain NAME PHOTO OUTPUT STEP...: runs the steps on examples/images/PHOTO and writes OUTPUT
# (PNG; "{variant}" in OUTPUT names each variant of a step that fans out).
chain() {
  local name=$1 photo=$2 output=$3
  shift 3
  {
    echo "chain:"
    for step in "$@"; do echo "  - $step"; done
    echo "output: {format: png}"
  } > "$work/$name.yaml"
  "$imgpipe" -q run "$work/$name.yaml" "$images/$photo" "$output"
}

# label IN OUT TEXT: TEXT in a white band under the picture, transparency flattened on white.
label() {
  "$im" "$1" -background white -flatten -gravity south -splice 0x26 -font "$font" -pointsize 14 \
    -fill '#222222' -annotate +0+5 "$3" "$2"
}

# strip OUT IN...: the pictures side by side with white gaps, as a JPEG.
strip() {
  local target=$1
  shift
  "$im" "$@" -background white -gravity north -bordercolor white -border 5 +append -border 5 \
    -strip -interlace none -sampling-factor 4:2:0 -quality 78 "$target"
}

# (a) README: original, a palette variation, pop art, enhanced B&W, dither. Every result is
# made at the size shown, so the dots of pop art and dither are the effect's own.
small="resize: {height: 200}"
chain original chelsea.png "$work/a-original.png" "$small"
chain palette chelsea.png "$work/a-palette-{variant}.png" "$small" "palette: {palettes: $palettes}"
chain pop_art chelsea.png "$work/a-pop_art.png" "$small" "pop_art: {palette: warhol, grid: 2x2}"
chain enhanced_bw chelsea.png "$work/a-enhanced_bw.png" "$small" \
  "enhanced_bw: {filter: red, clahe: 2.5, curve: 0.4}"
chain dither chelsea.png "$work/a-dither.png" "$small" \
  'dither: {method: atkinson, palette: "#1a1c2c,#5d275d,#b13e53,#ef7d57,#ffcd75,#a7f070,#38b764,#f4f4f4"}'
label "$work/a-original.png" "$work/l1.png" "original"
label "$work/a-palette-sunset.png" "$work/l2.png" "palette: sunset"
label "$work/a-pop_art.png" "$work/l3.png" "pop_art: warhol, 2x2"
label "$work/a-enhanced_bw.png" "$work/l4.png" "enhanced_bw: red filter"
label "$work/a-dither.png" "$work/l5.png" "dither: atkinson, 8 colours"
strip "$out/readme-strip.jpg" "$work"/l{1,2,3,4,5}.png

# (b) docs/palette.md: the photo and its three palettes of examples/palettes.json (k 10,
# lightness mapping: the defaults).
small="resize: {height: 240}"
chain variants chelsea.png "$work/b-{variant}.png" "$small" "palette: {palettes: $palettes}"
chain original240 chelsea.png "$work/b-original.png" "$small"
label "$work/b-original.png" "$work/m0.png" "original"
i=1
for name in sunset ocean forest; do
  label "$work/b-$name.png" "$work/m$i.png" "$name"
  i=$((i + 1))
done
strip "$out/palette-variants.jpg" "$work"/m{0,1,2,3}.png

# (c) docs/yaml.md: rocket.jpg (640x427) into a 200x200 box with each fit mode; each result
# is shown on a grey square the size of the box, so what inside leaves free shows.
box=200
for fit in inside cover fill exact; do
  chain "fit-$fit" rocket.jpg "$work/c-$fit.png" \
    "resize: {width: $box, height: $box, fit: $fit, background: \"#f4b400\"}"
  "$im" "$work/c-$fit.png" -background '#d8d8d8' -gravity center -extent "${box}x${box}" \
    "$work/c-$fit-box.png"
  label "$work/c-$fit-box.png" "$work/c-$fit-label.png" "fit: $fit"
done
strip "$out/resize-fit.jpg" "$work"/c-{inside,cover,fill,exact}-label.png

ls -l "$out"/readme-strip.jpg "$out"/palette-variants.jpg "$out"/resize-fit.jpg
