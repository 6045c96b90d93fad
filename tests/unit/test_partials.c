/*
 * test_partials.c — exact partial sums for global batch means
 * (prefloss_partial_*, prefloss_kto_kl_partial / _finish,
 * prefloss_rewards_partial, prefloss_token_partial).
 *
 * What the documentation promises, checked here:
 *   - a batch split into shards in any way (unequal, empty shards), each
 *     shard's partial formed separately and the partials summed word by
 *     word in any order, gives the same words as one partial of the whole
 *     batch, hence bitwise the same mean, sum and count;
 *   - that mean and sum are the exact value rounded once to nearest (ties
 *     to even), checked against an exact expansion (Shewchuk's sum);
 *   - prefloss_kto_kl on one process equals the finished, reduced KL
 *     partial of any split bitwise;
 *   - errors write nothing.
 */
#include "testutil.h"
#include "reference.h"

#define N_MAX 4096

/* ------------------------------------------------------------------------ */
/* Exact reference: a sum of floats as a non-overlapping expansion of        */
/* doubles (Shewchuk; what Python's math.fsum does), exact for any floats.   */
/* ------------------------------------------------------------------------ */

typedef struct { double p[400]; int n; } expansion;

static void exp_add(expansion *e, double x)
{
    int i, j = 0;
    for (i = 0; i < e->n; i++) {
        double y = e->p[i], hi, lo;
        if (fabs(x) < fabs(y)) { double t = x; x = y; y = t; }
        hi = x + y;
        lo = y - (hi - x);
        if (lo != 0.0) e->p[j++] = lo;
        x = hi;
    }
    e->p[j++] = x;
    e->n = j;
    assert_true(e->n < 400);
}

/* The exact value divided by d, in long double (rel. error ~2^-63). */
static long double exp_div(const expansion *e, double d)
{
    long double s = 0.0L;
    int i;
    for (i = 0; i < e->n; i++) s += (long double)e->p[i];
    return s / (long double)d;
}

/* got is ref rounded once: within 0.5 ulp, plus slack for the long-double
 * reference; 0 where |ref| is below half the smallest subnormal. */
static void assert_rounded_once(float got, long double ref)
{
    long double err;
    if (fabsl(ref) < (long double)TU_FLT_TRUE_MIN * 0.4999L) {
        assert_true(got == 0.0f);
        return;
    }
    if (fabsl(ref) < (long double)FLT_MIN) {
        err = fabsl((long double)got - ref) / (long double)TU_FLT_TRUE_MIN;
    } else {
        err = err_ulp(got, ref);
    }
    if (!(err <= 0.5001L)) {
        print_error("got %a, exact %.20Lg: %.4Lg ulp\n", (double)got, ref, err);
        fail();
    }
}

/* ------------------------------------------------------------------------ */
/* Data                                                                     */
/* ------------------------------------------------------------------------ */

/* Values of very different magnitudes, signs and binades, with heavy
 * cancellation: the case where a float (or double) sum depends on the
 * order of the additions. */
static float any_value(tu_rng *r, int mode)
{
    switch (mode) {
    case 0: return (float)tu_range(r, -2000.0, -1.0);            /* log-probs */
    case 1: return (float)(tu_sign(r) * tu_logu(r, -6.0, 3.0));   /* mixed, cancelling */
    case 2: return (float)(tu_sign(r) * tu_logu(r, -44.0, 38.0)); /* the whole range */
    default: return (float)(tu_sign(r) * tu_logu(r, 30.0, 38.5)); /* sums beyond FLT_MAX */
    }
}

/* Random cut points: shard s is [cut[s], cut[s+1]); about one shard in
 * four is empty. */
static void random_split(tu_rng *r, size_t n, size_t shards, size_t *cut)
{
    size_t s;
    cut[0] = 0;
    cut[shards] = n;
    for (s = 1; s < shards; s++) {
        size_t j = s, v = tu_below(r, n + 1);
        while (j > 1 && cut[j - 1] > v) { cut[j] = cut[j - 1]; j--; }
        cut[j] = v;
    }
    for (s = 1; s < shards; s++)
        if (tu_below(r, 4) == 0) cut[s] = cut[s - 1];
}

static void assert_same_partial(const prefloss_partial *a, const prefloss_partial *b)
{
    assert_memory_equal(a, b, sizeof *a);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

/* The layout and its function twin; init and a zero-initialised struct agree. */
static void test_layout(void **state)
{
    prefloss_partial a, z = {{0}};
    (void)state;
    assert_int_equal(prefloss_partial_words(), PREFLOSS_PARTIAL_WORDS);
    assert_true(prefloss_partial_max_count() == PREFLOSS_PARTIAL_MAX_COUNT);
    assert_true(PREFLOSS_PARTIAL_MAX_COUNT == 1LL << 36);
    assert_int_equal(sizeof(prefloss_partial), PREFLOSS_PARTIAL_WORDS * 8);
    tu_fill_sentinel(&a, sizeof a);
    assert_status(prefloss_partial_init(&a), PREFLOSS_OK);
    assert_same_partial(&a, &z);
    {
        float mean = 1.0f, sum = 1.0f;
        long long count = 7;
        assert_status(prefloss_partial_finish(&mean, &sum, &count, &a), PREFLOSS_OK);
        assert_float_bits_equal(mean, 0.0f);
        assert_float_bits_equal(sum, 0.0f);
        assert_true(count == 0);
    }
}

/* Worked examples: ties to even, a sticky bit far below, cancellation to an
 * exact small value, subnormals, the float range. */
static void test_rounding_examples(void **state)
{
    static const struct { float v[4]; int n; float sum; float mean; } ex[] = {
        { { 1.0f, 0x1p-24f }, 2, 1.0f, 0x1p-1f },                        /* ties: to even */
        { { 1.0f, 0x1p-24f, 0x1p-100f }, 3, 1.0f + 0x1p-23f, 0.0f },     /* sticky: up */
        { { -1.0f, -0x1p-24f }, 2, -1.0f, -0x1p-1f },
        { { 3e38f, -3e38f, 0x1p-149f }, 3, 0x1p-149f, 0.0f },            /* cancels exactly */
        { { 0x1p-149f, 0x1p-149f, 0x1p-149f }, 3, 0x1p-149f * 3, 0x1p-149f },
        { { FLT_MAX, FLT_MAX }, 2, INFINITY, FLT_MAX },                   /* sum beyond, mean not */
        { { -FLT_MAX, -FLT_MAX, -FLT_MAX }, 3, -INFINITY, -FLT_MAX },
        { { 1e-30f, -1e-30f }, 2, 0.0f, 0.0f },
    };
    size_t k;
    (void)state;
    for (k = 0; k < sizeof ex / sizeof ex[0]; k++) {
        prefloss_partial p = {{0}};
        float mean, sum;
        long long count;
        assert_status(prefloss_partial_add(&p, ex[k].v, (size_t)ex[k].n), PREFLOSS_OK);
        assert_status(prefloss_partial_finish(&mean, &sum, &count, &p), PREFLOSS_OK);
        assert_float_bits_equal(sum, ex[k].sum);
        assert_true(count == ex[k].n);
        if (k == 1) {  /* (1 + 2^-24 + 2^-100) / 3, rounded once */
            assert_rounded_once(mean, (1.0L + 0x1p-24L + 0x1p-100L) / 3.0L);
        } else if (k == 3) {
            assert_float_bits_equal(mean, 0.0f);  /* 2^-149 / 3 rounds to +0 */
        } else {
            assert_float_bits_equal(mean, ex[k].mean);
        }
    }
}

/* Random batches in every magnitude regime: the finished mean and sum are
 * the exact value rounded once. */
static void test_rounded_once_random(void **state)
{
    static float v[N_MAX];
    tu_rng r = tu_rng_seed(0x5eed0001u);
    size_t trial, trials = tu_samples() / 400 + 20;
    (void)state;
    for (trial = 0; trial < trials; trial++) {
        int mode = (int)(trial % 4);
        size_t n = 1 + tu_below(&r, mode == 3 ? 64 : N_MAX), i;
        prefloss_partial p = {{0}};
        expansion e;
        float mean, sum;
        e.n = 0;
        for (i = 0; i < n; i++) { v[i] = any_value(&r, mode); exp_add(&e, (double)v[i]); }
        assert_status(prefloss_partial_add(&p, v, n), PREFLOSS_OK);
        assert_status(prefloss_partial_finish(&mean, &sum, NULL, &p), PREFLOSS_OK);
        assert_rounded_once(mean, exp_div(&e, (double)n));
        if (fabsl(exp_div(&e, 1.0)) < (long double)FLT_MAX) assert_rounded_once(sum, exp_div(&e, 1.0));
        else assert_true(isinf(sum));
    }
}

/* The heart of it: any split, any order of the word sums, gives the same
 * words as one call, so bitwise the same results. */
static void test_split_independent(void **state)
{
    static float v[N_MAX];
    tu_rng r = tu_rng_seed(0x5eed0002u);
    size_t trial, trials = tu_samples() / 200 + 50;
    (void)state;
    for (trial = 0; trial < trials; trial++) {
        int mode = (int)(trial % 4);
        size_t n = tu_below(&r, 600), i, s, shards = 1 + tu_below(&r, 8), cut[10], order[9];
        prefloss_partial whole = {{0}}, part[9], reduced = {{0}};
        float m1, m2, s1, s2, fsum_fwd = 0.0f;
        long long c1, c2;
        for (i = 0; i < n; i++) { v[i] = any_value(&r, mode); fsum_fwd += v[i]; }
        assert_status(prefloss_partial_add(&whole, v, n), PREFLOSS_OK);
        random_split(&r, n, shards, cut);
        for (s = 0; s < shards; s++) {
            prefloss_partial_init(&part[s]);
            assert_status(prefloss_partial_add(&part[s], v + cut[s], cut[s + 1] - cut[s]), PREFLOSS_OK);
            order[s] = s;
        }
        for (s = shards; s > 1; s--) {  /* reduce in a random order */
            size_t j = tu_below(&r, s), t = order[s - 1];
            order[s - 1] = order[j]; order[j] = t;
        }
        for (s = 0; s < shards; s++) assert_status(prefloss_partial_merge(&reduced, &part[order[s]]), PREFLOSS_OK);
        assert_same_partial(&reduced, &whole);
        assert_status(prefloss_partial_finish(&m1, &s1, &c1, &whole), PREFLOSS_OK);
        assert_status(prefloss_partial_finish(&m2, &s2, &c2, &reduced), PREFLOSS_OK);
        assert_float_bits_equal(m2, m1);
        assert_float_bits_equal(s2, s1);
        assert_true(c1 == (long long)n && c2 == c1);
        (void)fsum_fwd;
    }
}

/* prefloss_kto_kl (one process) == finish(reduce(partials of any split)),
 * bitwise, and it is max(0, exact mean) rounded once. */
static void test_kto_kl_split(void **state)
{
    static float p[N_MAX], q[N_MAX];
    tu_rng r = tu_rng_seed(0x5eed0003u);
    size_t trial, trials = tu_samples() / 200 + 50;
    (void)state;
    for (trial = 0; trial < trials; trial++) {
        size_t n = 1 + tu_below(&r, 700), i, s, shards = 1 + tu_below(&r, 6), cut[8];
        double shift = tu_range(&r, -0.05, 0.3);
        prefloss_partial reduced = {{0}};
        expansion e;
        float one, kl;
        long double exact;
        e.n = 0;
        for (i = 0; i < n; i++) {
            p[i] = (float)tu_range(&r, -400.0, -50.0);
            q[i] = (float)((double)p[i] - shift - tu_range(&r, -1.0, 1.0));
            exp_add(&e, (double)p[i]);
            exp_add(&e, -(double)q[i]);
        }
        assert_status(prefloss_kto_kl(&one, p, q, n), PREFLOSS_OK);
        exact = exp_div(&e, (double)n);
        assert_rounded_once(one, exact > 0.0L ? exact : 0.0L);
        random_split(&r, n, shards, cut);
        for (s = 0; s < shards; s++) {
            prefloss_partial part = {{0}};
            assert_status(prefloss_kto_kl_partial(&part, p + cut[s], q + cut[s], cut[s + 1] - cut[s]),
                          PREFLOSS_OK);
            assert_status(prefloss_partial_merge(&reduced, &part), PREFLOSS_OK);
        }
        assert_status(prefloss_kto_kl_finish(&kl, &reduced), PREFLOSS_OK);
        assert_float_bits_equal(kl, one);
    }
}

/* The reward metrics' partials: the mean of exactly the values
 * prefloss_rewards writes, the same for any split. */
static void test_rewards_partial(void **state)
{
    enum { N = 777 };
    static float pc[N], pr[N], rc[N], rr[N], out[4][N];
    tu_rng r = tu_rng_seed(0x5eed0004u);
    prefloss_partial whole[4], direct[4], split[4];
    size_t i, s, cut[6];
    int k, rep;
    (void)state;
    for (i = 0; i < N; i++) {
        pc[i] = (float)tu_range(&r, -900.0, -100.0);
        rc[i] = pc[i] + (float)tu_range(&r, -2.0, 2.0);
        pr[i] = (float)tu_range(&r, -900.0, -100.0);
        rr[i] = pr[i] + (float)tu_range(&r, -2.0, 2.0);
    }
    assert_status(prefloss_rewards(out[0], out[1], out[2], out[3], pc, pr, rc, rr, N, 0.1f), PREFLOSS_OK);
    for (k = 0; k < 4; k++) {
        prefloss_partial_init(&whole[k]);
        prefloss_partial_init(&direct[k]);
        assert_status(prefloss_partial_add(&direct[k], out[k], N), PREFLOSS_OK);
    }
    assert_status(prefloss_rewards_partial(&whole[0], &whole[1], &whole[2], &whole[3], pc, pr, rc, rr, N, 0.1f),
                  PREFLOSS_OK);
    for (k = 0; k < 4; k++) assert_same_partial(&whole[k], &direct[k]);
    for (rep = 0; rep < 20; rep++) {
        size_t shards = 1 + (size_t)rep % 5;
        for (k = 0; k < 4; k++) prefloss_partial_init(&split[k]);
        random_split(&r, N, shards, cut);
        for (s = 0; s < shards; s++) {
            size_t a = cut[s], len = cut[s + 1] - cut[s];
            /* optional outputs: the metric partials one by one or together */
            if (rep % 2) {
                for (k = 0; k < 4; k++)
                    assert_status(prefloss_rewards_partial(k == 0 ? &split[0] : NULL, k == 1 ? &split[1] : NULL,
                                                           k == 2 ? &split[2] : NULL, k == 3 ? &split[3] : NULL,
                                                           pc + a, pr + a, rc + a, rr + a, len, 0.1f),
                                  PREFLOSS_OK);
            } else {
                assert_status(prefloss_rewards_partial(&split[0], &split[1], &split[2], &split[3], pc + a, pr + a,
                                                       rc + a, rr + a, len, 0.1f),
                              PREFLOSS_OK);
            }
        }
        for (k = 0; k < 4; k++) assert_same_partial(&split[k], &whole[k]);
    }
    {   /* the accuracy mean is the fraction of pairs with uc > ur, exactly */
        float acc;
        long long count;
        size_t wins = 0;
        for (i = 0; i < N; i++) wins += out[3][i] == 1.0f;
        assert_status(prefloss_partial_finish(&acc, NULL, &count, &whole[3]), PREFLOSS_OK);
        assert_true(count == N);
        assert_float_bits_equal(acc, (float)((double)wins / N));
    }
}

/* Token-level means: masked tokens never enter; the count is the number of
 * counted tokens; rows split across ranks give the same words. */
static void test_token_partial(void **state)
{
    enum { B = 37, T = 23 };
    static float t[B * T];
    static unsigned char m[B * T];
    tu_rng r = tu_rng_seed(0x5eed0005u);
    prefloss_partial whole = {{0}}, rows = {{0}};
    expansion e;
    size_t i, b, counted = 0;
    float mean;
    long long count;
    (void)state;
    e.n = 0;
    for (i = 0; i < B * T; i++) {
        m[i] = (unsigned char)(tu_below(&r, 3) != 0);
        t[i] = m[i] ? (float)-tu_logu(&r, -3.0, 1.3) : NAN;   /* masked: never read into the sum */
        if (m[i]) { exp_add(&e, (double)t[i]); counted++; }
    }
    assert_status(prefloss_token_partial(&whole, t, m, B, T), PREFLOSS_OK);
    for (b = 0; b < B; b++) assert_status(prefloss_token_partial(&rows, t + b * T, m + b * T, 1, T), PREFLOSS_OK);
    assert_same_partial(&rows, &whole);
    assert_status(prefloss_partial_finish(&mean, NULL, &count, &whole), PREFLOSS_OK);
    assert_true(count == (long long)counted);
    assert_rounded_once(mean, exp_div(&e, (double)counted));
    /* no mask: every token counts (here the NaNs too) */
    prefloss_partial_init(&whole);
    assert_status(prefloss_token_partial(&whole, t, NULL, B, T), PREFLOSS_NONFINITE);
    assert_status(prefloss_partial_finish(&mean, NULL, &count, &whole), PREFLOSS_NONFINITE);
    assert_nan(mean);
    assert_true(count == B * T);
}

/* A non-finite value poisons the mean and the sum (NaN), on whichever rank
 * it was added; the count still counts it. */
static void test_nonfinite(void **state)
{
    float v[3] = { 1.0f, INFINITY, 2.0f }, w[2] = { 1.0f, 2.0f }, mean, sum, kl;
    float pk[2] = { -1.0f, -2.0f }, rk[2] = { -1.5f, NAN };
    prefloss_partial a = {{0}}, b = {{0}};
    long long count;
    (void)state;
    assert_status(prefloss_partial_add(&a, w, 2), PREFLOSS_OK);
    assert_status(prefloss_partial_add(&b, v, 3), PREFLOSS_NONFINITE);
    assert_status(prefloss_partial_merge(&a, &b), PREFLOSS_OK);
    assert_status(prefloss_partial_finish(&mean, &sum, &count, &a), PREFLOSS_NONFINITE);
    assert_nan(mean);
    assert_nan(sum);
    assert_true(count == 5);
    prefloss_partial_init(&a);
    assert_status(prefloss_kto_kl_partial(&a, pk, rk, 2), PREFLOSS_NONFINITE);
    assert_status(prefloss_kto_kl_finish(&kl, &a), PREFLOSS_NONFINITE);
    assert_nan(kl);
    assert_status(prefloss_kto_kl(&kl, pk, rk, 2), PREFLOSS_NONFINITE);
    assert_nan(kl);
}

/* Bad arguments and invalid partials: a status, nothing written. */
static void test_errors_write_nothing(void **state)
{
    float v[4] = { 1.0f, 2.0f, 3.0f, 4.0f }, out;
    prefloss_partial p, q, saved;
    long long cnt;
    (void)state;
    prefloss_partial_init(&p);
    assert_status(prefloss_partial_add(&p, v, 4), PREFLOSS_OK);
    saved = p;
    assert_status(prefloss_partial_init(NULL), PREFLOSS_ERR_NULL);
    assert_status(prefloss_partial_add(NULL, v, 4), PREFLOSS_ERR_NULL);
    assert_status(prefloss_partial_add(&p, NULL, 4), PREFLOSS_ERR_NULL);
    assert_status(prefloss_partial_add(&p, NULL, 0), PREFLOSS_OK);
    assert_status(prefloss_partial_add(&p, (const float *)(const void *)&p, 4), PREFLOSS_ERR_OVERLAP);
    assert_status(prefloss_partial_merge(&p, NULL), PREFLOSS_ERR_NULL);
    assert_status(prefloss_kto_kl_partial(&p, v, NULL, 4), PREFLOSS_ERR_NULL);
    assert_status(prefloss_kto_kl_finish(NULL, &p), PREFLOSS_ERR_NULL);
    assert_status(prefloss_rewards_partial(&p, NULL, NULL, NULL, v, v, v, NULL, 4, 0.1f), PREFLOSS_ERR_NULL);
    assert_status(prefloss_rewards_partial(&p, NULL, NULL, NULL, v, v, v, v, 4, 0.0f), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_rewards_partial(&p, &p, NULL, NULL, v, v, v, v, 4, 0.1f), PREFLOSS_ERR_OVERLAP);
    assert_status(prefloss_token_partial(&p, NULL, NULL, 2, 2), PREFLOSS_ERR_NULL);
    assert_status(prefloss_partial_finish(&out, NULL, NULL, NULL), PREFLOSS_ERR_NULL);
    assert_status(prefloss_partial_finish(NULL, NULL, (long long *)(void *)&p.word[3], &p), PREFLOSS_ERR_OVERLAP);
    assert_same_partial(&p, &saved);
    /* invalid partials: a reserved word, a negative count, digits the count
     * cannot explain (e.g. a partial summed as doubles) */
    q = p; q.word[15] = 1;
    out = 42.0f; cnt = 42;
    assert_status(prefloss_partial_finish(&out, NULL, &cnt, &q), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_partial_add(&q, v, 1), PREFLOSS_ERR_PARAM);
    assert_status(prefloss_partial_merge(&p, &q), PREFLOSS_ERR_PARAM);
    q = p; q.word[12] = -1;
    assert_status(prefloss_partial_finish(&out, NULL, &cnt, &q), PREFLOSS_ERR_PARAM);
    q = p; q.word[0] = 1LL << 40;
    assert_status(prefloss_kto_kl_finish(&out, &q), PREFLOSS_ERR_PARAM);
    q = p; q.word[13] = 5;
    assert_status(prefloss_partial_finish(&out, NULL, &cnt, &q), PREFLOSS_ERR_PARAM);
    assert_float_bits_equal(out, 42.0f);
    assert_true(cnt == 42);
    assert_same_partial(&p, &saved);
    /* the count limit */
    q = p; q.word[12] = PREFLOSS_PARTIAL_MAX_COUNT - 2;
    assert_status(prefloss_partial_add(&q, v, 3), PREFLOSS_ERR_SIZE);
    assert_status(prefloss_partial_add(&q, v, 2), PREFLOSS_OK);
    assert_true(q.word[12] == PREFLOSS_PARTIAL_MAX_COUNT);
    assert_status(prefloss_partial_merge(&q, &p), PREFLOSS_ERR_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_rounding_examples),
        cmocka_unit_test(test_rounded_once_random),
        cmocka_unit_test(test_split_independent),
        cmocka_unit_test(test_kto_kl_split),
        cmocka_unit_test(test_rewards_partial),
        cmocka_unit_test(test_token_partial),
        cmocka_unit_test(test_nonfinite),
        cmocka_unit_test(test_errors_write_nothing),
    };
    return cmocka_run_group_tests_name("partials", tests, NULL, NULL);
}
