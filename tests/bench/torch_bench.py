"""PyTorch CPU eager baselines for `make bench`: forward + backward of the
same formulas on the same sizes, one thread, median of several runs.

Prints lines "TORCH kernel=<name> n=<n> mpairs_s=<float>" that bench.c reads.

Every kind of the loss catalogue is timed, in TRL v0.26's own formulas:
DPOTrainer.dpo_loss (its loss_type and f_divergence_type branches), and
CPOTrainer.cpo_loss for simpo and cpo, with the parameters bench.c passes to
prefloss_pair_loss().
"""
import math
import statistics
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
REPS = 9
BETA, EPS = 0.1, 0.1
DISCOPOP_TAU, SIMPO_GAMMA = 0.05, 0.5


def inputs(n):
    g = torch.Generator().manual_seed(0)
    base_c = -50 - 1950 * torch.rand(n, generator=g)
    base_r = -50 - 1950 * torch.rand(n, generator=g)
    drift = 20 * (torch.rand(n, generator=g) - 0.5)
    rc, rr = base_c, base_r
    pc = (base_c + drift).requires_grad_()
    pr = (base_r + drift - 10 * torch.randn(n, generator=g)).requires_grad_()
    return pc, pr, rc, rr


def dpo(pc, pr, rc, rr):
    return -F.logsigmoid(BETA * ((pc - rc) - (pr - rr)))


def cdpo(pc, pr, rc, rr):
    z = BETA * ((pc - rc) - (pr - rr))
    return -(1 - EPS) * F.logsigmoid(z) - EPS * F.logsigmoid(-z)


def ipo(pc, pr, rc, rr):
    return ((pc - rc) - (pr - rr) - 1 / (2 * BETA)) ** 2


def bt(pc, pr, rc, rr):
    return -F.logsigmoid(pc - pr)


# --- the catalogue subset (TRL v0.26) -----------------------------------------
# logits = (pc - pr) - (rc - rr); chosen/rejected log-ratios pc - rc, pr - rr.


def hinge(pc, pr, rc, rr):
    logits = (pc - pr) - (rc - rr)
    return torch.relu(1 - BETA * logits)


def robust(pc, pr, rc, rr):  # label_smoothing = EPS
    logits = (pc - pr) - (rc - rr)
    return (
        -F.logsigmoid(BETA * logits) * (1 - EPS) + F.logsigmoid(-BETA * logits) * EPS
    ) / (1 - 2 * EPS)


def exo_pair(pc, pr, rc, rr):  # label_smoothing = 0, which TRL replaces by 1e-3
    eps = 1e-3
    logits = (pc - pr) - (rc - rr)
    return (BETA * logits).sigmoid() * (F.logsigmoid(BETA * logits) - math.log(1 - eps)) + (
        -BETA * logits
    ).sigmoid() * (F.logsigmoid(-BETA * logits) - math.log(eps))


def apo_zero(pc, pr, rc, rr):  # TRL's F.sigmoid, which is torch.sigmoid (undeprecated)
    losses_chosen = 1 - torch.sigmoid(BETA * (pc - rc))
    losses_rejected = torch.sigmoid(BETA * (pr - rr))
    return losses_chosen + losses_rejected


def discopop(pc, pr, rc, rr):
    logits = ((pc - pr) - (rc - rr)) * BETA
    log_ratio_modulation = torch.sigmoid(logits / DISCOPOP_TAU)
    logistic_component = -F.logsigmoid(logits)
    exp_component = torch.exp(-logits)
    return logistic_component * (1 - log_ratio_modulation) + exp_component * log_ratio_modulation


def simpo(pc, pr, rc, rr):  # CPOTrainer; no reference
    label_smoothing = 0.0  # both terms are evaluated, as TRL does
    logits = (pc - pr) - SIMPO_GAMMA / BETA
    return (
        -F.logsigmoid(BETA * logits) * (1 - label_smoothing)
        - F.logsigmoid(-BETA * logits) * label_smoothing
    )


def nca_pair(pc, pr, rc, rr):
    chosen_rewards = (pc - rc) * BETA
    rejected_rewards = (pr - rr) * BETA
    return (
        -F.logsigmoid(chosen_rewards)
        - 0.5 * F.logsigmoid(-chosen_rewards)
        - 0.5 * F.logsigmoid(-rejected_rewards)
    )


def bco_pair(pc, pr, rc, rr):  # delta (the running mean of the rewards) = 0
    delta = 0.0
    chosen_rewards = BETA * (pc - rc)
    rejected_rewards = BETA * (pr - rr)
    return -F.logsigmoid(chosen_rewards - delta) - F.logsigmoid(-(rejected_rewards - delta))


def sppo_hard(pc, pr, rc, rr):
    a = pc - rc
    b = pr - rr
    return (a - 0.5 / BETA) ** 2 + (b + 0.5 / BETA) ** 2


def apo_down(pc, pr, rc, rr):
    chosen_logratios = pc - rc
    rejected_logratios = pr - rr
    losses_chosen = torch.sigmoid(BETA * chosen_logratios)
    losses_rejected = 1 - torch.sigmoid(BETA * (chosen_logratios - rejected_logratios))
    return losses_chosen + losses_rejected


def js_divergence(pc, pr, rc, rr):  # label_smoothing = 0: the sigmoid loss
    chosen_logratios = pc - rc
    rejected_logratios = pr - rr
    logits = chosen_logratios - rejected_logratios - F.softplus(chosen_logratios) + F.softplus(rejected_logratios)
    return -F.logsigmoid(BETA * logits)


def cap_exp(value):  # TRL's cap_exp with get_exp_cap for float32: 88.7228
    return torch.exp(torch.clamp(value, max=88.7228))


def alpha_divergence(pc, pr, rc, rr):  # alpha = 1 (TRL's default), label_smoothing = 0
    alpha_coef = 1.0
    chosen_logratios = pc - rc
    rejected_logratios = pr - rr
    logits = (cap_exp(rejected_logratios * -alpha_coef) - cap_exp(chosen_logratios * -alpha_coef)) / alpha_coef
    return -F.logsigmoid(BETA * logits)


def cpo(pc, pr, rc, rr):  # CPOTrainer's sigmoid loss; no reference
    label_smoothing = 0.0
    logits = pc - pr
    return (
        -F.logsigmoid(BETA * logits) * (1 - label_smoothing)
        - F.logsigmoid(-BETA * logits) * label_smoothing
    )


CATALOGUE = (("hinge", hinge), ("robust", robust), ("exo_pair", exo_pair),
             ("apo_zero", apo_zero), ("discopop", discopop), ("simpo", simpo),
             ("nca_pair", nca_pair), ("bco_pair", bco_pair), ("sppo_hard", sppo_hard),
             ("apo_down", apo_down), ("js_divergence", js_divergence),
             ("alpha_divergence", alpha_divergence), ("cpo", cpo))


def median_seconds(fn, inner):
    fn()
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def bench_pairwise(name, f, n):
    pc, pr, rc, rr = inputs(n)
    upstream = torch.ones(n)

    def step():
        pc.grad = pr.grad = None
        f(pc, pr, rc, rr).backward(upstream)

    inner = 2000 if n < 65536 else 1
    print(f"TORCH kernel={name} n={n} mpairs_s={n / median_seconds(step, inner) / 1e6:.3f}", flush=True)


def bench_sequence(b, t):
    g = torch.Generator().manual_seed(0)
    tok = (-8 * torch.rand(b, t, generator=g)).requires_grad_()
    mask = torch.rand(b, t, generator=g) < 0.9
    dseq = torch.rand(b, generator=g)

    def fwd():
        with torch.no_grad():
            (tok * mask).sum(-1)

    out = (tok * mask).sum(-1)

    def bwd():
        tok.grad = None
        torch.autograd.grad(out, tok, dseq, retain_graph=True)

    n = b * t
    print(f"TORCH kernel=seq_logps_fwd n={n} mpairs_s={n / median_seconds(fwd, 4) / 1e6:.3f}", flush=True)
    print(f"TORCH kernel=seq_logps_bwd n={n} mpairs_s={n / median_seconds(bwd, 4) / 1e6:.3f}", flush=True)


if __name__ == "__main__":
    for n in (1024, 4194304):
        for name, f in (("dpo", dpo), ("cdpo", cdpo), ("ipo", ipo), ("bt", bt)) + CATALOGUE:
            bench_pairwise(name, f, n)
    bench_sequence(64, 4096)
