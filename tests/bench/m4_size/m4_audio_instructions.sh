#!/usr/bin/env bash
# Executed Cortex-M4 instructions per second of 16 kHz audio through the audio front-end, counted
# like m4_instructions.sh: "Trace" lines of qemu-system-arm -singlestep -d exec,nochain, one
# second of audio minus none (configure and the test signal cancel out).
#   m4_audio_instructions.sh [case: 0 kws_mfcc | 1 log_mel_nr] [work-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
case_id=${1:-0}
out=${2:-$root/build/m4-audio-instructions}
mkdir -p "$out"
count() {
  arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections -std=c++20 \
    -fno-exceptions -fno-rtti -DCLIPS="$1" -DCASE="$case_id" -I"$root" "$here/audio_probe.cpp" \
    "$root"/node_firmware/audio/{audio_config,audio_status,fixed_math,front_end,mel_filterbank,real_fft}.cpp \
    "$root/tests/runtime/m4/vectors.cpp" -specs=rdimon.specs -Wl,--gc-sections -T "$root/tests/runtime/m4/link.ld" \
    -o "$out/audio_probe$1.elf"
  qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native -kernel "$out/audio_probe$1.elf" \
    -singlestep -d exec,nochain -D /dev/stdout 2>/dev/null | grep -c "^Trace" || true
}
zero=$(count 0)
one=$(count 1)
echo "audio front-end case $case_id: $((one - zero)) instructions per second of audio (49 rows)"
