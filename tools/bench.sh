#!/usr/bin/env bash
# bench.sh - the full-size benchmarks behind `make bench`.
#
# Each benchmark is a driver in tools/ built by a Makefile rule and run
# here on ../shared's data (SG_SHARED) with the Python baselines found
# through SG_PYTHON.  BUILD picks the build folder (default build).
# Add further benchmarks in the marked section below.
set -euo pipefail
BUILD=${BUILD:-build}
SG_SHARED=${SG_SHARED:-../shared}
export SG_PYTHON=${SG_PYTHON:-/usr/bin/python3}
THREADS=${BENCH_THREADS:-2}

[ -d data/dsa ] || tools/data.sh "$SG_SHARED"

# --- encoders (owner: enc) --------------------------------------------------
echo "== encoders: C (${THREADS} threads) vs vectorized numpy (1 thread)"
make --no-print-directory BUILD="$BUILD" bench-encoders >/dev/null
"$BUILD/tools/bench_encoders" data/dsa "$THREADS"

# --- the whole set to PNG, per encoder (the 10 s target) ----------------------
echo
echo "== encode: 6,840 segments x 15 accelerometer axes to PNG (-j ${THREADS}, libdeflate level 1)"
make --no-print-directory BUILD="$BUILD" "$BUILD/sensorgram" >/dev/null
out=$(mktemp -d /dev/shm/sgbench.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$out"' EXIT
printf "%-22s %8s %9s\n" encoder seconds "images/s"
for spec in "gasf --enc-size 64" "gadf --enc-size 64" "mtf --enc-size 64" \
            "rp" "spectrogram" "gray"; do
    set -- $spec
    rm -rf "$out/x"
    t0=$(date +%s.%N)
    "$BUILD/sensorgram" encode --dataset dsa data/dsa --sensors acc --encoder $spec \
        --format png -q -j "$THREADS" -o "$out/x"
    t1=$(date +%s.%N)
    n=$(($(wc -l < "$out/x/manifest.csv") - 1))
    awk -v a="$t0" -v b="$t1" -v n="$n" -v e="$spec" \
        'BEGIN { printf "%-22s %8.2f %9.0f\n", e, b - a, n / (b - a) }'
done

# --- end to end: CSV files in, one stacked float32 array out -------------------
echo
echo "== end to end: 2,280 DSA files (subjects 1,2) x 15 acc axes -> GASF 64 stacked X.npy"
# Whole processes, start-up included (libtorch is loaded only by model
# commands, so encode's start-up is the C libraries'); sensorgram's median
# of 5 runs, numpy's median of 3 (each 20 s or more).
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
wall() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
         awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'; }
s_up=$(for i in 1 2 3 4 5; do wall "$BUILD/sensorgram" --help; done | median)
s_c=$(for i in 1 2 3 4 5; do
    wall "$BUILD/sensorgram" encode --dataset dsa data/dsa --sensors acc --subjects 1,2 \
        --encoder gasf --enc-size 64 --format npy --stack -q -j "$THREADS" --overwrite \
        -o "$out/e2e"
done | median)
n_c=$(($(wc -l < "$out/e2e/manifest.csv") - 1))
np_runs=$(for i in 1 2 3; do "$SG_PYTHON" tools/numpy_e2e.py data/dsa 1,2 "$out/e2e_numpy.npy"; done)
n_np=$(echo "$np_runs" | awk 'NR == 1 { print $1 }')
s_np=$(echo "$np_runs" | awk '{ print $2 }' | median)
awk -v s="$s_c" -v n="$n_c" -v nn="$n_np" -v sn="$s_np" -v th="$THREADS" -v up="$s_up" 'BEGIN {
    printf "sensorgram start-up (--help)     %8.3f s\n", up
    printf "sensorgram (-j %d)  %6d segments %8.2f s\n", th, n, s
    printf "numpy (loadtxt, encode, np.save) %6d segments %8.2f s\n", nn, sn
    printf "speed-up %.1fx (target >= 10x)\n", sn / s }'

# --- training step: sensorgram vs PyTorch (owner: models) -----------------------
echo
echo "== training step: ResNet34, sensorgram vs torchvision in PyTorch (${THREADS} threads)"
BUILD="$BUILD" tools/bench_train.sh resnet34 "$THREADS"

# --- whole training runs: sensorgram vs PyTorch, each at its defaults ----------
echo
echo "== training throughput: sensorgram train vs PyTorch, each at its own defaults"
BUILD="$BUILD" tools/bench_train_e2e.sh

# --- data parallelism: 1 rank vs 2 ranks under torchrun (owner: dist) ---------
echo
echo "== data-parallel training: 1 rank vs 2 ranks (torchrun, Gloo, same cores)"
BUILD="$BUILD" tools/bench_dist.sh
