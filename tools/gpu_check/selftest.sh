#!/usr/bin/env bash
# The CTest cuda.gpu_check: `tools/gpu-check prepare` into a temporary folder (which must stay
# within the size limit), then `tools/gpu-check run` on it. Without a GPU the run must say why it
# skipped the device part; with one, every case must match the CPU.
#
#   selftest.sh REPO BUILD PHOTO
set -euo pipefail

repo=$1 build=$2 photo=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The CPU times are left out (--cpu-runs 0): they would double the time and are not checked.
if ! "$repo/tools/gpu-check" prepare "$work/pack" --build "$build" --source "$photo" --cpu-runs 0 \
  > "$work/prepare.log" 2>&1; then
  cat "$work/prepare.log"
  echo "FAILED: tools/gpu-check prepare"
  exit 1
fi
cat "$work/prepare.log"
mib=$(sed -n 's/^prepare wrote \([0-9.]*\) MiB.*/\1/p' "$work/prepare.log")
[[ -n $mib ]] || { echo "FAILED: prepare did not say how much it wrote"; exit 1; }
awk -v m="$mib" 'BEGIN { exit !(m <= 60) }' || { echo "FAILED: prepare wrote $mib MiB, over 60"; exit 1; }

status=0
"$repo/tools/gpu-check" run "$work/pack" --runs 3 > "$work/run.log" 2>&1 || status=$?
cat "$work/run.log"
if grep -q '^device part skipped: ..*' "$work/run.log"; then
  ((status == 0)) || { echo "FAILED: run skipped the device part but exited with $status"; exit 1; }
  echo "gpu-check: prepare held the size limit ($mib MiB); run skipped the device part with a reason"
elif ((status == 0)) && grep -q '^parity OK' "$work/run.log" && grep -q '^| kernel ' "$work/run.log"; then
  echo "gpu-check: prepare held the size limit ($mib MiB); every case matched the CPU"
else
  echo "FAILED: run exited with $status without a parity OK table or a reason to skip"
  exit 1
fi
