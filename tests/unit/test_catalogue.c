/*
 * test_catalogue.c — the loss catalogue behind prefloss_pair_loss():
 *
 *   * accuracy of every kind against an INDEPENDENT long-double reference
 *     written from TRL v0.26 dpo_loss / CPOTrainer formulas (not from the
 *     library's algorithms); the analytic long-double gradients are
 *     cross-checked by a long-double central difference (Richardson);
 *   * the accuracy budget of docs/numerics.md: error <= 4 + kappa/2 ulp
 *     wherever the reference is a normal float, kappa = |x f'(x) / f(x)|;
 *   * names, parameter blocks (NULL, prefix blocks, ranges), weights,
 *     validation (nothing written on an error), non-finite inputs, the
 *     documented pitfalls, and prefloss_bco_update_delta().
 *
 * The scalar argument x of each kind (for kappa):
 *
 *   sigmoid, hinge, robust, exo_pair, discopop, cpo   x = z = beta h
 *   simpo                                              x = beta (pc - pr) - gamma
 *   ipo (TRL scale)                                    x = h
 *   nca_pair, bco_pair, apo_zero, apo_down, sppo_hard,
 *   js_divergence, alpha_divergence                    two arguments: uc and ur
 *
 * For the kinds of two arguments kappa is the SUM of the condition numbers
 * with respect to each argument, |uc df/duc| / |f| + |ur df/dur| / |f|
 * (the same numbers as w.r.t. beta*uc and beta*ur: kappa is scale-free).
 * That is the budget of "rounding uc and ur once each, then evaluating
 * exactly". kappa of a gradient output uses the derivative of that gradient
 * (a long-double Richardson central difference of the analytic gradient).
 *
 * Strict-budget switches: where a kind does not meet the budget today (an
 * open issue in the library, reported, not hidden), its strict check is
 * switched off by a CATALOGUE_STRICT_* macro below. The strict failures are
 * still counted and printed, and a looser documented bound is asserted
 * instead, so the test still fails if the output gets worse. Set the macro
 * to 1 once the library is fixed.
 *
 * Samples per configuration: PREFLOSS_TEST_SAMPLES / 20 (at least 1000),
 * so the default (100000) gives 5000 per configuration, ~5 s in total.
 * PREFLOSS_TEST_SEED (an integer, default 0) draws other samples.
 */
#include "testutil.h"
#include "reference.h"
#include "catalogue_reference.h"

#include <limits.h>

/* ------------------------------------------------------------------------ */
/* Strict-budget switches (see the comment at the top)                      */
/* ------------------------------------------------------------------------ */

/* discopop's dL/dz near its zeros (z ~ -0.119 and 0.072 for tau = 0.05) is a
 * sum of terms of size ~1 that cancel; the library sums them in
 * double-float and rounds once: strict. (Switched off, the loose bound is
 * |err| <= 1e-5 * (sum of |terms|).) */
#ifndef CATALOGUE_STRICT_DISCOPOP_GRAD
#define CATALOGUE_STRICT_DISCOPOP_GRAD 1
#endif
/* Open issue: nca_pair's dL/dpc = beta(sigma(a)/2 - sigma(-a)) cancels near
 * a = beta uc = log 2. Loose bound as above (terms sigma(a)/2, sigma(-a)). */
#ifndef CATALOGUE_STRICT_NCA_GRAD
#define CATALOGUE_STRICT_NCA_GRAD 1
#endif
/* apo_down's dL/dpc = beta(sigma'(beta uc) - sigma'(z)) cancels where
 * beta ur ~ 0 (then z ~ beta uc) or 2 beta uc ~ beta ur (z ~ -beta uc); the
 * library forms it there without a difference (sinh identity): strict. */
#ifndef CATALOGUE_STRICT_APO_DOWN_GRAD
#define CATALOGUE_STRICT_APO_DOWN_GRAD 1
#endif
/* Open issue: robust's loss sp(-z) - c z cancels near its zero. */
#ifndef CATALOGUE_STRICT_ROBUST_LOSS
#define CATALOGUE_STRICT_ROBUST_LOSS 1
#endif
/* js_divergence forms h' = h - (sp(uc) - sp(ur)) = sp(-ur) - sp(-uc) in
 * double-float (near uc = ur = 0 from ln cosh, so that it keeps its relative
 * accuracy however small): strict. */
#ifndef CATALOGUE_STRICT_JS
#define CATALOGUE_STRICT_JS 1
#endif
/* alpha_divergence carries the exponents -alpha u, the exponentials and their
 * difference (expm1 where they nearly cancel) as double-floats: strict. */
#ifndef CATALOGUE_STRICT_ALPHA
#define CATALOGUE_STRICT_ALPHA 1
#endif
/* alpha_divergence's cap: TRL's cap_exp clamps exponents at 88.7228
 * (log FLT_MAX floored to 4 decimals); the library matches it, and this
 * check compares capped samples with that reference. */
#ifndef CATALOGUE_STRICT_ALPHA_CAP
#define CATALOGUE_STRICT_ALPHA_CAP 1
#endif
/* Where one exponent is capped, h' is ~ -e^88.7 and beta*h' can exceed the
 * float range although the weighted loss (or a gradient times dlosses) does
 * not (e.g. pc=-0x1.7a0bfp+8 pr=-0x1.45e0aep+8 rc=-0x1.042fdp+8
 * rr=-0x1.be90cp+8 beta=0x1.a49834p+2 w=0x1.818782p-7: exact 2.63e37); the
 * library recomputes such outputs as one scaled product: strict. With this
 * switch off every sample with alpha |u| > 60 is counted and printed, not
 * checked. */
#ifndef CATALOGUE_STRICT_ALPHA_UNDERFLOW
#define CATALOGUE_STRICT_ALPHA_UNDERFLOW 1
#endif
/* exo_pair's loss is a KL divergence that vanishes at sigma(z) = 1 - eps;
 * the library evaluates it there by its Taylor series in r = sigma(z) - t
 * and elsewhere in double-float, and forms log(1 - eps) as log1p(-eps):
 * strict. */
#ifndef CATALOGUE_STRICT_EXO_LOSS
#define CATALOGUE_STRICT_EXO_LOSS 1
#endif
/* exo_pair's gradient s t (z - log((1-eps)/eps)) beta dl w, s t =
 * sigma(z) sigma(-z), is a normal float in the far tails (|z| > ~87) where
 * s t alone is subnormal; the library keeps s t scaled by 2^64 there until
 * after the upstream gradient: strict. */
#ifndef CATALOGUE_STRICT_EXO_GRAD
#define CATALOGUE_STRICT_EXO_GRAD 1
#endif
/* discopop's loss in the far positive tail (w e^{-z} ~ e^{-z}): the exponent
 * z + sp(-z/tau) is a double-float, never rounded before the exponential:
 * strict. */
#ifndef CATALOGUE_STRICT_DISCOPOP_LOSS
#define CATALOGUE_STRICT_DISCOPOP_LOSS 1
#endif
/* apo_zero's gradients (and apo_down's dL/dpr) -beta sigma(a) sigma(-a) dl w:
 * the library forms beta sigma'(a) in double-float and rounds it once (a
 * float chain of two ~1-ulp sigmoids and five roundings reached 4.2 ulp):
 * strict. */
#ifndef CATALOGUE_STRICT_APO_ZERO_GRAD
#define CATALOGUE_STRICT_APO_ZERO_GRAD 1
#endif

/* Loose bound for the outputs whose strict check is switched off: the
 * error relative to T, the sum of the magnitudes of the terms of the
 * formula (the reference computes T with each output). */
#define CATALOGUE_LOOSE_REL 1e-5L
/* ... plus this absolute slack, for results next to the underflow range
 * (e.g. exo_pair's gradient through a subnormal sigma(z) sigma(-z)). */
#define CATALOGUE_LOOSE_ABS 1e-36L

enum { CHUNK = 500, NKINDS = 15 };   /* (NOUT: catalogue_reference.h) */

static const char *const out_names[NOUT] = { "loss", "dchosen", "drejected" };

static const char *const trl_names[NKINDS] = {
    "sigmoid", "ipo", "hinge", "robust", "exo_pair", "nca_pair", "bco_pair", "sppo_hard",
    "apo_zero", "apo_down", "discopop", "js_divergence", "alpha_divergence", "simpo", "cpo" };

static int strict_for(int kind, int out)
{
    switch (kind) {
    case PREFLOSS_LOSS_DISCOPOP: return out == 0 ? CATALOGUE_STRICT_DISCOPOP_LOSS : CATALOGUE_STRICT_DISCOPOP_GRAD;
    case PREFLOSS_LOSS_NCA_PAIR: return out != 1 || CATALOGUE_STRICT_NCA_GRAD;
    case PREFLOSS_LOSS_APO_ZERO: return out == 0 || CATALOGUE_STRICT_APO_ZERO_GRAD;
    case PREFLOSS_LOSS_APO_DOWN:
        return out == 0 || (out == 1 ? CATALOGUE_STRICT_APO_DOWN_GRAD : CATALOGUE_STRICT_APO_ZERO_GRAD);
    case PREFLOSS_LOSS_ROBUST: return out != 0 || CATALOGUE_STRICT_ROBUST_LOSS;
    case PREFLOSS_LOSS_EXO_PAIR: return out == 0 ? CATALOGUE_STRICT_EXO_LOSS : CATALOGUE_STRICT_EXO_GRAD;
    case PREFLOSS_LOSS_JS: return CATALOGUE_STRICT_JS;
    case PREFLOSS_LOSS_ALPHA: return CATALOGUE_STRICT_ALPHA;
    default: return 1;
    }
}

static prefloss_pair_params defaults(void)
{
    prefloss_pair_params p;
    assert_status(prefloss_pair_params_init(&p, sizeof p), PREFLOSS_OK);
    return p;
}

/* ======================================================================== */
/* Accuracy runs                                                            */
/* ======================================================================== */

typedef struct {
    ld worst_excess;
    size_t checked, failed, loose_failed;
    /* the worst sample */
    float pc, pr, rc, rr, beta, dl, w, got;
    ld ref, kappa, err;
    prefloss_pair_params P;
} ostat;

static ostat g_kstat[NKINDS][NOUT];   /* per kind, over all its configurations */
static size_t g_total_failed, g_fd_failed, g_known, g_alpha_capped, g_alpha_underflow;

static void ostat_init(ostat *s)
{
    memset(s, 0, sizeof *s);
    s->worst_excess = -1e30L;
}

static void ostat_merge(ostat *into, const ostat *s)
{
    size_t c = into->checked + s->checked, f = into->failed + s->failed, l = into->loose_failed + s->loose_failed;
    if (s->checked && s->worst_excess > into->worst_excess) *into = *s;
    into->checked = c;
    into->failed = f;
    into->loose_failed = l;
}

static float B_pc[CHUNK], B_pr[CHUNK], B_rc[CHUNK], B_rr[CHUNK], B_dl[CHUNK], B_w[CHUNK];
static float B_l[CHUNK], B_c[CHUNK], B_r[CHUNK];

static void print_sample(const char *tag, int kind, const ostat *s, int out)
{
    printf("      %s %s %s: pc=%a pr=%a rc=%a rr=%a beta=%a eps=%a tau=%a alpha=%a gamma=%a delta=%a "
           "dl=%a w=%a: got %a (%.9g), exact %.12Lg, %.2Lf ulp, kappa %.4Lg\n",
           tag, trl_names[kind], out_names[out], (double)s->pc, (double)s->pr, (double)s->rc, (double)s->rr,
           (double)s->P.beta, (double)s->P.label_smoothing, (double)s->P.discopop_tau, (double)s->P.alpha,
           (double)s->P.simpo_gamma, (double)s->P.bco_delta, (double)s->dl, (double)s->w, (double)s->got,
           (double)s->got, s->ref, s->err, s->kappa);
}

/* Checks one output; records the worst sample. */
static void check_out(ostat *s, int kind, int out, size_t i, const prefloss_pair_params *P, float got, ld ref,
                      ld T, ld kappa)
{
    ld e, ex;
    if (!ref_is_normal_float(ref) || !(kappa < (ld)INFINITY)) return;
    e = err_ulp(got, ref);
    ex = e - kappa / 2;
    s->checked++;
    if (ex > s->worst_excess) {
        s->worst_excess = ex;
        s->pc = B_pc[i]; s->pr = B_pr[i]; s->rc = B_rc[i]; s->rr = B_rr[i];
        s->beta = P->beta; s->dl = B_dl[i]; s->w = B_w[i]; s->got = got;
        s->ref = ref; s->kappa = kappa; s->err = e; s->P = *P;
    }
    if (!(ex <= 4.0L)) {
        s->failed++;
        if (!strict_for(kind, out)) {
            /* the loose bound: |err| <= 1e-5 * T (T scaled like ref) */
            if (!(isfinite(got) && fabsl((ld)got - ref) <= CATALOGUE_LOOSE_REL * T + CATALOGUE_LOOSE_ABS)) {
                if (s->loose_failed++ == 0)
                    print_error("over the loose bound: %s %s pc=%a pr=%a rc=%a rr=%a beta=%a eps=%a dl=%a w=%a: "
                                "got %a, exact %.12Lg, T %.4Lg\n", trl_names[kind], out_names[out], (double)B_pc[i],
                                (double)B_pr[i], (double)B_rc[i], (double)B_rr[i], (double)P->beta,
                                (double)P->label_smoothing, (double)B_dl[i], (double)B_w[i], (double)got, ref, T);
            }
        }
    }
}

enum { SET_REALISTIC, SET_EXTREME };
static const char *const set_names[] = { "realistic", "extreme" };

static float gen_dl(tu_rng *r) { return (float)(tu_sign(r) * tu_logu(r, -2.0, 2.0)); }

/* Inputs of one pair. */
static void gen_pair(tu_rng *r, int kind, int set, float beta, size_t i)
{
    if (refless(kind)) { /* mean log-probs; the reference arrays get junk that must be ignored */
        double base = -tu_range(r, 0.0, 5.0), h;
        if (set == SET_REALISTIC) {
            B_pc[i] = (float)base;
            B_pr[i] = tu_below(r, 4) == 0 ? (float)(base + tu_sign(r) * tu_logu(r, -7.0, -2.0))
                                          : (float)-tu_range(r, 0.0, 5.0);
        } else {
            h = tu_sign(r) * tu_logu(r, -8.0, 3.0) / (double)beta;
            B_pc[i] = (float)(h > 0 ? base : base + h);
            B_pr[i] = (float)(h > 0 ? base - h : base);
        }
        B_rc[i] = (float)-tu_range(r, 50.0, 2000.0);
        B_rr[i] = (float)-tu_range(r, 50.0, 2000.0);
        return;
    }
    if (set == SET_REALISTIC) {
        const double d1 = tu_sign(r) * tu_logu(r, -3.0, 1.0);
        const double d2 = (tu_below(r, 4) == 0) ? d1 + tu_sign(r) * tu_logu(r, -7.0, -3.0)
                                                 : tu_sign(r) * tu_logu(r, -3.0, 1.0);
        B_rc[i] = (float)tu_range(r, -2000.0, -50.0);
        B_rr[i] = (float)tu_range(r, -2000.0, -50.0);
        B_pc[i] = (float)((double)B_rc[i] + d1);
        B_pr[i] = (float)((double)B_rr[i] + d2);
    } else {
        /* |beta uc|, |beta ur|, |beta h| over the decades up to 1e3:
         * mode 0: h spread, uc and ur of its size; 1: uc, ur independent;
         * 2: uc spread, h tiny */
        double uc, ur, M, L;
        switch (tu_below(r, 3)) {
        case 0: {
            double h = tu_sign(r) * tu_logu(r, -8.0, 3.0) / (double)beta, w = tu_unif(r);
            uc = w * h;
            ur = -(1.0 - w) * h;
            break;
        }
        case 1:
            uc = tu_sign(r) * tu_logu(r, -6.0, 3.0) / (double)beta;
            ur = tu_sign(r) * tu_logu(r, -6.0, 3.0) / (double)beta;
            break;
        default:
            uc = tu_sign(r) * tu_logu(r, -6.0, 3.0) / (double)beta;
            ur = uc - tu_sign(r) * tu_logu(r, -8.0, -1.0) / (double)beta;
            break;
        }
        M = fmax(fabs(uc), fabs(ur));
        L = M >= 0.05 ? tu_range(r, 50.0, 2000.0) : M * 65536.0 * tu_range(r, 1.0, 2.0);
        B_rc[i] = (float)-tu_range(r, L / 2, L);
        B_rr[i] = (float)-tu_range(r, L / 2, L);
        B_pc[i] = (float)((double)B_rc[i] + uc);
        B_pr[i] = (float)((double)B_rr[i] + ur);
    }
}

static size_t cat_samples(void)
{
    size_t s = tu_samples() / 20;
    return s < 1000 ? 1000 : s;
}

/* One configuration: kind, parameters, input set. */
static void run(int kind, prefloss_pair_params P, int set, uint64_t seed)
{
    const size_t S = cat_samples();
    tu_rng r = tu_rng_seed(seed);
    ostat o[NOUT];
    size_t done, i;
    int k;
    char cfg[160];
    for (k = 0; k < NOUT; k++) ostat_init(&o[k]);
    for (done = 0; done < S; done += CHUNK) {
        const size_t n = (S - done < CHUNK) ? S - done : CHUNK;
        const size_t c = done / CHUNK;
        const int use_dl = c % 2 == 1, use_w = c % 4 >= 2;
        const int null_ref = refless(kind) && c % 3 == 0;
        P.beta = set == SET_EXTREME ? (float)tu_logu(&r, -2.0, 1.0) : (float)tu_logu(&r, -2.0, 0.5);
        for (i = 0; i < n; i++) {
            gen_pair(&r, kind, set, P.beta, i);
            B_dl[i] = use_dl ? gen_dl(&r) : 1.0f;
            B_w[i] = use_w ? (float)tu_logu(&r, -2.0, 1.0) : 1.0f;
        }
        assert_status(prefloss_pair_loss(B_l, B_c, B_r, B_pc, B_pr, null_ref ? NULL : B_rc, null_ref ? NULL : B_rr,
                                         use_w ? B_w : NULL, use_dl ? B_dl : NULL, n, kind, &P),
                      PREFLOSS_OK);
        for (i = 0; i < n; i++) {
            pref f = reference(kind, &P, B_pc[i], B_pr[i], B_rc[i], B_rr[i]);
            const ld w = (ld)B_w[i], wd = w * (ld)B_dl[i];
            if (kind == PREFLOSS_LOSS_ALPHA && !CATALOGUE_STRICT_ALPHA_CAP) {
                const ld al = (ld)P.alpha;
                const ld uc = (ld)B_pc[i] - (ld)B_rc[i], ur = (ld)B_pr[i] - (ld)B_rr[i];
                if (-al * uc >= CAP_EXP || -al * ur >= CAP_EXP) { /* see CATALOGUE_STRICT_ALPHA_CAP */
                    g_alpha_capped++;
                    continue;
                }
            }
            if (kind == PREFLOSS_LOSS_ALPHA && !CATALOGUE_STRICT_ALPHA_UNDERFLOW) {
                const ld al = (ld)P.alpha;
                const ld uc = (ld)B_pc[i] - (ld)B_rc[i], ur = (ld)B_pr[i] - (ld)B_rr[i];
                if (fabsl(al * uc) > 60 || fabsl(al * ur) > 60) { /* see CATALOGUE_STRICT_ALPHA_UNDERFLOW */
                    g_alpha_underflow++;
                    continue;
                }
            }
            if (f.fd_bad) {
                if (g_fd_failed++ < 5)
                    print_error("reference cross-check: %s pc=%a pr=%a rc=%a rr=%a beta=%a: analytic gradient "
                                "off the central difference by %.3Lg (relative)\n",
                                trl_names[kind], (double)B_pc[i], (double)B_pr[i], (double)B_rc[i],
                                (double)B_rr[i], (double)P.beta, f.fd_err);
            }
            check_out(&o[0], kind, 0, i, &P, B_l[i], w * f.v[0], w * f.t[0], f.kappa[0]);
            check_out(&o[1], kind, 1, i, &P, B_c[i], wd * f.v[1], fabsl(wd) * f.t[1], f.kappa[1]);
            check_out(&o[2], kind, 2, i, &P, B_r[i], wd * f.v[2], fabsl(wd) * f.t[2], f.kappa[2]);
        }
    }
    snprintf(cfg, sizeof cfg, "%s %s eps=%g tau=%g a=%g g=%g d=%g", trl_names[kind], set_names[set],
             (double)P.label_smoothing, (double)P.discopop_tau, (double)P.alpha, (double)P.simpo_gamma,
             (double)P.bco_delta);
    printf("    %-58s", cfg);
    for (k = 0; k < NOUT; k++) {
        if (o[k].checked == 0) printf(" | %s -", out_names[k]);
        else printf(" | %s %8.3Lf", out_names[k], o[k].worst_excess);
        if (o[k].failed) {
            printf(strict_for(kind, k) ? " [%u FAILED]" : " [%u over budget: known]", (unsigned)o[k].failed);
            if (strict_for(kind, k)) g_total_failed += o[k].failed;
            else g_known += o[k].failed;
        }
        if (o[k].loose_failed) {
            printf(" [%u over the loose bound]", (unsigned)o[k].loose_failed);
            g_total_failed += o[k].loose_failed;
        }
        ostat_merge(&g_kstat[kind][k], &o[k]);
    }
    printf("\n");
}

static void run_kind(int kind, const prefloss_pair_params *Ps, int nP, uint64_t seed)
{
    int j, set;
    for (j = 0; j < nP; j++)
        for (set = SET_REALISTIC; set <= SET_EXTREME; set++)
            run(kind, Ps[j], set, seed + (uint64_t)(j * 2 + set));
}

static void test_accuracy_all_kinds(void **state)
{
    prefloss_pair_params P[4];
    int kind, k, j;
    const char *seed_env = getenv("PREFLOSS_TEST_SEED");
    const uint64_t seed = seed_env != NULL ? (uint64_t)strtoull(seed_env, NULL, 10) : 0u;
    (void)state;
    for (kind = 0; kind < NKINDS; kind++)
        for (k = 0; k < NOUT; k++) ostat_init(&g_kstat[kind][k]);
    g_total_failed = g_fd_failed = g_known = g_alpha_capped = g_alpha_underflow = 0;
    printf("    %u samples per configuration (seed %llu); worst error in ulp beyond kappa/2 (budget 4)\n",
           (unsigned)cat_samples(), (unsigned long long)seed);
    for (kind = 0; kind < NKINDS; kind++) {
        int nP = 1;
        for (j = 0; j < 4; j++) P[j] = defaults();
        switch (kind) {
        case PREFLOSS_LOSS_SIGMOID:
        case PREFLOSS_LOSS_CPO:
        case PREFLOSS_LOSS_JS:
            P[1].label_smoothing = 0.1f;
            P[2].label_smoothing = 0.5f;
            nP = 3;
            break;
        case PREFLOSS_LOSS_ROBUST:
            P[1].label_smoothing = 0.1f;
            P[2].label_smoothing = 0.3f;
            P[3].label_smoothing = 0.45f;
            nP = 4;
            break;
        case PREFLOSS_LOSS_EXO_PAIR:
            P[1].label_smoothing = 0.1f;
            P[2].label_smoothing = 0.3f;
            P[3].label_smoothing = 0.5f;
            nP = 4;
            break;
        case PREFLOSS_LOSS_BCO_PAIR:
            P[1].bco_delta = 0.7f;
            P[2].bco_delta = -3.0f;
            nP = 3;
            break;
        case PREFLOSS_LOSS_DISCOPOP:
            P[1].discopop_tau = 0.5f;
            P[2].discopop_tau = 1.0f;
            nP = 3;
            break;
        case PREFLOSS_LOSS_ALPHA:
            P[1].alpha = 0.5f;
            P[2].alpha = 2.7f;
            P[2].label_smoothing = 0.1f;
            nP = 3;
            break;
        case PREFLOSS_LOSS_SIMPO:
            P[1].simpo_gamma = -1.0f;
            P[1].label_smoothing = 0.1f;
            P[2].simpo_gamma = 3.0f;
            nP = 3;
            break;
        default: break;
        }
        run_kind(kind, P, nP, 0xca7000u + (uint64_t)kind * 64u + seed * 0x10000u);
    }
    printf("    --- per kind, worst over all configurations (ulp beyond kappa/2; budget 4) ---\n");
    for (kind = 0; kind < NKINDS; kind++) {
        printf("    %-17s", trl_names[kind]);
        for (k = 0; k < NOUT; k++)
            printf(" | %s %9.3Lf%s", out_names[k], g_kstat[kind][k].worst_excess,
                   g_kstat[kind][k].failed ? (strict_for(kind, k) ? " FAIL" : " known") : "");
        printf("\n");
    }
    for (kind = 0; kind < NKINDS; kind++)
        for (k = 0; k < NOUT; k++)
            if (g_kstat[kind][k].failed) print_sample("worst", kind, &g_kstat[kind][k], k);
    printf("    over budget in switched-off (known) checks: %u; reference cross-check failures: %u\n",
           (unsigned)g_known, (unsigned)g_fd_failed);
    if (g_alpha_capped)
        printf("    alpha_divergence samples with a capped exponent not checked (CATALOGUE_STRICT_ALPHA_CAP 0): %u\n",
               (unsigned)g_alpha_capped);
    if (g_alpha_underflow)
        printf("    alpha_divergence samples with alpha*|u| > 60 not checked (CATALOGUE_STRICT_ALPHA_UNDERFLOW 0): %u\n",
               (unsigned)g_alpha_underflow);
    assert_true(g_fd_failed == 0);
    assert_true(g_total_failed == 0);
}

/* ======================================================================== */
/* Names and parameter blocks                                               */
/* ======================================================================== */

static void test_kind_names_round_trip(void **state)
{
    static const char *const unknown[] = { "", "Sigmoid", "sigmoid ", " sigmoid", "sigmoi", "sigmoidx", "aot",
                                           "aot_pair", "kto", "orpo", "js", "alpha", "exo", "sppo", "dpo",
                                           "ipo\n", "bco_pair\t" };
    int k;
    size_t u;
    (void)state;
    /* every kind the library has needs a reference in this file: a kind
     * added to the registry without one fails here */
    assert_int_equal(prefloss_loss_kind_count(), NKINDS);
    for (k = 0; k < NKINDS; k++) {
        const char *name = prefloss_loss_kind_name(k);
        assert_non_null(name);
        assert_string_equal(name, trl_names[k]);
        assert_int_equal(prefloss_loss_kind_from_name(name), k);
        assert_int_equal(prefloss_loss_kind_from_name(trl_names[k]), k); /* a different pointer */
    }
    assert_int_equal(PREFLOSS_LOSS_SIGMOID, 0);
    assert_int_equal(PREFLOSS_LOSS_CPO, 14);
    for (u = 0; u < sizeof unknown / sizeof unknown[0]; u++)
        assert_int_equal(prefloss_loss_kind_from_name(unknown[u]), PREFLOSS_ERR_PARAM);
    assert_int_equal(prefloss_loss_kind_from_name(NULL), PREFLOSS_ERR_NULL);
    assert_null(prefloss_loss_kind_name(-1));
    assert_null(prefloss_loss_kind_name(NKINDS));
    assert_null(prefloss_loss_kind_name(INT_MAX));
    assert_null(prefloss_loss_kind_name(INT_MIN));
}

/* The NLL term (RPO; CPO/SimPO's SFT term): every kind's loss plus
 * -lambda * pc, its chosen gradient minus lambda * dlosses, its rejected
 * gradient unchanged. */
static void test_nll_term(void **state)
{
    enum { M = 6 };
    const float pc[M] = {-12.5f, -3.25f, -40.0f, -0.5f, -7.0f, -100.0f};
    const float pr[M] = {-13.0f, -3.0f, -41.5f, -0.75f, -6.5f, -99.0f};
    const float rc[M] = {-12.0f, -3.5f, -40.5f, -0.25f, -7.25f, -101.0f};
    const float rr[M] = {-13.5f, -2.75f, -41.0f, -1.0f, -6.0f, -98.5f};
    const float up[M] = {1.0f, 0.5f, 2.0f, -1.0f, 0.25f, 3.0f};
    const float lambda = 0.75f;
    int kind;
    (void)state;
    for (kind = 0; kind <= PREFLOSS_LOSS_CPO; kind++) {
        prefloss_pair_params p;
        float l0[M], c0[M], r0[M], l1[M], c1[M], r1[M];
        int i;
        prefloss_pair_params_init(&p, sizeof p);
        assert_status(prefloss_pair_loss(l0, c0, r0, pc, pr, rc, rr, NULL, up, M, kind, &p), PREFLOSS_OK);
        p.nll_weight = lambda;
        assert_status(prefloss_pair_loss(l1, c1, r1, pc, pr, rc, rr, NULL, up, M, kind, &p), PREFLOSS_OK);
        for (i = 0; i < M; i++) {
            /* each result is one float addition away from the plain one */
            assert_float_bits_equal(l1[i], l0[i] + lambda * -pc[i]);
            assert_float_bits_equal(c1[i], c0[i] + -lambda * up[i]);
            assert_float_bits_equal(r1[i], r0[i]);
        }
        p.nll_weight = (float)INFINITY;
        assert_status(prefloss_pair_loss(l1, c1, r1, pc, pr, rc, rr, NULL, up, M, kind, &p), PREFLOSS_ERR_PARAM);
    }
}

static void test_params_init(void **state)
{
    prefloss_pair_params p;
    (void)state;
    memset(&p, 0x7f, sizeof p);
    assert_status(prefloss_pair_params_init(&p, sizeof p), PREFLOSS_OK);
    assert_true(p.size == sizeof(prefloss_pair_params));
    assert_float_bits_equal(p.beta, 0.1f);
    assert_float_bits_equal(p.label_smoothing, 0.0f);
    assert_float_bits_equal(p.discopop_tau, 0.05f);
    assert_float_bits_equal(p.alpha, 1.0f);
    assert_float_bits_equal(p.simpo_gamma, 0.5f);
    assert_float_bits_equal(p.bco_delta, 0.0f);
    assert_float_bits_equal(p.nll_weight, 0.0f);
    assert_status(prefloss_pair_params_init(NULL, sizeof p), PREFLOSS_ERR_NULL);
    /* a block from an older, smaller layout: nothing past its size is written */
    memset(&p, 0x7f, sizeof p);
    assert_status(prefloss_pair_params_init(&p, offsetof(prefloss_pair_params, alpha)), PREFLOSS_OK);
    assert_true(p.size == offsetof(prefloss_pair_params, alpha));
    assert_float_bits_equal(p.discopop_tau, 0.05f);
    {
        const unsigned char *bytes = (const unsigned char *)&p;
        size_t k;
        for (k = offsetof(prefloss_pair_params, alpha); k < sizeof p; k++) assert_int_equal(bytes[k], 0x7f);
    }
    assert_status(prefloss_pair_params_init(&p, sizeof(size_t) - 1), PREFLOSS_ERR_PARAM);
}

enum { N = 8 };
static const float V_pc[N] = { -120.5f, -80.25f, -300.0f, -55.0f, -1999.0f, -61.5f, -700.125f, -90.0f };
static const float V_pr[N] = { -121.0f, -79.0f, -310.5f, -54.0f, -1990.5f, -61.5f, -705.0f, -89.75f };
static const float V_rc[N] = { -119.0f, -80.0f, -301.0f, -56.5f, -2000.0f, -60.0f, -700.0f, -91.0f };
static const float V_rr[N] = { -122.0f, -81.0f, -309.0f, -53.0f, -1991.0f, -63.0f, -704.0f, -88.0f };

typedef struct { float l[N], c[N], r[N]; } outs;

static int call(outs *o, int kind, const prefloss_pair_params *p)
{
    const int rf = refless(kind);
    static const float m_pc[N] = { -1.5f, -0.25f, -3.0f, -0.5f, -4.0f, -0.75f, -2.125f, -1.0f };
    static const float m_pr[N] = { -1.25f, -0.5f, -3.5f, -0.25f, -4.5f, -0.75f, -2.0f, -1.75f };
    return prefloss_pair_loss(o->l, o->c, o->r, rf ? m_pc : V_pc, rf ? m_pr : V_pr, V_rc, V_rr, NULL, NULL, N, kind, p);
}

static void assert_outs_equal(const outs *a, const outs *b)
{
    size_t i;
    for (i = 0; i < N; i++) {
        assert_float_bits_equal(a->l[i], b->l[i]);
        assert_float_bits_equal(a->c[i], b->c[i]);
        assert_float_bits_equal(a->r[i], b->r[i]);
    }
}

static int outs_equal(const outs *a, const outs *b) { return memcmp(a, b, sizeof *a) == 0; }

static void test_null_params_are_defaults(void **state)
{
    int k;
    (void)state;
    for (k = 0; k < NKINDS; k++) {
        outs a, b;
        prefloss_pair_params p = defaults();
        assert_status(call(&a, k, NULL), PREFLOSS_OK);
        assert_status(call(&b, k, &p), PREFLOSS_OK);
        assert_outs_equal(&a, &b);
    }
}

/* A block of a smaller size is read only up to its size: every later field
 * takes its default (even if it holds garbage that would be refused). */
static void test_prefix_blocks(void **state)
{
    struct { int kind; size_t off; } cases[] = {
        { PREFLOSS_LOSS_HINGE, offsetof(prefloss_pair_params, beta) },
        { PREFLOSS_LOSS_SIGMOID, offsetof(prefloss_pair_params, label_smoothing) },
        { PREFLOSS_LOSS_DISCOPOP, offsetof(prefloss_pair_params, discopop_tau) },
        { PREFLOSS_LOSS_ALPHA, offsetof(prefloss_pair_params, alpha) },
        { PREFLOSS_LOSS_SIMPO, offsetof(prefloss_pair_params, simpo_gamma) },
        { PREFLOSS_LOSS_BCO_PAIR, offsetof(prefloss_pair_params, bco_delta) },
    };
    static const size_t fields[] = { offsetof(prefloss_pair_params, beta),
                                     offsetof(prefloss_pair_params, label_smoothing),
                                     offsetof(prefloss_pair_params, discopop_tau),
                                     offsetof(prefloss_pair_params, alpha),
                                     offsetof(prefloss_pair_params, simpo_gamma),
                                     offsetof(prefloss_pair_params, bco_delta) };
    size_t c, f;
    (void)state;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        outs want, got, full;
        prefloss_pair_params p = defaults();
        unsigned char *bytes = (unsigned char *)&p;
        assert_status(call(&want, cases[c].kind, NULL), PREFLOSS_OK);
        /* the field at the cut and everything after it: changed values */
        p.beta = 0.7f;
        p.label_smoothing = 0.2f;
        p.discopop_tau = 0.5f;
        p.alpha = 2.0f;
        p.simpo_gamma = -1.0f;
        p.bco_delta = 1.5f;
        assert_status(call(&full, cases[c].kind, &p), PREFLOSS_OK);
        assert_false(outs_equal(&full, &want)); /* the field matters for this kind */
        for (f = 0; f < sizeof fields / sizeof fields[0]; f++) /* fields from the cut on: invalid garbage */
            if (fields[f] >= cases[c].off) memcpy(bytes + fields[f], &(float){ NAN }, sizeof(float));
        /* fields before the cut are read: set them back to the defaults */
        {
            prefloss_pair_params d = defaults();
            memcpy(bytes + sizeof(size_t), (unsigned char *)&d + sizeof(size_t), cases[c].off - sizeof(size_t));
        }
        p.size = cases[c].off;
        assert_status(call(&got, cases[c].kind, &p), PREFLOSS_OK);
        assert_outs_equal(&got, &want);
        /* a size that ends inside the field does not reach it either */
        p.size = cases[c].off + sizeof(float) - 1;
        assert_status(call(&got, cases[c].kind, &p), PREFLOSS_OK);
        assert_outs_equal(&got, &want);
    }
    /* the discopop example: size = offsetof(discopop_tau) uses the default tau */
    {
        outs want, got;
        prefloss_pair_params p = defaults(), q = defaults();
        q.discopop_tau = 0.05f;
        p.discopop_tau = 0.9f;
        p.size = offsetof(prefloss_pair_params, discopop_tau);
        assert_status(call(&want, PREFLOSS_LOSS_DISCOPOP, &q), PREFLOSS_OK);
        assert_status(call(&got, PREFLOSS_LOSS_DISCOPOP, &p), PREFLOSS_OK);
        assert_outs_equal(&got, &want);
    }
}

/* Nothing written: outputs pre-filled with sentinels must be unchanged. */
static outs g_o;
#define expect_err(kind, p, want)                                                       \
    do {                                                                                \
        tu_fill_sentinel(&g_o, sizeof g_o);                                             \
        assert_status(call(&g_o, (kind), (p)), (want));                                 \
        assert_true(tu_is_sentinel(&g_o, sizeof g_o));                                  \
    } while (0)

static void test_block_size_too_small(void **state)
{
    size_t s;
    int k;
    (void)state;
    for (k = 0; k < NKINDS; k++)
        for (s = 0; s < sizeof(size_t); s++) {
            prefloss_pair_params p = defaults();
            p.size = s;
            expect_err(k, &p, PREFLOSS_ERR_PARAM);
        }
}

static int uses_eps(int k)
{
    return k == PREFLOSS_LOSS_SIGMOID || k == PREFLOSS_LOSS_ROBUST || k == PREFLOSS_LOSS_EXO_PAIR
        || k == PREFLOSS_LOSS_JS || k == PREFLOSS_LOSS_ALPHA || k == PREFLOSS_LOSS_SIMPO || k == PREFLOSS_LOSS_CPO;
}

static void test_parameter_ranges(void **state)
{
    const float bad_beta[] = { 0.0f, -0.0f, -0.1f, NAN, INFINITY, -INFINITY, 1e-40f, TU_FLT_TRUE_MIN };
    const float bad_eps[] = { -1e-7f, -0.0001f, 0.50000006f, 1.0f, NAN, INFINITY, -INFINITY };
    const float bad_tau[] = { 0.0f, -0.05f, 1.0000001f, 2.0f, NAN, INFINITY, 1e-40f };
    const float bad_alpha[] = { 0.0f, -1.0f, NAN, INFINITY, -INFINITY, 1e-40f };
    const float bad_finite[] = { NAN, INFINITY, -INFINITY };
    size_t j;
    int k;
    (void)state;
    for (k = 0; k < NKINDS; k++) {
        prefloss_pair_params p;
        outs o;
        for (j = 0; j < sizeof bad_beta / sizeof bad_beta[0]; j++) {
            p = defaults();
            p.beta = bad_beta[j];
            expect_err(k, &p, PREFLOSS_ERR_PARAM);
        }
        p = defaults();
        p.beta = FLT_MAX; /* a huge but normal beta is accepted */
        assert_true(call(&o, k, &p) >= 0);
        p.beta = FLT_MIN;
        assert_true(call(&o, k, &p) >= 0);
        for (j = 0; j < sizeof bad_eps / sizeof bad_eps[0]; j++) {
            p = defaults();
            p.label_smoothing = bad_eps[j];
            if (uses_eps(k)) expect_err(k, &p, PREFLOSS_ERR_PARAM);
            else assert_status(call(&o, k, &p), PREFLOSS_OK); /* unused: not read */
        }
        p = defaults();
        p.label_smoothing = 0.5f; /* closed for every kind but robust */
        if (k == PREFLOSS_LOSS_ROBUST) expect_err(k, &p, PREFLOSS_ERR_PARAM);
        else assert_status(call(&o, k, &p), PREFLOSS_OK);
        for (j = 0; j < sizeof bad_tau / sizeof bad_tau[0]; j++) {
            p = defaults();
            p.discopop_tau = bad_tau[j];
            if (k == PREFLOSS_LOSS_DISCOPOP) expect_err(k, &p, PREFLOSS_ERR_PARAM);
            else assert_status(call(&o, k, &p), PREFLOSS_OK);
        }
        for (j = 0; j < sizeof bad_alpha / sizeof bad_alpha[0]; j++) {
            p = defaults();
            p.alpha = bad_alpha[j];
            if (k == PREFLOSS_LOSS_ALPHA) expect_err(k, &p, PREFLOSS_ERR_PARAM);
            else assert_status(call(&o, k, &p), PREFLOSS_OK);
        }
        for (j = 0; j < sizeof bad_finite / sizeof bad_finite[0]; j++) {
            p = defaults();
            p.simpo_gamma = bad_finite[j];
            if (k == PREFLOSS_LOSS_SIMPO) expect_err(k, &p, PREFLOSS_ERR_PARAM);
            else assert_status(call(&o, k, &p), PREFLOSS_OK);
            p = defaults();
            p.bco_delta = bad_finite[j];
            if (k == PREFLOSS_LOSS_BCO_PAIR) expect_err(k, &p, PREFLOSS_ERR_PARAM);
            else assert_status(call(&o, k, &p), PREFLOSS_OK);
        }
    }
    /* the edges that are accepted */
    {
        prefloss_pair_params p = defaults();
        outs o;
        p.discopop_tau = 1.0f;
        assert_status(call(&o, PREFLOSS_LOSS_DISCOPOP, &p), PREFLOSS_OK);
        p.discopop_tau = FLT_MIN;
        assert_status(call(&o, PREFLOSS_LOSS_DISCOPOP, &p), PREFLOSS_OK);
        p = defaults();
        p.alpha = FLT_MIN;
        assert_true(call(&o, PREFLOSS_LOSS_ALPHA, &p) >= 0);
        p.alpha = FLT_MAX;
        assert_true(call(&o, PREFLOSS_LOSS_ALPHA, &p) >= 0);
        p = defaults();
        p.simpo_gamma = -1e30f;
        assert_status(call(&o, PREFLOSS_LOSS_SIMPO, &p), PREFLOSS_OK);
        p = defaults();
        p.bco_delta = 1e30f;
        assert_status(call(&o, PREFLOSS_LOSS_BCO_PAIR, &p), PREFLOSS_OK);
    }
}

static void test_unknown_kind(void **state)
{
    const int bad[] = { -1, NKINDS, NKINDS + 1, 100, INT_MAX, INT_MIN };
    size_t j;
    (void)state;
    for (j = 0; j < sizeof bad / sizeof bad[0]; j++) {
        expect_err(bad[j], NULL, PREFLOSS_ERR_PARAM);
        tu_fill_sentinel(&g_o, sizeof g_o); /* n == 0 does not excuse an unknown kind */
        assert_status(prefloss_pair_loss(g_o.l, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, bad[j], NULL),
                      PREFLOSS_ERR_PARAM);
        assert_true(tu_is_sentinel(&g_o, sizeof g_o));
    }
}

/* Every other error, for every kind: nothing written. */
static void test_errors_write_nothing(void **state)
{
    static float mem[6 * N];
    float w[N];
    int k;
    size_t i;
    (void)state;
    for (i = 0; i < N; i++) w[i] = 1.0f;
    for (k = 0; k < NKINDS; k++) {
        outs o;
#define EXPECT(call_, want)                                                             \
        do {                                                                            \
            tu_fill_sentinel(&o, sizeof o);                                             \
            assert_status((call_), (want));                                             \
            assert_true(tu_is_sentinel(&o, sizeof o));                                  \
        } while (0)
        EXPECT(prefloss_pair_loss(o.l, o.c, o.r, NULL, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL), PREFLOSS_ERR_NULL);
        EXPECT(prefloss_pair_loss(o.l, o.c, o.r, V_pc, NULL, V_rc, V_rr, NULL, NULL, N, k, NULL), PREFLOSS_ERR_NULL);
        if (!refless(k)) {
            EXPECT(prefloss_pair_loss(o.l, o.c, o.r, V_pc, V_pr, NULL, V_rr, NULL, NULL, N, k, NULL), PREFLOSS_ERR_NULL);
            EXPECT(prefloss_pair_loss(o.l, o.c, o.r, V_pc, V_pr, V_rc, NULL, NULL, NULL, N, k, NULL), PREFLOSS_ERR_NULL);
        }
        EXPECT(prefloss_pair_loss(o.l, o.c, o.r, V_pc, V_pr, V_rc, V_rr, NULL, NULL, SIZE_MAX / 2, k, NULL),
               PREFLOSS_ERR_SIZE);
        /* outputs overlapping each other */
        EXPECT(prefloss_pair_loss(o.l, o.l, o.r, V_pc, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL), PREFLOSS_ERR_OVERLAP);
        EXPECT(prefloss_pair_loss(o.l, o.c, o.l + 1, V_pc, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL),
               PREFLOSS_ERR_OVERLAP);
        /* the weights overlapping an output: every output, exactly and partly */
        {
            float *L = mem, *C = mem + N, *R = mem + 2 * N;
            unsigned char snap[sizeof mem];
            const float *wp[6] = { L, C, R, L + N / 2, C + 1, R + N - 1 };
            size_t j;
            for (j = 0; j < 6; j++) {
                for (i = 0; i < 6 * N; i++) mem[i] = 0.5f;
                memcpy(snap, mem, sizeof mem);
                assert_status(prefloss_pair_loss(L, C, R, V_pc, V_pr, V_rc, V_rr, wp[j], NULL, N, k, NULL),
                              PREFLOSS_ERR_OVERLAP);
                assert_memory_equal(mem, snap, sizeof mem);
            }
            /* weights next to the outputs (no overlap) and an unused output NULL are fine */
            assert_status(prefloss_pair_loss(L, C, R, V_pc, V_pr, V_rc, V_rr, mem + 3 * N, NULL, N, k, NULL),
                          PREFLOSS_OK);
            assert_status(prefloss_pair_loss(L, NULL, NULL, V_pc, V_pr, V_rc, V_rr, C, NULL, N, k, NULL), PREFLOSS_OK);
        }
        /* an output on top of an input (the policy, the upstream gradient) */
        {
            float in[N];
            memcpy(in, V_pc, sizeof in);
            assert_status(prefloss_pair_loss(in, o.c, o.r, in, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL),
                          PREFLOSS_ERR_OVERLAP);
            assert_memory_equal(in, V_pc, sizeof in);
            EXPECT(prefloss_pair_loss(o.l, o.c, o.r, V_pc, V_pr, V_rc, V_rr, NULL, o.l, N, k, NULL), PREFLOSS_ERR_OVERLAP);
        }
        (void)w;
#undef EXPECT
    }
}

static void test_n_zero(void **state)
{
    int k;
    (void)state;
    for (k = 0; k < NKINDS; k++) {
        prefloss_pair_params p = defaults();
        tu_fill_sentinel(&g_o, sizeof g_o);
        assert_status(prefloss_pair_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, k, NULL), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(g_o.l, g_o.c, g_o.r, NULL, NULL, NULL, NULL, NULL, NULL, 0, k, &p), PREFLOSS_OK);
        assert_true(tu_is_sentinel(&g_o, sizeof g_o));
        /* the parameters are still checked */
        p.beta = -1.0f;
        assert_status(prefloss_pair_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, k, &p),
                      PREFLOSS_ERR_PARAM);
    }
}

/* ======================================================================== */
/* Weights, optional outputs, references, non-finite inputs                 */
/* ======================================================================== */

static void test_weights(void **state)
{
    const float w[N] = { 2.0f, 0.5f, 0.0f, -0.0f, 3.7f, 1e-3f, 1.0f, 7.25f };
    const float dl[N] = { 1.0f, -2.0f, 0.25f, 3.0f, -0.1f, 1.0f, 5.0f, 0.5f };
    int k;
    size_t i;
    (void)state;
    for (k = 0; k < NKINDS; k++) {
        outs u, g;
        const float *pc = refless(k) ? V_pr : V_pc; /* any inputs will do */
        assert_status(prefloss_pair_loss(u.l, u.c, u.r, pc, V_pr, V_rc, V_rr, NULL, dl, N, k, NULL), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(g.l, g.c, g.r, pc, V_pr, V_rc, V_rr, w, dl, N, k, NULL), PREFLOSS_OK);
        for (i = 0; i < N; i++) { /* w_i scales every output: one rounding */
            assert_float_bits_equal(g.l[i], u.l[i] * w[i]);
            assert_float_bits_equal(g.c[i], u.c[i] * w[i]);
            assert_float_bits_equal(g.r[i], u.r[i] * w[i]);
        }
        /* a non-finite weight: that pair NaN in every output, the others exact */
        {
            float wb[N];
            const float bad[3] = { NAN, INFINITY, -INFINITY };
            size_t b;
            for (b = 0; b < 3; b++) {
                memcpy(wb, w, sizeof wb);
                wb[4] = bad[b];
                assert_status(prefloss_pair_loss(g.l, g.c, g.r, pc, V_pr, V_rc, V_rr, wb, dl, N, k, NULL),
                              PREFLOSS_NONFINITE);
                for (i = 0; i < N; i++) {
                    if (i == 4) {
                        assert_nan(g.l[i]);
                        assert_nan(g.c[i]);
                        assert_nan(g.r[i]);
                    } else {
                        assert_float_bits_equal(g.l[i], u.l[i] * w[i]);
                        assert_float_bits_equal(g.c[i], u.c[i] * w[i]);
                    }
                }
            }
        }
    }
    /* a zero weight on a huge (even overflowed) loss gives 0, not NaN */
    {
        const float big_pc[2] = { 3e19f, -1e30f }, big_pr[2] = { -3e19f, 1e30f };
        const float zero_w[2] = { 0.0f, 0.0f };
        const int kinds[] = { PREFLOSS_LOSS_SPPO_HARD, PREFLOSS_LOSS_HINGE, PREFLOSS_LOSS_DISCOPOP,
                              PREFLOSS_LOSS_ROBUST, PREFLOSS_LOSS_NCA_PAIR, PREFLOSS_LOSS_IPO, PREFLOSS_LOSS_SIGMOID,
                              PREFLOSS_LOSS_ALPHA };
        size_t j;
        for (j = 0; j < sizeof kinds / sizeof kinds[0]; j++) {
            float l[2], c[2], r[2];
            int st = prefloss_pair_loss(l, c, r, big_pc, big_pr, NULL, NULL, zero_w, NULL, 2, kinds[j], NULL);
            assert_status(st, PREFLOSS_OK);
            for (i = 0; i < 2; i++) {
                assert_true(l[i] == 0.0f);
                assert_true(c[i] == 0.0f);
                assert_true(r[i] == 0.0f);
            }
        }
        { /* sppo_hard really overflows there without the weight */
            float l[2];
            assert_status(prefloss_pair_loss(l, NULL, NULL, big_pc, big_pr, NULL, NULL, NULL, NULL, 2,
                                             PREFLOSS_LOSS_SPPO_HARD, NULL), PREFLOSS_OK);
            assert_true(isinf(l[0]));
        }
    }
}

/* A gradient that is subnormal before its weight loses no digits to it:
 * the kinds that carry tiny gradients scaled (robust, exo_pair, nca_pair,
 * bco_pair, APO, discopop, js, alpha, simpo, cpo) apply the per-pair weight
 * and the mix weight before the power of two, as they do the upstream
 * gradient. So with powers of two, a weight W (per pair, or as the mix
 * weight) gives the bits of an upstream gradient W. Before, the weight
 * multiplied the rounded subnormal (2^40 times an error of up to 2^-150). */
static void test_weight_revives_subnormal_gradient(void **state)
{
    enum { M = 64 };
    const int kinds[] = { PREFLOSS_LOSS_ROBUST, PREFLOSS_LOSS_EXO_PAIR, PREFLOSS_LOSS_NCA_PAIR,
                          PREFLOSS_LOSS_BCO_PAIR, PREFLOSS_LOSS_APO_ZERO, PREFLOSS_LOSS_APO_DOWN,
                          PREFLOSS_LOSS_DISCOPOP, PREFLOSS_LOSS_JS, PREFLOSS_LOSS_ALPHA,
                          PREFLOSS_LOSS_SIMPO, PREFLOSS_LOSS_CPO };
    const float W = 1099511627776.0f; /* 2^40 */
    float pc[M], pr[M], rc[M], rr[M], w[M], up[M];
    size_t j, i;
    (void)state;
    for (i = 0; i < M; i++) {
        /* z = beta h from -190 to 182 in steps of 12; then, for alpha's
         * e^{-a u}, both u from 60 to 153 with h = 1/4 */
        float h = -190.0f + 12.0f * (float)i, u = 60.0f + 3.0f * (float)(i - M / 2);
        rc[i] = -300.0f;
        rr[i] = -310.0f;
        pc[i] = i < M / 2 ? rc[i] + 0.5f * h : rc[i] + u + 0.25f;
        pr[i] = i < M / 2 ? rr[i] - 0.5f * h : rr[i] + u;
        w[i] = W;
        up[i] = W;
    }
    for (j = 0; j < sizeof kinds / sizeof kinds[0]; j++) {
        float l1[M], c1[M], r1[M], lw[M], cw[M], rw[M], lu[M], cu[M], ru[M], lm[M], cm[M], rm[M];
        size_t revived = 0;
        const int k = kinds[j];
        prefloss_pair_params P = defaults();
        P.beta = 1.0f;
        P.alpha = 1.0f;
        assert_status(prefloss_pair_loss(l1, c1, r1, pc, pr, rc, rr, NULL, NULL, M, k, &P), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(lw, cw, rw, pc, pr, rc, rr, w, NULL, M, k, &P), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(lu, cu, ru, pc, pr, rc, rr, NULL, up, M, k, &P), PREFLOSS_OK);
        assert_status(prefloss_pair_loss_mix(lm, cm, rm, pc, pr, rc, rr, NULL, NULL, M, &k, &W, 1, &P),
                      PREFLOSS_OK);
        for (i = 0; i < M; i++) {
            assert_float_bits_equal(cw[i], cu[i]);
            assert_float_bits_equal(rw[i], ru[i]);
            assert_float_bits_equal(lw[i], l1[i] * W);
            /* the mix sum starts at +0, so only the value of a zero is kept */
            assert_true(cm[i] == cu[i] && rm[i] == ru[i] && lm[i] == l1[i] * W);
            if (c1[i] != 0.0f && fabsf(c1[i]) < FLT_MIN && fabsf(cw[i]) >= FLT_MIN) revived++;
            if (r1[i] != 0.0f && fabsf(r1[i]) < FLT_MIN && fabsf(rw[i]) >= FLT_MIN) revived++;
        }
        if (revived == 0) fail_msg("%s: no subnormal gradient among the samples", trl_names[k]);
        {
            /* 2^40 again as 2^100 (upstream) x 2^80 (weight) x 2^-140 (mix):
             * the partial products overflow, the result need not */
            const float big = 1267650600228229401496703205376.0f;  /* 2^100 */
            const float mw = 1.0f / big / W;                        /* 2^-140, exact */
            float upb[M], wb[M];
            for (i = 0; i < M; i++) {
                upb[i] = big;
                wb[i] = big / 1048576.0f;                           /* 2^80 */
            }
            assert_status(prefloss_pair_loss_mix(lm, cm, rm, pc, pr, rc, rr, wb, upb, M, &k, &mw, 1, &P),
                          PREFLOSS_OK);
            for (i = 0; i < M; i++)
                if (!(cm[i] == cu[i] && rm[i] == ru[i]))
                    fail_msg("%s i=%zu: %a %a vs %a %a", trl_names[k], i, (double)cm[i], (double)rm[i], (double)cu[i], (double)ru[i]);
        }
    }
}

/* Each output may be NULL; the others are unchanged. NULL references are
 * zeros. simpo and cpo ignore the references. */
static void test_optional_outputs_and_references(void **state)
{
    static const float zeros[N] = { 0 };
    int k;
    (void)state;
    for (k = 0; k < NKINDS; k++) {
        outs a, b;
        const float *pc = refless(k) ? V_pr : V_pc;
        tu_fill_sentinel(&b, sizeof b);
        assert_status(prefloss_pair_loss(a.l, a.c, a.r, pc, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(b.l, NULL, NULL, pc, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(NULL, b.c, NULL, pc, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(NULL, NULL, b.r, pc, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL), PREFLOSS_OK);
        assert_outs_equal(&a, &b);
        /* NULL references == zero references (both are then the policy log-probs alone) */
        assert_status(prefloss_pair_loss(a.l, a.c, a.r, pc, V_pr, zeros, zeros, NULL, NULL, N, k, NULL), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(b.l, b.c, b.r, pc, V_pr, NULL, NULL, NULL, NULL, N, k, NULL), PREFLOSS_OK);
        assert_outs_equal(&a, &b);
        if (refless(k)) { /* the references are ignored */
            assert_status(prefloss_pair_loss(a.l, a.c, a.r, pc, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL),
                          PREFLOSS_OK);
            assert_outs_equal(&a, &b);
        }
    }
}

static void test_nonfinite_inputs(void **state)
{
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    int k, which;
    size_t b, i;
    (void)state;
    for (k = 0; k < NKINDS; k++) {
        outs clean, g;
        const int n_in = refless(k) ? 2 : 4;
        assert_status(prefloss_pair_loss(clean.l, clean.c, clean.r, V_pc, V_pr, V_rc, V_rr, NULL, NULL, N, k, NULL),
                      PREFLOSS_OK);
        for (which = 0; which < n_in + 1; which++)
            for (b = 0; b < 3; b++) {
                float in[5][N];
                float ones[N];
                memcpy(in[0], V_pc, sizeof in[0]);
                memcpy(in[1], V_pr, sizeof in[1]);
                memcpy(in[2], V_rc, sizeof in[2]);
                memcpy(in[3], V_rr, sizeof in[3]);
                for (i = 0; i < N; i++) ones[i] = 1.0f;
                if (which < n_in) in[which][3] = bad[b];
                else ones[3] = bad[b]; /* the upstream gradient: gradients only */
                assert_status(prefloss_pair_loss(g.l, g.c, g.r, in[0], in[1], in[2], in[3], NULL, ones, N, k, NULL),
                              PREFLOSS_NONFINITE);
                for (i = 0; i < N; i++) {
                    if (i != 3) {
                        assert_float_bits_equal(g.l[i], clean.l[i]);
                        assert_float_bits_equal(g.c[i], clean.c[i]);
                        assert_float_bits_equal(g.r[i], clean.r[i]);
                        continue;
                    }
                    if (which < n_in) assert_nan(g.l[i]);
                    else assert_float_bits_equal(g.l[i], clean.l[i]);
                    assert_nan(g.c[i]);
                    assert_nan(g.r[i]);
                }
            }
    }
}

/* ======================================================================== */
/* The documented pitfalls                                                  */
/* ======================================================================== */

/* discopop: w e^{-z} must not be 0 * inf = NaN for z << 0. From the formula,
 * L = (1 - w) sp(-z) + w e^{-z} with w = sigma(z/tau): for tau < 1,
 * w e^{-z} ~ e^{z(1/tau - 1)} -> 0 and L -> sp(-z) ~ -z; for tau = 1,
 * w e^{-z} = 1/(1 + e^z) -> 1 and L -> 1 - z. */
static void test_discopop_far_negative(void **state)
{
    const float zs[] = { -30.0f, -88.0f, -89.0f, -100.0f, -700.0f, -1000.0f, -1e4f, -1e6f };
    const float taus[] = { 0.05f, 0.5f, 1.0f };
    size_t i, t;
    (void)state;
    for (t = 0; t < 3; t++)
        for (i = 0; i < sizeof zs / sizeof zs[0]; i++) {
            prefloss_pair_params p = defaults();
            float pc = zs[i], pr = 0.0f, l, c, r;
            ld limit = taus[t] < 1.0f ? -(ld)zs[i] : 1.0L - (ld)zs[i];
            p.beta = 1.0f;
            p.discopop_tau = taus[t];
            assert_status(prefloss_pair_loss(&l, &c, &r, &pc, &pr, NULL, NULL, NULL, NULL, 1, PREFLOSS_LOSS_DISCOPOP, &p),
                          PREFLOSS_OK);
            assert_false(isnan(l) || isnan(c) || isnan(r));
            assert_true(isfinite(l));
            /* within a few ulp of the limit (the corrections are < e^{-29} relative) */
            assert_true(err_ulp(l, limit) <= 4.0L);
            /* dL/dz -> -1 for every tau (tau = 1: d/dz of 1/(1+e^z) -> 0 too) */
            assert_close(c, -1.0, 1e-6);
            assert_float_bits_equal(r, -c);
        }
}

/* exo_pair with eps = 0 uses 1e-3 like TRL: finite and equal to eps = 1e-3. */
static void test_exo_eps_zero(void **state)
{
    outs a, b;
    prefloss_pair_params p0 = defaults(), p1 = defaults();
    size_t i;
    (void)state;
    p0.label_smoothing = 0.0f;
    p1.label_smoothing = 1e-3f;
    assert_status(call(&a, PREFLOSS_LOSS_EXO_PAIR, &p0), PREFLOSS_OK);
    assert_status(call(&b, PREFLOSS_LOSS_EXO_PAIR, &p1), PREFLOSS_OK);
    assert_outs_equal(&a, &b);
    for (i = 0; i < N; i++) assert_true(isfinite(a.l[i]) && isfinite(a.c[i]) && isfinite(a.r[i]));
    /* and far in both tails */
    {
        const float pc[4] = { -1000.0f, 1000.0f, -30.0f, 30.0f }, pr[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
        float l[4], c[4], r[4];
        p0.beta = 1.0f;
        assert_status(prefloss_pair_loss(l, c, r, pc, pr, NULL, NULL, NULL, NULL, 4, PREFLOSS_LOSS_EXO_PAIR, &p0),
                      PREFLOSS_OK);
        for (i = 0; i < 4; i++) assert_true(isfinite(l[i]) && isfinite(c[i]) && isfinite(r[i]));
        /* z -> -inf: L -> -log(1e-3f) (KL of Bernoulli(0) from Bernoulli(1 - 1e-3)) */
        assert_true(err_ulp(l[0], -logl((ld)1e-3f)) <= 4.0L);
        /* z -> +inf: L -> -log(1 - 1e-3f) */
        printf("    exo_pair eps=0, z=+1000: loss %a, exact %.12Lg (%.1Lf ulp)\n", (double)l[1], -log1pl(-(ld)1e-3f),
               err_ulp(l[1], -log1pl(-(ld)1e-3f)));
#if CATALOGUE_STRICT_EXO_LOSS
        assert_true(err_ulp(l[1], -log1pl(-(ld)1e-3f)) <= 4.0L);
#else
        assert_true(fabsl((ld)l[1] + log1pl(-(ld)1e-3f)) <= 1e-4L * -log1pl(-(ld)1e-3f)); /* see the switch */
#endif
    }
}

/* nca_pair's dL/dpc = beta g(a), g(a) = sigma(a)/2 - sigma(-a), a = beta uc,
 * around its zero a = ln 2, where the two terms cancel: strict budget
 * 4 + kappa/2 ulp, kappa = |a g'(a)/g(a)| with g' = 3 sigma'(a)/2; the
 * reference is the same value without a difference, expm1(a - ln 2)
 * sigma(-a). Swept densely (the random accuracy run lands in the worst
 * spots too rarely): half of the samples at |a - ln 2| in [0.3, 0.55], where
 * a float expm1(a - ln 2) sigma(-a) with expm1 as e^x - 1 reached 5.1 ulp
 * beyond kappa/2, the rest within ln 2 +- 1; and the worst inputs the
 * Python suite met (from its own sample sets; 5.05 and 4.37 ulp beyond
 * kappa/2 then). */
static void test_nca_chosen_gradient_near_zero(void **state)
{
    enum { M = 500, CHUNKS = 240, FIXED = 2 };
    static const float fixed[FIXED][3] = {   /* pc, rc, beta */
        { -249.75323486328125f, -251.84339904785156f, 0.5f },
        { -131.60096740722656f, -134.32180786132812f, 0.1f } };
    const ld ln2 = 0.693147180559945309417232121458176568L;
    prefloss_pair_params p = defaults();
    float pc[M], pr[M], rc[M], rr[M], l[M], c[M], r[M];
    ld worst = -1e30L;
    size_t k, i, failed = 0;
    tu_rng rng = tu_rng_seed(0x9ca0u);
    (void)state;
    for (k = 0; k < CHUNKS + FIXED; k++) {
        const size_t n = k < CHUNKS ? M : 1;
        p.beta = k < CHUNKS ? (float)tu_logu(&rng, -2.0, 1.5) : fixed[k - CHUNKS][2];
        for (i = 0; i < n; i++) {
            double d = i % 2 ? tu_sign(&rng) * tu_range(&rng, 0.3, 0.55) : tu_range(&rng, -1.0, 1.0);
            rc[i] = (float)-tu_range(&rng, 50.0, 2000.0);
            rr[i] = (float)-tu_range(&rng, 50.0, 2000.0);
            pc[i] = (float)((double)rc[i] + ((double)ln2 + d) / (double)p.beta);
            pr[i] = (float)((double)rr[i] + tu_range(&rng, -5.0, 5.0));
        }
        if (k >= CHUNKS) {
            pc[0] = fixed[k - CHUNKS][0];
            rc[0] = fixed[k - CHUNKS][1];
        }
        assert_status(prefloss_pair_loss(l, c, r, pc, pr, rc, rr, NULL, NULL, n, PREFLOSS_LOSS_NCA_PAIR, &p),
                      PREFLOSS_OK);
        for (i = 0; i < n; i++) {
            const ld beta = (ld)p.beta, a = beta * ((ld)pc[i] - (ld)rc[i]);   /* exact */
            const ld g = expm1l(a - ln2) * ref_sigmoid(-a), ref = beta * g;
            const ld kappa = fabsl(a * 1.5L * ref_sigmoid(a) * ref_sigmoid(-a) / g);
            ld ex;
            if (!ref_is_normal_float(ref)) continue;
            ex = err_ulp(c[i], ref) - kappa / 2;
            if (ex > worst) worst = ex;
            if (!(ex <= 4.0L) && failed++ < 3)
                print_error("nca_pair dchosen: pc=%a rc=%a beta=%a (a - ln 2 = %.6Lg): got %a, exact %.12Lg, "
                            "%.2Lf ulp, kappa %.4Lg\n", (double)pc[i], (double)rc[i], (double)p.beta, a - ln2,
                            (double)c[i], ref, err_ulp(c[i], ref), kappa);
        }
    }
    printf("    nca_pair dchosen near a = ln 2: worst %.3Lf ulp beyond kappa/2 (budget 4)\n", worst);
    assert_int_equal(failed, 0);
}

/* exo_pair's loss, a KL divergence with a double zero at z0 = log((1-eps)/eps),
 * swept over z0 +- 1 for the label smoothings the random run does not draw
 * (and 0.3): just outside the library's series window its two terms still
 * cancel by a factor of up to ~10, so that log1p(e^-|z|), log(eps) and
 * log(1 - eps) must be more than float-accurate there (float-accurate ones
 * reached 7.3 ulp beyond kappa/2 at eps = 0.4). Strict budget 4 + kappa/2,
 * kappa = |z L'(z)/L(z)|, against the long-double reference of the
 * accuracy run. */
static void test_exo_loss_near_zero(void **state)
{
    enum { M = 500, CHUNKS = 30 };
    static const float epss[] = { 0.3f, 0.4f, 0.45f };
    prefloss_pair_params p = defaults();
    float pc[M], pr[M], rc[M], rr[M], l[M], c[M], r[M];
    ld worst = -1e30L;
    size_t j, k, i, failed = 0;
    tu_rng rng = tu_rng_seed(0xe0e0u);
    (void)state;
    for (j = 0; j < sizeof epss / sizeof epss[0]; j++) {
        const ld e = (ld)epss[j], z0 = logl((1.0L - e) / e);
        p.label_smoothing = epss[j];
        for (k = 0; k < CHUNKS; k++) {
            p.beta = (float)tu_logu(&rng, -2.0, 1.5);
            for (i = 0; i < M; i++) {
                rc[i] = (float)-tu_range(&rng, 50.0, 2000.0);
                rr[i] = (float)-tu_range(&rng, 50.0, 2000.0);
                pc[i] = (float)((double)rc[i] + ((double)z0 + tu_range(&rng, -1.0, 1.0)) / (double)p.beta);
                pr[i] = rr[i];
            }
            assert_status(prefloss_pair_loss(l, c, r, pc, pr, rc, rr, NULL, NULL, M, PREFLOSS_LOSS_EXO_PAIR, &p),
                          PREFLOSS_OK);
            for (i = 0; i < M; i++) {
                const ld x = (ld)p.beta * ref_h(pc[i], pr[i], rc[i], rr[i]);
                ld d1, tl, td, f = ref_single(PREFLOSS_LOSS_EXO_PAIR, &p, x, &d1, &tl, &td), ex;
                if (!ref_is_normal_float(f)) continue;
                ex = err_ulp(l[i], f) - kap(x, f, d1) / 2;
                if (ex > worst) worst = ex;
                if (!(ex <= 4.0L) && failed++ < 3)
                    print_error("exo_pair loss: eps=%a z=%.9Lg (z - z0 = %.4Lg): got %a, exact %.12Lg, %.2Lf ulp, "
                                "kappa %.4Lg\n", (double)p.label_smoothing, x, x - z0, (double)l[i], f,
                                err_ulp(l[i], f), kap(x, f, d1));
            }
        }
    }
    printf("    exo_pair loss near its zero (eps 0.3, 0.4, 0.45): worst %.3Lf ulp beyond kappa/2 (budget 4)\n",
           worst);
    assert_int_equal(failed, 0);
}

/* robust needs 1 - 2 eps > 0: eps = 0.5 is refused (TRL would divide by 0),
 * the largest float below 0.5 is accepted. */
static void test_robust_eps_half_refused(void **state)
{
    prefloss_pair_params p = defaults();
    outs o;
    size_t i;
    (void)state;
    p.label_smoothing = 0.5f;
    expect_err(PREFLOSS_LOSS_ROBUST, &p, PREFLOSS_ERR_PARAM);
    p.label_smoothing = nextafterf(0.5f, 0.0f);
    assert_status(call(&o, PREFLOSS_LOSS_ROBUST, &p), PREFLOSS_OK);
    for (i = 0; i < N; i++) assert_true(isfinite(o.l[i]) && isfinite(o.c[i]));
}

/* alpha_divergence caps the exponents at log(FLT_MAX) as TRL's cap_exp: no
 * NaN, and no gradient through a capped exponential. */
/* alpha_divergence with beta near FLT_MAX: z = d (beta/alpha), beta/alpha a
 * double-float whose low part comes from the remainder beta - q0 alpha.
 * That product rounded above FLT_MAX (here q0 alpha with beta = FLT_MAX,
 * alpha = 5.366), the low part became -inf and z +inf: the loss was 0
 * instead of 6.342e37. uc = 0, u_r = 1.34e15: d = -1, z = -FLT_MAX/alpha;
 * loss = -z, dL/dpc = -sigma(-z) beta e^0 = -FLT_MAX (exact values at 50
 * digits: 6.34206894404e37, -3.40282346639e38). */
static void test_alpha_beta_near_flt_max(void **state)
{
    const float pc = 0x1.301454p+50f, pr = 0x1.301454p+50f, rc = 0x1.301454p+50f, rr = -0x1.fp-3f;
    float l, c, r;
    prefloss_pair_params p = defaults();
    (void)state;
    p.beta = FLT_MAX;
    p.alpha = 0x1.5764p+2f;
    assert_status(prefloss_pair_loss(&l, &c, &r, &pc, &pr, &rc, &rr, NULL, NULL, 1, PREFLOSS_LOSS_ALPHA, &p),
                  PREFLOSS_OK);
    assert_close(l, 6.34206894404e37, 1e-6 * 6.34206894404e37);
    assert_close(c, -3.40282346639e38, 1e-6 * 3.40282346639e38);
}

/* beta = FLT_MAX with alpha < 1: beta/alpha is beyond the float range (a
 * fuzzed input once gave a NaN loss there). z = (e^{-a ur} - e^{-a uc}) beta/a
 * ~ 2e32: the loss log1p(e^{-z}) and both gradients are 0. */
static void test_alpha_beta_over_alpha_beyond_float(void **state)
{
    const float pc = -0x1.49a22ep+3f, pr = 0x1.4c365ep+7f, rc = -0x1.f41cp+8f, rr = 0x1.cp-2f;
    float l = -1.0f, c = -1.0f, r = -1.0f;
    prefloss_pair_params p = defaults();
    (void)state;
    p.beta = FLT_MAX;
    p.alpha = 0x1.99999ap-4f;
    assert_status(prefloss_pair_loss(&l, &c, &r, &pc, &pr, &rc, &rr, NULL, NULL, 1, PREFLOSS_LOSS_ALPHA, &p),
                  PREFLOSS_OK);
    assert_true(l == 0.0f && c == 0.0f && r == 0.0f);
}

/* alpha tiny (beta/alpha beyond the float range) with a weight that makes
 * the gradient overflow: the outputs that overflow are recomputed from
 * alpha's own evaluation, which must not lose z there (a fuzzed input gave
 * -0 instead of +inf). */
static void test_alpha_tiny_alpha_large_weight(void **state)
{
    const float pc = -0x1.0eda7p-14f, pr = -0x1.c4p-1f, rc = 0.0f, rr = 0.0f;
    const float w = -0x1.44327ap+97f, up = -0x1.44327ap+97f;
    float l0, c0, r0, l1, c1, r1;
    prefloss_pair_params p = defaults();
    (void)state;
    p.beta = 10.0f;
    p.alpha = 0x1p-126f;
    p.nll_weight = -1.0f;
    assert_status(prefloss_pair_loss(&l0, &c0, &r0, &pc, &pr, &rc, &rr, NULL, &up, 1, PREFLOSS_LOSS_ALPHA, &p),
                  PREFLOSS_OK);
    assert_status(prefloss_pair_loss(&l1, &c1, &r1, &pc, &pr, &rc, &rr, &w, &up, 1, PREFLOSS_LOSS_ALPHA, &p),
                  PREFLOSS_OK);
    assert_true(isfinite(r0) && r0 != 0.0f);
    assert_true(r1 == r0 * w);   /* beyond the float range: +inf */
}

/* An NLL weight -FLT_MAX against beta = FLT_MAX and dL/dz = -1: both terms
 * of dchosen overflow and cancel exactly (the exact value, beta e^{-8000}
 * u w, is far below the float range). Recomputed in scaled form, the sum
 * must be 0, not the rounding of two products (a fuzzed mixture found
 * -2^118 from prefloss_pair_loss against 0 from the mixture). */
static void test_alpha_nll_cancels_after_overflow(void **state)
{
    const float pc = 0x1.7a48p+7f, pr = -0x1.217b4cp-120f, rc = 0x1.7a48p+7f, rr = -0x1.8f9256p-116f;
    const float w = 0x1.a838p+2f, up = -0x1.19bc62p+37f, mw = 0x1.22bep+3f;
    const int kinds[1] = { PREFLOSS_LOSS_ALPHA };
    float l, c = 1.0f, r, lm, cm = 1.0f, rm;
    prefloss_pair_params p = defaults();
    (void)state;
    p.beta = FLT_MAX;
    p.nll_weight = -FLT_MAX;
    assert_status(prefloss_pair_loss(&l, &c, &r, &pc, &pr, &rc, &rr, &w, &up, 1, PREFLOSS_LOSS_ALPHA, &p),
                  PREFLOSS_OK);
    assert_status(prefloss_pair_loss_mix(&lm, &cm, &rm, &pc, &pr, &rc, &rr, &w, &up, 1, kinds, &mw, 1, &p),
                  PREFLOSS_OK);
    assert_true(c == 0.0f && cm == 0.0f);
}

static void test_alpha_cap(void **state)
{
    /* alpha = 1: -uc = 1000, 100 capped; -ur = 2000, 95 capped; 1, -5 not */
    const float pc[3] = { -1000.0f, -100.0f, 5.0f }, pr[3] = { -1.0f, -2000.0f, -95.0f };
    float l[3], c[3], r[3];
    prefloss_pair_params p = defaults();
    int st;
    size_t i;
    (void)state;
    st = prefloss_pair_loss(l, c, r, pc, pr, NULL, NULL, NULL, NULL, 3, PREFLOSS_LOSS_ALPHA, &p);
    printf("    alpha caps: status %d, loss %a %a %a, dchosen %a %a %a, drejected %a %a %a\n", st, (double)l[0],
           (double)l[1], (double)l[2], (double)c[0], (double)c[1], (double)c[2], (double)r[0], (double)r[1],
           (double)r[2]);
    /* no gradient through a capped exponential */
    assert_true(c[0] == 0.0f);
    assert_true(c[1] == 0.0f);
    assert_true(r[1] == 0.0f);
    assert_true(r[2] == 0.0f);
    assert_false(isnan(c[2]) || isnan(r[0]));
#if CATALOGUE_STRICT_ALPHA_CAP
    /* TRL: e^{88.7228} is finite, so nothing here is inf or NaN; both capped: logits 0, loss log 2 */
    assert_status(st, PREFLOSS_OK);
    for (i = 0; i < 3; i++) assert_true(isfinite(l[i]) && isfinite(c[i]) && isfinite(r[i]));
    assert_true(err_ulp(l[1], logl(2.0L)) <= 4.0L);
#else
    (void)i;
    (void)st;
#endif
}

/* Finite extreme inputs (docs/errors.md): never NaN; an output whose exact
 * value is beyond the float range is the infinity of its sign, one that
 * fits is within a few ulp. Every row once came out NaN: robust's c z with
 * z = beta h overflowed (its low part c_lo z_hi was inf - inf or 0 inf);
 * bco_pair's beta u - delta and simpo's beta(pc - pr) - gamma near
 * FLT_MAX (TwoSum's intermediate s - a overflowed though the sum did not). */
typedef struct {
    int kind;
    float beta, eps, delta, gamma, pc, pr;
    ld loss, dc, dr; /* exact (HUGE_VALL for +inf); dc, dr before dlosses */
} extreme_row;

static void check_extreme(const char *what, int row, float got, ld want)
{
    /* an exact value at or beyond the float overflow threshold must round to
     * the infinity of its sign (tested by magnitude, not isinf: under valgrind
     * long double is emulated in double, and HUGE_VALL is not an infinity) */
    const ld ovf = (ld)FLT_MAX * (1.0L + ldexpl(1.0L, -24));
    int ok = fabsl(want) >= ovf ? isinf(got) && (got > 0) == (want > 0)
                                : !isnan(got) && err_ulp(got, want) <= 4.0L;
    if (!ok) {
        print_error("extreme row %d: %s = %a, exact %.9Lg\n", row, what, (double)got, want);
        fail();
    }
}

static void test_extreme_finite_inputs(void **state)
{
    /* c = eps/(1 - 2 eps) of robust */
    const ld c49 = (ld)0.49f / (1.0L - 2.0L * (ld)0.49f);
    const ld a_bco = (ld)0.1f * (ld)FLT_MAX - (ld)FLT_MAX;            /* beta uc - delta */
    const ld x_simpo = (ld)0.1f * ((ld)FLT_MAX + 1e20L) - (ld)FLT_MAX; /* beta(pc - pr) - gamma */
    const extreme_row rows[] = {
        /* z = beta h -> -inf: L = (1 + c)|z| -> +inf, g = -beta(1 + c) */
        { PREFLOSS_LOSS_ROBUST, 1.0f, 0.49f, 0.0f, 0.5f, -FLT_MAX, 1e38f, HUGE_VALL, -(1.0L + c49), 1.0L + c49 },
        /* z -> +inf: L = sp(-z) - c z -> -inf, g = -beta c */
        { PREFLOSS_LOSS_ROBUST, 1.0f, 0.49f, 0.0f, 0.5f, FLT_MAX, -1e38f, -HUGE_VALL, -c49, c49 },
        { PREFLOSS_LOSS_ROBUST, FLT_MAX, 0.25f, 0.0f, 0.5f, 4.0f, 0.0f, -HUGE_VALL, -(ld)FLT_MAX * 0.5L, (ld)FLT_MAX * 0.5L },
        /* a = 0.1 FLT_MAX - FLT_MAX, b = -FLT_MAX: L = sp(-a) + sp(b) = -a */
        { PREFLOSS_LOSS_BCO_PAIR, 0.1f, 0.0f, FLT_MAX, 0.5f, FLT_MAX, 0.0f, -a_bco, -(ld)0.1f, 0.0L },
        /* x = 0.1 (FLT_MAX + 1e20) - FLT_MAX: L = -x, dL/dpc = -beta */
        { PREFLOSS_LOSS_SIMPO, 0.1f, 0.0f, 0.0f, FLT_MAX, FLT_MAX, -1e20f, -x_simpo, -(ld)0.1f, (ld)0.1f },
    };
    int i;
    (void)state;
    for (i = 0; i < (int)(sizeof rows / sizeof rows[0]); i++) {
        const extreme_row *x = &rows[i];
        prefloss_pair_params p = defaults();
        float l, c, r;
        p.beta = x->beta;
        p.label_smoothing = x->eps;
        p.bco_delta = x->delta;
        p.simpo_gamma = x->gamma;
        assert_status(prefloss_pair_loss(&l, &c, &r, &x->pc, &x->pr, NULL, NULL, NULL, NULL, 1, x->kind, &p),
                      PREFLOSS_OK);
        check_extreme("loss", i, l, x->loss);
        check_extreme("dchosen", i, c, x->dc);
        check_extreme("drejected", i, r, x->dr);
    }
    /* a mixture whose terms overflow with opposite signs: their exact sum is
     * not known; the sum so far keeps its infinity (never NaN) */
    {
        const int kinds[2] = { PREFLOSS_LOSS_ROBUST, PREFLOSS_LOSS_ROBUST };
        const float mw[2] = { 1.0f, -2.0f }, pc = -FLT_MAX, pr = 1e38f;
        prefloss_pair_params p = defaults();
        float l, c, r;
        p.beta = 1.0f;
        p.label_smoothing = 0.49f;
        assert_status(prefloss_pair_loss_mix(&l, &c, &r, &pc, &pr, NULL, NULL, NULL, NULL, 1, kinds, mw, 2, &p),
                      PREFLOSS_OK);
        assert_true(l == HUGE_VALF);
        check_extreme("mixture dchosen", -1, c, (1.0L + c49));
        check_extreme("mixture drejected", -1, r, -(1.0L + c49));
    }
}

/* AOT with keys x - y beyond the float range: the difference of two keys
 * that overflowed is formed from the four inputs (it was inf - inf = NaN),
 * and keys that overflowed to the same infinity are still sorted by their
 * exact values (they tied, and beta d was +inf). */
static void test_aot_extreme_finite_inputs(void **state)
{
    size_t ws[4];
    float l[2], c[2], r[2];
    (void)state;
    {
        /* keys (pc - pr) = {0, 1e38 + FLT_MAX}, (rc - rr) = {1e38 + FLT_MAX, 0}:
         * both ranks have d = 0 exactly: loss log 2, dL/dd = -beta/2 */
        const float pc[2] = { 0.0f, 1e38f }, pr[2] = { 0.0f, -FLT_MAX };
        const float rc[2] = { 1e38f, 0.0f }, rr[2] = { -FLT_MAX, 0.0f };
        size_t i;
        assert_status(prefloss_aot_loss(l, c, r, pc, pr, rc, rr, NULL, 2, 0.1f, 0.0f, 0, ws), PREFLOSS_OK);
        for (i = 0; i < 2; i++) {
            check_extreme("aot loss", (int)i, l[i], logl(2.0L));
            check_extreme("aot dchosen", (int)i, c[i], -0.5L * (ld)0.1f);
            check_extreme("aot drejected", (int)i, r[i], 0.5L * (ld)0.1f);
        }
    }
    {
        /* reference-free: keys FLT_MAX + FLT_MAX > FLT_MAX + 1e38, both +inf
         * in float; rank 0 is pair 1. L = eps z + sp(-z) = eps z (z >> 1) */
        const float pc[2] = { FLT_MAX, FLT_MAX }, pr[2] = { -FLT_MAX, -1e38f };
        const ld eps = (ld)0.1f, beta = (ld)0.1f;
        assert_status(prefloss_aot_loss(l, c, r, pc, pr, NULL, NULL, NULL, 2, 0.1f, 0.1f, 0, ws), PREFLOSS_OK);
        check_extreme("aot loss rank 0", 0, l[0], eps * beta * ((ld)FLT_MAX + (ld)1e38f));
        check_extreme("aot loss rank 1", 1, l[1], eps * beta * 2.0L * (ld)FLT_MAX);
        /* dL/dd = beta eps for both, to pc[P(i)] */
        check_extreme("aot dchosen", 0, c[0], beta * eps);
        check_extreme("aot dchosen", 1, c[1], beta * eps);
    }
}

/* ======================================================================== */
/* prefloss_bco_update_delta                                                */
/* ======================================================================== */

static void test_bco_running_mean(void **state)
{
    enum { NB = 5, M = 37 };
    tu_rng r = tu_rng_seed(0xbc0u);
    float delta = 0.0f, count = 0.0f, beta = 0.1f;
    ld sum = 0;
    size_t total = 0, b, i;
    (void)state;
    for (b = 0; b < NB; b++) {
        float pc[M], pr[M], rc[M], rr[M];
        const size_t n = b == 2 ? 1 : M;
        const int noref = b == 3;
        for (i = 0; i < n; i++) {
            rc[i] = (float)tu_range(&r, -2000.0, -50.0);
            rr[i] = (float)tu_range(&r, -2000.0, -50.0);
            pc[i] = (float)((double)rc[i] + tu_range(&r, -10.0, 10.0));
            pr[i] = (float)((double)rr[i] + tu_range(&r, -10.0, 10.0));
            if (noref) {
                sum += (ld)beta * (ld)pc[i] + (ld)beta * (ld)pr[i];
            } else {
                sum += (ld)beta * ((ld)pc[i] - (ld)rc[i]) + (ld)beta * ((ld)pr[i] - (ld)rr[i]);
            }
        }
        total += 2 * n;
        assert_status(prefloss_bco_update_delta(&delta, &count, pc, pr, noref ? NULL : rc, noref ? NULL : rr, n, beta),
                      PREFLOSS_OK);
        assert_true(count == (float)total);
        {
            ld mean = sum / (ld)total;
            ld e = fabsl((ld)delta - mean) / ref_ulp(mean);
            if (!(e <= 4.0L)) {
                print_error("batch %u: delta %a, exact running mean %.20Lg (%.2Lf ulp)\n", (unsigned)b,
                            (double)delta, mean, e);
                fail();
            }
        }
    }
    /* the delta is what bco_pair uses */
    {
        prefloss_pair_params p = defaults();
        outs o;
        p.bco_delta = delta;
        assert_status(call(&o, PREFLOSS_LOSS_BCO_PAIR, &p), PREFLOSS_OK);
    }
}

static void test_bco_update_errors(void **state)
{
    const float pc[2] = { -10.0f, -20.0f }, pr[2] = { -11.0f, -19.0f }, rc[2] = { -9.0f, -21.0f },
                rr[2] = { -12.0f, -18.0f };
    float d = 0.25f, c = 6.0f;
    (void)state;
#define BCO_EXPECT(call_, want)                                                         \
    do {                                                                                \
        d = 0.25f;                                                                      \
        c = 6.0f;                                                                       \
        assert_status((call_), (want));                                                 \
        assert_float_bits_equal(d, 0.25f);                                              \
        assert_float_bits_equal(c, 6.0f);                                               \
    } while (0)
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, rc, rr, 0, 0.1f), PREFLOSS_OK); /* n == 0: unchanged */
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, NULL, NULL, NULL, NULL, 0, 0.1f), PREFLOSS_OK);
    assert_status(prefloss_bco_update_delta(NULL, &c, pc, pr, rc, rr, 2, 0.1f), PREFLOSS_ERR_NULL);
    assert_status(prefloss_bco_update_delta(&d, NULL, pc, pr, rc, rr, 2, 0.1f), PREFLOSS_ERR_NULL);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, NULL, pr, rc, rr, 2, 0.1f), PREFLOSS_ERR_NULL);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, NULL, rc, rr, 2, 0.1f), PREFLOSS_ERR_NULL);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, NULL, rr, 2, 0.1f), PREFLOSS_ERR_NULL);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, rc, NULL, 2, 0.1f), PREFLOSS_ERR_NULL);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, rc, rr, SIZE_MAX, 0.1f), PREFLOSS_ERR_SIZE);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, rc, rr, 2, 0.0f), PREFLOSS_ERR_PARAM);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, rc, rr, 2, -1.0f), PREFLOSS_ERR_PARAM);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, rc, rr, 2, NAN), PREFLOSS_ERR_PARAM);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, rc, rr, 2, 1e-40f), PREFLOSS_ERR_PARAM);
    BCO_EXPECT(prefloss_bco_update_delta(&d, &c, pc, pr, rc, rr, 0, NAN), PREFLOSS_ERR_PARAM); /* even for n == 0 */
    {
        const float bad_state[] = { NAN, INFINITY, -INFINITY };
        size_t j;
        for (j = 0; j < 3; j++) {
            float dd = bad_state[j], cc = 2.0f;
            assert_status(prefloss_bco_update_delta(&dd, &cc, pc, pr, rc, rr, 2, 0.1f), PREFLOSS_ERR_PARAM);
            assert_true(cc == 2.0f);
            dd = 0.0f;
            cc = bad_state[j];
            assert_status(prefloss_bco_update_delta(&dd, &cc, pc, pr, rc, rr, 2, 0.1f), PREFLOSS_ERR_PARAM);
            assert_true(dd == 0.0f);
        }
        {
            float dd = 0.0f, cc = -2.0f;
            assert_status(prefloss_bco_update_delta(&dd, &cc, pc, pr, rc, rr, 2, 0.1f), PREFLOSS_ERR_PARAM);
        }
    }
    /* a non-finite input: PREFLOSS_NONFINITE and the state unchanged */
    {
        const float bad[3] = { NAN, INFINITY, -INFINITY };
        size_t j, which;
        for (j = 0; j < 3; j++)
            for (which = 0; which < 4; which++) {
                float in[4][2];
                memcpy(in[0], pc, sizeof pc);
                memcpy(in[1], pr, sizeof pr);
                memcpy(in[2], rc, sizeof rc);
                memcpy(in[3], rr, sizeof rr);
                in[which][1] = bad[j];
                BCO_EXPECT(prefloss_bco_update_delta(&d, &c, in[0], in[1], in[2], in[3], 2, 0.1f), PREFLOSS_NONFINITE);
            }
    }
#undef BCO_EXPECT
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names_round_trip),
        cmocka_unit_test(test_params_init),
        cmocka_unit_test(test_nll_term),
        cmocka_unit_test(test_null_params_are_defaults),
        cmocka_unit_test(test_prefix_blocks),
        cmocka_unit_test(test_block_size_too_small),
        cmocka_unit_test(test_parameter_ranges),
        cmocka_unit_test(test_unknown_kind),
        cmocka_unit_test(test_errors_write_nothing),
        cmocka_unit_test(test_n_zero),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_weight_revives_subnormal_gradient),
        cmocka_unit_test(test_optional_outputs_and_references),
        cmocka_unit_test(test_nonfinite_inputs),
        cmocka_unit_test(test_discopop_far_negative),
        cmocka_unit_test(test_exo_eps_zero),
        cmocka_unit_test(test_nca_chosen_gradient_near_zero),
        cmocka_unit_test(test_exo_loss_near_zero),
        cmocka_unit_test(test_robust_eps_half_refused),
        cmocka_unit_test(test_alpha_cap),
        cmocka_unit_test(test_alpha_beta_near_flt_max),
        cmocka_unit_test(test_alpha_beta_over_alpha_beyond_float),
        cmocka_unit_test(test_alpha_tiny_alpha_large_weight),
        cmocka_unit_test(test_alpha_nll_cancels_after_overflow),
        cmocka_unit_test(test_extreme_finite_inputs),
        cmocka_unit_test(test_aot_extreme_finite_inputs),
        cmocka_unit_test(test_bco_running_mean),
        cmocka_unit_test(test_bco_update_errors),
        cmocka_unit_test(test_accuracy_all_kinds),
    };
    printf("catalogue: %u samples per accuracy configuration\n", (unsigned)cat_samples());
    return cmocka_run_group_tests_name("catalogue", tests, NULL, NULL);
}
