/* Wide evaluation: the pairwise loss kernels in double precision           */
/*                                                                          */
/* Where the FPU does double precision at full speed, the loss kernels      */
/* evaluate everything in double: h = (pc - rc) - (pr - rr) of float inputs */
/* is then exact or within 2^-53 of its largest term, can never overflow,   */
/* and the elementary functions need only float accuracy (~2^-32) with no   */
/* correction terms, so each output is rounded once, to within ~0.5 ulp.    */
/* The double-float kernels below are the same computations for targets    */
/* without double hardware (or with PREFLOSS_NO_DOUBLE), and are tested.    */
/* ------------------------------------------------------------------------ */

#if !defined(PREFLOSS_NO_DOUBLE) && (defined(__x86_64__) || defined(_M_X64) \
    || defined(__aarch64__) || defined(_M_ARM64) || defined(__SSE2_MATH__))
#  define PREFLOSS__WIDE 1
#else
#  define PREFLOSS__WIDE 0
#endif

/* a * b + c in double, fused under PREFLOSS__HAS_FMA(f) (see the float one). */
#if defined(__FP_FAST_FMA) || PREFLOSS__DISPATCH
#  define PREFLOSS__FMA_D(a, b, c) __builtin_fma(a, b, c)
#else
#  define PREFLOSS__FMA_D(a, b, c) ((a) * (b) + (c)) /* never evaluated fused */
#endif
#define PREFLOSS__MADD_D(f, a, b, c) (PREFLOSS__HAS_FMA(f) ? PREFLOSS__FMA_D(a, b, c) : (a) * (b) + (c))

PREFLOSS__INLINE double prefloss__bits_to_double(uint64_t u)
{
    union { uint64_t u; double d; } v;
    v.u = u;
    return v.d;
}
PREFLOSS__INLINE uint64_t prefloss__double_to_bits(double d)
{
    union { uint64_t u; double d; } v;
    v.d = d;
    return v.u;
}

/* prefloss__bits_has_nan for doubles. */
PREFLOSS__INLINE int prefloss__bits_has_nan_d(uint64_t bits)
{
    return (bits & 0x7ff0000000000000u) == 0x7ff0000000000000u;
}

/* c ? a : b on the bits (see prefloss__select). */
PREFLOSS__INLINE double prefloss__select_d(int c, double a, double b)
{
    uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
    return prefloss__bits_to_double((prefloss__double_to_bits(a) & m)
                                    | (prefloss__double_to_bits(b) & ~m));
}

PREFLOSS__INLINE double prefloss__fabs_d(double x)
{
    return prefloss__bits_to_double(prefloss__double_to_bits(x) & 0x7fffffffffffffffull);
}

/* x - y for doubles as s + *err exactly, s = fl(x - y) (TwoSum on x, -y). */
PREFLOSS__INLINE double prefloss__wtwo_diff(double x, double y, double *err)
{
    double s = x - y, sb = s - x;
    *err = (x - (s - sb)) - (y + sb);
    return s;
}

/* (a - b) - (c - d) for floats, within ~2^-52 of its own magnitude: both
 * differences are formed with their exact rounding errors (TwoSum in
 * double; a difference of floats whose exponents are over 28 apart is not
 * exact in double), and the errors are added after the main difference,
 * which is exact wherever it cancels (Sterbenz). Never overflows; a
 * non-finite input makes it non-finite. */
PREFLOSS__INLINE double prefloss__wdiff(float a, float b, float c, float d)
{
    double es, et;
    double s = prefloss__wtwo_diff((double)a, (double)b, &es);
    double t = prefloss__wtwo_diff((double)c, (double)d, &et);
    return (s - t) + (es - et);
}

/* The same as an unevaluated sum h + *lo within ~2^-104 of itself: the
 * rounding error of the last difference kept too, for a result that is
 * then scaled and shifted by a constant it may nearly cancel
 * (prefloss__ipo_wide). */
PREFLOSS__INLINE double prefloss__wdiff2(float a, float b, float c, float d, double *lo)
{
    double es, et, eh;
    double s = prefloss__wtwo_diff((double)a, (double)b, &es);
    double t = prefloss__wtwo_diff((double)c, (double)d, &et);
    double h = prefloss__wtwo_diff(s, t, &eh);
    *lo = eh + (es - et);
    return h;
}

/* exp(-a) for a >= 0, relative error < 2^-32: a = k ln2 + r with
 * |r| <= ln2/2, e^-r by its Taylor series to r^8 (truncation
 * 0.347^9/9! < 2^-32), and 2^-k put into the exponent. a is capped at cap
 * (at most 700, so that 2^-k stays a normal double). prefloss__wexp_neg caps
 * at 300: e^-300 ~ 5e-131 times any product of two floats (< 2^256) is
 * < 2^-150, 0 when rounded to a float like the exact value, and the
 * kernels' squares of e stay normal doubles (subnormal operands are slow on
 * many CPUs). The catalogue's wide kernels cap higher (PREFLOSS__WEXP_CAT_CAP). */
#define PREFLOSS__WEXP_CAP 300.0
#define PREFLOSS__WROUND_MAGIC 6755399441055744.0 /* 1.5 * 2^52 */
PREFLOSS__INLINE double prefloss__wexp_neg_to(double a, double cap, int fma)
{
    double x = prefloss__select_d(a < cap, a, cap);
    double shifted = PREFLOSS__MADD_D(fma, x, 1.4426950408889634, PREFLOSS__WROUND_MAGIC);
    double kd = shifted - PREFLOSS__WROUND_MAGIC;                /* round(x / ln2) */
    uint64_t k = prefloss__double_to_bits(shifted) - prefloss__double_to_bits(PREFLOSS__WROUND_MAGIC);
    double r = PREFLOSS__MADD_D(fma, -kd, 0.69314718055994531, x); /* e^-x = 2^-k e^-r */
    double q = PREFLOSS__MADD_D(fma, -r, 1.0 / 40320, 1.0 / 5040);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0 / 720);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0 / 120);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0 / 24);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0 / 6);
    q = PREFLOSS__MADD_D(fma, -r, q, 0.5);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0);
    return prefloss__bits_to_double(prefloss__double_to_bits(q) - (k << 52));
}
PREFLOSS__INLINE double prefloss__wexp_neg(double a, int fma)
{
    return prefloss__wexp_neg_to(a, PREFLOSS__WEXP_CAP, fma);
}

/* log1p(y) for y in [0, 1], relative error < 2^-33: 2 atanh(s) with
 * s = y / (2 + y) <= 1/3, the series 2s (1 + s^2/3 + ... + s^14/15). */
PREFLOSS__INLINE double prefloss__wlog1p_unit(double y, int fma)
{
    double s = y / (2.0 + y), t = s * s, s2 = s + s;
    double q = PREFLOSS__MADD_D(fma, t, 1.0 / 15, 1.0 / 13);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 11);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 9);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 7);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 5);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 3);
    return PREFLOSS__MADD_D(fma, s2, t * q, s2);
}

/* ------------------------------------------------------------------------ */
