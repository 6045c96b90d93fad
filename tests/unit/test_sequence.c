/*
 * test_sequence.c — prefloss_sequence_logps and its backward: masked sums
 * and means of per-token log-probs, compensated accuracy on long rows, and
 * the backward checked against finite differences of the forward.
 */
#include "testutil.h"
#include "reference.h"

/* A worked example: two rows of four tokens.
 *   row 0: tokens -1 -2 -3 -4, mask 1 1 0 1  -> sum -7, mean -7/3
 *   row 1: all masked                         -> sum 0, mean 0 (documented) */
static void test_sum_and_mean_worked_example(void **state)
{
    const float t[8] = { -1.0f, -2.0f, -3.0f, -4.0f, -0.5f, -0.25f, 0.0f, -1.0f };
    const unsigned char m[8] = { 1, 1, 0, 1, 0, 0, 0, 0 };
    float out[2];
    (void)state;

    assert_status(prefloss_sequence_logps(out, t, m, 2, 4, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    assert_float_bits_equal(out[0], -7.0f);
    assert_true(out[1] == 0.0f);

    assert_status(prefloss_sequence_logps(out, t, m, 2, 4, PREFLOSS_REDUCE_MEAN), PREFLOSS_OK);
    assert_float_bits_equal(out[0], (float)(-7.0 / 3.0)); /* one rounding */
    assert_true(out[1] == 0.0f);
}

/* mask == NULL counts every token; a non-zero mask byte (1, 2, 255: a
 * PyTorch bool tensor or any byte mask) counts the token once, it is not a
 * weight. */
static void test_mask_null_and_nonzero_bytes(void **state)
{
    const float t[6] = { -1.5f, -2.5f, -3.0f, -0.125f, -8.0f, -16.0f };
    const unsigned char ones[6] = { 1, 1, 1, 1, 1, 1 };
    const unsigned char bytes[6] = { 2, 255, 1, 128, 7, 1 };
    float a[2], b[2], c[2];
    (void)state;

    assert_status(prefloss_sequence_logps(a, t, NULL, 2, 3, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps(b, t, ones, 2, 3, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps(c, t, bytes, 2, 3, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    assert_float_bits_equal(a[0], -7.0f);
    assert_float_bits_equal(a[1], -24.125f);
    assert_float_bits_equal(b[0], a[0]);
    assert_float_bits_equal(b[1], a[1]);
    assert_float_bits_equal(c[0], a[0]);
    assert_float_bits_equal(c[1], a[1]);

    assert_status(prefloss_sequence_logps(a, t, NULL, 2, 3, PREFLOSS_REDUCE_MEAN), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps(c, t, bytes, 2, 3, PREFLOSS_REDUCE_MEAN), PREFLOSS_OK);
    assert_float_bits_equal(a[0], (float)(-7.0 / 3.0));
    assert_float_bits_equal(a[1], (float)(-24.125 / 3.0));
    assert_float_bits_equal(c[0], a[0]);
    assert_float_bits_equal(c[1], a[1]);
}

/* A row with no unmasked token: its sum and its mean are 0, and the
 * backward gives it 0 gradient (no division by zero, no NaN). seq_len == 0
 * is the same situation for every row (token_logps may then be NULL). */
static void test_empty_rows(void **state)
{
    const float t[6] = { -1.0f, -2.0f, -3.0f, -4.0f, -5.0f, -6.0f };
    const unsigned char m[6] = { 0, 0, 0, 1, 0, 1 };
    const float dseq[3] = { 3.0f, -2.0f, 5.0f };
    float out[3], dt[6];
    int red;
    (void)state;

    for (red = PREFLOSS_REDUCE_SUM; red <= PREFLOSS_REDUCE_MEAN; red++) {
        size_t j;
        assert_status(prefloss_sequence_logps(out, t, m, 2, 3, red), PREFLOSS_OK);
        assert_true(out[0] == 0.0f);
        assert_float_bits_equal(out[1], red == PREFLOSS_REDUCE_SUM ? -10.0f : -5.0f);

        assert_status(prefloss_sequence_logps_backward(dt, dseq, m, 2, 3, red), PREFLOSS_OK);
        for (j = 0; j < 3; j++) assert_true(dt[j] == 0.0f);
        assert_true(dt[3] == (red == PREFLOSS_REDUCE_SUM ? -2.0f : -1.0f));
        assert_true(dt[4] == 0.0f);
        assert_true(dt[5] == (red == PREFLOSS_REDUCE_SUM ? -2.0f : -1.0f));

        /* seq_len == 0: three empty rows, no token buffer needed. */
        tu_fill_sentinel(out, sizeof out);
        assert_status(prefloss_sequence_logps(out, NULL, NULL, 3, 0, red), PREFLOSS_OK);
        for (j = 0; j < 3; j++) assert_true(out[j] == 0.0f);
    }
}

/* Random rows with random masks: the sum is within one ulp of the exact
 * masked sum, the mean within 1.5 ulp of exact-sum / count. */
static void test_partial_masks_random(void **state)
{
    enum { B = 37, T = 129 };
    static float t[B * T];
    static unsigned char m[B * T];
    float sum[B], mean[B];
    tu_rng r = tu_rng_seed(0x5e9u);
    size_t b, j;
    (void)state;

    for (b = 0; b < B; b++)
        for (j = 0; j < T; j++) {
            t[b * T + j] = (float)-tu_logu(&r, -3.0, 1.3);
            m[b * T + j] = (unsigned char)(tu_below(&r, 4) != 0 ? 1 : 0);
        }
    assert_status(prefloss_sequence_logps(sum, t, m, B, T, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps(mean, t, m, B, T, PREFLOSS_REDUCE_MEAN), PREFLOSS_OK);
    for (b = 0; b < B; b++) {
        size_t cnt;
        ld ref = ref_masked_sum(t + b * T, m + b * T, T, &cnt);
        assert_true(cnt > 0);
        assert_true(err_ulp(sum[b], ref) <= 1.0L);
        assert_true(err_ulp(mean[b], ref / (ld)cnt) <= 1.5L);
    }
}

/* Compensated summation on long rows: T = 100000 tokens in [-1e4, 0]. A
 * naive float running sum is off by thousands of ulp here; the library must
 * stay within one ulp of the exact sum (1.5 ulp for the mean). */
static void test_long_rows_compensated(void **state)
{
    enum { B = 3, T = 100000 };
    float *t = (float *)malloc(sizeof(float) * B * T);
    unsigned char *m = (unsigned char *)malloc((size_t)B * T);
    float sum[B], mean[B];
    tu_rng r = tu_rng_seed(0x10c0u);
    size_t b, j;
    (void)state;
    assert_non_null(t);
    assert_non_null(m);

    for (b = 0; b < B; b++)
        for (j = 0; j < T; j++) {
            /* row 0: uniform in [-1e4, 0]; row 1: log-uniform magnitudes
             * 1e-4..1e4 (wide dynamic range); row 2: as row 0, 30% masked */
            t[b * T + j] = (b == 1) ? (float)-tu_logu(&r, -4.0, 4.0)
                                    : (float)tu_range(&r, -1e4, 0.0);
            m[b * T + j] = (unsigned char)((b == 2 && tu_unif(&r) < 0.3) ? 0 : 1);
        }
    assert_status(prefloss_sequence_logps(sum, t, m, B, T, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps(mean, t, m, B, T, PREFLOSS_REDUCE_MEAN), PREFLOSS_OK);
    for (b = 0; b < B; b++) {
        size_t cnt;
        ld ref = ref_masked_sum(t + b * T, m + b * T, T, &cnt);
        float naive = 0.0f;
        for (j = 0; j < T; j++)
            if (m[b * T + j]) naive += t[b * T + j];
        printf("    row %u (T=%u, %u counted): sum err %.3Lf ulp, mean err %.3Lf ulp"
               " (naive float sum: %.0Lf ulp)\n",
               (unsigned)b, (unsigned)T, (unsigned)cnt, err_ulp(sum[b], ref),
               err_ulp(mean[b], ref / (ld)cnt), err_ulp(naive, ref));
        assert_true(err_ulp(sum[b], ref) <= 1.0L);
        assert_true(err_ulp(mean[b], ref / (ld)cnt) <= 1.5L);
    }
    free(t);
    free(m);
}

/* The backward spreads dseq[b] to every counted token (divided by the
 * count for the mean); masked tokens get exactly 0. */
static void test_backward_formula(void **state)
{
    enum { B = 5, T = 17 };
    unsigned char m[B * T];
    float dseq[B], dt[B * T];
    tu_rng r = tu_rng_seed(0xbacc);
    size_t b, j;
    (void)state;

    for (b = 0; b < B; b++) {
        dseq[b] = (float)(tu_sign(&r) * tu_logu(&r, -3.0, 3.0));
        for (j = 0; j < T; j++) m[b * T + j] = (unsigned char)(tu_below(&r, 3) != 0);
    }
    for (j = 0; j < T; j++) m[3 * T + j] = 0; /* row 3 is empty */

    assert_status(prefloss_sequence_logps_backward(dt, dseq, m, B, T, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    for (b = 0; b < B; b++)
        for (j = 0; j < T; j++)
            assert_float_bits_equal(dt[b * T + j], m[b * T + j] ? dseq[b] : 0.0f);

    assert_status(prefloss_sequence_logps_backward(dt, dseq, NULL, B, T, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    for (b = 0; b < B; b++)
        for (j = 0; j < T; j++) assert_float_bits_equal(dt[b * T + j], dseq[b]);

    assert_status(prefloss_sequence_logps_backward(dt, dseq, m, B, T, PREFLOSS_REDUCE_MEAN), PREFLOSS_OK);
    for (b = 0; b < B; b++) {
        size_t cnt = 0;
        for (j = 0; j < T; j++) cnt += m[b * T + j] != 0;
        for (j = 0; j < T; j++) {
            if (!m[b * T + j] || cnt == 0) {
                assert_true(dt[b * T + j] == 0.0f);
            } else {
                ld ref = (ld)dseq[b] / (ld)cnt;
                assert_true(err_ulp(dt[b * T + j], ref) <= 1.0L);
            }
        }
    }
}

/* The backward is the derivative of the forward: with weights w = dseq,
 * d/dt[b,j] of sum_b w_b seq_b equals dt[b,j]. Checked by central
 * differences of the library's own forward (dyadic tokens and a power-of-two
 * step keep t +- step exact), for both reductions. */
static void test_backward_matches_finite_differences(void **state)
{
    enum { B = 4, T = 9 };
    float t[B * T], dseq[B], dt[B * T], sp[B], sm[B];
    unsigned char m[B * T];
    const float step = 0.25f;
    tu_rng r = tu_rng_seed(0xfd5e);
    size_t b, j, k;
    int red;
    (void)state;

    for (b = 0; b < B; b++) {
        dseq[b] = (float)tu_range(&r, -2.0, 2.0);
        for (j = 0; j < T; j++) {
            t[b * T + j] = tu_dyadic(&r, -6.0, 0.0);
            m[b * T + j] = (unsigned char)(tu_below(&r, 4) != 0);
        }
    }
    for (j = 0; j < T; j++) m[2 * T + j] = 0; /* one empty row */

    for (red = PREFLOSS_REDUCE_SUM; red <= PREFLOSS_REDUCE_MEAN; red++) {
        assert_status(prefloss_sequence_logps_backward(dt, dseq, m, B, T, red), PREFLOSS_OK);
        for (k = 0; k < B * T; k++) {
            const float saved = t[k];
            double fp = 0.0, fm = 0.0, fd;
            t[k] = saved + step;
            assert_status(prefloss_sequence_logps(sp, t, m, B, T, red), PREFLOSS_OK);
            t[k] = saved - step;
            assert_status(prefloss_sequence_logps(sm, t, m, B, T, red), PREFLOSS_OK);
            t[k] = saved;
            for (b = 0; b < B; b++) {
                fp += (double)dseq[b] * (double)sp[b];
                fm += (double)dseq[b] * (double)sm[b];
            }
            fd = (fp - fm) / (2.0 * (double)step);
            assert_close(dt[k], fd, 1e-3 * fabs(fd) + 1e-5);
        }
    }
}

/* A counted non-finite token makes its row NaN and the status NONFINITE;
 * other rows are unaffected. A non-finite token that is masked out is
 * never read into the result: status OK. */
static void test_nonfinite_tokens(void **state)
{
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    float t[12] = { -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12 };
    unsigned char m[12] = { 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1 };
    float out[3];
    size_t i;
    int red;
    (void)state;

    for (red = PREFLOSS_REDUCE_SUM; red <= PREFLOSS_REDUCE_MEAN; red++) {
        for (i = 0; i < 3; i++) {
            t[6] = bad[i]; /* row 1, counted */
            assert_status(prefloss_sequence_logps(out, t, m, 3, 4, red), PREFLOSS_NONFINITE);
            assert_float_bits_equal(out[0], red == PREFLOSS_REDUCE_SUM ? -10.0f : -2.5f);
            assert_nan(out[1]);
            assert_float_bits_equal(out[2], red == PREFLOSS_REDUCE_SUM ? -42.0f : -10.5f);
            t[6] = -7.0f;

            t[5] = bad[i]; /* row 1, masked out */
            assert_status(prefloss_sequence_logps(out, t, m, 3, 4, red), PREFLOSS_OK);
            assert_float_bits_equal(out[1], red == PREFLOSS_REDUCE_SUM ? -20.0f : (float)(-20.0 / 3.0));
            t[5] = -6.0f;
        }
    }
}

/* A non-finite upstream gradient dseq[b] makes row b's (counted) token
 * gradients NaN and the status NONFINITE; other rows exact. */
static void test_nonfinite_backward(void **state)
{
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    float dseq[3] = { 1.0f, 2.0f, 3.0f };
    float dt[12];
    size_t i, j;
    int red;
    (void)state;

    for (red = PREFLOSS_REDUCE_SUM; red <= PREFLOSS_REDUCE_MEAN; red++) {
        for (i = 0; i < 3; i++) {
            dseq[1] = bad[i];
            assert_status(prefloss_sequence_logps_backward(dt, dseq, NULL, 3, 4, red), PREFLOSS_NONFINITE);
            for (j = 0; j < 4; j++) {
                assert_float_bits_equal(dt[j], red == PREFLOSS_REDUCE_SUM ? 1.0f : 0.25f);
                assert_nan(dt[4 + j]);
                assert_float_bits_equal(dt[8 + j], red == PREFLOSS_REDUCE_SUM ? 3.0f : 0.75f);
            }
            dseq[1] = 2.0f;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_and_mean_worked_example),
        cmocka_unit_test(test_mask_null_and_nonzero_bytes),
        cmocka_unit_test(test_empty_rows),
        cmocka_unit_test(test_partial_masks_random),
        cmocka_unit_test(test_long_rows_compensated),
        cmocka_unit_test(test_backward_formula),
        cmocka_unit_test(test_backward_matches_finite_differences),
        cmocka_unit_test(test_nonfinite_tokens),
        cmocka_unit_test(test_nonfinite_backward),
    };
    return cmocka_run_group_tests_name("sequence", tests, NULL, NULL);
}
