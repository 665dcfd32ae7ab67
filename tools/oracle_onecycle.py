#!/usr/bin/env python3
"""Reference one-cycle schedules from PyTorch (test oracle for test_schedule).

usage: oracle_onecycle.py SETTING [SETTING ...]
  SETTING = MAX_LR,TOTAL_STEPS,PCT_START,cos|linear,THREE_PHASE(0|1),sgd|adam

For each setting in turn prints TOTAL_STEPS lines "lr momentum": the
values the optimizer sees before its (s+1)-th step, s = 0 .. TOTAL-1
(momentum is Adam's beta1 for adam), with repr precision.  One process
serves all settings because importing torch dominates the run time.
"""
import sys

import torch


def schedule(max_lr, total, pct, anneal, three, opt_name):
    param = torch.nn.Parameter(torch.zeros(1))
    if opt_name == "adam":
        opt = torch.optim.Adam([param], lr=max_lr)
    else:
        opt = torch.optim.SGD([param], lr=max_lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=max_lr, total_steps=total, pct_start=pct, anneal_strategy=anneal,
        three_phase=three)
    out = []
    for _ in range(total):
        g = opt.param_groups[0]
        mom = g["betas"][0] if opt_name == "adam" else g["momentum"]
        out.append("%r %r" % (g["lr"], mom))
        opt.step()
        sched.step()
    return out


def main():
    lines = []
    for setting in sys.argv[1:]:
        lr, total, pct, anneal, three, opt_name = setting.split(",")
        lines += schedule(float(lr), int(total), float(pct), anneal, three == "1", opt_name)
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
