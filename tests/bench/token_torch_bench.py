"""PyTorch CPU eager baseline of the token stage for `make bench`: the way
TRL computes a DPO step from logits (log_softmax, gather of the labels,
masked sum per sequence, the sigmoid loss, backward to the logits), one
thread, median of REPS runs, at the size bench_token.c uses (2 pairs,
T = 128, V = 32000: smaller than a real batch so that `make bench` stays
short on a shared machine), or at the size given:

    token_torch_bench.py [B T V [REPS]]

Prints "TORCH kernel=pair_from_logits pairs=B T=T V=V ms=<median> peak_rss_mb=<x>
base_rss_mb=<y>": the process's peak resident set after the steps, and its
resident set before the first step (PyTorch itself and the inputs), so that
peak - base is what the step adds.
"""
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
REPS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
B, T, V = (int(a) for a in sys.argv[1:4]) if len(sys.argv) > 3 else (2, 128, 32000)
BETA, IGN = 0.1, -100


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def seq_logps(logits, labels):
    mask = labels != IGN
    safe = labels.masked_fill(~mask, 0)
    per_token = torch.gather(logits.log_softmax(-1), 2, safe.unsqueeze(2)).squeeze(2)
    return (per_token * mask).sum(-1)


def step(xc, xr, lc, lr, rc, rr):
    xc.grad = None
    xr.grad = None
    pc, pr = seq_logps(xc, lc), seq_logps(xr, lr)
    loss = -F.logsigmoid(BETA * ((pc - rc) - (pr - rr))).mean()
    loss.backward()


def main():
    g = torch.Generator().manual_seed(0)
    xc = (2 * torch.randn(B, T, V, generator=g)).requires_grad_()
    xr = (2 * torch.randn(B, T, V, generator=g)).requires_grad_()
    lc = torch.randint(0, V, (B, T), generator=g)
    lr = torch.randint(0, V, (B, T), generator=g)
    lc[:, : T // 4] = IGN
    lr[:, : T // 4] = IGN
    rc = torch.full((B,), -900.0)
    rr = torch.full((B,), -905.0)
    base = rss_mb()
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        step(xc, xr, lc, lr, rc, rr)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"TORCH kernel=pair_from_logits pairs={B} T={T} V={V} ms={statistics.median(times) * 1e3:.2f} "
          f"peak_rss_mb={peak:.1f} base_rss_mb={base:.1f}")


main()
