/* The catalogue kinds "nca_pair" and "bco_pair" (each log-ratio through its
 * own sigmoid), and bco_pair's running reward mean. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "nca_pair": sp(-a) + sp(a)/2 + sp(b)/2 with a = beta uc, b = beta ur;
 * dL/dpc = beta(sigma(a)/2 - sigma(-a)), dL/dpr = beta sigma(b)/2. The
 * chosen gradient is zero at a = ln 2, where its two terms cancel. It is
 * formed as beta (1/2 - (3/2) sigma(-a)) (the same value, as sigma(a) =
 * 1 - sigma(-a)) with sigma(-a) a double-float (relative error ~2^-34), the
 * sum and the product with beta in double-float, rounded once: the
 * cancellation then costs ~2^-34 absolute, far inside the budget's
 * kappa/2 = ln2/(2|a - ln 2|) ulp near the zero, and elsewhere the result
 * is within ~1/2 ulp. The rejected gradient beta sigma(b)/2 is a
 * double-float product rounded once, carried times 2^64 or 2^128 where
 * sigma(b) is below 2^-92 (b <= -64, prefloss__sd_signeg) until after the
 * upstream gradient and the weights. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_nca(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    prefloss__df a = prefloss__beta_times_diff(c->beta, pc, rc, 0.0f, 0.0f, 0);
    prefloss__df b = prefloss__beta_times_diff(c->beta, pr, rr, 0.0f, 0.0f, 0);
    prefloss__df nb = prefloss__df_make(-b.hi, -b.lo);
    prefloss__sigvals va = prefloss__sigmoid_values(a.hi, a.lo), vb = prefloss__sigmoid_values(b.hi, b.lo);
    float loss = va.sp_neg + 0.5f * (va.sp_pos + vb.sp_pos);
    prefloss__df e = prefloss__exp_neg_df(prefloss__fabs(a.hi), prefloss__mulsign(a.lo, a.hi), 0);
    prefloss__df sneg = prefloss__sigmoid_neg_df(a.hi, e, 0);                         /* sigma(-a) */
    prefloss__df g = prefloss__df_add_f(prefloss__df_mul_f(sneg, -1.5f, 0), 0.5f);    /* g(a) */
    int lb = prefloss__sd_level_pos(nb.hi);
    prefloss__df sb = prefloss__sd_signeg(nb, lb);                                    /* sigma(b) 2^(64 lb) */
    float gr = prefloss__df_round(prefloss__df_mul_f(prefloss__df_make(0.5f * sb.hi, 0.5f * sb.lo), c->beta, 0));
    return prefloss__pair_make_k(loss, prefloss__df_round(prefloss__df_mul_f(g, c->beta, 0)), 0, gr, lb);
}

/* "bco_pair": sp(-a) + sp(b) with a = beta uc - delta, b = beta ur - delta;
 * dL/dpc = -beta sigma(-a), dL/dpr = beta sigma(b), each a double-float
 * product rounded once, carried times 2^64 or 2^128 where the sigmoid is
 * below 2^-92 (prefloss__sd_signeg) until after the upstream gradient and
 * the weights. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_bco(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    prefloss__df a = prefloss__df_add_f(prefloss__beta_times_diff(c->beta, pc, rc, 0.0f, 0.0f, 0), -c->delta);
    prefloss__df b = prefloss__df_add_f(prefloss__beta_times_diff(c->beta, pr, rr, 0.0f, 0.0f, 0), -c->delta);
    prefloss__df nb = prefloss__df_make(-b.hi, -b.lo);
    prefloss__sigvals va = prefloss__sigmoid_values(a.hi, a.lo), vb = prefloss__sigmoid_values(b.hi, b.lo);
    int la = prefloss__sd_level_pos(a.hi), lb = prefloss__sd_level_pos(nb.hi);
    float gc = -prefloss__df_round(prefloss__df_mul_f(prefloss__sd_signeg(a, la), c->beta, 0));
    float gr = prefloss__df_round(prefloss__df_mul_f(prefloss__sd_signeg(nb, lb), c->beta, 0));
    return prefloss__pair_make_k(va.sp_neg + vb.sp_pos, gc, la, gr, lb);
}

#if PREFLOSS__WIDE
/* nca_pair and bco_pair in double (see "Wide evaluation"), the formulas
 * above with a = beta uc - delta, b = beta ur - delta (delta 0 for nca; uc,
 * ur with their rounding errors, prefloss__wdiff), e = exp(-|x|) (the
 * catalogue's cap), sp(-x) = relu(-x) + log1p(e), sp(x) = relu(x) + log1p(e),
 * sigma(-x) = (x >= 0 ? e : 1)/(1 + e), sigma(x) = (x >= 0 ? 1 : e)/(1 + e):
 *   nca: L = sp(-a) + (sp(a) + sp(b))/2, dL/dpc = beta (1/2 - (3/2) sigma(-a)),
 *        dL/dpr = beta sigma(b)/2;
 *   bco: L = sp(-a) + sp(b), dL/dpc = -beta sigma(-a), dL/dpr = beta sigma(b).
 * The losses are sums of positive terms; nca's chosen gradient cancels near
 * a = ln 2 to an absolute ~2^-32, far inside the budget's kappa/2 there. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_sig2(float pc, float pr, float rc, float rr,
                                                   const prefloss__cat *c, int nca)
{
    const double beta = (double)c->beta, delta = nca ? 0.0 : (double)c->delta;
    double a = beta * prefloss__wdiff(pc, rc, 0.0f, 0.0f) - delta;
    double b = beta * prefloss__wdiff(pr, rr, 0.0f, 0.0f) - delta;
    double ea = prefloss__wexp_neg_to(prefloss__fabs_d(a), PREFLOSS__WEXP_CAT_CAP, 0);
    double eb = prefloss__wexp_neg_to(prefloss__fabs_d(b), PREFLOSS__WEXP_CAT_CAP, 0);
    double la = prefloss__wlog1p_unit(ea, 0), lb = prefloss__wlog1p_unit(eb, 0);
    double sp_neg_a = prefloss__select_d(a < 0.0, -a, 0.0) + la;
    double sp_a = prefloss__select_d(a > 0.0, a, 0.0) + la, sp_b = prefloss__select_d(b > 0.0, b, 0.0) + lb;
    double s_neg_a = prefloss__select_d(a >= 0.0, ea, 1.0) / (1.0 + ea);
    double s_b = prefloss__select_d(b >= 0.0, 1.0, eb) / (1.0 + eb);
    if (nca)
        return prefloss__wpair_make(sp_neg_a + 0.5 * (sp_a + sp_b), beta * (0.5 - 1.5 * s_neg_a), beta * (0.5 * s_b));
    return prefloss__wpair_make(sp_neg_a + sp_b, -(beta * s_neg_a), beta * s_b);
}
PREFLOSS__INLINE prefloss__wpair prefloss__wel_nca(float pc, float pr, float rc, float rr, const prefloss__cat *c)
{
    return prefloss__wel_sig2(pc, pr, rc, rr, c, 1);
}
PREFLOSS__INLINE prefloss__wpair prefloss__wel_bco(float pc, float pr, float rc, float rr, const prefloss__cat *c)
{
    return prefloss__wel_sig2(pc, pr, rc, rr, c, 0);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_nca, prefloss__wel_nca)
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_bco, prefloss__wel_bco)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_nca, prefloss__el_nca)
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_bco, prefloss__el_bco)
#endif

PREFLOSS_API int prefloss_bco_update_delta(float *delta, float *count,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen, const float *ref_rejected,
                                           size_t n, float beta)
{
    prefloss__df sum = prefloss__df_make(0.0f, 0.0f);
    size_t i;
    if (delta == NULL || count == NULL) return PREFLOSS_ERR_NULL;
    if (!prefloss__beta_ok(beta) || !prefloss__finite(*delta) || !(*count >= 0.0f && *count <= FLT_MAX))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (policy_chosen == NULL || policy_rejected == NULL || ((ref_chosen == NULL) != (ref_rejected == NULL)))
        return PREFLOSS_ERR_NULL;
    if (!prefloss__rounding_ok()) return PREFLOSS_ERR_ROUNDING;
    {
        /* the new mean is delta + sum_j (reward_j - delta)/(count + 2n): no
         * count * delta, which could overflow. The 2n deviations are summed
         * in double-float. */
        float bad = 0.0f;
        prefloss__df total = prefloss__two_sum(*count, 2.0f * (float)n); /* exact: a fractional
                                                                      * count may not fit */
        for (i = 0; i < n; i++) {
            float rc = ref_chosen != NULL ? ref_chosen[i] : 0.0f, rr = ref_rejected != NULL ? ref_rejected[i] : 0.0f;
            prefloss__df a = prefloss__beta_times_diff(beta, policy_chosen[i], rc, 0.0f, 0.0f, 0);
            prefloss__df b = prefloss__beta_times_diff(beta, policy_rejected[i], rr, 0.0f, 0.0f, 0);
            bad += prefloss__nan_if_nonfinite(policy_chosen[i]) + prefloss__nan_if_nonfinite(policy_rejected[i])
                 + prefloss__nan_if_nonfinite(rc) + prefloss__nan_if_nonfinite(rr);
            sum = prefloss__df_add(sum, prefloss__df_add_f(a, -*delta));
            sum = prefloss__df_add(sum, prefloss__df_add_f(b, -*delta));
        }
        if (bad != bad) return PREFLOSS_NONFINITE;
        {
            /* shift = sum / total (both double-floats, one correction step);
             * delta + shift can cancel: added in double-float, rounded once */
            float q0 = sum.hi / total.hi;
            prefloss__df pq = prefloss__two_prod(q0, total.hi, 0);
            float q1 = (((sum.hi - pq.hi) - pq.lo) + sum.lo - q0 * total.lo) / total.hi;
            prefloss__df shift = prefloss__fast_two_sum(q0, prefloss__lo_if_finite(q0, q1));
            float updated = prefloss__df_round(prefloss__df_add_f(shift, *delta));
            if (!prefloss__finite(updated)) return PREFLOSS_NONFINITE; /* the mean itself overflows */
            *delta = updated;
            *count = prefloss__df_round(total);
        }
    }
    return PREFLOSS_OK;
}

#endif /* PREFLOSS_NO_CATALOGUE */
