/*
 * test_rewards.c — prefloss_rewards, the implicit rewards every trainer
 * logs:
 *
 *     chosen_rewards   = beta (pc - rc)
 *     rejected_rewards = beta (pr - rr)
 *     margins          = beta ((pc - rc) - (pr - rr))
 *     accuracies       = 1 if (pc - rc) > (pr - rr) exactly, else 0
 *
 * "Each value is the exact result for the float inputs, rounded once":
 * checked to 0.5 ulp (+ 1e-3 ulp slack for the long-double reference).
 */
#include "testutil.h"
#include "reference.h"

#define ROUNDED_ONCE 0.501L

/* A worked example: pc=-10 pr=-12 rc=-11 rr=-11, beta=0.5:
 * chosen 0.5, rejected -0.5, margin 1, accuracy 1. A tie (equal log-ratios
 * from different numbers) has accuracy 0: the comparison is strict. */
static void test_worked_example_and_tie(void **state)
{
    float pc[2] = { -10.0f, -100.0f }, pr[2] = { -12.0f, -200.0f };
    float rc[2] = { -11.0f, -101.0f }, rr[2] = { -11.0f, -201.0f };
    float cr[2], rj[2], mg[2], acc[2];
    (void)state;
    assert_status(prefloss_rewards(cr, rj, mg, acc, pc, pr, rc, rr, 2, 0.5f), PREFLOSS_OK);
    assert_float_bits_equal(cr[0], 0.5f);
    assert_float_bits_equal(rj[0], -0.5f);
    assert_float_bits_equal(mg[0], 1.0f);
    assert_float_bits_equal(acc[0], 1.0f);
    /* pair 1: uc = ur = 1 exactly */
    assert_float_bits_equal(cr[1], 0.5f);
    assert_float_bits_equal(rj[1], 0.5f);
    assert_true(mg[1] == 0.0f);
    assert_float_bits_equal(acc[1], 0.0f);
}

/* Accuracy is decided on the exact log-ratios, not on rounded float
 * differences: uc and ur that differ by far less than ulp(log-prob). */
static void test_accuracy_is_exact_comparison(void **state)
{
    /* uc = pc - rc and ur = pr - rr around 1e-3 apart from each other by
     * one ulp of ~2000 or less; a float evaluation of (pc - rc) rounds */
    float pc[4], pr[4], rc[4], rr[4], acc[4], mg[4];
    size_t i;
    (void)state;
    pc[0] = -1999.75f;      rc[0] = 0x1p-20f;         /* uc = -1999.75 - 2^-20 */
    pr[0] = -1999.75f;      rr[0] = 0x1p-19f;         /* ur = -1999.75 - 2^-19 < uc */
    pc[1] = -1999.75f;      rc[1] = 0x1p-19f;
    pr[1] = -1999.75f;      rr[1] = 0x1p-20f;         /* ur > uc */
    pc[2] = -1500.0f;       rc[2] = -1500.0001220703125f; /* uc = 2^-13 */
    pr[2] = -700.0f;        rr[2] = -700.00006103515625f; /* ur = 2^-14 */
    pc[3] = -3.0f;          rc[3] = -1.0f;            /* uc = -2 */
    pr[3] = -1e4f;          rr[3] = -9998.0f;         /* ur = -2: tie */
    assert_status(prefloss_rewards(NULL, NULL, mg, acc, pc, pr, rc, rr, 4, 1.0f), PREFLOSS_OK);
    assert_float_bits_equal(acc[0], 1.0f);
    assert_float_bits_equal(acc[1], 0.0f);
    assert_float_bits_equal(acc[2], 1.0f);
    assert_float_bits_equal(acc[3], 0.0f);
    for (i = 0; i < 4; i++) {
        const ld ref = ref_h(pc[i], pr[i], rc[i], rr[i]);
        if (ref == 0) assert_true(mg[i] == 0.0f);
        else assert_true(err_ulp(mg[i], ref) <= ROUNDED_ONCE);
    }
    assert_float_bits_equal(mg[0], 0x1p-20f);
    assert_float_bits_equal(mg[1], -0x1p-20f);
}

/* Random realistic log-probs (including tiny differences): every reward is
 * the exact value rounded once, and the accuracy is the exact comparison.
 * Reference-free (NULL references) is rc = rr = 0. */
static void test_random_rounded_once(void **state)
{
    enum { N = 20000 };
    float *buf = (float *)malloc(sizeof(float) * N * 8);
    float *pc = buf, *pr = buf + N, *rc = buf + 2 * N, *rr = buf + 3 * N;
    float *cr = buf + 4 * N, *rj = buf + 5 * N, *mg = buf + 6 * N, *acc = buf + 7 * N;
    const float betas[3] = { 0.1f, 1.0f, 0.0375f };
    tu_rng r = tu_rng_seed(0x4e3);
    size_t b, i;
    int reffree;
    ld worst[3] = { 0, 0, 0 };
    (void)state;
    assert_non_null(buf);
    for (reffree = 0; reffree < 2; reffree++)
        for (b = 0; b < 3; b++) {
            const float beta = betas[b];
            for (i = 0; i < N; i++) {
                const double d1 = tu_sign(&r) * tu_logu(&r, -3.0, 1.0);
                rc[i] = (float)tu_range(&r, -2000.0, -50.0);
                rr[i] = (float)tu_range(&r, -2000.0, -50.0);
                pc[i] = (float)((double)rc[i] + d1);
                pr[i] = (float)((double)rr[i] + ((i % 4 == 0) ? d1 + tu_sign(&r) * tu_logu(&r, -7.0, -3.0)
                                                               : tu_sign(&r) * tu_logu(&r, -3.0, 1.0)));
            }
            if (reffree)
                assert_status(prefloss_rewards(cr, rj, mg, acc, pc, pr, NULL, NULL, N, beta), PREFLOSS_OK);
            else
                assert_status(prefloss_rewards(cr, rj, mg, acc, pc, pr, rc, rr, N, beta), PREFLOSS_OK);
            for (i = 0; i < N; i++) {
                const float c0 = reffree ? 0.0f : rc[i], r0 = reffree ? 0.0f : rr[i];
                const ld uc = (ld)pc[i] - (ld)c0, ur = (ld)pr[i] - (ld)r0;
                const ld refs[3] = { (ld)beta * uc, (ld)beta * ur, (ld)beta * (uc - ur) };
                const float got[3] = { cr[i], rj[i], mg[i] };
                size_t k;
                for (k = 0; k < 3; k++) {
                    if (refs[k] == 0) {
                        assert_true(got[k] == 0.0f);
                    } else if (ref_is_normal_float(refs[k])) {
                        const ld e = err_ulp(got[k], refs[k]);
                        if (!(e <= ROUNDED_ONCE))
                            print_error("output %u: pc=%a pr=%a rc=%a rr=%a beta=%a: got %a, exact %.20Lg (%.3Lf ulp)\n",
                                        (unsigned)k, (double)pc[i], (double)pr[i], (double)c0, (double)r0,
                                        (double)beta, (double)got[k], refs[k], e);
                        assert_true(e <= ROUNDED_ONCE);
                        if (e > worst[k]) worst[k] = e;
                    }
                }
                assert_float_bits_equal(acc[i], uc > ur ? 1.0f : 0.0f);
            }
        }
    printf("    worst: chosen %.4Lf ulp, rejected %.4Lf ulp, margin %.4Lf ulp\n", worst[0], worst[1], worst[2]);
    free(buf);
}

/* Every output is optional; asking for one gives the same bits. */
static void test_optional_outputs(void **state)
{
    float pc[3] = { -5.5f, -7.25f, -9.0f }, pr[3] = { -6.0f, -7.0f, -9.0f };
    float rc[3] = { -5.0f, -7.0f, -8.0f }, rr[3] = { -6.5f, -7.5f, -8.0f };
    float a[4][3], b[3];
    size_t k, i;
    (void)state;
    assert_status(prefloss_rewards(a[0], a[1], a[2], a[3], pc, pr, rc, rr, 3, 0.3f), PREFLOSS_OK);
    for (k = 0; k < 4; k++) {
        tu_fill_sentinel(b, sizeof b);
        assert_status(prefloss_rewards(k == 0 ? b : NULL, k == 1 ? b : NULL, k == 2 ? b : NULL,
                                       k == 3 ? b : NULL, pc, pr, rc, rr, 3, 0.3f),
                      PREFLOSS_OK);
        for (i = 0; i < 3; i++) assert_float_bits_equal(b[i], a[k][i]);
    }
    assert_status(prefloss_rewards(NULL, NULL, NULL, NULL, pc, pr, rc, rr, 3, 0.3f), PREFLOSS_OK);
}

/* A non-finite log-prob makes every output of that pair NaN (accuracy
 * included), the other pairs exact, status NONFINITE. */
static void test_nonfinite_inputs(void **state)
{
    enum { N = 4, BAD = 0 };
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    float in[4][N], o0[4][N], o[4][N];
    size_t pos, v, i, k;
    (void)state;
    for (i = 0; i < N; i++) {
        in[0][i] = -3.0f * (float)(i + 1);
        in[1][i] = -2.5f * (float)(i + 1);
        in[2][i] = -1.0f;
        in[3][i] = -2.0f;
    }
    assert_status(prefloss_rewards(o0[0], o0[1], o0[2], o0[3], in[0], in[1], in[2], in[3], N, 0.25f), PREFLOSS_OK);
    for (pos = 0; pos < 4; pos++)
        for (v = 0; v < 3; v++) {
            const float saved = in[pos][BAD];
            in[pos][BAD] = bad[v];
            assert_status(prefloss_rewards(o[0], o[1], o[2], o[3], in[0], in[1], in[2], in[3], N, 0.25f),
                          PREFLOSS_NONFINITE);
            in[pos][BAD] = saved;
            for (k = 0; k < 4; k++)
                for (i = 0; i < N; i++) {
                    if (i == BAD) assert_nan(o[k][i]);
                    else assert_float_bits_equal(o[k][i], o0[k][i]);
                }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example_and_tie),
        cmocka_unit_test(test_accuracy_is_exact_comparison),
        cmocka_unit_test(test_random_rounded_once),
        cmocka_unit_test(test_optional_outputs),
        cmocka_unit_test(test_nonfinite_inputs),
    };
    return cmocka_run_group_tests_name("rewards", tests, NULL, NULL);
}
