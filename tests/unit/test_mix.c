/*
 * test_mix.c — prefloss_pair_loss_mix and the scaled gradients it meets
 * with large weights.
 *
 * The kinds that carry a tiny gradient g as g 2^(64 lvl) (js_divergence,
 * apo_down and others) apply 2^(-64 lvl) after the upstream gradient and the
 * weights; where that product overflows part-way, the pair is redone in
 * scaled form. js_divergence and apo_down reach lvl = 3 (2^192), and the
 * scaled form must undo all of it.
 */
#include "testutil.h"

/* A mixture of five kinds on one pair where js_divergence's term is
 * 4.04e-10 (a gradient of -4.05e-86 times the weight FLT_MAX and an
 * upstream gradient of -3.0e37) and sigmoid's two terms dominate. The
 * reference values are the exact ones, computed at 80 digits from the
 * inputs as given (the formulas of the header, mpmath):
 *   dchosen = 974.86468028 + 3251.8496403 + 4.0431385e-10 - 2.7022679e-17
 *           = 4226.71432058 */
static void test_mix_large_weight_scaled_gradient(void **state)
{
    const float pc = 0x1.04851ap+7f, pr = -0x1.67b37p+9f, rc = 0x1.5d668cp-116f,
                rr = -0x1.3b30bcp+6f, w = 0x1.f52p-1f, up = -0x1.68938cp+124f;
    const int kinds[5] = { PREFLOSS_LOSS_JS, PREFLOSS_LOSS_HINGE, PREFLOSS_LOSS_SIMPO,
                           PREFLOSS_LOSS_SIGMOID, PREFLOSS_LOSS_SIGMOID };
    const float mw[5] = { FLT_MAX, 1.0f, -0x1.5b761ep+96f, 1.0f, 0x1.aaf8p+1f };
    prefloss_pair_params p;
    float l, dc, dr, sum = 0.0f;
    size_t k;
    (void)state;
    prefloss_pair_params_init(&p, sizeof p);
    p.beta = 0x1.99999ap-4f;
    p.label_smoothing = 0.0f;
    p.discopop_tau = 0x1.7d5p-2f;
    p.alpha = 2.0f;
    p.simpo_gamma = -0x1.ap+6f;
    p.bco_delta = FLT_MAX;
    assert_status(prefloss_pair_loss_mix(&l, &dc, &dr, &pc, &pr, &rc, &rr, &w, &up, 1, kinds, mw, 5, &p),
                  PREFLOSS_OK);
    assert_close(dc, 4226.71432058, 1e-6 * 4226.71432058);
    /* the mixture is the sum of its terms, each prefloss_pair_loss's output
     * times its mix weight */
    for (k = 0; k < 5; k++) {
        float tl, tc, tr;
        assert_status(prefloss_pair_loss(&tl, &tc, &tr, &pc, &pr, &rc, &rr, &w, &up, 1, kinds[k], &p),
                      PREFLOSS_OK);
        sum += tc * mw[k];
    }
    assert_close(dc, sum, 1e-6 * fabs((double)sum));
    /* js_divergence's term alone, through the mixture */
    assert_status(prefloss_pair_loss_mix(&l, &dc, &dr, &pc, &pr, &rc, &rr, &w, &up, 1, kinds, mw, 1, &p),
                  PREFLOSS_OK);
    assert_close(dc, 4.04313854398e-10, 1e-6 * 4.04313854398e-10);
}

/* A gradient carried times 2^192 (js_divergence with uc >= 128 and
 * 64 <= z < 128 at eps = 0; apo_down with |beta uc|, |z| >= 128 and
 * |beta ur| below 2^-31) meets weights whose partial product overflows:
 * with w = 2^127 the outputs are exactly those with a smaller weight 2^e
 * that overflows nowhere (js_divergence: 2^63, apo_down: 1), times
 * 2^(127 - e), through prefloss_pair_loss and, with the weight as the mix
 * weight, prefloss_pair_loss_mix. (apo_down overflows part-way only in the
 * float kernels, -DPREFLOSS_NO_DOUBLE: the double ones carry the product in
 * double's range.) */
static void test_level3_gradients_with_large_weights(void **state)
{
    enum { M = 12 };
    const float two127 = 0x1p127f;
    size_t kind_i, i;
    (void)state;
    for (kind_i = 0; kind_i < 2; kind_i++) {
        const int kind = kind_i == 0 ? PREFLOSS_LOSS_JS : PREFLOSS_LOSS_APO_DOWN;
        float pc[M], pr[M], rc[M], rr[M], wbig[M], wsmall[M], up[M];
        float lb[M], cb[M], rb[M], ls[M], cs[M], rs[M], lm[M], cm[M], rm[M];
        prefloss_pair_params p;
        size_t normal = 0;
        const float wref = kind == PREFLOSS_LOSS_JS ? 0x1p63f : 1.0f, scale = two127 / wref;
        prefloss_pair_params_init(&p, sizeof p);
        p.label_smoothing = 0.0f;
        p.beta = kind == PREFLOSS_LOSS_JS ? 0.1f : 1.0f;
        for (i = 0; i < M; i++) {
            rc[i] = 0.0f;
            rr[i] = 0.0f;
            if (kind == PREFLOSS_LOSS_JS) {
                pc[i] = 128.5f + (float)i;           /* uc >= 128 */
                pr[i] = -660.0f - 5.0f * (float)i;   /* z = beta h' in [64, 128) */
            } else {
                pc[i] = 129.0f + 0.5f * (float)i;    /* beta uc >= 128 */
                pr[i] = 1e-10f * (float)(i + 1);     /* beta ur tiny */
            }
            wbig[i] = two127;
            wsmall[i] = wref;
            up[i] = two127;
        }
        assert_status(prefloss_pair_loss(lb, cb, rb, pc, pr, rc, rr, wbig, up, M, kind, &p), PREFLOSS_OK);
        assert_status(prefloss_pair_loss(ls, cs, rs, pc, pr, rc, rr, wsmall, up, M, kind, &p), PREFLOSS_OK);
        assert_status(prefloss_pair_loss_mix(lm, cm, rm, pc, pr, rc, rr, NULL, up, M, &kind, &two127, 1, &p),
                      PREFLOSS_OK);
        for (i = 0; i < M; i++) {
            float want = cs[i] * scale;
            if (!(fabsf(cs[i]) >= FLT_MIN && fabsf(want) <= FLT_MAX)) continue;
            normal++;
            if (!tu_same_bits(cb[i], want) || !tu_same_bits(cm[i], want))
                fail_msg("%s pair %zu: dchosen %a (weight 2^127), %a (mix weight 2^127); "
                         "with weight %a %a, times %a %a", prefloss_loss_kind_name(kind), i,
                         (double)cb[i], (double)cm[i], (double)wref, (double)cs[i], (double)scale,
                         (double)want);
        }
        if (normal < M / 2) fail_msg("%s: only %zu comparable pairs", prefloss_loss_kind_name(kind), normal);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix_large_weight_scaled_gradient),
        cmocka_unit_test(test_level3_gradients_with_large_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
