/* The catalogue kind "discopop": a sigmoid/exponential blend of the DPO
 * loss, switched by sigma(z/tau). */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "discopop": m sp(-z) + w e^{-z} with w = sigma(x), m = 1 - w = sigma(-x),
 * x = z/tau. The product w e^{-z} is formed as exp(-(z + sp(-x))) (for
 * tau <= 1 the exponent is <= 0), so that z << 0 gives a finite loss rather
 * than 0 * inf = NaN. Everything is a double-float: z (never rounded), x,
 * the exponent, every term. The gradient
 *   dL/dz = -(w m/tau) sp(-z) - m sigma(-z) + w e^{-z} (m/tau - 1)
 *         = (m/tau)(w e^{-z} - w sp(-z)) - m sigma(-z) - w e^{-z}
 * has zeros (z ~ -0.119 and 0.072 for tau = 0.05) where terms of size ~1
 * cancel: they are summed in double-float and rounded once. Where it
 * underflows (z > 63) it is -w e^{-z}, carried times 2^64 or 2^128 until
 * after the upstream gradient (as exo_pair's, prefloss__sd_dsig). */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_discopop(float pc, float pr, float rc, float rr,
                                                            const prefloss__cat *c)
{
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    prefloss__df x = prefloss__df_div_sat(z, c->tau);                      /* z/tau */
    prefloss__df ez = prefloss__exp_neg_abs_df(z), ex = prefloss__exp_neg_abs_df(x);
    prefloss__df spz = prefloss__softplus_neg_df(z, ez);                  /* sp(-z) */
    prefloss__df sz = prefloss__sigmoid_neg_df(z.hi, ez, 0);              /* sigma(-z) */
    prefloss__df m = prefloss__sigmoid_neg_df(x.hi, ex, 0);               /* sigma(-x) */
    prefloss__df w = prefloss__sigmoid_neg_df(-x.hi, ex, 0);              /* sigma(x) */
    prefloss__df a = prefloss__df_add(z, prefloss__softplus_neg_df(x, ex)); /* z + sp(-x) >= 0 */
    prefloss__df we, t1, d;
    /* z = -inf (beta h beyond the float range) makes a = -inf + inf: its
     * value there is +inf for tau < 1 (w e^{-z} -> 0) and 0 for tau = 1 */
    int a_ok = a.hi == a.hi, a_pos = a.hi > 0.0f;
    float ah = prefloss__select(a_ok, prefloss__select(a_pos, a.hi, 0.0f),
                                prefloss__select(c->tau < 1.0f, FLT_MAX * 2.0f, 0.0f));
    float al = prefloss__select(a_ok & a_pos, a.lo, 0.0f);
    float loss, gs;
    /* w e^{-z} times 2^(64 la) (la > 0 for a >= 64) */
    int la = prefloss__sd_level(ah), lg = la * (int)(z.hi > 0.0f);
    prefloss__df we_s = prefloss__sd_exp(ah, al, la);
    we = prefloss__sd_unscale(we_s, la);                                  /* w e^{-z} */
    loss = prefloss__df_round(prefloss__df_add(prefloss__df_mul_sat(m, spz), we));
    /* (w sp(-z) -> 0 as z -> -inf: zero-safe, never 0 * inf) */
    t1 = prefloss__df_add(we, prefloss__df_negate(prefloss__df_mul_sat(w, spz)));
    t1 = prefloss__df_div_sat(prefloss__df_mul_sat(m, t1), c->tau);
    d = prefloss__df_add(prefloss__df_add(t1, prefloss__df_negate(prefloss__df_mul_sat(m, sz))),
                         prefloss__df_negate(we));
    /* for z > 0 and a >= 64 (so z > 63) the other terms are below e^-63 of
     * w e^{-z}: dL/dz = -w e^{-z}, kept scaled until after the upstream
     * gradient (it underflows from z ~ 87 on) */
    d = prefloss__df_pick(lg > 0, prefloss__df_negate(we_s), d);
    gs = prefloss__df_round(prefloss__df_mul_f(d, c->beta, 0));
    return prefloss__pair_make_k(loss, gs, lg, -gs, lg);
}

#if PREFLOSS__WIDE
/* discopop in double (see "Wide evaluation"), the same formulas as above:
 * z = beta h (prefloss__wdiff), x = z/tau, e = exp(-|z|), ex = exp(-|x|)
 * (the catalogue's cap), sp(-z) = max(-z, 0) + log1p(e), sigma(-z),
 * m = sigma(-x), w = sigma(x), w e^{-z} = exp(-a), a = z + sp(-x) >= 0:
 *   L = m sp(-z) + exp(-a),
 *   dL/dz = (m/tau)(exp(-a) - w sp(-z)) - m sigma(-z) - exp(-a).
 * Every term is within ~2^-32 of itself: near the gradient's zeros (terms
 * ~1 cancelling) that is far inside the budget's kappa/2, and for z > 0
 * large the gradient is -exp(-a) to the same relative accuracy, in
 * double's range: nothing underflows before the weights (the cap e^-500
 * is below 2^-150 times any product of beta and the three factors). */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_discopop(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    const double beta = (double)c->beta, tau = (double)c->tau;
    double z = beta * prefloss__wdiff(pc, rc, pr, rr), x = z / tau;
    double e = prefloss__wexp_neg_to(prefloss__fabs_d(z), PREFLOSS__WEXP_CAT_CAP, 0);
    double ex = prefloss__wexp_neg_to(prefloss__fabs_d(x), PREFLOSS__WEXP_CAT_CAP, 0);
    double rz = 1.0 / (1.0 + e), rx = 1.0 / (1.0 + ex);
    double spz = prefloss__select_d(z < 0.0, -z, 0.0) + prefloss__wlog1p_unit(e, 0);
    double sz = prefloss__select_d(z >= 0.0, e, 1.0) * rz;                /* sigma(-z) */
    double m = prefloss__select_d(x >= 0.0, ex, 1.0) * rx;                /* sigma(-x) */
    double wx = prefloss__select_d(x >= 0.0, 1.0, ex) * rx;               /* sigma(x) */
    double a = z + (prefloss__select_d(x < 0.0, -x, 0.0) + prefloss__wlog1p_unit(ex, 0));
    double we = prefloss__wexp_neg_to(prefloss__select_d(a > 0.0, a, 0.0), PREFLOSS__WEXP_CAT_CAP, 0);
    double d = (m * (1.0 / tau)) * (we - wx * spz) - m * sz - we;
    return prefloss__wpair_make(m * spz + we, beta * d, -(beta * d));
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_discopop, prefloss__wel_discopop)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_discopop, prefloss__el_discopop)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */
