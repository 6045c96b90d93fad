"""Float64 PyTorch references (TRL v0.26 formulas) and ulp measurements.

Every reference is evaluated in float64 from the *same float32 inputs* the
library gets (beta and the other parameters rounded to float32 first, since
that is what the library receives), so the difference measures the library's
error, not the inputs' rounding."""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "examples", "python"))
import prefloss  # noqa: E402,F401  (re-exported to the tests)

FLT_MIN = float(np.finfo(np.float32).tiny)
FLT_MAX = float(np.finfo(np.float32).max)


def f32(x):
    """A Python float rounded to float32, as ctypes.c_float passes it."""
    return float(np.float32(x))


def t64(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float32)).double()


# --- TRL v0.26 DPOTrainer.dpo_loss, float64 ---------------------------------

def trl_logits(pc, pr, rc=None, rr=None):
    logratios = pc - pr
    ref_logratios = torch.zeros_like(pc) if rc is None else rc - rr
    return logratios - ref_logratios


def trl_sigmoid(pc, pr, rc, rr, beta, label_smoothing=0.0):
    """loss_type="sigmoid" (cDPO with label smoothing)."""
    logits = trl_logits(pc, pr, rc, rr)
    return (-F.logsigmoid(beta * logits) * (1 - label_smoothing)
            - F.logsigmoid(-beta * logits) * label_smoothing)


def trl_ipo(pc, pr, rc, rr, beta):
    """loss_type="ipo": (logits - 1/(2 beta))**2."""
    logits = trl_logits(pc, pr, rc, rr)
    return (logits - 1 / (2 * beta)) ** 2


def ipo_general(pc, pr, rc, rr, beta, a1, a2):
    """The header's general IPO: (beta*h - (alpha2 - alpha1)/2)**2 (the
    minimiser of the symmetrised (h - a2)^2 + (-h - a1)^2)."""
    logits = trl_logits(pc, pr, rc, rr)
    return (beta * logits - (a2 - a1) / 2) ** 2


def trl_bt(sw, sl, margin=None, center=0.0):
    """RewardTrainer: -logsigmoid(rc - rr - margin) + c*(rc + rr)**2 (per pair)."""
    x = sw - sl if margin is None else sw - sl - margin
    return -F.logsigmoid(x) + center * (sw + sl) ** 2


def with_grads(fn, xs, nondiff=(), upstream=None):
    """Losses of fn and their gradients w.r.t. xs by torch.autograd (float64)."""
    xs = [x.clone().requires_grad_(True) for x in xs]
    losses = fn(*xs, *nondiff)
    w = torch.ones_like(losses) if upstream is None else upstream
    grads = torch.autograd.grad((losses * w).sum(), xs)
    return losses.detach(), [g.detach() for g in grads]


# --- ulp measurements --------------------------------------------------------

def ulp(y):
    """float32 spacing at |y| (float64 array in, float64 array out)."""
    y = np.abs(np.asarray(y, dtype=np.float64))
    y32 = np.minimum(y, FLT_MAX).astype(np.float32)
    return np.spacing(y32).astype(np.float64)


def ulp_error(got, ref):
    """|got - ref| in float32 ulps of ref (ref float64)."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return np.abs(got - ref) / ulp(ref)


def check_budget(testcase, got, ref, budget, what, abs_floor=None):
    """Asserts |got - ref| <= budget ulp(ref) wherever ref is a normal float32
    (DESIGN §5); elsewhere (|ref| < FLT_MIN) |got - ref| <= FLT_MIN.
    ``abs_floor`` optionally gives an absolute allowance per element."""
    got = np.asarray(got, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    budget = np.broadcast_to(np.asarray(budget, dtype=np.float64), ref.shape)
    testcase.assertTrue(np.all(np.isfinite(got)), "%s: non-finite output" % what)
    err = np.abs(got - ref)
    allowed = np.where(np.abs(ref) >= FLT_MIN, budget * ulp(ref), FLT_MIN)
    if abs_floor is not None:
        allowed = allowed + abs_floor
    bad = np.nonzero(~(err <= allowed))[0]
    if len(bad):
        i = bad[np.argmax((err / allowed)[bad])]
        testcase.fail("%s: %d of %d outside the budget; worst #%d: got %r, ref %r, "
                      "error %.3g ulp, budget %.3g ulp"
                      % (what, len(bad), len(ref), i, got[i], ref[i],
                         err[i] / ulp(ref[i]), budget[i]))
    return float(np.max(err / ulp(ref))) if len(ref) else 0.0


def sigmoid64(z):
    return torch.sigmoid(z)


def softplus64(x):
    """log(1 + e^x), stable, float64."""
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))


def kappa_sigmoid_loss(z, eps):
    """Condition number |z f'(z)/f(z)| of f = (1-eps) sp(-z) + eps sp(z)."""
    f = (1 - eps) * softplus64(-z) + eps * softplus64(z)
    fp = -(1 - eps) * torch.sigmoid(-z) + eps * torch.sigmoid(z)
    return torch.abs(z * fp) / f


def kappa_sigmoid_grad(z, eps):
    """Condition number of g = -beta (sigma(-z) - eps) w.r.t. z."""
    g = torch.sigmoid(-z) - eps
    gp = torch.sigmoid(z) * torch.sigmoid(-z)
    return torch.abs(z * gp) / torch.abs(g)


def exact_h(pc, pr, rc, rr):
    """h = (pc - rc) - (pr - rr) correctly rounded to float64 (math.fsum)."""
    pc, pr = np.asarray(pc, np.float64), np.asarray(pr, np.float64)
    if rc is None:
        return torch.tensor([math.fsum((a, -b)) for a, b in zip(pc, pr)], dtype=torch.float64)
    rc, rr = np.asarray(rc, np.float64), np.asarray(rr, np.float64)
    return torch.tensor([math.fsum((a, -c, -b, d)) for a, b, c, d in zip(pc, pr, rc, rr)],
                        dtype=torch.float64)
