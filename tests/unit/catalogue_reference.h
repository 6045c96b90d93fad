/*
 * catalogue_reference.h — the long-double reference of every kind of the
 * loss catalogue (prefloss_pair_loss), written from TRL v0.26's dpo_loss /
 * CPOTrainer formulas (not from the library's algorithms), with the
 * condition number of each output and a central-difference cross-check of
 * the analytic gradients. Used by tests/unit/test_catalogue.c and by
 * make bench (tests/bench/bench.c).
 *
 * reference(kind, params, pc, pr, rc, rr) gives the loss, dL/dpc and dL/dpr
 * (before the weight and the upstream gradient), the sum of the magnitudes
 * of each one's terms, and kappa: for kinds of one scalar argument x,
 * |x f'(x) / f(x)|; for kinds of two arguments (uc, ur), the sum of the
 * condition numbers with respect to each.
 */
#ifndef PREFLOSS_CATALOGUE_REFERENCE_H
#define PREFLOSS_CATALOGUE_REFERENCE_H

#include <math.h>

#include "prefloss.h"
#include "reference.h"

enum { NOUT = 3 };   /* the outputs: loss, dL/dpc, dL/dpr */

static int two_args(int kind)
{
    return kind == PREFLOSS_LOSS_NCA_PAIR || kind == PREFLOSS_LOSS_BCO_PAIR || kind == PREFLOSS_LOSS_SPPO_HARD
        || kind == PREFLOSS_LOSS_APO_ZERO || kind == PREFLOSS_LOSS_APO_DOWN || kind == PREFLOSS_LOSS_JS
        || kind == PREFLOSS_LOSS_ALPHA;
}

/* the kinds that read no reference, as the library says */
static int refless(int kind) { return prefloss_loss_kind_reads(kind, "reference") == 0; }

/* ======================================================================== */
/* The long-double reference, from TRL v0.26's formulas                     */
/* ======================================================================== */

/* F.logsigmoid */
static ld logsig(ld x) { return -ref_softplus(-x); }

/* One evaluation: the loss, dL/dpc, dL/dpr, and T (sum of |terms|) of each. */
typedef struct { ld v[NOUT]; ld t[NOUT]; } rval;

/* TRL's label-smoothed sigmoid loss at x: -(1-e) logsigmoid(x) - e logsigmoid(-x),
 * with its derivative d and the terms' magnitudes. */
static ld smoothed(ld x, ld e, ld *d, ld *tl, ld *td)
{
    ld a = (1.0L - e) * (-logsig(x)), b = e * (-logsig(-x));
    *d = -(1.0L - e) * ref_sigmoid(-x) + e * ref_sigmoid(x);
    /* the same, e - sigma(-x) = (e - 1/2) + tanh(x/2)/2, near x = 0: there the
     * two sigmoids (~1/2 each) cancel for e = 1/2 and keep only an absolute
     * ~2^-65, too little for |x| << 1e-15 (js_divergence's h' can be that
     * small where uc ~ ur >> 1) */
    if (fabsl(x) < 1.0L) *d = (e - 0.5L) + tanhl(x / 2) / 2;
    *tl = fabsl(a) + fabsl(b);
    *td = (1.0L - e) * ref_sigmoid(-x) + e * ref_sigmoid(x);
    return a + b;
}

/* --- kinds of one argument x: L(x) and L'(x) ------------------------------ */

/* x from h, and dx/dh. */
static ld single_x(int kind, const prefloss_pair_params *P, ld h, ld *dxdh)
{
    const ld beta = (ld)P->beta;
    if (kind == PREFLOSS_LOSS_IPO) { *dxdh = 1; return h; }
    *dxdh = beta;
    if (kind == PREFLOSS_LOSS_SIMPO) return beta * h - (ld)P->simpo_gamma; /* TRL: beta*(logits - gamma/beta) */
    return beta * h;
}

static ld ref_single(int kind, const prefloss_pair_params *P, ld x, ld *d1, ld *tl, ld *td)
{
    const ld e = (ld)P->label_smoothing;
    switch (kind) {
    case PREFLOSS_LOSS_SIGMOID:
    case PREFLOSS_LOSS_SIMPO:
    case PREFLOSS_LOSS_CPO:
        return smoothed(x, e, d1, tl, td);
    case PREFLOSS_LOSS_IPO: { /* (logits - 1/(2 beta))^2 */
        ld c = 1.0L / (2.0L * (ld)P->beta), y = x - c;
        *d1 = 2.0L * y;
        *tl = y * y;
        *td = fabsl(*d1);
        return y * y;
    }
    case PREFLOSS_LOSS_HINGE: { /* relu(1 - beta*logits) */
        ld t = 1.0L - x;
        *d1 = t > 0 ? -1.0L : 0.0L;
        *tl = t > 0 ? t : 0;
        *td = 1;
        return t > 0 ? t : 0.0L;
    }
    case PREFLOSS_LOSS_ROBUST: { /* (-logsig(x)(1-e) + logsig(-x) e) / (1 - 2e) */
        ld k = 1.0L - 2.0L * e;
        ld a = -logsig(x) * (1.0L - e), b = logsig(-x) * e;
        *d1 = (-(1.0L - e) * ref_sigmoid(-x) - e * ref_sigmoid(x)) / k;
        *tl = (fabsl(a) + fabsl(b)) / k;
        *td = fabsl(*d1);
        return (a + b) / k;
    }
    case PREFLOSS_LOSS_EXO_PAIR: { /* eps = 0 is replaced by 1e-3 (the float 1e-3f the caller's block can hold) */
        /* TRL: s (logsig(x) - log(1-e)) + t (logsig(-x) - log e), s = sigma(x), t = sigma(-x).
         * It is KL(Bernoulli(s) || Bernoulli(1-e)) and vanishes at s = 1-e, where
         * its long-double terms would cancel: written as s log1p(d/(1-e)) +
         * t log1p(-d/e) with d = s - (1-e) = e - t (the same value). */
        ld ee = e > 0 ? e : (ld)1e-3f;
        ld s = ref_sigmoid(x), t = ref_sigmoid(-x);
        ld la = log1pl(-ee), lb = logl(ee);
        ld d = s >= 0.5L ? ee - t : s - (1.0L - ee);
        *d1 = s * t * (x - la + lb);
        /* T also counts 1 - e as a term of size 1 inside log(1 - e) */
        *tl = s * (fabsl(logsig(x)) + fabsl(la) + 1.0L / (1.0L - ee)) + t * (fabsl(logsig(-x)) + fabsl(lb));
        *td = s * t * (fabsl(x) + fabsl(la - lb));
        if (fabsl(d) < 0.25L * (ee < 0.5L ? ee : 1.0L - ee)) /* near the zero */
            return s * log1pl(d / (1.0L - ee)) + t * log1pl(-d / ee);
        /* elsewhere TRL's form; s log(...) -> 0 as s -> 0 (and t likewise) */
        return (s == 0 ? 0.0L : s * (logsig(x) - la)) + (t == 0 ? 0.0L : t * (logsig(-x) - lb));
    }
    default: { /* PREFLOSS_LOSS_DISCOPOP */
        /* w = sigmoid(x/tau); L = -logsig(x)(1 - w) + exp(-x) w (1 - w written as sigma(-x/tau)) */
        ld tau = (ld)P->discopop_tau;
        ld w = ref_sigmoid(x / tau), m = ref_sigmoid(-x / tau);
        ld sp = -logsig(x), we = w * expl(-x);
        ld t1 = -(w * m / tau) * sp, t2 = -m * ref_sigmoid(-x), t3 = we * (m / tau), t4 = -we;
        *d1 = t1 + t2 + t3 + t4;
        *tl = m * sp + we;
        *td = fabsl(t1) + fabsl(t2) + fabsl(t3) + fabsl(t4);
        return m * sp + we;
    }
    }
}

/* --- kinds of two arguments uc, ur: L, dL/duc, dL/dur ---------------------- */

/* TRL's cap_exp: get_exp_cap() = floor(log(finfo(float32).max) * 1e4) / 1e4,
 * i.e. 88.7228 in float32 (its docstring: "direct calling
 * exp(log(torch.float32.max)) will result in inf"). */
#define CAP_EXP ((ld)88.7228f)

static rval ref_double(int kind, const prefloss_pair_params *P, ld uc, ld ur)
{
    const ld beta = (ld)P->beta, e = (ld)P->label_smoothing;
    const ld a = beta * uc, b = beta * ur;
    rval r;
    switch (kind) {
    case PREFLOSS_LOSS_NCA_PAIR: /* -logsig(a) - 0.5 logsig(-a) - 0.5 logsig(-b) */
        r.v[0] = -logsig(a) - 0.5L * logsig(-a) - 0.5L * logsig(-b);
        r.t[0] = r.v[0];
        r.v[1] = beta * (-ref_sigmoid(-a) + 0.5L * ref_sigmoid(a));
        r.t[1] = beta * (ref_sigmoid(-a) + 0.5L * ref_sigmoid(a));
        r.v[2] = beta * 0.5L * ref_sigmoid(b);
        r.t[2] = r.v[2];
        break;
    case PREFLOSS_LOSS_BCO_PAIR: { /* -logsig(a - delta) - logsig(-(b - delta)) */
        ld d = (ld)P->bco_delta;
        r.v[0] = -logsig(a - d) - logsig(-(b - d));
        r.t[0] = r.v[0];
        r.v[1] = -beta * ref_sigmoid(-(a - d));
        r.t[1] = -r.v[1];
        r.v[2] = beta * ref_sigmoid(b - d);
        r.t[2] = r.v[2];
        break;
    }
    case PREFLOSS_LOSS_SPPO_HARD: { /* (uc - 0.5/beta)^2 + (ur + 0.5/beta)^2 */
        ld c = 0.5L / beta;
        r.v[0] = (uc - c) * (uc - c) + (ur + c) * (ur + c);
        r.t[0] = r.v[0];
        r.v[1] = 2.0L * (uc - c);
        r.t[1] = fabsl(r.v[1]);
        r.v[2] = 2.0L * (ur + c);
        r.t[2] = fabsl(r.v[2]);
        break;
    }
    case PREFLOSS_LOSS_APO_ZERO: /* 1 - sigmoid(a) + sigmoid(b); 1 - sigma(a) written sigma(-a) */
        r.v[0] = ref_sigmoid(-a) + ref_sigmoid(b);
        r.t[0] = r.v[0];
        r.v[1] = -beta * ref_sigmoid(a) * ref_sigmoid(-a);
        r.t[1] = -r.v[1];
        r.v[2] = beta * ref_sigmoid(b) * ref_sigmoid(-b);
        r.t[2] = r.v[2];
        break;
    case PREFLOSS_LOSS_APO_DOWN: { /* sigmoid(a) + 1 - sigmoid(beta(uc - ur)); 1 - sigma(z) written sigma(-z) */
        ld z = beta * (uc - ur);
        ld sa = ref_sigmoid(a) * ref_sigmoid(-a), sz = ref_sigmoid(z) * ref_sigmoid(-z);
        /* dL/dpc = beta (sa - sz): the difference cancels in long double too
         * where |a| ~ |z| (e.g. a, z ~ 1e-8: sa - sz ~ 1e-17 next to 1/4),
         * so it is written as the same value without a difference:
         * sigma'(a) - sigma'(z) = 4 sinh(p) sinh(q) sigma'(a) sigma'(z),
         * p = (z + a)/2, q = (z - a)/2 (from sigma'(x) = 1/(4 cosh^2(x/2))
         * and cosh^2 x - cosh^2 y = sinh(x + y) sinh(x - y)) */
        ld p = beta * (uc - ur / 2), q = -b / 2;
        r.v[0] = ref_sigmoid(a) + ref_sigmoid(-z);
        r.t[0] = r.v[0];
        r.v[1] = beta * 4.0L * sinhl(p) * sinhl(q) * sa * sz;
        r.t[1] = beta * (sa + sz);
        r.v[2] = beta * sz;
        r.t[2] = r.v[2];
        break;
    }
    case PREFLOSS_LOSS_JS: {
        /* logits = h - (softplus(uc) - softplus(ur)); the sigmoid loss on beta*logits.
         * Written without cancelling long-double terms: for uc, ur >= 0 it is
         * the identity h - (sp(uc) - sp(ur)) = sp(-ur) - sp(-uc). */
        ld h = uc - ur, hp, d, tl, td, spc = ref_softplus(uc), spr = ref_softplus(ur);
        hp = (uc >= 0 && ur >= 0) ? ref_softplus(-ur) - ref_softplus(-uc) : h - (spc - spr);
        r.v[0] = smoothed(beta * hp, e, &d, &tl, &td);
        /* T: the loss's own terms plus the terms of h' carried through L'(z) */
        r.t[0] = tl + beta * fabsl(d) * (fabsl(h) + spc + spr);
        r.v[1] = beta * d * ref_sigmoid(-uc);
        r.t[1] = beta * td * ref_sigmoid(-uc) + beta * beta * (fabsl(h) + spc + spr) * ref_sigmoid(-uc) / 4;
        r.v[2] = -beta * d * ref_sigmoid(-ur);
        r.t[2] = beta * td * ref_sigmoid(-ur) + beta * beta * (fabsl(h) + spc + spr) * ref_sigmoid(-ur) / 4;
        break;
    }
    default: { /* PREFLOSS_LOSS_ALPHA:
        * logits = (cap_exp(-alpha ur) - cap_exp(-alpha uc)) / alpha, cap_exp(v) = exp(min(v, cap));
        * below the cap the difference is formed as expm1 - expm1 (no long-double cancellation). */
        ld al = (ld)P->alpha, vc = -al * uc, vr = -al * ur, ec, er, hp, d, tl, td, tz;
        int bc = vc < CAP_EXP, br = vr < CAP_EXP;
        ec = expl(bc ? vc : CAP_EXP);
        er = expl(br ? vr : CAP_EXP);
        hp = (bc && br) ? (expm1l(vr) - expm1l(vc)) / al : (er - ec) / al;
        r.v[0] = smoothed(beta * hp, e, &d, &tl, &td);
        tz = beta * (ec + er) / al;                 /* magnitude of the terms of z */
        r.t[0] = tl + fabsl(d) * tz;
        r.v[1] = bc ? beta * d * ec : 0.0L;
        r.t[1] = bc ? beta * ec * (td + tz / 4) : 0.0L;
        r.v[2] = br ? -beta * d * er : 0.0L;
        r.t[2] = br ? beta * er * (td + tz / 4) : 0.0L;
        break;
    }
    }
    return r;
}

/* --- the reference of one pair, with kappa and the gradient cross-check ---- */

typedef struct {
    ld v[NOUT];     /* loss, dL/dpc, dL/dpr (before weight and upstream) */
    ld t[NOUT];     /* sum of |terms| of each (for the loose bound) */
    ld kappa[NOUT];
    int fd_bad;     /* the analytic gradient disagrees with the central difference */
    ld fd_err;
} pref;

/* Richardson-extrapolated central difference of f at x with step d. */
#define RICH(F, x, d) ((4.0L * (((F)((x) + (d) / 2) - (F)((x) - (d) / 2)) / (d)) \
                        - (((F)((x) + (d)) - (F)((x) - (d))) / (2.0L * (d)))) / 3.0L)

static int g_kind;
static const prefloss_pair_params *g_P;
static ld g_other;   /* the fixed argument for partial derivatives */
static int g_out;    /* which output of ref_double */

static ld f_single_L(ld x) { ld d, a, b; return ref_single(g_kind, g_P, x, &d, &a, &b); }
static ld f_single_D(ld x) { ld d, a, b; (void)ref_single(g_kind, g_P, x, &d, &a, &b); return d; }
static ld f_d_uc(ld uc) { return ref_double(g_kind, g_P, uc, g_other).v[g_out]; }
static ld f_d_ur(ld ur) { return ref_double(g_kind, g_P, g_other, ur).v[g_out]; }

static ld kap(ld x, ld f, ld fp) { return f == 0 ? (ld)INFINITY : fabsl(x * fp / f); }

/* Does the analytic derivative an agree with the numeric one nu? The
 * numeric one has a rounding error ~1e-15 |f| / step. */
static int fd_agree(ld an, ld nu, ld f, ld step, ld *err)
{
    if (fabsl(f) < 1e-300L) return 1; /* the loss is far below the float range (and so is its gradient) */
    /* the long-double reference itself overflows for the most extreme inputs
     * (e.g. discopop's e^{-z} for z << -11000): nothing to cross-check there,
     * and the accuracy check skips a reference that is not a normal float */
    if (!isfinite(an) || !isfinite(nu) || !isfinite(f)) return 1;
    ld tol = 1e-7L * fabsl(an) + 1e-12L * fabsl(f) / step + 1e-30L;
    *err = fabsl(an - nu) / (fabsl(an) + 1e-300L);
    return fabsl(an - nu) <= tol;
}

static pref reference(int kind, const prefloss_pair_params *P, float pc, float pr, float rc, float rr)
{
    pref o;
    ld uc = (ld)pc - (ld)rc, ur = (ld)pr - (ld)rr;
    g_kind = kind;
    g_P = P;
    o.fd_bad = 0;
    o.fd_err = 0;
    if (!two_args(kind)) {
        ld dxdh, x, d1, tl, td, d2, step, e;
        ld h = refless(kind) ? (ld)pc - (ld)pr : uc - ur;
        ld scale = kind == PREFLOSS_LOSS_DISCOPOP && (ld)P->discopop_tau < 1 ? (ld)P->discopop_tau : 1.0L;
        x = single_x(kind, P, h, &dxdh);
        o.v[0] = ref_single(kind, P, x, &d1, &tl, &td);
        o.v[1] = d1 * dxdh;
        o.v[2] = -o.v[1];
        o.t[0] = tl;
        o.t[1] = o.t[2] = td * dxdh;
        step = 1e-4L * scale;
        if (!(kind == PREFLOSS_LOSS_HINGE && fabsl(x - 1) < 2 * step)) {
            if (!fd_agree(d1, RICH(f_single_L, x, step), o.v[0], step, &e)) { o.fd_bad = 1; o.fd_err = e; }
            d2 = RICH(f_single_D, x, step);
        } else {
            d2 = 0;
        }
        o.kappa[0] = kap(x, o.v[0], d1);
        o.kappa[1] = o.kappa[2] = kap(x, d1, d2);
    } else {
        const ld beta = (ld)P->beta, al = (ld)P->alpha;
        ld scale = 1.0L, step, duc[NOUT], dur[NOUT], e;
        rval r = ref_double(kind, P, uc, ur);
        int k, near_kink = 0;
        if (beta > 1) scale = 1.0L / beta;
        if (kind == PREFLOSS_LOSS_ALPHA && al > 1 && 1.0L / al < scale) scale = 1.0L / al;
        if (kind == PREFLOSS_LOSS_ALPHA) {
            /* z moves by beta e^{-alpha u} per unit u: the sigmoid's bend (scale 1
             * in z) must stay within the step (at u ~ -4.06, alpha 2.7 a step of
             * 1e-5 moved z by 0.35 and the difference was 0.3% off) */
            ld sz = beta * (expl(fminl(-al * uc, CAP_EXP)) + expl(fminl(-al * ur, CAP_EXP)));
            if (sz * scale > 1) scale = 1.0L / sz;
        }
        if (r.v[0] != 0) { /* the loss's own scale of variation (alpha: e^{-alpha u} can be steep) */
            ld s1 = fabsl(r.v[1] / r.v[0]), s2 = fabsl(r.v[2] / r.v[0]);
            if (s1 * scale > 1) scale = 1.0L / s1;
            if (s2 * scale > 1) scale = 1.0L / s2;
        }
        step = 1e-4L * scale;
        /* too steep to difference in long double (alpha: e^{-alpha u} ~ 1e20
         * against a loss ~1): no cross-check, no kappa beyond the analytic one */
        if (step < 1e-9L * (fabsl(uc) + fabsl(ur))) near_kink = 1;
        if (kind == PREFLOSS_LOSS_ALPHA)
            near_kink = near_kink || fabsl(-al * uc - CAP_EXP) < 2 * al * step || fabsl(-al * ur - CAP_EXP) < 2 * al * step;
        for (k = 0; k < NOUT; k++) {
            o.v[k] = r.v[k];
            o.t[k] = r.t[k];
            g_out = k;
            g_other = ur;
            duc[k] = near_kink ? 0 : RICH(f_d_uc, uc, step);
            g_other = uc;
            dur[k] = near_kink ? 0 : RICH(f_d_ur, ur, step);
        }
        if (!near_kink) {
            if (!fd_agree(r.v[1], duc[0], r.v[0], step, &e)) { o.fd_bad = 1; o.fd_err = e; }
            if (!fd_agree(r.v[2], dur[0], r.v[0], step, &e)) { o.fd_bad = 1; o.fd_err = e; }
        }
        /* the sum of the condition numbers w.r.t. uc and ur (see the top) */
        o.kappa[0] = kap(uc, r.v[0], r.v[1]) + kap(ur, r.v[0], r.v[2]);
        for (k = 1; k < NOUT; k++) o.kappa[k] = kap(uc, r.v[k], duc[k]) + kap(ur, r.v[k], dur[k]);
    }
    return o;
}

#endif /* PREFLOSS_CATALOGUE_REFERENCE_H */
