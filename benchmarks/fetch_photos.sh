#!/usr/bin/env bash
# The photos the benchmarks read (benchmarks/PHOTOS.md lists them), from Debian's packages:
# each package is fetched with `apt-get download` (no root needed) into a temporary folder and
# unpacked there with `dpkg -x`, and the files are copied under the names the scripts use;
# then the repository's own examples/images. A file already in DIR is kept, so a second run
# downloads nothing. Prints the folder.
#   benchmarks/fetch_photos.sh [DIR]          (default build/bench-photos)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${1:-$root/build/bench-photos}

skimage=usr/lib/python3/dist-packages/skimage/data
opencv=usr/share/doc/opencv-doc/examples/data
plasma=usr/share/wallpapers
# name in DIR | Debian package | path inside the package
photos=(
  "astronaut.png|python3-skimage|$skimage/astronaut.png"
  "coffee.png|python3-skimage|$skimage/coffee.png"
  "chelsea.png|python3-skimage|$skimage/chelsea.png"
  "rocket.jpg|python3-skimage|$skimage/rocket.jpg"
  "motorcycle_left.png|python3-skimage|$skimage/motorcycle_left.png"
  "hubble_deep_field.jpg|python3-skimage|$skimage/hubble_deep_field.jpg"
  "logo.png|python3-skimage|$skimage/logo.png"
  "chessboard_GRAY_U16.tif|python3-skimage|$skimage/chessboard_GRAY_U16.tif"
  "no_time_for_that_tiny.gif|python3-skimage|$skimage/no_time_for_that_tiny.gif"
  "truncated.jpg|python3-skimage|$skimage/truncated.jpg"
  "fruits.jpg|opencv-doc|$opencv/fruits.jpg"
  "baboon.jpg|opencv-doc|$opencv/baboon.jpg"
  "building.jpg|opencv-doc|$opencv/building.jpg"
  "starry_night.jpg|opencv-doc|$opencv/starry_night.jpg"
  "butterfly.jpg|opencv-doc|$opencv/butterfly.jpg"
  "opencv-logo-rgba.png|opencv-doc|$opencv/opencv-logo.png"
  "autumn-2560x1600.jpg|plasma-workspace-wallpapers|$plasma/Autumn/contents/images/2560x1600.jpg"
  "shell-5120x2880.jpg|plasma-workspace-wallpapers|$plasma/Shell/contents/images/5120x2880.jpg"
)

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The packages that hold a missing file, each once.
packages=()
for entry in "${photos[@]}"; do
  IFS='|' read -r name package _ <<< "$entry"
  [ -f "$dir/$name" ] && continue
  [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
done

if [ ${#packages[@]} -gt 0 ]; then
  if ! command -v apt-get > /dev/null || ! command -v dpkg > /dev/null; then
    echo "fetch_photos: needs apt-get and dpkg (Debian)" >&2; exit 1
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # As root apt drops to the _apt user, who cannot write into a private temporary folder.
  apt_options=()
  [ "$(id -u)" -ne 0 ] || apt_options=(-o APT::Sandbox::User=root)
  for package in "${packages[@]}"; do
    echo "fetch_photos: apt-get download $package" >&2
    (cd "$tmp" && apt-get "${apt_options[@]}" -qq download "$package")
    debs=("$tmp/${package}"_*.deb)
    [ -f "${debs[0]}" ] || { echo "fetch_photos: apt-get download $package gave no .deb" >&2; exit 1; }
    dpkg -x "${debs[0]}" "$tmp/$package"
    rm -f "${debs[@]}"
  done
  for entry in "${photos[@]}"; do
    IFS='|' read -r name package path <<< "$entry"
    [ -f "$dir/$name" ] && continue
    [ -f "$tmp/$package/$path" ] ||
      { echo "fetch_photos: $package has no $path (another version of the package?)" >&2; exit 1; }
    cp "$tmp/$package/$path" "$dir/.$name.tmp"
    mv "$dir/.$name.tmp" "$dir/$name"
  done
fi

# The repository's example images (the same files as their namesakes above).
for file in "$root"/examples/images/*; do
  [ -f "$dir/$(basename "$file")" ] || cp "$file" "$dir/"
done

echo "bench photos: $dir ($(find "$dir" -maxdepth 1 -type f ! -name '.*' | wc -l) files)"
