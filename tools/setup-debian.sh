#!/usr/bin/env bash
# Installs the Debian packages imgpipe needs. Idempotent: when everything is installed it
# changes nothing and does not touch the network. Run as root (or with sudo available).
#   tools/setup-debian.sh        everything: build, tests, benchmarks, sanitizers (tools/dev test)
#   tools/setup-debian.sh build  the library and the CLI only (tools/dev demo, tools/dev package)
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config
  libopencv-dev libvips-dev libtbb-dev libcli11-dev libfmt-dev libyaml-cpp-dev
  libwebp-dev libpng-dev liblcms2-dev libjpeg-dev zlib1g-dev nlohmann-json3-dev libxxhash-dev
  libcpp-httplib-dev  # imgpipe serve
  # fonts for text watermarks (rendered through Pango)
  fonts-dejavu-core
)

packages=(
  "${build_packages[@]}"
  git
  # the Debian packages (cpack -G DEB: dpkg-shlibdeps) and their test
  dpkg-dev
  # the man page and shell completion test (cli.reference)
  groff-base zsh
  # the Python module (tools/python) and its tests
  python3-dev pybind11-dev python3-pybind11 python3-pytest
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  libvips-tools imagemagick hyperfine python3 python3-opencv python3-numpy python3-onnx
  python3-fastapi python3-uvicorn python3-multipart  # the Python service serve_bench.py compares with
  time  # GNU time: peak RSS of whole commands in the benchmark scripts
  python3-matplotlib  # charts written by the benchmark scripts
  strace  # the CLI test that counts how often an input is opened
  clang-format  # the test that keeps the sources formatted (.clang-format)
  doxygen  # the API reference test (docs.api_reference)
  # OpenCL on the CPU (PoCL): the opencl.ops.* tests run the kernels' cv::UMat cases through it
  pocl-opencl-icd ocl-icd-opencl-dev
  # the sanitizer and fuzzing stages of `tools/dev test` (ASan, UBSan, TSan, libFuzzer)
  clang-14 libclang-rt-14-dev
)

# npm: tools/fetch-model downloads ISNet from the npm registry (the release test stage runs it).
# A Node.js that brings its own npm (NodeSource's nodejs package) conflicts with Debian's npm.
command -v npm >/dev/null || packages+=(npm)

case "${1:-all}" in
  all) ;;
  build) packages=("${build_packages[@]}") ;;
  *) echo "usage: tools/setup-debian.sh [all|build]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
