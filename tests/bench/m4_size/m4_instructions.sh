#!/usr/bin/env bash
# Executed Cortex-M4 instructions per inference of a .tem, counted like ../shared/models/README.md:
# "Trace" lines of qemu-system-arm -M mps2-an386 -singlestep -d exec,nochain, one inference minus none.
#   m4_instructions.sh model.tem [--reference] [work-dir]
# --cycles (first argument, before the model) also keeps each run's trace as edges between
# consecutive PCs and prints m4_cycles.py's estimate of Cortex-M4 cycles per inference by
# instruction class and function (one more pass over the same trace, no second qemu run).
# TINYEDGE_ARM_CPU=cortex-m33 counts on the Cortex-M33 of qemu's mps2-an505 instead (the second port).
set -euo pipefail
cycles=0
if [[ "${1:-}" == "--cycles" ]]; then cycles=1; shift; fi
cpu=${TINYEDGE_ARM_CPU:-cortex-m4}
case "$cpu" in
  cortex-m4) machine=mps2-an386 ld=link.ld ;;
  cortex-m33) machine=mps2-an505 ld=link_mps2_an505.ld ;;
  *) echo "TINYEDGE_ARM_CPU=$cpu: cortex-m4 or cortex-m33" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tem=$(realpath "$1")
defs=()
[[ "${2:-}" == "--reference" ]] && defs=(-DREFERENCE)
out=${3:-$root/build/m4-instructions}
mkdir -p "$out"
# Every kernel, as the default firmware build links them (node_firmware/runtime/CMakeLists.txt).
for f in "$root"/node_firmware/runtime/kernels/*.cpp; do echo "TINYEDGE_KERNEL($(basename "$f" .cpp))"; done >"$out/tinyedge_kernels.inc"
cp "$tem" "$out/model_blob"
(cd "$out" && arm-none-eabi-objcopy -I binary -O elf32-littlearm -B arm \
   --rename-section .data=.rodata,alloc,load,readonly,data,contents --set-section-alignment .rodata=16 model_blob model_blob.o)
count() {
  arm-none-eabi-g++ -mcpu="$cpu" -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections -std=c++20 \
    -fno-exceptions -fno-rtti -DINFERENCES="$1" "${defs[@]}" -I"$root" -I"$out" "$here/count.cpp" "$out/model_blob.o" \
    "$root"/node_firmware/runtime/*.cpp "$root"/node_firmware/runtime/kernels/*.cpp "$root/tests/runtime/m4/vectors.cpp" \
    -specs=rdimon.specs -Wl,--gc-sections -T "$root/tests/runtime/m4/$ld" -o "$out/count$1.elf"
  qemu-system-arm -M "$machine" -nographic -semihosting-config enable=on,target=native -kernel "$out/count$1.elf" \
    -singlestep -d exec,nochain -D /dev/stdout 2>/dev/null | if [[ $cycles == 1 ]]; then
    # "Trace 0: 0x... [cs_base/pc/flags/cflags] symbol": the PC is the bracket's second word.
    awk -v edges="$out/edges$1.txt" 'BEGIN { prev = "-" }
      /^Trace/ { pc = substr($4, 11, 8); n[prev " " pc]++; prev = pc; total++ }
      END { for (k in n) print k, n[k] > edges; print total + 0 }'
  else
    grep -c "^Trace" || true
  fi
}
zero=$(count 0)
one=$(count 1)
echo "$(basename "$tem")${defs:+ (reference kernels)} on $cpu: $((one - zero)) instructions per inference"
if [[ $cycles == 1 ]]; then
  python3 "$here/m4_cycles.py" "$out/count0.elf" "$out/edges0.txt" "$out/count1.elf" "$out/edges1.txt"
fi
