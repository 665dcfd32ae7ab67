#!/usr/bin/env bash
# Runs test programs, prints each one's cmocka report under a
# "== NAME (SECONDS s)" line, then the programs by time (longest first), and
# closes with one "N passed, N failed, N skipped" line counting test cases
# over all programs.  Exits non-zero if any program failed.
#
#   tests/run.sh BUILD/tests                 every test_* program in the folder
#   tests/run.sh PROGRAM...                  these programs (make test-unit, test-bin)
#   tests/run.sh BUILD/tests encoders pth    only programs whose name contains
#   tests/run.sh -k pth BUILD/tests          "encoders" or "pth"
#   TESTS='encoders pth' tests/run.sh ...    the same (make test TESTS='encoders pth')
#
# An argument is a folder if it is one, a program if it has a '/', and a
# name filter otherwise (or after -k).  A listed program that is missing
# counts as a failing program; a filter that matches nothing is an error.
set -u
usage="usage: tests/run.sh [-k SUBSTRING]... (BUILD/tests | PROGRAM)... [SUBSTRING...]"
programs=() patterns=()
for p in ${TESTS:-}; do
    patterns+=("$p")
done
while [ $# -gt 0 ]; do
    case "$1" in
        -k) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
            patterns+=("$2"); shift ;;
        -k*) patterns+=("${1#-k}") ;;
        -h|--help) echo "$usage"; exit 0 ;;
        -*) echo "$usage" >&2; exit 2 ;;
        *)
            if [ -d "$1" ]; then
                for t in "$1"/test_*; do
                    [ -x "$t" ] || continue
                    case "$t" in *.o|*.d) continue ;; esac
                    programs+=("$t")
                done
            elif [[ "$1" == */* ]]; then
                programs+=("$1")
            else
                patterns+=("$1")
            fi ;;
    esac
    shift
done
[ ${#programs[@]} -gt 0 ] || { echo "$usage" >&2; exit 2; }

# the programs whose name contains one of the patterns (all without any)
if [ ${#patterns[@]} -gt 0 ]; then
    chosen=()
    for t in "${programs[@]}"; do
        for p in "${patterns[@]}"; do
            case "$(basename "$t")" in *"$p"*) chosen+=("$t"); break ;; esac
        done
    done
    if [ ${#chosen[@]} -eq 0 ]; then
        echo "tests/run.sh: no test program matches: ${patterns[*]}" >&2
        echo "0 passed, 0 failed, 0 skipped"
        exit 1
    fi
    programs=("${chosen[@]}")
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:new_delete_type_mismatch=0}
# use_tls=0: LeakSanitizer's tracer crashes (SIGSEGV at exit, "Tracer caught
# signal 11") scanning the TLS of a thread whose dynamic thread vector glibc
# grew when the model library was dlopen()ed (libtorch's libraries add more
# TLS modules than the vector's spare room).  Not scanning TLS can only add
# reports, never hide one: the TLS-only blocks are named in lsan.supp.
export LSAN_OPTIONS=${LSAN_OPTIONS:-use_tls=0:suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# microseconds since the epoch
now_us() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        local t=${EPOCHREALTIME/[.,]/}
        echo $((10#$t))
    else
        echo $(($(date +%s%N) / 1000))
    fi
}
# microseconds as seconds with one decimal
secs() {
    local d=$((($1 + 50000) / 100000))
    echo "$((d / 10)).$((d % 10))"
}

passed=0 failed=0 skipped=0 bad_programs=() times=()
for t in "${programs[@]}"; do
    name=$(basename "$t")
    if [ ! -x "$t" ] || [ -d "$t" ]; then
        echo "== $name: missing ($t is not an executable; not built?)"
        bad_programs+=("$name")
        failed=$((failed + 1))
        continue
    fi
    log=$(mktemp)
    # the name now, the time when it ends: a hang shows which program it is
    printf '== %s' "$name"
    start=$(now_us)
    "$t" >"$log" 2>&1
    rc=$?
    us=$(($(now_us) - start))
    echo " ($(secs $us) s)"
    times+=("$us $name")
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    skipped=$((skipped + ${s:-0}))
    if [ $rc -ne 0 ]; then
        bad_programs+=("$name")
        [ -z "$f" ] && failed=$((failed + 1))
    fi
    rm -f "$log"
done
if [ ${#times[@]} -gt 0 ]; then
    echo "== seconds per program, longest first"
    printf '%s\n' "${times[@]}" | sort -k1,1nr -k2,2 | while read -r us name; do
        printf '%8s  %s\n' "$(secs "$us")" "$name"
    done
fi
if [ ${#bad_programs[@]} -gt 0 ]; then
    echo "failing programs: ${bad_programs[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ ${#bad_programs[@]} -eq 0 ]
