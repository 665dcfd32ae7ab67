#!/usr/bin/env bash
# check_layout.sh - the rules between folders, checked by the build
# (`make check-layout`, run by `make test`).  ARCHITECTURE.md explains them.
#
#   tools/check_layout.sh [ROOT]     check the tree at ROOT (default: .)
#   tools/check_layout.sh --self-test
#                                    copy the tree, break each rule once and
#                                    require the check to fail every time
#
# Includes are read as written (`#include "folder/file.h"`, one include root
# at the top of the checkout); system headers (<...>) are not ours.  Prints
# are searched for in the code with comments stripped (gcc -fpreprocessed).
set -u

# folder -> the folders of ours it may include (besides itself)
declare -A allowed=(
    [src/base]=""
    [src/image]="src/base"
    [encoders]="src/base"
    [datasets]="src/base src/image"
    [models]="src/base"
    [src/encode]="src/base src/image encoders datasets models"
    [src/train]="src/base src/image encoders datasets models src/encode"
    [figures]="src/base src/image encoders datasets models src/encode src/train"
)
# nothing outside src/cli/ includes src/cli/ (tools included; tests/ may,
# to drive the option parser as a user's argv does)
cli_free_dirs=(src/base src/image encoders datasets models src/encode src/train figures tools)
# folders that report through return codes and sg_error, never by printing
quiet_dirs=(encoders datasets models src/image)

# the folder an include path names: src/<sub> or the top-level folder
folder_of() {
    case "$1" in
        src/*/*) echo "${1%/*}" | cut -d/ -f1-2 ;;
        */*) echo "${1%%/*}" ;;
        *) echo "?" ;;
    esac
}

check_tree() {
    local root=$1 bad=0 dir f line inc target ok a
    for dir in "${!allowed[@]}"; do
        [ -d "$root/$dir" ] || { echo "check-layout: $dir/ is missing" >&2; bad=1; continue; }
        for f in "$root/$dir"/*.c "$root/$dir"/*.h "$root/$dir"/*.cpp "$root/$dir"/*.hpp; do
            [ -e "$f" ] || continue
            while IFS= read -r line; do
                inc=${line#*\"}; inc=${inc%%\"*}
                target=$(folder_of "$inc")
                ok=0
                [ "$target" = "$dir" ] && ok=1
                for a in ${allowed[$dir]}; do [ "$target" = "$a" ] && ok=1; done
                if [ $ok -eq 0 ]; then
                    echo "check-layout: ${f#"$root"/}: includes \"$inc\"; $dir/ may include only" \
                         "${allowed[$dir]:-nothing else of ours}${allowed[$dir]:+ and itself}" >&2
                    bad=1
                fi
            done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
        done
    done
    for dir in "${cli_free_dirs[@]}"; do
        for f in "$root/$dir"/*.c "$root/$dir"/*.h "$root/$dir"/*.cpp "$root/$dir"/*.hpp; do
            [ -e "$f" ] || continue
            if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"src/cli/' "$f" > /tmp/check_layout.$$; then
                echo "check-layout: ${f#"$root"/}: includes src/cli/ ($(head -n 1 /tmp/check_layout.$$ | cut -d: -f2-)); only the command line parses argv: move what it needs down" >&2
                bad=1
            fi
            rm -f /tmp/check_layout.$$
        done
    done
    for dir in "${quiet_dirs[@]}"; do
        for f in "$root/$dir"/*.c "$root/$dir"/*.cpp "$root/$dir"/*.h "$root/$dir"/*.hpp; do
            [ -e "$f" ] || continue
            # comments and strings out, then look for a print or a std stream
            if gcc -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null |
                sed -E 's/"([^"\\]|\\.)*"/""/g' |
                grep -nE '\b(printf|puts|perror|putchar|vprintf)[[:space:]]*\(|\b(stdout|stderr)\b|std::(cout|cerr|clog)' \
                    > /tmp/check_layout.$$; then
                echo "check-layout: ${f#"$root"/} prints ($dir/ reports through return codes and" \
                     "sg_error): $(head -n 1 /tmp/check_layout.$$)" >&2
                bad=1
            fi
            rm -f /tmp/check_layout.$$
        done
    done
    return $bad
}

self_test() {
    local fails=0 case_
    layout_tmp=$(mktemp -d) || exit 1
    trap 'rm -rf "$layout_tmp"' EXIT
    local tmp=$layout_tmp
    local cases=(encoders datasets models src/base src/image print train-cli train-figures
                 encode-train encode-cli figures-cli tools-cli)
    for case_ in "${cases[@]}"; do
        rm -rf "$tmp/t"; mkdir -p "$tmp/t"
        cp -r src encoders datasets models figures tests tools "$tmp/t/"
        case $case_ in
            print) printf 'static void noisy(void) { fprintf(stderr, "x"); }\n' >> "$tmp/t/encoders/enc_gaf.c" ;;
            src/base) printf '#include "src/image/image.h"\n' >> "$tmp/t/src/base/rng.h" ;;
            src/image) printf '#include "src/train/loader.h"\n' >> "$tmp/t/src/image/image.h" ;;
            train-cli) printf '#include "src/cli/cli_common.h"\n' >> "$tmp/t/src/train/job_train.c" ;;
            train-figures) printf '#include "figures/fig.h"\n' >> "$tmp/t/src/train/job_eval.c" ;;
            encode-train) printf '#include "src/train/job.h"\n' >> "$tmp/t/src/encode/encode_run.c" ;;
            encode-cli) printf '#include "src/cli/cli_enc_opts.h"\n' >> "$tmp/t/src/encode/encode_run.h" ;;
            figures-cli) printf '#include "src/cli/commands.h"\n' >> "$tmp/t/figures/fig_run.c" ;;
            tools-cli) printf '#include "src/cli/cli_common.h"\n' >> "$tmp/t/tools/bench_train.c" ;;
            *) printf '#include "src/train/train.h"\n' >> "$(ls "$tmp/t/$case_"/*.h | head -n 1)" ;;
        esac
        if check_tree "$tmp/t" 2>/dev/null; then
            echo "check-layout self-test: a forbidden change in $case_ was not caught" >&2
            fails=1
        fi
    done
    return $fails
}

cd "$(dirname "$0")/.." || exit 1
if [ "${1:-}" = "--self-test" ]; then
    self_test && echo "check-layout: self-test caught all 12 forbidden changes"
    exit $?
fi
root=${1:-.}
if check_tree "$root"; then
    echo "check-layout: folder rules hold"
else
    exit 1
fi
