/* Exact differences of log-probs                                           */
/* ------------------------------------------------------------------------ */

/* Inputs at least this large are pre-scaled by 1/4 so that no partial sum
 * of four of them can overflow; the scaling is exact for every input that
 * can still matter next to such a value. */
#define PREFLOSS__BIG_BITS 0x7e000000u /* bits of 2^125 */

/* h = (a - b) - (c - d) as a double-float, relative error <= 3u^2 for any
 * finite inputs: both differences are exact TwoSums, their difference an
 * accurate double-float addition. No cancellation is ever lost. Where an
 * input is >= 2^125 in magnitude everything is scaled by 1/4 first (the
 * test is on the bits, an integer maximum, so it vectorises): the result is
 * h / unscale, with unscale = 4 then and 1 otherwise. */
PREFLOSS__INLINE prefloss__df prefloss__diff_of_diffs_scaled(float a, float b, float c, float d,
                                                         float *unscale_out)
{
    uint32_t ma = prefloss__float_to_bits(a) & 0x7fffffffu, mb = prefloss__float_to_bits(b) & 0x7fffffffu;
    uint32_t mc = prefloss__float_to_bits(c) & 0x7fffffffu, md = prefloss__float_to_bits(d) & 0x7fffffffu;
    uint32_t m1 = ma > mb ? ma : mb, m2 = mc > md ? mc : md;
    int big = (m1 > m2 ? m1 : m2) >= PREFLOSS__BIG_BITS;
    float scale = prefloss__select(big, 0.25f, 1.0f), unscale = prefloss__select(big, 4.0f, 1.0f);
    prefloss__df x = prefloss__two_sum(scale * a, -(scale * b));  /* (a - b) * scale */
    prefloss__df y = prefloss__two_sum(scale * d, -(scale * c));  /* -(c - d) * scale */
    *unscale_out = unscale;
    return prefloss__df_add(x, y);
}

/* x * unscale (a power of two), an overflow giving +-inf with a zero low part. */
PREFLOSS__INLINE prefloss__df prefloss__df_unscale(prefloss__df x, float unscale)
{
    float hi = unscale * x.hi;
    return prefloss__df_make(hi, prefloss__lo_if_finite(hi, unscale * x.lo));
}

/* h = (a - b) - (c - d) itself. */
PREFLOSS__INLINE prefloss__df prefloss__diff_of_diffs(float a, float b, float c, float d)
{
    float unscale;
    prefloss__df h = prefloss__diff_of_diffs_scaled(a, b, c, d, &unscale);
    return prefloss__df_unscale(h, unscale);
}

/* beta * ((a - b) - (c - d)), formed in the scaled domain so that h may
 * exceed the float range where beta * h does not. */
PREFLOSS__INLINE prefloss__df prefloss__beta_times_diff(float beta, float a, float b, float c, float d,
                                                       int fma)
{
    float unscale;
    prefloss__df h = prefloss__diff_of_diffs_scaled(a, b, c, d, &unscale);
    return prefloss__df_unscale(prefloss__df_mul_f(h, beta, fma), unscale);
}

/* a - b - c as a double-float (the Bradley–Terry argument sw - sl - m). */
PREFLOSS__INLINE prefloss__df prefloss__diff3(float a, float b, float c)
{
    return prefloss__diff_of_diffs(a, b, c, 0.0f);
}

/* ------------------------------------------------------------------------ */
