#!/usr/bin/env bash
# gpu_check.sh - the one device check: build against the machine's CUDA
# PyTorch, run the model tests on CUDA, a short real training run, and the
# training-step timing table sensorgram vs PyTorch eager.  Writes logs and
# the table under $OUT (default out/gpu_check).  Budget: under 8 minutes.
#
#   tools/gpu_carry.sh                       # here: prepares .carry/
#   run: tools/gpu_check.sh                  # on the GPU machine, carry [".carry"]
#
# Steps (each logged to $OUT/NN_name.log, summary in $OUT/summary.txt):
#  0. preflight: compilers, Python torch (its folder is the libtorch), the
#     carried Debian libraries (.carry/env.sh), and a CUDA device; stops
#     with exit 3 and a message when there is no GPU.
#  1. build sensorgram, the model tests and bench_train (make LIBTORCH=...),
#     print nvidia-smi and torch's device name;
#  2. model tests on cuda (SG_TEST_DEVICE=cuda): logits of ResNet18/34/50
#     against torchvision on the same GPU (fp32 at the CPU tolerance, bf16
#     and fp16 autocast at docs/method.md's), training steps against torch.optim,
#     a GPU checkpoint loaded on the CPU, 20 steps with and without CUDA
#     graphs (tests/test_models.c, test_optim.c, test_cuda_graphs.c);
#  3. a short real run: DSA accelerometers, gray, ResNet34, 2 epochs,
#     --device cuda --mixed-precision bf16 (accuracy and images/s);
#  4. the timing table (tools/bench_train.c vs tools/bench_train.py):
#     ResNet34 at 1x15x125 batch 256 and 512, 3x64x64 batch 256,
#     3x224x224 batch 128; bf16 autocast + channels_last; sensorgram
#     eager and with CUDA graphs; warm-up, then the median of many steps.
# Exit status: 0 all passed, 1 a step failed (the rest still ran),
# 3 no GPU, 4 a missing prerequisite.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/gpu_check}
mkdir -p "$OUT"
PY=${SG_PYTHON:-python3}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 4)}
BUILD=${BUILD:-build/gpu}
start=$(date +%s)
status=0
summary="$OUT/summary.txt"
: >"$summary"

say() { echo "gpu_check: $*" | tee -a "$summary"; }
elapsed() { echo $(($(date +%s) - start)); }
# step NAME TIMEOUT CMD...: runs CMD with a time limit, logs it, records the result
step() {
    local name=$1 limit=$2
    shift 2
    local log="$OUT/$name.log" t0 rc
    t0=$(date +%s)
    echo "== $name: $*" >"$log"
    timeout "$limit" "$@" >>"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        say "PASS $name ($(($(date +%s) - t0)) s)"
    else
        [ $rc -eq 124 ] && echo "(timed out after $limit s)" >>"$log"
        say "FAIL $name (exit $rc after $(($(date +%s) - t0)) s; see $log)"
        tail -n 15 "$log" | sed 's/^/    /' | tee -a "$summary"
        status=1
    fi
    return $rc
}

# --- 0. preflight -----------------------------------------------------------
for tool in gcc g++ make; do
    command -v "$tool" >/dev/null || { say "no $tool on this machine: cannot build (install a C/C++ toolchain)"; exit 4; }
done
command -v "$PY" >/dev/null || { say "no $PY: the CUDA PyTorch is its torch package"; exit 4; }
torch_info=$("$PY" - <<'EOF' 2>&1
import os, torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "dir", os.path.dirname(torch.__file__))
print("gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
EOF
) || { say "python torch failed to import: $torch_info"; exit 4; }
echo "$torch_info" | tee -a "$summary"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || true
    cat "$OUT/nvidia-smi.txt"
else
    echo "(no nvidia-smi)" >"$OUT/nvidia-smi.txt"
fi
gpu=$(echo "$torch_info" | sed -n 's/^gpu //p')
if [ "$gpu" = none ] || [ -z "$gpu" ]; then
    say "no CUDA GPU: $PY's torch ($(echo "$torch_info" | sed -n 's/^torch \([^ ]*\) cuda \([^ ]*\).*/\1, CUDA \2/p')) sees no CUDA device; nothing to check here (run this on the GPU machine)"
    exit 3
fi
LIBTORCH=$(echo "$torch_info" | sed -n 's/.* dir //p')
[ -d "$LIBTORCH/include/torch" ] && [ -d "$LIBTORCH/lib" ] ||
    { say "$LIBTORCH has no include/ and lib/: not a libtorch"; exit 4; }
if [ -f .carry/env.sh ]; then
    # A carried library built for a newer glibc than this machine's cannot
    # load: set it aside when the machine has that library itself.
    have=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc 2\.\([0-9]*\).*/\1/p')
    if [ -n "$have" ] && [ -f .carry/glibc_needs.txt ]; then
        while read -r lib need; do
            [ -n "$need" ] && [ "${need#2.}" -gt "$have" ] 2>/dev/null || continue
            soname=$(basename "$lib" | sed 's/\(\.so\.[0-9]*\).*/\1/')
            if ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$soname "; then
                mkdir -p .carry/set_aside
                mv -f ".carry/root/$lib" ".carry/root/$(dirname "$lib")/$soname" .carry/set_aside/ 2>/dev/null
                say "glibc 2.$have < $need: using this machine's $soname instead of the carried one"
            else
                say "warning: carried $soname needs glibc $need (this machine: 2.$have) and the machine has none"
            fi
        done <.carry/glibc_needs.txt
    fi
    # shellcheck disable=SC1091
    . .carry/env.sh
    say "carried libraries: .carry ($(wc -l <.carry/packages.txt) Debian packages)"
else
    say "no .carry/env.sh: using this machine's libraries (tools/gpu_carry.sh prepares them)"
fi
for mod in torchvision numpy PIL; do
    "$PY" -c "import $mod" 2>/dev/null || say "note: python module $mod missing: the oracle tests that need it skip"
done
export SG_TEST_DEVICE=cuda SG_PYTHON="$PY" SG_SHARED="${SG_SHARED:-../shared}"

# --- 1. build ---------------------------------------------------------------
targets=("$BUILD/sensorgram" "$BUILD/tests/test_models" "$BUILD/tests/test_optim"
         "$BUILD/tests/test_cuda_graphs" "$BUILD/tools/bench_train")
# CUDA graphs need the CUDA runtime headers (the Makefile looks next to the
# torch package and in /usr/local/cuda; CUDA_INCLUDE=DIR overrides).  If
# that half does not compile, build without it so everything else runs.
if ! step 01_build 300 make -j"$JOBS" BUILD="$BUILD" LIBTORCH="$LIBTORCH" "${targets[@]}"; then
    if grep -q -- '-DSG_TORCH_CUDA=1' "$OUT/01_build.log"; then
        say "retrying the build without CUDA graphs (CUDA_INCLUDE=)"
        status=0
        step 01_build_no_graphs 300 make -j"$JOBS" BUILD="$BUILD" LIBTORCH="$LIBTORCH" CUDA_INCLUDE= \
            "${targets[@]}" || { say "build failed: stopping"; exit 1; }
        status=1 # the graph half did not build: a failure to report
    else
        say "build failed: stopping"
        exit 1
    fi
fi
if grep -q -- '-DSG_TORCH_CUDA=1' "$OUT"/01_build*.log && [ ! -f "$OUT/01_build_no_graphs.log" ]; then
    say "CUDA graphs compiled in"
else
    say "CUDA graphs NOT compiled in (no usable cuda_runtime_api.h; set CUDA_INCLUDE=DIR): the graph test and rows fail"
fi

# --- 2. model tests on cuda ---------------------------------------------------
export SG_BIN="$BUILD/sensorgram"
for t in test_models test_optim test_cuda_graphs; do
    step "02_$t" 150 "$BUILD/tests/$t"
done

# --- 3. short real run --------------------------------------------------------
dsa=""
if [ -d data/dsa/a01 ]; then
    dsa=data/dsa
elif [ -f .carry/dsa.tar.xz ]; then
    mkdir -p "$BUILD/data" && tar -C "$BUILD/data" -xJf .carry/dsa.tar.xz && dsa="$BUILD/data/dsa"
fi
if [ -n "$dsa" ]; then
    subjects=$(ls "$dsa/a01" | tr '\n' ' ')
    rm -rf "$BUILD/run_dsa"
    if step 03_dsa_run 150 "$BUILD/sensorgram" train --dataset dsa "$dsa" --sensors acc --encoder gray \
        --arch resnet34 --pretrained none --epochs 2 --bs 64 --lr 3e-3 --valid-pct 0.2 --seed 42 \
        --device cuda --mixed-precision bf16 --no-progress --out "$BUILD/run_dsa"; then
        say "short run (DSA subjects $subjects): $(grep -iE 'accuracy|images/s|waited' "$OUT/03_dsa_run.log" | tail -n 3 | tr '\n' ' ')"
    fi
else
    say "NOT RUN 03_dsa_run: no data/dsa and no .carry/dsa.tar.xz"
    status=1
fi

# --- 4. timing table ------------------------------------------------------------
table="$OUT/table.md"
{
    echo "Device: $gpu; $(echo "$torch_info" | head -n 1 | cut -d' ' -f1-4)"
    echo
    echo "| input | batch | sensorgram eager img/s | sensorgram graphs img/s | PyTorch eager img/s | eager/PT | graphs/PT |"
    echo "|---|---|---|---|---|---|---|"
} >"$table"
num() { sed -n 's/^images_per_s=\([0-9.]*\).*/\1/p' | head -n 1; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && echo "$1 $2" | awk '{printf "%.2f", $1 / $2}' || echo "-"; }
while read -r c h w n steps; do
    tag="${c}x${h}x${w}_b$n"
    args=(resnet34 "$n" "$c" "$h" "$w" "$steps" 4 cuda bf16 1)
    step "04_sg_eager_$tag" 90 "$BUILD/tools/bench_train" "${args[@]}" off 10
    e=$(num <"$OUT/04_sg_eager_$tag.log")
    step "04_sg_graphs_$tag" 90 "$BUILD/tools/bench_train" "${args[@]}" on 10
    g=$(num <"$OUT/04_sg_graphs_$tag.log")
    step "04_pt_eager_$tag" 90 "$PY" tools/bench_train.py "${args[@]}" off 10
    p=$(num <"$OUT/04_pt_eager_$tag.log")
    echo "| ${c}x${h}x${w} | $n | ${e:--} | ${g:--} | ${p:--} | $(ratio "$e" "$p") | $(ratio "$g" "$p") |" >>"$table"
done <<'SIZES'
1 15 125 256 100
1 15 125 512 100
3 64 64 256 60
3 224 224 128 30
SIZES
{
    echo
    echo "ResNet34, SGD momentum 0.9, bf16 autocast, channels_last; each step copies the batch from"
    echo "pinned host memory and reads the loss back; 10 warm-up steps, then the median step"
    echo "(sensorgram: wall time of sg_model_train_step; PyTorch: CUDA events around the step)."
} >>"$table"
cat "$table" | tee -a "$summary"
say "done in $(elapsed) s, exit status $status"
exit $status
