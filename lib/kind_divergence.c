/* The f-divergence kinds "js_divergence" and "alpha_divergence": the sigmoid
 * loss on a transformed log-ratio difference, and alpha's rescue of
 * results that overflow alone but not after the weights. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* ln cosh(x) - x^2/2 for |x| <= 1/4 (Taylor to x^12; the rest is below
 * 2^-30 of the first term). */
PREFLOSS__INLINE float prefloss__lncosh_tail(float x)
{
    float t = x * x;
    return t * t * (-1.0f / 12 + t * (1.0f / 45 + t * (-17.0f / 2520 + t * (31.0f / 14175
                    + t * (-691.0f / 935550)))));
}

/* "js_divergence": the sigmoid loss on beta h' with h' = h - (sp(uc) - sp(ur)),
 * i.e. sp(-ur) - sp(-uc) (the same, since sp(x) = x + sp(-x)), as a
 * double-float:
 *  - where |uc| or |ur| >= 1/2, as [relu(-ur) - relu(-uc)] + [log1p(e^-|ur|)
 *    - log1p(e^-|uc|)]: the first bracket is exactly h, uc, -ur or 0 (by the
 *    signs), the second a difference of double-floats (nothing large cancels);
 *  - where both are below 1/2, with sp(-u) = ln 2 - u/2 + ln cosh(u/2) and
 *    ln cosh(x) = x^2/2 + T(x): h' = h (4 - (uc + ur))/8 + T(ur/2) - T(uc/2),
 *    so h' keeps its relative accuracy however small it is next to uc, ur.
 * dh'/duc = sigma(-uc), dh'/dur = -sigma(-ur); each gradient is a
 * double-float product, rounded once. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_js(float pc, float pr, float rc, float rr,
                                                      const prefloss__cat *c)
{
    prefloss__df uc = prefloss__diff_of_diffs(pc, rc, 0.0f, 0.0f), ur = prefloss__diff_of_diffs(pr, rr, 0.0f, 0.0f);
    prefloss__df h = prefloss__diff_of_diffs(pc, rc, pr, rr);
    /* e^{-|u|} times 2^(64 l) (l > 0 for |u| >= 64), and unscaled */
    int lc = prefloss__sd_level(uc.hi), lr = prefloss__sd_level(ur.hi);
    prefloss__df ecs = prefloss__sd_exp(prefloss__fabs(uc.hi), prefloss__mulsign(uc.lo, uc.hi), lc);
    prefloss__df ers = prefloss__sd_exp(prefloss__fabs(ur.hi), prefloss__mulsign(ur.lo, ur.hi), lr);
    prefloss__df ec = prefloss__sd_unscale(ecs, lc), er = prefloss__sd_unscale(ers, lr), dzs, z;
    int lz;
    prefloss__df zero = prefloss__df_make(0.0f, 0.0f), rel, far, near, q, hp;
    int nc = uc.hi < 0.0f, nr = ur.hi < 0.0f;
    int small = (int)(prefloss__fabs(uc.hi) < 0.5f) & (int)(prefloss__fabs(ur.hi) < 0.5f);
    prefloss__ldf l;
    rel = prefloss__df_pick(nc & nr, h, prefloss__df_pick(nc, uc, prefloss__df_pick(nr, prefloss__df_negate(ur), zero)));
    far = prefloss__df_add(rel, prefloss__df_add(prefloss__log1p_unit_acc(er),
                                                 prefloss__df_negate(prefloss__log1p_unit_acc(ec))));
    q = prefloss__df_add_f(prefloss__df_negate(prefloss__df_add(uc, ur)), 4.0f);   /* 4 - (uc + ur) */
    near = prefloss__df_mul_sat(h, q);
    near = prefloss__df_add_f(prefloss__df_make(0.125f * near.hi, 0.125f * near.lo),
                              prefloss__lncosh_tail(0.5f * prefloss__select(small, ur.hi, 0.0f))
                              - prefloss__lncosh_tail(0.5f * prefloss__select(small, uc.hi, 0.0f)));
    hp = prefloss__df_pick(small, near, far);
    z = prefloss__df_mul_f(hp, c->beta, 0);
    /* dL/dz = eps - sigma(-z) underflows only for eps ~ 0 and z >~ 87: there
     * it is carried times 2^64 (eps < 2^-100) or 2^128 (eps = 0, z >= 128),
     * so that eps 2^(64 lz) stays below 2^-36 */
    lz = (int)(z.hi >= 64.0f) * (int)(c->eps < 7.888609e-31f) + (int)(z.hi >= 128.0f) * (int)(c->eps == 0.0f);
    l = prefloss__smoothed_sigmoid_sd(z, c->eps, lz, &dzs);
    {
        /* sigma(-u) = e^{-u} for u >= 64 (1 + e^{-u} is 1), times 2^(64 l);
         * a product of levels above 3 (dL/dz and sigma(-u) both < e^-128) is 0 */
        int sc_l = lc * (int)(uc.hi > 0.0f), sr_l = lr * (int)(ur.hi > 0.0f);
        int tc = lz + sc_l, tr = lz + sr_l, okc = tc <= 3, okr = tr <= 3;
        prefloss__df sc = prefloss__df_pick(sc_l > 0, ecs, prefloss__sigmoid_neg_df(uc.hi, ec, 0));
        prefloss__df sr = prefloss__df_pick(sr_l > 0, ers, prefloss__sigmoid_neg_df(ur.hi, er, 0));
        float gc = prefloss__df_round(prefloss__df_mul_f(prefloss__df_mul_sat(dzs, sc), c->beta, 0));
        float gr = prefloss__df_round(prefloss__df_mul_f(prefloss__df_mul_sat(dzs, sr), c->beta, 0));
        return prefloss__pair_make_k(l.loss, prefloss__select(okc, gc, 0.0f), tc * okc,
                                     prefloss__select(okr, -gr, 0.0f), tr * okr);
    }
}

/* TRL's cap_exp on a double-float exponent v: e^{min(v, cap)} as a
 * double-float (exp_neg_df of -v: the reduction also serves positive
 * exponents up to the cap, where e^v is still finite). below: v < cap,
 * where the derivative is e^v (0 above, as for a clamp). */
PREFLOSS__INLINE prefloss__df prefloss__cap_exp_df(prefloss__df v, int *below, prefloss__df *capped)
{
    int in = (int)(v.hi < PREFLOSS__EXP_CAP) | ((int)(v.hi == PREFLOSS__EXP_CAP) & (int)(v.lo < 0.0f));
    *below = in;
    *capped = prefloss__df_make(prefloss__select(in, v.hi, PREFLOSS__EXP_CAP), prefloss__select(in, v.lo, 0.0f));
    return prefloss__exp_neg_df(-capped->hi, -capped->lo, 0);
}

/* "alpha_divergence": the sigmoid loss on z = beta h' with
 * h' = (e^{-a ur} - e^{-a uc})/a, the exponents capped at 88.7228 as TRL's
 * cap_exp does. The exponents -a u are double-floats (u never rounded), so
 * are the exponentials; where they nearly cancel (both uncapped,
 * |a h| < 0.347) the difference is -e^{-a ur} expm1(-a h), expm1 of the
 * double-float -a h by its Taylor series (y + y^2/2 in double-float, the
 * rest below 2^-35). z = d (beta/a) with beta/a a double-float, so nothing
 * is rounded before the loss. dh'/duc = e^{-a uc}, dh'/dur = -e^{-a ur}
 * (0 where capped). */
/* alpha_divergence's values before the upstream gradient: z = d (beta/alpha)
 * with d = e^{-a ur} - e^{-a uc}, the loss, and dL/dz times each (capped)
 * exponential; shared by the element and prefloss__alpha_rescue. */
typedef struct prefloss__alpha_parts {
    prefloss__df d, z, gc, gr;   /* gc = dL/dz e^{-a uc} 2^(64 lc), gr = dL/dz e^{-a ur} 2^(64 lr) */
    float loss;
    int below_c, below_r, lc, lr;
} prefloss__alpha_parts;

/* dL/dz e^v for the smoothed sigmoid's dL/dz = eps - sigma(-z) and a
 * double-float exponent v <= cap, times 2^(64 *lvl) (see prefloss__sd_dsig):
 * for z >= 1/2 as eps e^v - e^{-(z - v)}/(1 + e^{-z}), the exponents
 * combined first, so that where sigma(-z) is subnormal but the product is
 * not (e^v up to 3.4e38) no digit is lost; elsewhere the product of dz and
 * e^v. The level is that of e^v (v <= -64), or for eps = 0 and z >= 1/2
 * that of e^{v - z} (z - v >= 64): the gradient, subnormal there, keeps
 * its digits until after the upstream gradient. */
PREFLOSS__INLINE prefloss__df prefloss__dz_times_exp(prefloss__df z, prefloss__df dz, prefloss__df v,
                                                     float eps, int *lvl)
{
    prefloss__df ez = prefloss__exp_neg_abs_df(z), den = prefloss__df_add_f(ez, 1.0f);
    prefloss__df a = prefloss__df_add(z, prefloss__df_negate(v)), t, q, es;
    int hi_z = z.hi >= 0.5f, lv, la, l;
    a = prefloss__df_pick(a.hi == a.hi, a, prefloss__df_make(FLT_MAX * 2.0f, 0.0f));  /* z = inf */
    lv = prefloss__sd_level(v.hi) * (int)(v.hi < 0.0f);
    la = prefloss__sd_level(a.hi) * (int)(a.hi > 0.0f);
    l = lv + (la - lv) * ((int)(eps == 0.0f) & hi_z);
    es = prefloss__sd_exp(-v.hi, -v.lo, lv);                /* e^v 2^(64 lv) */
    t = prefloss__sd_exp(a.hi, a.lo, l);                    /* e^{v - z} 2^(64 l) */
    q = prefloss__sd_div(t, den);
    *lvl = l;
    return prefloss__df_pick(hi_z, prefloss__df_add(prefloss__df_mul_f(es, eps, 0), prefloss__df_negate(q)),
                             prefloss__df_mul_sat(dz, es));
}

PREFLOSS__INLINE prefloss__alpha_parts prefloss__alpha_eval(float pc, float pr, float rc, float rr,
                                                            const prefloss__cat *c)
{
    prefloss__alpha_parts o;
    prefloss__df uc = prefloss__diff_of_diffs(pc, rc, 0.0f, 0.0f), ur = prefloss__diff_of_diffs(pr, rr, 0.0f, 0.0f);
    prefloss__df y = prefloss__df_mul_f(prefloss__diff_of_diffs(pc, rc, pr, rr), -c->alpha, 0);  /* -a h */
    prefloss__df y2, em1, qd, ec, er, vc, vr;
    prefloss__ldf l;
    float yh, yl, rest;
    int near;
    ec = prefloss__cap_exp_df(prefloss__df_mul_f(uc, -c->alpha, 0), &o.below_c, &vc);
    er = prefloss__cap_exp_df(prefloss__df_mul_f(ur, -c->alpha, 0), &o.below_r, &vr);
    near = (int)(o.below_c & o.below_r) & (int)(prefloss__fabs(y.hi) < 0.34657359f);
    yh = prefloss__select(near, y.hi, 0.0f);
    yl = prefloss__select(near, y.lo, 0.0f);
    y2 = prefloss__two_prod(yh, yh, 0);
    y2.lo += 2.0f * yh * yl;
    rest = yh * yh * yh * (1.0f / 6 + yh * (1.0f / 24 + yh * (1.0f / 120 + yh * (1.0f / 720
           + yh * (1.0f / 5040 + yh * (1.0f / 40320 + yh * (1.0f / 362880)))))));
    em1 = prefloss__df_add_f(prefloss__df_add(prefloss__df_make(yh, yl),
                                              prefloss__df_make(0.5f * y2.hi, 0.5f * y2.lo)), rest);
    o.d = prefloss__df_pick(near, prefloss__df_negate(prefloss__df_mul_sat(er, em1)),
                            prefloss__df_add(er, prefloss__df_negate(ec)));
    qd = c->beta_alpha;   /* beta/a as a double-float (prefloss__prepare_catalogue) */
    /* where beta/a is beyond the float range (beta ~ FLT_MAX, a < 1), z is
     * (d beta)/a instead: finite wherever z is (then d beta < FLT_MAX a) */
    o.z = prefloss__df_pick(qd.hi <= FLT_MAX, prefloss__df_mul_sat(o.d, qd),
                            prefloss__df_div_sat(prefloss__df_mul_sat(o.d, prefloss__df_make(c->beta, 0.0f)),
                                                 c->alpha));
    l = prefloss__smoothed_sigmoid_df(o.z, c->eps);
    o.loss = l.loss;
    o.gc = prefloss__dz_times_exp(o.z, l.dz, vc, c->eps, &o.lc);
    o.gr = prefloss__dz_times_exp(o.z, l.dz, vr, c->eps, &o.lr);
    return o;
}

PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_alpha(float pc, float pr, float rc, float rr,
                                                         const prefloss__cat *c)
{
    prefloss__alpha_parts o = prefloss__alpha_eval(pc, pr, rc, rr, c);
    float gc = prefloss__df_round(prefloss__df_mul_f(o.gc, c->beta, 0));
    float gr = prefloss__df_round(prefloss__df_mul_f(o.gr, c->beta, 0));
    return prefloss__pair_make_k(o.loss, prefloss__select(o.below_c, gc, 0.0f), o.lc,
                                 prefloss__select(o.below_r, -gr, 0.0f), o.lr);
}

#if !PREFLOSS__WIDE
/* alpha_divergence can overflow where the exact output is in range: beta h'
 * (or beta e^{-a u} in a gradient) exceeds the float range, and the
 * per-pair weight, the mix weight or the upstream gradient would bring it
 * back. Run after the kernel (which adds the NLL term): every output that came out
 * +-inf for a pair with finite inputs, weights and upstream gradient is
 * recomputed as one scaled product (the loss is then (1-eps)|z| or eps z,
 * log1p(e^-|z|) being 0 next to it), plus the NLL term. Scalar, and only
 * reached where an output is infinite. */
static PREFLOSS_KERNEL_ATTR void prefloss__alpha_rescue(float *losses, float *dc, float *dr, const float *pc, const float *pr,
                                   const float *rc, const float *rr, const float *w, float s,
                                   const float *up, size_t n, const prefloss__cat *c, float lambda)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float wi = w != NULL ? w[i] : 1.0f, ui = up != NULL ? up[i] : 1.0f;
        float rci = rc != NULL ? rc[i] : 0.0f, rri = rr != NULL ? rr[i] : 0.0f;
        int l_inf = losses != NULL && prefloss__fabs(losses[i]) > FLT_MAX && losses[i] == losses[i];
        int c_inf = dc != NULL && prefloss__fabs(dc[i]) > FLT_MAX && dc[i] == dc[i];
        int r_inf = dr != NULL && prefloss__fabs(dr[i]) > FLT_MAX && dr[i] == dr[i];
        prefloss__alpha_parts o;
        float f[6], g[2], h[3];
        if (!(l_inf || c_inf || r_inf)) continue;
        if (!prefloss__finite(pc[i]) || !prefloss__finite(pr[i]) || !prefloss__finite(rci)
            || !prefloss__finite(rri) || !prefloss__finite(wi) || wi == 0.0f || s == 0.0f) continue;
        o = prefloss__alpha_eval(pc[i], pr[i], rci, rri, c);
        if (l_inf && prefloss__fabs(o.z.hi) > FLT_MAX) {
            /* s w [((1-eps) relu(-z) + eps relu(z)) + lambda (-pc)], z = d beta/alpha */
            f[0] = prefloss__fabs(prefloss__df_round(o.d));
            f[1] = c->beta;
            f[2] = o.d.hi < 0.0f ? 1.0f - c->eps : c->eps;
            g[0] = lambda;        /* the NLL term */
            g[1] = -pc[i];
            h[0] = wi;
            h[1] = s;
            losses[i] = prefloss__scaled_sum_times(f, 3, c->alpha, g, 2, h, 2);
        }
        if ((c_inf || r_inf) && prefloss__finite(ui)) {
            f[0] = c->beta;
            f[2] = ui;
            f[3] = wi;
            f[5] = s;
            if (c_inf && o.below_c) {
                /* s w u [beta g 2^(-64 lc) - lambda]: the two terms can cancel
                 * exactly (beta g = lambda), so their common factors come last */
                float fc[3];
                fc[0] = c->beta;
                fc[1] = prefloss__df_round(o.gc);
                fc[2] = prefloss__sd_unit(o.lc);  /* 2^(-64 lc), exact */
                g[0] = -lambda;   /* the NLL term */
                h[0] = ui;
                h[1] = wi;
                h[2] = s;
                dc[i] = prefloss__scaled_sum_times(fc, 3, 1.0f, g, 1, h, 3);
            }
            if (r_inf && o.below_r) {
                f[1] = prefloss__df_round(o.gr);
                f[4] = prefloss__sd_unit(o.lr);
                dr[i] = -prefloss__scaled_product(f, 6, 1.0f);
            }
        }
    }
}
#define PREFLOSS__ALPHA_FIXUP prefloss__alpha_rescue
#else
/* The wide kernel forms every output in double's range and rounds it once
 * (prefloss__wloss_cat, prefloss__wgrad_cat, prefloss__wgrad_nll_cat): an
 * output that is +-inf is beyond the float range, and there is nothing to
 * rescue. */
#define PREFLOSS__ALPHA_FIXUP NULL
#endif

#if PREFLOSS__WIDE
/* js_divergence in double (see "Wide evaluation"), the formulas of
 * prefloss__el_js: uc, ur, h each with its rounding error (prefloss__wdiff),
 * e = exp(-|u|) (the catalogue's cap);
 *  - where |uc| or |ur| >= 1/2, h' = [relu(-ur) - relu(-uc)] + [log1p(e_r)
 *    - log1p(e_c)], the first bracket h, uc, -ur or 0 by the signs;
 *  - where both are below 1/2, h' = h (4 - (uc + ur))/8 + T(ur/2) - T(uc/2),
 *    T(x) = ln cosh(x) - x^2/2 by its series (to x^12);
 * z = beta h', L the smoothed sigmoid loss (prefloss__wsmoothed),
 * dL/dpc = beta (dL/dz) sigma(-uc), dL/dpr = -beta (dL/dz) sigma(-ur). */
PREFLOSS__INLINE double prefloss__wlncosh_tail(double x)
{
    double t = x * x;
    return t * t * (-1.0 / 12 + t * (1.0 / 45 + t * (-17.0 / 2520 + t * (31.0 / 14175 + t * (-691.0 / 935550)))));
}

PREFLOSS__INLINE prefloss__wpair prefloss__wel_js(float pc, float pr, float rc, float rr,
                                                 const prefloss__cat *c)
{
    const double beta = (double)c->beta, eps = (double)c->eps;
    double uc = prefloss__wdiff(pc, rc, 0.0f, 0.0f), ur = prefloss__wdiff(pr, rr, 0.0f, 0.0f);
    double h = prefloss__wdiff(pc, rc, pr, rr);
    double ec = prefloss__wexp_neg_to(prefloss__fabs_d(uc), PREFLOSS__WEXP_CAT_CAP, 0);
    double er = prefloss__wexp_neg_to(prefloss__fabs_d(ur), PREFLOSS__WEXP_CAT_CAP, 0);
    int nc = uc < 0.0, nr = ur < 0.0;
    int small = (int)(prefloss__fabs_d(uc) < 0.5) & (int)(prefloss__fabs_d(ur) < 0.5);
    double rel = prefloss__select_d(nc & nr, h, prefloss__select_d(nc, uc, prefloss__select_d(nr, -ur, 0.0)));
    double far = rel + (prefloss__wlog1p_unit(er, 0) - prefloss__wlog1p_unit(ec, 0));
    double near = h * (4.0 - (uc + ur)) * 0.125
                + (prefloss__wlncosh_tail(0.5 * prefloss__select_d(small, ur, 0.0))
                   - prefloss__wlncosh_tail(0.5 * prefloss__select_d(small, uc, 0.0)));
    double z = beta * prefloss__select_d(small, near, far), dz;
    double l = prefloss__wsmoothed(z, eps, 1.0 - eps, 0.5 - eps, &dz);
    double sc = prefloss__select_d(nc, 1.0, ec) / (1.0 + ec), sr = prefloss__select_d(nr, 1.0, er) / (1.0 + er);
    return prefloss__wpair_make(l, beta * (dz * sc), -(beta * (dz * sr)));
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_js, prefloss__wel_js)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_js, prefloss__el_js)
#endif

#if PREFLOSS__WIDE
/* alpha_divergence in double (see "Wide evaluation"), the formulas of
 * prefloss__alpha_eval: v = -a u (u each log-ratio with its rounding error,
 * prefloss__wdiff), capped at 88.7228 as TRL's cap_exp; d = e^{v_r} - e^{v_c},
 * or where both are uncapped and |a h| < 0.347, -e^{v_r} expm1(-a h) (Taylor
 * to y^12: the rest < 2^-45), so that d keeps its digits where it cancels;
 * z = d beta/a; L the smoothed sigmoid loss (prefloss__wsmoothed); the
 * gradients beta (dL/dz) e^{v} (+ for pc, - for pr, 0 where capped), for
 * z >= 1/2 as beta (eps e^v - e^{v - z}/(1 + e^{-z})), the exponents
 * combined first. Nothing overflows in double, nor on the way to the
 * outputs (the weights and the NLL term are applied in double's range too),
 * so no rescue is needed. */
/* expm1(y) for |y| < 0.347: y + y^2/2 + ... + y^12/12! (the rest < 2^-45
 * relative), so that it keeps its digits however small y is. */
PREFLOSS__INLINE double prefloss__wexpm1_small(double y)
{
    double q = PREFLOSS__MADD_D(0, y, 1.0 / 479001600, 1.0 / 39916800);   /* expm1(y)/y - 1 */
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 3628800);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 362880);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 40320);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 5040);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 720);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 120);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 24);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 6);
    q = PREFLOSS__MADD_D(0, y, q, 0.5);
    return y + y * (y * q);
}

PREFLOSS__INLINE double prefloss__walpha_grad(double z, double dz, double e, double v, double eps)
{
    double ez = prefloss__wexp_neg_to(prefloss__fabs_d(z), PREFLOSS__WEXP_CAT_CAP, 0);
    double ea = prefloss__wexp_neg_to(z - v, PREFLOSS__WEXP_CAT_CAP, 0);   /* e^{v - z} */
    return prefloss__select_d(z >= 0.5, eps * e - ea / (1.0 + ez), dz * e);
}

PREFLOSS__INLINE prefloss__wpair prefloss__wel_alpha(float pc, float pr, float rc, float rr,
                                                    const prefloss__cat *c)
{
    const double beta = (double)c->beta, al = (double)c->alpha, eps = (double)c->eps;
    const double cap = (double)PREFLOSS__EXP_CAP;
    const double ba = beta / al;   /* beta/a (beyond the float range for beta ~ FLT_MAX, a < 1) */
    double vc = -al * prefloss__wdiff(pc, rc, 0.0f, 0.0f), vr = -al * prefloss__wdiff(pr, rr, 0.0f, 0.0f);
    double y = -al * prefloss__wdiff(pc, rc, pr, rr);                           /* -a h */
    int below_c = vc < cap, below_r = vr < cap;
    double ec = prefloss__wexp_neg_to(-prefloss__select_d(below_c, vc, cap), PREFLOSS__WEXP_CAT_CAP, 0);
    double er = prefloss__wexp_neg_to(-prefloss__select_d(below_r, vr, cap), PREFLOSS__WEXP_CAT_CAP, 0);
    int near = below_c & below_r & (int)(prefloss__fabs_d(y) < 0.34657359);
    double d = prefloss__select_d(near, -er * prefloss__wexpm1_small(prefloss__select_d(near, y, 0.0)), er - ec);
    double z = d * ba, dz, l;
    l = prefloss__wsmoothed(z, eps, 1.0 - eps, 0.5 - eps, &dz);
    return prefloss__wpair_make(l, prefloss__select_d(below_c, beta * prefloss__walpha_grad(z, dz, ec, vc, eps), 0.0),
                                prefloss__select_d(below_r, -(beta * prefloss__walpha_grad(z, dz, er, vr, eps)), 0.0));
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_alpha, prefloss__wel_alpha)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_alpha, prefloss__el_alpha)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */
