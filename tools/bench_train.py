#!/usr/bin/env python3
"""bench_train.py - torchvision's training-step throughput, the reference
for tools/bench_train.c (same arguments, same protocol: train mode, SGD
lr 0.01 momentum 0.9, random inputs and labels, WARMUP steps, then STEPS
timed steps).  Prints images_per_s=<batch / median step> median_ms=<>.

usage: bench_train.py ARCH BATCH C H W STEPS THREADS
                      [DEVICE [PRECISION [CHANNELS_LAST [GRAPHS [WARMUP]]]]]

PyTorch eager, as fastai drives it: every step copies the batch from a
pinned host tensor (a DataLoader with pin_memory) and reads the loss back
(fastai's recorder and progress bar do).  On CUDA each step is timed
with CUDA events (start before the copy, end after the optimizer step)
and the median is reported; PRECISION bf16/fp16 is torch.autocast (fp16
with torch.amp.GradScaler), CHANNELS_LAST 1 puts model and input in
channels_last.  GRAPHS is accepted for symmetry and must be off (this is
the eager reference).
"""
import statistics
import sys
import time

import torch

try:
    import torchvision
except ImportError:  # a bare GPU machine may have torch alone
    torchvision = None


class Block(torch.nn.Module):
    """torchvision's BasicBlock / Bottleneck (v1.5: stride on conv2), for
    machines without torchvision; same layers, so the same kernels run."""

    def __init__(self, cin, planes, stride, bottleneck):
        super().__init__()
        nn = torch.nn
        out = planes * (4 if bottleneck else 1)
        if bottleneck:
            self.body = nn.Sequential(
                nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(inplace=True),
                nn.Conv2d(planes, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes),
                nn.ReLU(inplace=True), nn.Conv2d(planes, out, 1, bias=False), nn.BatchNorm2d(out))
        else:
            self.body = nn.Sequential(
                nn.Conv2d(cin, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes),
                nn.ReLU(inplace=True), nn.Conv2d(planes, planes, 3, 1, 1, bias=False),
                nn.BatchNorm2d(planes))
        self.down = None
        if stride != 1 or cin != out:
            self.down = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + (self.down(x) if self.down is not None else x))


def resnet(arch, num_classes):
    if torchvision is not None:
        return getattr(torchvision.models, arch)(num_classes=num_classes)
    layers = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3], "resnet50": [3, 4, 6, 3]}[arch]
    bottleneck = arch == "resnet50"
    nn = torch.nn
    net = nn.Module()
    net.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
    mods, cin = [], 64
    for i, n in enumerate(layers):
        planes = 64 * 2 ** i
        for j in range(n):
            mods.append(Block(cin, planes, 2 if j == 0 and i > 0 else 1, bottleneck))
            cin = planes * (4 if bottleneck else 1)
    net.stem = nn.Sequential(nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
    net.blocks = nn.Sequential(*mods)
    net.fc = nn.Linear(cin, num_classes)
    net.forward = lambda x: net.fc(torch.flatten(
        torch.nn.functional.adaptive_avg_pool2d(net.blocks(net.stem(net.conv1(x))), 1), 1))
    return net


def main(argv):
    if not 8 <= len(argv) <= 13:
        sys.exit(__doc__)
    arch, n, c, h, w, steps, threads = argv[1], *map(int, argv[2:8])
    device = torch.device(argv[8] if len(argv) > 8 else "cpu")
    prec = argv[9] if len(argv) > 9 else "fp32"
    channels_last = len(argv) > 10 and argv[10] == "1"
    if len(argv) > 11 and argv[11] != "off":
        sys.exit("bench_train.py: the PyTorch side is eager (GRAPHS off)")
    warmup = int(argv[12]) if len(argv) > 12 else 2
    torch.set_num_threads(threads)  # Debian's python torch defaults to 1
    torch.manual_seed(1)
    net = resnet(arch, 19)
    if c != 3:
        net.conv1 = torch.nn.Conv2d(c, 64, 7, 2, 3, bias=False)
    net.to(device)
    if channels_last:
        net.to(memory_format=torch.channels_last)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    cuda = device.type == "cuda"
    x_host = torch.rand(n, c, h, w) - 0.5
    y_host = torch.arange(n) % 19
    if cuda:
        x_host, y_host = x_host.pin_memory(), y_host.pin_memory()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(prec)
    scaler = torch.amp.GradScaler("cuda") if cuda and prec == "fp16" else None
    times = []
    for s in range(steps + warmup):
        if cuda:
            t0, t1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            t0.record()
        else:
            c0 = time.perf_counter()
        x = x_host.to(device, non_blocking=True)
        y = y_host.to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype, enabled=cuda and dtype is not None):
            out = net(x)
        loss = torch.nn.functional.cross_entropy(out.float(), y)
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        if cuda:
            t1.record()
        value = loss.item()
        if s >= warmup:
            times.append(t0.elapsed_time(t1) / 1e3 if cuda else time.perf_counter() - c0)
    med = statistics.median(times)
    print(f"images_per_s={n / med:.3f} median_ms={1e3 * med:.4f} "
          f"mean_ms={1e3 * statistics.fmean(times):.4f} loss={value:.4f} "
          f"model={'torchvision' if torchvision is not None else 'bench_train.py resnet'}")


if __name__ == "__main__":
    main(sys.argv)
