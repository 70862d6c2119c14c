#!/usr/bin/env bash
# Builds m4_selftest for Cortex-M4 (-O2, DSP extension) and runs it under qemu mps2-an386.
#   run.sh <work-dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-$root/build/m4-selftest}
mkdir -p "$out"
# Every kernel, as the default firmware build links them (node_firmware/runtime/CMakeLists.txt).
for f in "$root"/node_firmware/runtime/kernels/*.cpp; do
  echo "TINYEDGE_KERNEL($(basename "$f" .cpp))"
done >"$out/tinyedge_kernels.inc"
arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -O2 -std=c++20 -fno-exceptions -fno-rtti \
  -Wall -Wextra -Werror -I"$root" -I"$out" "$here/m4_selftest.cpp" "$root"/node_firmware/runtime/*.cpp \
  "$root"/node_firmware/runtime/kernels/*.cpp "$root/tests/runtime/tiny_model_tem.cpp" "$here/vectors.cpp" \
  -specs=rdimon.specs -T "$here/link.ld" -o "$out/m4_selftest.elf"
log=$(timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native \
  -kernel "$out/m4_selftest.elf" 2>&1 || true)
echo "$log"
grep -q "RESULT PASS" <<<"$log"
