/* ORPO (odds-ratio loss on mean log-probs, plus NLL) and KTO (unpaired
 * samples against a batch KL baseline). */

#ifndef PREFLOSS_NO_ORPO_KTO /* (see lib/lean.c) */

/* log(1 - e^x) and 1 - e^x for x < 0, stably (Maechler's log1mexp):
 * log(-expm1(x)) for x > -ln2, where e^x is near 1, and log1p(-e^x) below.
 * expm1 is x + x^2/2 + x^3 P(x) for x > -0.347 (the leading x exact), and
 * e^x - 1 (exact by Sterbenz) between -ln2 and -0.347. */
typedef struct prefloss__l1me { prefloss__df log1mexp; float one_minus_exp; } prefloss__l1me;

PREFLOSS__INLINE prefloss__l1me prefloss__log1mexp(float x)
{
    prefloss__l1me r;
    int32_t k;
    float p = prefloss__exp_neg_parts(-x, 0.0f, &k, 0);
    float e = prefloss__scale2(p, k);                              /* e^x */
    float q = 1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 + x * (1.0f / 720
              + x * (1.0f / 5040 + x * (1.0f / 40320)))));
    float em1 = prefloss__select(x > -0.34657359f, x + x * x * (0.5f + x * q), e - 1.0f);
    prefloss__df near = prefloss__log_pos_df(-em1);
    float far = prefloss__log1p_unit(-e, 0);
    int is_near = x > -0.69314718f;
    r.log1mexp = prefloss__df_make(prefloss__select(is_near, near.hi, far),
                                   prefloss__select(is_near, near.lo, 0.0f));
    r.one_minus_exp = prefloss__select(is_near, -em1, 1.0f - e);
    return r;
}

/* e^(xh + xl) for any finite x, within ~1 ulp; +inf beyond the float
 * range, 0 below it. */
PREFLOSS__INLINE float prefloss__exp_signed(float xh, float xl)
{
    int32_t k, k1;
    int in = xh < 100.0f;
    float xc = prefloss__select(in, xh, 100.0f);               /* e^100 overflows anyway */
    float p = prefloss__exp_neg_parts(-xc, -prefloss__select(in, xl, 0.0f), &k, 0); /* p 2^k */
    k1 = k / 2;
    return (p * prefloss__pow2_half(k1)) * prefloss__pow2_half(k - k1);
}

/* ORPO: l = (a - b) - [log(1 - e^a) - log(1 - e^b)];
 * loss = -nll a + lambda sp(-l); dloss/da = -nll - lambda sigma(-l)/(1 - e^a),
 * dloss/db = lambda sigma(-l)/(1 - e^b). a or b >= 0 (not a log-prob, or
 * odds undefined) makes the pair NaN. */
PREFLOSS__KERNEL(int, prefloss__orpo_kernel,
                 (float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dc,
                  float *PREFLOSS__RESTRICT dr, const float *PREFLOSS__RESTRICT ma,
                  const float *PREFLOSS__RESTRICT mb, const float *PREFLOSS__RESTRICT up,
                  size_t n, float lambda, float nll),
                 (loss, dc, dr, ma, mb, up, n, lambda, nll))
{
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i;
    for (i = 0; i < n; i++) {
        float a = ma[i], b = mb[i];
        /* a log-prob that is >= 0 (or NaN) is outside the domain: NaN */
        float dom = prefloss__select((int)(a < 0.0f) & (int)(b < 0.0f), 0.0f, prefloss__nan());
        float bad = prefloss__nan_if_nonfinite(a) + prefloss__nan_if_nonfinite(b) + dom;
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        prefloss__l1me la = prefloss__log1mexp(prefloss__select(a < 0.0f, a, -1.0f));
        prefloss__l1me lb = prefloss__log1mexp(prefloss__select(b < 0.0f, b, -1.0f));
        /* l = (a - b) - La + Lb, all in double-float: La is large (~ log|a|)
         * where a is near 0, and rounding it would cost more than a's own
         * conditioning */
        prefloss__df l = prefloss__df_add(prefloss__diff_of_diffs(a, b, 0.0f, 0.0f),
                                          prefloss__df_add(lb.log1mexp,
                                                           prefloss__df_make(-la.log1mexp.hi, -la.log1mexp.lo)));
        prefloss__sigvals v = prefloss__sigmoid_values(l.hi, l.lo);
        /* With e^l = e^(a-b) (1 - e^b)/(1 - e^a) = e^(a - b - La + Lb):
         *   sigma(-l)/(1 - e^a) = 1/((1 - e^a) + e^(a - b + Lb))
         *   sigma(-l)/(1 - e^b) = 1/((1 - e^b) + e^(a - b + 2Lb - La))
         * each exponent an exact double-float, so that neither a subnormal
         * sigma(-l) (a near 0) nor an overflowing (1 - e^b)^2/(1 - e^a)
         * appears on the way to a normal result. */
        prefloss__df ab = prefloss__diff_of_diffs(a, b, 0.0f, 0.0f); /* a - b, no intermediate overflow */
        prefloss__df xa = prefloss__df_add(ab, lb.log1mexp);
        prefloss__df xb = prefloss__df_add(xa, prefloss__df_add(lb.log1mexp,
                                          prefloss__df_make(-la.log1mexp.hi, -la.log1mexp.lo)));
        float da = la.one_minus_exp + prefloss__exp_signed(xa.hi, xa.lo);
        float db = lb.one_minus_exp + prefloss__exp_signed(xb.hi, xb.lo);
        {
            /* lambda sp(-l) - nll a: two terms that can each overflow with
             * opposite signs (inf - inf) where the exact loss is +-inf;
             * then every factor is scaled by 2^-64 (exact: each is >= 1
             * there) and the difference scaled back */
            const float down = 5.42101086e-20f, up64 = 18446744073709551616.0f;
            float t = lambda * v.sp_neg - nll * a;
            float ts = (((lambda * down) * (v.sp_neg * down)) - ((nll * down) * (a * down))) * up64 * up64;
            loss[i] = prefloss__select(t != t, ts, t) + bad;
        }
        dc[i] = prefloss__times_up(-nll - lambda / da, up[i]) + bad_up;
        dr[i] = prefloss__times_up(lambda / db, up[i]) + bad_up;
        bad_bits |= prefloss__float_to_bits(bad_up);
    }
    return prefloss__bits_has_nan(bad_bits);
}

PREFLOSS_API int prefloss_orpo_loss(float *losses, float *dchosen, float *drejected,
                                    const float *mean_chosen, const float *mean_rejected,
                                    const float *dlosses, size_t n, float lambda, float nll_weight)
{
    float s_loss[PREFLOSS__SCRATCH], s_dc[PREFLOSS__SCRATCH], s_dr[PREFLOSS__SCRATCH];
    int st, bad = 0;
    size_t i, len;
    if (!(lambda >= 0.0f && lambda <= FLT_MAX) || !prefloss__finite(nll_weight)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, mean_chosen, mean_rejected,
                                  NULL, NULL, dlosses, 0);
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += len) {
        len = prefloss__step(n, i, dlosses == NULL, losses == NULL || dchosen == NULL || drejected == NULL);
        bad |= prefloss__orpo_kernel(PREFLOSS__OUT(losses, i, s_loss), PREFLOSS__OUT(dchosen, i, s_dc),
                                     PREFLOSS__OUT(drejected, i, s_dr), mean_chosen + i,
                                     mean_rejected + i, PREFLOSS__IN(dlosses, i, prefloss__ones), len,
                                     lambda, nll_weight);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* KTO: x = beta (u - kl); desirable: wd sigma(-x), gradient -wd beta sigma(x)sigma(-x);
 * undesirable: wu sigma(x), gradient wu beta sigma(x)sigma(-x). */
PREFLOSS__KERNEL(int, prefloss__kto_kernel,
                 (float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dp,
                  const float *PREFLOSS__RESTRICT pol, const float *PREFLOSS__RESTRICT ref,
                  const unsigned char *PREFLOSS__RESTRICT des, const float *PREFLOSS__RESTRICT up,
                  size_t n, float beta, float kl, float wd, float wu),
                 (loss, dp, pol, ref, des, up, n, beta, kl, wd, wu))
{
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = prefloss__nan_if_nonfinite(pol[i]) + prefloss__nan_if_nonfinite(ref[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        prefloss__df x = prefloss__beta_times_diff(beta, pol[i], ref[i], kl, 0.0f, 0);
        prefloss__sigvals v = prefloss__sigmoid_values(x.hi, x.lo);
        int d = des[i] != 0;
        float slope = beta * (v.sig_pos * v.sig_neg);
        loss[i] = prefloss__select(d, wd * v.sig_neg, wu * v.sig_pos) + bad;
        dp[i] = prefloss__times_up(prefloss__select(d, -wd * slope, wu * slope), up[i]) + bad_up;
        bad_bits |= prefloss__float_to_bits(bad_up);
    }
    return prefloss__bits_has_nan(bad_bits);
}

PREFLOSS_API int prefloss_kto_loss(float *losses, float *dpolicy,
                                   const float *policy_logps, const float *ref_logps,
                                   const unsigned char *desirable, const float *dlosses, size_t n,
                                   float beta, float kl, float desirable_weight,
                                   float undesirable_weight)
{
    float s_loss[PREFLOSS__SCRATCH], s_dp[PREFLOSS__SCRATCH];
    int st, bad = 0;
    size_t i, len;
    if (!prefloss__beta_ok(beta) || !(kl >= 0.0f && kl <= FLT_MAX)
        || !(desirable_weight >= 0.0f && desirable_weight <= FLT_MAX)
        || !(undesirable_weight >= 0.0f && undesirable_weight <= FLT_MAX))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    /* the documented order: sizes, then required pointers, then overlaps */
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (policy_logps == NULL || desirable == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__check_pairwise(n, losses, dpolicy, NULL, NULL, policy_logps,
                                  policy_logps, ref_logps, NULL, dlosses, 0);
    if (st == PREFLOSS_OK) {
        prefloss__range out[2], in[1];
        out[0].p = losses; out[1].p = dpolicy;
        out[0].bytes = out[1].bytes = n * sizeof(float);
        in[0].p = desirable; in[0].bytes = n;
        st = prefloss__check_overlap(out, 2, in, 1);
    }
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += len) {
        len = prefloss__step(n, i, ref_logps == NULL || dlosses == NULL, losses == NULL || dpolicy == NULL);
        bad |= prefloss__kto_kernel(PREFLOSS__OUT(losses, i, s_loss), PREFLOSS__OUT(dpolicy, i, s_dp),
                                    policy_logps + i, PREFLOSS__IN(ref_logps, i, prefloss__zeros),
                                    desirable + i, PREFLOSS__IN(dlosses, i, prefloss__ones), len,
                                    beta, kl, desirable_weight, undesirable_weight);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* The one-process estimate is the partial of the whole batch, finished:
 * bitwise what any split of the batch gives after an all-reduce. */
PREFLOSS_API int prefloss_kto_kl(float *kl, const float *policy_kl_logps,
                                 const float *ref_kl_logps, size_t n)
{
    prefloss_partial acc;
    int st;
    if (kl == NULL) return PREFLOSS_ERR_NULL;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (n > 0 && (policy_kl_logps == NULL || ref_kl_logps == NULL)) return PREFLOSS_ERR_NULL;
    prefloss_partial_init(&acc);
    st = prefloss_kto_kl_partial(&acc, policy_kl_logps, ref_kl_logps, n);
    if (st < 0) return st;
    return prefloss_kto_kl_finish(kl, &acc);
}

#endif /* PREFLOSS_NO_ORPO_KTO */
