/*
 * test_ipo.c — the IPO squared loss in TRL's scale and in the seed's
 * general form:
 *
 *     TRL:      loss = (h - 1/(2 beta))^2,              g = 2 (h - 1/(2 beta))
 *     general:  loss = (beta h - (a2 - a1)/2)^2,        g = 2 beta (beta h - (a2 - a1)/2)
 *
 * (The general form's target is the half-width (a2 - a1)/2 of the range of
 * the preference degree, as documented in prefloss.h; a1 <= a2.)
 *
 * with dchosen = g * dlosses, drejected = -dchosen.
 */
#include "testutil.h"
#include "reference.h"

#define assert_within_ulp(got, ref, n)                                        \
    do {                                                                      \
        ld tw_r_ = (ref);                                                     \
        float tw_g_ = (got);                                                  \
        assert_true(ref_is_normal_float(tw_r_));                              \
        if (!(err_ulp(tw_g_, tw_r_) <= (ld)(n))) {                            \
            print_error("got %.9g, expected %.20Lg: %.2Lf ulp > %g\n",        \
                        (double)tw_g_, tw_r_, err_ulp(tw_g_, tw_r_),          \
                        (double)(n));                                         \
            fail();                                                           \
        }                                                                     \
    } while (0)

/* Budget for the worked examples: (4 + kappa/2) ulp with kappa < 2 here. */
#define GOLDEN_ULP 5.0

/* Worked examples.
 *   TRL, pc=-1.5 pr=-2 rc=-1.25 rr=-1.5, beta=0.1f: h = 0.25,
 *     1/(2 beta) = 4.99999992549419514, loss = 22.5624992921948594,
 *     g = -9.49999985098839028
 *   TRL, beta = 0.5, h = 1 = 1/(2 beta): loss 0 and gradient 0 exactly.
 *   general, a1=0 a2=1, beta=0.5, h=0.25: (0.125 - 0.5)^2 = 0.140625,
 *     g = 2 * 0.5 * (-0.375) = -0.375 (exact). */
static void test_golden_values(void **state)
{
    float pc = -1.5f, pr = -2.0f, rc = -1.25f, rr = -1.5f, l, dc, dr;
    (void)state;

    assert_status(prefloss_ipo_loss(&l, &dc, &dr, &pc, &pr, &rc, &rr, NULL, 1, 0.1f), PREFLOSS_OK);
    assert_within_ulp(l, 22.5624992921948594L, GOLDEN_ULP);
    assert_within_ulp(dc, -9.49999985098839028L, GOLDEN_ULP);
    assert_within_ulp(dr, 9.49999985098839028L, GOLDEN_ULP);

    pc = -1.0f; pr = -3.0f; rc = -2.0f; rr = -3.0f; /* h = 1 */
    assert_status(prefloss_ipo_loss(&l, &dc, &dr, &pc, &pr, &rc, &rr, NULL, 1, 0.5f), PREFLOSS_OK);
    assert_true(l == 0.0f && dc == 0.0f && dr == 0.0f);

    pc = -1.0f; pr = -1.25f; /* reference-free h = 0.25 */
    assert_status(prefloss_ipo_general_loss(&l, &dc, &dr, &pc, &pr, NULL, NULL, NULL, 1, 0.5f, 0.0f, 1.0f),
                  PREFLOSS_OK);
    assert_float_bits_equal(l, 0.140625f);
    assert_float_bits_equal(dc, -0.375f);
    assert_float_bits_equal(dr, 0.375f);
}

/* Near the target h = 1/(2 beta) the loss is a tiny difference squared.
 * The header promises that 1/(2 beta) and h - 1/(2 beta) are computed in
 * double-float, "so the loss is accurate even where h is close to
 * 1/(2 beta)": this test holds the library to that stronger promise — a few
 * ulp plus a double-float (2^-44 relative) error in h — instead of the
 * generic (4 + kappa/2) budget, which would excuse anything here.
 * beta = 0.1f, so 1/(2 beta) is not a float. */
static void test_accurate_near_target(void **state)
{
    enum { N = 2000 };
    float pc[N], pr[N], rc[N], rr[N], l[N], dc[N];
    const float beta = 0.1f;
    tu_rng r = tu_rng_seed(0x1f0);
    size_t i;
    ld worst_l = 0, worst_g = 0;
    (void)state;
    for (i = 0; i < N; i++) {
        rc[i] = (float)tu_range(&r, -8.0, -0.5);
        rr[i] = (float)tu_range(&r, -8.0, -0.5);
        pr[i] = (float)tu_range(&r, -8.0, -0.5);
        /* pc chosen so that h = 1/(2 beta) up to the rounding of pc */
        pc[i] = (float)((double)rc[i] + (double)pr[i] - (double)rr[i] +
                        (double)ref_ipo_target(beta) + tu_sign(&r) * tu_logu(&r, -7.0, 0.0));
    }
    assert_status(prefloss_ipo_loss(l, dc, NULL, pc, pr, rc, rr, NULL, N, beta), PREFLOSS_OK);
    for (i = 0; i < N; i++) {
        const ld h = ref_h(pc[i], pr[i], rc[i], rr[i]);
        const ld rl = ref_ipo_loss(h, beta), rg = ref_ipo_g(h, beta);
        const ld dd = ldexpl(1.0L, -44 + 23); /* double-float error, in ulp per unit kappa */
        if (ref_is_normal_float(rl)) {
            ld e = err_ulp(l[i], rl);
            if (!(e <= 4.0L + ref_ipo_loss_kappa(h, beta) * dd))
                print_error("pc=%a pr=%a rc=%a rr=%a beta=%a: loss %a vs %.20Lg (%.2Lf ulp)\n",
                            (double)pc[i], (double)pr[i], (double)rc[i], (double)rr[i],
                            (double)beta, (double)l[i], rl, e);
            assert_true(e <= 4.0L + ref_ipo_loss_kappa(h, beta) * dd);
            if (e > worst_l) worst_l = e;
        }
        if (ref_is_normal_float(rg)) {
            ld e = err_ulp(dc[i], rg);
            assert_true(e <= 4.0L + ref_ipo_g_kappa(h, beta) * dd);
            if (e > worst_g) worst_g = e;
        }
    }
    printf("    near target (|h - 1/(2 beta)| down to 1e-7): worst loss %.3Lf ulp, grad %.3Lf ulp\n",
           worst_l, worst_g);
}

/* The TRL form is the general form with a1 = 0, a2 = 1, divided by beta^2
 * (and its gradient is the general gradient divided by beta^2). beta is a
 * power of two here so the division is exact; h is kept away from the
 * target so both sides are well conditioned. */
static void test_trl_is_general_over_beta_squared(void **state)
{
    enum { N = 500 };
    const float betas[4] = { 0.0625f, 0.5f, 1.0f, 4.0f };
    float pc[N], pr[N], rc[N], rr[N], lt[N], gt[N], lg[N], gg[N];
    tu_rng r = tu_rng_seed(0x7e1);
    size_t b, i;
    (void)state;
    for (b = 0; b < 4; b++) {
        const float beta = betas[b];
        const ld b2 = (ld)beta * (ld)beta;
        for (i = 0; i < N; i++) {
            rc[i] = (float)tu_range(&r, -2000.0, -50.0);
            rr[i] = (float)tu_range(&r, -2000.0, -50.0);
            pc[i] = rc[i] + (float)tu_range(&r, -20.0, 20.0);
            pr[i] = rr[i] + (float)tu_range(&r, -20.0, 20.0);
        }
        assert_status(prefloss_ipo_loss(lt, gt, NULL, pc, pr, rc, rr, NULL, N, beta), PREFLOSS_OK);
        assert_status(prefloss_ipo_general_loss(lg, gg, NULL, pc, pr, rc, rr, NULL, N, beta, 0.0f, 1.0f),
                      PREFLOSS_OK);
        for (i = 0; i < N; i++) {
            const ld h = ref_h(pc[i], pr[i], rc[i], rr[i]);
            const ld k = ref_ipo_loss_kappa(h, beta);
            if (k > 8 || !ref_is_normal_float((ld)lt[i])) continue;
            /* both within (4 + kappa/2) ulp of the same exact value */
            assert_true(err_ulp(lt[i], (ld)lg[i] / b2) <= 8.0L + k);
            assert_true(err_ulp(gt[i], (ld)gg[i] / b2) <= 8.0L + k);
        }
    }
}

/* The general loss depends on a1, a2 only through their difference,
 * formed exactly: (a1, a2) and (a1 + t, a2 + t) with equal exact
 * differences give bit-identical losses and gradients — even when the float
 * difference a2 - a1 would round — while different exact differences give
 * different results. */
static void test_general_depends_on_exact_alpha_difference(void **state)
{
    /* h = 2 and beta = 0.5 put beta h exactly on 1, so (beta h - D/2) shows
     * the exact difference D = a2 - a1 down to its last bit. */
    float pc[3] = { -1.0f, -3.5f, -10.0f };
    float pr[3] = { -3.0f, -5.5f, -12.0f };
    float l1[3], c1[3], r1[3], l2[3], c2[3], r2[3];
    const float beta = 0.5f;
    const float tiny = 0x1p-30f;
    size_t i;
    (void)state;

    /* Equal exact differences: 2.25 - 0.25 == 1 - (-1) == 2. */
    assert_status(prefloss_ipo_general_loss(l1, c1, r1, pc, pr, NULL, NULL, NULL, 3, beta, 0.25f, 2.25f), PREFLOSS_OK);
    assert_status(prefloss_ipo_general_loss(l2, c2, r2, pc, pr, NULL, NULL, NULL, 3, beta, -1.0f, 1.0f), PREFLOSS_OK);
    for (i = 0; i < 3; i++) {
        assert_float_bits_equal(l1[i], l2[i]);
        assert_float_bits_equal(c1[i], c2[i]);
        assert_float_bits_equal(r1[i], r2[i]);
        assert_true(l1[i] == 0.0f); /* beta h = 1 = (a2 - a1)/2 */
    }

    /* Equal exact differences 1 + 2^-30, whose float value would round to 1:
     * (-2^-30, 1) and (2^-23 - 2^-30, 1 + 2^-23). */
    assert_status(prefloss_ipo_general_loss(l1, c1, r1, pc, pr, NULL, NULL, NULL, 3, beta, -tiny, 1.0f), PREFLOSS_OK);
    assert_status(prefloss_ipo_general_loss(l2, c2, r2, pc, pr, NULL, NULL, NULL, 3, beta,
                                            0x1p-23f - tiny, 1.0f + 0x1p-23f), PREFLOSS_OK);
    for (i = 0; i < 3; i++) {
        assert_float_bits_equal(l1[i], l2[i]);
        assert_float_bits_equal(c1[i], c2[i]);
        assert_float_bits_equal(r1[i], r2[i]);
    }

    /* Different exact differences differ, even by 2^-30: (0, 2) gives loss
     * 0, (-2^-30, 2) gives (2^-31)^2 = 2^-62 and g = 2 * 0.5 * (-2^-31). */
    assert_status(prefloss_ipo_general_loss(l1, c1, NULL, pc, pr, NULL, NULL, NULL, 3, beta, 0.0f, 2.0f), PREFLOSS_OK);
    assert_status(prefloss_ipo_general_loss(l2, c2, NULL, pc, pr, NULL, NULL, NULL, 3, beta, -tiny, 2.0f),
                  PREFLOSS_OK);
    for (i = 0; i < 3; i++) {
        assert_true(l1[i] == 0.0f && c1[i] == 0.0f);
        assert_float_bits_equal(l2[i], 0x1p-62f);
        assert_float_bits_equal(c2[i], -0x1p-31f);
    }
}

/* The seed's eq. 16 writes the target as (a1 + a2)/2; the documented loss
 * uses the half-width (a2 - a1)/2. They agree for a1 = 0 only: with
 * a1 = -1, a2 = 1 the target is 1 (not 0), so a pair with beta h = 1 has
 * loss 0. */
static void test_general_target_is_half_width(void **state)
{
    float pc = -1.0f, pr = -3.0f, l, dc; /* h = 2 */
    (void)state;
    assert_status(prefloss_ipo_general_loss(&l, &dc, NULL, &pc, &pr, NULL, NULL, NULL, 1, 0.5f, -1.0f, 1.0f),
                  PREFLOSS_OK);
    assert_true(l == 0.0f && dc == 0.0f);
    assert_status(prefloss_ipo_general_loss(&l, &dc, NULL, &pc, &pr, NULL, NULL, NULL, 1, 0.5f, 2.0f, 2.0f),
                  PREFLOSS_OK);
    assert_float_bits_equal(l, 1.0f); /* target 0: (1 - 0)^2 */
    assert_float_bits_equal(dc, 1.0f); /* 2 * 0.5 * 1 */
}

/* The general form with other intervals: loss matches the reference
 * formula, e.g. a1 = -1, a2 = 3 (target 2), and a1 = a2 = 0 (target 0: the
 * loss is (beta h)^2). */
static void test_general_other_intervals(void **state)
{
    enum { N = 300 };
    const float a1s[3] = { -1.0f, 0.0f, 0.3f }, a2s[3] = { 3.0f, 0.0f, 0.7f };
    float pc[N], pr[N], rc[N], rr[N], l[N], dc[N], dr[N];
    tu_rng r = tu_rng_seed(0xa1);
    size_t a, i;
    (void)state;
    for (a = 0; a < 3; a++) {
        const float beta = 0.2f;
        for (i = 0; i < N; i++) {
            rc[i] = (float)tu_range(&r, -1000.0, -50.0);
            rr[i] = (float)tu_range(&r, -1000.0, -50.0);
            pc[i] = rc[i] + (float)tu_range(&r, -30.0, 30.0);
            pr[i] = rr[i] + (float)tu_range(&r, -30.0, 30.0);
        }
        assert_status(prefloss_ipo_general_loss(l, dc, dr, pc, pr, rc, rr, NULL, N, beta, a1s[a], a2s[a]),
                      PREFLOSS_OK);
        for (i = 0; i < N; i++) {
            const ld h = ref_h(pc[i], pr[i], rc[i], rr[i]);
            const ld rl = ref_ipog_loss(h, beta, a1s[a], a2s[a]);
            const ld rg = ref_ipog_g(h, beta, a1s[a], a2s[a]);
            if (ref_is_normal_float(rl))
                assert_true(err_ulp(l[i], rl) <= 4.0L + ref_ipog_loss_kappa(h, beta, a1s[a], a2s[a]) / 2);
            if (ref_is_normal_float(rg)) {
                assert_true(err_ulp(dc[i], rg) <= 4.0L + ref_ipog_g_kappa(h, beta, a1s[a], a2s[a]) / 2);
                assert_float_bits_equal(dr[i], -dc[i]);
            }
        }
    }
}

/* Gradients are the derivative of the library's own loss (central
 * differences, dyadic inputs), for both forms, with random dlosses, and
 * agree with the analytic reference within the accuracy budget. */
static void test_gradients_match_finite_differences(void **state)
{
    enum { N = 16 };
    const double step = 1.0 / 256.0;
    float pc[N], pr[N], rc[N], rr[N], dl[N], l[N], dc[N], dr[N], lp[N], lm[N];
    tu_rng r = tu_rng_seed(0xfd1);
    int form, reffree;
    size_t k, i;
    (void)state;

    for (form = 0; form < 2; form++)
        for (reffree = 0; reffree < 2; reffree++) {
            const float beta = form ? 0.75f : 0.125f, a1 = -0.5f, a2 = 2.0f;
            const float *prc = reffree ? NULL : rc, *prr = reffree ? NULL : rr;
#define IPO_CALL(L, C, R, D)                                                           \
    (form ? prefloss_ipo_general_loss(L, C, R, pc, pr, prc, prr, D, N, beta, a1, a2)  \
          : prefloss_ipo_loss(L, C, R, pc, pr, prc, prr, D, N, beta))
            for (i = 0; i < N; i++) {
                rc[i] = tu_dyadic(&r, -6.0, -1.0);
                rr[i] = tu_dyadic(&r, -6.0, -1.0);
                pc[i] = tu_dyadic(&r, -6.0, -1.0);
                pr[i] = tu_dyadic(&r, -6.0, -1.0);
                dl[i] = (float)tu_range(&r, -2.0, 2.0);
            }
            assert_status(IPO_CALL(l, dc, dr, dl), PREFLOSS_OK);
            for (k = 0; k < 2 * N; k++) {
                float *x = (k < N) ? &pc[k] : &pr[k - N];
                const float g = (k < N) ? dc[k] : dr[k - N];
                const size_t j = k % N;
                const float saved = *x;
                double fd;
                ld h, refg, kap;
                *x = (float)((double)saved + step);
                assert_status(IPO_CALL(lp, NULL, NULL, NULL), PREFLOSS_OK);
                *x = (float)((double)saved - step);
                assert_status(IPO_CALL(lm, NULL, NULL, NULL), PREFLOSS_OK);
                *x = saved;
                fd = (double)dl[j] * ((double)lp[j] - (double)lm[j]) / (2.0 * step);
                assert_close(g, fd, 1e-3 * fabs(fd) + 1e-6 +
                             fabs((double)dl[j]) * 4.0 * (double)FLT_EPSILON *
                             fmax(fabs((double)lp[j]), fabs((double)lm[j])) / (2.0 * step));

                h = reffree ? (ld)pc[j] - (ld)pr[j] : ref_h(pc[j], pr[j], rc[j], rr[j]);
                refg = (form ? ref_ipog_g(h, beta, a1, a2) : ref_ipo_g(h, beta)) * (ld)dl[j] *
                       (k < N ? 1.0L : -1.0L);
                kap = form ? ref_ipog_g_kappa(h, beta, a1, a2) : ref_ipo_g_kappa(h, beta);
                if (ref_is_normal_float(refg))
                    assert_true(err_ulp(g, refg) <= 4.0L + kap / 2.0L);
            }
#undef IPO_CALL
        }
}

/* Non-finite inputs: NaN in exactly that pair's outputs (only the
 * gradients for a bad dlosses), the others exact, status NONFINITE. */
/* beta h and the half width (alpha2 - alpha1)/2 ~ 2^126 cancelling down to
 * y ~ 2^74: h carried to ~2^-104 and beta h exactly, so y keeps its digits
 * and y^2 = 3.6e44 overflows to +inf (a fuzzed input gave 0: h rounded to
 * double had lost y entirely). */
static void test_general_offset_cancels_large_h(void **state)
{
    const float pc = -0x1.e6abd6p+10f, pr = -0x1.08f30ep+73f, rc = -0x1.08f30ep+73f, rr = 0x1.c363ccp+127f;
    float l = 0.0f, c = 0.0f, r = 0.0f;
    /* y = beta h - (alpha2 - alpha1)/2, summed where it is exact in long double */
    long double y = 0.5L * ((((long double)rr - (long double)0x1.c363ccp+127f) + ((long double)-rc - pr)) + pc);
    (void)state;
    assert_int_equal(prefloss_ipo_general_loss(&l, &c, &r, &pc, &pr, &rc, &rr, NULL, 1, 0.5f, 0.0f,
                                               0x1.c363ccp+127f), PREFLOSS_OK);
    assert_true(y * y > (long double)FLT_MAX);
    assert_true(isinf(l) && l > 0.0f);
    assert_true(err_ulp(c, 2.0L * 0.5L * y) <= 4.0L);   /* dL/dpc = 2 beta y */
}

static void test_nonfinite_inputs(void **state)
{
    enum { N = 5, BAD = 3 };
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    float in[5][N];
    float l0[N], c0[N], r0[N], l[N], c[N], rj[N];
    size_t pos, v, i;
    int form;
    (void)state;
    for (i = 0; i < N; i++) {
        in[0][i] = -10.0f - (float)i;
        in[1][i] = -11.0f + (float)i;
        in[2][i] = -10.5f;
        in[3][i] = -10.25f;
        in[4][i] = 0.5f + (float)i;
    }
    for (form = 0; form < 2; form++) {
#define IPO_CALL2(L, C, R)                                                                         \
    (form ? prefloss_ipo_general_loss(L, C, R, in[0], in[1], in[2], in[3], in[4], N, 0.5f, 0.0f, 1.0f) \
          : prefloss_ipo_loss(L, C, R, in[0], in[1], in[2], in[3], in[4], N, 0.5f))
        assert_status(IPO_CALL2(l0, c0, r0), PREFLOSS_OK);
        for (pos = 0; pos < 5; pos++)
            for (v = 0; v < 3; v++) {
                const float saved = in[pos][BAD];
                in[pos][BAD] = bad[v];
                assert_status(IPO_CALL2(l, c, rj), PREFLOSS_NONFINITE);
                in[pos][BAD] = saved;
                for (i = 0; i < N; i++) {
                    if (i == BAD) {
                        if (pos < 4) assert_nan(l[i]);
                        else assert_float_bits_equal(l[i], l0[i]);
                        assert_nan(c[i]);
                        assert_nan(rj[i]);
                    } else {
                        assert_float_bits_equal(l[i], l0[i]);
                        assert_float_bits_equal(c[i], c0[i]);
                        assert_float_bits_equal(rj[i], r0[i]);
                    }
                }
            }
#undef IPO_CALL2
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_values),
        cmocka_unit_test(test_accurate_near_target),
        cmocka_unit_test(test_trl_is_general_over_beta_squared),
        cmocka_unit_test(test_general_depends_on_exact_alpha_difference),
        cmocka_unit_test(test_general_target_is_half_width),
        cmocka_unit_test(test_general_other_intervals),
        cmocka_unit_test(test_gradients_match_finite_differences),
        cmocka_unit_test(test_general_offset_cancels_large_h),
        cmocka_unit_test(test_nonfinite_inputs),
    };
    return cmocka_run_group_tests_name("ipo", tests, NULL, NULL);
}
