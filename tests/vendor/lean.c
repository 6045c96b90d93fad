/* lean.c — a lean build (PREFLOSS_NO_CATALOGUE, PREFLOSS_NO_ORPO_KTO,
 * PREFLOSS_NO_AOT, PREFLOSS_NO_LD, as defined on the command line for both
 * this file and the implementation): every function of a family left out
 * returns PREFLOSS_ERR_UNSUPPORTED and writes nothing; the families kept
 * still compute. Prints "lean: ok". */
#include <stdio.h>

#include "prefloss.h"

#if defined(PREFLOSS_NO_CATALOGUE) && !defined(PREFLOSS_NO_AOT)
#  define PREFLOSS_NO_AOT /* implied, as in the implementation */
#endif

#define N 4
static int failures;

static void expect_out(int got, int left_out, const char *what)
{
    int ok = left_out ? got == PREFLOSS_ERR_UNSUPPORTED : got == PREFLOSS_OK;
    if (!ok) {
        printf("lean: %s gave %d (%s), expected %s\n", what, got,
               prefloss_status_name(got) ? prefloss_status_name(got) : "?",
               left_out ? "PREFLOSS_ERR_UNSUPPORTED" : "PREFLOSS_OK");
        failures++;
    }
}

#ifdef PREFLOSS_NO_CATALOGUE
#  define CAT 1
#else
#  define CAT 0
#endif
#ifdef PREFLOSS_NO_ORPO_KTO
#  define OK_ 1
#else
#  define OK_ 0
#endif
#ifdef PREFLOSS_NO_AOT
#  define AOT 1
#else
#  define AOT 0
#endif
#ifdef PREFLOSS_NO_LD
#  define LD 1
#else
#  define LD 0
#endif
#ifdef PREFLOSS_NO_TOKEN
#  define TOK 1
#else
#  define TOK 0
#endif
#ifdef PREFLOSS_NO_PARTIALS
#  define PART 1
#else
#  define PART 0
#endif

int main(void)
{
    float pc[N] = {-100.0f, -50.5f, -3.25f, -80.0f}, pr[N] = {-101.0f, -50.0f, -3.5f, -79.0f};
    float rc[N] = {-100.5f, -50.25f, -3.0f, -80.5f}, rr[N] = {-100.5f, -50.25f, -3.0f, -80.5f};
    float tok[2 * N] = {-1.0f, -2.0f, -3.0f, -4.0f, -0.5f, -0.25f, -0.125f, -1.5f};
    float loss[N], dc[N], dr[N], dtok[2 * N], seq[2] = {-1.0f, -2.0f}, kl = 7.0f;
    float delta = 0.0f, count = 0.0f, mixw[1] = {1.0f};
    unsigned char desirable[N] = {1, 0, 1, 0};
    int kinds[1] = {0}, st;
    size_t ws[2 * N], publen[2] = {2, 3}, i;
    prefloss_pair_params p;
    for (i = 0; i < N; i++) loss[i] = dc[i] = dr[i] = 5.0f;
    /* the core is always there */
    expect_out(prefloss_dpo_loss(loss, dc, dr, pc, pr, rc, rr, NULL, N, 0.1f, 0.0f), 0, "dpo_loss");
    expect_out(prefloss_ipo_loss(loss, dc, dr, pc, pr, rc, rr, NULL, N, 0.1f), 0, "ipo_loss");
    expect_out(prefloss_bt_loss(loss, dc, dr, pc, pr, NULL, NULL, N, 0.0f), 0, "bt_loss");
    expect_out(prefloss_sequence_logps(seq, tok, NULL, 2, N, PREFLOSS_REDUCE_SUM), 0, "sequence_logps");
    for (i = 0; i < N; i++) loss[i] = dc[i] = dr[i] = 5.0f;
    /* the catalogue */
    p.size = sizeof p; /* (left out, the calls below never read it) */
    st = prefloss_pair_params_init(&p, sizeof p);
    expect_out(st, CAT, "pair_params_init");
    expect_out(prefloss_pair_loss(loss, dc, dr, pc, pr, rc, rr, NULL, NULL, N, 0, &p), CAT, "pair_loss");
    expect_out(prefloss_pair_loss_mix(loss, dc, dr, pc, pr, rc, rr, NULL, NULL, N, kinds, mixw, 1, &p),
               CAT, "pair_loss_mix");
    expect_out(prefloss_bco_update_delta(&delta, &count, pc, pr, rc, rr, N, 0.1f), CAT,
               "bco_update_delta");
    if ((prefloss_loss_kind_count() == 0) != CAT) { printf("lean: loss_kind_count\n"); failures++; }
    if ((prefloss_loss_kind_name(0) == NULL) != CAT) { printf("lean: loss_kind_name\n"); failures++; }
    expect_out(prefloss_loss_kind_from_name("sigmoid") >= 0 ? 0 : prefloss_loss_kind_from_name("sigmoid"),
               CAT, "loss_kind_from_name");
    expect_out(prefloss_loss_kind_reads(0, "beta") >= 0 ? 0 : prefloss_loss_kind_reads(0, "beta"), CAT,
               "loss_kind_reads");
    /* ORPO / KTO, AOT, LD */
    expect_out(prefloss_orpo_loss(loss, dc, dr, pc, pr, NULL, N, 0.1f, 1.0f), OK_, "orpo_loss");
    expect_out(prefloss_kto_loss(loss, dc, pc, rc, desirable, NULL, N, 0.1f, 0.0f, 1.0f, 1.0f), OK_,
               "kto_loss");
    expect_out(prefloss_kto_kl(&kl, pc, rc, N), OK_ || PART, "kto_kl"); /* it sums through the partials */
    expect_out(prefloss_aot_loss(loss, dc, dr, pc, pr, rc, rr, NULL, N, 0.1f, 0.0f, 0, ws), AOT,
               "aot_loss");
    expect_out(prefloss_sequence_logps_ld(seq, tok, NULL, publen, 2, N, 0.5f), LD, "sequence_logps_ld");
    expect_out(prefloss_sequence_logps_ld_backward(dtok, seq, NULL, publen, 2, N, 0.5f), LD,
               "sequence_logps_ld_backward");
    /* the token stage, the partial sums */
    {
        float logits[6] = {0.5f, -1.0f, 2.0f, 0.0f, 0.25f, -0.75f}, tl[2] = {5.0f, 5.0f}, lse[2];
        int32_t tg[2] = {0, 2};
        prefloss_partial pa;
        expect_out(prefloss_token_logps(tl, lse, logits, tg, 2, 3, 3, -100), TOK, "token_logps");
        if (TOK && (tl[0] != 5.0f || tl[1] != 5.0f)) { printf("lean: token_logps wrote\n"); failures++; }
        expect_out(prefloss_partial_init(&pa), PART, "partial_init");
        expect_out(prefloss_partial_add(&pa, pc, N), PART, "partial_add");
    }
    if (CAT && OK_ && AOT && LD) { /* nothing written by any left-out call */
        for (i = 0; i < N; i++)
            if (loss[i] != 5.0f || dc[i] != 5.0f || dr[i] != 5.0f) failures++;
        if (kl != 7.0f || delta != 0.0f || count != 0.0f) failures++;
        if (failures) printf("lean: a left-out function wrote an output\n");
    }
    if (failures) return 1;
    printf("lean: ok (catalogue %s, ORPO/KTO %s, AOT %s, LD %s, token stage %s, partials %s)\n",
           CAT ? "out" : "in", OK_ ? "out" : "in", AOT ? "out" : "in", LD ? "out" : "in",
           TOK ? "out" : "in", PART ? "out" : "in");
    return 0;
}
