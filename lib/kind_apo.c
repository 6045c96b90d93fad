/* The catalogue kinds "apo_zero" and "apo_down" (anchored preference
 * optimisation), each in double and in double-float side by side. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "apo_zero": sigma(-a) + sigma(b), a = beta uc, b = beta ur;
 * dL/dpc = -beta sigma'(a), dL/dpr = beta sigma'(b), sigma'(x) = sigma(x)sigma(-x)
 * in double-float and rounded once (scaled for |x| >= 64: prefloss__sd_dsig). */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_apo_zero(float pc, float pr, float rc, float rr,
                                                            const prefloss__cat *c)
{
    prefloss__df a = prefloss__beta_times_diff(c->beta, pc, rc, 0.0f, 0.0f, 0);
    prefloss__df b = prefloss__beta_times_diff(c->beta, pr, rr, 0.0f, 0.0f, 0);
    prefloss__sigvals va = prefloss__sigmoid_values(a.hi, a.lo), vb = prefloss__sigmoid_values(b.hi, b.lo);
    int sha = prefloss__sd_level(a.hi), shb = prefloss__sd_level(b.hi);
    float gc = prefloss__df_round(prefloss__df_mul_f(prefloss__sd_dsig(a, sha), -c->beta, 0));
    float gr = prefloss__df_round(prefloss__df_mul_f(prefloss__sd_dsig(b, shb), c->beta, 0));
    return prefloss__pair_make_k(va.sig_neg + vb.sig_pos, gc, sha, gr, shb);
}
#if PREFLOSS__WIDE
/* apo_zero in double (see "Wide evaluation"): a = beta uc, b = beta ur from
 * the differences rounded to double (within ~2^-52), e = exp(-|x|) (the
 * catalogue's cap), r = 1/(1 + e), sigma(-x) = (x >= 0 ? e : 1) r,
 * sigma'(x) = e r^2:
 *   L = sigma(-a) + sigma(b), dL/dpc = -beta sigma'(a), dL/dpr = beta sigma'(b). */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_apo_zero(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    const double beta = (double)c->beta;
    double a = beta * ((double)pc - (double)rc), b = beta * ((double)pr - (double)rr);
    double ea = prefloss__wexp_neg_to(prefloss__fabs_d(a), PREFLOSS__WEXP_CAT_CAP, 0);
    double eb = prefloss__wexp_neg_to(prefloss__fabs_d(b), PREFLOSS__WEXP_CAT_CAP, 0);
    double ra = 1.0 / (1.0 + ea), rb = 1.0 / (1.0 + eb);
    double l = prefloss__select_d(a >= 0.0, ea, 1.0) * ra + prefloss__select_d(b >= 0.0, 1.0, eb) * rb;
    return prefloss__wpair_make(l, -beta * ((ea * ra) * ra), beta * ((eb * rb) * rb));
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_apo_zero, prefloss__wel_apo_zero)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_apo_zero, prefloss__el_apo_zero)
#endif

/* sigma'(a) - sigma'(z) without cancellation where |a| ~ |z|. With
 * s = (z + a)/2, t = (z - a)/2 (so a = s - t, z = s + t), sigma'(x) =
 * 1/(4 cosh^2(x/2)), cosh^2 p - cosh^2 q = sinh(p + q) sinh(p - q) and
 * 2 cosh(a/2) cosh(z/2) = cosh s + cosh t:
 *   sigma'(a) - sigma'(z) = sinh(s) sinh(t) / (cosh s + cosh t)^2
 *                         (= 4 sinh(s) sinh(t) sigma'(a) sigma'(z)).
 * With m, n the larger and the smaller of s, t in magnitude and E = e^-|m|
 * this is, without overflow,
 *   sgn(s) sgn(t) sinh|n| 2E (1 - E^2) / (1 + E^2 + 2E cosh n)^2.
 * Used where |n| < 1/4 (sinh and cosh of n by their series, sinh's leading
 * term exact); 1 - E^2 = 1 - e^-y (y = 2|m|) by its series for y <= 1/2.
 * All in double-float, times 2^(64 lvl) (lvl > 0 only where |m| >= 64 lvl:
 * there E drops out of 1 - E^2 and of the denominator), and times 2^64 more
 * where tiny is set (|n| < 2^-32: the result is ~ 2E|n|). */
PREFLOSS__INLINE prefloss__df prefloss__sd_dsig_diff(prefloss__df s, prefloss__df t, int lvl, int tiny)
{
    int s_big = prefloss__fabs(s.hi) >= prefloss__fabs(t.hi);
    prefloss__df m = prefloss__sd_select(s_big, s, t), n = prefloss__sd_select(s_big, t, s);
    float sgn = prefloss__mulsign(prefloss__mulsign(1.0f, s.hi), t.hi);
    float mh = prefloss__fabs(m.hi), ml = prefloss__mulsign(m.lo, m.hi);
    int n_small = prefloss__fabs(n.hi) < 0.25f;
    float nh = prefloss__select(n_small, prefloss__fabs(n.hi), 0.0f);
    float nl = prefloss__select(n_small, prefloss__mulsign(n.lo, n.hi), 0.0f);
    float n2 = nh * nh;
    /* sinh|n| = |n| + |n|^3 (1/6 + n^2/120 + ...), cosh n - 1 = n^2 (1/2 + n^2/24 + ...) */
    prefloss__df sh = prefloss__df_add_f(prefloss__df_make(nh, nl),
                                         nh * n2 * (1.0f / 6 + n2 * (1.0f / 120 + n2 * (1.0f / 5040 + n2 * (1.0f / 362880)))));
    float sc = prefloss__select(tiny, prefloss__pow2_half(64), 1.0f);
    float ch1 = n2 * (0.5f + n2 * (1.0f / 24 + n2 * (1.0f / 720 + n2 * (1.0f / 40320))));
    prefloss__df e = prefloss__sd_exp(mh, ml, lvl);
    prefloss__df ed = prefloss__sd_select(lvl > 0, prefloss__df_make(0.0f, 0.0f), e);
    /* 1 - e^-y: y - y^2/2 + y^3 (1/6 - y/24 + ...) for y <= 1/2, else 1 - E^2 */
    prefloss__df y = prefloss__df_make(2.0f * mh, 2.0f * ml);
    float yc = prefloss__select(mh <= 0.25f, y.hi, 0.0f);
    prefloss__df y2 = prefloss__two_prod(yc, yc, 0);
    float p = 1.0f / 6 + yc * (-1.0f / 24 + yc * (1.0f / 120 + yc * (-1.0f / 720 + yc * (1.0f / 5040
              + yc * (-1.0f / 40320 + yc * (1.0f / 362880 + yc * (-1.0f / 3628800 + yc * (1.0f / 39916800))))))));
    prefloss__df f_small = prefloss__df_add(y, prefloss__df_make(-0.5f * y2.hi, -0.5f * (y2.lo + 2.0f * yc * y.lo)));
    prefloss__df e2 = prefloss__df_mul(ed, ed);
    prefloss__df f_big = prefloss__df_add_f(prefloss__df_make(-e2.hi, -e2.lo), 1.0f);
    prefloss__df f, num, den, den1;
    f_small = prefloss__df_add_f(f_small, yc * y2.hi * p);
    f = prefloss__sd_select(mh <= 0.25f, f_small, f_big);
    num = prefloss__df_mul(prefloss__df_mul(e, f), prefloss__df_make(sc * sh.hi, sc * sh.lo));
    den1 = prefloss__df_add_f(ed, 1.0f);                                 /* 1 + E */
    den = prefloss__df_add_f(prefloss__df_mul(den1, den1), 2.0f * ed.hi * ch1); /* (1+E)^2 + 2E(cosh n - 1) */
    num = prefloss__sd_div(num, prefloss__df_mul(den, den));
    return prefloss__df_make(2.0f * sgn * num.hi, 2.0f * sgn * num.lo);
}

/* "apo_down": sigma(a) + sigma(-z), a = beta uc, z = beta h;
 * dL/dpc = beta(sigma'(a) - sigma'(z)), dL/dpr = beta sigma'(z). The
 * difference cancels where |a| ~ |z| (beta ur ~ 0, or 2a ~ beta ur): there
 * it is prefloss__sd_dsig_diff, elsewhere (where it loses at most a factor
 * ~32) the difference of the two double-floats. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_apo_down(float pc, float pr, float rc, float rr,
                                                            const prefloss__cat *c)
{
    prefloss__df a = prefloss__beta_times_diff(c->beta, pc, rc, 0.0f, 0.0f, 0);
    prefloss__df b = prefloss__beta_times_diff(c->beta, pr, rr, 0.0f, 0.0f, 0);
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    /* s = (z + a)/2 = beta((pc - rc) - (pr - rr)/2) from exact differences */
    prefloss__df s = prefloss__beta_times_diff(c->beta, pc, rc, 0.5f * pr, 0.5f * rr, 0);
    prefloss__df t = prefloss__df_make(-0.5f * b.hi, -0.5f * b.lo);       /* (z - a)/2 */
    prefloss__sigvals va = prefloss__sigmoid_values(a.hi, a.lo), vz = prefloss__sigmoid_values(z.hi, z.lo);
    int shz = prefloss__sd_level(z.hi), sha = prefloss__sd_level(a.hi);
    int sh = sha < shz ? sha : shz;                                     /* for dL/dpc */
    prefloss__df dz = prefloss__sd_dsig(z, shz), da = prefloss__sd_dsig(a, sh);
    /* sigma'(z) at dL/dpc's scale: where z is scaled more than a, sigma'(a)
     * dominates the difference (or it is formed by prefloss__sd_dsig_diff) */
    float f = prefloss__sd_unit(shz - sh);
    prefloss__df direct = prefloss__df_add(da, prefloss__df_make(-f * dz.hi, -f * dz.lo));
    int use_near = (int)(prefloss__fabs(s.hi) < 0.25f) | (int)(prefloss__fabs(t.hi) < 0.25f);
    /* where |s| or |t| is below 2^-32 the difference is scaled by 2^64 more */
    int tiny = (int)(prefloss__fabs(s.hi) < 2.32830644e-10f) | (int)(prefloss__fabs(t.hi) < 2.32830644e-10f);
    prefloss__df near = prefloss__sd_dsig_diff(s, t, sh, tiny);
    prefloss__df d = prefloss__sd_select(use_near, near, direct);
    float gc = prefloss__df_round(prefloss__df_mul_f(d, c->beta, 0));
    float gr = prefloss__df_round(prefloss__df_mul_f(dz, c->beta, 0));
    return prefloss__pair_make_k(va.sig_pos + vz.sig_neg, gc, sh + tiny, gr, shz);
}
#if PREFLOSS__WIDE
/* sinh(x) for 0 <= x < 1/2 by its series to x^15 (the rest < 2^-60 relative). */
PREFLOSS__INLINE double prefloss__wsinh_small(double x)
{
    double t = x * x;
    double q = PREFLOSS__MADD_D(0, t, 1.0 / 1307674368000.0, 1.0 / 6227020800.0);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 39916800);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 362880);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 5040);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 120);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 6);
    return PREFLOSS__MADD_D(0, x * t, q, x);
}

/* apo_down in double (see "Wide evaluation"): uc, ur as differences rounded
 * to double with their exact errors (TwoSum), a = beta uc, z = beta h and
 * s = (z + a)/2 = beta(uc - ur/2) from them (each within ~2^-52), t = (z -
 * a)/2 = -beta ur/2; e, r, sigma and sigma' as in apo_zero:
 *   L = sigma(a) + sigma(-z), dL/dpr = beta sigma'(z),
 *   dL/dpc = beta (sigma'(a) - sigma'(z)).
 * The difference cancels where |s| or |t| is small; there (the smaller of
 * them, n, below 1/2 in magnitude; m the larger) it is
 *   sigma'(a) - sigma'(z) = 4 sinh(s) sinh(t) sigma'(a) sigma'(z)
 *                         = sgn(s t) 4 sinh|n| (sinh|m| sigma'(a)) sigma'(z),
 * sinh|n| by its series, sinh|m| by its series below 1/2 and as
 * (1/E - E)/2, E = exp(-|m|), above; the product sinh|m| sigma'(a) is
 * ~e^(|m| - |a|), |m| - |a| <= |n|, so nothing overflows or underflows.
 * Elsewhere the difference loses at most a factor ~5 (at s = t = 1/2). */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_apo_down(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    const double beta = (double)c->beta;
    double ec, er;                                     /* the exact errors */
    double xc = prefloss__wtwo_diff((double)pc, (double)rc, &ec), xr = prefloss__wtwo_diff((double)pr, (double)rr, &er);
    double a = beta * xc, z = beta * ((xc - xr) + (ec - er));
    double sv = beta * ((xc - 0.5 * xr) + (ec - 0.5 * er)), tv = -0.5 * (beta * xr);
    double as = prefloss__fabs_d(sv), at = prefloss__fabs_d(tv);
    double m = prefloss__select_d(as >= at, as, at), nn = prefloss__select_d(as >= at, at, as);
    int near = nn < 0.5, m_small = m < 0.5;
    double ea = prefloss__wexp_neg_to(prefloss__fabs_d(a), PREFLOSS__WEXP_CAT_CAP, 0);
    double ez = prefloss__wexp_neg_to(prefloss__fabs_d(z), PREFLOSS__WEXP_CAT_CAP, 0);
    double em = prefloss__wexp_neg_to(m, PREFLOSS__WEXP_CAT_CAP, 0);
    double ra = 1.0 / (1.0 + ea), rz = 1.0 / (1.0 + ez);
    double da = (ea * ra) * ra, dz = (ez * rz) * rz;
    double sh_n = prefloss__wsinh_small(prefloss__select_d(near, nn, 0.0));
    double sh_m = prefloss__select_d(m_small, prefloss__wsinh_small(prefloss__select_d(m_small, m, 0.0)),
                                     0.5 * (1.0 / em - em));
    double sgn = prefloss__bits_to_double(0x3ff0000000000000ull
        | ((prefloss__double_to_bits(sv) ^ prefloss__double_to_bits(tv)) & 0x8000000000000000ull));
    double d_near = (4.0 * sgn) * (sh_n * ((sh_m * da) * dz));
    double l = prefloss__select_d(a >= 0.0, 1.0, ea) * ra + prefloss__select_d(z >= 0.0, ez, 1.0) * rz;
    return prefloss__wpair_make(l, beta * prefloss__select_d(near, d_near, da - dz), beta * dz);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_apo_down, prefloss__wel_apo_down)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_apo_down, prefloss__el_apo_down)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */
