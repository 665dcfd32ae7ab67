#!/usr/bin/env python3
"""numpy_e2e.py - the numpy reference for the end-to-end benchmark.

    numpy_e2e.py DSA_ROOT SUBJECTS OUT.npy

What a numpy user does for `sensorgram encode --dataset dsa --sensors acc
--subjects SUBJECTS --encoder gasf --enc-size 64 --format npy --stack`:
parse every segment file of those subjects with numpy.loadtxt, keep the 15
accelerometer columns, encode all of them as GASF 64 in one vectorized
batch (float64, as pyts computes), and write one float32 (N, 15, 64, 64)
array with numpy.save.  Prints "SEGMENTS SECONDS".
"""
import glob
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numpy_encoders import averaging_matrix  # noqa: E402  (pyts's PAA windows)

ACC = [u * 9 + a for u in range(5) for a in range(3)]   # T, RA, LA, RL, LL acc x, y, z


def gasf(X, S):
    """X (n, T) float64 -> (n, S, S): PAA, min-max to [-1, 1], cos(a+b)."""
    P = X @ averaging_matrix(X.shape[1], S).astype(np.float64)
    mn = P.min(axis=1, keepdims=True)
    rng = P.max(axis=1, keepdims=True) - mn
    rng[rng == 0] = 1
    c = 2 * (P - mn) / rng - 1
    s = np.sqrt(np.clip(1 - c * c, 0, 1))
    return c[:, :, None] * c[:, None, :] - s[:, :, None] * s[:, None, :]


def main():
    root, subjects, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    files = sorted(f for s in subjects for f in glob.glob(f"{root}/a*/p{s}/s*.txt"))
    t0 = time.perf_counter()
    X = np.stack([np.loadtxt(f, delimiter=",", usecols=ACC).T for f in files])  # (N, 15, 125)
    n, c, t = X.shape
    G = gasf(X.reshape(n * c, t), 64).astype(np.float32).reshape(n, c, 64, 64)
    np.save(out, G)
    print(n, f"{time.perf_counter() - t0:.3f}")


if __name__ == "__main__":
    main()
