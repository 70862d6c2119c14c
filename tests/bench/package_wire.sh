#!/usr/bin/env bash
# Wire bytes per model update, full / compressed / delta: two Fashion-MNIST models trained by
# `tinyedge train image` with seeds 1 and 2 (same data, architecture and recipe: a retrained
# model), and seed 1 with only its head taken from seed 2 (what a head-only fine-tune changes);
# bench_package_wire makes the packages and prints the table. Two architectures: the MLP (2 epochs,
# 20,000 images) and the small CNN (1 epoch, 10,000), as README's compression figures.
#   package_wire.sh BUILD_DIR WORK_DIR
set -euo pipefail
bin=$1
work=$2
mkdir -p "$work"
train() {  # train <arch> <epochs> <limit> <seed>
  "$bin/deploy/tinyedge" train image --arch "$1" --epochs "$2" --limit "$3" --seed "$4" --version "$4" \
    --threads 1 --name "fmnist-$1" -o "$work/$1-seed$4.tem" > "$work/train-$1-seed$4.log"
}
for spec in "mlp 2 20000" "small-cnn 1 10000"; do
  read -r arch epochs limit <<< "$spec"
  train "$arch" "$epochs" "$limit" 1
  train "$arch" "$epochs" "$limit" 2
  echo "$arch ($epochs epochs on $limit images), base: seed 1"
  "$bin/tests/bench/bench_package_wire" "$work/$arch-seed1.tem" "$work/$arch-seed2.tem"
  echo
done
