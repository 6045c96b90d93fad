"""DPO fine-tuning of a tiny causal language model, with libprefloss and
with the plain PyTorch formula, side by side.

The model is a one-layer causal transformer (about 3k parameters) over a
12-token vocabulary. A synthetic preference dataset is generated: for each
prompt, two responses are sampled from the reference model and the one with
more "good" tokens (ids below 6) is the chosen one. The policy starts as a
copy of the reference and is trained with DPO twice from the same start on
the same batches:

  libprefloss:  seq = prefloss.torch.sequence_logps(token_logps, mask)
                losses = prefloss.torch.dpo_loss(pc, pr, rc, rr, beta)
  PyTorch:      seq = (token_logps * mask).sum(-1)
                losses = -F.logsigmoid(beta * ((pc - pr) - (rc - rr)))

Both loss curves are printed with their largest difference, and the
policy's preference accuracy on held-out pairs (the share of pairs whose
chosen response the policy finds more likely) before and after.

  Every step also evaluates the other formula on the same parameters, to
separate the per-step difference (float32 rounding) from the slow drift of
two independent trajectories.

With --from-logits the libprefloss side starts one stage earlier: the
model's logits and the response tokens go to
prefloss.torch.pair_loss_from_logits (token log-probs, masked sums and the
loss in one library call, the gradient written to the logits), against
PyTorch's log_softmax + gather path.

  python3 train_dpo.py           # run and print
    python3 train_dpo.py --check   # also exit non-zero unless the curves
                                   # agree and the accuracy rises
    python3 train_dpo.py --from-logits --check
"""
import argparse
import copy
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    import prefloss
    import prefloss.torch
except ImportError:  # not installed: the package in this source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    os.pardir, os.pardir, "python"))
    import prefloss  # noqa: E402
    import prefloss.torch  # noqa: E402

VOCAB, PROMPT, RESP, DIM = 12, 4, 6, 16
GOOD = VOCAB // 2  # token ids below this are "good"


class TinyLM(nn.Module):
    """One pre-norm causal self-attention block and an MLP, tied embeddings."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, DIM)
        self.pos = nn.Embedding(PROMPT + RESP, DIM)
        self.ln1 = nn.LayerNorm(DIM)
        self.qkv = nn.Linear(DIM, 3 * DIM)
        self.proj = nn.Linear(DIM, DIM)
        self.ln2 = nn.LayerNorm(DIM)
        self.mlp = nn.Sequential(nn.Linear(DIM, 2 * DIM), nn.GELU(), nn.Linear(2 * DIM, DIM))
        self.lnf = nn.LayerNorm(DIM)

    def forward(self, ids):  # (B, T) -> logits (B, T, VOCAB)
        T = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(T))
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        att = (q @ k.transpose(1, 2)) / math.sqrt(DIM)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        x = x + self.proj(att @ v)
        x = x + self.mlp(self.ln2(x))
        return self.lnf(x) @ self.tok.weight.t()


def token_logps(model, ids):
    """Log-prob of each response token given everything before it: (B, RESP)."""
    logits = model(ids[:, :-1])
    lp = F.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    return lp[:, PROMPT - 1:].contiguous()


@torch.no_grad()
def sample(model, prompts, gen):
    ids = prompts
    for _ in range(RESP):
        probs = model(ids)[:, -1].softmax(-1)
        ids = torch.cat([ids, torch.multinomial(probs, 1, generator=gen)], dim=1)
    return ids


def make_pairs(ref, n, gen):
    """n preference pairs: two sampled responses per prompt (with random
    lengths 2..RESP), chosen = the one with more good tokens (ties dropped)."""
    chosen, rejected, cmask, rmask = [], [], [], []
    while sum(len(c) for c in chosen) < n:
        m = n + n // 2  # about 3 in 4 pairs are kept (not ties)
        prompts = torch.randint(0, VOCAB, (m, PROMPT), generator=gen)
        a, b = sample(ref, prompts, gen), sample(ref, prompts, gen)
        la = torch.randint(2, RESP + 1, (m,), generator=gen)
        lb = torch.randint(2, RESP + 1, (m,), generator=gen)
        ma = torch.arange(RESP)[None] < la[:, None]
        mb = torch.arange(RESP)[None] < lb[:, None]
        # reward: share of good tokens in the response
        ra = ((a[:, PROMPT:] < GOOD) & ma).sum(1) / la
        rb = ((b[:, PROMPT:] < GOOD) & mb).sum(1) / lb
        keep = ra != rb
        a_wins = (ra > rb)[keep]
        a, b, ma, mb = a[keep], b[keep], ma[keep], mb[keep]
        w = a_wins[:, None]
        chosen.append(torch.where(w, a, b))
        rejected.append(torch.where(w, b, a))
        cmask.append(torch.where(w, ma, mb))
        rmask.append(torch.where(w, mb, ma))
    return [torch.cat(x)[:n] for x in (chosen, rejected, cmask, rmask)]


def response_logits(model, ids, mask):
    """The logits that predict each response token, (B, RESP, VOCAB), and the
    response tokens as labels, -100 where the mask is 0."""
    logits = model(ids[:, :-1])[:, PROMPT - 1:].contiguous()
    labels = ids[:, PROMPT:].masked_fill(~mask.bool(), -100)
    return logits, labels


def sequence_logps(model, ids, mask, use_lib):
    lp = token_logps(model, ids)
    if use_lib:
        return prefloss.torch.sequence_logps(lp, mask)
    return (lp * mask).sum(-1)


def dpo_losses(pc, pr, rc, rr, beta, use_lib):
    if use_lib:
        return prefloss.torch.dpo_loss(pc, pr, rc, rr, beta=beta)
    logits = (pc - pr) - (rc - rr)
    return -F.logsigmoid(beta * logits)


@torch.no_grad()
def preference_accuracy(model, data):
    c, r, cm, rm = data
    pc = sequence_logps(model, c, cm, False)
    pr = sequence_logps(model, r, rm, False)
    return (pc > pr).double().mean().item()


def train(start, ref, batches, test, beta, lr, use_lib, from_logits=False):
    """One DPO run, stepping with the libprefloss loss (use_lib) or the plain
    PyTorch one. Every step also evaluates the other formula on the same
    parameters, so the per-step difference (same inputs) is measured apart
    from the drift of two trajectories."""
    model = copy.deepcopy(start).train()
    params = list(model.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    curve, step_loss_diff, step_grad_diff = [], 0.0, 0.0
    for c, r, cm, rm in batches:
        with torch.no_grad():
            rc = sequence_logps(ref, c, cm, False)
            rr = sequence_logps(ref, r, rm, False)
        lc, lr_ = token_logps(model, c), token_logps(model, r)
        losses = {}
        for lib in (True, False):
            if lib and from_logits:
                xc, yc = response_logits(model, c, cm)
                xr, yr = response_logits(model, r, rm)
                losses[lib] = prefloss.torch.pair_loss_from_logits(
                    "sigmoid", xc, yc, xr, yr, rc, rr, beta=beta).mean()
                continue
            if lib:
                pc = prefloss.torch.sequence_logps(lc, cm)
                pr = prefloss.torch.sequence_logps(lr_, rm)
            else:
                pc, pr = (lc * cm).sum(-1), (lr_ * rm).sum(-1)
            losses[lib] = dpo_losses(pc, pr, rc, rr, beta, lib).mean()
        g_lib = torch.autograd.grad(losses[True], params, retain_graph=True)
        g_pt = torch.autograd.grad(losses[False], params)
        step_loss_diff = max(step_loss_diff, abs(losses[True].item() - losses[False].item())
                             / abs(losses[False].item()))
        scale = max(g.abs().max().item() for g in g_pt)
        step_grad_diff = max(step_grad_diff, max((a - b).abs().max().item()
                                                 for a, b in zip(g_lib, g_pt)) / scale)
        for p, g in zip(params, g_lib if use_lib else g_pt):
            p.grad = g
        opt.step()
        curve.append(losses[use_lib].item())
    return curve, preference_accuracy(model, test), step_loss_diff, step_grad_diff


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--from-logits", action="store_true",
                    help="libprefloss from the logits (pair_loss_from_logits)")
    ap.add_argument("--check", action="store_true",
                    help="exit non-zero unless the curves agree and the accuracy rises")
    args = ap.parse_args()

    t0 = time.time()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    ref = TinyLM().eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    nparams = sum(p.numel() for p in ref.parameters())
    train_data = make_pairs(ref, args.steps * args.batch, gen)
    test = make_pairs(ref, 500, gen)
    batches = [[x[i * args.batch:(i + 1) * args.batch] for x in train_data]
               for i in range(args.steps)]

    print("libprefloss %s (package %s); torch %s; model: %d parameters; "
          "%d pairs in %d steps of %d; beta = %g; libprefloss from %s"
          % (prefloss.version(), prefloss.__version__, torch.__version__, nparams,
             args.steps * args.batch, args.steps, args.batch, args.beta,
             "the logits" if args.from_logits else "token log-probs"))
    acc0 = preference_accuracy(ref, test)
    curve_lib, acc_lib, dl1, dg1 = train(ref, ref, batches, test, args.beta, args.lr, True,
                                         args.from_logits)
    curve_pt, acc_pt, dl2, dg2 = train(ref, ref, batches, test, args.beta, args.lr, False)
    step_loss, step_grad = max(dl1, dl2), max(dg1, dg2)

    print("%6s  %12s  %12s  %10s" % ("step", "libprefloss", "pytorch", "|diff|"))
    for i in list(range(0, args.steps, max(1, args.steps // 12))) + [args.steps - 1]:
        print("%6d  %12.8f  %12.8f  %10.3g"
              % (i + 1, curve_lib[i], curve_pt[i], abs(curve_lib[i] - curve_pt[i])))
    diffs = [abs(a - b) for a, b in zip(curve_lib, curve_pt)]
    rel = max(d / abs(b) for d, b in zip(diffs, curve_pt))
    eps32 = 2.0 ** -23
    print("same parameters, each step: max relative difference of the loss %.3g "
          "(%.2f float32 eps), of the gradient %.3g (%.2f eps, relative to its largest entry)"
          % (step_loss, step_loss / eps32, step_grad, step_grad / eps32))
    print("the two training runs: max |difference| of the loss curves %.3g (relative %.3g, "
          "%.1f eps: Adam carries the per-step rounding along)" % (max(diffs), rel, rel / eps32))
    print("preference accuracy on %d held-out pairs: before %.3f, after %.3f (libprefloss), "
          "%.3f (pytorch)" % (len(test[0]), acc0, acc_lib, acc_pt))
    print("time: %.1f s" % (time.time() - t0))

    if args.check:
        problems = []
        # Agreement to float32 precision. Same parameters: the two formulas
        # differ by the rounding of a float32 sum and loss, a few eps; the
        # parameter gradients add the backward through the network (sums
        # with cancellation), so they get 256 eps relative to their largest
        # entry. Two runs: the differences are carried by Adam through all
        # the steps; 1e-5 relative (~80 eps) bounds that drift.
        if not step_loss <= 8 * eps32:
            problems.append("per-step losses differ by %.3g (relative)" % step_loss)
        if not step_grad <= 256 * eps32:
            problems.append("per-step gradients differ by %.3g (relative)" % step_grad)
        if not rel <= 1e-5:
            problems.append("the loss curves differ by %.3g (relative)" % rel)
        if not (acc_lib >= acc0 + 0.15 and acc_pt >= acc0 + 0.15):
            problems.append("preference accuracy did not rise (%.3f -> %.3f / %.3f)"
                            % (acc0, acc_lib, acc_pt))
        if not curve_lib[-1] < curve_lib[0]:
            problems.append("the loss did not decrease")
        if problems:
            print("train_dpo: FAILED: " + "; ".join(problems))
            return 1
        print("train_dpo: OK (curves agree to float32 precision, accuracy rose)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
