#!/usr/bin/env bash
# fuzz.sh - build and run the libFuzzer targets (`make fuzz`).
#
#   FUZZ_SECONDS=600 tools/fuzz.sh                 every target, 600 s each
#   FUZZ_SECONDS=60 FUZZ_TARGETS="png jpeg" tools/fuzz.sh
#
# Targets (tests/fuzz_*.c), one per parser that reads user files, each
# built with clang's libFuzzer, AddressSanitizer and UBSan into build/fuzz/
# and run at nice 19 for FUZZ_SECONDS (default 600) with a working corpus
# in fuzz/corpus-NAME/ seeded from its tests/fuzz_corpus* folder:
#   sensor_csv   the generic sensor CSV reader
#   pickle       the allowlisted unpickler (models/pickle_vm.c)
#   pth          the .pth reader: libzip archive, legacy stream, tensors
#   safetensors  a file given as a checkpoint: kind sniffing, safetensors
#                header, checksum, "sensorgram" JSON metadata, tensors
#   png, jpeg    image decoding through our wrappers (libpng, TurboJPEG)
#   fit          the encoder-fit JSON (--load-fit, checkpoint "fit")
#   manifest     an encode folder's manifest.csv
# The last five link the whole library without libtorch (as NO_TORCH=1
# builds it), compiled once into build/fuzz/libfuzz.a.  Crash inputs land
# in fuzz/ as crash-* / leak-* files; the exit status is non-zero when any
# target found something.  Fuzzing stays out of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-600}
targets=${FUZZ_TARGETS:-sensor_csv pickle pth safetensors png jpeg fit manifest}
out=build/fuzz
mkdir -p "$out/obj" fuzz
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I.)
PKGS="libpng libdeflate fftw3f libturbojpeg cairo jansson nettle libzip libcurl"
lib_built=0

# The library without libtorch (models/model_none.c stands in), once.
build_lib() {
    [ $lib_built -eq 1 ] && return 0
    local cflags="-g -O1 -std=c11 -D_GNU_SOURCE -I. $(pkg-config --cflags $PKGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link"
    local objs=() s o
    for s in src/base/*.c src/image/*.c encoders/*.c datasets/*.c models/*.c src/train/*.c; do
        [ "$s" = models/torch_loader.c ] && continue # the libtorch build's stand-in
        o="$out/obj/${s//\//_}.o"
        objs+=("$o")
        if [ ! -f "$o" ] || [ "$s" -nt "$o" ]; then
            clang $cflags -c "$s" -o "$o"
        fi
    done
    rm -f "$out/libfuzz.a"
    ar rcs "$out/libfuzz.a" "${objs[@]}"
    lib_built=1
}

status=0
for t in $targets; do
    src="tests/fuzz_$t.c"; extra=(); max_len=65536
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
        safetensors|png|jpeg|fit|manifest)
            build_lib
            srcs=("$out/libfuzz.a")
            libs=($(pkg-config --cflags --libs $PKGS) -lcsv -lm -pthread)
            case "$t" in
                safetensors) seeds=tests/fuzz_corpus_st ;;
                png) src=tests/fuzz_image.c; seeds=tests/fuzz_corpus_png ;;
                jpeg) src=tests/fuzz_image.c; seeds=tests/fuzz_corpus_jpeg; extra=(-DFUZZ_JPEG) ;;
                fit) src=tests/fuzz_enc_fit.c; seeds=tests/fuzz_corpus_fit ;;
                manifest) seeds=tests/fuzz_corpus_manifest ;;
            esac ;;
        *) echo "fuzz.sh: unknown target '$t' (sensor_csv, pickle, pth, safetensors, png, jpeg, fit, manifest)" >&2; exit 2 ;;
    esac
    clang "${flags[@]}" "${extra[@]}" "$src" "${srcs[@]}" "${libs[@]}" -o "$out/fuzz_$t"
    work=fuzz/corpus-$t
    mkdir -p "$work"
    cp -n "$seeds"/* "$work"/ 2>/dev/null || true
    echo "fuzz.sh: running $out/fuzz_$t for ${seconds}s (corpus $work)"
    nice -n 19 "$out/fuzz_$t" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 \
        -artifact_prefix=fuzz/"$t"- -print_final_stats=1 "$work" || status=1
done
exit $status
