#!/usr/bin/env bash
# Builds model_vectors.cpp for the Cortex-M4 (-Os, DSP extension, every kernel) around one .tem and
# its TFLite Micro reference vectors, and runs it under qemu mps2-an386.
#   model_vectors.sh model.tem vectors-dir work-dir
#   model_vectors.sh model.tflite vectors-dir work-dir path/to/tinyedge   (imports it first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tem=$(realpath "$1")
vectors=$(realpath "$2")
out=$3
mkdir -p "$out"
if [[ -n "${4:-}" ]]; then
  "$4" model import "$tem" -o "$out/model.tem" >/dev/null
  tem=$out/model.tem
fi
for f in "$root"/node_firmware/runtime/kernels/*.cpp; do echo "TINYEDGE_KERNEL($(basename "$f" .cpp))"; done >"$out/tinyedge_kernels.inc"
cp "$tem" "$out/model_blob"
cat "$vectors"/in_00[0-4].bin >"$out/inputs_blob"
cat "$vectors"/out_00[0-4].bin >"$out/outputs_blob"
for b in model_blob inputs_blob outputs_blob; do
  (cd "$out" && arm-none-eabi-objcopy -I binary -O elf32-littlearm -B arm \
    --rename-section .data=.rodata,alloc,load,readonly,data,contents --set-section-alignment .rodata=16 "$b" "$b.o")
done
arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections -std=c++20 \
  -fno-exceptions -fno-rtti -Wall -Wextra -Werror -I"$root" -I"$out" "$here/model_vectors.cpp" \
  "$out/model_blob.o" "$out/inputs_blob.o" "$out/outputs_blob.o" "$root"/node_firmware/runtime/*.cpp \
  "$root"/node_firmware/runtime/kernels/*.cpp "$here/vectors.cpp" -specs=rdimon.specs -Wl,--gc-sections \
  -T "$here/link.ld" -o "$out/model_vectors.elf"
log=$(timeout 600 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native \
  -kernel "$out/model_vectors.elf" 2>&1 || true)
echo "$(basename "$tem"): $log"
grep -q "RESULT PASS" <<<"$log"
