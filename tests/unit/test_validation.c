/*
 * test_validation.c — argument validation of every function: each error
 * code for each function, and in every error case nothing is written.
 *
 * Method: every buffer of a call (inputs and outputs) lives in one arena;
 * outputs are pre-filled with a sentinel byte pattern, inputs with valid
 * values. After a call that must fail, the whole arena is compared
 * byte-for-byte with its snapshot — so "no output buffer is written" is
 * checked even where an output was placed on top of an input.
 *
 * Non-finite inputs (the positive PREFLOSS_NONFINITE status) are tested per
 * family in test_sequence.c, test_rewards.c, test_dpo.c, test_ipo.c and
 * test_bt.c.
 */
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* A uniform view of the five pairwise functions                            */
/* ------------------------------------------------------------------------ */

typedef struct {
    float beta, eps, a1, a2, c;
} params;

static const params good_params = { 0.1f, 0.1f, 0.0f, 1.0f, 0.01f };

typedef struct {
    const char *name;
    int n_out;
    int n_in;
    int required_in;  /* bit mask of inputs required for n > 0 */
    int ref_pair;     /* index of rc (rr is ref_pair+1), or -1 */
    int (*call)(float **out, const float **in, size_t n, const params *p);
} pairwise_fn;

static int call_rewards(float **o, const float **i, size_t n, const params *p)
{
    return prefloss_rewards(o[0], o[1], o[2], o[3], i[0], i[1], i[2], i[3], n, p->beta);
}
static int call_dpo(float **o, const float **i, size_t n, const params *p)
{
    return prefloss_dpo_loss(o[0], o[1], o[2], i[0], i[1], i[2], i[3], i[4], n, p->beta, p->eps);
}
static int call_ipo(float **o, const float **i, size_t n, const params *p)
{
    return prefloss_ipo_loss(o[0], o[1], o[2], i[0], i[1], i[2], i[3], i[4], n, p->beta);
}
static int call_ipog(float **o, const float **i, size_t n, const params *p)
{
    return prefloss_ipo_general_loss(o[0], o[1], o[2], i[0], i[1], i[2], i[3], i[4], n, p->beta, p->a1, p->a2);
}
static int call_bt(float **o, const float **i, size_t n, const params *p)
{
    return prefloss_bt_loss(o[0], o[1], o[2], i[0], i[1], i[2], i[3], n, p->c);
}

static const pairwise_fn fns[] = {
    { "prefloss_rewards", 4, 4, 0x3, 2, call_rewards },
    { "prefloss_dpo_loss", 3, 5, 0x3, 2, call_dpo },
    { "prefloss_ipo_loss", 3, 5, 0x3, 2, call_ipo },
    { "prefloss_ipo_general_loss", 3, 5, 0x3, 2, call_ipog },
    { "prefloss_bt_loss", 3, 4, 0x3, -1, call_bt },
};
#define N_FNS (sizeof fns / sizeof fns[0])

/* The arena: slot k (inputs first, then outputs) holds N floats at
 * arena + k*3N + N, with N floats of padding on either side so outputs can
 * be shifted onto neighbouring memory without leaving the arena. */
enum { N = 8, MAXBUF = 9, STRIDE = 3 * N };

typedef struct {
    float mem[MAXBUF * STRIDE];
    float snap[MAXBUF * STRIDE];
    const float *in[5];
    float *out[4];
} arena;

static float *slot(arena *a, int k) { return a->mem + k * STRIDE + N; }

static void arena_init(arena *a, const pairwise_fn *f)
{
    int k;
    size_t j;
    tu_fill_sentinel(a->mem, sizeof a->mem);
    for (k = 0; k < f->n_in; k++) {
        float *s = slot(a, k);
        for (j = 0; j < N; j++) s[j] = -1.0f - (float)(k + 1) * 0.5f - (float)j; /* valid log-probs */
        a->in[k] = s;
    }
    for (k = 0; k < f->n_out; k++) a->out[k] = slot(a, f->n_in + k);
    memcpy(a->snap, a->mem, sizeof a->mem);
}

#define assert_arena_untouched(a, what)                                       \
    do {                                                                      \
        if (memcmp((a)->mem, (a)->snap, sizeof (a)->mem) != 0) {              \
            print_error("%s: a buffer was written although the call failed\n", what); \
            fail();                                                           \
        }                                                                     \
    } while (0)

/* Call and expect an error; nothing may change. */
static void expect_error(arena *a, const pairwise_fn *f, size_t n, const params *p,
                         int want, const char *what)
{
    int got;
    memcpy(a->snap, a->mem, sizeof a->mem);
    got = f->call(a->out, a->in, n, p);
    if (got != want) {
        print_error("%s, %s: status %d (%s), expected %d (%s)\n", f->name, what, got,
                    tu_code_name(got), want, tu_code_name(want));
        fail();
    }
    assert_arena_untouched(a, f->name);
}

/* The baseline: valid arguments succeed (so the error tests below are not
 * passing for the wrong reason). Inputs may alias each other. */
static void test_valid_calls_succeed(void **state)
{
    size_t f;
    (void)state;
    for (f = 0; f < N_FNS; f++) {
        arena a;
        arena_init(&a, &fns[f]);
        assert_status(fns[f].call(a.out, a.in, N, &good_params), PREFLOSS_OK);
        assert_false(tu_is_sentinel(a.out[0], N * sizeof(float)));
        /* inputs may alias each other (only outputs must be distinct) */
        arena_init(&a, &fns[f]);
        a.in[1] = a.in[0];
        assert_status(fns[f].call(a.out, a.in, N, &good_params), PREFLOSS_OK);
        /* every output may be NULL */
        arena_init(&a, &fns[f]);
        a.out[0] = a.out[1] = a.out[2] = NULL;
        if (fns[f].n_out == 4) a.out[3] = NULL;
        assert_status(fns[f].call(a.out, a.in, N, &good_params), PREFLOSS_OK);
        assert_arena_untouched(&a, fns[f].name);
    }
}

/* n == 0 is valid and does nothing, even with every pointer NULL. */
static void test_n_zero(void **state)
{
    size_t f;
    (void)state;
    for (f = 0; f < N_FNS; f++) {
        float *nout[4] = { NULL, NULL, NULL, NULL };
        const float *nin[5] = { NULL, NULL, NULL, NULL, NULL };
        arena a;
        assert_status(fns[f].call(nout, nin, 0, &good_params), PREFLOSS_OK);
        arena_init(&a, &fns[f]);
        assert_status(fns[f].call(a.out, a.in, 0, &good_params), PREFLOSS_OK);
        assert_arena_untouched(&a, fns[f].name);
    }
    assert_status(prefloss_sequence_logps(NULL, NULL, NULL, 0, 0, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps(NULL, NULL, NULL, 0, 5, PREFLOSS_REDUCE_MEAN), PREFLOSS_OK);
    assert_status(prefloss_sequence_logps_backward(NULL, NULL, NULL, 0, 7, PREFLOSS_REDUCE_SUM), PREFLOSS_OK);
}

/* A NULL required input (n > 0) is PREFLOSS_ERR_NULL; so is exactly one of
 * the two reference pointers. */
static void test_null_pointers(void **state)
{
    size_t f;
    (void)state;
    for (f = 0; f < N_FNS; f++) {
        int k;
        arena a;
        for (k = 0; k < fns[f].n_in; k++) {
            if (!(fns[f].required_in & (1 << k))) continue;
            arena_init(&a, &fns[f]);
            a.in[k] = NULL;
            expect_error(&a, &fns[f], N, &good_params, PREFLOSS_ERR_NULL, "required input NULL");
            expect_error(&a, &fns[f], 1, &good_params, PREFLOSS_ERR_NULL, "required input NULL, n=1");
        }
        if (fns[f].ref_pair >= 0) {
            arena_init(&a, &fns[f]);
            a.in[fns[f].ref_pair] = NULL;
            expect_error(&a, &fns[f], N, &good_params, PREFLOSS_ERR_NULL, "ref_chosen NULL only");
            arena_init(&a, &fns[f]);
            a.in[fns[f].ref_pair + 1] = NULL;
            expect_error(&a, &fns[f], N, &good_params, PREFLOSS_ERR_NULL, "ref_rejected NULL only");
            /* both NULL: reference-free, valid */
            arena_init(&a, &fns[f]);
            a.in[fns[f].ref_pair] = a.in[fns[f].ref_pair + 1] = NULL;
            assert_status(fns[f].call(a.out, a.in, N, &good_params), PREFLOSS_OK);
        }
    }
}

/* beta must be a finite normal float > 0: 0, -0, negative, NaN, +-inf and
 * subnormals are PREFLOSS_ERR_PARAM; FLT_MIN (the smallest normal) is fine. */
static void test_bad_beta(void **state)
{
    const float bad[] = { 0.0f, -0.0f, -0.1f, -FLT_MAX, NAN, -NAN, INFINITY, -INFINITY,
                          FLT_MIN / 2.0f, TU_FLT_TRUE_MIN, -FLT_MIN };
    size_t f, i;
    (void)state;
    for (f = 0; f < N_FNS; f++) {
        arena a;
        if (fns[f].call == call_bt) continue; /* no beta */
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            params p = good_params;
            char what[64];
            p.beta = bad[i];
            snprintf(what, sizeof what, "beta = %a", (double)bad[i]);
            arena_init(&a, &fns[f]);
            expect_error(&a, &fns[f], N, &p, PREFLOSS_ERR_PARAM, what);
        }
        {
            params p = good_params;
            p.beta = FLT_MIN;
            arena_init(&a, &fns[f]);
            assert_status(fns[f].call(a.out, a.in, N, &p) >= 0, 1);
        }
    }
}

/* label_smoothing must lie in [0, 0.5]: just below 0, just above 0.5, 1,
 * NaN and +-inf are PREFLOSS_ERR_PARAM; 0, 0.5 and -0.0 (== 0) are valid. */
static void test_bad_label_smoothing(void **state)
{
    const float bad[] = { -TU_FLT_TRUE_MIN, -1e-7f, -1.0f, 0x1.000002p-1f /* next float after 0.5 */,
                          0.6f, 1.0f, NAN, INFINITY, -INFINITY };
    const float good[] = { 0.0f, 0.5f, -0.0f, TU_FLT_TRUE_MIN, 0.25f };
    const pairwise_fn *f = &fns[1];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        params p = good_params;
        arena a;
        char what[64];
        p.eps = bad[i];
        snprintf(what, sizeof what, "label_smoothing = %a", (double)bad[i]);
        arena_init(&a, f);
        expect_error(&a, f, N, &p, PREFLOSS_ERR_PARAM, what);
    }
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        params p = good_params;
        arena a;
        p.eps = good[i];
        arena_init(&a, f);
        assert_status(f->call(a.out, a.in, N, &p), PREFLOSS_OK);
    }
}

/* alpha1 and alpha2 must be finite with alpha1 <= alpha2 and a finite
 * difference: NaN or +-inf in either, alpha1 > alpha2, or a difference that
 * overflows is PREFLOSS_ERR_PARAM; alpha1 == alpha2 and large finite values
 * are fine. */
static void test_bad_alpha(void **state)
{
    const float bad[] = { NAN, INFINITY, -INFINITY };
    const float bad_pairs[][2] = {
        { 1.0f, 0.0f }, { 0.5f, 0.49999997f }, { 3.0f, -3.0f }, /* alpha1 > alpha2 */
        { -FLT_MAX, FLT_MAX }, { -3e38f, 1e38f },               /* difference overflows */
    };
    const float good_pairs[][2] = { { 0.0f, 1.0f }, { 0.25f, 0.25f }, { -1e30f, 3e30f }, { -1.0f, 3.0f } };
    const pairwise_fn *f = &fns[3];
    size_t i;
    int which;
    (void)state;
    for (which = 0; which < 2; which++)
        for (i = 0; i < 3; i++) {
            params p = good_params;
            arena a;
            if (which == 0) p.a1 = bad[i];
            else p.a2 = bad[i];
            arena_init(&a, f);
            expect_error(&a, f, N, &p, PREFLOSS_ERR_PARAM, which ? "alpha2 not finite" : "alpha1 not finite");
        }
    for (i = 0; i < sizeof bad_pairs / sizeof bad_pairs[0]; i++) {
        params p = good_params;
        arena a;
        char what[96];
        p.a1 = bad_pairs[i][0];
        p.a2 = bad_pairs[i][1];
        snprintf(what, sizeof what, "alpha1=%a alpha2=%a", (double)p.a1, (double)p.a2);
        arena_init(&a, f);
        expect_error(&a, f, N, &p, PREFLOSS_ERR_PARAM, what);
    }
    for (i = 0; i < sizeof good_pairs / sizeof good_pairs[0]; i++) {
        params p = good_params;
        arena a;
        p.a1 = good_pairs[i][0];
        p.a2 = good_pairs[i][1];
        arena_init(&a, f);
        assert_status(f->call(a.out, a.in, N, &p) >= 0, 1);
    }
}

/* center_coef must be >= 0 and finite: negative, NaN, +-inf are
 * PREFLOSS_ERR_PARAM; 0, -0.0 (== 0) and a subnormal are valid. */
static void test_bad_center_coef(void **state)
{
    const float bad[] = { -TU_FLT_TRUE_MIN, -1e-3f, -1.0f, NAN, INFINITY, -INFINITY };
    const float good[] = { 0.0f, -0.0f, TU_FLT_TRUE_MIN, 1.0f, 1e6f };
    const pairwise_fn *f = &fns[4];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        params p = good_params;
        arena a;
        char what[64];
        p.c = bad[i];
        snprintf(what, sizeof what, "center_coef = %a", (double)bad[i]);
        arena_init(&a, f);
        expect_error(&a, f, N, &p, PREFLOSS_ERR_PARAM, what);
    }
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        params p = good_params;
        arena a;
        p.c = good[i];
        arena_init(&a, f);
        assert_status(f->call(a.out, a.in, N, &p), PREFLOSS_OK);
    }
}

/* Outputs must not overlap any input or each other: full aliasing and
 * partial overlap by one element at either end (and everything between)
 * are PREFLOSS_ERR_OVERLAP; buffers that merely touch are fine. */
static void test_overlap(void **state)
{
    const ptrdiff_t shifts[] = { 0, 1, -1, N / 2, -(N / 2), N - 1, -(N - 1) };
    size_t f, s;
    (void)state;
    for (f = 0; f < N_FNS; f++) {
        const pairwise_fn *fn = &fns[f];
        int o, k;
        for (o = 0; o < fn->n_out; o++) {
            /* output o on top of input k */
            for (k = 0; k < fn->n_in; k++)
                for (s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
                    arena a;
                    char what[96];
                    arena_init(&a, fn);
                    a.out[o] = slot(&a, k) + shifts[s];
                    snprintf(what, sizeof what, "output %d over input %d shifted by %d", o, k, (int)shifts[s]);
                    expect_error(&a, fn, N, &good_params, PREFLOSS_ERR_OVERLAP, what);
                }
            /* output o on top of another output */
            for (k = 0; k < fn->n_out; k++) {
                if (k == o) continue;
                for (s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
                    arena a;
                    char what[96];
                    arena_init(&a, fn);
                    a.out[o] = a.out[k] + shifts[s];
                    snprintf(what, sizeof what, "output %d over output %d shifted by %d", o, k, (int)shifts[s]);
                    expect_error(&a, fn, N, &good_params, PREFLOSS_ERR_OVERLAP, what);
                }
            }
            /* touching but not overlapping: fine */
            for (k = 0; k < fn->n_in; k++) {
                arena a;
                int st;
                arena_init(&a, fn);
                a.out[o] = slot(&a, k) + N;
                st = fn->call(a.out, a.in, N, &good_params);
                if (st != PREFLOSS_OK) print_error("%s: output %d right after input %d\n", fn->name, o, k);
                assert_status(st, PREFLOSS_OK);
                arena_init(&a, fn);
                a.out[o] = slot(&a, k) - N;
                assert_status(fn->call(a.out, a.in, N, &good_params), PREFLOSS_OK);
            }
        }
    }
}

/* n whose byte size n*sizeof(float) does not fit in size_t is
 * PREFLOSS_ERR_SIZE, and nothing is read or written. */
static void test_size_overflow(void **state)
{
    const size_t bad[] = { SIZE_MAX / 4 + 1, SIZE_MAX / 2, SIZE_MAX / 2 + 1, SIZE_MAX };
    size_t f, i;
    (void)state;
    for (f = 0; f < N_FNS; f++)
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            arena a;
            arena_init(&a, &fns[f]);
            expect_error(&a, &fns[f], bad[i], &good_params, PREFLOSS_ERR_SIZE, "n * 4 overflows");
        }
}

/* ------------------------------------------------------------------------ */
/* Sequence log-probs                                                       */
/* ------------------------------------------------------------------------ */

enum { SB = 4, ST = 6 };

typedef struct {
    /* one arena of bytes, float-aligned */
    float mem[8 * SB * ST];
    float snap[8 * SB * ST];
} seq_arena;

/* Layout (in floats): tokens at 2*SB*ST (SB*ST floats); mask bytes at
 * 4*SB*ST (SB*ST bytes); seq/dseq at 6*SB*ST (SB floats). Padding elsewhere. */
static float *sa_tokens(seq_arena *a) { return a->mem + 2 * SB * ST; }
static unsigned char *sa_mask(seq_arena *a) { return (unsigned char *)(a->mem + 4 * SB * ST); }
static float *sa_rows(seq_arena *a) { return a->mem + 6 * SB * ST; }

static void sa_init(seq_arena *a, int backward)
{
    size_t j;
    tu_fill_sentinel(a->mem, sizeof a->mem);
    if (!backward)
        for (j = 0; j < SB * ST; j++) sa_tokens(a)[j] = -0.5f * (float)(j + 1);
    else
        for (j = 0; j < SB; j++) sa_rows(a)[j] = 1.0f + (float)j;
    for (j = 0; j < SB * ST; j++) sa_mask(a)[j] = (unsigned char)(j % 3 != 0);
}

#define SA_SNAP(a) memcpy((a)->snap, (a)->mem, sizeof (a)->mem)
#define SA_UNTOUCHED(a) (memcmp((a)->mem, (a)->snap, sizeof (a)->mem) == 0)

#define expect_seq(call, want, a, what)                                        \
    do {                                                                       \
        int es_got_;                                                           \
        SA_SNAP(a);                                                            \
        es_got_ = (call);                                                      \
        if (es_got_ != (want)) {                                               \
            print_error("%s: status %d (%s), expected %d (%s)\n", what, es_got_, \
                        tu_code_name(es_got_), (int)(want), tu_code_name(want)); \
            fail();                                                            \
        }                                                                      \
        if (!SA_UNTOUCHED(a)) {                                                \
            print_error("%s: a buffer was written although the call failed\n", what); \
            fail();                                                            \
        }                                                                      \
    } while (0)

/* Required pointers, unknown reductions. */
static void test_sequence_null_and_param(void **state)
{
    const int bad_red[] = { -1, 2, 3, 100, -2147483647 - 1 };
    seq_arena a;
    size_t i;
    (void)state;

    sa_init(&a, 0);
    expect_seq(prefloss_sequence_logps(NULL, sa_tokens(&a), sa_mask(&a), SB, ST, PREFLOSS_REDUCE_SUM),
               PREFLOSS_ERR_NULL, &a, "forward: seq_logps NULL");
    expect_seq(prefloss_sequence_logps(sa_rows(&a), NULL, sa_mask(&a), SB, ST, PREFLOSS_REDUCE_SUM),
               PREFLOSS_ERR_NULL, &a, "forward: token_logps NULL");
    expect_seq(prefloss_sequence_logps(NULL, NULL, NULL, SB, 0, PREFLOSS_REDUCE_MEAN),
               PREFLOSS_ERR_NULL, &a, "forward: seq_logps NULL, seq_len 0");
    sa_init(&a, 1);
    expect_seq(prefloss_sequence_logps_backward(sa_tokens(&a), NULL, sa_mask(&a), SB, ST, PREFLOSS_REDUCE_SUM),
               PREFLOSS_ERR_NULL, &a, "backward: dseq_logps NULL");

    for (i = 0; i < sizeof bad_red / sizeof bad_red[0]; i++) {
        sa_init(&a, 0);
        expect_seq(prefloss_sequence_logps(sa_rows(&a), sa_tokens(&a), sa_mask(&a), SB, ST, bad_red[i]),
                   PREFLOSS_ERR_PARAM, &a, "forward: unknown reduction");
        sa_init(&a, 1);
        expect_seq(prefloss_sequence_logps_backward(sa_tokens(&a), sa_rows(&a), sa_mask(&a), SB, ST, bad_red[i]),
                   PREFLOSS_ERR_PARAM, &a, "backward: unknown reduction");
    }

    /* and the valid calls succeed */
    sa_init(&a, 0);
    assert_status(prefloss_sequence_logps(sa_rows(&a), sa_tokens(&a), sa_mask(&a), SB, ST, PREFLOSS_REDUCE_MEAN),
                  PREFLOSS_OK);
    sa_init(&a, 1);
    assert_status(prefloss_sequence_logps_backward(sa_tokens(&a), sa_rows(&a), NULL, SB, ST, PREFLOSS_REDUCE_MEAN),
                  PREFLOSS_OK);
}

/* The output must not overlap the tokens/upstream gradient or the mask —
 * including a single shared byte at either end of the mask. */
static void test_sequence_overlap(void **state)
{
    /* seq_logps (SB floats) placed at tokens + shift: all overlap */
    const ptrdiff_t fshift[] = { 0, 1, -1, SB - 1, -(SB - 1), SB * ST - 1 };
    /* mask (SB*ST bytes) placed at (bytes of seq_logps) + shift: all overlap,
     * 4*SB - 1 and -(SB*ST - 1) by exactly one byte */
    const ptrdiff_t bshift[] = { 0, 1, -1, 2, 4 * SB - 1, -(SB * ST - 1) };
    /* dtoken (SB*ST floats) placed at dseq + shift: all overlap */
    const ptrdiff_t dshift[] = { -(SB * ST - 1), -(SB * ST / 2), 0, 1, SB - 1 };
    seq_arena a;
    size_t s;
    int red;
    (void)state;
    for (red = PREFLOSS_REDUCE_SUM; red <= PREFLOSS_REDUCE_MEAN; red++) {
        for (s = 0; s < sizeof fshift / sizeof fshift[0]; s++) {
            sa_init(&a, 0);
            expect_seq(prefloss_sequence_logps(sa_tokens(&a) + fshift[s], sa_tokens(&a), sa_mask(&a), SB, ST, red),
                       PREFLOSS_ERR_OVERLAP, &a, "forward: seq_logps over token_logps");
        }
        for (s = 0; s < sizeof bshift / sizeof bshift[0]; s++) {
            sa_init(&a, 0);
            expect_seq(prefloss_sequence_logps(sa_rows(&a), sa_tokens(&a),
                                               (unsigned char *)sa_rows(&a) + bshift[s], SB, ST, red),
                       PREFLOSS_ERR_OVERLAP, &a, "forward: seq_logps over mask");
        }
        for (s = 0; s < sizeof dshift / sizeof dshift[0]; s++) {
            sa_init(&a, 1);
            expect_seq(prefloss_sequence_logps_backward(sa_rows(&a) + dshift[s], sa_rows(&a), sa_mask(&a), SB, ST, red),
                       PREFLOSS_ERR_OVERLAP, &a, "backward: dtoken over dseq");
        }
        /* backward: dtoken over the mask, sharing exactly one byte */
        {
            float *dt = a.mem + 3 * SB * ST;          /* floats [72, 96): bytes [288, 384) */
            unsigned char *last = (unsigned char *)(void *)(dt + SB * ST) - 1; /* mask starts on dt's last byte */
            float *dt2 = a.mem + 4 * SB * ST + 8;     /* mask ends on dt2's first byte */
            unsigned char *first = (unsigned char *)(void *)dt2 - (SB * ST - 1);
            sa_init(&a, 1);
            expect_seq(prefloss_sequence_logps_backward(dt, sa_rows(&a), last, SB, ST, red),
                       PREFLOSS_ERR_OVERLAP, &a, "backward: dtoken's last byte is the mask's first");
            sa_init(&a, 1);
            expect_seq(prefloss_sequence_logps_backward(dt2, sa_rows(&a), first, SB, ST, red),
                       PREFLOSS_ERR_OVERLAP, &a, "backward: dtoken's first byte is the mask's last");
            sa_init(&a, 1);
            expect_seq(prefloss_sequence_logps_backward((float *)(void *)sa_mask(&a), sa_rows(&a), sa_mask(&a),
                                                        SB, ST, red),
                       PREFLOSS_ERR_OVERLAP, &a, "backward: dtoken == mask");
        }
        /* touching is fine: output right after / right before the input */
        sa_init(&a, 0);
        assert_status(prefloss_sequence_logps(sa_tokens(&a) + SB * ST, sa_tokens(&a), sa_mask(&a), SB, ST, red),
                      PREFLOSS_OK);
        sa_init(&a, 0);
        assert_status(prefloss_sequence_logps(sa_tokens(&a) - SB, sa_tokens(&a), NULL, SB, ST, red), PREFLOSS_OK);
        sa_init(&a, 0);
        assert_status(prefloss_sequence_logps(sa_rows(&a), sa_tokens(&a), (unsigned char *)(sa_rows(&a) + SB),
                                              SB, ST, red), PREFLOSS_OK);
        sa_init(&a, 1);
        assert_status(prefloss_sequence_logps_backward(sa_rows(&a) - SB * ST, sa_rows(&a), sa_mask(&a), SB, ST, red),
                      PREFLOSS_OK);
    }
}

/* batch * seq_len (or its byte size, or batch * 4) overflowing size_t is
 * PREFLOSS_ERR_SIZE — including products that wrap around to 0. */
static void test_sequence_size_overflow(void **state)
{
    const size_t half = (size_t)1 << (sizeof(size_t) * 4); /* 2^32 on LP64 */
    const size_t sizes[][2] = {
        { half, half },                 /* product wraps to exactly 0 */
        { SIZE_MAX / 2 + 1, 2 },        /* wraps to 0 */
        { SIZE_MAX, SIZE_MAX },
        { 1, SIZE_MAX / 4 + 1 },        /* elements fit, bytes do not */
        { 2, SIZE_MAX / 8 + 1 },
        { SIZE_MAX / 4 + 1, 1 },        /* batch * 4 overflows */
    };
    seq_arena a;
    size_t i;
    int red;
    (void)state;
    for (red = PREFLOSS_REDUCE_SUM; red <= PREFLOSS_REDUCE_MEAN; red++)
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            char what[96];
            snprintf(what, sizeof what, "batch=%zu seq_len=%zu", sizes[i][0], sizes[i][1]);
            sa_init(&a, 0);
            expect_seq(prefloss_sequence_logps(sa_rows(&a), sa_tokens(&a), sa_mask(&a), sizes[i][0], sizes[i][1], red),
                       PREFLOSS_ERR_SIZE, &a, what);
            sa_init(&a, 1);
            expect_seq(prefloss_sequence_logps_backward(sa_tokens(&a), sa_rows(&a), sa_mask(&a), sizes[i][0],
                                                        sizes[i][1], red),
                       PREFLOSS_ERR_SIZE, &a, what);
        }
}

/* seq_len == 0 with batch * 4 overflowing: there are no tokens, but
 * seq_logps (forward) and dseq_logps (backward) are buffers of batch floats
 * whose byte size does not fit in size_t: PREFLOSS_ERR_SIZE. (Kept as its
 * own test, last, because an implementation that only checks
 * batch * seq_len writes or reads far past the buffers here.) */
static void test_sequence_size_overflow_no_tokens(void **state)
{
    seq_arena a;
    int red;
    (void)state;
    for (red = PREFLOSS_REDUCE_SUM; red <= PREFLOSS_REDUCE_MEAN; red++) {
        sa_init(&a, 0);
        expect_seq(prefloss_sequence_logps(sa_rows(&a), sa_tokens(&a), sa_mask(&a), SIZE_MAX / 4 + 1, 0, red),
                   PREFLOSS_ERR_SIZE, &a, "forward: batch=SIZE_MAX/4+1 seq_len=0");
        sa_init(&a, 1);
        expect_seq(prefloss_sequence_logps_backward(sa_tokens(&a), sa_rows(&a), sa_mask(&a), SIZE_MAX / 4 + 1, 0, red),
                   PREFLOSS_ERR_SIZE, &a, "backward: batch=SIZE_MAX/4+1 seq_len=0");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_calls_succeed),
        cmocka_unit_test(test_n_zero),
        cmocka_unit_test(test_null_pointers),
        cmocka_unit_test(test_bad_beta),
        cmocka_unit_test(test_bad_label_smoothing),
        cmocka_unit_test(test_bad_alpha),
        cmocka_unit_test(test_bad_center_coef),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_size_overflow),
        cmocka_unit_test(test_sequence_null_and_param),
        cmocka_unit_test(test_sequence_overlap),
        cmocka_unit_test(test_sequence_size_overflow),
        cmocka_unit_test(test_sequence_size_overflow_no_tokens),
    };
    return cmocka_run_group_tests_name("validation", tests, NULL, NULL);
}
