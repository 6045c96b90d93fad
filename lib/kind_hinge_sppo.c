/* The catalogue kinds "hinge" (SLiC) and "sppo_hard": piecewise-linear and
 * squared losses, exact without special functions. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "hinge": max(0, 1 - z); dL/dz = -1 where 1 - z > 0 (0 at and beyond the hinge). */
PREFLOSS__INLINE prefloss__pair_out prefloss__el_hinge(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    float t = prefloss__df_round(prefloss__df_add_f(prefloss__df_make(-z.hi, -z.lo), 1.0f));
    float g = prefloss__select(t > 0.0f, -c->beta, 0.0f);
    return prefloss__pair_make(prefloss__select(t > 0.0f, t, 0.0f), g, -g);
}

/* "sppo_hard": (uc - c)^2 + (ur + c)^2, c = 1/(2 beta); gradients 2(uc - c), 2(ur + c). */
PREFLOSS__INLINE prefloss__pair_out prefloss__el_sppo(float pc, float pr, float rc, float rr,
                                                      const prefloss__cat *c)
{
    prefloss__df hb = c->half_inv_beta;
    prefloss__df y1 = prefloss__df_add(prefloss__diff_of_diffs(pc, rc, 0.0f, 0.0f),
                                       prefloss__df_make(-hb.hi, -hb.lo));
    prefloss__df y2 = prefloss__df_add(prefloss__diff_of_diffs(pr, rr, 0.0f, 0.0f), hb);
    prefloss__df q1 = prefloss__two_prod(y1.hi, y1.hi, 0), q2 = prefloss__two_prod(y2.hi, y2.hi, 0);
    q1.lo = prefloss__lo_if_finite(q1.hi, q1.lo + 2.0f * y1.hi * y1.lo);
    q2.lo = prefloss__lo_if_finite(q2.hi, q2.lo + 2.0f * y2.hi * y2.lo);
    return prefloss__pair_make(prefloss__df_round(prefloss__df_add(q1, q2)),
                               2.0f * prefloss__df_round(y1), 2.0f * prefloss__df_round(y2));
}

#if PREFLOSS__WIDE
/* hinge in double (see "Wide evaluation"): t = 1 - beta h, h within
 * ~2^-52 of its magnitude (prefloss__wdiff), L = max(t, 0) rounded once,
 * dL/dpc = -beta = -dL/dpr where t > 0. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_hinge(float pc, float pr, float rc, float rr,
                                                    const prefloss__cat *c)
{
    const double beta = (double)c->beta;
    double t = 1.0 - beta * prefloss__wdiff(pc, rc, pr, rr);
    double g = prefloss__select_d(t > 0.0, -beta, 0.0);
    return prefloss__wpair_make(prefloss__select_d(t > 0.0, t, 0.0), g, -g);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_hinge, prefloss__wel_hinge)

/* sppo_hard in double: y1 = uc - c, y2 = ur + c (c = 1/(2 beta), in
 * double's range for every beta; each log-ratio with its exact rounding
 * error, so that y keeps its digits where it cancels), L = y1^2 + y2^2 (two positive terms,
 * rounded once), dL/dpc = 2 y1, dL/dpr = 2 y2. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_sppo(float pc, float pr, float rc, float rr,
                                                   const prefloss__cat *c)
{
    const double hb = 0.5 / (double)c->beta;   /* 1/(2 beta), a normal double for every beta */
    double y1 = prefloss__wdiff(pc, rc, 0.0f, 0.0f) - hb, y2 = prefloss__wdiff(pr, rr, 0.0f, 0.0f) + hb;
    return prefloss__wpair_make(y1 * y1 + y2 * y2, 2.0 * y1, 2.0 * y2);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_sppo, prefloss__wel_sppo)
#else
PREFLOSS__CATALOGUE_KERNEL(prefloss__k_hinge, prefloss__el_hinge)

PREFLOSS__CATALOGUE_KERNEL(prefloss__k_sppo, prefloss__el_sppo)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */
