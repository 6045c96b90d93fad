/* Elementary functions (no libm; branch-free so loops vectorise)           */
/*                                                                          */
/* Every select `c ? a : b` in a kernel chooses between values computed     */
/* before it: a float operation inside an arm could raise a floating-point  */
/* exception only on one path, and under the default -ftrapping-math GCC    */
/* then refuses to if-convert, and so to vectorise, the loop.               */
/* ------------------------------------------------------------------------ */

#define PREFLOSS__LOG2E 1.44269504088896341f
/* ln 2 split so that k * LN2_HI is exact for |k| < 2^9 (fdlibm's split). */
#define PREFLOSS__LN2_HI 6.9314575195e-01f  /* 0x3f317200 */
#define PREFLOSS__LN2_LO 1.4286067653e-06f  /* 0x35bfbe8e */
/* 1.5 * 2^23: x + MAGIC - MAGIC rounds x to an integer (|x| < 2^22). */
#define PREFLOSS__ROUND_MAGIC 12582912.0f
/* exp(-x) is computed as p * 2^k up to this x (k >= -251, so 2^k is a
 * product of two normal powers of two); beyond it the result is 0. The
 * float value of exp(-x) is 0 from x = 104 on, but p and k stay useful
 * further: a gradient sigma(-z) * beta * dlosses can be a normal float even
 * where sigma(-z) alone is not. */
#define PREFLOSS__EXP_NEG_LIMIT 174.0f

/* 2^k for k in [-126, 127]. */
PREFLOSS__INLINE float prefloss__pow2_half(int32_t k)
{
    return prefloss__bits_to_float((uint32_t)(k + 127) << 23);
}

/* Range reduction shared by both exponentials: for x = -(ah + al) with
 * ah >= 0, returns k and r (as a normalised double-float, |r.lo| <= half an
 * ulp of r.hi) with x = k ln2 + r, |r| <= ln2/2 (+ tiny), r within ~2^-40
 * of exact. ln 2 is split three ways, ln2 = LN2_HI + L2 + L3 with L2 of 15
 * significant bits, so that k LN2_HI - a and k L2 are exact (|k| < 2^9) and
 * only the tiny k L3 is rounded; the argument's low part is folded in and
 * the result renormalised (al can be larger than r itself). */
PREFLOSS__INLINE prefloss__df prefloss__exp_reduce(float ah, float al, int32_t *k_out, int fma)
{
    /* (decimal forms of exact float constants: C++ before C++17 has no hex
     * floating literals) */
    const float l2 = 1.4285906e-06f, l3 = 1.619851e-11f; /* ln2 - LN2_HI = l2 + l3 + ~6e-19 */
    float a = prefloss__select(ah < PREFLOSS__EXP_NEG_LIMIT, ah, PREFLOSS__EXP_NEG_LIMIT);
    /* k = round(a / ln2) by the 1.5 * 2^23 trick: adding it leaves k in the
     * low mantissa bits. (A float-to-int conversion would stop compilers
     * from vectorising the loops that inline this.) */
    float shifted = PREFLOSS__MADD(fma, a, PREFLOSS__LOG2E, PREFLOSS__ROUND_MAGIC);
    float kf = shifted - PREFLOSS__ROUND_MAGIC;
    int32_t ki = (int32_t)(prefloss__float_to_bits(shifted) - prefloss__float_to_bits(PREFLOSS__ROUND_MAGIC));
    float r1 = (kf * PREFLOSS__LN2_HI) - a;            /* exact (Sterbenz) */
    prefloss__df r = prefloss__two_sum(r1, kf * l2);   /* k l2 exact: 8 + 15 bits */
    float al_used = prefloss__select(a < ah, 0.0f, al); /* fold in the argument's low part */
    *k_out = -ki;
    return prefloss__two_sum(r.hi, r.lo + (kf * l3 - al_used));
}

/* x * 2^k for k in [-252, 0], rounded once (two exact steps, then the
 * final one, which rounds only if the result is subnormal). */
PREFLOSS__INLINE float prefloss__scale2(float x, int32_t k)
{
    int32_t k1 = k / 2;
    return (x * prefloss__pow2_half(k1)) * prefloss__pow2_half(k - k1);
}

/* exp(-(ah + al)) for ah >= 0 as p * 2^k with p in [0.7, 1.42] and
 * k in [-251, 0], within ~1 ulp; p = 0 for ah >= PREFLOSS__EXP_NEG_LIMIT.
 * e^r = 1 + r + r^2/2 + ... + r^7/5040 (Taylor, |r| <= 0.347: the
 * truncation error is < 2^-27 relative). */
PREFLOSS__INLINE float prefloss__exp_neg_parts(float ah, float al, int32_t *k, int fma)
{
    prefloss__df rr = prefloss__exp_reduce(ah, al, k, fma);
    float r = rr.hi + rr.lo;
    float q = PREFLOSS__MADD(fma, r, 1.0f / 5040, 1.0f / 720);
    float p;
    q = PREFLOSS__MADD(fma, r, q, 1.0f / 120);
    q = PREFLOSS__MADD(fma, r, q, 1.0f / 24);
    q = PREFLOSS__MADD(fma, r, q, 1.0f / 6);
    q = PREFLOSS__MADD(fma, r, q, 1.0f / 2);
    p = 1.0f + PREFLOSS__MADD(fma, r * r, q, r);
    return prefloss__select(ah < PREFLOSS__EXP_NEG_LIMIT, p, 0.0f);
}

/* exp(-(ah + al)) for ah >= 0 as a double-float, relative error below
 * 2^-34 (where the result is a normal float with a normal low part). A
 * second reduction, r = j ln2/4 + t with j in {-2, ..., 2} (selects, no
 * table), leaves |t| <= ln2/8, so that with 1 + t + t^2/2 summed in
 * double-float the float part t^3/6 + ... (< 1.1e-4) costs at most ~2^-37;
 * the low part of t multiplies the whole series (not only its linear
 * term), and 2^(j/4) is a double-float factor. */
PREFLOSS__INLINE prefloss__df prefloss__exp_neg_df(float ah, float al, int fma)
{
    const float c1 = 1.732868e-01f, c2 = -4.7616355e-10f;  /* ln2/4 = c1 + c2 + ~2e-17 */
    int32_t k;
    prefloss__df r0 = prefloss__exp_reduce(ah, al, &k, fma);
    float jf = PREFLOSS__MADD(fma, r0.hi, 5.77078e+00f, PREFLOSS__ROUND_MAGIC) - PREFLOSS__ROUND_MAGIC;
    prefloss__df s0 = prefloss__two_sum(r0.hi, -jf * c1);      /* j c1, j c2 exact */
    prefloss__df r = prefloss__two_sum(s0.hi, s0.lo + (r0.lo - jf * c2));
    /* 2^(j/4) = th + tl */
    float th = prefloss__select(jf == 1.0f, 1.1892071e+00f, prefloss__select(jf == -1.0f, 8.408964e-01f,
               prefloss__select(jf == 2.0f, 1.4142135e+00f, prefloss__select(jf == -2.0f, 7.0710677e-01f, 1.0f))));
    float tl = prefloss__select(jf == 1.0f, 3.7976353e-08f, prefloss__select(jf == -1.0f, -1.2377663e-08f,
               prefloss__select(jf == 2.0f, 2.4203235e-08f, prefloss__select(jf == -2.0f, 1.21016175e-08f, 0.0f))));
    prefloss__df r2 = prefloss__two_prod(r.hi, r.hi, fma);
    /* to t^8/8!: the first term left out, t^9/9! < 2^-50 for |t| <= 0.0867 */
    float q = r.hi * r.hi * r.hi * (1.0f / 6 + r.hi * (1.0f / 24 + r.hi * (1.0f / 120
              + r.hi * (1.0f / 720 + r.hi * (1.0f / 5040 + r.hi * (1.0f / 40320))))));
    prefloss__df s = prefloss__two_sum(1.0f, r.hi);                 /* 1 + t */
    prefloss__df t = prefloss__two_sum(s.hi, 0.5f * r2.hi);         /* + t^2/2 */
    float low = q + ((s.lo + t.lo) + (r.lo + 0.5f * r2.lo + r.lo * (r.hi + 0.5f * r2.hi + q)));
    prefloss__df e = prefloss__fast_two_sum(t.hi, low);
    prefloss__df p = prefloss__two_prod(e.hi, th, fma);
    e = prefloss__fast_two_sum(p.hi, p.lo + (e.hi * tl + e.lo * th));
    {
        float hi = prefloss__scale2(e.hi, k), lo = prefloss__scale2(e.lo, k);
        int ok = ah < PREFLOSS__EXP_NEG_LIMIT;
        return prefloss__df_make(prefloss__select(ok, hi, 0.0f), prefloss__select(ok, lo, 0.0f));
    }
}

/* log1p(y) for y in [0, 1], within ~1 ulp (also for tiny y, where it is y).
 * log1p(y) = 2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + ..., s = y/(2 + y) <= 1/3;
 * s is computed with a correction for the rounding of 2 + y and of the
 * division, so the leading term 2s carries no error of its own. */
PREFLOSS__INLINE prefloss__df prefloss__log1p_unit_df(float y, int fma)
{
    prefloss__df d = prefloss__fast_two_sum(2.0f, y);      /* 2 + y exactly */
    float inv = 1.0f / d.hi;
    float s0 = y * inv;
    prefloss__df p = prefloss__two_prod(s0, d.hi, fma);
    float s1 = (((y - p.hi) - p.lo) - s0 * d.lo) * inv;   /* s = s0 + s1 */
    float t = s0 * s0;
    float tail = PREFLOSS__MADD(fma, t, 1.0f / 15, 1.0f / 13);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 11);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 9);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 7);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 5);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 3);
    tail = t * tail;
    /* 2 s0 is exact; the rest is small next to it (its error ~ u |2 s0 tail|) */
    return prefloss__fast_two_sum(2.0f * s0, PREFLOSS__MADD(fma, 2.0f * s0, tail, 2.0f * s1));
}

/* The same, rounded to a float (the low part is dead code where unused). */
PREFLOSS__INLINE float prefloss__log1p_unit(float y, int fma)
{
    return prefloss__log1p_unit_df(y, fma).hi;
}

/* ------------------------------------------------------------------------ */

/* Logarithms of double-float accuracy (the catalogue's cancelling terms). */

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
