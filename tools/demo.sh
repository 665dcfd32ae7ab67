#!/usr/bin/env bash
# demo.sh - `make demo`: the README's main job end to end on data/dsa.
#
#   0. encode:  the DSA accelerometers as GASF images (PNG + manifest) and
#               an encoder gallery (runs/demo_gallery.png)
#   1. lr-find: the learning-rate range test (figure in runs/demo_lr_find)
#   2. train:   the defaults on the UCI Daily and Sports Activities data:
#               docs/accuracy.md's subject-wise recipe, an ensemble of five
#               ResNet18s (acc+gyro gray+gray:scope=axis, all 45 axes as
#               colours, acc+gyro gray, acc+gyro spectrograms, spectrograms
#               of all 45 axes; encoded in memory with
#               rotation/scale/shift augmentation, one-cycle, 3 epochs) in
#               runs/demo/member_N and their mean in runs/demo; the
#               default validation holds out whole subjects (about 20% of
#               them, seeded), so its accuracy is the one on people the model
#               has never seen -> runs/demo (metrics, checkpoints, figures)
#   3. eval:    the ensemble (the run folder: every member's final model)
#               on the whole data set (runs/demo_eval; training and
#               validation segments together: it shows eval's report, the
#               held-out score is train's validation row)
#   4. predict: the ensemble on a few raw segment files (each checkpoint
#               carries its encoder settings, so nothing else is needed)
#
# Environment: SG_BIN (./sensorgram), SG_DSA (data/dsa), SG_DEMO_OUT
# (runs/demo), SG_DEMO_EPOCHS (3), SG_DEMO_ARGS (extra train options,
# e.g. "--pretrained none" or "--device cuda").
set -euo pipefail

bin=${SG_BIN:-./sensorgram}
dsa=${SG_DSA:-data/dsa}
out=${SG_DEMO_OUT:-runs/demo}
epochs=${SG_DEMO_EPOCHS:-3}
extra=${SG_DEMO_ARGS:-}

[ -x "$bin" ] || { echo "demo.sh: $bin not built (run make)" >&2; exit 1; }
[ -f "$dsa/a01/p1/s01.txt" ] || { echo "demo.sh: $dsa missing (run make data)" >&2; exit 1; }

data_opts=(--dataset dsa "$dsa")

echo "== encode"
"$bin" encode --dataset dsa "$dsa" --sensors acc --encoder gasf --enc-size 64 \
    --format png -q --overwrite -o "${out}_encoded"
"$bin" figures --gallery "$dsa" --dataset dsa --units LL --sensors acc \
    --encoder rp,gasf,mtf,gray,spectrogram -o "${out}_gallery.png"

echo "== lr-find"
# shellcheck disable=SC2086
"$bin" lr-find "${data_opts[@]}" --bs 64 --steps 60 --out "${out}_lr_find" $extra

echo "== train"
# shellcheck disable=SC2086
"$bin" train "${data_opts[@]}" --epochs "$epochs" --bs 64 --lr 1e-3 \
    --seed 42 --overwrite --out "$out" $extra

echo "== eval"
# the checkpoints carry the encoder and channel selection: DATA is enough
"$bin" eval "$out" "$dsa" -o "${out}_eval"

echo "== predict"
"$bin" predict "$out" "$dsa/a09/p1/s01.txt" "$dsa/a12/p1/s01.txt" \
    "$dsa/a15/p1/s01.txt" -o "$out/demo_predictions.csv"
cut -d, -f1-4 "$out/demo_predictions.csv"
echo "demo.sh: run folder $out (figures in $out/figures)"
