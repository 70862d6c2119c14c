#!/usr/bin/env bash
# Cortex-M4 (-Os, Thumb-2) code size of the runtime a node links: probe.cpp with and without the
# runtime, linked with --gc-sections against Debian's newlib (nosys), compared with arm-none-eabi-size.
#   tests/bench/m4_size/m4_code_size.sh [build-dir]   (default: build/m4-size)
# KERNELS="conv_2d softmax ..." links only those kernels (as a firmware's TINYEDGE_KERNELS does);
# default: every kernels/*.cpp.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
out=${1:-$root/build/m4-size}
mkdir -p "$out"
flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti
       -fno-threadsafe-statics -std=c++20 -DNDEBUG -I"$root" -I"$out")
kernels=${KERNELS:-$(for f in "$root"/node_firmware/runtime/kernels/*.cpp; do basename "$f" .cpp; done)}
srcs=("$root"/node_firmware/runtime/*.cpp)
: >"$out/tinyedge_kernels.inc"
for k in $kernels; do
  srcs+=("$root/node_firmware/runtime/kernels/$k.cpp")
  echo "TINYEDGE_KERNEL($k)" >>"$out/tinyedge_kernels.inc"
done
printf 'extern "C" { alignas(4) extern const unsigned char tem_blob[4] = {0}; extern const unsigned int tem_size = 4; }\n' > "$out/blob.cpp"
link=(-specs=nosys.specs -Wl,--gc-sections)
arm-none-eabi-g++ "${flags[@]}" "${srcs[@]}" "$root/tests/bench/m4_size/probe.cpp" "$out/blob.cpp" "${link[@]}" -o "$out/probe.elf"
arm-none-eabi-g++ "${flags[@]}" -DEMPTY_PROBE "$root/tests/bench/m4_size/probe.cpp" "$out/blob.cpp" "${link[@]}" -o "$out/empty.elf"
full=$(arm-none-eabi-size "$out/probe.elf" | awk 'NR==2{print $1}')
empty=$(arm-none-eabi-size "$out/empty.elf" | awk 'NR==2{print $1}')
echo "runtime (loader + interpreter + kernels, optimised and reference): $((full - empty)) bytes of .text"
echo "kernels:" $kernels
echo "largest symbols (hex size):"
arm-none-eabi-nm --size-sort -S -C "$out/probe.elf" | grep -E "tinyedge|__aeabi|__ll|__mul|__div" | tail -20
