/*
 * test_bt.c — the Bradley–Terry reward-model loss:
 *
 *     x = sw - sl - m
 *     loss = -log sigma(x) + c (sw + sl)^2
 *     dsw = -sigma(-x) + 2c(sw + sl),   dsl = +sigma(-x) + 2c(sw + sl)
 *
 * margins NULL means m = 0; dlosses NULL means all ones.
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

/* Worked examples (200-bit arithmetic):
 *   sw = 1.5, sl = -0.5: x = 2, loss = softplus(-2) = 0.126928011042972496,
 *       dsw = -sigma(-2) = -0.119202922022117556, dsl = +0.119202922022117556
 *   margin 0.5: x = 1.5, loss 0.201413277982752410, dsw -0.182425523806356340
 *   margin 0.5, c = 0.01f: loss 0.211413277759234992,
 *       dsw -0.162425524253391176, dsl 0.202425523359321505 */
static void test_golden_values(void **state)
{
    float sw = 1.5f, sl = -0.5f, m = 0.5f, l, dw, dlo;
    (void)state;

    assert_status(prefloss_bt_loss(&l, &dw, &dlo, &sw, &sl, NULL, NULL, 1, 0.0f), PREFLOSS_OK);
    assert_within_ulp(l, 0.126928011042972496L, GOLDEN_ULP);
    assert_within_ulp(dw, -0.119202922022117556L, GOLDEN_ULP);
    assert_within_ulp(dlo, 0.119202922022117556L, GOLDEN_ULP);

    assert_status(prefloss_bt_loss(&l, &dw, &dlo, &sw, &sl, &m, NULL, 1, 0.0f), PREFLOSS_OK);
    assert_within_ulp(l, 0.201413277982752410L, GOLDEN_ULP);
    assert_within_ulp(dw, -0.182425523806356340L, GOLDEN_ULP);
    assert_within_ulp(dlo, 0.182425523806356340L, GOLDEN_ULP);

    assert_status(prefloss_bt_loss(&l, &dw, &dlo, &sw, &sl, &m, NULL, 1, 0.01f), PREFLOSS_OK);
    /* with centering the budget adds one ulp for the sum of the two terms */
    assert_within_ulp(l, 0.211413277759234992L, GOLDEN_ULP + 1.0);
    assert_within_ulp(dw, -0.162425524253391176L, GOLDEN_ULP + 1.5);
    assert_within_ulp(dlo, 0.202425523359321505L, GOLDEN_ULP + 1.5);
}

/* margins == NULL is m = 0 (bit-identical to a zero margin buffer), and a
 * margin m shifts the argument: loss(sw, sl, m) == loss(sw - m, sl, 0)
 * whenever sw - m is exact. */
static void test_margins(void **state)
{
    enum { N = 64 };
    float sw[N], sl[N], m[N], z0[N], sw2[N];
    float l1[N], w1[N], o1[N], l2[N], w2[N], o2[N];
    tu_rng r = tu_rng_seed(0x3a6);
    size_t i;
    (void)state;
    for (i = 0; i < N; i++) {
        sw[i] = tu_dyadic(&r, -10.0, 10.0);
        sl[i] = tu_dyadic(&r, -10.0, 10.0);
        m[i] = tu_dyadic(&r, 0.0, 4.0);
        sw2[i] = sw[i] - m[i]; /* exact: dyadic with few bits */
        z0[i] = 0.0f;
    }
    assert_status(prefloss_bt_loss(l1, w1, o1, sw, sl, NULL, NULL, N, 0.0f), PREFLOSS_OK);
    assert_status(prefloss_bt_loss(l2, w2, o2, sw, sl, z0, NULL, N, 0.0f), PREFLOSS_OK);
    for (i = 0; i < N; i++) {
        assert_float_bits_equal(l1[i], l2[i]);
        assert_float_bits_equal(w1[i], w2[i]);
        assert_float_bits_equal(o1[i], o2[i]);
    }
    assert_status(prefloss_bt_loss(l1, w1, o1, sw, sl, m, NULL, N, 0.0f), PREFLOSS_OK);
    assert_status(prefloss_bt_loss(l2, w2, o2, sw2, sl, NULL, NULL, N, 0.0f), PREFLOSS_OK);
    for (i = 0; i < N; i++) {
        assert_float_bits_equal(l1[i], l2[i]);
        assert_float_bits_equal(w1[i], w2[i]);
        assert_float_bits_equal(o1[i], o2[i]);
        assert_within_ulp(l1[i], ref_bt_loss(sw[i], sl[i], m[i], 0.0f),
                          4.0 + (double)ref_bt_loss_kappa(sw[i], sl[i], m[i], 0.0f) / 2.0);
    }
}

/* The centering coefficient adds c (sw + sl)^2 to the loss and
 * 2c (sw + sl) to both gradients; c = 0 disables it. */
static void test_centering_coefficient(void **state)
{
    enum { N = 64 };
    const float cs[3] = { 0.01f, 0.5f, 3.0f };
    float sw[N], sl[N], l0[N], w0[N], o0[N], l[N], w[N], o[N];
    tu_rng r = tu_rng_seed(0xce7);
    size_t i, k;
    (void)state;
    for (i = 0; i < N; i++) {
        sw[i] = (float)tu_range(&r, -6.0, 6.0);
        sl[i] = (float)tu_range(&r, -6.0, 6.0);
    }
    assert_status(prefloss_bt_loss(l0, w0, o0, sw, sl, NULL, NULL, N, 0.0f), PREFLOSS_OK);
    for (k = 0; k < 3; k++) {
        const float c = cs[k];
        assert_status(prefloss_bt_loss(l, w, o, sw, sl, NULL, NULL, N, c), PREFLOSS_OK);
        for (i = 0; i < N; i++) {
            const ld s = (ld)sw[i] + (ld)sl[i];
            const ld tol = 8.0L * ldexpl(1.0L, -23);
            /* difference to the uncentered result is the centering term,
             * to a few ulp of the larger of the two */
            assert_true(fabsl(((ld)l[i] - (ld)l0[i]) - (ld)c * s * s) <=
                        tol * (fabsl((ld)l[i]) + fabsl((ld)l0[i])));
            assert_true(fabsl(((ld)w[i] - (ld)w0[i]) - 2.0L * (ld)c * s) <=
                        tol * (fabsl((ld)w[i]) + fabsl((ld)w0[i])));
            assert_true(fabsl(((ld)o[i] - (ld)o0[i]) - 2.0L * (ld)c * s) <=
                        tol * (fabsl((ld)o[i]) + fabsl((ld)o0[i])));
            /* and each output matches the reference within its budget */
            {
                const ld rl = ref_bt_loss(sw[i], sl[i], 0.0f, c);
                const ld rw = ref_bt_dsw(sw[i], sl[i], 0.0f, c);
                const ld ro = ref_bt_dsl(sw[i], sl[i], 0.0f, c);
                assert_true(err_ulp(l[i], rl) <= 4.0L + ref_bt_loss_kappa(sw[i], sl[i], 0.0f, c) / 2);
                if (ref_is_normal_float(rw))
                    assert_true(err_ulp(w[i], rw) <= 4.0L + ref_bt_grad_kappa(sw[i], sl[i], 0.0f, c, 1) / 2);
                if (ref_is_normal_float(ro))
                    assert_true(err_ulp(o[i], ro) <= 4.0L + ref_bt_grad_kappa(sw[i], sl[i], 0.0f, c, 0) / 2);
            }
        }
    }
}

/* Without centering, dsl == -dsw exactly. */
static void test_gradients_antisymmetric_without_centering(void **state)
{
    enum { N = 100 };
    float sw[N], sl[N], m[N], dl[N], w[N], o[N];
    tu_rng r = tu_rng_seed(0xa5);
    size_t i;
    (void)state;
    for (i = 0; i < N; i++) {
        sw[i] = (float)tu_range(&r, -30.0, 30.0);
        sl[i] = (float)tu_range(&r, -30.0, 30.0);
        m[i] = (float)tu_range(&r, 0.0, 3.0);
        dl[i] = (float)tu_range(&r, -3.0, 3.0);
    }
    assert_status(prefloss_bt_loss(NULL, w, o, sw, sl, m, dl, N, 0.0f), PREFLOSS_OK);
    for (i = 0; i < N; i++) assert_float_bits_equal(o[i], -w[i]);
}

/* Gradients are the derivative of the library's own loss: central
 * differences with respect to sw and sl (dyadic scores, with margins, with
 * and without centering, random dlosses), and the analytic reference. */
static void test_gradients_match_finite_differences(void **state)
{
    enum { N = 16 };
    const float cs[2] = { 0.0f, 0.25f };
    const double step = 1.0 / 256.0;
    float sw[N], sl[N], m[N], dl[N], l[N], w[N], o[N], lp[N], lm[N];
    tu_rng r = tu_rng_seed(0xfdb7);
    size_t ci, k, i;
    int usem;
    (void)state;
    for (ci = 0; ci < 2; ci++)
        for (usem = 0; usem < 2; usem++) {
            const float c = cs[ci];
            const float *pm = usem ? m : NULL;
            for (i = 0; i < N; i++) {
                sw[i] = tu_dyadic(&r, -8.0, 8.0);
                sl[i] = tu_dyadic(&r, -8.0, 8.0);
                m[i] = tu_dyadic(&r, 0.0, 2.0);
                dl[i] = (float)tu_range(&r, -2.0, 2.0);
            }
            assert_status(prefloss_bt_loss(l, w, o, sw, sl, pm, dl, N, c), PREFLOSS_OK);
            for (k = 0; k < 2 * N; k++) {
                float *x = (k < N) ? &sw[k] : &sl[k - N];
                const float g = (k < N) ? w[k] : o[k - N];
                const size_t j = k % N;
                const float saved = *x;
                const float mj = usem ? m[j] : 0.0f;
                double fd;
                ld refg;
                *x = (float)((double)saved + step);
                assert_status(prefloss_bt_loss(lp, NULL, NULL, sw, sl, pm, NULL, N, c), PREFLOSS_OK);
                *x = (float)((double)saved - step);
                assert_status(prefloss_bt_loss(lm, NULL, NULL, sw, sl, pm, NULL, N, c), PREFLOSS_OK);
                *x = saved;
                fd = (double)dl[j] * ((double)lp[j] - (double)lm[j]) / (2.0 * step);
                assert_close(g, fd, 1e-3 * fabs(fd) + 1e-6 +
                             fabs((double)dl[j]) * 4.0 * (double)FLT_EPSILON *
                             fmax(fabs((double)lp[j]), fabs((double)lm[j])) / (2.0 * step));
                refg = ((k < N) ? ref_bt_dsw(sw[j], sl[j], mj, c) : ref_bt_dsl(sw[j], sl[j], mj, c)) * (ld)dl[j];
                if (ref_is_normal_float(refg))
                    assert_true(err_ulp(g, refg) <=
                                4.0L + ref_bt_grad_kappa(sw[j], sl[j], mj, c, k < N) / 2.0L);
            }
        }
}

/* Remark 3.1 for Bradley-Terry: swapping the two responses is x -> -x
 * (margin 0, no centering): loss(swapped) - loss(original) = x, and
 * dsw(original) + dsw(swapped) = -sigma(-x) - sigma(x) = -1. */
static void test_swap_flips_label(void **state)
{
    enum { N = 200 };
    float sw[N], sl[N], l0[N], w0[N], l1[N], w1[N];
    tu_rng r = tu_rng_seed(0xb75);
    size_t i;
    (void)state;
    for (i = 0; i < N; i++) {
        sw[i] = (float)tu_range(&r, -12.0, 12.0);
        sl[i] = (float)tu_range(&r, -12.0, 12.0);
    }
    assert_status(prefloss_bt_loss(l0, w0, NULL, sw, sl, NULL, NULL, N, 0.0f), PREFLOSS_OK);
    assert_status(prefloss_bt_loss(l1, w1, NULL, sl, sw, NULL, NULL, N, 0.0f), PREFLOSS_OK);
    for (i = 0; i < N; i++) {
        const ld x = (ld)sw[i] - (ld)sl[i];
        const ld big = fabsl(x) > 1 ? fabsl(x) : 1.0L;
        assert_true(fabsl(((ld)l1[i] - (ld)l0[i]) - x) <= big * ldexpl(1.0L, -23) * (8.0L + fabsl(x)));
        assert_true(fabsl(((ld)w0[i] + (ld)w1[i]) + 1.0L) <= ldexpl(1.0L, -23) * (8.0L + fabsl(x)));
    }
}

/* x is formed exactly before the loss: sw = B, sl = -d, m = B gives
 * x = d exactly, although sw - sl = B + d is not a float (a naive float
 * evaluation gets x = 0 or x = ulp(B), hundreds of ulp off in the loss). */
static void test_exact_argument(void **state)
{
    const float base[3] = { 1024.0f, -3000.0f, 65536.0f };
    const float d = 1e-4f;
    float sw[3], sl[3], m[3], l[3], w[3];
    size_t i;
    (void)state;
    for (i = 0; i < 3; i++) {
        sw[i] = base[i];
        sl[i] = -d;
        m[i] = base[i];
    }
    assert_status(prefloss_bt_loss(l, w, NULL, sw, sl, m, NULL, 3, 0.0f), PREFLOSS_OK);
    for (i = 0; i < 3; i++) {
        assert_true(ref_bt_x(sw[i], sl[i], m[i]) == (ld)d);
        assert_within_ulp(l[i], ref_neglogsig((ld)d), 4.5);
        assert_within_ulp(w[i], -ref_sigmoid(-(ld)d), 4.5);
    }
}

/* Deep in the tail sigma(-x) is subnormal, but the written gradient
 * -sigma(-x) * dlosses can be a normal float again; it must meet its
 * (4 + kappa/2) budget (kappa ~ x). E.g. sw = 93, sl = 0, dlosses = 1000:
 * dsw = -1000 sigma(-93) = -4.07955866718e-38. */
static void test_tail_gradient_scaled_into_normal_range(void **state)
{
    const float xs[4] = { 89.0f, 91.0f, 93.0f, 95.0f };
    size_t i;
    (void)state;
    for (i = 0; i < 4; i++) {
        float sw = xs[i], sl = 0.0f, dl = 1000.0f, w, o;
        const ld rw = ref_bt_dsw(sw, sl, 0.0f, 0.0f) * 1000.0L;
        const ld k = ref_bt_grad_kappa(sw, sl, 0.0f, 0.0f, 1);
        assert_status(prefloss_bt_loss(NULL, &w, &o, &sw, &sl, NULL, &dl, 1, 0.0f), PREFLOSS_OK);
        if (ref_is_normal_float(rw)) {
            assert_within_ulp(w, rw, 4.0 + (double)(k / 2));
            assert_within_ulp(o, -rw, 4.0 + (double)(k / 2));
        }
    }
}

/* Non-finite scores, margins or upstream gradients: NaN in exactly that
 * pair's outputs (only its gradients for a bad dlosses), others exact,
 * status NONFINITE. */
static void test_nonfinite_inputs(void **state)
{
    enum { N = 5, BAD = 1 };
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    float in[4][N];
    float l0[N], w0[N], o0[N], l[N], w[N], o[N];
    size_t pos, v, i;
    (void)state;
    for (i = 0; i < N; i++) {
        in[0][i] = 1.0f + (float)i;
        in[1][i] = -0.5f * (float)i;
        in[2][i] = 0.125f;
        in[3][i] = 2.0f - (float)i;
    }
    assert_status(prefloss_bt_loss(l0, w0, o0, in[0], in[1], in[2], in[3], N, 0.1f), PREFLOSS_OK);
    for (pos = 0; pos < 4; pos++)
        for (v = 0; v < 3; v++) {
            const float saved = in[pos][BAD];
            in[pos][BAD] = bad[v];
            assert_status(prefloss_bt_loss(l, w, o, in[0], in[1], in[2], in[3], N, 0.1f), PREFLOSS_NONFINITE);
            in[pos][BAD] = saved;
            for (i = 0; i < N; i++) {
                if (i == BAD) {
                    if (pos < 3) assert_nan(l[i]);
                    else assert_float_bits_equal(l[i], l0[i]);
                    assert_nan(w[i]);
                    assert_nan(o[i]);
                } else {
                    assert_float_bits_equal(l[i], l0[i]);
                    assert_float_bits_equal(w[i], w0[i]);
                    assert_float_bits_equal(o[i], o0[i]);
                }
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_values),
        cmocka_unit_test(test_margins),
        cmocka_unit_test(test_centering_coefficient),
        cmocka_unit_test(test_gradients_antisymmetric_without_centering),
        cmocka_unit_test(test_gradients_match_finite_differences),
        cmocka_unit_test(test_swap_flips_label),
        cmocka_unit_test(test_exact_argument),
        cmocka_unit_test(test_tail_gradient_scaled_into_normal_range),
        cmocka_unit_test(test_nonfinite_inputs),
    };
    return cmocka_run_group_tests_name("bt", tests, NULL, NULL);
}
