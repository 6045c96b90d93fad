/* The loss catalogue                                                       */
/* ------------------------------------------------------------------------ */

/* log(x) for a finite x > 0 as a double-float (within ~2 ulp when
 * rounded; the low part keeps what rounding a large log would lose): x = m 2^e with m in
 * [sqrt(1/2), sqrt(2)), log x = e ln2 + log1p(m - 1) (m - 1 is exact).
 * Subnormal x is scaled by 2^24 first. Branch-free (it runs in kernels). */
PREFLOSS__INLINE prefloss__df prefloss__log_pos_df(float x)
{
    int sub = x < FLT_MIN;
    float xs = prefloss__select(sub, x * 16777216.0f, x);          /* 2^24 */
    uint32_t b = prefloss__float_to_bits(xs);
    int32_t e = (int32_t)(b >> 23) - 127 - (sub ? 24 : 0);
    float m = prefloss__bits_to_float((b & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    int high = m > 1.41421356f;
    float ef = (float)(e + high);
    m = prefloss__select(high, 0.5f * m, m);
    /* e ln2_hi is exact (|e| < 2^9); the rest is small next to it */
    return prefloss__fast_two_sum(ef * PREFLOSS__LN2_HI,
                                  ef * PREFLOSS__LN2_LO + prefloss__log1p_unit(m - 1.0f, 0));
}

PREFLOSS__INLINE float prefloss__log_pos(float x) { return prefloss__df_round(prefloss__log_pos_df(x)); }

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

/* TRL's cap for exponents (cap_exp): log(FLT_MAX) floored to 4 decimals
 * (get_exp_cap), 88.7228, where exp is still finite (prefloss__cap_exp_df). */
#define PREFLOSS__EXP_CAP 88.7228f

/* Everything a catalogue kernel needs, derived once per call. */
typedef struct prefloss__cat {
    float beta, eps, tau, alpha, gamma, delta;
    float robust_c;          /* eps/(1 - 2 eps) = robust_c + robust_c_lo */
    float robust_c_lo;
    float exo_eps;           /* eps' = eps, or 1e-3 for eps = 0 (as TRL) */
    prefloss__df exo_d;      /* log((1 - eps')/eps') as a double-float */
    prefloss__df exo_la, exo_lb; /* log(1 - eps'), log(eps') as double-floats */
    prefloss__df half_inv_beta; /* 1/(2 beta) as a double-float */
    prefloss__df beta_alpha; /* beta/alpha as a double-float (alpha_divergence) */
    float nll;               /* the NLL term's weight lambda (params->nll_weight) */
} prefloss__cat;

/* The catalogue kernels' signature (PREFLOSS__CATALOGUE_KERNEL and the wide
 * kernels): outputs, the four log-probs, the upstream gradients, the
 * per-pair weights and the mix weight. */
#define PREFLOSS__CAT_ARGS float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dc,    \
    float *PREFLOSS__RESTRICT dr, const float *PREFLOSS__RESTRICT pc,                      \
    const float *PREFLOSS__RESTRICT pr, const float *PREFLOSS__RESTRICT rc,                \
    const float *PREFLOSS__RESTRICT rr, const float *PREFLOSS__RESTRICT up,                \
    const float *PREFLOSS__RESTRICT w, float s, size_t n,                                  \
    const prefloss__cat *PREFLOSS__RESTRICT params

#if PREFLOSS__WIDE
/* The cap of exp(-a) in the wide catalogue kernels: there a gradient is
 * formed in double and multiplied, unrounded, by the upstream gradient and
 * the two weights (each below 2^128), so it matters down to 2^-150/2^384 =
 * 2^-534, and its factor beta (< 2^128) lets e^-a matter down to ~2^-662
 * (a ~ 459). e^-500 ~ 2^-721 times beta and those factors is below 2^-209,
 * 0 in float like the exact value; every e and e/(1 + e)^2 stays a normal
 * double. */
#define PREFLOSS__WEXP_CAT_CAP 500.0

/* x rounded to float precision (24 bits, to nearest even) in double's
 * exponent range: x + C - C with C = 1.5 * 2^(e + 29) for x in [2^e, 2^(e+1)),
 * whose ulp is x's at 24 bits (no multiplication, so no contraction into a
 * fused multiply-add can change it); signed zeros kept. For normal doubles
 * below 2^990 (the wide kernels' products are below 2^640). */
PREFLOSS__INLINE double prefloss__round24_d(double x)
{
    uint64_t b = prefloss__double_to_bits(x);
    double c = prefloss__bits_to_double(((b & 0x7ff0000000000000ull) + ((uint64_t)29 << 52))
                                        | ((uint64_t)1 << 51));
    double r = (x + c) - c;
    return prefloss__bits_to_double(prefloss__double_to_bits(r) | (b & 0x8000000000000000ull));
}

/* A wide catalogue kernel's gradient output g u w s, before its NaN for a
 * non-finite input: g rounded to a float's precision, then each product
 * with the upstream gradient and the two weights rounded to it in turn, as
 * the float arithmetic of PREFLOSS__CATALOGUE_KERNEL_K, but in double's
 * range: nothing overflows or underflows on the way (so a gradient below
 * the float range before a large weight keeps its digits), and the result
 * is rounded to a float once, where it is subnormal or beyond FLT_MAX. */
PREFLOSS__INLINE float prefloss__wgrad_cat(double g, float u, float w, float s)
{
    double q = prefloss__round24_d(prefloss__round24_d(g) * (double)u);
    q = prefloss__round24_d(q * (double)w);
    return (float)prefloss__round24_d(q * (double)s);
}
#endif

/* One pair's loss and its two partial derivatives (before the upstream
 * gradient). */
typedef struct prefloss__pair_out { float loss, gc, gr; } prefloss__pair_out;

PREFLOSS__INLINE prefloss__pair_out prefloss__pair_make(float loss, float gc, float gr)
{
    prefloss__pair_out o;
    o.loss = loss;
    o.gc = gc;
    o.gr = gr;
    return o;
}

/* (xh + xl)(yh + yl) as a double-float (relative error ~ a few u^2). */
PREFLOSS__INLINE prefloss__df prefloss__df_mul(prefloss__df x, prefloss__df y)
{
    prefloss__df p = prefloss__two_prod(x.hi, y.hi, 0);
    return prefloss__fast_two_sum(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi));
}

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

/* x = m 2^e for a finite x != 0, |m| in [1, 2). */
static float prefloss__frexp2(float x, int *e)
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
static prefloss__df prefloss__scaled_parts(const float *f, int n, float div, int *e_out)
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
static float prefloss__scaled_round(prefloss__df m, int e)
{
    int er;
    float r = prefloss__df_round(m);
    if (r == 0.0f || !(prefloss__fabs(r) >= FLT_MIN)) return prefloss__ldexp2(r, e);
    r = prefloss__frexp2(r, &er);          /* after a cancellation |r| may be far below 1 */
    return prefloss__ldexp2(r, e + er);
}

static float prefloss__scaled_product(const float *f, int n, float div)
{
    int e;
    prefloss__df m = prefloss__scaled_parts(f, n, div, &e);
    return prefloss__scaled_round(m, e);
}

/* f[0..n) / div + g[0..k): both products in scaled form, added in
 * double-float at the larger power of two and rounded once, so that two
 * terms beyond the float range in opposite directions give their true sum
 * (finite, or the right +-inf), never inf - inf. */
static float prefloss__scaled_sum(const float *f, int n, float div, const float *g, int k)
{
    int e1, e2, e;
    prefloss__df m1 = prefloss__scaled_parts(f, n, div, &e1), m2 = prefloss__scaled_parts(g, k, 1.0f, &e2);
    float s1, s2;
    if (m1.hi == 0.0f) return prefloss__scaled_round(m2, e2);
    if (m2.hi == 0.0f) return prefloss__scaled_round(m1, e1);
    e = e1 > e2 ? e1 : e2;
    /* the smaller term shifted down; below 2^-60 of the larger it cannot matter */
    s1 = e1 - e < -60 ? 0.0f : prefloss__pow2_half(e1 - e);
    s2 = e2 - e < -60 ? 0.0f : prefloss__pow2_half(e2 - e);
    return prefloss__scaled_round(prefloss__df_add(prefloss__df_make(m1.hi * s1, m1.lo * s1),
                                                   prefloss__df_make(m2.hi * s2, m2.lo * s2)), e);
}

/* The outputs of a catalogue kernel, with the per-pair weight w and the mix
 * weight s (each 0 where it is 0, even against an infinite value; NaN stays
 * NaN) and the NLL term of weight lambda:
 *   loss = (L + lambda (-pc)) w s          dc = (g u - lambda u) w s
 * The NLL term joins before the weights: where both overflow, the sign of
 * their exact sum decides (prefloss__add_keep). */
PREFLOSS__INLINE float prefloss__cat_loss_out(float loss, float pc, float w, float s, float lambda)
{
    float l = prefloss__select(lambda != 0.0f, prefloss__add_keep(loss, prefloss__times_up(-pc, lambda)), loss);
    return prefloss__weighted2(l, w, s);
}

PREFLOSS__INLINE float prefloss__cat_nll_grad(float gu, float u, float w, float s, float lambda)
{
    return prefloss__weighted2(prefloss__add_keep(gu, prefloss__times_up(-lambda, u)), w, s);
}

#if PREFLOSS__WIDE
/* A wide kernel's dchosen: gfold = prefloss__wgrad_cat(g, u, w, s), or with
 * an NLL term (lambda != 0) the float g u plus it, then the weights, as
 * prefloss__cat_nll_grad. */
PREFLOSS__INLINE float prefloss__wgrad_nll(double g, float gfold, float u, float w, float s, float lambda)
{
    return prefloss__select(lambda != 0.0f,
                            prefloss__cat_nll_grad(prefloss__times_up((float)g, u), u, w, s, lambda), gfold);
}
#endif

/* g 2^k u w s (a gradient carried scaled, see prefloss__sd_value) in
 * scaled form: finite wherever the exact value is (for finite factors;
 * scalar, and only needed where a partial product overflowed). 2^k joins
 * the product's power of two, whatever the level (k = -64 lvl, lvl <= 3:
 * js_divergence's and apo_down's gradients reach 2^-192). */
static float prefloss__grad_times_scaled(float g, int32_t k, float u, float w, float s)
{
    float f[4];
    int e;
    prefloss__df m;
    f[0] = g; f[1] = u; f[2] = w; f[3] = s;
    m = prefloss__scaled_parts(f, 4, 1.0f, &e);
    return prefloss__scaled_round(m, e + (int)k);
}

/* The catalogue kernel for elements with scaled gradients: as
 * PREFLOSS__CATALOGUE_KERNEL, but a gradient g 2^k meets the upstream
 * gradient and the weights before 2^k is applied: one rounding where the
 * result is subnormal, so that a weight that brings a tiny gradient back to
 * the normal range finds its digits. (With an NLL term, which then dominates
 * dchosen, the weights apply to the sum.) The loop stays branch-free; a pair
 * whose product overflowed part-way although the result need not (2^k or a
 * small weight brings it back) is redone in scaled form after it. */
#define PREFLOSS__CATALOGUE_KERNEL_K(name, element)                                          \
    PREFLOSS__KERNEL static int name(float *PREFLOSS__RESTRICT loss,                         \
                                     float *PREFLOSS__RESTRICT dc,                           \
                                     float *PREFLOSS__RESTRICT dr,                           \
                                     const float *PREFLOSS__RESTRICT pc,                     \
                                     const float *PREFLOSS__RESTRICT pr,                     \
                                     const float *PREFLOSS__RESTRICT rc,                     \
                                     const float *PREFLOSS__RESTRICT rr,                     \
                                     const float *PREFLOSS__RESTRICT up,                     \
                                     const float *PREFLOSS__RESTRICT w, float s, size_t n,   \
                                     const prefloss__cat *PREFLOSS__RESTRICT params)         \
    {                                                                                        \
        prefloss__cat c = *params;                                                           \
        int bad_seen = 0, over = 0;                                                          \
        size_t i;                                                                            \
        for (i = 0; i < n; i++) {                                                            \
            float bad = prefloss__nan_if_nonfinite(pc[i]) + prefloss__nan_if_nonfinite(pr[i]) \
                      + prefloss__nan_if_nonfinite(rc[i]) + prefloss__nan_if_nonfinite(rr[i]) \
                      + prefloss__nan_if_nonfinite(w[i]);                                    \
            float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);                          \
            prefloss__pair_out_k o = element(pc[i], pr[i], rc[i], rr[i], c);                \
            float gu = prefloss__times_up(o.gc, up[i]);                                      \
            float qc = prefloss__weighted2(gu, w[i], s);                                     \
            float qr = prefloss__weighted2(prefloss__times_up(o.gr, up[i]), w[i], s);        \
            loss[i] = prefloss__cat_loss_out(o.loss, pc[i], w[i], s, c.nll) + bad;           \
            dc[i] = prefloss__select(c.nll != 0.0f,                                          \
                        prefloss__cat_nll_grad(prefloss__scale2(gu, o.kc), up[i], w[i], s, c.nll), \
                        prefloss__scale2(qc, o.kc)) + bad_up;                                \
            dr[i] = prefloss__scale2(qr, o.kr) + bad_up;                                     \
            bad_seen |= bad_up != bad_up;                                                    \
            over |= ((int)(prefloss__fabs(qc) > FLT_MAX) & (int)(c.nll == 0.0f))             \
                  | (int)(prefloss__fabs(qr) > FLT_MAX);                                     \
        }                                                                                    \
        for (i = 0; over && i < n; i++) { /* rare: a product overflowed part-way */          \
            prefloss__pair_out_k o;                                                          \
            if (!(prefloss__fabs(dc[i]) > FLT_MAX || prefloss__fabs(dr[i]) > FLT_MAX)        \
                || !prefloss__finite(pc[i]) || !prefloss__finite(pr[i])                      \
                || !prefloss__finite(rc[i]) || !prefloss__finite(rr[i])                      \
                || !prefloss__finite(up[i]) || !prefloss__finite(w[i]))                      \
                continue;                                                                    \
            o = element(pc[i], pr[i], rc[i], rr[i], c);                                      \
            /* (a gradient that overflowed by itself stays: alpha's rescue) */                \
            if (c.nll == 0.0f && prefloss__fabs(dc[i]) > FLT_MAX && prefloss__finite(o.gc))  \
                dc[i] = prefloss__grad_times_scaled(o.gc, o.kc, up[i], w[i], s);             \
            if (prefloss__fabs(dr[i]) > FLT_MAX && prefloss__finite(o.gr))                   \
                dr[i] = prefloss__grad_times_scaled(o.gr, o.kr, up[i], w[i], s);             \
        }                                                                                    \
        return bad_seen;                                                                     \
    }

/* Double-float helpers of discopop, js_divergence and alpha_divergence. */

/* -x, and c ? a : b, for double-floats. */
PREFLOSS__INLINE prefloss__df prefloss__df_negate(prefloss__df x) { return prefloss__df_make(-x.hi, -x.lo); }
PREFLOSS__INLINE prefloss__df prefloss__df_pick(int c, prefloss__df a, prefloss__df b)
{
    return prefloss__df_make(prefloss__select(c, a.hi, b.hi), prefloss__select(c, a.lo, b.lo));
}

/* x y for double-floats (relative error a few u^2), safe at the ends of
 * the range: a zero factor gives a (signed) 0 even against an infinite one,
 * and a product that overflows is +-inf with a zero low part, never NaN. */
PREFLOSS__INLINE prefloss__df prefloss__df_mul_sat(prefloss__df x, prefloss__df y)
{
    prefloss__df p = prefloss__two_prod(x.hi, y.hi, 0);
    prefloss__df r = prefloss__fast_two_sum(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi));
    int zero = (int)(x.hi == 0.0f) | (int)(y.hi == 0.0f);
    int fin = prefloss__fabs(p.hi) <= FLT_MAX;
    float z0 = prefloss__mulsign(prefloss__mulsign(0.0f, x.hi), y.hi);
    float hi = prefloss__select(fin, r.hi, p.hi);
    float lo = prefloss__select(fin, prefloss__lo_if_finite(r.hi, r.lo), 0.0f);
    return prefloss__df_make(prefloss__select(zero, z0, hi), prefloss__select(zero, 0.0f, lo));
}

/* x / d for a float d > 0; a quotient that overflows is +-inf with a zero
 * low part (prefloss__df_div_f would make NaN of it). */
PREFLOSS__INLINE prefloss__df prefloss__df_div_sat(prefloss__df x, float d)
{
    prefloss__df q = prefloss__df_div_f(x, d, 0);
    float q0 = x.hi / d;
    int fin = prefloss__fabs(q0) <= FLT_MAX;
    return prefloss__df_make(prefloss__select(fin, q.hi, q0), prefloss__select(fin, q.lo, 0.0f));
}

/* e^{-|x|} as a double-float (0 for an infinite x). */
PREFLOSS__INLINE prefloss__df prefloss__exp_neg_abs_df(prefloss__df x)
{
    return prefloss__exp_neg_df(prefloss__fabs(x.hi), prefloss__mulsign(x.lo, x.hi), 0);
}

/* log1p(e) for a double-float e in [0, 1]: the float argument's log1p plus
 * the first-order term of the low part. */
PREFLOSS__INLINE prefloss__df prefloss__log1p_unit_df2(prefloss__df e)
{
    return prefloss__df_add_f(prefloss__log1p_unit_df(e.hi, 0), e.lo / (1.0f + e.hi));
}

/* log1p(y) for a double-float y in [0, 1], relative error ~2^-34
 * (prefloss__log1p_unit_df2 is within ~2^-29, which js_divergence's h' cannot
 * afford near the zero of sigma(-z) - eps, where dL/dz amplifies the relative
 * error of h' tens of times): 2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + ... with
 * s = y/(2 + y) <= 1/3 a double-float, 2s, 2s^3/3 and 2s^5/5 in
 * double-float, the rest (< 1.6e-4) in float, to s^23 (the first term left
 * out is < 2^-38). */
PREFLOSS__INLINE prefloss__df prefloss__log1p_unit_acc(prefloss__df y)
{
    prefloss__df d = prefloss__fast_two_sum(2.0f, y.hi);          /* 2 + y.hi exactly */
    float dl = d.lo + y.lo;
    float s0 = y.hi / d.hi;
    prefloss__df p = prefloss__two_prod(s0, d.hi, 0);
    float s1 = (((y.hi - p.hi) - p.lo) + y.lo - s0 * dl) / d.hi;  /* s = s0 + s1 */
    prefloss__df t = prefloss__two_prod(s0, s0, 0);
    float t2 = t.lo + 2.0f * s0 * s1;                             /* s^2 = t.hi + t2 */
    prefloss__df c = prefloss__two_prod(s0, t.hi, 0);
    float cl = c.lo + (s0 * t2 + s1 * t.hi);                      /* s^3 = c.hi + cl */
    float q0 = c.hi / 3.0f;
    prefloss__df p3 = prefloss__two_prod(q0, 3.0f, 0);
    float q1 = (((c.hi - p3.hi) - p3.lo) + cl) / 3.0f;            /* s^3/3 = q0 + q1 */
    prefloss__df f = prefloss__two_prod(c.hi, t.hi, 0);
    float fl = f.lo + (c.hi * t2 + cl * t.hi);                    /* s^5 = f.hi + fl */
    float v0 = f.hi / 5.0f;
    prefloss__df p5 = prefloss__two_prod(v0, 5.0f, 0);
    float v1 = (((f.hi - p5.hi) - p5.lo) + fl) / 5.0f;            /* s^5/5 = v0 + v1 */
    float w = t.hi, tail = 1.0f / 23;
    prefloss__df r, u;
    tail = 1.0f / 21 + w * tail; tail = 1.0f / 19 + w * tail; tail = 1.0f / 17 + w * tail;
    tail = 1.0f / 15 + w * tail; tail = 1.0f / 13 + w * tail; tail = 1.0f / 11 + w * tail;
    tail = 1.0f / 9 + w * tail; tail = 1.0f / 7 + w * tail;
    tail = (f.hi * w) * tail;                                     /* s^7/7 + s^9/9 + ... */
    r = prefloss__fast_two_sum(2.0f * s0, 2.0f * q0);
    u = prefloss__two_sum(r.hi, 2.0f * v0);
    return prefloss__fast_two_sum(u.hi, (r.lo + u.lo) + 2.0f * (s1 + (q1 + (v1 + tail))));
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

/* The label-smoothed sigmoid loss at z (a double-float), rounded, and its
 * derivative dL/dz = eps - sigma(-z) as a double-float, so that a gradient
 * formed from it is rounded once. Near z = 0 sigma(-z) - 1/2 is known only
 * to an absolute ~u^2, too little next to z/4 for tiny z (and eps = 1/2), so
 * for |z| < 1/2 the difference is tanh(z/2)/2 - (1/2 - eps) instead, with
 * the odd series of tanh (|z/2| < 1/4: to w^11, the rest below 2^-31
 * relative) on the exact z/2. */
typedef struct prefloss__ldf { float loss; prefloss__df dz; } prefloss__ldf;

/* The same with dz also times 2^(64 lvl), in *dz_s: lvl > 0 only for
 * z >= 64 lvl and eps 2^(64 lvl) < 2^-36 (see prefloss__el_js), where
 * dz = eps - e^{-z} (1 + e^{-z} is 1 there), so that a dz that underflows
 * keeps its digits until after the upstream gradient. lvl = 0: *dz_s = dz. */
PREFLOSS__INLINE prefloss__ldf prefloss__smoothed_sigmoid_sd(prefloss__df z, float eps, int lvl,
                                                             prefloss__df *dz_s)
{
    prefloss__ldf r;
    float ah = prefloss__fabs(z.hi), al = prefloss__mulsign(z.lo, z.hi);
    prefloss__df e_s = prefloss__sd_exp(ah, al, lvl);
    prefloss__df e = prefloss__sd_unscale(e_s, lvl);
    prefloss__df far = prefloss__df_add(prefloss__df_make(eps, 0.0f),
                                        prefloss__df_negate(prefloss__sigmoid_neg_df(z.hi, e, 0)));
    prefloss__df w = prefloss__df_make(0.5f * z.hi, 0.5f * z.lo), th, near;
    float w2 = w.hi * w.hi;
    float tpoly = w2 * (-1.0f / 3 + w2 * (2.0f / 15 + w2 * (-17.0f / 315 + w2 * (62.0f / 2835
                  + w2 * (-1382.0f / 155925)))));
    th = prefloss__df_add_f(w, w.hi * tpoly);                              /* tanh(z/2) */
    near = prefloss__df_add(prefloss__df_make(0.5f * th.hi, 0.5f * th.lo),
                            prefloss__df_negate(prefloss__two_sum(0.5f, -eps)));
    r.loss = prefloss__softplus_family(z.hi, z.lo, e.hi, eps, 0);
    r.dz = prefloss__df_pick(ah < 0.5f, near, far);
    *dz_s = prefloss__df_pick(lvl > 0, prefloss__df_add(prefloss__df_make(prefloss__scale2(eps, 64 * (int32_t)lvl), 0.0f),
                                                          prefloss__df_negate(e_s)), r.dz);
    return r;
}

PREFLOSS__INLINE prefloss__ldf prefloss__smoothed_sigmoid_df(prefloss__df z, float eps)
{
    prefloss__df unused;
    return prefloss__smoothed_sigmoid_sd(z, eps, 0, &unused);
}

/* log(x) for a finite x > 0 as a double-float, relative error ~2^-34 (for
 * exo_pair's constants log(eps'), which its loss needs to more than float
 * accuracy: its two terms cancel by a factor of up to ~10 just outside the
 * series window): x = m 2^k with m in [sqrt(1/2), sqrt(2)), log x =
 * k ln2 + log1p(m - 1) (m - 1 exact), ln2 split three ways as in
 * prefloss__exp_reduce (k LN2_HI and k l2 exact for |k| < 2^9). */
PREFLOSS__INLINE prefloss__df prefloss__log_pos_acc(float x)
{
    const float l2 = 1.4285906e-06f, l3 = 1.619851e-11f; /* ln2 - LN2_HI = l2 + l3 + ~6e-19 */
    int sub = x < FLT_MIN;
    float xs = prefloss__select(sub, x * 16777216.0f, x);          /* 2^24 */
    uint32_t b = prefloss__float_to_bits(xs);
    int32_t e = (int32_t)(b >> 23) - 127 - (sub ? 24 : 0);
    float m = prefloss__bits_to_float((b & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    int high = m > 1.41421356f;
    float ef = (float)(e + high);
    prefloss__df kl = prefloss__two_sum(ef * PREFLOSS__LN2_HI, ef * l2);
    m = prefloss__select(high, 0.5f * m, m);
    kl = prefloss__df_add_f(kl, ef * l3);
    return prefloss__df_add(kl, prefloss__log1p_unit_acc(prefloss__df_make(m - 1.0f, 0.0f)));
}

/* One kernel per kind, all of the same shape: the element function is
 * inlined into its own loop, so each loop is branch-free and vectorises. */
typedef int (*prefloss__cat_kernel)(float *, float *, float *, const float *, const float *,
                                    const float *, const float *, const float *, const float *,
                                    float, size_t, const prefloss__cat *);

#define PREFLOSS__CATALOGUE_KERNEL(name, element)                                            \
    PREFLOSS__KERNEL static int name(float *PREFLOSS__RESTRICT loss,                         \
                                     float *PREFLOSS__RESTRICT dc,                           \
                                     float *PREFLOSS__RESTRICT dr,                           \
                                     const float *PREFLOSS__RESTRICT pc,                     \
                                     const float *PREFLOSS__RESTRICT pr,                     \
                                     const float *PREFLOSS__RESTRICT rc,                     \
                                     const float *PREFLOSS__RESTRICT rr,                     \
                                     const float *PREFLOSS__RESTRICT up,                     \
                                     const float *PREFLOSS__RESTRICT w, float s, size_t n,   \
                                     const prefloss__cat *PREFLOSS__RESTRICT params)         \
    {                                                                                        \
        prefloss__cat c = *params;                                                           \
        int bad_seen = 0;                                                                    \
        size_t i;                                                                            \
        for (i = 0; i < n; i++) {                                                            \
            float bad = prefloss__nan_if_nonfinite(pc[i]) + prefloss__nan_if_nonfinite(pr[i]) \
                      + prefloss__nan_if_nonfinite(rc[i]) + prefloss__nan_if_nonfinite(rr[i]) \
                      + prefloss__nan_if_nonfinite(w[i]);                                    \
            float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);                          \
            prefloss__pair_out o = element(pc[i], pr[i], rc[i], rr[i], c);                  \
            float gu = prefloss__times_up(o.gc, up[i]);                                      \
            loss[i] = prefloss__cat_loss_out(o.loss, pc[i], w[i], s, c.nll) + bad;           \
            dc[i] = prefloss__select(c.nll != 0.0f, prefloss__cat_nll_grad(gu, up[i], w[i], s, c.nll), \
                                     prefloss__weighted2(gu, w[i], s)) + bad_up;             \
            dr[i] = prefloss__weighted2(prefloss__times_up(o.gr, up[i]), w[i], s) + bad_up;  \
            bad_seen |= bad_up != bad_up;                                                    \
        }                                                                                    \
        return bad_seen;                                                                     \
    }
