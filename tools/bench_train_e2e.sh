#!/usr/bin/env bash
# bench_train_e2e.sh - whole-run training throughput, each at its own
# defaults on this machine: `sensorgram train --dataset dsa --single` (its
# thread default, its loader workers encoding every batch on the fly, the
# series augmentation on) against one epoch of PyTorch training of
# torchvision's resnet18 on the same images already encoded and in memory
# (tools/bench_train_e2e.py: torch's default threads, a default
# DataLoader).  Prints images/s of both and sensorgram/PyTorch.
#
# usage: tools/bench_train_e2e.sh [EPOCHS]        (default 1)
# env:   BUILD (default build), SG_PYTHON, REPEATS (default 2: the best run)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-1}
BUILD=${BUILD:-build}
PY=${SG_PYTHON:-/usr/bin/python3}
repeats=${REPEATS:-2}
[ -d data/dsa ] || { echo "bench_train_e2e: data/dsa missing (make data)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The single default's images: acc+gyro rows, dataset- and axis-scaled.
"$BUILD/sensorgram" encode --dataset dsa data/dsa --sensors acc,gyro \
    --encoder gray+gray:scope=axis --format npy --stack -q -o "$tmp/x"

best() { sort -g | tail -n 1; }
ss=() ps=()
for i in $(seq "$repeats"); do
    rm -rf "$tmp/run"
    ss+=("$("$BUILD/sensorgram" train --dataset dsa data/dsa --single --epochs "$epochs" \
              -q --out "$tmp/run" 2>/dev/null |
            sed -n 's/^final: .*(\([0-9.]*\) images\/s training.*/\1/p')")
    ps+=("$("$PY" tools/bench_train_e2e.py "$tmp/x/X.npy" "$tmp/x/y.csv" "$epochs" |
            sed -n 's/^images_per_s=\([0-9.]*\).*/\1/p')")
done
sb=$(printf '%s\n' "${ss[@]}" | best)
pb=$(printf '%s\n' "${ps[@]}" | best)
printf "%-34s %10s\n" run "images/s"
printf "%-34s %10.1f\n" "sensorgram train (defaults)" "$sb"
printf "%-34s %10.1f\n" "PyTorch (defaults, pre-encoded)" "$pb"
printf "sensorgram/PyTorch %.2f (resnet18, 2x30x125, batch 64, AdamW one-cycle, %d epoch(s), best of %d)\n" \
    "$(echo "$sb / $pb" | bc -l)" "$epochs" "$repeats"
