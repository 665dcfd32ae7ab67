#!/usr/bin/env python3
"""oracle_repr.py - numpy/torch references for tests/test_repr_cli.c.

    oracle_repr.py magnitude OUTDIR MODE FIT.json
        OUTDIR is `encode --dataset dsa --magnitude MODE --encoder gray
        --format npy --stack --save-fit FIT.json` output.  Reads every
        segment file listed in OUTDIR/manifest.csv with numpy.loadtxt,
        computes the axis channels and numpy.linalg.norm of each unit's and
        sensor's x, y, z columns (after the axes for add, alone for only)
        and checks: the channel names of encoding.json, the fitted per-
        channel min/max against numpy's (1e-9), and every gray row of X.npy
        against (value - min) / (max - min) (1e-6).

    oracle_repr.py stack STACK_DIR PART_DIR...
        STACK_DIR holds `encode --encoder A+B+... --format npy --stack`,
        each PART_DIR the same segments encoded by one encoder alone (in
        list order).  Maps each part to [0, 1] from encoding.json's range
        (bounded: linearly; else per image min-max), resizes it to the
        first part's H x W with torch.nn.functional.interpolate(bilinear,
        antialias=True, align_corners=False), concatenates the channels and
        checks X.npy element-wise (1e-5).

Exits 1 with the worst mismatch printed; 0 when everything matches.
"""
import csv
import json
import os
import sys

import numpy as np

UNITS = ["T", "RA", "LA", "RL", "LL"]
SENSORS = ["acc", "gyro", "mag"]
AXES = ["x", "y", "z"]


def fail(msg):
    print("oracle_repr: " + msg)
    sys.exit(1)


def check_close(what, got, want, atol):
    d = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
    if d.size and d.max() > atol:
        i = np.unravel_index(int(np.argmax(d)), d.shape)
        fail("%s: mismatch at %s: expected %.9g, got %.9g (|diff| %.3g > %g)"
             % (what, i, np.asarray(want)[i], np.asarray(got)[i], d[i], atol))
    print("%s: %d values, max |diff| %.3g" % (what, d.size, d.max() if d.size else 0.0))


def magnitude(outdir, mode, fit_path):
    enc = json.load(open(os.path.join(outdir, "encoding.json")))
    names = enc["segment_channel_names"]
    # the selection is every column: units x sensors x axes in dsa.c's order
    axis_names = ["%s_%s_%s" % (u, s, a) for u in UNITS for s in SENSORS for a in AXES]
    norm_names = ["%s_%s_norm" % (u, s) for u in UNITS for s in SENSORS]
    want_names = (axis_names if mode == "add" else []) + norm_names
    if names != want_names:
        fail("channel names %s, expected %s" % (names, want_names))
    rows = list(csv.DictReader(open(os.path.join(outdir, "manifest.csv"))))
    segs = []
    for r in rows:
        x = np.loadtxt(r["source"], delimiter=",", dtype=np.float64)   # (125, 45)
        triads = x.reshape(x.shape[0], 15, 3)                          # unit, sensor, axis
        norms = np.linalg.norm(triads, axis=2)                         # (125, 15)
        ch = np.concatenate([x, norms], axis=1) if mode == "add" else norms
        segs.append(ch.T)                                              # (C, T)
    S = np.stack(segs)                                                 # (N, C, T)
    fit = json.load(open(fit_path))
    mn, mx = S.min(axis=(0, 2)), S.max(axis=(0, 2))
    check_close("fitted min per channel", fit["min"], mn, 1e-9)
    check_close("fitted max per channel", fit["max"], mx, 1e-9)
    X = np.load(os.path.join(outdir, "X.npy"))
    if X.shape != (len(rows), 1, S.shape[1], S.shape[2]):
        fail("X.npy shape %s, expected %s" % (X.shape, (len(rows), 1) + S.shape[1:]))
    want = (S - mn[None, :, None]) / (mx - mn)[None, :, None]
    check_close("gray rows (norms included)", X[:, 0], want, 1e-6)


def to_unit(X, enc):
    lo, hi = enc["value_range"]
    X = X.astype(np.float64)
    if enc["bounded"]:
        return np.clip((X - lo) / (hi - lo), 0, 1)
    out = np.empty_like(X)
    for i in range(X.shape[0]):
        a, b = X[i].min(), X[i].max()
        out[i] = (X[i] - a) / (b - a) if b > a else 0.0
    return out


def stack(stack_dir, parts):
    import torch
    import torch.nn.functional as F
    X = np.load(os.path.join(stack_dir, "X.npy"))
    maps = []
    for p in parts:
        enc = json.load(open(os.path.join(p, "encoding.json")))
        maps.append(to_unit(np.load(os.path.join(p, "X.npy")), enc))
    H, W = maps[0].shape[2:]
    out = []
    for m in maps:
        if m.shape[2:] != (H, W):
            t = torch.from_numpy(m.astype(np.float32))
            m = F.interpolate(t, size=(H, W), mode="bilinear", antialias=True,
                              align_corners=False).numpy()
        out.append(m)
    want = np.concatenate(out, axis=1)
    if X.shape != want.shape:
        fail("stacked X.npy shape %s, expected %s" % (X.shape, want.shape))
    check_close("stacked channels", X, want, 1e-5)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "magnitude":
        magnitude(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 4 and sys.argv[1] == "stack":
        stack(sys.argv[2], sys.argv[3:])
    else:
        print(__doc__)
        sys.exit(2)
