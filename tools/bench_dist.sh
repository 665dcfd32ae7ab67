#!/usr/bin/env bash
# bench_dist.sh - data-parallel training throughput: 1 rank against NPROC
# ranks launched by torchrun, the same global batch, with the gradient
# all-reduce time per step that rank 0 reports: the time from the first
# bucket sent to the last one summed, and how much of it the step still
# waited for after backward (the rest ran while backward did: sensorgram's
# own gradient hooks launch each bucket's all-reduce as soon as its
# gradients are in, as DDP does).
#
# Job: ResNet18 on DSA subjects 1-2 (2,280 segments, accelerometers, gray
# encoder in memory, 1x15x125 input), 1 epoch, SGD, no validation.
#   1 rank:      --bs GLOBAL, THREADS libtorch threads
#   NPROC ranks: --bs GLOBAL/NPROC each, THREADS/NPROC threads each (so
#                both use the same cores on a CPU machine)
# Scaling efficiency on a CPU (same cores either way) = NPROC-rank images/s
# over 1-rank images/s; with DEVICE=cuda (one GPU per rank) it is over
# NPROC times the 1-rank images/s.
#
# usage: tools/bench_dist.sh              (this machine: 2 CPU ranks)
# env:   NPROC (2), THREADS (2), GLOBAL_BS (64), DEVICE (cpu; on a GPU node
#        DEVICE=cuda NPROC=8 gives one GPU per rank), BUILD, SG_PYTHON
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${SG_PYTHON:-/usr/bin/python3}
NPROC=${NPROC:-2}
export THREADS=${THREADS:-2}
GLOBAL_BS=${GLOBAL_BS:-64}
DEVICE=${DEVICE:-cpu}
PORT=${PORT:-$((29500 + RANDOM % 1000))}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
make --no-print-directory BUILD="$BUILD" "$BUILD/sensorgram" >/dev/null
[ -d data/dsa ] || tools/data.sh "${SG_SHARED:-../shared}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
job=(train --dataset dsa data/dsa --subjects 1,2 --sensors acc --encoder gray --arch resnet18
     --pretrained none --epochs 1 --valid-pct 0 --opt sgd --lr 1e-2 --seed 1 -j 1
     --device "$DEVICE" --no-progress)
per=$((THREADS / NPROC > 0 ? THREADS / NPROC : 1))

"$BUILD/sensorgram" "${job[@]}" --bs "$GLOBAL_BS" --threads "$THREADS" --out "$out/one" \
    >"$out/one.log" 2>&1 || { cat "$out/one.log"; exit 1; }
one=$(sed -n 's/.*(\([0-9.]*\) images\/s training.*/\1/p' "$out/one.log")

# --redirects/--tee name a local rank that does not exist: Debian's torch
# 1.13 under Python 3.11 cannot parse their default "0".
OMP_NUM_THREADS=$per "$PY" -m torch.distributed.run --nproc_per_node "$NPROC" \
    --monitor_interval 0.5 --redirects 9:1 --tee 9:1 --master_addr 127.0.0.1 --master_port "$PORT" --no_python \
    "$BUILD/sensorgram" "${job[@]}" --bs $((GLOBAL_BS / NPROC)) --threads "$per" \
    --out "$out/many" >"$out/many.log" 2>&1 || { cat "$out/many.log"; exit 1; }
many=$(sed -n 's/.*ranks: \([0-9.]*\) images\/s over all ranks.*/\1/p' "$out/many.log")
ar=$(sed -n 's/.*all-reduce \([0-9.]*\) ms per step (\([0-9]*%\).*, \([0-9.]*\) ms of it after backward (\([0-9]*%\) overlapped).*/\1 ms (\2 of training), \3 ms after backward (\4 overlapped)/p' \
     "$out/many.log")
printf "%-28s %10s %s\n" setup "images/s" "gradient all-reduce per step"
printf "%-28s %10s %s\n" "1 rank, bs $GLOBAL_BS, $THREADS threads" "$one" "-"
printf "%-28s %10s %s\n" "$NPROC ranks, bs $((GLOBAL_BS / NPROC)) each, $per thr" "$many" "$ar"
if [ "$DEVICE" = cpu ]; then
    # CPU: both runs share the same cores, so the ratio is the efficiency.
    awk -v a="$one" -v b="$many" -v n="$NPROC" \
        'BEGIN { printf "scaling efficiency: %.2f (%d ranks vs 1 rank on the same %s cores)\n", b / a, n, ENVIRON["THREADS"] }'
else
    # One device per rank: against NPROC times one device's throughput.
    awk -v a="$one" -v b="$many" -v n="$NPROC" \
        'BEGIN { printf "scaling efficiency: %.2f (%.1fx on %d devices)\n", b / (n * a), b / a, n }'
fi
