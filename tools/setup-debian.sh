#!/usr/bin/env bash
# Installs every Debian package imgpipe's build, tests and benchmarks need. Idempotent: when
# everything is installed it changes nothing and does not touch the network. Run as root
# (or with sudo available).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  libopencv-dev libvips-dev libtbb-dev libeigen3-dev libcli11-dev libfmt-dev libyaml-cpp-dev
  libwebp-dev libpng-dev libjpeg-dev zlib1g-dev nlohmann-json3-dev libxxhash-dev
  # the Python module (tools/python) and its tests
  python3-dev pybind11-dev python3-pybind11 python3-pytest
  # fonts for text watermarks (rendered through Pango)
  fonts-dejavu-core
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  libvips-tools imagemagick hyperfine python3 python3-opencv python3-numpy python3-onnx
  time  # GNU time: peak RSS of whole commands in the benchmark scripts
  strace  # the CLI test that counts how often an input is opened
  clang-format  # the test that keeps the sources formatted (.clang-format)
  # OpenCL on the CPU (PoCL): the opencl.ops.* tests run the kernels' cv::UMat cases through it
  pocl-opencl-icd ocl-icd-opencl-dev
  # the sanitizer and fuzzing stages of `tools/dev test` (ASan, UBSan, TSan, libFuzzer)
  clang-14 libclang-rt-14-dev
)

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
