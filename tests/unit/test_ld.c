/*
 * test_ld.c — LD-DPO's length-desensitised sequence log-probs
 * (prefloss_sequence_logps_ld) and their backward: the public part at full
 * weight, the rest at alpha, against a long-double reference; the plain sum
 * as the special cases; the backward exactly; every error path.
 */
#include "testutil.h"

/* A worked example: tokens -1 -2 -3 -4 -5, mask 1 0 1 1 1, public length 2:
 * the counted tokens are -1 -3 | -4 -5, so seq = (-1 - 3) + alpha (-4 - 5). */
static void test_worked_example(void **state)
{
    const float t[5] = {-1.0f, -2.0f, -3.0f, -4.0f, -5.0f};
    const unsigned char m[5] = {1, 0, 1, 1, 1};
    const size_t pl[1] = {2};
    float out[1], dt[5];
    const float dseq[1] = {2.0f};
    (void)state;
    assert_status(prefloss_sequence_logps_ld(out, t, m, pl, 1, 5, 0.5f), PREFLOSS_OK);
    assert_float_bits_equal(out[0], -4.0f + 0.5f * -9.0f);
    assert_status(prefloss_sequence_logps_ld_backward(dt, dseq, m, pl, 1, 5, 0.5f), PREFLOSS_OK);
    assert_float_bits_equal(dt[0], 2.0f);
    assert_float_bits_equal(dt[1], 0.0f);
    assert_float_bits_equal(dt[2], 2.0f);
    assert_float_bits_equal(dt[3], 1.0f);
    assert_float_bits_equal(dt[4], 1.0f);
}

/* Against a long-double reference on random masked rows, and the special
 * cases: alpha = 1 or a public length covering the row give the plain sum
 * bit for bit; public length 0 and alpha = 0 give 0. */
static void test_against_reference(void **state)
{
    enum { B = 16, T = 1500 };
    static float t[B * T], out[B], plain[B], dt[B * T], dseq[B];
    static unsigned char m[B * T];
    size_t pl[B], all[B], none[B];
    tu_rng r = tu_rng_seed(2024);
    const float alpha = 0.3f;
    size_t b, j;
    (void)state;
    for (j = 0; j < (size_t)B * T; j++) {
        t[j] = (float)tu_range(&r, -12.0, 0.0);
        m[j] = (unsigned char)(tu_unif(&r) < 0.8);
    }
    for (b = 0; b < B; b++) {
        pl[b] = tu_below(&r, T + 100);
        all[b] = T;
        none[b] = 0;
        dseq[b] = (float)tu_range(&r, -1.0, 1.0);
    }
    assert_status(prefloss_sequence_logps_ld(out, t, m, pl, B, T, alpha), PREFLOSS_OK);
    for (b = 0; b < B; b++) {
        long double pub = 0, verb = 0, ref;
        size_t seen = 0;
        for (j = 0; j < T; j++) {
            if (!m[b * T + j]) continue;
            if (seen < pl[b]) pub += (long double)t[b * T + j];
            else verb += (long double)t[b * T + j];
            seen++;
        }
        ref = pub + (long double)alpha * verb;
        /* two compensated sums and one fused combination: a few ulp at most */
        assert_true(fabsl((long double)out[b] - ref) <= 4.0L * 0x1p-24L * fabsl(ref));
    }
    assert_status(prefloss_sequence_logps(plain, t, m, B, T, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps_ld(out, t, m, all, B, T, alpha), PREFLOSS_OK);
    for (b = 0; b < B; b++) assert_float_bits_equal(out[b], plain[b]);
    assert_status(prefloss_sequence_logps_ld(out, t, m, pl, B, T, 1.0f), PREFLOSS_OK);
    for (b = 0; b < B; b++) assert_true(fabsf(out[b] - plain[b]) <= 2.0f * 0x1p-24f * fabsf(plain[b]));
    assert_status(prefloss_sequence_logps_ld(out, t, m, none, B, T, 0.0f), PREFLOSS_OK);
    for (b = 0; b < B; b++) assert_true(out[b] == 0.0f);

    /* the backward: exactly dseq (public) or alpha*dseq (the rest), 0 where masked */
    assert_status(prefloss_sequence_logps_ld_backward(dt, dseq, m, pl, B, T, alpha), PREFLOSS_OK);
    for (b = 0; b < B; b++) {
        size_t seen = 0;
        for (j = 0; j < T; j++) {
            float want = 0.0f;
            if (m[b * T + j]) want = seen++ < pl[b] ? dseq[b] : dseq[b] * alpha;
            assert_float_bits_equal(dt[b * T + j], want);
        }
    }
}

/* Errors write nothing; empty rows; a non-finite counted token or upstream
 * gradient makes that row NaN and the status positive. */
static void test_errors_and_nonfinite(void **state)
{
    float t[6] = {-1.0f, -2.0f, -3.0f, -4.0f, -5.0f, -6.0f};
    const size_t pl[2] = {1, 2};
    float out[2], dt[6];
    float dseq[2] = {1.0f, 1.0f};
    (void)state;
    tu_fill_sentinel(out, sizeof out);
    assert_status(prefloss_sequence_logps_ld(out, t, NULL, pl, 2, 3, 1.5f), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_sequence_logps_ld(out, t, NULL, pl, 2, 3, -0.1f), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_sequence_logps_ld(out, t, NULL, NULL, 2, 3, 0.5f), PREFLOSS_ERR_NULL);
    assert_status(prefloss_sequence_logps_ld(NULL, t, NULL, pl, 2, 3, 0.5f), PREFLOSS_ERR_NULL);
    assert_status(prefloss_sequence_logps_ld(out, t, NULL, (const size_t *)(void *)out, 2, 3, 0.5f),
                  PREFLOSS_ERR_OVERLAP);
    assert_status(prefloss_sequence_logps_ld(t + 1, t, NULL, pl, 2, 3, 0.5f), PREFLOSS_ERR_OVERLAP);
    assert_true(tu_is_sentinel(out, sizeof out));
    tu_fill_sentinel(dt, sizeof dt);
    assert_status(prefloss_sequence_logps_ld_backward(dt, dseq, NULL, pl, 2, 3, 2.0f), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_sequence_logps_ld_backward(dt, dseq, NULL, NULL, 2, 3, 0.5f), PREFLOSS_ERR_NULL);
    assert_true(tu_is_sentinel(dt, sizeof dt));

    assert_status(prefloss_sequence_logps_ld(NULL, NULL, NULL, NULL, 0, 3, 0.5f), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps_ld(out, NULL, NULL, pl, 2, 0, 0.5f), PREFLOSS_OK);
    assert_true(out[0] == 0.0f && out[1] == 0.0f);

    t[4] = (float)INFINITY; /* row 1 */
    assert_status(prefloss_sequence_logps_ld(out, t, NULL, pl, 2, 3, 0.5f), PREFLOSS_NONFINITE);
    assert_float_bits_equal(out[0], -1.0f + 0.5f * -5.0f);
    assert_nan(out[1]);
    dseq[0] = (float)NAN;
    assert_status(prefloss_sequence_logps_ld_backward(dt, dseq, NULL, pl, 2, 3, 0.0f), PREFLOSS_NONFINITE);
    assert_nan(dt[0]);
    assert_nan(dt[2]); /* alpha = 0 does not hide a NaN upstream gradient */
    assert_float_bits_equal(dt[3], 1.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_errors_and_nonfinite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
