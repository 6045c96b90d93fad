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
    (docs/numerics.md); elsewhere (|ref| < FLT_MIN) |got - ref| <= FLT_MIN.
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


# --- TRL v0.26 DPOTrainer.dpo_loss: the whole loss_type catalogue, float64 ---
#
# Each takes float64 tensors (pc, pr, rc, rr) -- rc = rr = None means the
# reference-free zeros -- and a dict P of the float32-rounded parameters
# (beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta).
# Where TRL's literal expression would overflow or cancel *in float64* for the
# extreme inputs tested (e^{-z} for z = -1e3, 1 - sigmoid(x) for large x), an
# algebraically identical form is used; each such rewrite is named.

def _logratios(pc, pr, rc, rr):
    if rc is None:
        return pc, pr
    return pc - rc, pr - rr


def _sig_loss(z, eps):
    """TRL's sigmoid loss of z = beta*logits with label smoothing eps."""
    return -F.logsigmoid(z) * (1 - eps) - F.logsigmoid(-z) * eps


def cap_exp(value, cap=None):
    """trl.trainer.utils.cap_exp with the float32 cap the library uses, TRL's
    get_exp_cap: log(FLT_MAX) floored to 4 decimals, 88.7228 as a float32
    (docs/catalogue.md): exp(min(value, cap))."""
    cap = float(np.float32(88.7228)) if cap is None else cap
    return torch.exp(torch.clamp(value, max=cap))


def _sigmoid(x):
    """sigmoid(x) as exp(logsigmoid(x)): the same value, but its float64
    autograd derivative does not cancel (torch's sigmoid backward forms
    y*(1 - y), which is 0 or one rounding error once y rounds to 1)."""
    return torch.exp(F.logsigmoid(x))


def trl_catalogue(loss_type, pc, pr, rc, rr, P):
    beta, eps = P["beta"], P["label_smoothing"]
    uc, ur = _logratios(pc, pr, rc, rr)          # chosen/rejected_logratios
    logits = trl_logits(pc, pr, rc, rr)
    if loss_type == "sigmoid":
        return _sig_loss(beta * logits, eps)
    if loss_type == "ipo":
        return (logits - 1 / (2 * beta)) ** 2
    if loss_type == "hinge":
        return torch.relu(1 - beta * logits)
    if loss_type == "robust":
        z = beta * logits
        return (-F.logsigmoid(z) * (1 - eps) + F.logsigmoid(-z) * eps) / (1 - 2 * eps)
    if loss_type == "exo_pair":
        e = f32(1e-3) if eps == 0 else eps   # TRL: label_smoothing 0 -> 1e-3 (float32 here)
        z = beta * logits
        return (_sigmoid(z) * (F.logsigmoid(z) - math.log(1 - e))
                + _sigmoid(-z) * (F.logsigmoid(-z) - math.log(e)))
    if loss_type == "nca_pair":
        c, r = uc * beta, ur * beta
        return -F.logsigmoid(c) - 0.5 * F.logsigmoid(-c) - 0.5 * F.logsigmoid(-r)
    if loss_type == "bco_pair":
        delta = P["bco_delta"]
        return -F.logsigmoid(beta * uc - delta) - F.logsigmoid(-(beta * ur - delta))
    if loss_type == "sppo_hard":
        return (uc - 0.5 / beta) ** 2 + (ur + 0.5 / beta) ** 2
    if loss_type == "apo_zero":
        # 1 - sigmoid(x) written sigmoid(-x) (no float64 cancellation)
        return _sigmoid(-beta * uc) + _sigmoid(beta * ur)
    if loss_type == "apo_down":
        # 1 - sigmoid(beta*(uc - ur)) written sigmoid(-beta*(uc - ur))
        return _sigmoid(beta * uc) + _sigmoid(-beta * (uc - ur))
    if loss_type == "discopop":
        z = beta * logits
        # sigmoid(z/tau) * exp(-z) written exp(logsigmoid(z/tau) - z): TRL's
        # product is 0 * inf = NaN in float64 for z < -709
        return (-F.logsigmoid(z) * _sigmoid(-z / P["discopop_tau"])
                + torch.exp(F.logsigmoid(z / P["discopop_tau"]) - z))
    if loss_type == "js_divergence":
        # logits - (softplus(uc) - softplus(ur)) == logsigmoid(uc) - logsigmoid(ur)
        # (x - softplus(x) = logsigmoid(x)); the latter does not cancel in float64
        return _sig_loss(beta * (F.logsigmoid(uc) - F.logsigmoid(ur)), eps)
    if loss_type == "alpha_divergence":
        a = P["alpha"]
        return _sig_loss(beta * (cap_exp(ur * -a) - cap_exp(uc * -a)) / a, eps)
    if loss_type == "simpo":   # CPOTrainer, loss_type="simpo" (no reference)
        lg = (pc - pr) - P["simpo_gamma"] / beta
        return _sig_loss(beta * lg, eps)
    if loss_type == "cpo":     # CPOTrainer, loss_type="sigmoid" (no reference)
        return _sig_loss(beta * (pc - pr), eps)
    raise ValueError(loss_type)


#: Kinds that depend on h = uc - ur only (cpo/simpo: on pc - pr only).
H_ONLY = ("sigmoid", "ipo", "hinge", "robust", "exo_pair", "discopop", "simpo", "cpo")
REFLESS = ("simpo", "cpo")


def catalogue_with_kappa(loss_type, pc, pr, rc, rr, P):
    """Float64 reference losses, gradients w.r.t. pc and pr (torch.autograd),
    and the condition numbers of each of the three w.r.t. the quantities the
    library forms exactly (h for the kinds of H_ONLY, uc and ur otherwise):
    kappa_f = sum_v |v df/dv| / |f|."""
    if loss_type in REFLESS:
        rc = rr = None
    a = pc.clone().requires_grad_(True)
    b = pr.clone().requires_grad_(True)
    f = trl_catalogue(loss_type, a, b, rc, rr, P)
    gc, gr = torch.autograd.grad(f.sum(), (a, b), create_graph=True)
    gcc, gcr = torch.autograd.grad(gc.sum(), (a, b), retain_graph=True, allow_unused=True)
    grc, grr = torch.autograd.grad(gr.sum(), (a, b), allow_unused=True)
    z = torch.zeros_like(pc)
    gcc, gcr, grc, grr = [z if t is None else t.detach() for t in (gcc, gcr, grc, grr)]
    f, gc, gr = f.detach(), gc.detach(), gr.detach()
    if rc is None:
        uc, ur = pc, pr
    else:
        uc, ur = pc - rc, pr - rr   # exact: float32 inputs, float64 difference
    with np.errstate(divide="ignore", invalid="ignore"):
        if loss_type in H_ONLY:
            h = torch.abs(uc - ur)
            kf = h * torch.abs(gc) / torch.abs(f)
            kc = h * torch.abs(gcc) / torch.abs(gc)
            kr = h * torch.abs(grr) / torch.abs(gr)
        else:
            kf = (torch.abs(uc * gc) + torch.abs(ur * gr)) / torch.abs(f)
            kc = (torch.abs(uc * gcc) + torch.abs(ur * gcr)) / torch.abs(gc)
            kr = (torch.abs(uc * grc) + torch.abs(ur * grr)) / torch.abs(gr)
    if loss_type == "apo_down":
        gc, kc = _apo_down_dc(uc, ur, P["beta"])
    fix = lambda k: torch.nan_to_num(k, nan=0.0, posinf=1e30).numpy()
    return (f.numpy(), gc.numpy(), gr.numpy()), (fix(kf), fix(kc), fix(kr))


def _apo_down_dc(uc, ur, beta):
    """apo_down's dL/dpc = beta*(s'(a) - s'(z)), a = beta*uc, z = beta*(uc - ur),
    s'(x) = sigmoid(x)*sigmoid(-x), and its kappa. Autograd forms the
    difference, which cancels in float64 too where |a| ~ |z| (ur ~ 0: the
    true value is ~beta*ur*s''(a), autograd's error ~2^-53*beta). Rewritten
    without a difference (s'(x) = 1/(4 cosh^2(x/2)), cosh^2 p - cosh^2 q =
    sinh(p + q) sinh(p - q)):
        s'(a) - s'(z) = 4 sinh(p) sinh(q) s'(a) s'(z),  p = (z + a)/2, q = (z - a)/2,
    with p = beta*(uc - ur/2) and q = -beta*ur/2 from the exact log-ratios;
    kappa from the logarithmic derivatives of the four factors
    (d log s'(x)/dx = -tanh(x/2))."""
    a, z = beta * uc, beta * (uc - ur)
    p, q = beta * (uc - ur / 2), -beta * ur / 2
    sd = lambda x: torch.exp(F.logsigmoid(x) + F.logsigmoid(-x))
    ap, aq = p.abs(), q.abs()
    # sinh(p) sinh(q) s'(a) s'(z) without overflow: sinh|p| = e^|p| (1 - e^-2|p|)/2
    mag = torch.exp(ap + aq + F.logsigmoid(a) + F.logsigmoid(-a) + F.logsigmoid(z) + F.logsigmoid(-z)) \
        * (-torch.expm1(-2 * ap)) * (-torch.expm1(-2 * aq)) / 4
    gc = beta * 4 * torch.sign(p) * torch.sign(q) * mag
    with np.errstate(divide="ignore", invalid="ignore"):
        dlc = beta * (1 / torch.tanh(p) - torch.tanh(a / 2) - torch.tanh(z / 2))
        dlr = beta * (-0.5 / torch.tanh(p) - 0.5 / torch.tanh(q) + torch.tanh(z / 2))
        kc = torch.abs(uc * dlc) + torch.abs(ur * dlr)
    return gc, kc
