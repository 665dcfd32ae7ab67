#!/usr/bin/env bash
# Runs every test program in the given folder, prints each one's cmocka
# report, and closes with one "N passed, N failed, N skipped" line counting
# test cases over all programs.  Exits non-zero if any program failed.
set -u
dir=${1:?usage: tests/run.sh BUILD/tests}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:new_delete_type_mismatch=0}
# use_tls=0: LeakSanitizer's tracer crashes (SIGSEGV at exit, "Tracer caught
# signal 11") scanning the TLS of a thread whose dynamic thread vector glibc
# grew when the model library was dlopen()ed (libtorch's libraries add more
# TLS modules than the vector's spare room).  Not scanning TLS can only add
# reports, never hide one: the TLS-only blocks are named in lsan.supp.
export LSAN_OPTIONS=${LSAN_OPTIONS:-use_tls=0:suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 skipped=0 bad_programs=()
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.o|*.d) continue ;; esac
    name=$(basename "$t")
    log=$(mktemp)
    echo "== $name"
    "$t" >"$log" 2>&1
    rc=$?
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
if [ ${#bad_programs[@]} -gt 0 ]; then
    echo "failing programs: ${bad_programs[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ ${#bad_programs[@]} -eq 0 ]
