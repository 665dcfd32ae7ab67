#!/usr/bin/env python3
# usage: make_dsa_arrays.py DSA_ROOT OUT: numpy data sets made from DSA for docs/accuracy.md
# Data sets derived from DSA that look unlike the UEA problems, as numpy arrays:
# fewshot45: 19 classes x 4 training cases (subjects 1-5, drawn at random), all 45 channels, T=125;
#            test: subject 6, every segment.
# short25:   the first 25 samples (1 s) of every segment, 45 channels; train subjects 1-5 (5,700), test 6.
import numpy as np, os, glob
import sys
root, out = sys.argv[1], sys.argv[2]
def load(subjects):
    X, y = [], []
    for a in range(1, 20):
        for p in subjects:
            for f in sorted(glob.glob(f'{root}/a{a:02d}/p{p}/s*.txt')):
                X.append(np.loadtxt(f, delimiter=',').T.astype(np.float32))
                y.append(a - 1)
    return np.stack(X), np.array(y, dtype=np.int64)
Xtr, ytr = load([1, 2, 3, 4, 5]); Xte, yte = load([6])
rng = np.random.default_rng(7)
idx = np.concatenate([rng.choice(np.where(ytr == c)[0], 4, replace=False) for c in range(19)])
def save(d, X, y):
    os.makedirs(d, exist_ok=True); np.save(f'{d}/X.npy', X); np.save(f'{d}/y.npy', y)
save(f'{out}/fewshot45/train', Xtr[idx], ytr[idx]); save(f'{out}/fewshot45/test', Xte, yte)
save(f'{out}/short25/train', Xtr[:, :, :25].copy(), ytr); save(f'{out}/short25/test', Xte[:, :, :25].copy(), yte)
print(Xtr.shape, Xte.shape, len(idx))
