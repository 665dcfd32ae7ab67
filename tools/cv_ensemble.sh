#!/bin/sh
# cv_ensemble.sh - leave-one-subject-out accuracy of `train --dataset dsa
# --cv loso` runs, alone or as an ensemble of several recipes (sensors,
# encoders), evaluated the way a new wearer's data would be.
#
#   tools/cv_ensemble.sh [-o OUT] [-e 'EVAL OPTIONS'] DSA_ROOT RUN [RUN...]
#
# A RUN that is a `--cv loso --keep-folds` ensemble (member_N folders)
# stands for its members.  -e passes options to every `sensorgram eval`:
# `-e --adapt-bn` gives the folds' accuracy after AdaBN on each held-out
# subject's own unlabelled segments (what `eval --adapt-bn` does for a new
# wearer), `-e '--tta 5'` the test-time shifts.
#
# The runs must have been trained on DSA_ROOT with the same folds (their
# cv_folds.csv name the same subject for every fold; same data and --cv
# give that).  For fold k, the members RUN/fold_k/model.safetensors (with
# --keep-folds) or RUN/fold_k/last.safetensors are evaluated together
# (`sensorgram eval A,B,...`: mean probabilities, each member reading the
# segments with its own encoding) on the held-out subject's segments
# alone, so every fold's number is what the ensemble does on a person
# none of its members saw.  Prints a row per fold, the mean +- std (n - 1,
# as `--cv loso` prints it), the worst subject and the mean log loss, and
# keeps each fold's eval output in OUT/fold_k (default runs/cv_ensemble).
#
# SENSORGRAM names the binary (default ./sensorgram).
set -eu
out=runs/cv_ensemble
eval_opts=
while [ $# -gt 0 ]; do
    case $1 in
    -o) out=${2:?-o needs a folder}; shift 2 ;;
    -e) eval_opts=${2?-e needs eval options}; shift 2 ;;
    *) break ;;
    esac
done
if [ $# -lt 2 ]; then
    echo "usage: tools/cv_ensemble.sh [-o OUT] [-e 'EVAL OPTIONS'] DSA_ROOT RUN [RUN...]" >&2
    exit 2
fi
bin=${SENSORGRAM:-./sensorgram}
root=$1
shift
# an ensemble run's members stand in for it
runs=
for run in "$@"; do
    if [ -f "$run/member_0/cv_folds.csv" ]; then
        for m in "$run"/member_[0-9]*; do
            runs="$runs $m"
        done
    else
        runs="$runs $run"
    fi
done
# shellcheck disable=SC2086 # run folders without spaces, as train writes them
set -- $runs
first=$1
for run in "$@"; do
    if [ ! -f "$run/cv_folds.csv" ]; then
        echo "cv_ensemble.sh: $run/cv_folds.csv: not a --cv run folder" >&2
        exit 1
    fi
    # fold,subject pairs must agree with the first run's
    if [ "$(grep -E '^[0-9]' "$run/cv_folds.csv" | cut -d, -f1,2)" != \
         "$(grep -E '^[0-9]' "$first/cv_folds.csv" | cut -d, -f1,2)" ]; then
        echo "cv_ensemble.sh: $run and $first held out other subjects (cv_folds.csv)" >&2
        exit 1
    fi
done
if [ -e "$out" ]; then
    echo "cv_ensemble.sh: $out exists; remove it or give another -o" >&2
    exit 1
fi
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows="$out/cv_folds.csv"
echo "fold,subject,n_valid,accuracy,log_loss" > "$rows.tmp"
for pair in $(grep -E '^[0-9]' "$first/cv_folds.csv" | cut -d, -f1,2); do
    fold=${pair%,*}
    subject=${pair#*,}
    # the held-out subject's segments only, in the DSA layout aNN/pS
    held="$tmp/subject_$subject"
    for act in "$root"/a[0-9][0-9]; do
        [ -d "$act/p$subject" ] || continue
        mkdir -p "$held/${act##*/}"
        ln -s "$(cd "$act/p$subject" && pwd)" "$held/${act##*/}/p$subject"
    done
    members=
    for run in "$@"; do
        ckpt="$run/fold_$fold/model.safetensors"
        [ -f "$ckpt" ] || ckpt="$run/fold_$fold/last.safetensors"
        if [ ! -f "$ckpt" ]; then
            echo "cv_ensemble.sh: $run/fold_$fold has no model.safetensors or last.safetensors" >&2
            exit 1
        fi
        members="${members:+$members,}$ckpt"
    done
    # shellcheck disable=SC2086 # the eval options are words
    line=$("$bin" eval "$members" "$held" -o "$out/fold_$fold" --no-progress $eval_opts 2>&1 |
           grep -E '^[0-9]+ samples: accuracy') || {
        echo "cv_ensemble.sh: fold $fold: sensorgram eval $members failed" >&2
        exit 1
    }
    # "1140 samples: accuracy 0.9351  log_loss 0.2546  macro_f1 0.9321"
    echo "$line" | awk -v f="$fold" -v s="$subject" \
        '{ print f "," s "," $1 "," $4 "," $6 }' >> "$rows.tmp"
done
mv "$rows.tmp" "$rows"
awk -F, 'NR > 1 {
        n++; acc[n] = $4; sum += $4; loss += $5
        if (n == 1 || $4 < worst) { worst = $4; who = $2 }
        printf "fold %d  subject %s  %d segments  accuracy %.4f  log_loss %.4f\n", $1, $2, $3, $4, $5
    }
    END {
        mean = sum / n
        for (i = 1; i <= n; i++) ss += (acc[i] - mean) ^ 2
        sd = n > 1 ? sqrt(ss / (n - 1)) : 0
        printf "ensemble of the runs: accuracy %.4f +- %.4f over %d folds (log_loss %.4f)\n",
               mean, sd, n, loss / n
        printf "worst subject: %s (accuracy %.4f)\n", who, worst
    }' "$rows"
