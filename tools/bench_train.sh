#!/usr/bin/env bash
# bench_train.sh - training-step throughput: sensorgram's ResNet (C via
# the libtorch bridge, tools/bench_train.c) against torchvision in
# PyTorch (tools/bench_train.py), same batch, input, optimizer (SGD
# momentum) and thread count, at the sensor image size 3x15x125 and at
# 3x64x64 and 3x224x224.  Prints images/s of both and C/PyTorch.
#
# usage: tools/bench_train.sh [ARCH] [THREADS]     (default resnet34 2)
# env:   BUILD (build folder, default build/bench), SG_PYTHON, REPEATS (3)
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-resnet34}
threads=${2:-2}
BUILD=${BUILD:-build/bench}
PY=${SG_PYTHON:-/usr/bin/python3}
repeats=${REPEATS:-3}
# libgomp's default active spin-waiting collapses multi-threaded runs on a
# shared, loaded machine (measured: 2 threads 3-10x slower than 1); passive
# waiting keeps both sides sane.  Override with OMP_WAIT_POLICY=ACTIVE on
# an idle machine.  Must be set before the processes start.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

# built by the Makefile's bench rule, so LIBTORCH=/path applies here too
make --no-print-directory BUILD="$BUILD" ${LIBTORCH:+LIBTORCH="$LIBTORCH"} bench-train >/dev/null

# best of REPEATS runs (the least disturbed by other load), C and Python interleaved
best() { sort -g | tail -n 1; }
printf "%-12s %5s %10s %10s %7s\n" input batch "C img/s" "PT img/s" "C/PT"
#        C  H   W   batch steps
while read -r c h w n steps; do
    cs=() ps=()
    for _ in $(seq "$repeats"); do
        cs+=("$("$BUILD/tools/bench_train" "$arch" "$n" "$c" "$h" "$w" "$steps" "$threads" |
                sed -n 's/^images_per_s=\([0-9.]*\).*/\1/p')")
        ps+=("$("$PY" tools/bench_train.py "$arch" "$n" "$c" "$h" "$w" "$steps" "$threads" |
                sed -n 's/^images_per_s=\([0-9.]*\).*/\1/p')")
    done
    cb=$(printf '%s\n' "${cs[@]}" | best)
    pb=$(printf '%s\n' "${ps[@]}" | best)
    printf "%-12s %5d %10.2f %10.2f %7.3f\n" "${c}x${h}x${w}" "$n" "$cb" "$pb" \
        "$(echo "$cb / $pb" | bc -l)"
done <<'SIZES'
3 15 125 32 10
3 64 64 16 5
3 224 224 4 3
SIZES
echo "($arch, SGD momentum 0.9, $threads threads each, OMP_WAIT_POLICY=$OMP_WAIT_POLICY, best of $repeats)"
