/* Scaled gradients: values that would underflow before the upstream
 * gradient and the weights bring them back are carried times 2^64 or 2^128
 * (the "level" lvl = 1 or 2) and unscaled once, after the last product.
 * The sd_ helpers compute such values; prefloss__scaled_* form exact
 * products and sums of many factors without overflow or underflow. */

/* ---- The derivative of the sigmoid, for exo_pair's and APO's gradients --- */

/* sigma'(x) = sigma(x) sigma(-x) = e/(1 + e)^2 with e = exp(-|x|) is below
 * 2^-92 for |x| >= 64 and subnormal beyond |x| ~ 87, where a gradient
 * beta sigma'(x) times an upstream gradient and a weight can still be a
 * normal float. So there it is computed times 2^(64 lvl), lvl = 1 for
 * |x| >= 64 and 2 for |x| >= 128 (prefloss__sd_level), and the kernel
 * (PREFLOSS__CATALOGUE_KERNEL_K) applies 2^(-64 lvl) after the product with
 * the upstream gradient, rounding once. 2^64 e^-64 = E64_HI + E64_LO,
 * 2^128 e^-128 = E128_HI + E128_LO. */
#define PREFLOSS__E64_HI 2.95850899e-09f
#define PREFLOSS__E64_LO -8.92869275e-17f
#define PREFLOSS__E128_HI 8.75277526e-18f
#define PREFLOSS__E128_LO -3.20393071e-25f

PREFLOSS__INLINE int prefloss__sd_level(float x)
{
    float ax = prefloss__fabs(x);
    return (int)(ax >= 64.0f) + (int)(ax >= 128.0f);
}

/* x / y for double-floats, y > 0: one correction from the exact remainder. */
PREFLOSS__INLINE prefloss__df prefloss__sd_div(prefloss__df x, prefloss__df y)
{
    float q0 = x.hi / y.hi;
    prefloss__df p = prefloss__two_prod(q0, y.hi, 0);
    float q1 = (((x.hi - p.hi) - p.lo) + x.lo - q0 * y.lo) / y.hi;
    return prefloss__fast_two_sum(q0, q1);
}

PREFLOSS__INLINE prefloss__df prefloss__sd_select(int c, prefloss__df x, prefloss__df y)
{
    return prefloss__df_make(prefloss__select(c, x.hi, y.hi), prefloss__select(c, x.lo, y.lo));
}

/* exp(-(ah + al)) for ah >= 0 as a double-float (relative error ~2^-32),
 * times 2^(64 lvl) (callers pass lvl > 0 only for ah >= 64 lvl; ah - 64 lvl
 * is then exact). */
PREFLOSS__INLINE prefloss__df prefloss__sd_exp(float ah, float al, int lvl)
{
    int l1 = lvl == 1, l2 = lvl == 2;
    float ar = prefloss__select(l2, ah - 128.0f, prefloss__select(l1, ah - 64.0f, ah));
    prefloss__df e = prefloss__exp_neg_df(ar, al, 0);
    return prefloss__df_mul(e, prefloss__df_make(
        prefloss__select(l2, PREFLOSS__E128_HI, prefloss__select(l1, PREFLOSS__E64_HI, 1.0f)),
        prefloss__select(l2, PREFLOSS__E128_LO, prefloss__select(l1, PREFLOSS__E64_LO, 0.0f))));
}

/* sigma'(x) as a double-float (relative error ~2^-31), times 2^(64 lvl)
 * (lvl > 0 only for |x| >= 64: there e < 2^-92 drops out of 1 + e). */
PREFLOSS__INLINE prefloss__df prefloss__sd_dsig(prefloss__df x, int lvl)
{
    prefloss__df e = prefloss__sd_exp(prefloss__fabs(x.hi), prefloss__mulsign(x.lo, x.hi), lvl);
    prefloss__df den = prefloss__df_add_f(prefloss__sd_select(lvl > 0, prefloss__df_make(0.0f, 0.0f), e), 1.0f);
    return prefloss__sd_div(e, prefloss__df_mul(den, den));
}

/* x 2^(-64 lvl), each part rounded once (only where it is subnormal). */
PREFLOSS__INLINE prefloss__df prefloss__sd_unscale(prefloss__df x, int lvl)
{
    int32_t k = -64 * (int32_t)lvl;
    return prefloss__df_make(prefloss__scale2(x.hi, k), prefloss__scale2(x.lo, k));
}

/* 2^(-64 lvl) */
PREFLOSS__INLINE float prefloss__sd_unit(int lvl)
{
    return prefloss__select(lvl == 2, prefloss__pow2_half(-64) * prefloss__pow2_half(-64),
                            prefloss__select(lvl == 1, prefloss__pow2_half(-64), 1.0f));
}

/* A gradient gs = g 2^(64 lvl), rounded, handed to the kernel as
 * (value, k) with value 2^k = g. Where g is at least 2^-64 it is unscaled
 * here (exactly), so that the product with the upstream gradient cannot
 * overflow where g times it is finite; elsewhere k = -64 lvl. */
typedef struct prefloss__sd_grad { float v; int32_t k; } prefloss__sd_grad;

PREFLOSS__INLINE prefloss__sd_grad prefloss__sd_value(float gs, int lvl)
{
    prefloss__sd_grad r;
    int32_t k = -64 * (int32_t)lvl;
    float g = prefloss__scale2(gs, k);
    int keep = (int)(lvl > 0) & (int)(prefloss__fabs(g) < prefloss__pow2_half(-64));
    r.v = prefloss__select(keep, gs, g);
    r.k = keep ? k : 0;
    return r;
}

/* One pair's outputs with gradients gc 2^kc and gr 2^kr (k = -64 lvl, lvl <= 3). */
typedef struct prefloss__pair_out_k { float loss, gc, gr; int32_t kc, kr; } prefloss__pair_out_k;

PREFLOSS__INLINE prefloss__pair_out_k prefloss__pair_make_k(float loss, float gcs, int lc, float grs, int lr)
{
    prefloss__pair_out_k o;
    prefloss__sd_grad c = prefloss__sd_value(gcs, lc), r = prefloss__sd_value(grs, lr);
    o.loss = loss;
    o.gc = c.v;
    o.kc = c.k;
    o.gr = r.v;
    o.kr = r.k;
    return o;
}

/* sigma(-x) as a double-float (relative error ~2^-31), times 2^(64 lvl):
 * lvl > 0 only for x >= 64 (prefloss__sd_level_pos), where e = exp(-x) <
 * 2^-92 and sigma(-x) = e/(1 + e) is e within 2^-92. For nca_pair's,
 * bco_pair's and robust's gradients, which are subnormal beyond x ~ 87. */
PREFLOSS__INLINE int prefloss__sd_level_pos(float x)
{
    return prefloss__sd_level(x) * (int)(x > 0.0f);
}

PREFLOSS__INLINE prefloss__df prefloss__sd_signeg(prefloss__df x, int lvl)
{
    prefloss__df e = prefloss__sd_exp(prefloss__fabs(x.hi), prefloss__mulsign(x.lo, x.hi), lvl);
    return prefloss__sd_select(lvl > 0, e, prefloss__sigmoid_neg_df(x.hi, e, 0));
}

#ifndef PREFLOSS_NO_CATALOGUE /* used by the catalogue only (see lib/lean.c) */
/* x = m 2^e for a finite x != 0, |m| in [1, 2). */
static PREFLOSS_KERNEL_ATTR float prefloss__frexp2(float x, int *e)
{
    int sub = prefloss__fabs(x) < FLT_MIN;
    uint32_t b = prefloss__float_to_bits(sub ? x * 16777216.0f : x);
    *e = (int)((b >> 23) & 0xffu) - 127 - (sub ? 24 : 0);
    return prefloss__bits_to_float((b & 0x807fffffu) | 0x3f800000u);
}

/* m 2^e for |m| in [2^-8, 2^8], rounded once where the result is normal;
 * +-inf beyond the float range, 0 far below it. */
static float prefloss__ldexp2(float m, int e)
{
    int32_t k = (int32_t)(e < -252 ? -252 : e > 254 ? 254 : e);
    int32_t k1 = k / 2;
    return (m * prefloss__pow2_half(k1)) * prefloss__pow2_half(k - k1);
}

/* f[0] f[1] ... f[n-1] / div for finite factors and a finite div != 0 as
 * m 2^e: the mantissas are multiplied in double-float (relative error ~n
 * 2^-48) and the power of two kept apart, so the value is known wherever
 * the exact one is, however large or small the factors. */
static PREFLOSS_KERNEL_ATTR prefloss__df prefloss__scaled_parts(const float *f, int n, float div, int *e_out)
{
    int e, ed, i;
    float md = prefloss__frexp2(div, &ed);
    prefloss__df m = prefloss__df_make(1.0f, 0.0f);
    e = -ed;
    *e_out = 0;
    for (i = 0; i < n; i++) {
        int ei;
        if (f[i] == 0.0f) return prefloss__df_make(0.0f, 0.0f);
        m = prefloss__df_mul_f(m, prefloss__frexp2(f[i], &ei), 0);
        e += ei;
        if (prefloss__fabs(m.hi) >= 2.0f) { m = prefloss__df_make(m.hi * 0.5f, m.lo * 0.5f); e++; }
    }
    *e_out = e;
    return prefloss__df_div_f(m, md, 0);   /* |m / md| in (1/2, 2) */
}

/* m 2^e rounded to a float: once, except where it is subnormal. */
static PREFLOSS_KERNEL_ATTR float prefloss__scaled_round(prefloss__df m, int e)
{
    int er;
    float r = prefloss__df_round(m);
    if (r == 0.0f || !(prefloss__fabs(r) >= FLT_MIN)) return prefloss__ldexp2(r, e);
    r = prefloss__frexp2(r, &er);          /* after a cancellation |r| may be far below 1 */
    return prefloss__ldexp2(r, e + er);
}

#if !PREFLOSS__WIDE /* (only alpha_divergence's rescue, which the wide kernel does not need) */
static float prefloss__scaled_product(const float *f, int n, float div)
{
    int e;
    prefloss__df m = prefloss__scaled_parts(f, n, div, &e);
    return prefloss__scaled_round(m, e);
}

/* (f[0..n) / div + g[0..k)) h[0..nh): the two products in scaled form,
 * added in double-float at the larger power of two, then times the common
 * factors h, and rounded once, so that two terms beyond the float range in
 * opposite directions give their true sum (finite, or the right +-inf),
 * never inf - inf. Factors the two terms share belong in h: multiplied
 * into both, they would round differently, and where the terms cancel
 * exactly (their products of one or two factors are exact in double-float)
 * that rounding would be all that is left. */
static PREFLOSS_KERNEL_ATTR float prefloss__scaled_sum_times(const float *f, int n, float div, const float *g, int k,
                                                             const float *h, int nh)
{
    int e1, e2, eh, e;
    prefloss__df m1 = prefloss__scaled_parts(f, n, div, &e1), m2 = prefloss__scaled_parts(g, k, 1.0f, &e2);
    prefloss__df mh = prefloss__scaled_parts(h, nh, 1.0f, &eh), m;
    float s1, s2;
    if (m1.hi == 0.0f) { m = m2; e = e2; }
    else if (m2.hi == 0.0f) { m = m1; e = e1; }
    else {
        e = e1 > e2 ? e1 : e2;
        /* the smaller term shifted down; below 2^-60 of the larger it cannot matter */
        s1 = e1 - e < -60 ? 0.0f : prefloss__pow2_half(e1 - e);
        s2 = e2 - e < -60 ? 0.0f : prefloss__pow2_half(e2 - e);
        m = prefloss__df_add(prefloss__df_make(m1.hi * s1, m1.lo * s1), prefloss__df_make(m2.hi * s2, m2.lo * s2));
    }
    return prefloss__scaled_round(prefloss__df_mul_sat(m, mh), e + eh);
}
#endif /* !PREFLOSS__WIDE */
#endif /* PREFLOSS_NO_CATALOGUE */
