#!/usr/bin/env python3
"""numpy_encoders.py - the numpy baseline for tools/bench_encoders.c.

    numpy_encoders.py DATA.f32 N C T

DATA.f32 is (N, C, T) raw float32 (the DSA accelerometer axes).  Each
encoder is written the straightforward vectorized numpy way (whole
batches, broadcasting, no Python loop per image), float32 in and out,
doing the same work per image as the C encoders with the same defaults:
  gray         per-channel dataset min/max scaling, one (C, T) image per segment
  rp           |x_i - x_j|
  jrp          product of the x, y, z recurrence plots of each unit
  gasf, gadf   PAA (pyts windows), per-series min-max to [-1, 1], outer products
  mtf          per-series quantile bins (5), transition matrix, field, block means
  spectrogram  hann frames of 32 every 4, |rfft| in dB, high frequencies on top
Each is timed on a subset of segments (the fastest of repeated calls over
at least ~1 s, as the C side) and printed
as "NAME SIZE IMAGES_PER_SECOND IMAGES_PER_CPU_SECOND", one line per case.
"""
import sys
import time

import numpy as np


def segments(T, S, overlapping=False):
    """pyts.utils.segmentation with the window derived from S (as PAA)."""
    window, rem = divmod(T, S)
    if rem:
        window += 1
    if window == 1:
        return np.arange(T), np.arange(1, T + 1)
    if not overlapping:
        b = np.linspace(0, T, S + 1).astype(np.int64)
        return b[:-1], b[1:]
    ovl = np.linspace(0, S * window - T, S).astype(np.int64)
    b = np.arange(0, (S + 1) * window, window)
    return b[:-1] - ovl, b[1:] - ovl


def averaging_matrix(T, S):
    """(T, S) matrix whose column s averages window s."""
    start, end = segments(T, S)
    A = np.zeros((T, S), dtype=np.float32)
    for s in range(S):
        A[start[s]:end[s], s] = 1.0 / (end[s] - start[s])
    return A


def gaf(X, S, difference):
    A = averaging_matrix(X.shape[1], S)
    P = X @ A
    mn = P.min(axis=1, keepdims=True)
    rng = P.max(axis=1, keepdims=True) - mn
    rng[rng == 0] = 1
    c = 2 * (P - mn) / rng - 1
    s = np.sqrt(np.clip(1 - c * c, 0, 1))
    if difference:
        return s[:, :, None] * c[:, None, :] - c[:, :, None] * s[:, None, :]
    return c[:, :, None] * c[:, None, :] - s[:, :, None] * s[:, None, :]


def mtf(X, S, n_bins=5):
    B, T = X.shape
    q = np.linspace(0, 100, n_bins + 1)[1:-1]
    edges = np.percentile(X, q, axis=1).T.astype(np.float32)       # (B, n_bins-1)
    bins = (X[:, :, None] > edges[:, None, :]).sum(axis=2)           # digitize right=True
    flat = (np.arange(B)[:, None] * n_bins * n_bins
            + bins[:, :-1] * n_bins + bins[:, 1:])
    M = np.bincount(flat.ravel(), minlength=B * n_bins * n_bins)
    M = M.reshape(B, n_bins, n_bins).astype(np.float32)
    sums = M.sum(axis=2, keepdims=True)
    sums[sums == 0] = 1
    M /= sums
    F = M[np.arange(B)[:, None, None], bins[:, :, None], bins[:, None, :]]  # (B, T, T)
    if S == T:
        return F
    A = averaging_matrix(T, S)
    return np.einsum('ts,btu,uv->bsv', A, F, A, optimize=True)


def rp(X):
    return np.abs(X[:, :, None] - X[:, None, :])


def spectrogram(X, wl=32, hop=4):
    frames = np.lib.stride_tricks.sliding_window_view(X, wl, axis=1)[:, ::hop, :]
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(wl) / wl)).astype(np.float32)
    mag = np.abs(np.fft.rfft(frames * win, axis=2))                 # (B, F, K)
    db = (20 * np.log10(mag + 1e-6)).astype(np.float32)
    return db.transpose(0, 2, 1)[:, ::-1, :]


def timed(fn, batch_images, min_seconds=1.0, min_calls=3):
    """(wall, cpu) images per second of the fastest of repeated calls (at
    least min_seconds and min_calls in all), timed as bench_encoders.c
    times the C side: the machine is shared and interference only slows a
    call.  The warm-up call also takes the first-touch page faults of the
    big temporaries, which steady-state calls mostly no longer pay."""
    fn()                                   # warm up allocations and caches
    best, best_cpu, calls, total = None, None, 0, 0.0
    while calls < min_calls or total < min_seconds:
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        np.ascontiguousarray(out)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        best = dt if best is None else min(best, dt)
        best_cpu = dc if best_cpu is None else min(best_cpu, dc)
        calls, total = calls + 1, total + dt
    return batch_images / best, batch_images / max(best_cpu, 1e-9)


def main():
    path, n, c, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = np.fromfile(path, dtype=np.float32).reshape(n, c, t)
    sub = data[:256]                                       # 256 segments x 15 axes
    axes = sub.reshape(-1, t)                              # (3840, T)
    mn = data.min(axis=(0, 2))[None, :, None]
    rng = data.max(axis=(0, 2))[None, :, None] - mn
    rng[rng == 0] = 1
    units = sub.reshape(-1, 3, t)                          # (1280, 3, T)

    def gray():                            # all segments, like the C side
        return np.clip((data - mn) / rng, 0, 1).astype(np.float32)

    def jrp():
        return rp(units[:, 0]) * rp(units[:, 1]) * rp(units[:, 2])

    cases = [
        ("gray", 125, gray, data.shape[0]),
        ("rp", 125, lambda: rp(axes), axes.shape[0]),
        ("jrp", 125, jrp, units.shape[0]),
        ("spectrogram", 17, lambda: spectrogram(axes), axes.shape[0]),
    ]
    for name, diff in (("gasf", False), ("gadf", True)):
        for S in (64, 125):
            cases.append((name, S, lambda S=S, d=diff: gaf(axes, S, d), axes.shape[0]))
    for S in (64, 125):
        cases.append(("mtf", S, lambda S=S: mtf(axes[:1024], S), 1024))
    for name, size, fn, count in cases:
        rate, cpu_rate = timed(fn, count)
        print(f"{name} {size} {rate:.1f} {cpu_rate:.1f}", flush=True)
        print(f"  numpy {name:12s} {size:4d} {rate:12.0f} img/s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
