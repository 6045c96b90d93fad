/*
 * tests/errors/errors.c — walks the bad-input table of docs/errors.md.
 *
 * TWIN below is the machine-readable copy of the table "Every class of bad
 * input": the exact text of each row's three cells, and a check that
 * exercises the row on the entry points it applies to. The test fails if
 * the markdown has a row the twin lacks (or with a different status or
 * "written" text), if the twin has a row the markdown lacks, or if a check
 * fails. Also checks the status-code table against the macros.
 * Usage: errors docs/errors.md
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prefloss.h"

static int fails;
#define CHECK(c, ...) do { if (!(c)) { fails++; fprintf(stderr, "errors: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define N 5
static float PC[N] = {-10, -20, -30, -40, -50}, PR[N] = {-11, -19, -33, -38, -52};
static float RC[N] = {-10.5f, -20, -29, -41, -50}, RR[N] = {-11, -20.5f, -33, -39, -51};
static float UP[N] = {1, 0.5f, 2, 1, 1};
static float O[4][N + 3]; /* room for 6 tokens */
static const float SENT = -12345.0f;
static void sentinel(void) { int i, k; for (k = 0; k < 4; k++) for (i = 0; i < N + 3; i++) O[k][i] = SENT; }
static int untouched(void) { int i, k; for (k = 0; k < 4; k++) for (i = 0; i < N + 3; i++) if (O[k][i] != SENT) return 0; return 1; }

/* every pairwise entry point with the given beta-like parameter set */
static int dpo(float beta, float eps, size_t n) { return prefloss_dpo_loss(O[0], O[1], O[2], PC, PR, RC, RR, UP, n, beta, eps); }
static int ipo(float beta, size_t n) { return prefloss_ipo_loss(O[0], O[1], O[2], PC, PR, RC, RR, UP, n, beta); }
static int ipog(float beta, float a1, float a2, size_t n) { return prefloss_ipo_general_loss(O[0], O[1], O[2], PC, PR, RC, RR, UP, n, beta, a1, a2); }
static int bt(float c, size_t n) { return prefloss_bt_loss(O[0], O[1], O[2], PC, PR, RC, UP, n, c); }
static int rew(float beta, size_t n) { return prefloss_rewards(O[0], O[1], O[2], O[3], PC, PR, RC, RR, n, beta); }

#define EXPECT_ERR(call, code, what) do { sentinel(); { int st_ = (call); \
    CHECK(st_ == (code), "%s: %s returned %d, table says %d", what, #call, st_, code); \
    CHECK(untouched(), "%s: %s wrote an output", what, #call); } } while (0)

/* ---- the 1.1 entry points ------------------------------------------------ */
static prefloss_pair_params PP;
static float WT[N] = {1, 0.5f, 2, 1.5f, 0.25f};
static float MA[N] = {-0.5f, -1, -0.1f, -2, -0.01f}, MB[N] = {-0.7f, -0.9f, -3, -1, -0.2f};
static unsigned char DES[N] = {1, 0, 1, 1, 0};
static const int MIXK[2] = {PREFLOSS_LOSS_SIGMOID, PREFLOSS_LOSS_DISCOPOP};
static const float MIXW[2] = {1.0f, 0.5f};
/* the kinds of prefloss_pair_loss, as the library reports them */
#define NKINDS prefloss_loss_kind_count()
static void pp(void) { prefloss_pair_params_init(&PP, sizeof PP); }
static int pl(int kind, size_t n) { return prefloss_pair_loss(O[0], O[1], O[2], PC, PR, RC, RR, WT, UP, n, kind, &PP); }
static int mix(const int *k, const float *mw, size_t nk, size_t n) { return prefloss_pair_loss_mix(O[0], O[1], O[2], PC, PR, RC, RR, WT, UP, n, k, mw, nk, &PP); }
static int orpo(float lambda, float nll, size_t n) { return prefloss_orpo_loss(O[0], O[1], O[2], MA, MB, UP, n, lambda, nll); }
static int kto(float beta, float kl, float wd, float wu, size_t n) { return prefloss_kto_loss(O[0], O[1], PC, RC, DES, UP, n, beta, kl, wd, wu); }
/* BCO's running mean on a state (delta, count); the state must stay as it was */
static void bco_expect(float delta, float count, const float *pc, const float *rc, size_t n, float beta, int code, const char *w)
{
    float d = delta, c = count;
    int st = prefloss_bco_update_delta(&d, &c, pc, PR, rc, rc ? RR : NULL, n, beta);
    CHECK(st == code, "%s: prefloss_bco_update_delta returned %d, table says %d", w, st, code);
    CHECK(memcmp(&d, &delta, 4) == 0 && memcmp(&c, &count, 4) == 0, "%s: bco_update_delta changed its state", w);
}
/* every kind with the current PP: the status; nothing written on an error */
static void kinds_expect(int code, const char *w)
{
    int k;
    for (k = 0; k < NKINDS; k++) {
        sentinel();
        {
            int st = pl(k, N);
            CHECK(st == code, "%s: prefloss_pair_loss kind %d returned %d, table says %d", w, k, st, code);
            if (code < 0) CHECK(untouched(), "%s: kind %d wrote an output", w, k);
        }
    }
}

static void row_kind(const char *w)
{
    const int bad[] = {-1, NKINDS, NKINDS + 1, 1000, -2147483647 - 1, 2147483647};
    int kinds[2] = {PREFLOSS_LOSS_IPO, 0};
    size_t k;
    pp();
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        EXPECT_ERR(pl(bad[k], N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(pl(bad[k], 0), PREFLOSS_ERR_PARAM, w); /* even when n == 0 */
        kinds[1] = bad[k];
        EXPECT_ERR(mix(kinds, MIXW, 2, N), PREFLOSS_ERR_PARAM, w);
        CHECK(prefloss_loss_kind_name(bad[k]) == NULL, "%s: kind_name(%d) not NULL", w, bad[k]);
    }
    CHECK(prefloss_loss_kind_from_name("dpo") == PREFLOSS_ERR_PARAM && prefloss_loss_kind_from_name("") == PREFLOSS_ERR_PARAM
          && prefloss_loss_kind_from_name("sigmoid ") == PREFLOSS_ERR_PARAM, "%s: kind_from_name of an unknown name", w);
}
static void row_psize(const char *w)
{
    size_t s;
    for (s = 0; s < sizeof(size_t); s++) {
        unsigned char blk[sizeof(prefloss_pair_params)], ref[sizeof blk];
        pp();
        PP.size = s;
        kinds_expect(PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(mix(MIXK, MIXW, 2, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(mix(MIXK, MIXW, 0, N), PREFLOSS_ERR_PARAM, w);
        memset(blk, 0xAB, sizeof blk);
        memcpy(ref, blk, sizeof blk);
        CHECK(prefloss_pair_params_init((prefloss_pair_params *)(void *)blk, s) == PREFLOSS_ERR_PARAM, "%s: init size %zu", w, s);
        CHECK(memcmp(blk, ref, sizeof blk) == 0, "%s: init size %zu wrote", w, s);
    }
    pp();
}
static void row_pls(const char *w)
{
    const float bad[] = {-1e-45f, -0.1f, 0.50000006f, 1.0f, NAN, INFINITY, -INFINITY};
    size_t k;
    int j, users = 0;
    /* the kinds that read label smoothing, as the library says */
    for (j = 0; j < NKINDS; j++) {
        int reads = prefloss_loss_kind_reads(j, "label_smoothing");
        int open_half = prefloss_loss_kind_reads(j, "label_smoothing<1/2");
        CHECK(reads == 0 || reads == 1, "%s: kind_reads(%d, label_smoothing) = %d", w, j, reads);
        users += reads == 1;
        for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            pp();
            PP.label_smoothing = bad[k];
            if (reads == 1) EXPECT_ERR(pl(j, N), PREFLOSS_ERR_PARAM, w);
            else CHECK(pl(j, N) == PREFLOSS_OK, "%s: kind %d checks label_smoothing it does not read", w, j);
        }
        pp();
        PP.label_smoothing = 0.5f; /* [0, 1/2] or, for robust, [0, 1/2) */
        if (open_half == 1) EXPECT_ERR(pl(j, N), PREFLOSS_ERR_PARAM, w);
        else CHECK(pl(j, N) == PREFLOSS_OK, "%s: kind %d refuses eps = 0.5", w, j);
    }
    CHECK(users == 7, "%s: %d kinds read label_smoothing, documented 7", w, users);
    CHECK(prefloss_loss_kind_reads(PREFLOSS_LOSS_ROBUST, "label_smoothing<1/2") == 1
          && prefloss_loss_kind_reads(PREFLOSS_LOSS_SIGMOID, "label_smoothing<1/2") == 0,
          "%s: only robust has the open bound 1/2", w);
    /* the introspection's own errors */
    CHECK(prefloss_loss_kind_reads(0, NULL) == PREFLOSS_ERR_NULL, "%s: kind_reads(0, NULL)", w);
    CHECK(prefloss_loss_kind_reads(0, "betas") == PREFLOSS_ERR_PARAM
          && prefloss_loss_kind_reads(0, "") == PREFLOSS_ERR_PARAM, "%s: kind_reads of an unknown field", w);
    CHECK(prefloss_loss_kind_reads(-1, "beta") == PREFLOSS_ERR_PARAM
          && prefloss_loss_kind_reads(NKINDS, "beta") == PREFLOSS_ERR_PARAM, "%s: kind_reads of an unknown kind", w);
    pp();
}
static void row_tau(const char *w)
{
    const float bad[] = {0.0f, -0.0f, -0.05f, 1.0000001f, 2.0f, NAN, INFINITY, 1e-40f};
    size_t k;
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        pp();
        PP.discopop_tau = bad[k];
        EXPECT_ERR(pl(PREFLOSS_LOSS_DISCOPOP, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(mix(MIXK, MIXW, 2, N), PREFLOSS_ERR_PARAM, w);
    }
    pp();
}
static void row_adiv(const char *w)
{
    const float bad[] = {0.0f, -1.0f, NAN, INFINITY, -INFINITY, 1e-40f};
    size_t k;
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        pp();
        PP.alpha = bad[k];
        EXPECT_ERR(pl(PREFLOSS_LOSS_ALPHA, N), PREFLOSS_ERR_PARAM, w);
    }
    pp();
}
static void row_gamma_delta(const char *w)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    size_t k;
    for (k = 0; k < 3; k++) {
        pp();
        PP.simpo_gamma = bad[k];
        EXPECT_ERR(pl(PREFLOSS_LOSS_SIMPO, N), PREFLOSS_ERR_PARAM, w);
        pp();
        PP.bco_delta = bad[k];
        EXPECT_ERR(pl(PREFLOSS_LOSS_BCO_PAIR, N), PREFLOSS_ERR_PARAM, w);
    }
    pp();
}
static void row_nll(const char *w)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    size_t k;
    for (k = 0; k < 3; k++) {
        pp();
        PP.nll_weight = bad[k];
        kinds_expect(PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(mix(MIXK, MIXW, 2, N), PREFLOSS_ERR_PARAM, w);
    }
    pp();
}
static void row_orpo_param(const char *w)
{
    const float bad_l[] = {-1e-45f, -1.0f, NAN, INFINITY}, bad_n[] = {NAN, INFINITY, -INFINITY};
    size_t k;
    for (k = 0; k < 4; k++) {
        EXPECT_ERR(orpo(bad_l[k], 1.0f, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(orpo(bad_l[k], 1.0f, 0), PREFLOSS_ERR_PARAM, w);
    }
    for (k = 0; k < 3; k++) EXPECT_ERR(orpo(0.1f, bad_n[k], N), PREFLOSS_ERR_PARAM, w);
}
static void row_kto_param(const char *w)
{
    const float bad[] = {-1e-45f, -1.0f, NAN, INFINITY};
    size_t k;
    for (k = 0; k < 4; k++) {
        EXPECT_ERR(kto(0.1f, bad[k], 1, 1, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(kto(0.1f, bad[k], 1, 1, 0), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(kto(0.1f, 0, bad[k], 1, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(kto(0.1f, 0, 1, bad[k], N), PREFLOSS_ERR_PARAM, w);
    }
}
static void row_bco_state(const char *w)
{
    const float bad_c[] = {-1.0f, -1e-45f, NAN, INFINITY}, bad_d[] = {NAN, INFINITY, -INFINITY};
    size_t k;
    for (k = 0; k < 4; k++) {
        bco_expect(0.5f, bad_c[k], PC, RC, N, 0.1f, PREFLOSS_ERR_PARAM, w);
        bco_expect(0.5f, bad_c[k], PC, RC, 0, 0.1f, PREFLOSS_ERR_PARAM, w);
    }
    for (k = 0; k < 3; k++) bco_expect(bad_d[k], 4.0f, PC, RC, N, 0.1f, PREFLOSS_ERR_PARAM, w);
}
static void row_weight_nonfinite(const char *w)
{
    float wt[N] = {1, NAN, 2, INFINITY, -INFINITY};
    int k, i, j, st;
    pp();
    for (k = 0; k <= NKINDS; k++) {
        sentinel();
        st = k < NKINDS ? prefloss_pair_loss(O[0], O[1], O[2], PC, PR, RC, RR, wt, UP, N, k, &PP)
                        : prefloss_pair_loss_mix(O[0], O[1], O[2], PC, PR, RC, RR, wt, UP, N, MIXK, MIXW, 2, &PP);
        CHECK(st == PREFLOSS_NONFINITE, "%s: kind %d returned %d", w, k, st);
        for (i = 0; i < N; i++)
            for (j = 0; j < 3; j++)
                CHECK((O[j][i] != O[j][i]) == (i == 1 || i == 3 || i == 4) && O[j][i] != SENT,
                      "%s: kind %d output %d pair %d", w, k, j, i);
    }
}
static void row_weight_overlap(const char *w)
{
    int k;
    pp();
    for (k = 0; k < NKINDS; k++) {
        EXPECT_ERR(prefloss_pair_loss(O[0], O[1], O[2], PC, PR, RC, RR, O[0], UP, N, k, &PP), PREFLOSS_ERR_OVERLAP, w);
        EXPECT_ERR(prefloss_pair_loss(O[0], O[1], NULL, PC, PR, NULL, NULL, O[1] + 4, NULL, N, k, &PP), PREFLOSS_ERR_OVERLAP, w);
    }
    EXPECT_ERR(prefloss_pair_loss_mix(O[0], O[1], O[2], PC, PR, RC, RR, O[2] + 2, UP, N, MIXK, MIXW, 2, &PP), PREFLOSS_ERR_OVERLAP, w);
}
static void row_mix_null(const char *w)
{
    pp();
    EXPECT_ERR(mix(NULL, MIXW, 2, N), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(mix(MIXK, NULL, 2, N), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(mix(NULL, NULL, 1, 0), PREFLOSS_ERR_NULL, w); /* even when n == 0 */
    EXPECT_ERR(prefloss_pair_loss_mix(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL), PREFLOSS_OK, w);
}
static void row_mix_weight(const char *w)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    size_t k;
    pp();
    for (k = 0; k < 3; k++) {
        float mw[2] = {1.0f, 1.0f};
        mw[1] = bad[k];
        EXPECT_ERR(mix(MIXK, mw, 2, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(mix(MIXK, mw, 2, 0), PREFLOSS_ERR_PARAM, w);
    }
}
static void row_orpo_domain(const char *w)
{
    float a[N] = {-0.5f, 0.0f, -0.1f, 0.5f, -0.0f}, b[N] = {-0.7f, -0.9f, -3.0f, -1.0f, -0.2f};
    int i, j, st, pass;
    for (pass = 0; pass < 2; pass++) { /* the log-prob >= 0 in a, then in b */
        sentinel();
        st = pass ? prefloss_orpo_loss(O[0], O[1], O[2], b, a, UP, N, 0.1f, 1.0f)
                  : prefloss_orpo_loss(O[0], O[1], O[2], a, b, UP, N, 0.1f, 1.0f);
        CHECK(st == PREFLOSS_NONFINITE, "%s: orpo returned %d", w, st);
        for (i = 0; i < N; i++)
            for (j = 0; j < 3; j++)
                CHECK((O[j][i] != O[j][i]) == (i == 1 || i == 3 || i == 4) && O[j][i] != SENT,
                      "%s: orpo output %d pair %d = %g", w, j, i, (double)O[j][i]);
    }
}
static void row_kto_des(const char *w)
{
    EXPECT_ERR(prefloss_kto_loss(O[0], O[1], PC, RC, NULL, UP, N, 0.1f, 0, 1, 1), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_kto_loss(O[0], NULL, PC, NULL, NULL, NULL, 1, 0.1f, 0, 1, 1), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_kto_loss(NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f, 0, 1, 1), PREFLOSS_OK, w);
}
static void row_state_null(const char *w)
{
    float d = 0.5f, c = 2.0f;
    int st;
    sentinel();
    CHECK(prefloss_bco_update_delta(NULL, &c, PC, PR, NULL, NULL, N, 0.1f) == PREFLOSS_ERR_NULL && c == 2.0f, "%s: delta NULL", w);
    CHECK(prefloss_bco_update_delta(&d, NULL, PC, PR, NULL, NULL, 0, 0.1f) == PREFLOSS_ERR_NULL && d == 0.5f, "%s: count NULL", w);
    st = prefloss_kto_kl(NULL, PC, RC, N);
    CHECK(st == PREFLOSS_ERR_NULL, "%s: kto_kl(NULL) returned %d", w, st);
    st = prefloss_kto_kl(NULL, NULL, NULL, 0);
    CHECK(st == PREFLOSS_ERR_NULL, "%s: kto_kl(NULL, n = 0) returned %d", w, st);
    CHECK(untouched(), "%s: wrote", w);
}
static void row_bco_nonfinite(const char *w)
{
    float pc[N];
    memcpy(pc, PC, sizeof pc);
    pc[3] = NAN;
    bco_expect(0.5f, 4.0f, pc, RC, N, 0.1f, PREFLOSS_NONFINITE, w);
    pc[3] = -INFINITY;
    bco_expect(0.5f, 4.0f, pc, NULL, N, 0.1f, PREFLOSS_NONFINITE, w);
}
static void row_kl_nonfinite(const char *w)
{
    float pk[N], kl = 1.0f;
    int st;
    memcpy(pk, PC, sizeof pk);
    pk[2] = INFINITY;
    st = prefloss_kto_kl(&kl, pk, RC, N);
    CHECK(st == PREFLOSS_NONFINITE && kl != kl, "%s: kto_kl returned %d, kl %g", w, st, (double)kl);
}

/* the older rows, on the 1.1 entry points */
static void new_beta(const char *w, float b)
{
    pp();
    PP.beta = b;
    kinds_expect(PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(mix(MIXK, MIXW, 2, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(kto(b, 0, 1, 1, N), PREFLOSS_ERR_PARAM, w);
    bco_expect(0.5f, 4.0f, PC, RC, N, b, PREFLOSS_ERR_PARAM, w);
    pp();
}
static void new_n0(const char *w)
{
    int k;
    pp();
    for (k = 0; k < NKINDS; k++)
        EXPECT_ERR(prefloss_pair_loss(NULL, NULL, NULL, NULL, NULL, NULL, RR, NULL, NULL, 0, k, &PP), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_pair_loss_mix(NULL, NULL, NULL, NULL, NULL, RC, NULL, NULL, NULL, 0, MIXK, MIXW, 2, NULL), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_orpo_loss(NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f, 1), PREFLOSS_OK, w);
    bco_expect(0.5f, 4.0f, NULL, NULL, 0, 0.1f, PREFLOSS_OK, w);
}
static void new_size(const char *w, size_t big)
{
    float kl = 3.0f;
    int k;
    pp();
    for (k = 0; k < NKINDS; k++) EXPECT_ERR(pl(k, big), PREFLOSS_ERR_SIZE, w);
    EXPECT_ERR(mix(MIXK, MIXW, 2, big), PREFLOSS_ERR_SIZE, w);
    EXPECT_ERR(orpo(0.1f, 1, big), PREFLOSS_ERR_SIZE, w);
    EXPECT_ERR(kto(0.1f, 0, 1, 1, big), PREFLOSS_ERR_SIZE, w);
    CHECK(prefloss_kto_kl(&kl, PC, RC, big) == PREFLOSS_ERR_SIZE && kl == 3.0f, "%s: kto_kl", w);
    bco_expect(0.5f, 4.0f, PC, RC, big, 0.1f, PREFLOSS_ERR_SIZE, w);
}
static void new_null(const char *w)
{
    float kl = 3.0f;
    pp();
    EXPECT_ERR(prefloss_pair_loss(O[0], O[1], O[2], NULL, PR, RC, RR, WT, UP, N, PREFLOSS_LOSS_HINGE, &PP), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_pair_loss(O[0], O[1], O[2], PC, NULL, NULL, NULL, NULL, NULL, N, PREFLOSS_LOSS_CPO, NULL), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_pair_loss_mix(O[0], O[1], O[2], PC, NULL, RC, RR, WT, UP, N, MIXK, MIXW, 2, &PP), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_orpo_loss(O[0], O[1], O[2], MA, NULL, UP, N, 0.1f, 1), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_kto_loss(O[0], O[1], NULL, RC, DES, UP, N, 0.1f, 0, 1, 1), PREFLOSS_ERR_NULL, w);
    CHECK(prefloss_kto_kl(&kl, PC, NULL, N) == PREFLOSS_ERR_NULL && kl == 3.0f, "%s: kto_kl", w);
    bco_expect(0.5f, 4.0f, NULL, RC, N, 0.1f, PREFLOSS_ERR_NULL, w);
}
static void new_ref(const char *w)
{
    int k;
    pp();
    for (k = 0; k < NKINDS; k++) /* simpo and cpo too: both or neither */
        EXPECT_ERR(prefloss_pair_loss(O[0], O[1], O[2], PC, PR, RC, NULL, NULL, NULL, N, k, &PP), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_pair_loss_mix(O[0], O[1], O[2], PC, PR, NULL, RR, NULL, NULL, N, MIXK, MIXW, 2, &PP), PREFLOSS_ERR_NULL, w);
    {
        float d = 0.5f, c = 4.0f;
        int st = prefloss_bco_update_delta(&d, &c, PC, PR, RC, NULL, N, 0.1f);
        CHECK(st == PREFLOSS_ERR_NULL && d == 0.5f && c == 4.0f, "%s: bco_update_delta returned %d", w, st);
    }
}
static void new_overlap(const char *w)
{
    pp();
    EXPECT_ERR(prefloss_pair_loss(O[0], O[0] + 1, NULL, PC, PR, NULL, NULL, NULL, NULL, N, PREFLOSS_LOSS_APO_ZERO, &PP), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_pair_loss_mix(O[0], O[1], O[2], PC, PR, RC, RR, NULL, O[1] + 3, N, MIXK, MIXW, 2, &PP), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_orpo_loss(O[0], O[1], O[0] + 2, MA, MB, NULL, N, 0.1f, 1), PREFLOSS_ERR_OVERLAP, w);
    /* KTO: an output over the desirable bytes */
    EXPECT_ERR(prefloss_kto_loss(O[2], O[1], PC, RC, (const unsigned char *)O[2] + 1, UP, N, 0.1f, 0, 1, 1), PREFLOSS_ERR_OVERLAP, w);
}
static void new_nonfinite(const char *w)
{
    float pc[N];
    int k, i, j, st;
    memcpy(pc, PC, sizeof pc);
    pc[2] = NAN;
    pc[4] = -INFINITY;
    pp();
    for (k = 0; k <= NKINDS + 1; k++) {
        sentinel();
        st = k < NKINDS ? prefloss_pair_loss(O[0], O[1], O[2], pc, PR, RC, RR, WT, UP, N, k, &PP)
           : k == NKINDS ? prefloss_pair_loss_mix(O[0], O[1], O[2], pc, PR, RC, RR, WT, UP, N, MIXK, MIXW, 2, &PP)
                         : prefloss_kto_loss(O[0], O[1], pc, RC, DES, UP, N, 0.1f, 0.1f, 1, 1);
        CHECK(st == PREFLOSS_NONFINITE, "%s: 1.1 function %d returned %d", w, k, st);
        for (i = 0; i < N; i++)
            for (j = 0; j < (k == NKINDS + 1 ? 2 : 3); j++)
                CHECK((O[j][i] != O[j][i]) == (i == 2 || i == 4) && O[j][i] != SENT, "%s: 1.1 function %d output %d sample %d", w, k, j, i);
    }
}
static void new_dlosses(const char *w)
{
    float up[N] = {1, NAN, 1, INFINITY, 1}, l2[N];
    int k, i;
    pp();
    for (k = 0; k <= NKINDS + 1; k++) {
        int st, st2;
        sentinel();
        if (k < NKINDS) {
            st = prefloss_pair_loss(O[0], O[1], O[2], PC, PR, RC, RR, WT, up, N, k, &PP);
            st2 = prefloss_pair_loss(l2, NULL, NULL, PC, PR, RC, RR, WT, NULL, N, k, &PP);
        } else if (k == NKINDS) {
            st = prefloss_orpo_loss(O[0], O[1], O[2], MA, MB, up, N, 0.1f, 1);
            st2 = prefloss_orpo_loss(l2, NULL, NULL, MA, MB, NULL, N, 0.1f, 1);
        } else {
            st = prefloss_kto_loss(O[0], O[1], PC, RC, DES, up, N, 0.1f, 0, 1, 1);
            st2 = prefloss_kto_loss(l2, NULL, PC, RC, DES, NULL, N, 0.1f, 0, 1, 1);
            O[2][1] = O[2][3] = NAN; /* KTO has one gradient */
            O[2][0] = O[2][2] = O[2][4] = 0;
        }
        CHECK(st == PREFLOSS_NONFINITE && st2 == PREFLOSS_OK, "%s: 1.1 function %d returned %d, %d", w, k, st, st2);
        for (i = 0; i < N; i++) {
            int badi = i == 1 || i == 3;
            CHECK(memcmp(&O[0][i], &l2[i], 4) == 0, "%s: 1.1 function %d loss %d not exact", w, k, i);
            CHECK((O[1][i] != O[1][i]) == badi && (O[2][i] != O[2][i]) == badi, "%s: 1.1 function %d gradients %d", w, k, i);
        }
    }
}

static void row_beta(const char *w)
{
    const float bad[] = {0.0f, -0.0f, -1.0f, NAN, INFINITY, -INFINITY, FLT_MIN / 2, 1e-45f};
    size_t k;
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        EXPECT_ERR(dpo(bad[k], 0, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(ipo(bad[k], N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(ipog(bad[k], 0, 1, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(rew(bad[k], N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(dpo(bad[k], 0, 0), PREFLOSS_ERR_PARAM, w); /* even when n == 0 */
        new_beta(w, bad[k]);
    }
}
static void row_eps(const char *w)
{
    const float bad[] = {-1e-45f, -0.1f, 0.50000006f, 1.0f, NAN, INFINITY};
    size_t k;
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) EXPECT_ERR(dpo(0.1f, bad[k], N), PREFLOSS_ERR_PARAM, w);
}
static void row_alpha(const char *w)
{
    EXPECT_ERR(ipog(0.1f, NAN, 1, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(ipog(0.1f, 0, INFINITY, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(ipog(0.1f, -INFINITY, 0, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(ipog(0.1f, 1, 0, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(ipog(0.1f, -FLT_MAX, FLT_MAX, N), PREFLOSS_ERR_PARAM, w);
}
static void row_center(const char *w)
{
    EXPECT_ERR(bt(-1e-45f, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(bt(-1.0f, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(bt(NAN, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(bt(INFINITY, N), PREFLOSS_ERR_PARAM, w);
}
static void row_reduction(const char *w)
{
    const int bad[] = {-1, 2, 3, 1000};
    size_t k;
    for (k = 0; k < 4; k++) {
        EXPECT_ERR(prefloss_sequence_logps(O[0], PC, NULL, 1, N, bad[k]), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(prefloss_sequence_logps_backward(O[0], PC, NULL, N, 1, bad[k]), PREFLOSS_ERR_PARAM, w);
    }
}
static void row_n0(const char *w)
{
    EXPECT_ERR(prefloss_dpo_loss(NULL, NULL, NULL, NULL, NULL, NULL, RR, NULL, 0, 0.1f, 0), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_ipo_loss(NULL, NULL, NULL, NULL, NULL, RC, NULL, NULL, 0, 0.1f), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_ipo_general_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f, 0, 1), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_bt_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_rewards(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_sequence_logps(NULL, NULL, NULL, 0, 7, 0), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_sequence_logps_backward(NULL, NULL, NULL, 0, 7, 1), PREFLOSS_OK, w);
    new_n0(w);
}
static void row_size(const char *w)
{
    const size_t big[] = {SIZE_MAX, SIZE_MAX / 4 + 1, SIZE_MAX / 2};
    size_t k;
    for (k = 0; k < 3; k++) {
        EXPECT_ERR(dpo(0.1f, 0, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(ipo(0.1f, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(ipog(0.1f, 0, 1, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(bt(0, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(rew(0.1f, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(prefloss_sequence_logps(O[0], PC, NULL, big[k], 0, 0), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(prefloss_sequence_logps(O[0], PC, NULL, 2, big[k], 0), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(prefloss_sequence_logps_backward(O[0], PC, NULL, big[k], 0, 0), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(prefloss_sequence_logps_backward(O[0], PC, NULL, (size_t)1 << 33, (size_t)1 << 31, 1), PREFLOSS_ERR_SIZE, w);
        new_size(w, big[k]);
    }
}
static void row_null(const char *w)
{
    EXPECT_ERR(prefloss_dpo_loss(O[0], O[1], O[2], NULL, PR, RC, RR, UP, N, 0.1f, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_dpo_loss(O[0], O[1], O[2], PC, NULL, RC, RR, UP, N, 0.1f, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_ipo_loss(O[0], O[1], O[2], NULL, PR, NULL, NULL, NULL, N, 0.1f), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_ipo_general_loss(O[0], O[1], O[2], PC, NULL, NULL, NULL, NULL, N, 0.1f, 0, 1), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_bt_loss(O[0], O[1], O[2], NULL, PR, NULL, NULL, N, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_rewards(O[0], O[1], O[2], O[3], PC, NULL, NULL, NULL, N, 0.1f), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_sequence_logps(NULL, PC, NULL, 1, N, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_sequence_logps(O[0], NULL, NULL, 1, N, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_sequence_logps_backward(NULL, PC, NULL, 1, N, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_sequence_logps_backward(O[0], NULL, NULL, 1, N, 0), PREFLOSS_ERR_NULL, w);
    new_null(w);
}
static void row_ref(const char *w)
{
    EXPECT_ERR(prefloss_dpo_loss(O[0], O[1], O[2], PC, PR, RC, NULL, UP, N, 0.1f, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_ipo_loss(O[0], O[1], O[2], PC, PR, NULL, RR, UP, N, 0.1f), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_ipo_general_loss(O[0], O[1], O[2], PC, PR, RC, NULL, UP, N, 0.1f, 0, 1), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_rewards(O[0], O[1], O[2], O[3], PC, PR, NULL, RR, N, 0.1f), PREFLOSS_ERR_NULL, w);
    new_ref(w);
}
static void row_overlap(const char *w)
{
    static float buf[3 * N];
    memcpy(buf, PC, sizeof PC);
    memcpy(buf + N, PR, sizeof PR);
    /* an output on an input (in place), partly on an input, on another output */
    sentinel();
    CHECK(prefloss_dpo_loss(buf, NULL, NULL, buf, buf + N, NULL, NULL, NULL, N, 0.1f, 0) == PREFLOSS_ERR_OVERLAP, "%s: in place", w);
    CHECK(prefloss_ipo_loss(buf + N - 1, NULL, NULL, PC, buf + N, NULL, NULL, NULL, 1, 0.1f) == PREFLOSS_OK, "%s: adjacent is not overlap", w);
    CHECK(memcmp(buf + N, PR, sizeof PR) == 0, "%s: input changed", w);
    memcpy(buf, PC, sizeof PC);
    EXPECT_ERR(prefloss_ipo_loss(O[0], O[0] + 2, NULL, PC, PR, NULL, NULL, NULL, N, 0.1f), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_bt_loss(O[0], O[1], O[2], PC, PR, NULL, O[2] + 4, N, 0), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_rewards(O[0], O[1], O[2], O[2] + 1, PC, PR, NULL, NULL, N, 0.1f), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_sequence_logps(O[0] + 1, O[0], NULL, 1, 2, 0), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_sequence_logps_backward(O[0], PC, (const unsigned char *)O[0] + 3, 1, 2, 0), PREFLOSS_ERR_OVERLAP, w);
    new_overlap(w);
}
static void row_nonfinite(const char *w)
{
    float pc[N];
    int i, k, st;
    memcpy(pc, PC, sizeof pc);
    pc[2] = NAN;
    pc[4] = -INFINITY;
    for (k = 0; k < 4; k++) {
        sentinel();
        st = k == 0 ? prefloss_dpo_loss(O[0], O[1], O[2], pc, PR, RC, RR, UP, N, 0.1f, 0.1f)
           : k == 1 ? prefloss_ipo_loss(O[0], O[1], O[2], pc, PR, RC, RR, UP, N, 0.1f)
           : k == 2 ? prefloss_bt_loss(O[0], O[1], O[2], pc, PR, RC, UP, N, 0.5f)
                    : prefloss_rewards(O[0], O[1], O[2], O[3], pc, PR, RC, RR, N, 0.1f);
        CHECK(st == PREFLOSS_NONFINITE, "%s: function %d returned %d", w, k, st);
        for (i = 0; i < N; i++) {
            int j;
            for (j = 0; j < (k == 3 ? 4 : 3); j++) {
                int nan = O[j][i] != O[j][i];
                CHECK(nan == (i == 2 || i == 4) && O[j][i] != SENT, "%s: function %d output %d sample %d", w, k, j, i);
            }
        }
    }
    new_nonfinite(w);
}
static void row_dlosses(const char *w)
{
    float up[N] = {1, NAN, 1, INFINITY, 1}, l2[N];
    int i;
    sentinel();
    CHECK(prefloss_dpo_loss(O[0], O[1], O[2], PC, PR, RC, RR, up, N, 0.1f, 0) == PREFLOSS_NONFINITE, "%s: status", w);
    CHECK(prefloss_dpo_loss(l2, NULL, NULL, PC, PR, RC, RR, NULL, N, 0.1f, 0) == PREFLOSS_OK, "%s: loss only", w);
    for (i = 0; i < N; i++) {
        int badi = i == 1 || i == 3;
        CHECK(O[0][i] == l2[i], "%s: loss %d not exact", w, i);
        CHECK((O[1][i] != O[1][i]) == badi && (O[2][i] != O[2][i]) == badi, "%s: gradients %d", w, i);
    }
    sentinel();
    CHECK(prefloss_bt_loss(O[0], O[1], O[2], PC, PR, NULL, up, N, 0) == PREFLOSS_NONFINITE, "%s: bt", w);
    CHECK(O[0][1] == O[0][1] && O[1][1] != O[1][1], "%s: bt sample 1", w);
    new_dlosses(w);
}
static void row_token(const char *w)
{
    float t[6] = {-1, -2, NAN, -4, -5, -6};
    unsigned char m[6] = {1, 1, 1, 1, 1, 1};
    sentinel();
    CHECK(prefloss_sequence_logps(O[0], t, m, 2, 3, 0) == PREFLOSS_NONFINITE, "%s: status", w);
    CHECK(O[0][0] != O[0][0] && O[0][1] == -15.0f, "%s: rows %g %g", w, (double)O[0][0], (double)O[0][1]);
}
static void row_masked(const char *w)
{
    float t[6] = {-1, -2, NAN, -4, INFINITY, -6};
    unsigned char m[6] = {1, 1, 0, 1, 0, 1};
    sentinel();
    CHECK(prefloss_sequence_logps(O[0], t, m, 2, 3, 1) == PREFLOSS_OK, "%s: status", w);
    CHECK(O[0][0] == -1.5f && O[0][1] == -5.0f, "%s: rows %g %g", w, (double)O[0][0], (double)O[0][1]);
}
static void row_dseq(const char *w)
{
    float d[2] = {2.0f, NAN};
    unsigned char m[6] = {1, 0, 1, 1, 0, 1};
    sentinel();
    CHECK(prefloss_sequence_logps_backward(O[0], d, m, 2, 3, 0) == PREFLOSS_NONFINITE, "%s: status", w);
    CHECK(O[0][0] == 2 && O[0][1] == 0 && O[0][2] == 2, "%s: row 0", w);
    CHECK(O[0][3] != O[0][3] && O[0][4] == 0 && O[0][5] != O[0][5], "%s: row 1", w);
}
static void row_overflow(const char *w)
{
    float pc = 3e38f, pr = -3e38f, l, g, g2;
    CHECK(prefloss_ipo_loss(&l, &g, &g2, &pc, &pr, NULL, NULL, NULL, 1, 0.1f) == PREFLOSS_OK && l == INFINITY, "%s: ipo %g", w, (double)l);
    pc = -3e38f; pr = 3e38f;
    CHECK(prefloss_dpo_loss(&l, &g, NULL, &pc, &pr, NULL, NULL, NULL, 1, 1.0f, 0) == PREFLOSS_OK && l == INFINITY, "%s: dpo %g", w, (double)l);
    CHECK(prefloss_bt_loss(&l, &g, &g2, &pc, &pr, NULL, NULL, 1, 1.0f) == PREFLOSS_OK && l == INFINITY && g == g && g2 == g2, "%s: bt %g", w, (double)l);
}

typedef struct { const char *input, *status, *written; void (*check)(const char *); } twin_t;

/* ---- the token stage (from logits) ------------------------------------------ */
/* 2 pairs, padded T = 2, V = 3: 4 rows per side; token calls use 3 rows */
static float XL[4 * 3] = {0.5f, -1, 2, 0, 0.25f, -0.5f, 1, 1, -2, 3, 0, 0.125f};
static float XR2[4 * 3] = {-0.5f, 1, 0, 2, -0.25f, 0.5f, 0, 1, 2, -3, 1, 0};
static int32_t TGT[4] = {2, 0, -100, 1}, TGR[4] = {1, -100, 0, 2};
static float TWS[8];
static float TD[2][4 * 3]; /* dlogits outputs */
static const float TSENT = -777.0f;
static void tsentinel(void) { int i, k; sentinel(); for (k = 0; k < 2; k++) for (i = 0; i < 12; i++) TD[k][i] = TSENT; for (i = 0; i < 8; i++) TWS[i] = TSENT; }
static int tuntouched(void) { int i, k; if (!untouched()) return 0; for (k = 0; k < 2; k++) for (i = 0; i < 12; i++) if (TD[k][i] != TSENT) return 0; for (i = 0; i < 8; i++) if (TWS[i] != TSENT) return 0; return 1; }
static int tok(const float *x, const int32_t *t, size_t v, size_t stride) { return prefloss_token_logps(O[0], O[1], x, t, 3, v, stride, -100); }
static int tokb(float *d, size_t dstride, const float *x, const int32_t *t, size_t v, size_t stride) { return prefloss_token_logps_backward(d, dstride, NULL, x, stride, RC, t, 3, v, -100); }
static int fused(float *dc, float *dr, const float *xc, const int32_t *tc, const size_t *oc, const size_t *orr, size_t v, size_t stride, float *ws, size_t wl)
{
    return prefloss_pair_loss_from_logits(O[0], O[1], O[2], dc, dr, xc, XR2, tc, TGR, oc, orr, RC, RR, UP, 2, 2, v, stride, -100, 0, PREFLOSS_LOSS_SIGMOID, NULL, ws, wl);
}
#define EXPECT_TERR(call, code, what) do { tsentinel(); { int st_ = (call); \
    CHECK(st_ == (code), "%s: %s returned %d, table says %d", what, #call, st_, code); \
    CHECK(tuntouched(), "%s: %s wrote an output", what, #call); } } while (0)
static void row_tok_param(const char *w)
{
    int32_t bad[4] = {3, 0, 1, 2}, neg[4] = {-1, 0, 1, 2};
    size_t off[3] = {0, 2, 1}, ok[3] = {0, 2, 4};
    EXPECT_TERR(tok(XL, bad, 3, 3), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(tok(XL, neg, 3, 3), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(tok(XL, TGT, 0, 3), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(prefloss_token_logps(O[0], O[1], XL, TGT, 0, 0, 0, -100), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(tok(XL, TGT, 3, 2), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(tokb(TD[0], 3, XL, bad, 3, 3), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(tokb(TD[0], 2, XL, TGT, 3, 3), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(fused(TD[0], TD[1], XL, bad, NULL, NULL, 3, 3, TWS, 8), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(fused(TD[0], TD[1], XL, TGT, NULL, NULL, 0, 3, TWS, 8), PREFLOSS_ERR_PARAM, w);
    EXPECT_TERR(fused(TD[0], TD[1], XL, TGT, off, ok, 3, 3, TWS, 8), PREFLOSS_ERR_PARAM, w);
}
static void row_tok_overlap(const char *w)
{
    static float y[4 * 3];
    memcpy(y, XL, sizeof y);
    EXPECT_TERR(tokb(y + 1, 3, y, TGT, 3, 3), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_TERR(tokb(y, 4, y, TGT, 3, 3), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_TERR(fused(y + 1, TD[1], y, TGT, NULL, NULL, 3, 3, TWS, 8), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_TERR(fused(XR2, TD[1], XL, TGT, NULL, NULL, 3, 3, TWS, 8), PREFLOSS_ERR_OVERLAP, w);
    CHECK(memcmp(y, XL, sizeof y) == 0, "%s: the logits were written", w);
}
static void row_tok_workspace(const char *w)
{
    EXPECT_TERR(fused(TD[0], TD[1], XL, TGT, NULL, NULL, 3, 3, TWS, 3), PREFLOSS_ERR_SIZE, w);
}
static void row_tok_nonfinite(const char *w)
{
    float x[4 * 3];
    int st;
    memcpy(x, XL, sizeof x);
    x[2 * 3 + 1] = NAN;      /* row 2: ignored, never read */
    x[1 * 3 + 2] = INFINITY; /* row 1: counted (pair 0's chosen) */
    tsentinel();
    st = tok(x, TGT, 3, 3);
    CHECK(st == PREFLOSS_NONFINITE && O[0][0] == O[0][0] && O[0][1] != O[0][1] && O[0][2] == 0.0f, "%s: token_logps %d", w, st);
    tsentinel();
    st = fused(TD[0], TD[1], x, TGT, NULL, NULL, 3, 3, TWS, 8);
    CHECK(st == PREFLOSS_NONFINITE && O[0][0] != O[0][0] && O[0][1] == O[0][1] && O[1][0] != O[1][0]
          && TD[0][0] != TD[0][0] && TD[1][0] != TD[1][0] && TD[0][9] == TD[0][9], "%s: pair_loss_from_logits %d", w, st);
}

static const twin_t TWIN[] = {
    {"`beta` ≤ 0, NaN, ±inf, or subnormal (< `FLT_MIN`)", "`PREFLOSS_ERR_PARAM`", "nothing", row_beta},
    {"`label_smoothing` < 0, > 0.5 or NaN", "`PREFLOSS_ERR_PARAM`", "nothing", row_eps},
    {"`alpha1`, `alpha2` not finite, `alpha1 > alpha2`, or `alpha2 − alpha1` overflows", "`PREFLOSS_ERR_PARAM`", "nothing", row_alpha},
    {"`center_coef` < 0, NaN or +inf", "`PREFLOSS_ERR_PARAM`", "nothing", row_center},
    {"`reduction` not `PREFLOSS_REDUCE_SUM`/`_MEAN`", "`PREFLOSS_ERR_PARAM`", "nothing", row_reduction},
    {"`n == 0` (any pointers, even NULL)", "`PREFLOSS_OK`", "nothing", row_n0},
    {"`n · 4` (or `batch · 4`, or `batch · seq_len · 4`) overflows `size_t`", "`PREFLOSS_ERR_SIZE`", "nothing", row_size},
    {"a required input or output pointer NULL (for `n > 0`)", "`PREFLOSS_ERR_NULL`", "nothing", row_null},
    {"exactly one of `ref_chosen`, `ref_rejected` NULL", "`PREFLOSS_ERR_NULL`", "nothing", row_ref},
    {"an output overlapping an input or another output, even partly", "`PREFLOSS_ERR_OVERLAP`", "nothing", row_overlap},
    {"NaN/±inf in a log-prob, score or margin of sample `i`", "`PREFLOSS_NONFINITE`", "all outputs; sample `i`'s are NaN", row_nonfinite},
    {"NaN/±inf in `dlosses[i]`", "`PREFLOSS_NONFINITE`", "all outputs; sample `i`'s gradients are NaN, its loss is exact", row_dlosses},
    {"NaN/±inf in a counted token of row `b`", "`PREFLOSS_NONFINITE`", "all rows; row `b` is NaN", row_token},
    {"NaN/±inf in a masked token", "`PREFLOSS_OK`", "the token is ignored", row_masked},
    {"NaN/±inf in `dseq_logps[b]`", "`PREFLOSS_NONFINITE`", "all rows; row `b`'s counted tokens get NaN, its masked tokens 0", row_dseq},
    {"finite inputs whose loss exceeds the float range", "`PREFLOSS_OK`", "`+inf` (the correctly rounded value), never NaN", row_overflow},
    {"`kind` not a `PREFLOSS_LOSS_*` value (< 0 or > 14), also in `kinds[]`", "`PREFLOSS_ERR_PARAM`", "nothing", row_kind},
    {"a parameter block's `size` < `sizeof(size_t)` (also `prefloss_pair_params_init`'s `size`)", "`PREFLOSS_ERR_PARAM`", "nothing", row_psize},
    {"`label_smoothing` outside [0, 0.5] (sigmoid, exo_pair, js_divergence, alpha_divergence, simpo, cpo) or [0, 0.5) (robust)", "`PREFLOSS_ERR_PARAM`", "nothing", row_pls},
    {"`discopop_tau` not in (0, 1], or subnormal (discopop)", "`PREFLOSS_ERR_PARAM`", "nothing", row_tau},
    {"`alpha` ≤ 0, NaN, ±inf or subnormal (alpha_divergence)", "`PREFLOSS_ERR_PARAM`", "nothing", row_adiv},
    {"`simpo_gamma` (simpo) or `bco_delta` (bco_pair) NaN or ±inf", "`PREFLOSS_ERR_PARAM`", "nothing", row_gamma_delta},
    {"`nll_weight` of the parameter block NaN or ±inf (every kind)", "`PREFLOSS_ERR_PARAM`", "nothing", row_nll},
    {"ORPO's `lambda` < 0, NaN or +inf, or `nll_weight` NaN or ±inf", "`PREFLOSS_ERR_PARAM`", "nothing", row_orpo_param},
    {"KTO's `kl`, `desirable_weight` or `undesirable_weight` < 0, NaN or +inf", "`PREFLOSS_ERR_PARAM`", "nothing", row_kto_param},
    {"`*count` < 0, NaN or +inf, or `*delta` NaN or ±inf (`prefloss_bco_update_delta`)", "`PREFLOSS_ERR_PARAM`", "nothing: `*delta`, `*count` unchanged", row_bco_state},
    {"NaN/±inf in a per-pair weight `weights[i]`", "`PREFLOSS_NONFINITE`", "all outputs; pair `i`'s are NaN", row_weight_nonfinite},
    {"`weights` overlapping an output, even partly", "`PREFLOSS_ERR_OVERLAP`", "nothing", row_weight_overlap},
    {"`n_kinds` > 0 with `kinds` or `mix_weights` NULL (even when `n == 0`)", "`PREFLOSS_ERR_NULL`", "nothing", row_mix_null},
    {"NaN/±inf in `mix_weights[k]`", "`PREFLOSS_ERR_PARAM`", "nothing", row_mix_weight},
    {"ORPO: a mean log-prob ≥ 0 (`0` and `-0` included) in pair `i`", "`PREFLOSS_NONFINITE`", "all outputs; pair `i`'s are NaN", row_orpo_domain},
    {"KTO's `desirable` NULL (for `n > 0`)", "`PREFLOSS_ERR_NULL`", "nothing", row_kto_des},
    {"`delta` or `count` NULL (`prefloss_bco_update_delta`), or `kl` NULL (`prefloss_kto_kl`, even when `n == 0`)", "`PREFLOSS_ERR_NULL`", "nothing", row_state_null},
    {"NaN/±inf in an input of `prefloss_bco_update_delta`", "`PREFLOSS_NONFINITE`", "nothing: `*delta`, `*count` unchanged", row_bco_nonfinite},
    {"NaN/±inf in an input of `prefloss_kto_kl`", "`PREFLOSS_NONFINITE`", "`*kl` is NaN", row_kl_nonfinite},
    {"token stage: a target outside [0, `vocab`) that is not `ignore_index`, `vocab == 0` (even when there are no rows), a row stride < `vocab`, or decreasing packed offsets", "`PREFLOSS_ERR_PARAM`", "nothing", row_tok_param},
    {"token stage: `dlogits` overlapping the logits other than in place (the identical pointer and row stride), or another input", "`PREFLOSS_ERR_OVERLAP`", "nothing", row_tok_overlap},
    {"token stage: a `workspace` shorter than `prefloss_pair_loss_from_logits_workspace` gives, when a gradient is asked for", "`PREFLOSS_ERR_SIZE`", "nothing", row_tok_workspace},
    {"token stage: NaN/±inf in a counted row of logits (an ignored row is never read)", "`PREFLOSS_NONFINITE`", "all outputs; that token's log-prob and lse, its pair's loss, log-probs and gradient rows are NaN", row_tok_nonfinite},
};
#define NTWIN (sizeof TWIN / sizeof TWIN[0])

static char *trim(char *s)
{
    char *e;
    while (*s == ' ') s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
    return s;
}

int main(int argc, char **argv)
{
    FILE *f = fopen(argc > 1 ? argv[1] : "docs/errors.md", "r");
    char line[1024];
    int in_table = 0, seen[NTWIN] = {0}, rows = 0;
    size_t k;
    if (!f) { perror("errors.md"); return 1; }
    while (fgets(line, sizeof line, f)) {
        char *cell[4], *p = line;
        int nc = 0;
        if (strncmp(line, "## ", 3) == 0) in_table = strstr(line, "Every class of bad input") != NULL;
        if (line[0] != '|') continue;
        p++;
        while (nc < 4 && (cell[nc] = strtok(nc ? NULL : p, "|")) != NULL) nc++;
        if (nc < 3) continue;
        for (k = 0; k < 3; k++) cell[k] = trim(cell[k]);
        if (!in_table) { /* the status-code table: | `NAME` | value | meaning | */
            int code = (int)strtol(strncmp(cell[1], "\xe2\x88\x92", 3) == 0 ? cell[1] + 3 : cell[1], NULL, 10);
            if (strncmp(cell[1], "\xe2\x88\x92", 3) == 0) code = -code;
            if (cell[0][0] == '`') {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)strlen(cell[0]) - 2, cell[0] + 1);
                CHECK(prefloss_status_name(code) && strcmp(prefloss_status_name(code), name) == 0,
                      "status table: %s = %d but prefloss_status_name(%d) = %s", name, code, code,
                      prefloss_status_name(code) ? prefloss_status_name(code) : "NULL");
            }
            continue;
        }
        if (strcmp(cell[0], "input") == 0 || cell[0][0] == '-') continue;
        rows++;
        for (k = 0; k < NTWIN; k++) if (strcmp(cell[0], TWIN[k].input) == 0) break;
        if (k == NTWIN) { CHECK(0, "docs/errors.md row without a test: | %s |", cell[0]); continue; }
        seen[k] = 1;
        CHECK(strcmp(cell[1], TWIN[k].status) == 0, "row '%s': status %s in the docs, %s in the test", cell[0], cell[1], TWIN[k].status);
        CHECK(strcmp(cell[2], TWIN[k].written) == 0, "row '%s': written '%s' in the docs, '%s' in the test", cell[0], cell[2], TWIN[k].written);
        TWIN[k].check(TWIN[k].input);
    }
    fclose(f);
    for (k = 0; k < NTWIN; k++) CHECK(seen[k], "test row missing from docs/errors.md: | %s |", TWIN[k].input);
    printf("errors: %d table rows walked, %d failures\n", rows, fails);
    return fails != 0;
}
