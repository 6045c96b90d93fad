/* ------------------------------------------------------------------------ */
/* Glossary of the numeric helpers' names (this file and the ones after it) */
/* ------------------------------------------------------------------------ */
/*
 * What a helper's name promises, so that one name has one meaning:
 *
 *   _df         works in double-float (below): its result, and where the
 *               signature says so its argument, is hi + lo, ~48 bits from
 *               float operations only; error bounds in the helper's comment
 *   _df2        the same function taking a double-float argument where the
 *               plain _df one takes a float (log1p_unit_df2)
 *   _acc        a more accurate double-float form (relative error ~2^-34
 *               instead of ~2^-29..-31), where a cancellation needs it
 *   _sat        saturating at the ends of the range: +-inf with a zero low
 *               part, never NaN from inf - inf or 0 * inf
 *   _unit       for arguments in [0, 1] only (log1p_unit: log1p on [0, 1])
 *   _neg        of the negated argument, e.g. wexp_neg(a) = e^-a for a >= 0
 *   _d          on double values (select_d, fabs_d, round24_d): used only by
 *               the wide kernels
 *   w prefix    "wide": evaluated in double precision (wdiff, wexp_neg,
 *               wlog1p_unit, wgrad_cat), compiled only where PREFLOSS__WIDE
 *               (a double-precision FPU: x86-64, AArch64; see lib/wide.c);
 *               every wide kernel has a double-float twin in the same file
 *               for the float-only build (PREFLOSS_NO_DOUBLE)
 *   sd_ prefix  scaled double-float: a value that would underflow is carried
 *               times 2^(64 lvl), lvl in {0, 1, 2}, and unscaled after the
 *               last product (lib/scaled.c)
 *   _k          a kernel element's outputs with such scales attached
 *               (pair_out_k: gradients gc 2^kc, gr 2^kr)
 *   el_         a catalogue kind's element function (one pair);
 *   wel_        its twin in double (the wide kernels: a prefloss__wpair);
 *   k_          its kernel (a loop over a chunk, named in the registry)
 *   fma         the last argument of a helper that multiplies: 1 where the
 *               caller's code is compiled for fused multiply-add (see
 *               PREFLOSS__HAS_FMA); results agree within the budget either way
 */

/* ------------------------------------------------------------------------ */
/* Double-float arithmetic                                                  */
/*                                                                          */
/* A value is carried as an unevaluated sum hi + lo of two floats with      */
/* |lo| <= ulp(hi)/2: 48 significant bits, with float operations only.      */
/* The algorithms and their error bounds are from Joldes, Muller & Popescu, */
/* "Tight and rigorous error bounds for basic building blocks of            */
/* double-word arithmetic" (ACM TOMS 2017).                                 */
/* ------------------------------------------------------------------------ */

typedef struct prefloss__df { float hi, lo; } prefloss__df;

PREFLOSS__INLINE prefloss__df prefloss__df_make(float hi, float lo)
{
    prefloss__df r;
    r.hi = hi;
    r.lo = lo;
    return r;
}

/* Reinterpretation of a float's bits (a union: valid C99, and supported by
 * every C++ compiler this header targets). */
PREFLOSS__INLINE float prefloss__bits_to_float(uint32_t u)
{
    union { uint32_t u; float f; } v;
    v.u = u;
    return v.f;
}
PREFLOSS__INLINE uint32_t prefloss__float_to_bits(float f)
{
    union { uint32_t u; float f; } v;
    v.f = f;
    return v.u;
}

/* c ? a : b on the bits, for a and b already computed. Written this way
 * because compilers sink a float operation into the arm of a `?:`, and
 * under the default -ftrapping-math GCC will then not if-convert (nor
 * vectorise) the loop. */
PREFLOSS__INLINE float prefloss__select(int c, float a, float b)
{
    uint32_t m = (uint32_t)0 - (uint32_t)(c != 0);
    return prefloss__bits_to_float((prefloss__float_to_bits(a) & m)
                                   | (prefloss__float_to_bits(b) & ~m));
}

PREFLOSS__INLINE float prefloss__fabs(float x)
{
    return prefloss__bits_to_float(prefloss__float_to_bits(x) & 0x7fffffffu);
}

/* x with its sign flipped where s is negative (sign bit set). */
PREFLOSS__INLINE float prefloss__mulsign(float x, float s)
{
    return prefloss__bits_to_float(prefloss__float_to_bits(x)
                                   ^ (prefloss__float_to_bits(s) & 0x80000000u));
}

/* g * u for an upstream gradient u, where u == 0 gives a (signed) 0 even
 * for an overflowed g = +-inf: the exact product is 0, not NaN. */
PREFLOSS__INLINE float prefloss__times_up(float g, float u)
{
    return prefloss__select(u != 0.0f, g * u, prefloss__mulsign(prefloss__mulsign(0.0f, g), u));
}

/* x * w, 0 for w == 0 even where x is infinite, but NaN stays NaN (a NaN
 * marks a sample with a non-finite input, whatever its weight). */
PREFLOSS__INLINE float prefloss__weighted(float x, float w)
{
    return prefloss__select(x != x, x, prefloss__times_up(x, w));
}

/* x times a per-pair weight w, then a mix weight s, as prefloss__weighted. */
PREFLOSS__INLINE float prefloss__weighted2(float x, float w, float s)
{
    return prefloss__weighted(prefloss__weighted(x, w), s);
}

/* x + y, except that where an overflowed x meets a y that overflowed with
 * the other sign (inf - inf) their exact sum is no longer known, and x is
 * kept (never NaN). A NaN x or y (a non-finite input) stays NaN. */
PREFLOSS__INLINE float prefloss__add_keep(float x, float y)
{
    float sum = x + y;
    return prefloss__select((int)(sum != sum) & (int)(x == x) & (int)(y == y), x, sum);
}

/* 0 when x is finite, NaN when it is not (x - x is NaN for inf and NaN).
 * Negated so that the result is -0: y + prefloss__nan_if_nonfinite(x) == y
 * for every y, signed zeros included, when x is finite. */
PREFLOSS__INLINE float prefloss__nan_if_nonfinite(float x) { return -(x - x); }

/* Whether values that are each +-0 or NaN (the kernels' "bad" terms) held
 * a NaN, from the OR of their bits: a NaN's exponent is all ones, a zero's
 * is none. The kernels OR the bits as they go: an integer OR is a reduction
 * the vectoriser keeps in a register, where a compare to an int flag per
 * element costs it a pack and a spill per vector (in make bench: IPO
 * 1.05-1.08x, DPO and Bradley-Terry 1.02-1.06x, from this alone). */
PREFLOSS__INLINE int prefloss__bits_has_nan(uint32_t bits)
{
    return (bits & 0x7f800000u) == 0x7f800000u;
}

/* A quiet NaN, without libm's nanf(). */
PREFLOSS__INLINE float prefloss__nan(void) { return prefloss__bits_to_float(0x7fc00000u); }

/* lo, or 0 where hi overflowed: keeps an overflowed value at +-inf instead
 * of letting the (meaningless) low part turn it into NaN. */
PREFLOSS__INLINE float prefloss__lo_if_finite(float hi, float lo)
{
    /* lo itself can be NaN too: TwoSum's intermediate s - a overflows when an
     * operand is near FLT_MAX even though the sum is finite */
    return prefloss__select((int)(prefloss__fabs(hi) <= FLT_MAX) & (int)(lo - lo == 0.0f), lo, 0.0f);
}

/* TwoSum (Knuth): s + e == a + b exactly, s = fl(a + b). */
PREFLOSS__INLINE prefloss__df prefloss__two_sum(float a, float b)
{
    float s = a + b;
    float bb = s - a;
    float e = (a - (s - bb)) + (b - bb);
    return prefloss__df_make(s, e);
}

/* Fast2Sum (Dekker): exact when the exponent of a is >= that of b. */
PREFLOSS__INLINE prefloss__df prefloss__fast_two_sum(float a, float b)
{
    float s = a + b;
    float e = b - (s - a);
    return prefloss__df_make(s, e);
}

/* TwoProd: p + e == a * b exactly, p = fl(a * b) (barring under/overflow).
 * With an FMA the error is one fused operation; otherwise Dekker's product
 * with Veltkamp's split (valid for |a|, |b| < 2^115). Where the product or
 * the split overflows, e is set to 0. */
PREFLOSS__INLINE prefloss__df prefloss__split(float a)
{
    float t = 4097.0f * a; /* 2^12 + 1 */
    float hi = t - (t - a);
    return prefloss__df_make(hi, a - hi);
}
PREFLOSS__INLINE prefloss__df prefloss__two_prod(float a, float b, int fma)
{
    float p = a * b, e;
    if (PREFLOSS__HAS_FMA(fma)) {
        e = PREFLOSS__FMAF(a, b, -p);
    } else {
        prefloss__df as = prefloss__split(a), bs = prefloss__split(b);
        e = ((as.hi * bs.hi - p) + as.hi * bs.lo + as.lo * bs.hi) + as.lo * bs.lo;
    }
    return prefloss__df_make(p, prefloss__select(e - e == 0.0f, e, 0.0f));
}

/* (xh + xl) + (yh + yl), relative error <= 3u^2 (AccurateDWPlusDW). */
PREFLOSS__INLINE prefloss__df prefloss__df_add(prefloss__df x, prefloss__df y)
{
    prefloss__df s = prefloss__two_sum(x.hi, y.hi);
    prefloss__df t = prefloss__two_sum(x.lo, y.lo);
    prefloss__df v = prefloss__fast_two_sum(s.hi, s.lo + t.hi);
    prefloss__df r = prefloss__fast_two_sum(v.hi, t.lo + v.lo);
    /* An infinite operand or an overflow makes the error terms inf - inf =
     * NaN: the sum is then the plain sum of the high parts (+-inf; NaN only
     * for a NaN operand or inf - inf), never a NaN made up here. */
    int ok = r.hi == r.hi;
    return prefloss__df_make(prefloss__select(ok, r.hi, s.hi + t.hi),
                             prefloss__select(ok, r.lo, 0.0f));
}

/* (xh + xl) + y, relative error <= 2u^2 (DWPlusFP). */
PREFLOSS__INLINE prefloss__df prefloss__df_add_f(prefloss__df x, float y)
{
    prefloss__df s = prefloss__two_sum(x.hi, y);
    prefloss__df r = prefloss__fast_two_sum(s.hi, x.lo + s.lo);
    /* an infinite sum: keep it, with a zero low part (not inf - inf = NaN);
     * likewise where TwoSum's intermediate s - x.hi overflowed (|y| near
     * FLT_MAX, x.hi of the other sign) although s did not: s alone, within
     * an ulp of the sum */
    int fin = (int)(prefloss__fabs(s.hi) <= FLT_MAX) & (int)(r.hi == r.hi);
    return prefloss__df_make(prefloss__select(fin, r.hi, s.hi), prefloss__select(fin, r.lo, 0.0f));
}

/* (xh + xl) * y, relative error <= 2u^2 (DWTimesFP). */
PREFLOSS__INLINE prefloss__df prefloss__df_mul_f(prefloss__df x, float y, int fma)
{
    prefloss__df c = prefloss__two_prod(x.hi, y, fma);
    prefloss__df r = prefloss__fast_two_sum(c.hi, PREFLOSS__MADD(fma, x.lo, y, c.lo));
    /* xh*y overflowed: x.lo*y may be -inf against it (inf - inf = NaN) */
    int ok = prefloss__fabs(c.hi) <= FLT_MAX;
    return prefloss__df_make(prefloss__select(ok, r.hi, c.hi),
                             prefloss__select(ok, prefloss__lo_if_finite(r.hi, r.lo), 0.0f));
}

/* (xh + xl) / d for d > 0: the quotient of the high parts with one
 * correction from the exact remainder (TwoProd). */
PREFLOSS__INLINE prefloss__df prefloss__df_div_f(prefloss__df x, float d, int fma)
{
    float q0 = x.hi / d;
    prefloss__df p = prefloss__two_prod(q0, d, fma);
    float q1 = (((x.hi - p.hi) - p.lo) + x.lo) / d;
    prefloss__df q = prefloss__fast_two_sum(q0, q1);
    return prefloss__df_make(q.hi, prefloss__lo_if_finite(q.hi, q.lo));
}

/* The double-float rounded to the nearest float (an overflowed hi stays inf). */
PREFLOSS__INLINE float prefloss__df_round(prefloss__df x)
{
    return x.hi + prefloss__lo_if_finite(x.hi, x.lo);
}

/* ------------------------------------------------------------------------ */

/* More double-float operations: products of two double-floats, negation,
 * selection, and the saturating forms used near the ends of the range. */

/* (xh + xl)(yh + yl) as a double-float (relative error ~ a few u^2). */
PREFLOSS__INLINE prefloss__df prefloss__df_mul(prefloss__df x, prefloss__df y)
{
    prefloss__df p = prefloss__two_prod(x.hi, y.hi, 0);
    return prefloss__fast_two_sum(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi));
}

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
