#!/usr/bin/env bash
# Executed Cortex-M4 instructions per inference of a .tem, counted like ../shared/models/README.md:
# "Trace" lines of qemu-system-arm -M mps2-an386 -singlestep -d exec,nochain, one inference minus none.
#   m4_instructions.sh model.tem [--reference] [work-dir]
# TINYEDGE_ARM_CPU=cortex-m33 counts on the Cortex-M33 of qemu's mps2-an505 instead (the second port).
set -euo pipefail
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
    -singlestep -d exec,nochain -D /dev/stdout 2>/dev/null | grep -c "^Trace" || true
}
zero=$(count 0)
one=$(count 1)
echo "$(basename "$tem")${defs:+ (reference kernels)} on $cpu: $((one - zero)) instructions per inference"
