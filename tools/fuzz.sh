#!/usr/bin/env bash
# fuzz.sh - build and run the libFuzzer targets (`make fuzz`).
#
#   FUZZ_SECONDS=600 FUZZ_TARGETS="sensor_csv pickle pth" tools/fuzz.sh
#
# Targets (tests/fuzz_*.c), each built with clang's libFuzzer,
# AddressSanitizer and UBSan into build/fuzz/ and run at low priority for
# FUZZ_SECONDS (default 600) with a working corpus in fuzz/corpus-NAME/
# seeded from its tests/fuzz_corpus* folder:
#   sensor_csv   the generic sensor CSV reader
#   pickle       the allowlisted unpickler (models/pickle_vm.c)
#   pth          the .pth reader: libzip archive, legacy stream, tensors
# Crash inputs land in fuzz/ as crash-* / leak-* files; the exit status
# is non-zero when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-600}
targets=${FUZZ_TARGETS:-sensor_csv pickle pth}
out=build/fuzz
mkdir -p "$out" fuzz
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I.)
status=0
for t in $targets; do
    case "$t" in
        sensor_csv)
            srcs=(datasets/sensor_csv.c datasets/series.c datasets/skipped.c src/base/sg_error.c)
            libs=(-lcsv); seeds=tests/fuzz_corpus; max_len=4096 ;;
        pickle)
            srcs=(models/pickle_vm.c src/base/sg_error.c)
            libs=(); seeds=tests/fuzz_corpus_pickle; max_len=4096 ;;
        pth)
            srcs=(models/pth_read.c models/pickle_vm.c models/safetensors.c src/base/file_read.c
                  src/base/atomic_file.c src/base/sg_error.c)
            libs=($(pkg-config --cflags --libs libzip jansson)); seeds=tests/fuzz_corpus_pth; max_len=8192 ;;
        *) echo "fuzz.sh: unknown target '$t' (sensor_csv, pickle, pth)" >&2; exit 2 ;;
    esac
    clang "${flags[@]}" "tests/fuzz_$t.c" "${srcs[@]}" "${libs[@]}" -o "$out/fuzz_$t"
    work=fuzz/corpus-$t
    mkdir -p "$work"
    cp -n "$seeds"/* "$work"/ 2>/dev/null || true
    echo "fuzz.sh: running $out/fuzz_$t for ${seconds}s (corpus $work)"
    nice -n 19 "$out/fuzz_$t" -max_total_time="$seconds" -max_len="$max_len" \
        -artifact_prefix=fuzz/ -print_final_stats=1 "$work" || status=1
done
exit $status
