#!/usr/bin/env python3
"""bench_train_e2e.py - one epoch of PyTorch training at PyTorch's own
defaults: the reference for sensorgram's whole-run training throughput
(tools/bench_train_e2e.sh).

The images are sensorgram's own encoding of the same segments (encode
--stack, X.npy (N, C, H, W) and y.csv), held in memory as tensors, so
PyTorch does no encoding at all while sensorgram encodes every batch on
the fly: the ratio leans towards PyTorch.  Everything else is what a
PyTorch user gets without tuning: torch's default thread count (every
core), a DataLoader with its defaults (num_workers 0), torchvision's
resnet18 with the stem widened to C input channels, AdamW (lr 1e-3, wd
0.01) under OneCycleLR, batch 64, shuffled.

usage: bench_train_e2e.py X.npy Y.csv [EPOCHS]
Prints images_per_s=<training images / training seconds> threads=<n>.
"""
import csv
import sys
import time

import numpy as np
import torch
import torchvision


def main():
    x_path, y_path = sys.argv[1], sys.argv[2]
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    x = torch.from_numpy(np.load(x_path).astype(np.float32))
    with open(y_path, newline="") as f:
        rows = list(csv.DictReader(f))
    names = sorted({r["label"] for r in rows}) if "label" in rows[0] else None
    y = torch.tensor([names.index(r["label"]) if names else int(r[list(r)[1]]) for r in rows])
    n_classes = int(y.max()) + 1
    model = torchvision.models.resnet18(num_classes=n_classes)
    model.conv1 = torch.nn.Conv2d(x.shape[1], 64, 7, 2, 3, bias=False)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1e-3, total_steps=epochs * len(loader))
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    seen, t0 = 0, time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            loss.item()  # as a progress bar or recorder reads it
            seen += len(yb)
    dt = time.perf_counter() - t0
    print(f"images_per_s={seen / dt:.2f} threads={torch.get_num_threads()} images={seen}")


if __name__ == "__main__":
    main()
