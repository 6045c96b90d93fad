/* The catalogue kind "exo_pair": the KL divergence between Bernoulli(sigma(z))
 * and the label-smoothed target. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* sum_{k>=3} x^k/(k(k-1)) for |x| <= 1/4, to k = 14 (the rest is below
 * 2^-30 of the sum's leading term). */
PREFLOSS__INLINE float prefloss__kl_tail(float x)
{
    float q = 1.0f / 182;
    q = 1.0f / 156 + x * q; q = 1.0f / 132 + x * q; q = 1.0f / 110 + x * q;
    q = 1.0f / 90 + x * q; q = 1.0f / 72 + x * q; q = 1.0f / 56 + x * q;
    q = 1.0f / 42 + x * q; q = 1.0f / 30 + x * q; q = 1.0f / 20 + x * q;
    q = 1.0f / 12 + x * q; q = 1.0f / 6 + x * q;
    return (x * x) * (x * q);
}

/* "exo_pair": KL(Bernoulli(s) || Bernoulli(t)), s = sigma(z), t = 1 - eps:
 * s log(s/t) + (1-s) log((1-s)/(1-t)), with log s = -sp(-z);
 * dL/dz = s(1-s)(z - log((1-eps)/eps)). Its two terms cancel as s nears
 * t. There (|x1|, |x2| <= 1/4 with r = s - t, u = 1 - t, x1 = r/t,
 * x2 = -r/u) its Taylor series in r is used instead (the k-th derivative
 * of KL in s at s = t is (k-2)! ((-1)^k/t^(k-1) + 1/u^(k-1))),
 *   KL = sum_{k>=2} (t (-x1)^k + u (-x2)^k)/(k(k-1)) = r^2/(2tu) + (t T(-x1) + u T(-x2)),
 * the leading term in double-float, the rest a small correction; elsewhere
 * the two terms are evaluated in double-float (they cancel by a small
 * factor only). The gradient beta sigma'(z)(z - d) is a product of
 * double-floats rounded once, scaled by 2^64 or 2^128 for |z| >= 64 (see
 * prefloss__sd_dsig). */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_exo(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    float ah = prefloss__fabs(z.hi), al = prefloss__mulsign(z.lo, z.hi);
    prefloss__df e = prefloss__exp_neg_df(ah, al, 0);
    prefloss__df sneg = prefloss__sigmoid_neg_df(z.hi, e, 0);       /* 1 - s */
    prefloss__df spos = prefloss__df_add_f(prefloss__df_make(-sneg.hi, -sneg.lo), 1.0f);
    /* far from the zero, in double-float too (its terms still cancel by a
     * small factor): s (log s - log t) + (1-s)(log(1-s) - log(1-t)), with
     * log s = -sp(-z) = -(relu(-z) + log1p(e)), log(1-s) = -(relu(z) + log1p(e)) */
    int pos = z.hi >= 0.0f;
    prefloss__df l1p = prefloss__log1p_unit_acc(e);                /* log1p(e), ~2^-34 */
    prefloss__df zabs = prefloss__df_make(ah, al);
    prefloss__df zero = prefloss__df_make(0.0f, 0.0f);
    prefloss__df spn = prefloss__df_add(l1p, prefloss__sd_select(pos, zero, zabs));   /* sp(-z) */
    prefloss__df spp = prefloss__df_add(l1p, prefloss__sd_select(pos, zabs, zero));   /* sp(z) */
    prefloss__df lst = prefloss__df_add(spn, c->exo_la);            /* -(log s - log t) */
    prefloss__df lsu = prefloss__df_add(spp, c->exo_lb);            /* -(log(1-s) - log(1-t)) */
    prefloss__df t1 = prefloss__df_mul(spos, lst), t2 = prefloss__df_mul(sneg, lsu);
    /* where z overflowed to +-inf, s or 1 - s is 0 and its term is 0, not 0 * inf */
    t1 = prefloss__sd_select(spos.hi != 0.0f, t1, zero);
    t2 = prefloss__sd_select(sneg.hi != 0.0f, t2, zero);
    float far = -prefloss__df_round(prefloss__df_add(t1, t2));
    /* r = s - t = eps - sigma(-z), in double-float */
    float r = prefloss__df_sub_round(prefloss__df_make(c->exo_eps, 0.0f), sneg);
    float t = 1.0f - c->exo_eps, u = c->exo_eps;     /* t + u = 1 (u = eps' <= 1/2) */
    float x1 = r / t, x2 = -r / u;
    int near = (int)(prefloss__fabs(x1) <= 0.25f) & (int)(prefloss__fabs(x2) <= 0.25f);
    float p1 = prefloss__kl_tail(prefloss__select(near, -x1, 0.0f));
    float p2 = prefloss__kl_tail(prefloss__select(near, -x2, 0.0f));
    /* r^2/(t u) in double-float: r, t = 1 - eps exact, one quotient. For
     * small |z|, r = (1/2 - t) + tanh(z/2)/2 with the odd series of tanh
     * (|z/2| < 1/4: to w^9, the rest below 2^-30 relative), as sigma(z) - 1/2
     * would cancel */
    prefloss__df w = prefloss__df_make(0.5f * z.hi, 0.5f * z.lo), rd;
    float w2 = w.hi * w.hi;
    float tpoly = w2 * (-1.0f / 3 + w2 * (2.0f / 15 + w2 * (-17.0f / 315 + w2 * (62.0f / 2835))));
    prefloss__df half_th = prefloss__df_add_f(w, w.hi * tpoly);     /* tanh(w), then halved */
    half_th.hi *= 0.5f;
    half_th.lo *= 0.5f;
    {
        prefloss__df r_sig = prefloss__df_add(prefloss__df_make(c->exo_eps, 0.0f),
                                              prefloss__df_make(-sneg.hi, -sneg.lo));
        prefloss__df r_th = prefloss__df_add_f(half_th, c->exo_eps - 0.5f);   /* eps - 1/2 exact */
        int small_z = prefloss__fabs(z.hi) < 0.5f;
        rd = prefloss__df_make(prefloss__select(small_z, r_th.hi, r_sig.hi),
                               prefloss__select(small_z, r_th.lo, r_sig.lo));
    }
    prefloss__df r2 = prefloss__two_prod(rd.hi, rd.hi, 0);
    prefloss__df tu = prefloss__df_mul_f(prefloss__two_sum(1.0f, -c->exo_eps), u, 0);
    prefloss__df lead;
    float q0, q1;
    prefloss__df pq;
    r2.lo += 2.0f * rd.hi * rd.lo;
    q0 = r2.hi / tu.hi;
    pq = prefloss__two_prod(q0, tu.hi, 0);
    q1 = (((r2.hi - pq.hi) - pq.lo) + r2.lo - q0 * tu.lo) / tu.hi;
    lead = prefloss__fast_two_sum(0.5f * q0, 0.5f * q1);            /* r^2/(2 t u) */
    float close = prefloss__df_round(prefloss__df_add_f(lead, t * p1 + u * p2));
    prefloss__df zt = prefloss__df_add(z, prefloss__df_make(-c->exo_d.hi, -c->exo_d.lo));
    int sh = prefloss__sd_level(z.hi);
    prefloss__df sd = prefloss__sd_dsig(z, sh);
    /* sigma'(z) = 0 (|z| >= 174, or z infinite): the product is 0, never 0 * inf */
    prefloss__df zz = prefloss__sd_select(sd.hi != 0.0f, zt, zero);
    float g = prefloss__df_round(prefloss__df_mul_f(prefloss__df_mul(sd, zz), c->beta, 0));
    return prefloss__pair_make_k(prefloss__select(near, close, far), g, sh, -g, sh);
}
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_exo, prefloss__el_exo)

#endif /* PREFLOSS_NO_CATALOGUE */
