/*
 * test_accuracy.c — the accuracy acceptance criterion (docs/numerics.md, "The accuracy budget"):
 *
 *   every loss and every gradient is within (4 + kappa/2) ulp of the exact
 *   value for the given float32 inputs, wherever that value is a normal
 *   float32, with kappa = |x f'(x) / f(x)| the condition number of the output
 *   with respect to the loss's scalar argument x
 *   (x = z = beta h for DPO, x = h for IPO (TRL scale), x = beta h for the
 *   general IPO form, x = sw - sl - m for Bradley-Terry).
 *
 * "Exact" is the long-double reference of reference.h evaluated on the same
 * float inputs. The stress sets:
 *
 *   realistic  sequence log-probs uniform in [-2000, -50]; policy = reference
 *              + d with |d| in [1e-3, 10]; a quarter of the pairs have a tiny
 *              h (rejected shifted by the chosen shift +- [1e-7, 1e-3])
 *   deep       log-probs down to -1e4 with tiny differences
 *   decades    |beta h| spread evenly over the decades 1e-8 .. 1e4 (beta and
 *              h chosen per decade)
 *   near       (IPO) h within [1e-7, 1] of the target 1/(2 beta)
 *   scores     (BT) scores in [-20, 20]; close: |sw|, |sl| up to 1000 with
 *              sw - sl spanning 1e-8 .. 100
 *
 * with label smoothing eps in {0, 0.1, 0.25, 0.4, 0.5} for DPO, and with the
 * upstream gradient NULL (half of the chunks) or random in +-[1e-2, 1e2].
 *
 * Samples per configuration: PREFLOSS_TEST_SAMPLES (default 100000;
 * environment variable of the same name overrides). The worst error of
 * each output, in ulp beyond kappa/2, is printed so it can be quoted; so is
 * the worst plain ulp error over the well-conditioned samples (kappa <= 1).
 */
#include "testutil.h"
#include "reference.h"

enum { CHUNK = 1000 };

/* ------------------------------------------------------------------------ */
/* Per-output statistics                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    ld worst_excess;   /* max(err - kappa/2) */
    ld worst_wellcond; /* max err over samples with kappa <= 1 */
    size_t checked, failed, wellcond;
} ostat;

static void ostat_init(ostat *s, const char *name)
{
    s->name = name;
    s->worst_excess = -1e30L;
    s->worst_wellcond = 0;
    s->checked = s->failed = s->wellcond = 0;
}

/* Returns 1 if this output fails the budget. Skips (returns 0) where the
 * reference is not a normal float or kappa is not finite. */
static int check_out(ostat *s, float got, ld ref, ld kappa)
{
    ld e, ex;
    if (!ref_is_normal_float(ref)) return 0;
    if (!(kappa < (ld)INFINITY)) return 0;
    e = err_ulp(got, ref);
    ex = e - kappa / 2;
    s->checked++;
    if (ex > s->worst_excess) s->worst_excess = ex;
    if (kappa <= 1) {
        s->wellcond++;
        if (e > s->worst_wellcond) s->worst_wellcond = e;
    }
    if (!(ex <= 4.0L)) {
        s->failed++;
        return 1;
    }
    return 0;
}

static size_t g_total_failed;

static void report(const char *config, ostat *o, int n)
{
    int k;
    printf("    %-34s", config);
    for (k = 0; k < n; k++) {
        if (o[k].checked == 0) {
            printf(" | %s: -", o[k].name);
            continue;
        }
        if (o[k].wellcond)
            printf(" | %s %6.3Lf (k<=1: %5.3Lf)", o[k].name, o[k].worst_excess, o[k].worst_wellcond);
        else
            printf(" | %s %6.3Lf (k<=1:   -  )", o[k].name, o[k].worst_excess);
        g_total_failed += o[k].failed;
        if (o[k].failed) printf(" [%u FAILED]", (unsigned)o[k].failed);
    }
    printf("\n");
}

/* ------------------------------------------------------------------------ */
/* Stress-set generators for (pc, pr, rc, rr) and beta                      */
/* ------------------------------------------------------------------------ */

enum set_id { SET_REALISTIC, SET_DEEP, SET_DECADES, SET_NEAR };
static const char *const set_names[] = { "realistic", "deep", "decades", "near-target" };

static float gen_beta(tu_rng *r, int set)
{
    if (set == SET_DECADES) return (float)tu_logu(r, -4.0, 2.0);
    return (float)tu_logu(r, -2.0, 0.5);
}

static void gen_pair(tu_rng *r, int set, float beta, float *pc, float *pr, float *rc, float *rr)
{
    switch (set) {
    case SET_REALISTIC: {
        const double d1 = tu_sign(r) * tu_logu(r, -3.0, 1.0);
        const double d2 = (tu_below(r, 4) == 0) ? d1 + tu_sign(r) * tu_logu(r, -7.0, -3.0)
                                                 : tu_sign(r) * tu_logu(r, -3.0, 1.0);
        *rc = (float)tu_range(r, -2000.0, -50.0);
        *rr = (float)tu_range(r, -2000.0, -50.0);
        *pc = (float)((double)*rc + d1);
        *pr = (float)((double)*rr + d2);
        break;
    }
    case SET_DEEP: {
        const double d1 = tu_sign(r) * tu_logu(r, -3.0, 0.0);
        const double d2 = d1 + tu_sign(r) * tu_logu(r, -6.0, -1.0);
        *rc = (float)-tu_logu(r, 1.7, 4.0);
        *rr = (float)-tu_logu(r, 1.7, 4.0);
        *pc = (float)((double)*rc + d1);
        *pr = (float)((double)*rr + d2);
        break;
    }
    case SET_DECADES: {
        /* |z| = 10^lz with lz uniform over the decades reachable with this
         * beta while keeping |h| in [1e-4, 1e3] */
        const double lb = log10((double)beta);
        const double lo = fmax(-8.0, lb - 4.0), hi = fmin(4.0, lb + 3.0);
        const double z = tu_sign(r) * pow(10.0, tu_range(r, lo, hi));
        const double h = z / (double)beta;
        const double w = tu_unif(r);
        /* log-prob scale: realistic unless h is so small that it would
         * vanish below ulp(log-prob) */
        const double L = fabs(h) >= 0.05 ? tu_range(r, 50.0, 2000.0) : fabs(h) * 65536.0 * tu_range(r, 1.0, 2.0);
        *rc = (float)-tu_range(r, L / 2, L);
        *rr = (float)-tu_range(r, L / 2, L);
        *pc = (float)((double)*rc + w * h);
        *pr = (float)((double)*rr - (1.0 - w) * h);
        break;
    }
    default: { /* SET_NEAR: mean log-probs, h = 1/(2 beta) + tiny */
        const double c = 1.0 / (2.0 * (double)beta);
        *rc = (float)tu_range(r, -10.0, -0.1);
        *rr = (float)tu_range(r, -10.0, -0.1);
        *pr = (float)tu_range(r, -10.0, -0.1);
        *pc = (float)((double)*rc + (double)*pr - (double)*rr + c + tu_sign(r) * tu_logu(r, -7.0, 0.0));
        break;
    }
    }
}

static float gen_dl(tu_rng *r)
{
    return (float)(tu_sign(r) * tu_logu(r, -2.0, 2.0));
}

/* Buffers shared by the pairwise runs. */
static float B_pc[CHUNK], B_pr[CHUNK], B_rc[CHUNK], B_rr[CHUNK], B_dl[CHUNK];
static float B_l[CHUNK], B_c[CHUNK], B_r[CHUNK];

static void print_pair_failure(const char *what, size_t i, float beta, float extra, float got, ld ref, ld kappa,
                               int reffree)
{
    print_error("%s: pc=%a pr=%a rc=%a rr=%a beta=%a param=%a dl=%a: got %a (%.9g), exact %.20Lg, "
                "%.2Lf ulp, kappa %.3Lg\n",
                what, (double)B_pc[i], (double)B_pr[i], reffree ? 0.0 : (double)B_rc[i],
                reffree ? 0.0 : (double)B_rr[i], (double)beta, (double)extra, (double)B_dl[i], (double)got,
                (double)got, ref, err_ulp(got, ref), kappa);
}

/* ------------------------------------------------------------------------ */
/* DPO                                                                      */
/* ------------------------------------------------------------------------ */

static void run_dpo(int set, float eps, int reffree, uint64_t seed)
{
    const size_t S = tu_samples();
    tu_rng r = tu_rng_seed(seed);
    ostat o[3];
    size_t done, i, shown = 0;
    char cfg[64];
    ostat_init(&o[0], "loss");
    ostat_init(&o[1], "dchosen");
    ostat_init(&o[2], "drejected");
    for (done = 0; done < S; done += CHUNK) {
        const size_t n = (S - done < CHUNK) ? S - done : CHUNK;
        const float beta = gen_beta(&r, set);
        const int use_dl = (done / CHUNK) % 2 == 1;
        for (i = 0; i < n; i++) {
            gen_pair(&r, set, beta, &B_pc[i], &B_pr[i], &B_rc[i], &B_rr[i]);
            B_dl[i] = use_dl ? gen_dl(&r) : 1.0f;
        }
        assert_status(prefloss_dpo_loss(B_l, B_c, B_r, B_pc, B_pr, reffree ? NULL : B_rc, reffree ? NULL : B_rr,
                                        use_dl ? B_dl : NULL, n, beta, eps),
                      PREFLOSS_OK);
        for (i = 0; i < n; i++) {
            const ld h = reffree ? (ld)B_pc[i] - (ld)B_pr[i] : ref_h(B_pc[i], B_pr[i], B_rc[i], B_rr[i]);
            const ld z = (ld)beta * h;
            const ld rl = ref_dpo_loss(z, eps), kl = ref_dpo_loss_kappa(z, eps);
            const ld rg = ref_dpo_g(z, beta, eps) * (ld)B_dl[i], kg = ref_dpo_g_kappa(z, eps);
            if (check_out(&o[0], B_l[i], rl, kl) && shown++ < 3) print_pair_failure("dpo loss", i, beta, eps, B_l[i], rl, kl, reffree);
            if (check_out(&o[1], B_c[i], rg, kg) && shown++ < 3) print_pair_failure("dpo dchosen", i, beta, eps, B_c[i], rg, kg, reffree);
            if (check_out(&o[2], B_r[i], -rg, kg) && shown++ < 3) print_pair_failure("dpo drejected", i, beta, eps, B_r[i], -rg, kg, reffree);
        }
    }
    snprintf(cfg, sizeof cfg, "dpo %s%s eps=%.2f", set_names[set], reffree ? " ref-free" : "", (double)eps);
    report(cfg, o, 3);
}

static void test_dpo_accuracy(void **state)
{
    const float eps_list[5] = { 0.0f, 0.1f, 0.25f, 0.4f, 0.5f };
    int set;
    size_t e;
    (void)state;
    g_total_failed = 0;
    printf("    worst error in ulp beyond kappa/2 (budget 4); in brackets the worst plain ulp error where kappa <= 1\n");
    for (set = SET_REALISTIC; set <= SET_DECADES; set++)
        for (e = 0; e < 5; e++) run_dpo(set, eps_list[e], 0, 0xd90000u + (uint64_t)(set * 16) + e);
    run_dpo(SET_REALISTIC, 0.0f, 1, 0xd9f001u);
    run_dpo(SET_DECADES, 0.1f, 1, 0xd9f002u);
    assert_true(g_total_failed == 0);
}

/* ------------------------------------------------------------------------ */
/* IPO (TRL scale and general form)                                         */
/* ------------------------------------------------------------------------ */

static void run_ipo(int set, int general, float a1, float a2, uint64_t seed)
{
    const size_t S = tu_samples();
    tu_rng r = tu_rng_seed(seed);
    ostat o[3];
    size_t done, i, shown = 0;
    char cfg[64];
    ostat_init(&o[0], "loss");
    ostat_init(&o[1], "dchosen");
    ostat_init(&o[2], "drejected");
    for (done = 0; done < S; done += CHUNK) {
        const size_t n = (S - done < CHUNK) ? S - done : CHUNK;
        const float beta = gen_beta(&r, set);
        const int use_dl = (done / CHUNK) % 2 == 1;
        for (i = 0; i < n; i++) {
            gen_pair(&r, set, beta, &B_pc[i], &B_pr[i], &B_rc[i], &B_rr[i]);
            B_dl[i] = use_dl ? gen_dl(&r) : 1.0f;
        }
        if (general)
            assert_status(prefloss_ipo_general_loss(B_l, B_c, B_r, B_pc, B_pr, B_rc, B_rr, use_dl ? B_dl : NULL, n,
                                                    beta, a1, a2),
                          PREFLOSS_OK);
        else
            assert_status(prefloss_ipo_loss(B_l, B_c, B_r, B_pc, B_pr, B_rc, B_rr, use_dl ? B_dl : NULL, n, beta),
                          PREFLOSS_OK);
        for (i = 0; i < n; i++) {
            const ld h = ref_h(B_pc[i], B_pr[i], B_rc[i], B_rr[i]);
            ld rl, kl, rg, kg;
            if (general) {
                rl = ref_ipog_loss(h, beta, a1, a2);
                kl = ref_ipog_loss_kappa(h, beta, a1, a2);
                rg = ref_ipog_g(h, beta, a1, a2) * (ld)B_dl[i];
                kg = ref_ipog_g_kappa(h, beta, a1, a2);
            } else {
                rl = ref_ipo_loss(h, beta);
                kl = ref_ipo_loss_kappa(h, beta);
                rg = ref_ipo_g(h, beta) * (ld)B_dl[i];
                kg = ref_ipo_g_kappa(h, beta);
            }
            if (check_out(&o[0], B_l[i], rl, kl) && shown++ < 3) print_pair_failure("ipo loss", i, beta, a2 - a1, B_l[i], rl, kl, 0);
            if (check_out(&o[1], B_c[i], rg, kg) && shown++ < 3) print_pair_failure("ipo dchosen", i, beta, a2 - a1, B_c[i], rg, kg, 0);
            if (check_out(&o[2], B_r[i], -rg, kg) && shown++ < 3) print_pair_failure("ipo drejected", i, beta, a2 - a1, B_r[i], -rg, kg, 0);
        }
    }
    if (general)
        snprintf(cfg, sizeof cfg, "ipo-general %s a=(%g,%g)", set_names[set], (double)a1, (double)a2);
    else
        snprintf(cfg, sizeof cfg, "ipo %s", set_names[set]);
    report(cfg, o, 3);
}

static void test_ipo_accuracy(void **state)
{
    int set;
    (void)state;
    g_total_failed = 0;
    for (set = SET_REALISTIC; set <= SET_NEAR; set++) run_ipo(set, 0, 0.0f, 1.0f, 0x1900u + (uint64_t)set);
    for (set = SET_REALISTIC; set <= SET_DECADES; set++) {
        run_ipo(set, 1, 0.0f, 1.0f, 0x19a0u + (uint64_t)set);
        run_ipo(set, 1, -1.0f, 3.0f, 0x19b0u + (uint64_t)set);
        run_ipo(set, 1, 0.3f, 0.45f, 0x19c0u + (uint64_t)set);
    }
    assert_true(g_total_failed == 0);
}

/* ------------------------------------------------------------------------ */
/* Bradley-Terry                                                            */
/* ------------------------------------------------------------------------ */

enum { BT_SCORES, BT_CLOSE, BT_MARGIN };
static const char *const bt_names[] = { "scores", "close", "margins" };

static void run_bt(int set, float c, uint64_t seed)
{
    const size_t S = tu_samples();
    tu_rng r = tu_rng_seed(seed);
    float *sw = B_pc, *sl = B_pr, *m = B_rc;
    ostat o[3];
    size_t done, i, shown = 0;
    char cfg[64];
    ostat_init(&o[0], "loss");
    ostat_init(&o[1], "dsw");
    ostat_init(&o[2], "dsl");
    for (done = 0; done < S; done += CHUNK) {
        const size_t n = (S - done < CHUNK) ? S - done : CHUNK;
        const int use_dl = (done / CHUNK) % 2 == 1;
        for (i = 0; i < n; i++) {
            if (set == BT_CLOSE) {
                const double s = tu_range(&r, -1000.0, 1000.0);
                const double x = tu_sign(&r) * tu_logu(&r, -8.0, 2.0);
                sw[i] = (float)(s + x / 2);
                sl[i] = (float)(s - x / 2);
            } else {
                sw[i] = (float)tu_range(&r, -20.0, 20.0);
                sl[i] = (float)tu_range(&r, -20.0, 20.0);
            }
            m[i] = (set == BT_MARGIN) ? (float)tu_range(&r, 0.0, 5.0) : 0.0f;
            B_dl[i] = use_dl ? gen_dl(&r) : 1.0f;
        }
        assert_status(prefloss_bt_loss(B_l, B_c, B_r, sw, sl, set == BT_MARGIN ? m : NULL, use_dl ? B_dl : NULL, n, c),
                      PREFLOSS_OK);
        for (i = 0; i < n; i++) {
            const ld rl = ref_bt_loss(sw[i], sl[i], m[i], c), kl = ref_bt_loss_kappa(sw[i], sl[i], m[i], c);
            const ld rw = ref_bt_dsw(sw[i], sl[i], m[i], c) * (ld)B_dl[i];
            const ld rs = ref_bt_dsl(sw[i], sl[i], m[i], c) * (ld)B_dl[i];
            const ld kw = ref_bt_grad_kappa(sw[i], sl[i], m[i], c, 1);
            const ld ks = ref_bt_grad_kappa(sw[i], sl[i], m[i], c, 0);
            int bad = check_out(&o[0], B_l[i], rl, kl);
            bad |= check_out(&o[1], B_c[i], rw, kw);
            bad |= check_out(&o[2], B_r[i], rs, ks);
            if (bad && shown++ < 3)
                print_error("bt: sw=%a sl=%a m=%a c=%a dl=%a: loss %a (exact %.20Lg), dsw %a (%.20Lg), dsl %a (%.20Lg)\n",
                            (double)sw[i], (double)sl[i], (double)m[i], (double)c, (double)B_dl[i], (double)B_l[i],
                            rl, (double)B_c[i], rw, (double)B_r[i], rs);
        }
    }
    snprintf(cfg, sizeof cfg, "bt %s c=%g", bt_names[set], (double)c);
    report(cfg, o, 3);
}

static void test_bt_accuracy(void **state)
{
    int set;
    (void)state;
    g_total_failed = 0;
    for (set = BT_SCORES; set <= BT_MARGIN; set++) run_bt(set, 0.0f, 0xb700u + (uint64_t)set);
    run_bt(BT_SCORES, 0.01f, 0xb710u);
    run_bt(BT_MARGIN, 0.5f, 0xb711u);
    assert_true(g_total_failed == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dpo_accuracy),
        cmocka_unit_test(test_ipo_accuracy),
        cmocka_unit_test(test_bt_accuracy),
    };
    printf("accuracy: %u samples per configuration\n", (unsigned)tu_samples());
    return cmocka_run_group_tests_name("accuracy", tests, NULL, NULL);
}
