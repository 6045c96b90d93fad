/*
 * test_dpo.c — prefloss_dpo_loss: the DPO sigmoid loss with optional label
 * smoothing (cDPO), reference-free mode, worked values, gradients against
 * finite differences and the analytic reference, and the seed's Remark 3.1
 * (swapping chosen and rejected flips the label).
 *
 *     z = beta * ((pc - rc) - (pr - rr))
 *     loss = -(1 - eps) log sigma(z) - eps log sigma(-z)
 *     dchosen = -drejected = -beta (sigma(-z) - eps) * dlosses
 */
#include "testutil.h"
#include "reference.h"

/* Within n ulp of a long-double value (the value must be a normal float). */
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

static int dpo1(float *loss, float *dc, float *dr, float pc, float pr,
                float rc, float rr, float beta, float eps)
{
    return prefloss_dpo_loss(loss, dc, dr, &pc, &pr, &rc, &rr, NULL, 1, beta, eps);
}

/* Budget for the worked examples: (4 + kappa/2) ulp with kappa < 2 here. */
#define GOLDEN_ULP 5.0

/* Worked examples (values from 200-bit arithmetic on the float inputs;
 * note beta = 0.1f = 0.100000001490116...):
 *
 *   pc=-10 pr=-12 rc=-11 rr=-11, beta=0.1: h=2, z=0.2
 *       loss = softplus(-0.2) = 0.598138868039992607  (0.598138869381... for
 *       the real number 0.1), g = -beta sigma(-z) = -0.0450166008657861381
 *   the same with eps = 0.1: loss 0.618138868636039059, g -0.035016600567762912
 *   reference-free pc=-5 pr=-45, beta=1: z=40, loss = e^-40 (not 0!)
 *       = 4.24835425529158899e-18, g = -4.24835425529158898e-18
 *   pc=-30 pr=-10 rc=rr=-20, beta=0.5: z=-10, loss 10.0000453988992169,
 *       g = -0.499977301065648783
 *   pc=-1500.25 pr=-1320.75 rc=-1500.5 rr=-1320.5, beta=0.1: h=0.5 exactly
 *       (no cancellation error), loss 0.668459647650068550,
 *       g = -0.0487502610593996383 */
static void test_golden_values(void **state)
{
    float l, dc, dr;
    (void)state;

    assert_status(dpo1(&l, &dc, &dr, -10.0f, -12.0f, -11.0f, -11.0f, 0.1f, 0.0f), PREFLOSS_OK);
    assert_within_ulp(l, 0.598138868039992607L, GOLDEN_ULP);
    assert_within_ulp(dc, -0.0450166008657861381L, GOLDEN_ULP);
    assert_within_ulp(dr, 0.0450166008657861381L, GOLDEN_ULP);

    assert_status(dpo1(&l, &dc, &dr, -10.0f, -12.0f, -11.0f, -11.0f, 0.1f, 0.1f), PREFLOSS_OK);
    assert_within_ulp(l, 0.618138868636039059L, GOLDEN_ULP);
    assert_within_ulp(dc, -0.035016600567762912L, GOLDEN_ULP);

    {
        float pc = -5.0f, pr = -45.0f;
        assert_status(prefloss_dpo_loss(&l, &dc, &dr, &pc, &pr, NULL, NULL, NULL, 1, 1.0f, 0.0f), PREFLOSS_OK);
        assert_within_ulp(l, 4.24835425529158899e-18L, 4.0 + 40.0 / 2 /* kappa = z = 40 */);
        assert_within_ulp(dc, -4.24835425529158898e-18L, 4.0 + 40.0 / 2 /* kappa = z = 40 */);
        assert_within_ulp(dr, 4.24835425529158898e-18L, 4.0 + 40.0 / 2 /* kappa = z = 40 */);
    }

    assert_status(dpo1(&l, &dc, &dr, -30.0f, -10.0f, -20.0f, -20.0f, 0.5f, 0.0f), PREFLOSS_OK);
    assert_within_ulp(l, 10.0000453988992169L, GOLDEN_ULP);
    assert_within_ulp(dc, -0.499977301065648783L, GOLDEN_ULP);

    assert_status(dpo1(&l, &dc, &dr, -1500.25f, -1320.75f, -1500.5f, -1320.5f, 0.1f, 0.0f), PREFLOSS_OK);
    assert_within_ulp(l, 0.668459647650068550L, GOLDEN_ULP);
    assert_within_ulp(dc, -0.0487502610593996383L, GOLDEN_ULP);
}

/* At z = 0 every pair is a coin flip: loss = log 2 for any eps, and
 * g = -beta (1/2 - eps); at eps = 1/2 the gradient vanishes exactly. */
static void test_zero_margin(void **state)
{
    const float eps[3] = { 0.0f, 0.25f, 0.5f };
    size_t i;
    (void)state;
    for (i = 0; i < 3; i++) {
        float l, dc, dr;
        assert_status(dpo1(&l, &dc, &dr, -7.0f, -9.0f, -3.0f, -5.0f, 0.3f, eps[i]), PREFLOSS_OK);
        assert_within_ulp(l, logl(2.0L), 1);
        if (eps[i] == 0.5f) {
            assert_true(dc == 0.0f && dr == 0.0f);
        } else {
            assert_within_ulp(dc, -(ld)0.3f * (0.5L - (ld)eps[i]), 1);
        }
    }
}

/* For z >> 17 the loss is ~e^-z (1 + e^-z rounds to 1 in float, but the
 * loss must not become 0), all the way down to the subnormal range. */
static void test_large_z_does_not_underflow_early(void **state)
{
    float z;
    (void)state;
    for (z = 17.0f; z <= 85.0f; z += 4.0f) {
        float pc = z, pr = 0.0f, l, dc, dr;
        assert_status(prefloss_dpo_loss(&l, &dc, &dr, &pc, &pr, NULL, NULL, NULL, 1, 1.0f, 0.0f), PREFLOSS_OK);
        /* kappa = z for the loss: the budget is 4 + z/2 ulp */
        assert_within_ulp(l, ref_dpo_loss((ld)z, 0.0f), 4.0 + (double)z / 2.0);
        assert_within_ulp(dc, ref_dpo_g((ld)z, 1.0f, 0.0f), 4.0 + (double)z / 2.0);
    }
}

/* Deep in the tail the gradient's unscaled factor sigma(-z) is subnormal,
 * but the written output g * dlosses (or beta sigma(-z) for a large beta)
 * is a normal float again; it must still meet its (4 + kappa/2) budget
 * (kappa = z sigma(z) ~ z). E.g. z = 93, dlosses = 1000:
 * dchosen = -1000 sigma(-93) = -4.07955866718e-38; and beta = 100,
 * h = 0.93f, dlosses = 10. */
static void test_tail_gradient_scaled_into_normal_range(void **state)
{
    const float zs[4] = { 89.0f, 91.0f, 93.0f, 95.0f };
    size_t i;
    (void)state;
    for (i = 0; i < 4; i++) {
        float pc = zs[i], pr = 0.0f, dl = 1000.0f, dc, dr;
        ld z = (ld)zs[i], ref = ref_dpo_g(z, 1.0f, 0.0f) * 1000.0L;
        assert_status(prefloss_dpo_loss(NULL, &dc, &dr, &pc, &pr, NULL, NULL, &dl, 1, 1.0f, 0.0f), PREFLOSS_OK);
        if (ref_is_normal_float(ref)) {
            assert_within_ulp(dc, ref, 4.0 + (double)(ref_dpo_g_kappa(z, 0.0f) / 2));
            assert_within_ulp(dr, -ref, 4.0 + (double)(ref_dpo_g_kappa(z, 0.0f) / 2));
        }
        pc = zs[i] / 100.0f;
        dl = 10.0f;
        z = 100.0L * (ld)pc;
        ref = ref_dpo_g(z, 100.0f, 0.0f) * 10.0L;
        assert_status(prefloss_dpo_loss(NULL, &dc, NULL, &pc, &pr, NULL, NULL, &dl, 1, 100.0f, 0.0f), PREFLOSS_OK);
        if (ref_is_normal_float(ref))
            assert_within_ulp(dc, ref, 4.0 + (double)(ref_dpo_g_kappa(z, 0.0f) / 2));
    }
}

/* Reference-free (both reference pointers NULL) is rc = rr = 0:
 * bit-identical to passing zero references. */
static void test_reference_free_is_zero_reference(void **state)
{
    enum { N = 64 };
    float pc[N], pr[N], z0[N], l1[N], l2[N], c1[N], c2[N], r1[N], r2[N];
    tu_rng r = tu_rng_seed(0xf4ee);
    size_t i;
    (void)state;
    for (i = 0; i < N; i++) {
        pc[i] = (float)tu_range(&r, -300.0, -1.0);
        pr[i] = (float)tu_range(&r, -300.0, -1.0);
        z0[i] = 0.0f;
    }
    assert_status(prefloss_dpo_loss(l1, c1, r1, pc, pr, NULL, NULL, NULL, N, 0.05f, 0.1f), PREFLOSS_OK);
    assert_status(prefloss_dpo_loss(l2, c2, r2, pc, pr, z0, z0, NULL, N, 0.05f, 0.1f), PREFLOSS_OK);
    for (i = 0; i < N; i++) {
        assert_float_bits_equal(l1[i], l2[i]);
        assert_float_bits_equal(c1[i], c2[i]);
        assert_float_bits_equal(r1[i], r2[i]);
        assert_within_ulp(l1[i], ref_dpo_loss((ld)0.05f * ((ld)pc[i] - (ld)pr[i]), 0.1f), 4);
    }
}

/* Outputs are independent: asking for the loss alone, or the gradients
 * alone, gives the same bits as asking for everything. drejected is exactly
 * -dchosen, and dlosses of all ones is the same as dlosses == NULL. */
static void test_optional_outputs_and_unit_upstream(void **state)
{
    enum { N = 33 };
    float pc[N], pr[N], rc[N], rr[N], ones[N];
    float l[N], dc[N], dr[N], l2[N], dc2[N], dr2[N];
    tu_rng r = tu_rng_seed(0x0b7);
    size_t i;
    (void)state;
    for (i = 0; i < N; i++) {
        rc[i] = (float)tu_range(&r, -900.0, -50.0);
        rr[i] = (float)tu_range(&r, -900.0, -50.0);
        pc[i] = rc[i] + (float)tu_range(&r, -5.0, 5.0);
        pr[i] = rr[i] + (float)tu_range(&r, -5.0, 5.0);
        ones[i] = 1.0f;
    }
    assert_status(prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, NULL, N, 0.1f, 0.25f), PREFLOSS_OK);
    tu_fill_sentinel(l2, sizeof l2);
    tu_fill_sentinel(dc2, sizeof dc2);
    tu_fill_sentinel(dr2, sizeof dr2);
    assert_status(prefloss_dpo_loss(l2, NULL, NULL, pc, pr, rc, rr, NULL, N, 0.1f, 0.25f), PREFLOSS_OK);
    assert_status(prefloss_dpo_loss(NULL, dc2, NULL, pc, pr, rc, rr, NULL, N, 0.1f, 0.25f), PREFLOSS_OK);
    assert_status(prefloss_dpo_loss(NULL, NULL, dr2, pc, pr, rc, rr, ones, N, 0.1f, 0.25f), PREFLOSS_OK);
    for (i = 0; i < N; i++) {
        assert_float_bits_equal(l2[i], l[i]);
        assert_float_bits_equal(dc2[i], dc[i]);
        assert_float_bits_equal(dr2[i], dr[i]);
        assert_float_bits_equal(dr[i], -dc[i]);
    }
    /* all outputs NULL is a valid (if pointless) call */
    assert_status(prefloss_dpo_loss(NULL, NULL, NULL, pc, pr, rc, rr, NULL, N, 0.1f, 0.25f), PREFLOSS_OK);
}

/* Gradients are the derivative of the library's own loss: a central
 * difference of sum_i dlosses[i] * loss_i with respect to pc[k] (and pr[k])
 * matches dchosen[k] (drejected[k]) to ~1e-3, and the analytic reference to
 * within the accuracy budget. With and without references and smoothing. */
static void test_gradients_match_finite_differences(void **state)
{
    enum { N = 24 };
    const float eps_list[3] = { 0.0f, 0.1f, 0.5f };
    const float beta_list[3] = { 0.25f, 1.0f, 2.0f };
    const double step = 1.0 / 128.0; /* dyadic inputs: x +- step is exact */
    float pc[N], pr[N], rc[N], rr[N], dl[N], l[N], dc[N], dr[N], lp[N], lm[N];
    tu_rng r = tu_rng_seed(0xfd);
    size_t e, b, i, k;
    int reffree;
    (void)state;

    for (reffree = 0; reffree < 2; reffree++)
        for (e = 0; e < 3; e++)
            for (b = 0; b < 3; b++) {
                const float beta = beta_list[b], eps = eps_list[e];
                const float *prc = reffree ? NULL : rc, *prr = reffree ? NULL : rr;
                for (i = 0; i < N; i++) {
                    rc[i] = tu_dyadic(&r, -8.0, -1.0);
                    rr[i] = tu_dyadic(&r, -8.0, -1.0);
                    pc[i] = tu_dyadic(&r, -8.0, -1.0);
                    pr[i] = tu_dyadic(&r, -8.0, -1.0);
                    dl[i] = (float)tu_range(&r, -2.0, 2.0);
                }
                assert_status(prefloss_dpo_loss(l, dc, dr, pc, pr, prc, prr, dl, N, beta, eps), PREFLOSS_OK);
                for (k = 0; k < 2 * N; k++) {
                    float *x = (k < N) ? &pc[k] : &pr[k - N];
                    const float g = (k < N) ? dc[k] : dr[k - N];
                    const size_t j = k % N;
                    const float saved = *x;
                    double fd;
                    ld z, refg;
                    *x = (float)((double)saved + step);
                    assert_status(prefloss_dpo_loss(lp, NULL, NULL, pc, pr, prc, prr, NULL, N, beta, eps), PREFLOSS_OK);
                    *x = (float)((double)saved - step);
                    assert_status(prefloss_dpo_loss(lm, NULL, NULL, pc, pr, prc, prr, NULL, N, beta, eps), PREFLOSS_OK);
                    *x = saved;
                    /* only pair j changes */
                    fd = (double)dl[j] * ((double)lp[j] - (double)lm[j]) / (2.0 * step);
                    /* tolerance: 1e-3 relative, plus the rounding of the two
                     * float losses amplified by 1/(2 step) */
                    assert_close(g, fd, 1e-3 * fabs(fd) + 1e-6 +
                                 fabs((double)dl[j]) * 4.0 * (double)FLT_EPSILON *
                                 fmax(fabs((double)lp[j]), fabs((double)lm[j])) / (2.0 * step));

                    z = (ld)beta * (reffree ? (ld)pc[j] - (ld)pr[j] : ref_h(pc[j], pr[j], rc[j], rr[j]));
                    refg = ref_dpo_g(z, beta, eps) * (ld)dl[j] * (k < N ? 1.0L : -1.0L);
                    if (ref_is_normal_float(refg))
                        assert_true(err_ulp(g, refg) <= 4.0L + ref_dpo_g_kappa(z, eps) / 2.0L);
                }
            }
}

/* Remark 3.1 of the seed: swapping chosen and rejected is z -> -z, i.e. the
 * preference label flips. With eps = 0:
 *     loss(swapped) - loss(original) = softplus(z) - softplus(-z) = z
 *     dchosen(original) + dchosen(swapped) = -beta sigma(-z) - beta sigma(z) = -beta
 * (the two label probabilities sigma(z) and sigma(-z) sum to one). */
static void test_swap_flips_label(void **state)
{
    enum { N = 200 };
    float pc[N], pr[N], rc[N], rr[N];
    float l0[N], c0[N], l1[N], c1[N];
    const float beta = 0.125f;
    tu_rng r = tu_rng_seed(0x5a9);
    size_t i;
    (void)state;
    for (i = 0; i < N; i++) {
        rc[i] = (float)tu_range(&r, -500.0, -50.0);
        rr[i] = (float)tu_range(&r, -500.0, -50.0);
        pc[i] = rc[i] + (float)tu_range(&r, -40.0, 40.0);
        pr[i] = rr[i] + (float)tu_range(&r, -40.0, 40.0);
    }
    assert_status(prefloss_dpo_loss(l0, c0, NULL, pc, pr, rc, rr, NULL, N, beta, 0.0f), PREFLOSS_OK);
    assert_status(prefloss_dpo_loss(l1, c1, NULL, pr, pc, rr, rc, NULL, N, beta, 0.0f), PREFLOSS_OK);
    for (i = 0; i < N; i++) {
        const ld z = (ld)beta * ref_h(pc[i], pr[i], rc[i], rr[i]);
        const ld big = fabsl(z) > 1 ? fabsl(z) : 1.0L;
        /* each loss is within (4 + kappa/2) ulp; kappa <= |z| + 1 here */
        const ld tol = big * ldexpl(1.0L, -23) * (8.0L + fabsl(z));
        assert_true(fabsl(((ld)l1[i] - (ld)l0[i]) - z) <= tol);
        assert_true(fabsl(((ld)c0[i] + (ld)c1[i]) + (ld)beta) <=
                    (ld)beta * ldexpl(1.0L, -23) * (8.0L + fabsl(z)));
    }
}

/* Label smoothing as a mixture of the two labels:
 *     loss_eps(original) = (1 - eps) loss_0(original) + eps loss_0(swapped)
 * and at eps = 1/2 the loss is symmetric under the swap. */
static void test_label_smoothing_is_label_mixture(void **state)
{
    enum { N = 200 };
    const float eps_list[4] = { 0.1f, 0.25f, 0.4f, 0.5f };
    float pc[N], pr[N], rc[N], rr[N], la[N], lb[N], le[N], ls[N];
    const float beta = 0.1f;
    tu_rng r = tu_rng_seed(0xe95);
    size_t i, e;
    (void)state;
    for (i = 0; i < N; i++) {
        rc[i] = (float)tu_range(&r, -2000.0, -50.0);
        rr[i] = (float)tu_range(&r, -2000.0, -50.0);
        pc[i] = rc[i] + (float)tu_range(&r, -60.0, 60.0);
        pr[i] = rr[i] + (float)tu_range(&r, -60.0, 60.0);
    }
    assert_status(prefloss_dpo_loss(la, NULL, NULL, pc, pr, rc, rr, NULL, N, beta, 0.0f), PREFLOSS_OK);
    assert_status(prefloss_dpo_loss(lb, NULL, NULL, pr, pc, rr, rc, NULL, N, beta, 0.0f), PREFLOSS_OK);
    for (e = 0; e < 4; e++) {
        const float eps = eps_list[e];
        assert_status(prefloss_dpo_loss(le, NULL, NULL, pc, pr, rc, rr, NULL, N, beta, eps), PREFLOSS_OK);
        assert_status(prefloss_dpo_loss(ls, NULL, NULL, pr, pc, rr, rc, NULL, N, beta, eps), PREFLOSS_OK);
        for (i = 0; i < N; i++) {
            const ld mix = (1.0L - (ld)eps) * (ld)la[i] + (ld)eps * (ld)lb[i];
            /* both terms positive: no cancellation; few-ulp agreement, plus
             * the kappa allowance of the eps = 0 losses (kappa <= |z| + 1) */
            const ld z = fabsl((ld)beta * ref_h(pc[i], pr[i], rc[i], rr[i]));
            assert_true(err_ulp(le[i], mix) <= 8.0L + z);
            if (eps == 0.5f) assert_true(err_ulp(ls[i], (ld)le[i]) <= 8.0L);
        }
    }
}

/* The upstream gradient scales the gradients (loss untouched); a zero
 * upstream gradient gives zero gradients. */
static void test_upstream_gradient_scales(void **state)
{
    float pc[4] = { -10.0f, -20.0f, -30.0f, -40.0f };
    float pr[4] = { -12.0f, -18.0f, -35.0f, -40.0f };
    float dl[4] = { 2.0f, -0.5f, 0.0f, 1024.0f };
    float l[4], dc[4], dr[4], l1[4], dc1[4];
    size_t i;
    (void)state;
    assert_status(prefloss_dpo_loss(l, dc, dr, pc, pr, NULL, NULL, dl, 4, 0.2f, 0.1f), PREFLOSS_OK);
    assert_status(prefloss_dpo_loss(l1, dc1, NULL, pc, pr, NULL, NULL, NULL, 4, 0.2f, 0.1f), PREFLOSS_OK);
    for (i = 0; i < 4; i++) {
        assert_float_bits_equal(l[i], l1[i]);
        /* dl is a power of two or zero here, so the product is exact */
        assert_true(dc[i] == dl[i] * dc1[i]);
        assert_true(dr[i] == -dc[i]);
    }
}

/* Non-finite log-probs: NaN in exactly that pair's outputs, the other pairs
 * exact, status NONFINITE. A non-finite dlosses[i] makes only that pair's
 * gradients NaN (its loss stays exact). */
static void test_nonfinite_inputs(void **state)
{
    enum { N = 5, BAD = 2 };
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    float in[5][N];
    float l0[N], c0[N], r0[N], l[N], c[N], rj[N];
    size_t pos, v, i;
    (void)state;
    for (i = 0; i < N; i++) {
        in[0][i] = -100.0f - (float)i;
        in[1][i] = -101.0f + (float)i;
        in[2][i] = -100.5f;
        in[3][i] = -100.25f;
        in[4][i] = 1.0f + (float)i;
    }
    assert_status(prefloss_dpo_loss(l0, c0, r0, in[0], in[1], in[2], in[3], in[4], N, 0.5f, 0.2f), PREFLOSS_OK);
    for (pos = 0; pos < 5; pos++)
        for (v = 0; v < 3; v++) {
            const float saved = in[pos][BAD];
            in[pos][BAD] = bad[v];
            assert_status(prefloss_dpo_loss(l, c, rj, in[0], in[1], in[2], in[3], in[4], N, 0.5f, 0.2f),
                          PREFLOSS_NONFINITE);
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_values),
        cmocka_unit_test(test_zero_margin),
        cmocka_unit_test(test_large_z_does_not_underflow_early),
        cmocka_unit_test(test_tail_gradient_scaled_into_normal_range),
        cmocka_unit_test(test_reference_free_is_zero_reference),
        cmocka_unit_test(test_optional_outputs_and_unit_upstream),
        cmocka_unit_test(test_gradients_match_finite_differences),
        cmocka_unit_test(test_swap_flips_label),
        cmocka_unit_test(test_label_smoothing_is_label_mixture),
        cmocka_unit_test(test_upstream_gradient_scales),
        cmocka_unit_test(test_nonfinite_inputs),
    };
    return cmocka_run_group_tests_name("dpo", tests, NULL, NULL);
}
