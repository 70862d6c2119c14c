#!/usr/bin/env bash
# Builds the audio front-end's Cortex-M4 test image (as the firmware builds: -Os, soft float,
# no exceptions) and writes the front-end's linked code size.
#   build.sh <out-dir>   -> <out-dir>/audio_m4.elf, <out-dir>/audio_m4_size.txt
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$1
mkdir -p "$out"
flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections -std=c++20
       -fno-exceptions -fno-rtti -Wall -Wextra -Werror -I"$root")
sources=(audio_config audio_status fixed_math front_end mel_filterbank real_fft)
objs=()
for s in "${sources[@]}"; do
  arm-none-eabi-g++ "${flags[@]}" -c "$root/node_firmware/audio/$s.cpp" -o "$out/$s.o"
  objs+=("$out/$s.o")
done
arm-none-eabi-g++ "${flags[@]}" "$here/audio_m4_main.cpp" "$root/tests/runtime/m4/vectors.cpp" "${objs[@]}" \
  -specs=rdimon.specs -Wl,--gc-sections -T "$root/tests/runtime/m4/link.ld" -o "$out/audio_m4.elf"
# The front-end's code and constants as linked (after --gc-sections): every tinyedge::audio symbol
# in .text/.rodata, plus the libgcc 64-bit division configure() calls.
symbols=$(arm-none-eabi-nm -C -S --size-sort "$out/audio_m4.elf" |
  grep -E " [TtRr] .*(tinyedge::audio::|__aeabi_(u)?ldivmod|__udivmoddi4)" || true)
total=0
while read -r _ size _; do total=$((total + 16#$size)); done <<<"$symbols"
{ echo "text_bytes $total"; echo "$symbols"; } > "$out/audio_m4_size.txt"
