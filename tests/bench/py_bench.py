"""prefloss.torch against PyTorch eager: forward + backward of per-pair DPO
losses, the way a trainer calls them (``loss(...).mean().backward()``), one
thread, in the same run.

Prints, per size, a line

    BENCH kernel=py_dpo n=<pairs> us_prefloss=<µs> us_torch=<µs> vs_torch=<ratio>

with the median CPU time per step of each (the calling thread's, so that a
shared machine's other work does not count) over alternating short rounds of
steps, and vs_torch the median over the rounds of us_torch / us_prefloss in
that round (> 1: prefloss is faster). The library and the package are found as the tests find them
(the source tree's python/ and build/), unless prefloss is importable already.

    python3 tests/bench/py_bench.py [--sizes 64,1024,1048576] [--rounds 31]
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     os.pardir, os.pardir))
sys.path.insert(0, os.path.join(ROOT, "python"))
import prefloss.torch as plt  # noqa: E402

BETA = 0.1


def inputs(n):
    g = torch.Generator().manual_seed(0)
    base_c = -50 - 1950 * torch.rand(n, generator=g)
    base_r = -50 - 1950 * torch.rand(n, generator=g)
    drift = 20 * (torch.rand(n, generator=g) - 0.5)
    rc, rr = base_c, base_r
    pc = (base_c + drift).requires_grad_()
    pr = (base_r + drift - 10 * torch.randn(n, generator=g)).requires_grad_()
    return pc, pr, rc, rr


def step_prefloss(pc, pr, rc, rr):
    plt.dpo_loss(pc, pr, rc, rr, beta=BETA).mean().backward()


def step_torch(pc, pr, rc, rr):
    (-F.logsigmoid(BETA * ((pc - pr) - (rc - rr)))).mean().backward()


def timed(step, args, iters):
    """CPU time of the calling thread per step (the machine may be shared:
    time spent descheduled is not counted)."""
    pc, pr = args[0], args[1]
    t0 = time.thread_time()
    for _ in range(iters):
        pc.grad = pr.grad = None
        step(*args)
    return (time.thread_time() - t0) / iters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="64,1024,1048576")
    ap.add_argument("--rounds", type=int, default=31)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for n in [int(s) for s in args.sizes.split(",")]:
        xs = inputs(n)
        iters = max(1, min(200, int(4e5 / (n + 1000))))
        for step in (step_prefloss, step_torch):  # warm-up
            timed(step, xs, iters)
        rounds = args.rounds if n < 100000 else max(5, args.rounds // 4)
        a, b, r = [], [], []
        for _ in range(rounds):  # alternating short rounds: a paired ratio each
            ta = timed(step_prefloss, xs, iters)
            tb = timed(step_torch, xs, iters)
            a.append(ta)
            b.append(tb)
            r.append(tb / ta)
        print("BENCH kernel=py_dpo n=%d us_prefloss=%.1f us_torch=%.1f vs_torch=%.2f rounds=%d"
              % (n, statistics.median(a) * 1e6, statistics.median(b) * 1e6,
                 statistics.median(r), rounds), flush=True)


if __name__ == "__main__":
    main()
