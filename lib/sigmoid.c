/* The sigmoid family: -log sigma(z) and sigma(-z) for z = zh + zl          */
/* ------------------------------------------------------------------------ */

/* Per element of the sigmoid family, with e = exp(-|z|):
 *
 *   loss = (1 - eps) softplus(-z) + eps softplus(z)
 *        = w |z| + log1p(e),   w = eps if z >= 0 else 1 - eps
 *   sigma(-z) = e / (1 + e)  if z >= 0,  1 / (1 + e) otherwise
 *
 * z arrives unrounded (double-float), so no rounding of z costs accuracy. */
PREFLOSS__INLINE float prefloss__softplus_family(float zh, float zl, float e, float eps, int fma)
{
    int pos = zh >= 0.0f;
    float ah = prefloss__fabs(zh), al = prefloss__mulsign(zl, zh);
    float w = prefloss__select(pos, eps, 1.0f - eps);
    float wah = w * ah, wal = w * al;
    float lin_hi = prefloss__select(w > 0.0f, wah, 0.0f); /* 0 * inf must stay 0 */
    float lin_lo = prefloss__select(w > 0.0f, wal, 0.0f);
    return lin_hi + (lin_lo + prefloss__log1p_unit(e, fma));
}

/* sigma(-z) * w * u for exp(-|z|) = p * 2^k = e, within ~2 ulp: the rounding
 * of 1 + e is corrected, and for z >= 0 (sigma(-z) = e/(1 + e)) the power
 * 2^k is applied last, so that where sigma(-z) is subnormal but w * u
 * large (beta times an upstream gradient u) the product keeps its
 * precision. u == 0 gives 0 even where the rest overflowed. */
PREFLOSS__INLINE float prefloss__sigmoid_neg_times(float zh, float p, int32_t k, float e, float w,
                                                 float u, int fma)
{
    int pos = zh >= 0.0f;
    float num = prefloss__select(pos, p, 1.0f);
    int32_t kk = pos ? k : 0;
    prefloss__df den = prefloss__fast_two_sum(1.0f, e);
    float q = num / den.hi;
    float t = PREFLOSS__MADD(fma, -q, den.lo / den.hi, q);
    return prefloss__scale2(prefloss__times_up(t * w, u), kk);
}

/* sigma(-z) as a double-float from a double-float e = exp(-|z|): used where
 * the gradient is a difference that can cancel (label smoothing, reward
 * centering), so that only the final rounding remains. */
PREFLOSS__INLINE prefloss__df prefloss__sigmoid_neg_df(float zh, prefloss__df e, int fma)
{
    prefloss__df den = prefloss__df_add_f(e, 1.0f);        /* 1 + e */
    /* q = e / (1 + e): e.hi/den.hi with one correction for the remainder */
    float q0 = e.hi / den.hi;
    prefloss__df p = prefloss__two_prod(q0, den.hi, fma);
    float q1 = (((e.hi - p.hi) - p.lo) + e.lo - q0 * den.lo) / den.hi;
    prefloss__df q = prefloss__fast_two_sum(q0, q1);
    /* sigma(-z) = q for z >= 0, 1 - q = 1/(1 + e) for z < 0 */
    prefloss__df one_minus_q = prefloss__df_add_f(prefloss__df_make(-q.hi, -q.lo), 1.0f);
    return prefloss__df_make(prefloss__select(zh >= 0.0f, q.hi, one_minus_q.hi),
                             prefloss__select(zh >= 0.0f, q.lo, one_minus_q.lo));
}

/* round(s - c) for double-floats s and c. */
PREFLOSS__INLINE float prefloss__df_sub_round(prefloss__df s, prefloss__df c)
{
    return prefloss__df_round(prefloss__df_add(s, prefloss__df_make(-c.hi, -c.lo)));
}

/* ------------------------------------------------------------------------ */

/* The sigmoid family's values at z = zh + zl from one exponential:
 * sigma(z), sigma(-z), sp(z) = log(1 + e^z) and sp(-z), each within ~2 ulp. */
typedef struct prefloss__sigvals { float sig_pos, sig_neg, sp_pos, sp_neg; } prefloss__sigvals;

PREFLOSS__INLINE prefloss__sigvals prefloss__sigmoid_values(float zh, float zl)
{
    prefloss__sigvals v;
    int pos = zh >= 0.0f;
    float ah = prefloss__fabs(zh), al = prefloss__mulsign(zl, zh);
    int32_t k;
    float p = prefloss__exp_neg_parts(ah, al, &k, 0); /* k is written here: its own statement */
    float e = prefloss__scale2(p, k);
    prefloss__df den = prefloss__fast_two_sum(1.0f, e);
    float big0 = 1.0f / den.hi;
    float big = big0 - big0 * (den.lo * big0);    /* 1/(1 + e), rounding of 1 + e corrected */
    float small = e * big;                        /* e/(1 + e) */
    float l1p = prefloss__log1p_unit(e, 0);
    float far = ah + (al + l1p);                  /* sp(|z|) = |z| + log1p(e) */
    v.sig_pos = prefloss__select(pos, big, small);
    v.sig_neg = prefloss__select(pos, small, big);
    v.sp_pos = prefloss__select(pos, far, l1p);
    v.sp_neg = prefloss__select(pos, l1p, far);
    return v;
}

/* The sigmoid loss with label smoothing at z (double-float) and its
 * derivative: L = -(1-eps) log sigma(z) - eps log sigma(-z), dL/dz =
 * -(sigma(-z) - eps), the difference formed in double-float. */
typedef struct prefloss__ld { float loss, dz; } prefloss__ld;

PREFLOSS__INLINE prefloss__ld prefloss__smoothed_sigmoid(prefloss__df z, float eps)
{
    prefloss__ld r;
    float ah = prefloss__fabs(z.hi), al = prefloss__mulsign(z.lo, z.hi);
    prefloss__df e = prefloss__exp_neg_df(ah, al, 0);
    r.loss = prefloss__softplus_family(z.hi, z.lo, e.hi, eps, 0);
    r.dz = -prefloss__df_sub_round(prefloss__sigmoid_neg_df(z.hi, e, 0), prefloss__df_make(eps, 0.0f));
    return r;
}

/* relu(-u) as a double-float. */
PREFLOSS__INLINE prefloss__df prefloss__relu_neg_df(prefloss__df u)
{
    int neg = u.hi < 0.0f;
    return prefloss__df_make(prefloss__select(neg, -u.hi, 0.0f), prefloss__select(neg, -u.lo, 0.0f));
}

/* sp(-x) = relu(-x) + log1p(e^{-|x|}) as a double-float, from e = e^{-|x|}
 * (a double-float); +inf for x = -inf. */
PREFLOSS__INLINE prefloss__df prefloss__softplus_neg_df(prefloss__df x, prefloss__df e)
{
    return prefloss__df_add(prefloss__relu_neg_df(x), prefloss__log1p_unit_df2(e));
}
