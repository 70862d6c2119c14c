#!/usr/bin/env bash
# Boots a reference-vector image (TINYEDGE_FW_VECTORS, tests/runtime/m4/model_vectors.cpp) and
# passes when it prints RESULT PASS.   run_vectors.sh <qemu-system-arm> <machine> <image.elf>
set -euo pipefail
[[ -f "$3" ]] || { echo "no image $3: the firmware build did not make it"; exit 1; }
log=$(timeout 100 "$1" -M "$2" -display none -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$3" 2>&1 || true)
echo "$log"
grep -q "RESULT PASS" <<<"$log"
