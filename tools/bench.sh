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

# --- further benchmarks go here ---------------------------------------------
