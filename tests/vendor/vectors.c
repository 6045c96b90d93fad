/*
 * vectors.c — the core test vectors of libprefloss, as one self-contained C
 * program: no test framework, no build system, nothing but prefloss.h, libc
 * and libm. It is what the vendoring tests build in an empty directory, for
 * every language mode and for every cross target (aarch64, armhf under
 * qemu-user, i386 with SSE2).
 *
 * This file only includes prefloss.h; the implementation comes from another
 * translation unit (impl.c: `#define PREFLOSS_IMPLEMENTATION`), as a vendoring
 * user would build it. Compiled with -DPREFLOSS_STATIC
 * -DPREFLOSS_IMPLEMENTATION it carries its own private copy instead; with
 * -DVECTORS_TWIN as well it is linked with twin.c, a second private copy in
 * the same program, and checks that both copies agree bit for bit.
 *
 * Every public function is checked against an independent reference
 * computed here in double precision from the documented formulas (the
 * library itself uses no double). h = (pc - rc) - (pr - rr) is exact in
 * double for the inputs generated here, so the reference is accurate to
 * ~2^-50 relative: far below a float ulp, on every target (long double
 * differs between targets, so it is not used).
 *
 * Accuracy budget (docs/numerics.md): (4 + kappa/2) ulp of the exact value
 * wherever it is a normal float, kappa = |x f'(x) / f(x)| with respect to the
 * loss's scalar argument x (z = beta*h for DPO, h for TRL's IPO, beta*h for
 * the general IPO (target (alpha2 - alpha1)/2), sw - sl - m for Bradley-Terry; with reward centering the
 * sum of the condition numbers w.r.t. x and sw + sl). Below the normal range
 * the absolute error must be at most FLT_MIN.
 *
 * Usage: vectors [samples per configuration, default 20000]
 * Prints the worst error per output and a closing line
 * "vectors: N passed, M failed"; exits non-zero on any failure.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefloss.h"

/* ------------------------------------------------------------------------ */
/* Bookkeeping                                                              */
/* ------------------------------------------------------------------------ */

static unsigned long n_pass, n_fail;

static void fail(const char *what, const char *fmt, ...)
{
    va_list ap;
    n_fail++;
    if (n_fail > 30) return; /* enough to diagnose */
    printf("FAIL %s: ", what);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void expect(int ok, const char *what, const char *detail)
{
    if (ok) n_pass++;
    else fail(what, "%s", detail);
}

static void expect_status(int got, int want, const char *what)
{
    if (got == want) { n_pass++; return; }
    fail(what, "status %d (%s), expected %d (%s)", got,
         prefloss_status_name(got) ? prefloss_status_name(got) : "?", want,
         prefloss_status_name(want) ? prefloss_status_name(want) : "?");
}

/* Worst error seen per output, for the report. */
typedef struct {
    const char *name;
    double worst_ulp;   /* largest error in ulp */
    double worst_ratio; /* largest error / budget */
    unsigned long count;
} stat_t;

static stat_t stats[32];
static int n_stats;

static stat_t *stat_get(const char *name)
{
    int i;
    for (i = 0; i < n_stats; i++)
        if (strcmp(stats[i].name, name) == 0) return &stats[i];
    stats[n_stats].name = name;
    stats[n_stats].worst_ulp = 0;
    stats[n_stats].worst_ratio = 0;
    stats[n_stats].count = 0;
    return &stats[n_stats++];
}

/* ulp of a float32 at |ref| (ref a normal float32 value). */
static double ulp_at(double ref)
{
    int e;
    (void)frexp(fabs(ref), &e); /* |ref| = m 2^e, m in [0.5, 1) */
    return ldexp(1.0, e - 24);
}

/* got against the exact value ref within (4 + kappa/2) ulp. */
static void check_acc(const char *name, float got, double ref, double kappa,
                      const char *ctx)
{
    stat_t *s = stat_get(name);
    double budget = 4.0 + kappa / 2.0;
    double a = fabs(ref);
    s->count++;
    if (a >= FLT_MIN && a <= FLT_MAX) {
        double err = isnan(got) ? INFINITY : fabs((double)got - ref) / ulp_at(ref);
        if (err > s->worst_ulp) s->worst_ulp = err;
        if (err / budget > s->worst_ratio) s->worst_ratio = err / budget;
        if (err <= budget) n_pass++;
        else fail(name, "got %.9g, exact %.17g: %.2f ulp > budget %.2f (kappa %.3g) [%s]",
                  (double)got, ref, err, budget, kappa, ctx);
    } else if (a < FLT_MIN) {
        if (fabs((double)got - ref) <= FLT_MIN) n_pass++;
        else fail(name, "got %.9g, exact %.17g (below the normal range) [%s]",
                  (double)got, ref, ctx);
    } else {
        if (isinf(got) && (got > 0) == (ref > 0)) n_pass++;
        else fail(name, "got %.9g, exact %.17g overflows [%s]", (double)got, ref, ctx);
    }
}

/* ------------------------------------------------------------------------ */
/* Random inputs: splitmix64                                                */
/* ------------------------------------------------------------------------ */

static uint64_t rng = 0x5EED0F1E55ULL;

static uint64_t next_u64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double unif(double a, double b)
{
    return a + (b - a) * ((double)(next_u64() >> 11) * (1.0 / 9007199254740992.0));
}

static double sign(void) { return (next_u64() & 1) ? 1.0 : -1.0; }

/* A realistic sequence log-prob: -2000 ... -50, a quarter down to -1e4. */
static float seq_logp(void)
{
    if ((next_u64() & 3) == 0) return (float)-unif(2000.0, 1e4);
    return (float)-unif(50.0, 2000.0);
}

/* ------------------------------------------------------------------------ */
/* Reference functions (double, from the documented formulas)               */
/* ------------------------------------------------------------------------ */

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    return exp(x) / (1.0 + exp(x));
}
static double kappa_of(double x, double f, double fprime)
{
    if (f == 0) return INFINITY;
    return fabs(x * fprime / f);
}

/* h exactly (exact in double for the inputs generated here). */
static double exact_h(float pc, float pr, float rc, float rr)
{
    return ((double)pc - (double)rc) - ((double)pr - (double)rr);
}

/* ------------------------------------------------------------------------ */
/* Pair generation: large log-probs, tiny differences, |beta h| 1e-8 .. 1e4 */
/* ------------------------------------------------------------------------ */

typedef struct {
    float *pc, *pr, *rc, *rr, *up;
    float *loss, *dc, *dr;
    float *o1, *o2, *o3, *o4;
    float beta;
} batch_t;

/* Fills pairs with realistic log-probs whose h gives |beta*h| log-uniform
 * in [1e-8, 1e4] (as far as the float grid of the inputs allows; some h
 * are exactly 0), and power-of-two upstream gradients (exact scaling). */
static void gen_pairs(batch_t *b, size_t n, float beta, int with_up)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float pc = seq_logp(), pr = seq_logp();
        double uc = sign() * pow(10.0, unif(-6.0, 1.5)); /* tiny to moderate */
        float rc = (float)((double)pc - uc);
        double ucx = (double)pc - (double)rc;
        double z = sign() * pow(10.0, unif(-8.0, 4.0));
        double h = z / (double)beta;
        float rr;
        if (fabs(h) > 2e4) h = h > 0 ? 2e4 : -2e4;
        rr = (float)((double)pr - (ucx - h));
        b->pc[i] = pc; b->pr[i] = pr; b->rc[i] = rc; b->rr[i] = rr;
        b->up[i] = with_up ? (float)(sign() * ldexp(1.0, (int)(next_u64() % 7) - 3)) : 1.0f;
    }
}

static float pick_beta(void)
{
    static const float betas[] = {1e-3f, 0.01f, 0.05f, 0.1f, 0.5f, 1.0f, 4.0f};
    return betas[next_u64() % (sizeof betas / sizeof betas[0])];
}

static char ctx[256];
static void set_ctx(const batch_t *b, size_t i, const char *extra)
{
    snprintf(ctx, sizeof ctx, "pc=%.9g pr=%.9g rc=%.9g rr=%.9g beta=%.9g %s",
             (double)b->pc[i], (double)b->pr[i], (double)b->rc[i], (double)b->rr[i],
             (double)b->beta, extra);
}

/* ------------------------------------------------------------------------ */
/* DPO / cDPO                                                               */
/* ------------------------------------------------------------------------ */

static double zmin_seen = INFINITY, zmax_seen = 0;

static void test_dpo(batch_t *b, size_t n, size_t rounds)
{
    static const float eps_list[] = {0.0f, 0.1f, 0.25f, 0.5f};
    size_t r, i, k;
    for (k = 0; k < sizeof eps_list / sizeof eps_list[0]; k++) {
        float eps = eps_list[k];
        for (r = 0; r < rounds; r++) {
            int with_up = (int)(r & 1);
            int reffree = r % 5 == 4;
            int st;
            b->beta = pick_beta();
            gen_pairs(b, n, b->beta, with_up);
            if (reffree) /* rc = rr = 0: then h = pc - pr */
                for (i = 0; i < n; i++) {
                    b->pr[i] = (float)((double)b->pc[i] - exact_h(b->pc[i], b->pr[i], b->rc[i], b->rr[i]));
                    b->rc[i] = b->rr[i] = 0.0f;
                }
            st = prefloss_dpo_loss(b->loss, b->dc, b->dr, b->pc, b->pr,
                                   reffree ? NULL : b->rc, reffree ? NULL : b->rr,
                                   with_up ? b->up : NULL, n, b->beta, eps);
            expect_status(st, PREFLOSS_OK, "dpo status");
            for (i = 0; i < n; i++) {
                double h = exact_h(b->pc[i], b->pr[i], b->rc[i], b->rr[i]);
                double z = (double)b->beta * h, e = (double)eps;
                double f = (1.0 - e) * softplus(-z) + (e != 0 ? e * softplus(z) : 0.0);
                double fp = -(1.0 - e) * sigmoid(-z) + e * sigmoid(z);
                double s = sigmoid(-z) - e;
                double g = -(double)b->beta * s * (double)b->up[i];
                if (z != 0 && fabs(z) < zmin_seen) zmin_seen = fabs(z);
                if (fabs(z) > zmax_seen) zmax_seen = fabs(z);
                set_ctx(b, i, eps > 0 ? "cdpo" : "dpo");
                check_acc(eps > 0 ? "cdpo loss" : "dpo loss", b->loss[i], f, kappa_of(z, f, fp), ctx);
                check_acc(eps > 0 ? "cdpo dchosen" : "dpo dchosen", b->dc[i], g,
                          kappa_of(z, s, -sigmoid(z) * sigmoid(-z)), ctx);
                expect(b->dr[i] == -b->dc[i], "dpo drejected", "drejected != -dchosen");
            }
            /* optional outputs: the loss alone, then the gradients alone, bit for bit */
            if (r == 0) {
                st = prefloss_dpo_loss(b->o1, NULL, NULL, b->pc, b->pr, b->rc, b->rr,
                                       with_up ? b->up : NULL, n, b->beta, eps);
                expect(st == PREFLOSS_OK && memcmp(b->o1, b->loss, n * sizeof(float)) == 0,
                       "dpo loss only", "differs from the full call");
                st = prefloss_dpo_loss(NULL, b->o2, b->o3, b->pc, b->pr, b->rc, b->rr,
                                       with_up ? b->up : NULL, n, b->beta, eps);
                expect(st == PREFLOSS_OK && memcmp(b->o2, b->dc, n * sizeof(float)) == 0
                           && memcmp(b->o3, b->dr, n * sizeof(float)) == 0,
                       "dpo gradients only", "differ from the full call");
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* IPO (TRL scale and general form)                                         */
/* ------------------------------------------------------------------------ */

static void test_ipo(batch_t *b, size_t n, size_t rounds)
{
    size_t r, i;
    for (r = 0; r < rounds; r++) {
        int with_up = (int)(r & 1), st;
        double c;
        b->beta = pick_beta();
        c = 0.5 / (double)b->beta;
        gen_pairs(b, n, b->beta, with_up);
        /* every third round puts h right next to 1/(2 beta) (cancellation) */
        if (r % 3 == 2)
            for (i = 0; i < n; i++) {
                double ucx = (double)b->pc[i] - (double)b->rc[i];
                double h = c * (1.0 + sign() * pow(10.0, unif(-7.0, -1.0)));
                b->rr[i] = (float)((double)b->pr[i] - (ucx - h));
            }
        st = prefloss_ipo_loss(b->loss, b->dc, b->dr, b->pc, b->pr, b->rc, b->rr,
                               with_up ? b->up : NULL, n, b->beta);
        expect_status(st, PREFLOSS_OK, "ipo status");
        for (i = 0; i < n; i++) {
            double h = exact_h(b->pc[i], b->pr[i], b->rc[i], b->rr[i]);
            double d = h - c;
            set_ctx(b, i, "ipo");
            check_acc("ipo loss", b->loss[i], d * d, kappa_of(h, d * d, 2 * d), ctx);
            check_acc("ipo dchosen", b->dc[i], 2 * d * (double)b->up[i], kappa_of(h, 2 * d, 2), ctx);
            expect(b->dr[i] == -b->dc[i], "ipo drejected", "drejected != -dchosen");
        }
    }
    for (r = 0; r < rounds; r++) {
        /* documented target: the half-width (alpha2 - alpha1)/2 */
        static const float alphas[][2] = {{0.0f, 1.0f}, {0.2f, 0.7f}, {-1.0f, 3.0f}, {0.5f, 0.5f}};
        float a1 = alphas[r % 4][0], a2 = alphas[r % 4][1];
        double a = ((double)a2 - (double)a1) / 2;
        int with_up = (int)(r & 1), st;
        b->beta = pick_beta();
        gen_pairs(b, n, b->beta, with_up);
        if (r % 3 == 2)
            for (i = 0; i < n; i++) {
                double ucx = (double)b->pc[i] - (double)b->rc[i];
                double h = a / (double)b->beta * (1.0 + sign() * pow(10.0, unif(-7.0, -1.0)));
                b->rr[i] = (float)((double)b->pr[i] - (ucx - h));
            }
        st = prefloss_ipo_general_loss(b->loss, b->dc, b->dr, b->pc, b->pr, b->rc, b->rr,
                                       with_up ? b->up : NULL, n, b->beta, a1, a2);
        expect_status(st, PREFLOSS_OK, "ipo_general status");
        for (i = 0; i < n; i++) {
            double h = exact_h(b->pc[i], b->pr[i], b->rc[i], b->rr[i]);
            double x = (double)b->beta * h, d = x - a;
            double g = 2 * (double)b->beta * d;
            set_ctx(b, i, "ipo_general");
            check_acc("ipo_general loss", b->loss[i], d * d, kappa_of(x, d * d, 2 * d), ctx);
            check_acc("ipo_general dchosen", b->dc[i], g * (double)b->up[i],
                      kappa_of(x, g, 2 * (double)b->beta), ctx);
            expect(b->dr[i] == -b->dc[i], "ipo_general drejected", "drejected != -dchosen");
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Bradley-Terry                                                            */
/* ------------------------------------------------------------------------ */

static void test_bt(batch_t *b, size_t n, size_t rounds)
{
    size_t r, i;
    for (r = 0; r < rounds; r++) {
        float c = (r % 2) ? 0.0f : ((r % 4) == 0 ? 0.01f : 0.3f);
        int with_m = (r % 3) != 0, with_up = (r % 5) < 2, st;
        double scale = pow(10.0, unif(-3.0, 2.0));
        for (i = 0; i < n; i++) {
            b->pc[i] = (float)(sign() * unif(0, 1) * scale);                        /* sw */
            b->pr[i] = (float)((double)b->pc[i] - sign() * pow(10.0, unif(-8.0, 2.0))); /* sl */
            b->rc[i] = with_m ? (float)unif(-2.0, 2.0) : 0.0f;                      /* m */
            b->up[i] = with_up ? (float)(sign() * ldexp(1.0, (int)(next_u64() % 7) - 3)) : 1.0f;
        }
        st = prefloss_bt_loss(b->loss, b->dc, b->dr, b->pc, b->pr, with_m ? b->rc : NULL,
                              with_up ? b->up : NULL, n, c);
        expect_status(st, PREFLOSS_OK, "bt status");
        for (i = 0; i < n; i++) {
            double sw = b->pc[i], sl = b->pr[i], m = b->rc[i], u = b->up[i];
            double x = (sw - sl) - m, s = sw + sl, cc = (double)c;
            double f = softplus(-x) + cc * s * s;
            double gw = -sigmoid(-x) + 2 * cc * s, gl = sigmoid(-x) + 2 * cc * s;
            double kx_f = kappa_of(x, f, -sigmoid(-x)), ks_f = cc != 0 ? kappa_of(s, f, 2 * cc * s) : 0;
            double dsig = sigmoid(x) * sigmoid(-x);
            double kx_w = kappa_of(x, gw, dsig), ks_w = cc != 0 ? kappa_of(s, gw, 2 * cc) : 0;
            double kx_l = kappa_of(x, gl, -dsig), ks_l = cc != 0 ? kappa_of(s, gl, 2 * cc) : 0;
            snprintf(ctx, sizeof ctx, "sw=%.9g sl=%.9g m=%.9g c=%.9g", sw, sl, m, cc);
            check_acc(cc != 0 ? "bt(c>0) loss" : "bt loss", b->loss[i], f, kx_f + ks_f, ctx);
            check_acc(cc != 0 ? "bt(c>0) dchosen" : "bt dchosen", b->dc[i], gw * u, kx_w + ks_w, ctx);
            check_acc(cc != 0 ? "bt(c>0) drejected" : "bt drejected", b->dr[i], gl * u, kx_l + ks_l, ctx);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Rewards and metrics                                                      */
/* ------------------------------------------------------------------------ */

static void test_rewards(batch_t *b, size_t n, size_t rounds)
{
    size_t r, i;
    for (r = 0; r < rounds; r++) {
        int st;
        b->beta = pick_beta();
        gen_pairs(b, n, b->beta, 0);
        if (r == 0) { b->rr[0] = b->pr[0] - (b->pc[0] - b->rc[0]); } /* possibly h == 0 */
        st = prefloss_rewards(b->o1, b->o2, b->o3, b->o4, b->pc, b->pr, b->rc, b->rr, n, b->beta);
        expect_status(st, PREFLOSS_OK, "rewards status");
        for (i = 0; i < n; i++) {
            double be = (double)b->beta;
            double uc = (double)b->pc[i] - (double)b->rc[i], ur = (double)b->pr[i] - (double)b->rr[i];
            set_ctx(b, i, "rewards");
            check_acc("rewards chosen", b->o1[i], be * uc, 1, ctx);
            check_acc("rewards rejected", b->o2[i], be * ur, 1, ctx);
            check_acc("rewards margin", b->o3[i], be * (uc - ur), 1, ctx);
            expect(b->o4[i] == (uc > ur ? 1.0f : 0.0f), "rewards accuracy", "not [uc > ur]");
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Sequence log-probs                                                       */
/* ------------------------------------------------------------------------ */

static void test_sequence(size_t rounds)
{
    enum { B = 9, T = 700 };
    static float tok[B * T], out[B], sum_out[B], dseq[B], dtok[B * T];
    static unsigned char mask[B * T];
    size_t r, bi, j;
    for (r = 0; r < rounds; r++) {
        size_t t_len = (size_t)(next_u64() % (T + 1));
        int use_mask = (r % 4) != 3, st, red;
        for (j = 0; j < B * t_len; j++) {
            double u = unif(0, 1);
            tok[j] = (float)-(u * u * u * 25.0);
            mask[j] = (unsigned char)((next_u64() % 10) < 3 ? 0 : ((next_u64() & 1) ? 1 : 255));
        }
        for (j = 0; j < t_len; j++) mask[2 * t_len + j] = 0; /* row 2: nothing counts */
        for (red = 0; red < 2; red++) {
            st = prefloss_sequence_logps(red ? out : sum_out, tok, use_mask ? mask : NULL, B, t_len,
                                         red ? PREFLOSS_REDUCE_MEAN : PREFLOSS_REDUCE_SUM);
            expect_status(st, PREFLOSS_OK, "sequence_logps status");
        }
        for (bi = 0; bi < B; bi++) {
            double s = 0, comp = 0; /* Kahan in double: exact to far below a float ulp */
            size_t cnt = 0;
            for (j = 0; j < t_len; j++) {
                if (!use_mask || mask[bi * t_len + j]) {
                    double y = (double)tok[bi * t_len + j] - comp, t2 = s + y;
                    comp = (t2 - s) - y;
                    s = t2;
                    cnt++;
                }
            }
            snprintf(ctx, sizeof ctx, "row %zu of %zu tokens, %zu counted", bi, t_len, cnt);
            check_acc("sequence sum", sum_out[bi], s, 1, ctx);
            check_acc("sequence mean", out[bi], cnt ? s / (double)cnt : 0.0, 1, ctx);
            if (cnt == 0) expect(sum_out[bi] == 0.0f && out[bi] == 0.0f, "sequence empty row", "not 0");
        }
        /* backward: exact (one rounding for the mean's division) */
        for (bi = 0; bi < B; bi++) dseq[bi] = (float)unif(-3, 3);
        for (red = 0; red < 2; red++) {
            int ok = 1;
            st = prefloss_sequence_logps_backward(dtok, dseq, use_mask ? mask : NULL, B, t_len,
                                                  red ? PREFLOSS_REDUCE_MEAN : PREFLOSS_REDUCE_SUM);
            expect_status(st, PREFLOSS_OK, "sequence_logps_backward status");
            for (bi = 0; bi < B; bi++) {
                size_t cnt = 0;
                float g;
                for (j = 0; j < t_len; j++) cnt += !use_mask || mask[bi * t_len + j];
                /* float / float rounded once == (float)(double quotient) */
                g = red ? (cnt ? (float)((double)dseq[bi] / (double)cnt) : 0.0f) : dseq[bi];
                for (j = 0; j < t_len; j++) {
                    float want = (!use_mask || mask[bi * t_len + j]) ? g : 0.0f;
                    if (dtok[bi * t_len + j] != want) ok = 0;
                }
            }
            expect(ok, red ? "sequence backward mean" : "sequence backward sum", "wrong token gradient");
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Version, status codes, bad arguments, n == 0, non-finite inputs          */
/* ------------------------------------------------------------------------ */

static void test_version_and_status(void)
{
    static const int codes[] = {PREFLOSS_OK, PREFLOSS_NONFINITE, PREFLOSS_ERR_NULL,
                                PREFLOSS_ERR_PARAM, PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE};
    static const char *names[] = {"PREFLOSS_OK", "PREFLOSS_NONFINITE", "PREFLOSS_ERR_NULL",
                                  "PREFLOSS_ERR_PARAM", "PREFLOSS_ERR_OVERLAP", "PREFLOSS_ERR_SIZE"};
    size_t i, j;
    expect(strcmp(prefloss_version(), PREFLOSS_VERSION) == 0, "version", "string differs from header");
    expect(prefloss_version_number() == PREFLOSS_VERSION_NUMBER, "version", "number differs");
    expect(prefloss_abi_version() == PREFLOSS_ABI_VERSION, "version", "abi differs");
    expect(PREFLOSS_OK == 0 && PREFLOSS_NONFINITE > 0 && PREFLOSS_ERR_NULL < 0 && PREFLOSS_ERR_PARAM < 0
               && PREFLOSS_ERR_OVERLAP < 0 && PREFLOSS_ERR_SIZE < 0,
           "status codes", "signs");
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *n = prefloss_status_name(codes[i]);
        expect(n != NULL && strcmp(n, names[i]) == 0, "status_name", names[i]);
        expect(prefloss_strerror(codes[i]) != NULL && strcmp(prefloss_strerror(codes[i]), "unknown status code") != 0,
               "strerror", names[i]);
        for (j = 0; j < i; j++)
            expect(strcmp(prefloss_strerror(codes[i]), prefloss_strerror(codes[j])) != 0, "strerror", "not distinct");
    }
    expect(prefloss_status_name(-999) == NULL, "status_name", "unknown code not NULL");
    expect(strcmp(prefloss_strerror(12345), "unknown status code") == 0, "strerror", "unknown code");
}

#define NB 8
static float g_in[6][NB], g_out[4][NB + 4];

/* Every output buffer filled with a sentinel; untouched() says whether any changed. */
static void sentinel(void)
{
    size_t i, j;
    for (i = 0; i < 4; i++)
        for (j = 0; j < NB + 4; j++) g_out[i][j] = 12345.0f;
}
static int untouched(void)
{
    size_t i, j;
    for (i = 0; i < 4; i++)
        for (j = 0; j < NB + 4; j++)
            if (g_out[i][j] != 12345.0f) return 0;
    return 1;
}

static void err_case(int got, int want, const char *what)
{
    expect_status(got, want, what);
    expect(untouched(), what, "an output was written on error");
    sentinel();
}

static void test_errors(void)
{
    float *pc = g_in[0], *pr = g_in[1], *rc = g_in[2], *rr = g_in[3], *up = g_in[4];
    float *l = g_out[0], *dc = g_out[1], *dr = g_out[2], *o4 = g_out[3];
    const float nan_f = (float)NAN, inf_f = (float)INFINITY;
    size_t i, huge = SIZE_MAX / 2;
    unsigned char mask[NB];
    for (i = 0; i < NB; i++) {
        pc[i] = -100.0f - (float)i; pr[i] = -101.0f; rc[i] = -99.0f; rr[i] = -100.5f;
        up[i] = 1.0f; g_in[5][i] = -1.0f; mask[i] = 1;
    }
    sentinel();
    /* NULL pointers */
    err_case(prefloss_dpo_loss(l, dc, dr, NULL, pr, rc, rr, NULL, NB, 0.1f, 0.0f), PREFLOSS_ERR_NULL, "dpo NULL pc");
    err_case(prefloss_dpo_loss(l, dc, dr, pc, NULL, rc, rr, NULL, NB, 0.1f, 0.0f), PREFLOSS_ERR_NULL, "dpo NULL pr");
    err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, NULL, NULL, NB, 0.1f, 0.0f), PREFLOSS_ERR_NULL, "dpo one ref");
    err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, NULL, rr, NULL, NB, 0.1f, 0.0f), PREFLOSS_ERR_NULL, "dpo one ref");
    err_case(prefloss_ipo_loss(l, dc, dr, NULL, pr, rc, rr, NULL, NB, 0.1f), PREFLOSS_ERR_NULL, "ipo NULL pc");
    err_case(prefloss_ipo_loss(l, dc, dr, pc, pr, rc, NULL, NULL, NB, 0.1f), PREFLOSS_ERR_NULL, "ipo one ref");
    err_case(prefloss_ipo_general_loss(l, dc, dr, pc, NULL, rc, rr, NULL, NB, 0.1f, 0, 1), PREFLOSS_ERR_NULL, "ipo_general NULL pr");
    err_case(prefloss_bt_loss(l, dc, dr, NULL, pr, NULL, NULL, NB, 0.0f), PREFLOSS_ERR_NULL, "bt NULL sw");
    err_case(prefloss_bt_loss(l, dc, dr, pc, NULL, NULL, NULL, NB, 0.0f), PREFLOSS_ERR_NULL, "bt NULL sl");
    err_case(prefloss_rewards(l, dc, dr, o4, NULL, pr, rc, rr, NB, 0.1f), PREFLOSS_ERR_NULL, "rewards NULL pc");
    err_case(prefloss_rewards(l, dc, dr, o4, pc, pr, NULL, rr, NB, 0.1f), PREFLOSS_ERR_NULL, "rewards one ref");
    err_case(prefloss_sequence_logps(NULL, pc, mask, 2, 4, PREFLOSS_REDUCE_SUM), PREFLOSS_ERR_NULL, "sequence NULL out");
    err_case(prefloss_sequence_logps(l, NULL, mask, 2, 4, PREFLOSS_REDUCE_SUM), PREFLOSS_ERR_NULL, "sequence NULL in");
    err_case(prefloss_sequence_logps_backward(dc, NULL, mask, 2, 4, PREFLOSS_REDUCE_SUM), PREFLOSS_ERR_NULL, "sequence backward NULL in");
    /* parameters */
    {
        const float bad_beta[] = {0.0f, -0.1f, nan_f, inf_f, 1e-40f /* subnormal */};
        for (i = 0; i < sizeof bad_beta / sizeof bad_beta[0]; i++) {
            err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, bad_beta[i], 0.0f), PREFLOSS_ERR_PARAM, "dpo beta");
            err_case(prefloss_ipo_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, bad_beta[i]), PREFLOSS_ERR_PARAM, "ipo beta");
            err_case(prefloss_ipo_general_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, bad_beta[i], 0, 1), PREFLOSS_ERR_PARAM, "ipo_general beta");
            err_case(prefloss_rewards(l, dc, dr, o4, pc, pr, rc, rr, NB, bad_beta[i]), PREFLOSS_ERR_PARAM, "rewards beta");
        }
    }
    err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, 0.1f, -0.01f), PREFLOSS_ERR_PARAM, "dpo eps < 0");
    err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, 0.1f, 0.51f), PREFLOSS_ERR_PARAM, "dpo eps > 0.5");
    err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, 0.1f, nan_f), PREFLOSS_ERR_PARAM, "dpo eps NaN");
    err_case(prefloss_ipo_general_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, 0.1f, nan_f, 1), PREFLOSS_ERR_PARAM, "ipo_general alpha NaN");
    err_case(prefloss_ipo_general_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, 0.1f, 0, inf_f), PREFLOSS_ERR_PARAM, "ipo_general alpha inf");
    err_case(prefloss_ipo_general_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, 0.1f, 1.0f, 0.0f), PREFLOSS_ERR_PARAM, "ipo_general alpha1 > alpha2");
    err_case(prefloss_ipo_general_loss(l, dc, dr, pc, pr, rc, rr, NULL, NB, 0.1f, -FLT_MAX, FLT_MAX), PREFLOSS_ERR_PARAM, "ipo_general alpha difference overflows");
    err_case(prefloss_bt_loss(l, dc, dr, pc, pr, NULL, NULL, NB, -0.1f), PREFLOSS_ERR_PARAM, "bt center < 0");
    err_case(prefloss_bt_loss(l, dc, dr, pc, pr, NULL, NULL, NB, nan_f), PREFLOSS_ERR_PARAM, "bt center NaN");
    err_case(prefloss_bt_loss(l, dc, dr, pc, pr, NULL, NULL, NB, inf_f), PREFLOSS_ERR_PARAM, "bt center inf");
    err_case(prefloss_sequence_logps(l, pc, mask, 2, 4, 2), PREFLOSS_ERR_PARAM, "sequence reduction");
    err_case(prefloss_sequence_logps_backward(dc, pc, mask, 2, 4, -1), PREFLOSS_ERR_PARAM, "sequence backward reduction");
    /* overlaps: an output on an input, two outputs on each other, a partial overlap */
    err_case(prefloss_dpo_loss(pc, dc, dr, pc, pr, rc, rr, NULL, NB, 0.1f, 0.0f), PREFLOSS_ERR_OVERLAP, "dpo out == in");
    err_case(prefloss_dpo_loss(l, l, dr, pc, pr, rc, rr, NULL, NB, 0.1f, 0.0f), PREFLOSS_ERR_OVERLAP, "dpo out == out");
    err_case(prefloss_dpo_loss(l, l + 3, NULL, pc, pr, rc, rr, NULL, NB, 0.1f, 0.0f), PREFLOSS_ERR_OVERLAP, "dpo out overlaps out");
    err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, l, NB, 0.1f, 0.0f), PREFLOSS_ERR_OVERLAP, "dpo out == upstream");
    err_case(prefloss_ipo_loss(l, dc, rr, pc, pr, rc, rr, NULL, NB, 0.1f), PREFLOSS_ERR_OVERLAP, "ipo out == ref");
    err_case(prefloss_bt_loss(l, dc, dr, pc, pr, dr, NULL, NB, 0.0f), PREFLOSS_ERR_OVERLAP, "bt out == margins");
    err_case(prefloss_rewards(l, dc, dr, l, pc, pr, rc, rr, NB, 0.1f), PREFLOSS_ERR_OVERLAP, "rewards out == out");
    err_case(prefloss_sequence_logps(l, l, NULL, 2, 4, PREFLOSS_REDUCE_SUM), PREFLOSS_ERR_OVERLAP, "sequence out == in");
    /* sizes whose byte count overflows */
    err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, NULL, huge, 0.1f, 0.0f), PREFLOSS_ERR_SIZE, "dpo n too large");
    err_case(prefloss_bt_loss(l, dc, dr, pc, pr, NULL, NULL, huge, 0.0f), PREFLOSS_ERR_SIZE, "bt n too large");
    err_case(prefloss_rewards(l, dc, dr, o4, pc, pr, rc, rr, huge, 0.1f), PREFLOSS_ERR_SIZE, "rewards n too large");
    err_case(prefloss_sequence_logps(l, pc, NULL, huge, 4, PREFLOSS_REDUCE_SUM), PREFLOSS_ERR_SIZE, "sequence batch*len too large");
    /* n == 0: valid, writes nothing, every pointer may be NULL */
    err_case(prefloss_dpo_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f, 0.0f), PREFLOSS_OK, "dpo n == 0");
    err_case(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, NULL, 0, 0.1f, 0.1f), PREFLOSS_OK, "cdpo n == 0");
    err_case(prefloss_ipo_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f), PREFLOSS_OK, "ipo n == 0");
    err_case(prefloss_ipo_general_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f, 0, 1), PREFLOSS_OK, "ipo_general n == 0");
    err_case(prefloss_bt_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.0f), PREFLOSS_OK, "bt n == 0");
    err_case(prefloss_rewards(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f), PREFLOSS_OK, "rewards n == 0");
    err_case(prefloss_sequence_logps(NULL, NULL, NULL, 0, 5, PREFLOSS_REDUCE_MEAN), PREFLOSS_OK, "sequence batch == 0");
    err_case(prefloss_sequence_logps_backward(NULL, NULL, NULL, 0, 5, PREFLOSS_REDUCE_SUM), PREFLOSS_OK, "sequence backward batch == 0");
    /* seq_len == 0: every row is empty, sum and mean are 0 */
    {
        int st = prefloss_sequence_logps(l, NULL, NULL, 3, 0, PREFLOSS_REDUCE_MEAN);
        expect(st == PREFLOSS_OK && l[0] == 0.0f && l[2] == 0.0f && l[3] == 12345.0f,
               "sequence seq_len == 0", "not three zeros");
        sentinel();
    }
}

/* A few non-finite inputs in a batch that spans several internal chunks:
 * those pairs are NaN, every other pair is bit-identical to a clean run. */
static void test_nonfinite(batch_t *b)
{
    enum { N = 200 };
    size_t i;
    int st, ok = 1;
    b->beta = 0.1f;
    gen_pairs(b, N, b->beta, 1);
    st = prefloss_dpo_loss(b->o1, b->o2, b->o3, b->pc, b->pr, b->rc, b->rr, b->up, N, 0.1f, 0.0f);
    expect_status(st, PREFLOSS_OK, "nonfinite clean run");
    b->pc[3] = (float)NAN;
    b->rr[70] = (float)INFINITY;
    b->up[150] = (float)NAN;
    st = prefloss_dpo_loss(b->loss, b->dc, b->dr, b->pc, b->pr, b->rc, b->rr, b->up, N, 0.1f, 0.0f);
    expect_status(st, PREFLOSS_NONFINITE, "nonfinite status");
    for (i = 0; i < N; i++) {
        if (i == 3 || i == 70) {
            if (!(isnan(b->loss[i]) && isnan(b->dc[i]) && isnan(b->dr[i]))) ok = 0;
        } else if (i == 150) {
            if (!(b->loss[i] == b->o1[i] && isnan(b->dc[i]) && isnan(b->dr[i]))) ok = 0;
        } else if (memcmp(&b->loss[i], &b->o1[i], sizeof(float)) != 0
                   || memcmp(&b->dc[i], &b->o2[i], sizeof(float)) != 0
                   || memcmp(&b->dr[i], &b->o3[i], sizeof(float)) != 0) {
            ok = 0;
        }
    }
    expect(ok, "nonfinite pairs", "NaN not confined to the affected pairs");
    {
        float sw[3] = {1.0f, (float)NAN, 2.0f}, sl[3] = {0.5f, 0.0f, 1.0f}, out[3];
        st = prefloss_bt_loss(out, NULL, NULL, sw, sl, NULL, NULL, 3, 0.0f);
        expect(st == PREFLOSS_NONFINITE && !isnan(out[0]) && isnan(out[1]) && !isnan(out[2]),
               "bt nonfinite", "wrong NaN pattern");
    }
}

/* Worked values from the documentation (exact to the printed digits). */
static void test_worked_values(void)
{
    float pc = -10.0f, pr = -12.0f, rc = -11.0f, rr = -11.0f, loss, dc, dr;
    int st = prefloss_dpo_loss(&loss, &dc, &dr, &pc, &pr, &rc, &rr, NULL, 1, 0.5f, 0.0f);
    /* h = 2, z = 1: loss = log(1 + e^-1), dc = -0.5 sigma(-1) */
    expect(st == PREFLOSS_OK && fabs((double)loss - log1p(exp(-1.0))) < 1e-7
               && fabs((double)dc + 0.5 / (1.0 + exp(1.0))) < 1e-7 && dr == -dc,
           "dpo worked value", "h = 2, beta = 0.5");
    st = prefloss_ipo_loss(&loss, &dc, &dr, &pc, &pr, &rc, &rr, NULL, 1, 0.5f);
    /* (h - 1/(2 beta))^2 = (2 - 1)^2 = 1, g = 2 */
    expect(st == PREFLOSS_OK && loss == 1.0f && dc == 2.0f && dr == -2.0f, "ipo worked value", "h = 2, beta = 0.5");
}

#ifdef VECTORS_TWIN
/* twin.c: a second private (PREFLOSS_STATIC) copy in the same program. */
int twin_dpo_loss(float *losses, float *dchosen, float *drejected, const float *pc,
                  const float *pr, const float *rc, const float *rr, const float *up,
                  size_t n, float beta, float eps);
const char *twin_version(void);

static void test_twin(batch_t *b, size_t n)
{
    int st1, st2;
    b->beta = 0.1f;
    gen_pairs(b, n, b->beta, 1);
    st1 = prefloss_dpo_loss(b->loss, b->dc, b->dr, b->pc, b->pr, b->rc, b->rr, b->up, n, 0.1f, 0.05f);
    st2 = twin_dpo_loss(b->o1, b->o2, b->o3, b->pc, b->pr, b->rc, b->rr, b->up, n, 0.1f, 0.05f);
    expect(st1 == PREFLOSS_OK && st2 == PREFLOSS_OK && memcmp(b->loss, b->o1, n * sizeof(float)) == 0
               && memcmp(b->dc, b->o2, n * sizeof(float)) == 0,
           "two private copies", "disagree");
    expect(strcmp(twin_version(), prefloss_version()) == 0, "two private copies", "versions differ");
    printf("vectors: two private copies in one program agree bit for bit\n");
}
#endif

int main(int argc, char **argv)
{
    size_t samples = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 20000;
    enum { N = 1000 }; /* pairs per call: several internal chunks */
    static float buf[12][N];
    batch_t b;
    size_t rounds = samples / N > 0 ? samples / N : 1;
    int i;
    b.pc = buf[0]; b.pr = buf[1]; b.rc = buf[2]; b.rr = buf[3]; b.up = buf[4];
    b.loss = buf[5]; b.dc = buf[6]; b.dr = buf[7];
    b.o1 = buf[8]; b.o2 = buf[9]; b.o3 = buf[10]; b.o4 = buf[11];
    b.beta = 0.1f;

    printf("vectors: libprefloss %s, %lu-bit pointers, FLT_EVAL_METHOD %d, %lu samples per configuration\n",
           prefloss_version(), (unsigned long)(sizeof(void *) * 8), (int)FLT_EVAL_METHOD,
           (unsigned long)(rounds * N));
    test_version_and_status();
    test_errors();
    test_nonfinite(&b);
    test_worked_values();
    test_dpo(&b, N, rounds);
    test_ipo(&b, N, rounds);
    test_bt(&b, N, rounds);
    test_rewards(&b, N, rounds > 4 ? rounds / 4 : 1);
    test_sequence(rounds > 2 ? rounds / 2 : 1);
#ifdef VECTORS_TWIN
    test_twin(&b, N);
#endif
    printf("vectors: |beta*h| covered %.3g .. %.3g\n", zmin_seen, zmax_seen);
    printf("vectors: %-22s %10s %12s %14s\n", "output", "checked", "worst ulp", "worst/budget");
    for (i = 0; i < n_stats; i++)
        printf("vectors: %-22s %10lu %12.3f %14.3f\n", stats[i].name, stats[i].count,
               stats[i].worst_ulp, stats[i].worst_ratio);
    printf("vectors: %lu passed, %lu failed\n", n_pass, n_fail);
    return n_fail == 0 ? 0 : 1;
}
