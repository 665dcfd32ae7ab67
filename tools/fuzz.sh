#!/usr/bin/env bash
# fuzz.sh - build and run the sensor CSV fuzz target (`make fuzz`).
#
#   FUZZ_SECONDS=600 tools/fuzz.sh      (default 600 s)
#
# Builds tests/fuzz_sensor_csv.c with the reader under clang's libFuzzer,
# AddressSanitizer and UBSan into build/fuzz/, seeds a working corpus in
# fuzz/corpus-work/ from tests/fuzz_corpus/, and runs at low priority.
# Crash inputs land in fuzz/ as crash-* / leak-* files; the exit status
# is libFuzzer's (non-zero on a finding).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-600}
out=build/fuzz
mkdir -p "$out" fuzz/corpus-work
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I. \
    tests/fuzz_sensor_csv.c datasets/sensor_csv.c datasets/series.c datasets/skipped.c \
    src/base/sg_error.c -lcsv -o "$out/fuzz_sensor_csv"
cp -n tests/fuzz_corpus/* fuzz/corpus-work/ 2>/dev/null || true
echo "fuzz.sh: running $out/fuzz_sensor_csv for ${seconds}s (corpus fuzz/corpus-work)"
exec nice -n 19 "$out/fuzz_sensor_csv" -max_total_time="$seconds" -max_len=4096 \
    -artifact_prefix=fuzz/ -print_final_stats=1 fuzz/corpus-work
