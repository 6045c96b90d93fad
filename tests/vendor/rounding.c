/* rounding.c — under a rounding mode other than to-nearest every function
 * that computes returns PREFLOSS_ERR_ROUNDING and writes nothing; back under
 * to-nearest the same calls succeed. Built by tests/vendor/vendor.sh (step
 * traps) with and without PREFLOSS_NO_DOUBLE, natively and for armhf.
 * Prints one line per mode and "rounding: ok"; exits non-zero on a failure. */
#define PREFLOSS_IMPLEMENTATION
#include "prefloss.h"

#include <fenv.h>
#include <stdio.h>
#include <string.h>

#define N 4

static int failures;

static void expect(int got, int want, const char *what, const char *mode)
{
    if (got != want) {
        printf("rounding: %s under %s: status %d (%s), expected %d\n", what, mode, got,
               prefloss_status_name(got) ? prefloss_status_name(got) : "?", want);
        failures++;
    }
}

/* Runs every computing entry point once; want is the status each must give. */
static void run_all(int want, const char *mode)
{
    float pc[N] = {-100.0f, -50.5f, -3.25f, -80.0f}, pr[N] = {-101.0f, -50.0f, -3.5f, -79.0f};
    float rc[N] = {-100.5f, -50.25f, -3.0f, -80.5f}, rr[N] = {-100.5f, -50.25f, -3.0f, -80.5f};
    float tok[2 * N] = {-1.0f, -2.0f, -3.0f, -4.0f, -0.5f, -0.25f, -0.125f, -1.5f};
    float loss[N], dc[N], dr[N], m[N], dtok[2 * N], seq[2], kl, delta = 0.0f, count = 0.0f;
    unsigned char desirable[N] = {1, 0, 1, 0};
    int kinds[2] = {PREFLOSS_LOSS_SIGMOID, PREFLOSS_LOSS_HINGE};
    float mixw[2] = {0.5f, 0.5f};
    prefloss_pair_params p;
    size_t ws[2 * N], publen[2] = {2, 3};
    float sentinel = 12345.0f;
    int k;
    size_t i;
    prefloss_pair_params_init(&p, sizeof p);
    for (i = 0; i < N; i++) loss[i] = dc[i] = dr[i] = m[i] = sentinel;
    kl = sentinel;
    expect(prefloss_dpo_loss(loss, dc, dr, pc, pr, rc, rr, NULL, N, 0.1f, 0.0f), want, "dpo_loss", mode);
    expect(prefloss_ipo_loss(loss, dc, dr, pc, pr, rc, rr, NULL, N, 0.1f), want, "ipo_loss", mode);
    expect(prefloss_ipo_general_loss(loss, dc, dr, pc, pr, rc, rr, NULL, N, 0.1f, 0.0f, 1.0f),
           want, "ipo_general_loss", mode);
    expect(prefloss_bt_loss(loss, dc, dr, pc, pr, NULL, NULL, N, 0.0f), want, "bt_loss", mode);
    expect(prefloss_rewards(loss, dc, m, dr, pc, pr, rc, rr, N, 0.1f), want, "rewards", mode);
    for (k = 0; k < prefloss_loss_kind_count(); k++)
        expect(prefloss_pair_loss(loss, dc, dr, pc, pr, rc, rr, NULL, NULL, N, k, &p), want,
               prefloss_loss_kind_name(k), mode);
    expect(prefloss_pair_loss_mix(loss, dc, dr, pc, pr, rc, rr, NULL, NULL, N, kinds, mixw, 2, &p),
           want, "pair_loss_mix", mode);
    expect(prefloss_aot_loss(loss, dc, dr, pc, pr, rc, rr, NULL, N, 0.1f, 0.0f, 0, ws),
           want, "aot_loss", mode);
    expect(prefloss_orpo_loss(loss, dc, dr, pc, pr, NULL, N, 0.1f, 1.0f), want, "orpo_loss", mode);
    expect(prefloss_kto_loss(loss, dc, pc, rc, desirable, NULL, N, 0.1f, 0.0f, 1.0f, 1.0f),
           want, "kto_loss", mode);
    expect(prefloss_kto_kl(&kl, pc, rc, N), want, "kto_kl", mode);
    expect(prefloss_bco_update_delta(&delta, &count, pc, pr, rc, rr, N, 0.1f), want,
           "bco_update_delta", mode);
    expect(prefloss_sequence_logps(seq, tok, NULL, 2, N, PREFLOSS_REDUCE_SUM), want,
           "sequence_logps", mode);
    expect(prefloss_sequence_logps_backward(dtok, seq, NULL, 2, N, PREFLOSS_REDUCE_MEAN), want,
           "sequence_logps_backward", mode);
    expect(prefloss_sequence_logps_ld(seq, tok, NULL, publen, 2, N, 0.5f), want, "sequence_logps_ld",
           mode);
    expect(prefloss_sequence_logps_ld_backward(dtok, seq, NULL, publen, 2, N, 0.5f), want,
           "sequence_logps_ld_backward", mode);
    if (want != PREFLOSS_OK) { /* nothing written */
        for (i = 0; i < N; i++)
            if (loss[i] != sentinel || dc[i] != sentinel || dr[i] != sentinel || m[i] != sentinel) {
                printf("rounding: an output was written under %s\n", mode);
                failures++;
                break;
            }
        if (kl != sentinel || delta != 0.0f || count != 0.0f) {
            printf("rounding: kl, delta or count written under %s\n", mode);
            failures++;
        }
    }
    printf("rounding: %s: every call gives %s\n", mode, prefloss_status_name(want));
}

int main(void)
{
    static const struct { int mode; const char *name; } modes[] = {
#ifdef FE_UPWARD
        {FE_UPWARD, "FE_UPWARD"},
#endif
#ifdef FE_DOWNWARD
        {FE_DOWNWARD, "FE_DOWNWARD"},
#endif
#ifdef FE_TOWARDZERO
        {FE_TOWARDZERO, "FE_TOWARDZERO"},
#endif
        {FE_TONEAREST, "FE_TONEAREST"}
    };
    size_t i;
    for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (fesetround(modes[i].mode) != 0) {
            printf("rounding: cannot set %s\n", modes[i].name);
            return 1;
        }
        run_all(modes[i].mode == FE_TONEAREST ? PREFLOSS_OK : PREFLOSS_ERR_ROUNDING, modes[i].name);
        fesetround(FE_TONEAREST);
    }
    if (sizeof modes / sizeof modes[0] < 4) {
        printf("rounding: this target lacks a directed rounding mode\n");
        return 1;
    }
    if (failures) return 1;
    printf("rounding: ok\n");
    return 0;
}
