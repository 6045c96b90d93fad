/* The catalogue kind "robust": the noise-robust sigmoid loss (cDPO's
 * unbiased form), in double where there is a double FPU, else in
 * double-float. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "robust": [(1-eps) sp(-z) - eps sp(z)]/(1 - 2eps) = sp(-z) - c z with
 * c = eps/(1 - 2eps); dL/dz = -(sigma(-z) + c). The loss's two terms cancel
 * near its zero, so sp(-z) = max(-z, 0) + log1p(e^-|z|), c and c z are all
 * formed in double-float and rounded once at the end. The gradient
 * -beta (sigma(-z) + c) is formed in double-float and rounded once; where
 * it is tiny (z >= 64 and c < 2^-64) it is carried times 2^64 or 2^128
 * until after the upstream gradient and the weights (prefloss__sd_signeg). */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_robust(float pc, float pr, float rc, float rr,
                                                          const prefloss__cat *c)
{
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    float ah = prefloss__fabs(z.hi), al = prefloss__mulsign(z.lo, z.hi);
    prefloss__df e = prefloss__exp_neg_df(ah, al, 0);
    prefloss__df l1p = prefloss__log1p_unit_df(e.hi, 0);
    prefloss__df sp, cz, loss;
    float zf;
    int pos = z.hi >= 0.0f;
    l1p = prefloss__df_add_f(l1p, e.lo / (1.0f + e.hi));     /* log1p(e.hi + e.lo) */
    /* sp(-z) = l1p for z >= 0, |z| + l1p for z < 0 */
    sp = prefloss__df_add(l1p, prefloss__df_make(prefloss__select(pos, 0.0f, ah),
                                                 prefloss__select(pos, 0.0f, al)));
    /* c z = (c_hi + c_lo)(z_hi + z_lo). Where z = beta h overflowed to
     * +-inf, c_lo z_hi would make the low part inf - inf or 0 inf = NaN: it
     * is left out, and c z is +-inf with its low part dropped below. */
    zf = prefloss__select(prefloss__fabs(z.hi) <= FLT_MAX, z.hi, 0.0f);
    cz = prefloss__two_prod(c->robust_c, z.hi, 0);
    cz = prefloss__fast_two_sum(cz.hi, cz.lo + (c->robust_c * z.lo + c->robust_c_lo * zf));
    /* eps = 0 (c = 0): no term at all, even where z is infinite (0 * inf) */
    cz = prefloss__df_make(prefloss__select(c->robust_c != 0.0f, cz.hi, 0.0f),
                           prefloss__select(c->robust_c != 0.0f, prefloss__lo_if_finite(cz.hi, cz.lo), 0.0f));
    loss = prefloss__df_add(sp, prefloss__df_make(-cz.hi, -cz.lo));
    {
        /* c 2^(64 l) is exact (c < 2^-64 where l > 0) */
        int l = prefloss__sd_level_pos(z.hi) * (int)(c->robust_c < prefloss__pow2_half(-64));
        int32_t k = 64 * (int32_t)l;
        prefloss__df cs = prefloss__df_make(prefloss__scale2(c->robust_c, k), prefloss__scale2(c->robust_c_lo, k));
        prefloss__df sum = prefloss__df_add(prefloss__sd_signeg(z, l), cs);
        float g = -prefloss__df_round(prefloss__df_mul_f(sum, c->beta, 0));
        return prefloss__pair_make_k(prefloss__df_round(loss), g, l, -g, l);
    }
}

#if PREFLOSS__WIDE
/* robust in double (see "Wide evaluation"): z = beta h (h as in the DPO
 * kernel, prefloss__wdiff), e = exp(-|z|) (the catalogue's cap), c = eps/(1 -
 * 2 eps) (its two floats, exact in double):
 *   L = sp(-z) - c z,  sp(-z) = max(-z, 0) + log1p(e),
 *   dL/dpc = -beta (sigma(-z) + c) = -dL/dpr.
 * Near the loss's zero its terms cancel, within the budget's kappa/2: their
 * error (~2^-32 of sp(-z) = c z there) is far below |z dL/dz| u. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_robust(float pc, float pr, float rc, float rr,
                                                     const prefloss__cat *c)
{
    const double beta = (double)c->beta, cc = (double)c->robust_c + (double)c->robust_c_lo;
    double z = beta * prefloss__wdiff(pc, rc, pr, rr), az = prefloss__fabs_d(z);
    double e = prefloss__wexp_neg_to(az, PREFLOSS__WEXP_CAT_CAP, 0);
    int pos = z >= 0.0;
    double sp = prefloss__select_d(pos, 0.0, az) + prefloss__wlog1p_unit(e, 0);
    double g = -beta * (prefloss__select_d(pos, e, 1.0) / (1.0 + e) + cc);
    return prefloss__wpair_make(sp - prefloss__select_d(cc != 0.0, cc * z, 0.0), g, -g);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_robust, prefloss__wel_robust)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_robust, prefloss__el_robust)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */
