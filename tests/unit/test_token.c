/*
 * test_token.c — the token stage: prefloss_token_logps and its backward,
 * and prefloss_pair_loss_from_logits. Checked against a long-double
 * reference (ulp within the documented budget), against finite differences
 * of a long-double evaluation of the whole fused loss, in place against a
 * separate buffer (bit-identical), padded against packed, and every bad
 * input with nothing written.
 */
#include "testutil.h"
#include "reference.h"

#define IGN (-100)

/* ---- long-double reference ------------------------------------------------ */

typedef struct { ld logp, lse, kappa, kappa_lse; } ref_tok;

/* log p_t = x_t - log sum exp(x), with its condition number with respect to
 * the shifted logits (the documented kappa) and one for lse. */
static ref_tok ref_token(const float *x, size_t V, int32_t t)
{
    ref_tok r;
    ld m = (ld)x[0], s = 0, s1 = 0, num = 0, numl = 0;
    size_t j, am = 0;
    for (j = 1; j < V; j++) if ((ld)x[j] > m) { m = (ld)x[j]; am = j; }
    /* s = 1 + s1, s1 the terms other than the (first) maximum: log1p(s1)
     * keeps the digits of log s when s1 is tiny */
    for (j = 0; j < V; j++) if (j != am) s1 += expl((ld)x[j] - m);
    s = 1 + s1;
    r.logp = ((ld)x[t] - m) - log1pl(s1);
    r.lse = m + log1pl(s1);
    for (j = 0; j < V; j++) {
        ld p = expl((ld)x[j] - m) / s;
        if ((int32_t)j == t) num += fabsl((ld)x[j] - m) * (1 - p);
        else num += p * fabsl((ld)x[j] - m);
        numl += p * fabsl((ld)x[j] - m);
    }
    r.kappa = r.logp != 0 ? num / fabsl(r.logp) : 0;
    r.kappa_lse = r.lse != 0 ? (fabsl(m) + numl) / fabsl(r.lse) : 0;
    return r;
}

/* A row of logits: normal(0, scale) around offset, and with probability
 * 1/4 one logit (the target or another) raised by `spike` (confident rows). */
static void gen_row(tu_rng *g, float *x, size_t V, double scale, double offset, double spike,
                    int32_t t)
{
    size_t j;
    for (j = 0; j < V; j++) {
        double u1 = tu_unif(g) + 1e-300, u2 = tu_unif(g);
        x[j] = (float)(offset + scale * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
    if (spike != 0.0) {
        size_t k = (tu_next(g) & 1u) ? (size_t)t : tu_below(g, V);
        x[k] = (float)((double)x[k] + spike);
    }
}

/* ---- worked example ---------------------------------------------------------- */

static void test_worked_example(void **state)
{
    const float x[6] = { 1.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f };
    const int32_t t[2] = { 2, IGN };
    float lp[2], lse[2];
    (void)state;
    /* two rows of V = 3 with stride 3; the second is ignored */
    assert_status(prefloss_token_logps(lp, lse, x, t, 2, 3, 3, IGN), PREFLOSS_OK);
    assert_close(lp[0], 3.0 - log(exp(1.0) + exp(2.0) + exp(3.0)), 2e-7);
    assert_close(lse[0], log(exp(1.0) + exp(2.0) + exp(3.0)), 4e-7);
    assert_true(lp[1] == 0.0f && lse[1] == 0.0f);
    /* V = 1: log p = 0 exactly */
    assert_status(prefloss_token_logps(lp, lse, x + 2, t + 1, 1, 1, 1, 7), PREFLOSS_ERR_PARAM);
    {
        const int32_t z = 0;
        assert_status(prefloss_token_logps(lp, lse, x + 2, &z, 1, 1, 1, IGN), PREFLOSS_OK);
        assert_float_bits_equal(lp[0], 0.0f);
        assert_float_bits_equal(lse[0], 3.0f);
    }
}

/* ---- forward accuracy ---------------------------------------------------------- */

static void test_forward_accuracy(void **state)
{
    static const size_t Vs[] = { 1, 2, 7, 16, 100, 1023, 1024, 1025, 3000, 5003 };
    static const double scales[] = { 0.1, 1.0, 4.0, 30.0 };
    static const double offsets[] = { 0.0, -20.0, 300.0 };
    static const double spikes[] = { 0.0, 10.0, 25.0 };
    tu_rng g = tu_rng_seed(15);
    size_t rows = tu_samples() / 2000 + 2, vi, n = 0;
    double worst = 0, worst_l = 0, max_ulp = 0;
    float *x = malloc(5003 * sizeof(float));
    (void)state;
    assert_non_null(x);
    for (vi = 0; vi < sizeof Vs / sizeof Vs[0]; vi++) {
        size_t V = Vs[vi], si, oi, pi, r;
        for (si = 0; si < 4; si++)
            for (oi = 0; oi < 3; oi++)
                for (pi = 0; pi < 3; pi++)
                    for (r = 0; r < rows; r++) {
                        int32_t t = (int32_t)tu_below(&g, V);
                        float lp, lse;
                        ref_tok ref;
                        gen_row(&g, x, V, scales[si], offsets[oi], spikes[pi], t);
                        assert_status(prefloss_token_logps(&lp, &lse, x, &t, 1, V, V, IGN), PREFLOSS_OK);
                        ref = ref_token(x, V, t);
                        n++;
                        if (ref.logp == 0) {
                            assert_true(lp == 0.0f);
                        } else if (ref_is_normal_float(ref.logp)) {
                            ld e = err_ulp(lp, ref.logp), b = 4; /* flat: the cancellation is avoided */
                            if (!(e <= b)) {
                                print_error("V=%zu scale=%g offset=%g spike=%g: logp %.9g ref %.12Lg "
                                            "err %.2Lf ulp > %.2Lf (kappa %.3Lg)\n", V, scales[si],
                                            offsets[oi], spikes[pi], (double)lp, ref.logp, e, b, ref.kappa);
                                fail();
                            }
                            if ((double)(e / b) > worst) worst = (double)(e / b);
                            if ((double)e > max_ulp) max_ulp = (double)e;
                        }
                        if (ref_is_normal_float(ref.lse)) {
                            ld e = err_ulp(lse, ref.lse), b = 4 + ref.kappa_lse / 2;
                            if (!(e <= b)) {
                                print_error("V=%zu: lse %.9g ref %.12Lg err %.2Lf ulp > %.2Lf\n", V,
                                            (double)lse, ref.lse, e, b);
                                fail();
                            }
                            if ((double)(e / b) > worst_l) worst_l = (double)(e / b);
                        }
                    }
    }
    printf("token_logps: %zu rows, worst error / budget: log-prob %.3f, lse %.3f; max log-prob error %.2f ulp\n",
           n, worst, worst_l, max_ulp);
    free(x);
}

/* Confident rows: the target far above the rest, log p = -e^-5 ... -e^-70:
 * the cancellation x_t - lse (kappa = (|x_t| + |lse|)/|log p| up to 1e32
 * here) is avoided, so the error stays within 4 ulp of these tiny values. */
static void test_forward_confident(void **state)
{
    tu_rng g = tu_rng_seed(99);
    float x[257];
    size_t r;
    (void)state;
    for (r = 0; r < 400; r++) {
        size_t V = 1 + tu_below(&g, 257), j;
        int32_t t = (int32_t)tu_below(&g, V);
        double gap = tu_range(&g, 5.0, 70.0);
        float lp;
        ref_tok ref;
        for (j = 0; j < V; j++) x[j] = (float)tu_range(&g, -3.0, 3.0);
        x[t] = (float)(3.0 + gap);
        assert_status(prefloss_token_logps(&lp, NULL, x, &t, 1, V, V, IGN), PREFLOSS_OK);
        ref = ref_token(x, V, t);
        if (ref.logp == 0) { assert_true(lp == 0.0f); continue; }
        if (!ref_is_normal_float(ref.logp)) continue;
        if (!(err_ulp(lp, ref.logp) <= 4)) {
            print_error("V=%zu gap %g: %.9g vs %.12Lg (%.2Lf ulp, kappa %.3Lg)\n", V, gap,
                        (double)lp, ref.logp, err_ulp(lp, ref.logp), ref.kappa);
            fail();
        }
    }
}

/* ---- backward ------------------------------------------------------------------ */

/* |got - ref| <= 6u |ref| + 2 |g| p_j (|x_j| + |lse|) u + |g| 2^-120: a few
 * roundings, plus the roundings of the saved lse to float and of x_j - lse
 * (documented). */
static void check_grad_row(const float *x, const float *d, size_t V, int32_t t, float g, float lse)
{
    ld m = (ld)x[0], s = 0, L;
    size_t j;
    const ld u = 5.9604644775390625e-8L;
    for (j = 1; j < V; j++) if ((ld)x[j] > m) m = (ld)x[j];
    for (j = 0; j < V; j++) s += expl((ld)x[j] - m);
    L = m + logl(s);
    for (j = 0; j < V; j++) {
        ld p = expl((ld)x[j] - L);
        ld ref = (ld)g * (((int32_t)j == t ? 1 : 0) - p);
        ld tol = 6 * u * fabsl(ref) + 2 * fabsl((ld)g) * p * (fabsl((ld)x[j]) + fabsl((ld)lse)) * u
                 + fabsl((ld)g) * ldexpl(1, -120);
        if ((int32_t)j == t) tol += 0; /* (1 - p_t) = -expm1(x_t - lse): the same lse term */
        if (!(fabsl((ld)d[j] - ref) <= tol)) {
            print_error("V=%zu j=%zu t=%d: %.9g vs %.12Lg (tol %.3Lg)\n", V, j, (int)t, (double)d[j],
                        ref, tol);
            fail();
        }
    }
}

static void test_backward_accuracy_and_inplace(void **state)
{
    static const size_t Vs[] = { 1, 3, 17, 1000, 2049 };
    tu_rng g = tu_rng_seed(7);
    size_t vi;
    (void)state;
    for (vi = 0; vi < 5; vi++) {
        size_t V = Vs[vi], n = 6, stride = V + 3, i, j;
        float *x = malloc(n * stride * sizeof(float)), *sep = malloc(n * V * sizeof(float));
        float *inp = malloc(n * stride * sizeof(float));
        float lse[6], lp[6], up[6];
        int32_t t[6];
        assert_non_null(x); assert_non_null(sep); assert_non_null(inp);
        for (i = 0; i < n; i++) {
            t[i] = i == 2 ? IGN : (int32_t)tu_below(&g, V);
            gen_row(&g, x + i * stride, V, i == 4 ? 20.0 : 2.0, i == 5 ? 100.0 : 0.0,
                    i == 3 ? 30.0 : 0.0, t[i] == IGN ? 0 : t[i]);
            for (j = V; j < stride; j++) x[i * stride + j] = 1234.0f; /* gaps */
            up[i] = (float)tu_range(&g, -3.0, 3.0);
        }
        assert_status(prefloss_token_logps(lp, lse, x, t, n, V, stride, IGN), PREFLOSS_OK);
        assert_status(prefloss_token_logps_backward(sep, V, up, x, stride, lse, t, n, V, IGN), PREFLOSS_OK);
        memcpy(inp, x, n * stride * sizeof(float));
        assert_status(prefloss_token_logps_backward(inp, stride, up, inp, stride, lse, t, n, V, IGN),
                      PREFLOSS_OK);
        for (i = 0; i < n; i++) {
            for (j = 0; j < V; j++) assert_float_bits_equal(inp[i * stride + j], sep[i * V + j]);
            for (j = V; j < stride; j++) assert_true(inp[i * stride + j] == 1234.0f); /* gaps kept */
            if (t[i] == IGN) {
                for (j = 0; j < V; j++) assert_true(sep[i * V + j] == 0.0f);
                assert_true(lp[i] == 0.0f);
            } else {
                check_grad_row(x + i * stride, sep + i * V, V, t[i], up[i], lse[i]);
            }
        }
        /* dtoken_logps NULL means ones */
        assert_status(prefloss_token_logps_backward(sep, V, NULL, x, stride, lse, t, n, V, IGN), PREFLOSS_OK);
        for (i = 0; i < n; i++)
            if (t[i] != IGN) check_grad_row(x + i * stride, sep + i * V, V, t[i], 1.0f, lse[i]);
        free(x); free(sep); free(inp);
    }
}

/* ---- non-finite rows and ignored rows -------------------------------------------- */

static void test_nonfinite_and_ignored(void **state)
{
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    float x[4 * 5], lp[4], lse[4], d[4 * 5];
    int32_t t[4] = { 1, 2, IGN, 0 };
    int k;
    size_t j;
    (void)state;
    for (k = 0; k < 3; k++) {
        for (j = 0; j < 20; j++) x[j] = (float)j * 0.25f;
        x[5 + 3] = bad[k];  /* row 1: counted, non-finite */
        x[10 + 1] = NAN;    /* row 2: ignored, never read */
        assert_status(prefloss_token_logps(lp, lse, x, t, 4, 5, 5, IGN), PREFLOSS_NONFINITE);
        assert_true(!isnan(lp[0]));
        assert_nan(lp[1]);
        assert_nan(lse[1]);
        assert_true(lp[2] == 0.0f);
        assert_true(!isnan(lp[3]));
        assert_status(prefloss_token_logps_backward(d, 5, NULL, x, 5, lse, t, 4, 5, IGN), PREFLOSS_NONFINITE);
        for (j = 0; j < 5; j++) {
            assert_true(!isnan(d[j]));
            assert_nan(d[5 + j]);
            assert_true(d[10 + j] == 0.0f);
            assert_true(!isnan(d[15 + j]));
        }
    }
    /* a non-finite upstream gradient: that row NaN */
    for (j = 0; j < 20; j++) x[j] = (float)j * 0.25f;
    assert_status(prefloss_token_logps(lp, lse, x, t, 4, 5, 5, IGN), PREFLOSS_OK);
    {
        float up[4] = { 1.0f, 1.0f, 1.0f, INFINITY };
        assert_status(prefloss_token_logps_backward(d, 5, up, x, 5, lse, t, 4, 5, IGN), PREFLOSS_NONFINITE);
        for (j = 0; j < 5; j++) { assert_true(!isnan(d[j])); assert_nan(d[15 + j]); }
    }
}

/* ---- bad input: a status, nothing written ------------------------------------------- */

#define SENT(buf) tu_fill_sentinel(buf, sizeof buf)
#define UNTOUCHED(buf) assert_true(tu_is_sentinel(buf, sizeof buf))

static void test_bad_input_token(void **state)
{
    float x[3 * 4], lp[3], lse[3], d[3 * 4];
    int32_t t[3] = { 0, 3, IGN }, tb[3] = { 0, 4, 1 }, tn[3] = { -1, 0, 0 };
    size_t j;
    (void)state;
    for (j = 0; j < 12; j++) x[j] = (float)j;
    SENT(lp); SENT(lse); SENT(d);
    assert_status(prefloss_token_logps(lp, lse, x, tb, 3, 4, 4, IGN), PREFLOSS_ERR_PARAM);   /* target == V */
    assert_status(prefloss_token_logps(lp, lse, x, tn, 3, 4, 4, IGN), PREFLOSS_ERR_PARAM);   /* target < 0 */
    assert_status(prefloss_token_logps(lp, lse, x, t, 3, 0, 4, IGN), PREFLOSS_ERR_PARAM);    /* V = 0 */
    assert_status(prefloss_token_logps(lp, lse, x, t, 0, 0, 0, IGN), PREFLOSS_ERR_PARAM);    /* V = 0, n = 0 */
    assert_status(prefloss_token_logps(lp, lse, x, t, 3, 4, 3, IGN), PREFLOSS_ERR_PARAM);    /* stride < V */
    assert_status(prefloss_token_logps(lp, lse, NULL, t, 3, 4, 4, IGN), PREFLOSS_ERR_NULL);
    assert_status(prefloss_token_logps(lp, lse, x, NULL, 3, 4, 4, IGN), PREFLOSS_ERR_NULL);
    assert_status(prefloss_token_logps(lp, lse, x, t, 3, 4, SIZE_MAX / 2, IGN), PREFLOSS_ERR_SIZE);
    assert_status(prefloss_token_logps(lp, lse, x, t, SIZE_MAX / 2, 4, 4, IGN), PREFLOSS_ERR_SIZE);
    assert_status(prefloss_token_logps(x + 1, lse, x, t, 3, 4, 4, IGN), PREFLOSS_ERR_OVERLAP);
    assert_status(prefloss_token_logps(lp, lp + 1, x, t, 2, 4, 4, IGN), PREFLOSS_ERR_OVERLAP);
    UNTOUCHED(lp); UNTOUCHED(lse);
    /* the backward */
    for (j = 0; j < 3; j++) lse[j] = 20.0f;
    assert_status(prefloss_token_logps_backward(d, 4, NULL, x, 4, lse, tb, 3, 4, IGN), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_token_logps_backward(d, 3, NULL, x, 4, lse, t, 3, 4, IGN), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_token_logps_backward(d, 4, NULL, x, 4, lse, t, 3, 0, IGN), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_token_logps_backward(d, 4, NULL, x, 4, NULL, t, 3, 4, IGN), PREFLOSS_ERR_NULL);
    assert_status(prefloss_token_logps_backward(NULL, 4, NULL, x, 4, lse, t, 3, 4, IGN), PREFLOSS_ERR_NULL);
    assert_status(prefloss_token_logps_backward(d, SIZE_MAX / 2, NULL, x, 4, lse, t, 3, 4, IGN),
                  PREFLOSS_ERR_SIZE);
    assert_status(prefloss_token_logps_backward(d, 4, d + 2, x, 4, lse, t, 3, 4, IGN), PREFLOSS_ERR_OVERLAP);
    UNTOUCHED(d);
    {
        /* in place needs the identical pointer and stride: a shifted
         * pointer, or the same pointer with another stride, is an overlap */
        float y[3 * 4], keep[3 * 4];
        for (j = 0; j < 12; j++) y[j] = (float)j;
        memcpy(keep, y, sizeof y);
        assert_status(prefloss_token_logps_backward(y + 1, 4, NULL, y, 4, lse, t, 2, 3, IGN), PREFLOSS_ERR_OVERLAP);
        assert_status(prefloss_token_logps_backward(y, 3, NULL, y, 4, lse, t, 3, 3, IGN), PREFLOSS_ERR_OVERLAP);
        assert_status(prefloss_token_logps_backward(y, 4, NULL, y, 4, y + 2, t, 3, 4, IGN), PREFLOSS_ERR_OVERLAP);
        assert_true(memcmp(keep, y, sizeof y) == 0);
    }
}

/* ---- the fused pair loss: long-double reference and finite differences ------------------ */

/* The whole fused loss for one pair in long double: sequence log-probs
 * (sum or mean of counted tokens), then sigmoid (DPO) or ipo. */
static ld ref_seq(const float *x, const int32_t *t, size_t T, size_t V, size_t stride, int mean,
                  const float *bump, ld h)
{
    ld sum = 0;
    size_t r, j, cnt = 0;
    for (r = 0; r < T; r++) {
        const float *row = x + r * stride;
        ld m = -(ld)INFINITY, s = 0, xt = 0;
        if (t[r] == IGN) continue;
        for (j = 0; j < V; j++) {
            ld v = (ld)row[j] + ((bump != NULL && row + j == bump) ? h : 0);
            if (v > m) m = v;
        }
        for (j = 0; j < V; j++) {
            ld v = (ld)row[j] + ((bump != NULL && row + j == bump) ? h : 0);
            s += expl(v - m);
            if ((int32_t)j == t[r]) xt = v;
        }
        sum += xt - m - logl(s);
        cnt++;
    }
    return mean ? (cnt ? sum / (ld)cnt : 0) : sum;
}

static ld ref_pair(int kind, float beta, ld pc, ld pr, float rc, float rr)
{
    ld hh = (pc - (ld)rc) - (pr - (ld)rr);
    if (kind == PREFLOSS_LOSS_IPO) {
        ld d = hh - 1.0L / (2.0L * (ld)beta);
        return d * d;
    }
    return ref_neglogsig((ld)beta * hh);
}

static void test_fused_finite_differences(void **state)
{
    const size_t T = 4, V = 9, n = 2, stride = 10;
    float xc[2 * 4 * 10], xr[2 * 4 * 10], dc[2 * 4 * 10], dr[2 * 4 * 10];
    int32_t tc[8], tr[8];
    float rc[2] = { -12.0f, -9.5f }, rr[2] = { -11.0f, -10.25f }, up[2] = { 0.5f, -1.25f };
    float ws[8], loss[2], pc[2], pr[2];
    tu_rng g = tu_rng_seed(3);
    int ki, mean;
    size_t j;
    (void)state;
    for (j = 0; j < 80; j++) { xc[j] = (float)tu_range(&g, -2, 2); xr[j] = (float)tu_range(&g, -2, 2); }
    for (j = 0; j < 8; j++) {
        tc[j] = (int32_t)tu_below(&g, V);
        tr[j] = (int32_t)tu_below(&g, V);
    }
    tc[0] = IGN; tr[3] = IGN; tr[5] = IGN;
    for (ki = 0; ki < 2; ki++) {
        int kind = ki == 0 ? PREFLOSS_LOSS_SIGMOID : PREFLOSS_LOSS_IPO;
        prefloss_pair_params p;
        prefloss_pair_params_init(&p, sizeof p);
        p.beta = ki == 0 ? 0.5f : 0.7f;
        for (mean = 0; mean < 2; mean++) {
            size_t i;
            assert_status(prefloss_pair_loss_from_logits(loss, pc, pr, dc, dr, xc, xr, tc, tr, NULL, NULL,
                                                         rc, rr, up, n, T, V, stride, IGN, mean, kind,
                                                         &p, ws, 8), PREFLOSS_OK);
            for (i = 0; i < n; i++) {
                const float *xci = xc + i * T * stride, *xri = xr + i * T * stride;
                ld Pc = ref_seq(xci, tc + i * T, T, V, stride, mean, NULL, 0);
                ld Pr = ref_seq(xri, tr + i * T, T, V, stride, mean, NULL, 0);
                ld L = ref_pair(kind, p.beta, Pc, Pr, rc[i], rr[i]);
                size_t r;
                assert_true(err_ulp(pc[i], Pc) <= 8);
                assert_true(err_ulp(pr[i], Pr) <= 8);
                assert_true(fabsl((ld)loss[i] - L) <= 1e-5L * fabsl(L) + 1e-7L);
                /* central differences of the long-double loss, step 1e-4 */
                for (r = 0; r < T * stride; r++) {
                    int side;
                    if (r % stride >= V) continue;
                    for (side = 0; side < 2; side++) {
                        const float *base = side == 0 ? xci : xri;
                        const float *pt = base + r;
                        const ld hstep = 1e-4L;
                        ld Lp, Lm, fd, got = (ld)(side == 0 ? dc[i * T * stride + r] : dr[i * T * stride + r]);
                        ld a = side == 0 ? ref_seq(xci, tc + i * T, T, V, stride, mean, pt, hstep) : Pc;
                        ld b = side == 1 ? ref_seq(xri, tr + i * T, T, V, stride, mean, pt, hstep) : Pr;
                        Lp = ref_pair(kind, p.beta, a, b, rc[i], rr[i]);
                        a = side == 0 ? ref_seq(xci, tc + i * T, T, V, stride, mean, pt, -hstep) : Pc;
                        b = side == 1 ? ref_seq(xri, tr + i * T, T, V, stride, mean, pt, -hstep) : Pr;
                        Lm = ref_pair(kind, p.beta, a, b, rc[i], rr[i]);
                        fd = (Lp - Lm) / (2 * hstep) * (ld)up[i];
                        if (!(fabsl(got - fd) <= 1e-5L * fabsl(fd) + 2e-7L)) {
                            print_error("kind %d mean %d pair %zu side %d entry %zu: %.9Lg vs fd %.12Lg\n",
                                        kind, mean, i, side, r, got, fd);
                            fail();
                        }
                    }
                }
            }
        }
    }
}

/* Every kind: the fused call equals prefloss_pair_loss on its sequence
 * log-probs, and its dlogits equal prefloss_token_logps_backward with the
 * per-token gradient (bit-identical); in place equals separate; one call
 * over all pairs equals one call per pair (chunking); packed equals padded. */
static void test_fused_every_kind_consistent(void **state)
{
    enum { N = 3, T = 5, V = 40 };
    const size_t stride = V;
    static float xc[N * T * V], xr[N * T * V], dc[N * T * V], dr[N * T * V];
    static float ic[N * T * V], ir[N * T * V], tmp[N * T * V], ch[N * T * V];
    int32_t tc[N * T], tr[N * T];
    float rc[N], rr[N], up[N], loss[N], pc[N], pr[N], ws[2 * T];
    size_t offc[N + 1], offr[N + 1];
    tu_rng g = tu_rng_seed(11);
    int kind, nk = prefloss_loss_kind_count(), mean;
    size_t j, i;
    (void)state;
    for (j = 0; j < N * T * V; j++) { xc[j] = (float)tu_range(&g, -3, 3); xr[j] = (float)tu_range(&g, -3, 3); }
    for (j = 0; j < N * T; j++) {
        tc[j] = (int32_t)tu_below(&g, V);
        tr[j] = (int32_t)tu_below(&g, V);
    }
    tc[0] = tc[1] = IGN; tr[7] = IGN;
    for (i = 0; i < N; i++) {
        rc[i] = (float)tu_range(&g, -30, -20);
        rr[i] = (float)tu_range(&g, -30, -20);
        up[i] = 1.0f / 3.0f;
        offc[i] = offr[i] = i * T;
    }
    offc[N] = offr[N] = N * T;
    for (kind = 0; kind < nk; kind++)
        for (mean = 0; mean < 2; mean++) {
            prefloss_pair_params p;
            float l2[N], d1[N], d2[N], seq_lse[N * T];
            prefloss_pair_params_init(&p, sizeof p);
            assert_status(prefloss_pair_loss_from_logits(loss, pc, pr, dc, dr, xc, xr, tc, tr, NULL, NULL, rc, rr,
                                                         up, N, T, V, stride, IGN, mean, kind, &p, ws, 2 * T),
                          PREFLOSS_OK);
            assert_status(prefloss_pair_loss(l2, d1, d2, pc, pr, rc, rr, NULL, up, N, kind, &p), PREFLOSS_OK);
            for (i = 0; i < N; i++) assert_float_bits_equal(loss[i], l2[i]);
            /* the chosen side through the token API */
            assert_status(prefloss_token_logps(NULL, seq_lse, xc, tc, N * T, V, stride, IGN), PREFLOSS_OK);
            {
                float gt[N * T];
                for (i = 0; i < N; i++) {
                    size_t cnt = 0, r;
                    for (r = 0; r < T; r++) cnt += tc[i * T + r] != IGN;
                    for (r = 0; r < T; r++)
                        gt[i * T + r] = mean ? (cnt ? d1[i] / (float)cnt : 0.0f) : d1[i];
                }
                assert_status(prefloss_token_logps_backward(tmp, stride, gt, xc, stride, seq_lse, tc, N * T, V, IGN),
                              PREFLOSS_OK);
                for (j = 0; j < N * T * V; j++) assert_float_bits_equal(dc[j], tmp[j]);
            }
            /* in place */
            memcpy(ic, xc, sizeof ic);
            memcpy(ir, xr, sizeof ir);
            assert_status(prefloss_pair_loss_from_logits(l2, NULL, NULL, ic, ir, ic, ir, tc, tr, NULL, NULL, rc, rr,
                                                         up, N, T, V, stride, IGN, mean, kind, &p, ws, 2 * T),
                          PREFLOSS_OK);
            for (j = 0; j < N * T * V; j++) {
                assert_float_bits_equal(ic[j], dc[j]);
                assert_float_bits_equal(ir[j], dr[j]);
            }
            for (i = 0; i < N; i++) assert_float_bits_equal(l2[i], loss[i]);
            /* packed offsets describing the same rows */
            assert_status(prefloss_pair_loss_from_logits(l2, NULL, NULL, ch, tmp, xc, xr, tc, tr, offc, offr, rc, rr,
                                                         up, N, 0, V, stride, IGN, mean, kind, &p, ws, 2 * T),
                          PREFLOSS_OK);
            for (j = 0; j < N * T * V; j++) {
                assert_float_bits_equal(ch[j], dc[j]);
                assert_float_bits_equal(tmp[j], dr[j]);
            }
            /* one pair per call (chunking) */
            for (i = 0; i < N; i++) {
                float l1;
                assert_status(prefloss_pair_loss_from_logits(&l1, NULL, NULL, ch + i * T * V, tmp + i * T * V,
                                                             xc + i * T * V, xr + i * T * V, tc + i * T, tr + i * T,
                                                             NULL, NULL, rc + i, rr + i, up + i, 1, T, V, stride,
                                                             IGN, mean, kind, &p, ws, 2 * T), PREFLOSS_OK);
                assert_float_bits_equal(l1, loss[i]);
            }
            for (j = 0; j < N * T * V; j++) {
                assert_float_bits_equal(ch[j], dc[j]);
                assert_float_bits_equal(tmp[j], dr[j]);
            }
        }
}

/* Packed rows of unequal lengths (one empty), reference-free, and a
 * non-finite logit in one pair: that pair NaN, the others exact. */
static void test_fused_packed_nonfinite(void **state)
{
    enum { V = 33 };
    static float xc[9 * V], xr[9 * V], dc[9 * V], dr[9 * V];
    int32_t tc[9], tr[9];
    size_t offc[4] = { 0, 2, 2, 9 }, offr[4] = { 0, 5, 6, 9 }, j, ws_len = 0;
    float loss[3], pc[3], pr[3], ws[16], l1[3];
    tu_rng g = tu_rng_seed(5);
    (void)state;
    for (j = 0; j < 9 * V; j++) { xc[j] = (float)tu_range(&g, -4, 4); xr[j] = (float)tu_range(&g, -4, 4); }
    for (j = 0; j < 9; j++) { tc[j] = (int32_t)tu_below(&g, V); tr[j] = (int32_t)tu_below(&g, V); }
    assert_status(prefloss_pair_loss_from_logits_workspace(&ws_len, offc, offr, 3, 0), PREFLOSS_OK);
    assert_true(ws_len == 10);
    assert_status(prefloss_pair_loss_from_logits(loss, pc, pr, dc, dr, xc, xr, tc, tr, offc, offr, NULL, NULL, NULL,
                                                 3, 0, V, V, IGN, 0, PREFLOSS_LOSS_SIGMOID, NULL, ws, ws_len),
                  PREFLOSS_OK);
    assert_true(pc[1] == 0.0f); /* an empty sequence sums to 0 */
    xc[3 * V + 4] = NAN;        /* pair 2's chosen row 3 */
    assert_status(prefloss_pair_loss_from_logits(l1, pc, pr, dc, dr, xc, xr, tc, tr, offc, offr, NULL, NULL, NULL,
                                                 3, 0, V, V, IGN, 0, PREFLOSS_LOSS_SIGMOID, NULL, ws, ws_len),
                  PREFLOSS_NONFINITE);
    assert_float_bits_equal(l1[0], loss[0]);
    assert_float_bits_equal(l1[1], loss[1]);
    assert_nan(l1[2]);
    assert_nan(pc[2]);
    for (j = 2 * V; j < 9 * V; j++) assert_nan(dc[j]);
    for (j = 6 * V; j < 9 * V; j++) assert_nan(dr[j]);
    for (j = 0; j < 2 * V; j++) assert_true(!isnan(dc[j]));
    for (j = 0; j < 6 * V; j++) assert_true(!isnan(dr[j]));
    /* forward only: no workspace needed */
    assert_status(prefloss_pair_loss_from_logits(l1, NULL, NULL, NULL, NULL, xc, xr, tc, tr, offc, offr, NULL, NULL,
                                                 NULL, 3, 0, V, V, IGN, 0, PREFLOSS_LOSS_SIGMOID, NULL, NULL, 0),
                  PREFLOSS_NONFINITE);
}

static void test_bad_input_fused(void **state)
{
    enum { V = 6, T = 2 };
    float xc[2 * T * V], xr[2 * T * V], loss[2], pc[2], dc[2 * T * V], ws[4];
    int32_t tc[4] = { 0, 1, 2, IGN }, tr[4] = { 5, 4, 3, 2 }, tbad[4] = { 0, 6, 1, 1 };
    size_t offc[3] = { 0, 2, 1 }, offr[3] = { 0, 2, 4 }, j;
    float rc[2] = { -1, -2 };
    (void)state;
    for (j = 0; j < 2 * T * V; j++) { xc[j] = (float)j * 0.1f; xr[j] = (float)j * -0.1f; }
    SENT(loss); SENT(pc); SENT(dc); SENT(ws);
#define CALL(lo, p, d, x1, t1, oc, orr, r1, r2, n, V_, stride, kind, w, wl) \
    prefloss_pair_loss_from_logits(lo, p, NULL, d, NULL, x1, xr, t1, tr, oc, orr, r1, r2, NULL, n, T, V_, \
                                   stride, IGN, 0, kind, NULL, w, wl)
    assert_status(CALL(loss, pc, dc, xc, tbad, NULL, NULL, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_PARAM);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, NULL, NULL, 2, 0, V, 0, ws, 4), PREFLOSS_ERR_PARAM);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, NULL, NULL, 2, V, V - 1, 0, ws, 4), PREFLOSS_ERR_PARAM);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, NULL, NULL, 2, V, V, 99, ws, 4), PREFLOSS_ERR_PARAM);
    assert_status(CALL(loss, pc, dc, xc, tc, offc, offr, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_PARAM);
    assert_status(CALL(loss, pc, dc, xc, tc, offr, NULL, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_NULL);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, rc, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_NULL);
    assert_status(CALL(loss, pc, dc, NULL, tc, NULL, NULL, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_NULL);
    assert_status(CALL(loss, pc, dc, xc, NULL, NULL, NULL, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_NULL);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, NULL, NULL, 2, V, V, 0, NULL, 4), PREFLOSS_ERR_NULL);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, NULL, NULL, 2, V, V, 0, ws, 3), PREFLOSS_ERR_SIZE);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, NULL, NULL, 2, V, SIZE_MAX / 8, 0, ws, 4), PREFLOSS_ERR_SIZE);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, NULL, NULL, SIZE_MAX / 4, V, V, 0, ws, 4), PREFLOSS_ERR_SIZE);
    assert_status(CALL(loss, pc, xc + 1, xc, tc, NULL, NULL, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_OVERLAP);
    assert_status(CALL(loss, pc, xr, xc, tc, NULL, NULL, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_OVERLAP);
    assert_status(CALL(loss, loss, dc, xc, tc, NULL, NULL, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_OVERLAP);
    assert_status(CALL(loss, pc, dc, xc, tc, NULL, NULL, NULL, NULL, 2, V, V, 0, dc, 4), PREFLOSS_ERR_OVERLAP);
    assert_status(CALL(xc, pc, dc, xc, tc, NULL, NULL, NULL, NULL, 2, V, V, 0, ws, 4), PREFLOSS_ERR_OVERLAP);
#undef CALL
    UNTOUCHED(loss); UNTOUCHED(pc); UNTOUCHED(dc); UNTOUCHED(ws);
    {
        size_t wl = 77;
        assert_status(prefloss_pair_loss_from_logits_workspace(NULL, NULL, NULL, 2, 3), PREFLOSS_ERR_NULL);
        assert_status(prefloss_pair_loss_from_logits_workspace(&wl, offc, NULL, 2, 3), PREFLOSS_ERR_NULL);
        assert_status(prefloss_pair_loss_from_logits_workspace(&wl, offc, offr, 2, 3), PREFLOSS_ERR_PARAM);
        assert_true(wl == 77);
        assert_status(prefloss_pair_loss_from_logits_workspace(&wl, NULL, NULL, 2, 3), PREFLOSS_OK);
        assert_true(wl == 6);
    }
}


/* Finite logits whose pair gradient overflows (sppo_hard with a rejected
 * log-prob near -FLT_MAX): PREFLOSS_OK, and the rows are +-inf where
 * p_j > 0 and 0 elsewhere, never NaN. A logit whose difference from the
 * row's maximum overflows gives the log-prob -inf, not NaN. */
static void test_fused_overflowed_gradient(void **state)
{
    float xc[4] = { 0.5f, 0.25f, -1.0f, 2.0f }, xr[4] = { 3.0e38f, -3.0e38f, 0.0f, 1.0f };
    int32_t tc[1] = { 3 }, tr[1] = { 1 };
    float loss, pc, pr, dc[4], dr[4], ws[2];
    size_t j;
    (void)state;
    assert_status(prefloss_token_logps(&pr, NULL, xr, tr, 1, 4, 4, IGN), PREFLOSS_OK);
    assert_true(isinf(pr) && pr < 0);
    xr[0] = 1.0e38f;
    xr[1] = -1.0e38f; /* log p = -2e38: finite, its sppo_hard gradient is not */
    assert_status(prefloss_pair_loss_from_logits(&loss, &pc, &pr, dc, dr, xc, xr, tc, tr, NULL, NULL, NULL, NULL,
                                                 NULL, 1, 1, 4, 4, IGN, 0, PREFLOSS_LOSS_SPPO_HARD, NULL, ws, 2),
                  PREFLOSS_OK);
    assert_true(isinf(loss));
    for (j = 0; j < 4; j++) {
        assert_true(!isnan(dc[j]));
        assert_true(!isnan(dr[j]));
    }
    assert_true(isinf(pr) == 0 && isinf(dr[0]) && dr[2] == 0.0f && dr[3] == 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_forward_accuracy),
        cmocka_unit_test(test_forward_confident),
        cmocka_unit_test(test_backward_accuracy_and_inplace),
        cmocka_unit_test(test_nonfinite_and_ignored),
        cmocka_unit_test(test_bad_input_token),
        cmocka_unit_test(test_fused_finite_differences),
        cmocka_unit_test(test_fused_every_kind_consistent),
        cmocka_unit_test(test_fused_packed_nonfinite),
        cmocka_unit_test(test_bad_input_fused),
        cmocka_unit_test(test_fused_overflowed_gradient),
    };
    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
