/* The reference-free catalogue kinds "simpo" and "cpo", in double and in
 * double-float side by side. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "simpo": the sigmoid loss on beta(pc - pr) - gamma; "cpo": on beta(pc - pr).
 * dL/dz = eps - sigma(-z) cancels near its zero (z = 0 for eps = 1/2): it
 * is the double-float of prefloss__smoothed_sigmoid_sd (tanh(z/2)/2 - (1/2 - eps)
 * for |z| < 1/2), and beta dL/dz is rounded once. Where it underflows
 * (eps ~ 0, z >~ 87) it is carried times 2^64 or 2^128 until after the
 * upstream gradient, as js_divergence's. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_sigmoid_z(prefloss__df z, const prefloss__cat *c)
{
    prefloss__df dzs;
    int lz = (int)(z.hi >= 64.0f) * (int)(c->eps < 7.888609e-31f) + (int)(z.hi >= 128.0f) * (int)(c->eps == 0.0f);
    prefloss__ldf l = prefloss__smoothed_sigmoid_sd(z, c->eps, lz, &dzs);
    float g = prefloss__df_round(prefloss__df_mul_f(dzs, c->beta, 0));
    return prefloss__pair_make_k(l.loss, g, lz, -g, lz);
}

PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_simpo(float pc, float pr, float rc, float rr,
                                                         const prefloss__cat *c)
{
    (void)rc;
    (void)rr;
    return prefloss__el_sigmoid_z(prefloss__df_add_f(prefloss__beta_times_diff(c->beta, pc, 0.0f, pr, 0.0f, 0),
                                                     -c->gamma), c);
}

PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_cpo(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    (void)rc;
    (void)rr;
    return prefloss__el_sigmoid_z(prefloss__beta_times_diff(c->beta, pc, 0.0f, pr, 0.0f, 0), c);
}

#if PREFLOSS__WIDE
/* simpo and cpo in double (see "Wide evaluation"; shift: simpo's gamma).
 * beta pc and beta pr are exact in double, and z = (beta pc - beta pr) -
 * gamma is formed with the first difference's rounding error (TwoSum) added
 * last, so that z is within ~2^-52 of itself even where gamma cancels the
 * difference. With e = exp(-|z|) (the catalogue's cap, see
 * PREFLOSS__WEXP_CAT_CAP), as prefloss__el_sigmoid_z:
 *   L = w|z| + log1p(e),  w = eps for z >= 0, 1 - eps otherwise,
 *   dL/dz = eps - sigma(-z), or tanh(z/2)/2 - (1/2 - eps) for |z| < 1/2
 *           (the odd series of tanh to w^15 on w = z/2: the rest < 2^-43),
 * and dL/dpc = beta dL/dz = -dL/dpr. The reference log-probs are not read. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_sigz(float pc, float pr, const prefloss__cat *c, int shift)
{
    const double beta = (double)c->beta, eps = (double)c->eps;
    double ed, d = prefloss__wtwo_diff(beta * (double)pc, beta * (double)pr, &ed);  /* both products exact */
    double z = shift ? (d - (double)c->gamma) + ed : d;
    double dz, l = prefloss__wsmoothed(z, eps, 1.0 - eps, 0.5 - eps, &dz);
    return prefloss__wpair_make(l, beta * dz, -(beta * dz));
}
PREFLOSS__INLINE prefloss__wpair prefloss__wel_simpo(float pc, float pr, float rc, float rr, const prefloss__cat *c)
{
    (void)rc;
    (void)rr;
    return prefloss__wel_sigz(pc, pr, c, 1);
}
PREFLOSS__INLINE prefloss__wpair prefloss__wel_cpo(float pc, float pr, float rc, float rr, const prefloss__cat *c)
{
    (void)rc;
    (void)rr;
    return prefloss__wel_sigz(pc, pr, c, 0);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_simpo, prefloss__wel_simpo)
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_cpo, prefloss__wel_cpo)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_simpo, prefloss__el_simpo)
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_cpo, prefloss__el_cpo)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */
