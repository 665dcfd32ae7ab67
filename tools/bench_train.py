#!/usr/bin/env python3
"""bench_train.py - torchvision's training-step throughput, the reference
for tools/bench_train.c (same arguments, same protocol: train mode, SGD
lr 0.01 momentum 0.9, random inputs and labels, 2 warm-up steps, then
STEPS timed steps).  Prints images_per_s=<value>.

usage: bench_train.py ARCH BATCH C H W STEPS THREADS
"""
import sys
import time

import torch
import torchvision


def main(argv):
    arch, n, c, h, w, steps, threads = argv[1], *map(int, argv[2:8])
    torch.set_num_threads(threads)  # Debian's python torch defaults to 1
    torch.manual_seed(1)
    net = getattr(torchvision.models, arch)(num_classes=19)
    if c != 3:
        net.conv1 = torch.nn.Conv2d(c, 64, 7, 2, 3, bias=False)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(n, c, h, w) - 0.5
    y = torch.arange(n) % 19
    for s in range(steps + 2):
        if s == 2:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    print(f"images_per_s={n * steps / dt:.3f} loss={loss.item():.4f}")


if __name__ == "__main__":
    main(sys.argv)
