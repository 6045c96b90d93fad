/* The catalogue kinds "hinge" (SLiC) and "sppo_hard": piecewise-linear and
 * squared losses, exact without special functions. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "hinge": max(0, 1 - z); dL/dz = -1 where 1 - z > 0 (0 at and beyond the hinge). */
PREFLOSS__INLINE prefloss__pair_out prefloss__el_hinge(float pc, float pr, float rc, float rr,
                                                       prefloss__cat c)
{
    prefloss__df z = prefloss__beta_times_diff(c.beta, pc, rc, pr, rr, 0);
    float t = prefloss__df_round(prefloss__df_add_f(prefloss__df_make(-z.hi, -z.lo), 1.0f));
    float g = prefloss__select(t > 0.0f, -c.beta, 0.0f);
    return prefloss__pair_make(prefloss__select(t > 0.0f, t, 0.0f), g, -g);
}

/* "sppo_hard": (uc - c)^2 + (ur + c)^2, c = 1/(2 beta); gradients 2(uc - c), 2(ur + c). */
PREFLOSS__INLINE prefloss__pair_out prefloss__el_sppo(float pc, float pr, float rc, float rr,
                                                      prefloss__cat c)
{
    prefloss__df hb = c.half_inv_beta;
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
PREFLOSS__INLINE int prefloss__hinge_wide(PREFLOSS__CAT_ARGS, int plain)
{
    const double beta = (double)params->beta;
    int bad_seen = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = PREFLOSS__BAD4(pc[i], pr[i], rc[i], rr[i]) + prefloss__nan_if_nonfinite(w[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        double t = 1.0 - beta * prefloss__wdiff(pc[i], rc[i], pr[i], rr[i]);
        double g = prefloss__select_d(t > 0.0, -beta, 0.0);
        float gc = prefloss__wgrad_out(plain, g, up[i], w[i], s);
        loss[i] = prefloss__wloss_out(plain, (float)prefloss__select_d(t > 0.0, t, 0.0), pc[i], w[i], s,
                                      params->nll) + bad;
        dc[i] = prefloss__wgrad_nll_out(plain, g, gc, up[i], w[i], s, params->nll) + bad_up;
        dr[i] = prefloss__wgrad_out(plain, -g, up[i], w[i], s) + bad_up;
        bad_seen |= bad_up != bad_up;
    }
    return bad_seen;
}
PREFLOSS__WIDE_CAT_KERNEL(prefloss__k_hinge, prefloss__hinge_wide)

/* sppo_hard in double: y1 = uc - c, y2 = ur + c (c = 1/(2 beta) from its
 * double-float; each log-ratio with its exact rounding error, so that y
 * keeps its digits where it cancels), L = y1^2 + y2^2 (two positive terms,
 * rounded once), dL/dpc = 2 y1, dL/dpr = 2 y2. */
PREFLOSS__INLINE int prefloss__sppo_wide(PREFLOSS__CAT_ARGS, int plain)
{
    const double hb = (double)params->half_inv_beta.hi + (double)params->half_inv_beta.lo;
    int bad_seen = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = PREFLOSS__BAD4(pc[i], pr[i], rc[i], rr[i]) + prefloss__nan_if_nonfinite(w[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        double y1 = prefloss__wdiff(pc[i], rc[i], (float)0.0f, (float)0.0f) - hb;
        double y2 = prefloss__wdiff(pr[i], rr[i], (float)0.0f, (float)0.0f) + hb;
        float gc = prefloss__wgrad_out(plain, 2.0 * y1, up[i], w[i], s);
        loss[i] = prefloss__wloss_out(plain, (float)(y1 * y1 + y2 * y2), pc[i], w[i], s, params->nll) + bad;
        dc[i] = prefloss__wgrad_nll_out(plain, 2.0 * y1, gc, up[i], w[i], s, params->nll) + bad_up;
        dr[i] = prefloss__wgrad_out(plain, 2.0 * y2, up[i], w[i], s) + bad_up;
        bad_seen |= bad_up != bad_up;
    }
    return bad_seen;
}
PREFLOSS__WIDE_CAT_KERNEL(prefloss__k_sppo, prefloss__sppo_wide)
#else
PREFLOSS__CATALOGUE_KERNEL(prefloss__k_hinge, prefloss__el_hinge)

PREFLOSS__CATALOGUE_KERNEL(prefloss__k_sppo, prefloss__el_sppo)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */
