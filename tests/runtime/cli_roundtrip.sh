#!/usr/bin/env bash
# `tinyedge model import` then `run` on every MLPerf Tiny reference vector, compared byte for byte
# with TensorFlow Lite Micro's outputs; plus inspect's arena line and the CLI's error paths.
#   cli_roundtrip.sh <tinyedge> <work-dir>      (models: $TINYEDGE_SHARED_MODELS)
set -uo pipefail
tinyedge=$1
work=$2
models=${TINYEDGE_SHARED_MODELS:-}
mkdir -p "$work"
if [[ ! -d "$models/vectors" ]]; then
  if [[ "${CI:-}" == "true" ]]; then echo "FAIL: reference models missing under CI: $models"; exit 1; fi
  echo "SKIP: reference models not found at '$models'"; exit 0
fi
fail=0
for m in kws_ref_model vww_96_int8 pretrainedResnet_quant ad01_int8; do
  "$tinyedge" model import "$models/$m.tflite" -o "$work/$m.tem" >"$work/$m.import.txt" || { echo "FAIL: import $m"; fail=1; continue; }
  "$tinyedge" model inspect "$work/$m.tem" | grep -Eq '^arena: [0-9]+ bytes$' || { echo "FAIL: inspect $m has no arena line"; fail=1; }
  for i in 000 001 002 003 004; do
    "$tinyedge" model run "$work/$m.tem" --input "$models/vectors/$m/in_$i.bin" --output "$work/$m.$i.out" >/dev/null \
      || { echo "FAIL: run $m $i"; fail=1; continue; }
    cmp -s "$work/$m.$i.out" "$models/vectors/$m/out_$i.bin" && echo "ok   $m vector $i" \
      || { echo "FAIL: $m vector $i differs from TFLite Micro"; cmp -l "$work/$m.$i.out" "$models/vectors/$m/out_$i.bin" | head -5; fail=1; }
  done
done
# Error paths: a .tflite is not a .tem; a wrong-sized input; a label count that does not match.
if "$tinyedge" model inspect "$models/ad01_int8.tflite" 2>"$work/err1.txt"; then echo "FAIL: inspect accepted a .tflite"; fail=1; fi
grep -q "bad magic" "$work/err1.txt" || { echo "FAIL: unclear error: $(cat "$work/err1.txt")"; fail=1; }
head -c 10 "$models/vectors/ad01_int8/in_000.bin" >"$work/short.bin"
if "$tinyedge" model run "$work/ad01_int8.tem" --input "$work/short.bin" 2>"$work/err2.txt"; then echo "FAIL: ran a short input"; fail=1; fi
grep -q "10 bytes, model input needs 640" "$work/err2.txt" || { echo "FAIL: unclear error: $(cat "$work/err2.txt")"; fail=1; }
printf 'a\nb\n' >"$work/labels.txt"
rm -f "$work/bad.tem"
if "$tinyedge" model import "$models/kws_ref_model.tflite" -o "$work/bad.tem" --labels "$work/labels.txt" 2>"$work/err3.txt"; then
  echo "FAIL: accepted 2 labels for 12 outputs"; fail=1
fi
[[ ! -e "$work/bad.tem" ]] || { echo "FAIL: a refused import still wrote its output"; fail=1; }
exit $fail
