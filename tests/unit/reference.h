/*
 * reference.h — an independent long-double reference of every formula in
 * the prefloss.h documentation, written from the formulas themselves (not
 * from the library's algorithms), plus the ulp-error measure used by the
 * accuracy tests.
 *
 * The reference works on the float32 inputs the library sees, widened to
 * long double, so it answers "what is the exact value for these inputs?"
 * to ~19 significant digits (x87 extended precision on x86-64; under
 * valgrind, whose x87 emulation is 64-bit, to ~16 digits — still eight
 * decimal orders below a float ulp).
 *
 * Each output also has its condition number kappa = |x f'(x) / f(x)| with
 * respect to the loss's scalar argument x; the accuracy budget is
 * (4 + kappa/2) ulp (docs/numerics.md, "The accuracy budget").
 */
#ifndef PREFLOSS_REFERENCE_H
#define PREFLOSS_REFERENCE_H

#include <float.h>
#include <math.h>

typedef long double ld;

/* ------------------------------------------------------------------------ */
/* Elementary functions                                                     */
/* ------------------------------------------------------------------------ */

/* h = (pc - rc) - (pr - rr). For float inputs whose exponents are within
 * ~40 of each other both brackets are exact in long double. */
static inline ld ref_h(float pc, float pr, float rc, float rr)
{
    return ((ld)pc - (ld)rc) - ((ld)pr - (ld)rr);
}

/* softplus(x) = log(1 + e^x), without overflow. */
static inline ld ref_softplus(ld x)
{
    if (x > 0) return x + log1pl(expl(-x));
    return log1pl(expl(x));
}

/* sigma(x) = 1 / (1 + e^-x). */
static inline ld ref_sigmoid(ld x)
{
    if (x >= 0) return 1.0L / (1.0L + expl(-x));
    {
        ld e = expl(x);
        return e / (1.0L + e);
    }
}

/* -log sigma(x) = softplus(-x). */
static inline ld ref_neglogsig(ld x)
{
    return ref_softplus(-x);
}

/* Condition number |x f'(x) / f(x)|; +inf where f(x) == 0. */
static inline ld ref_kappa(ld x, ld f, ld fprime)
{
    if (f == 0) return (ld)INFINITY;
    return fabsl(x * fprime / f);
}

/* ------------------------------------------------------------------------ */
/* Sequence log-probs                                                       */
/* ------------------------------------------------------------------------ */

/* sum_j m[j] t[j] in long double (Kahan-compensated on top, so the
 * reference is exact to ~2^-64 relative whatever the length). */
static inline ld ref_masked_sum(const float *t, const unsigned char *m,
                                size_t len, size_t *count)
{
    ld s = 0, c = 0;
    size_t j, k = 0;
    for (j = 0; j < len; j++) {
        if (m == NULL || m[j] != 0) {
            ld y = (ld)t[j] - c;
            ld u = s + y;
            c = (u - s) - y;
            s = u;
            k++;
        }
    }
    if (count != NULL) *count = k;
    return s;
}

/* ------------------------------------------------------------------------ */
/* Rewards                                                                  */
/* ------------------------------------------------------------------------ */

static inline ld ref_reward(float beta, float p, float r)
{
    return (ld)beta * ((ld)p - (ld)r);
}

/* ------------------------------------------------------------------------ */
/* DPO / cDPO: loss = -(1-eps) log sigma(z) - eps log sigma(-z), z = beta*h */
/* ------------------------------------------------------------------------ */

static inline ld ref_dpo_loss(ld z, float eps)
{
    ld e = (ld)eps;
    ld a = (1.0L - e) * ref_neglogsig(z);
    ld b = (e != 0) ? e * ref_neglogsig(-z) : 0.0L;
    return a + b;
}

/* dloss/dz = -(1-eps) sigma(-z) + eps sigma(z). */
static inline ld ref_dpo_dloss_dz(ld z, float eps)
{
    ld e = (ld)eps;
    return -(1.0L - e) * ref_sigmoid(-z) + e * ref_sigmoid(z);
}

/* g = dloss/dh = -beta (sigma(-z) - eps). */
static inline ld ref_dpo_g(ld z, float beta, float eps)
{
    return -(ld)beta * (ref_sigmoid(-z) - (ld)eps);
}

static inline ld ref_dpo_loss_kappa(ld z, float eps)
{
    return ref_kappa(z, ref_dpo_loss(z, eps), ref_dpo_dloss_dz(z, eps));
}

/* g/(-beta) = sigma(-z) - eps; its z-derivative is -sigma(z) sigma(-z). */
static inline ld ref_dpo_g_kappa(ld z, float eps)
{
    ld s = ref_sigmoid(-z);
    return ref_kappa(z, s - (ld)eps, -ref_sigmoid(z) * s);
}

/* ------------------------------------------------------------------------ */
/* IPO, TRL scale: loss = (h - 1/(2 beta))^2, g = 2 (h - 1/(2 beta))        */
/* ------------------------------------------------------------------------ */

static inline ld ref_ipo_target(float beta)
{
    return 1.0L / (2.0L * (ld)beta);
}

static inline ld ref_ipo_loss(ld h, float beta)
{
    ld d = h - ref_ipo_target(beta);
    return d * d;
}

static inline ld ref_ipo_g(ld h, float beta)
{
    return 2.0L * (h - ref_ipo_target(beta));
}

/* x = h: kappa(loss) = |2h / (h - c)|, kappa(g) = |h / (h - c)|. */
static inline ld ref_ipo_loss_kappa(ld h, float beta)
{
    ld d = h - ref_ipo_target(beta);
    return ref_kappa(h, d * d, 2.0L * d);
}

static inline ld ref_ipo_g_kappa(ld h, float beta)
{
    ld d = h - ref_ipo_target(beta);
    return ref_kappa(h, 2.0L * d, 2.0L);
}

/* ------------------------------------------------------------------------ */
/* IPO, general form (prefloss.h since e7d81f8):                            */
/*   loss = (beta h - (a2 - a1)/2)^2, g = 2 beta (beta h - (a2 - a1)/2)     */
/* The target is the half-width of [a1, a2] (the symmetrised objective      */
/* (bh - a2)^2 + (-bh - a1)^2 = 2 (bh - (a2 - a1)/2)^2 + const).            */
/* ------------------------------------------------------------------------ */

static inline ld ref_ipog_center(float a1, float a2)
{
    return ((ld)a2 - (ld)a1) / 2.0L;
}

static inline ld ref_ipog_loss(ld h, float beta, float a1, float a2)
{
    ld d = (ld)beta * h - ref_ipog_center(a1, a2);
    return d * d;
}

static inline ld ref_ipog_g(ld h, float beta, float a1, float a2)
{
    ld d = (ld)beta * h - ref_ipog_center(a1, a2);
    return 2.0L * (ld)beta * d;
}

/* x = beta h. */
static inline ld ref_ipog_loss_kappa(ld h, float beta, float a1, float a2)
{
    ld x = (ld)beta * h;
    ld d = x - ref_ipog_center(a1, a2);
    return ref_kappa(x, d * d, 2.0L * d);
}

static inline ld ref_ipog_g_kappa(ld h, float beta, float a1, float a2)
{
    ld x = (ld)beta * h;
    ld d = x - ref_ipog_center(a1, a2);
    return ref_kappa(x, 2.0L * (ld)beta * d, 2.0L * (ld)beta);
}

/* ------------------------------------------------------------------------ */
/* Bradley-Terry: x = sw - sl - m,                                          */
/*   loss = -log sigma(x) + c (sw + sl)^2                                   */
/*   dsw  = -sigma(-x) + 2c (sw + sl),  dsl = +sigma(-x) + 2c (sw + sl)     */
/* ------------------------------------------------------------------------ */

/* x = sw - sl - m. sw - sl is split into a rounded sum and its exact error
 * (TwoSum), so x is exact even where long double is only 53 bits wide
 * (valgrind) and sw - sl is not representable. */
static inline ld ref_bt_x(float sw, float sl, float m)
{
    const ld a = (ld)sw, b = -(ld)sl;
    const ld s = a + b, bb = s - a;
    const ld e = (a - (s - bb)) + (b - bb);
    return ((s - (ld)m) + e);
}

static inline ld ref_bt_loss(float sw, float sl, float m, float c)
{
    ld s = (ld)sw + (ld)sl;
    return ref_neglogsig(ref_bt_x(sw, sl, m)) + (ld)c * s * s;
}

static inline ld ref_bt_dsw(float sw, float sl, float m, float c)
{
    ld s = (ld)sw + (ld)sl;
    return -ref_sigmoid(-ref_bt_x(sw, sl, m)) + 2.0L * (ld)c * s;
}

static inline ld ref_bt_dsl(float sw, float sl, float m, float c)
{
    ld s = (ld)sw + (ld)sl;
    return ref_sigmoid(-ref_bt_x(sw, sl, m)) + 2.0L * (ld)c * s;
}

/* With c == 0 these are the plain kappa w.r.t. x. With c > 0 the output
 * is a sum of an x-term and an s-term (s = sw + sl); the budget then adds
 * the condition number w.r.t. s and the cancellation factor of the final
 * addition (|a| + |b|) / |a + b| (one ulp of each term). */
static inline ld ref_bt_loss_kappa(float sw, float sl, float m, float c)
{
    ld x = ref_bt_x(sw, sl, m), s = (ld)sw + (ld)sl;
    ld f = ref_bt_loss(sw, sl, m, c);
    ld k = ref_kappa(x, f, -ref_sigmoid(-x));
    if (c != 0) k += ref_kappa(s, f, 2.0L * (ld)c * s) + 2.0L;
    return k;
}

static inline ld ref_bt_grad_kappa(float sw, float sl, float m, float c,
                                   int chosen)
{
    ld x = ref_bt_x(sw, sl, m), s = (ld)sw + (ld)sl;
    ld a = (chosen ? -1.0L : 1.0L) * ref_sigmoid(-x);
    ld b = 2.0L * (ld)c * s;
    ld f = a + b;
    ld da = (chosen ? 1.0L : -1.0L) * ref_sigmoid(x) * ref_sigmoid(-x);
    ld k = ref_kappa(x, f, da);
    if (c != 0) {
        if (f == 0) return (ld)INFINITY;
        k += ref_kappa(s, f, 2.0L * (ld)c) + 2.0L * (fabsl(a) + fabsl(b)) / fabsl(f);
    }
    return k;
}

/* ------------------------------------------------------------------------ */
/* ulp error                                                                */
/* ------------------------------------------------------------------------ */

/* Is ref (after rounding to float) a normal float32? */
static inline int ref_is_normal_float(ld ref)
{
    ld a = fabsl(ref);
    return a >= (ld)FLT_MIN && a <= (ld)FLT_MAX;
}

/* ulp(ref) = 2^(floor(log2 |ref|) - 23), the float32 ulp at ref. */
static inline ld ref_ulp(ld ref)
{
    int e;
    (void)frexpl(fabsl(ref), &e); /* |ref| = m 2^e, m in [0.5, 1) */
    return ldexpl(1.0L, e - 1 - 23);
}

/* |got - ref| in units of ulp(ref); +inf for a NaN result. Only meaningful
 * where ref_is_normal_float(ref). */
static inline ld err_ulp(float got, ld ref)
{
    if (isnan(got)) return (ld)INFINITY;
    return fabsl((ld)got - ref) / ref_ulp(ref);
}

#endif /* PREFLOSS_REFERENCE_H */
