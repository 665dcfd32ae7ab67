#!/usr/bin/env python3
"""baseline_features.py - the feature-based baselines of the subject-independent table.

Statistics per axis after Altun, Barshan and Tuncel (Pattern Recognition 43(10), 2010):
min, max, mean, variance, skewness, kurtosis, the autocorrelation at lags 1..11, the five
largest peaks of the DFT magnitude (DC excluded) and their frequencies in Hz; 27 numbers per
axis, 45 axes -> 1,215 features per 5 s segment.  Then, on leave-one-subject-out folds (the
same folds as `sensorgram train --cv loso`: each subject once as validation):

  forest  500-tree random forest (sklearn defaults otherwise, seed 0)
  svm     standardized, PCA 30, RBF SVM with C = 10
  knn     standardized, PCA 30, 7 nearest neighbours

Prints one row per method: per-fold accuracy, mean +- std (numpy's population std, and the
sample std with n - 1 as `sensorgram train --cv loso` prints it) and the mean log loss.

  /usr/bin/python3 tools/baseline_features.py data/dsa [--methods forest,svm,knn] [--jobs 2]
                                             [--sensors all|acc|acc,gyro] [--csv OUT.csv]

A test oracle and a README baseline only: sensorgram never imports Python.
"""
import argparse
import glob
import os
import sys
import time

import numpy as np
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import log_loss
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

RATE_HZ = 25.0
N_LAGS = 11
N_PEAKS = 5


def read_dsa(root):
    """(X (N, 125, 45) float64, activity (N,), subject (N,)) from ROOT/aNN/pM/sKK.txt."""
    paths = sorted(glob.glob(os.path.join(root, "a[0-9][0-9]", "p[0-9]*", "s[0-9][0-9].txt")))
    if not paths:
        sys.exit(f"baseline_features.py: no DSA segments under {root} (aNN/pM/sKK.txt)")
    xs, ys, subj = [], [], []
    for p in paths:
        parts = p.split(os.sep)
        xs.append(np.loadtxt(p, delimiter=","))
        ys.append(int(parts[-3][1:]))
        subj.append(int(parts[-2][1:]))
    return np.stack(xs), np.array(ys), np.array(subj)


def features(X):
    """X (N, T, C) -> (N, C * 27) statistics per axis."""
    n, t, c = X.shape
    mean = X.mean(axis=1)
    var = X.var(axis=1)
    out = [X.min(axis=1), X.max(axis=1), mean, var,
           np.nan_to_num(stats.skew(X, axis=1)), np.nan_to_num(stats.kurtosis(X, axis=1))]
    centred = X - mean[:, None, :]
    denom = (centred ** 2).sum(axis=1)
    denom[denom == 0] = 1.0
    for lag in range(1, N_LAGS + 1):
        out.append((centred[:, lag:, :] * centred[:, :-lag, :]).sum(axis=1) / denom)
    mag = np.abs(np.fft.rfft(centred, axis=1))[:, 1:, :]          # (N, T/2, C), DC dropped
    freqs = np.fft.rfftfreq(t, d=1.0 / RATE_HZ)[1:]
    top = np.argsort(-mag, axis=1)[:, :N_PEAKS, :]                  # (N, 5, C)
    peaks = np.take_along_axis(mag, top, axis=1)
    for k in range(N_PEAKS):
        out.append(peaks[:, k, :])
    for k in range(N_PEAKS):
        out.append(freqs[top[:, k, :]])
    return np.concatenate(out, axis=1)


def make_model(name, jobs, seed):
    if name == "forest":
        return RandomForestClassifier(n_estimators=500, n_jobs=jobs, random_state=seed)
    if name == "svm":
        return make_pipeline(StandardScaler(), PCA(30, random_state=seed),
                             SVC(C=10.0, kernel="rbf", probability=True, random_state=seed))
    if name == "knn":
        return make_pipeline(StandardScaler(), PCA(30, random_state=seed),
                             KNeighborsClassifier(n_neighbors=7))
    sys.exit(f"baseline_features.py: unknown method '{name}' (forest, svm, knn)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("--methods", default="forest,svm,knn")
    ap.add_argument("--sensors", default="all", choices=["all", "acc", "acc,gyro"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--csv", help="also write fold,subject,method,accuracy,log_loss here")
    a = ap.parse_args()

    t0 = time.time()
    X, y, subj = read_dsa(a.root)
    if a.sensors != "all":   # each unit's 9 columns: acc x, y, z, gyro x, y, z, mag x, y, z
        per_unit = 3 if a.sensors == "acc" else 6
        X = X[:, :, [u * 9 + k for u in range(5) for k in range(per_unit)]]
    F = features(X)
    print(f"{len(y)} segments, {len(np.unique(subj))} subjects, {F.shape[1]} features "
          f"({time.time() - t0:.1f} s to read and compute)")
    subjects = np.unique(subj)
    classes = np.unique(y)
    rows = []
    for m in a.methods.split(","):
        accs, losses = [], []
        t1 = time.time()
        for s in subjects:
            tr, va = subj != s, subj == s
            model = make_model(m, a.jobs, a.seed).fit(F[tr], y[tr])
            proba = model.predict_proba(F[va])
            pred = model.classes_[proba.argmax(axis=1)]
            accs.append(float((pred == y[va]).mean()))
            losses.append(float(log_loss(y[va], proba, labels=classes)))
            rows.append((len(accs) - 1, int(s), m, accs[-1], losses[-1]))
        acc = np.array(accs)
        sd1 = acc.std(ddof=1) if len(acc) > 1 else 0.0
        print(f"{m:7s} LOSO accuracy {100 * acc.mean():.1f}% +- {100 * acc.std():.1f} "
              f"(n-1: {100 * sd1:.1f})  folds " + " ".join(f"{100 * v:.1f}" for v in acc) +
              f"  worst subject {int(subjects[acc.argmin()])}  log_loss {np.mean(losses):.3f}"
              f"  ({time.time() - t1:.0f} s)")
    if a.csv:
        with open(a.csv + ".tmp", "w") as f:
            f.write("fold,subject,method,accuracy,log_loss\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]},{r[2]},{r[3]:.6f},{r[4]:.6f}\n")
        os.replace(a.csv + ".tmp", a.csv)


if __name__ == "__main__":
    main()
