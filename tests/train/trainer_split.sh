#!/usr/bin/env bash
# `tinyedge` starts without libtorch (loading it costs seconds at every start): only `tinyedge train`
# does, through tinyedge-train (<bindir>/../libexec/tinyedge), which it execs with its arguments.
#   trainer_split.sh <tinyedge> <tinyedge-train> <work-dir>
set -uo pipefail
tinyedge=$1
trainer=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
fail=0

# The dynamic loader's own list of what each executable loads.
LD_TRACE_LOADED_OBJECTS=1 "$tinyedge" >"$work/tinyedge.libs" 2>&1
LD_TRACE_LOADED_OBJECTS=1 "$trainer" >"$work/trainer.libs" 2>&1
if grep -q 'libtorch' "$work/tinyedge.libs"; then
  echo "FAIL: $tinyedge loads libtorch:"; grep libtorch "$work/tinyedge.libs"; fail=1
fi
grep -q 'libtorch_cpu' "$work/trainer.libs" || { echo "FAIL: $trainer does not link libtorch"; fail=1; }

# `tinyedge --help` still lists train; `tinyedge train --help` is the trainer's, with its commands.
"$tinyedge" --help >"$work/help.txt" 2>&1
grep -Eq '^ +train +Train a model with libtorch' "$work/help.txt" || { echo "FAIL: --help does not list train:"; cat "$work/help.txt"; fail=1; }
"$tinyedge" train --help >"$work/train-help.txt" 2>&1 || { echo "FAIL: tinyedge train --help exited $?"; fail=1; }
for cmd in image anomaly audio; do
  grep -Eq "^ +$cmd " "$work/train-help.txt" || { echo "FAIL: tinyedge train --help does not list $cmd:"; cat "$work/train-help.txt"; fail=1; }
done

# The trainer's own errors and exit status come back to the caller unchanged. (Each call to the
# trainer loads libtorch: two in all, to keep this test cheap.)
"$tinyedge" train image --epochs 0 -o "$work/m.tem" >"$work/err1.txt" 2>&1
status=$?
[[ $status -eq 105 ]] || { echo "FAIL: --epochs 0 exited $status, not CLI11's 105 for a validation error"; fail=1; }
grep -q -- '--epochs' "$work/err1.txt" || { echo "FAIL: unclear error for --epochs 0: $(cat "$work/err1.txt")"; fail=1; }
[[ ! -e "$work/m.tem" ]] || { echo "FAIL: a refused train wrote its output"; fail=1; }

# Without the trainer beside it, `tinyedge train` says which file it needed; other commands work.
mkdir -p "$work/bin"
ln "$tinyedge" "$work/bin/tinyedge" 2>/dev/null || cp "$tinyedge" "$work/bin/tinyedge"
if "$work/bin/tinyedge" train --help >"$work/err2.txt" 2>&1; then echo "FAIL: train ran without its trainer"; fail=1; fi
grep -q "cannot run the trainer .*libexec/tinyedge/tinyedge-train: No such file or directory" "$work/err2.txt" \
  || { echo "FAIL: unclear error without the trainer: $(cat "$work/err2.txt")"; fail=1; }
"$work/bin/tinyedge" keys generate --out "$work/fleet" >/dev/null 2>&1 || { echo "FAIL: keys generate without the trainer"; fail=1; }
[[ -s "$work/fleet.pub" ]] || { echo "FAIL: no key written"; fail=1; }

[[ $fail -eq 0 ]] && echo "ok: tinyedge starts without libtorch; train goes through $trainer"
exit $fail
