#!/usr/bin/env python3
# usage: make_dsa_arrays.py DSA_ROOT OUT: numpy data sets made from DSA for docs/accuracy.md
# Data sets derived from DSA that look unlike the UEA problems, as numpy arrays:
# fewshot45: 19 classes x 4 training cases (subjects 1-5, drawn at random), all 45 channels, T=125;
#            test: subject 6, every segment.
# short25:   the first 25 samples (1 s) of every segment, 45 channels; train subjects 1-5 (5,700), test 6.
# long1500:  12 consecutive segments joined (60 s, 1,500 samples), 45 channels: 5 cases per activity
#            and subject; train subjects 1-5 (475), test 6 (95).
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
def join(X, y, k=12):
    # each activity and subject is 60 consecutive segments (load's order): k at a time in time
    n, C, T = X.shape
    Xl = X.reshape(n // k, k, C, T).transpose(0, 2, 1, 3).reshape(n // k, C, k * T)
    return np.ascontiguousarray(Xl), y[::k].copy()
save(f'{out}/long1500/train', *join(Xtr, ytr)); save(f'{out}/long1500/test', *join(Xte, yte))
print(Xtr.shape, Xte.shape, len(idx))
