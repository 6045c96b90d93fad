/* The loss catalogue                                                       */
/* ------------------------------------------------------------------------ */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

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
#define PREFLOSS__CAT_NAMES loss, dc, dr, pc, pr, rc, rr, up, w, s, n, params
typedef int (*prefloss__cat_kernel)(float *, float *, float *, const float *, const float *,
                                    const float *, const float *, const float *, const float *,
                                    float, size_t, const prefloss__cat *);

/* Opens the definition of a catalogue kernel (see PREFLOSS__KERNEL). */
#define PREFLOSS__CAT_KERNEL(name) \
    PREFLOSS__KERNEL(int, name, (PREFLOSS__CAT_ARGS), (PREFLOSS__CAT_NAMES))

#if PREFLOSS__WIDE
/* The wide kernels' element loops run over whole blocks of PREFLOSS__VBLOCK
 * pairs, an inner loop of constant count (PREFLOSS__EACH_PAIR): then the
 * vectoriser emits no remainder loops (a second, SSE-vectorised and a
 * third, scalar copy of the element function). prefloss__cat_blocks sends
 * the last n mod PREFLOSS__VBLOCK pairs through the same loop as one block
 * of copies padded with a finite pair (prefloss__pad, prefloss__unpad):
 * each output depends on its own pair only, so it is the same. 8 floats:
 * one AVX2 vector, two SSE ones; PREFLOSS__STAGE and the chunks are
 * multiples of it. (The other kernels keep their plain loops: blocked, the
 * dedicated ones ran 1-4 % slower, KTO's 5x, exo_pair's 1 %.) */
#define PREFLOSS__VBLOCK 8
/* For each i of [0, n), n a multiple of PREFLOSS__VBLOCK, by blocks [b, b + PREFLOSS__VBLOCK). */
#define PREFLOSS__EACH_PAIR(i, b, n) \
    for (b = 0; b < (n); b += PREFLOSS__VBLOCK) for (i = b; i - b < PREFLOSS__VBLOCK; i++)

/* A block: src[0, t) then fill up to PREFLOSS__VBLOCK, in dst. */
PREFLOSS__INLINE const float *prefloss__pad(float *dst, const float *src, size_t t, float fill)
{
    size_t j;
    for (j = 0; j < PREFLOSS__VBLOCK; j++) dst[j] = j < t ? src[j] : fill;
    return dst;
}

/* The first t outputs of a padded block. */
PREFLOSS__INLINE void prefloss__unpad(float *dst, const float *src, size_t t)
{
    size_t j;
    for (j = 0; j < t; j++) dst[j] = src[j];
}

/* A catalogue kernel over any n: the whole blocks in place, then the rest
 * as one padded block. */
static PREFLOSS_KERNEL_ATTR int prefloss__cat_blocks(prefloss__cat_kernel k, PREFLOSS__CAT_ARGS)
{
    float in[6][PREFLOSS__VBLOCK], out[3][PREFLOSS__VBLOCK];
    size_t m = n - n % PREFLOSS__VBLOCK, t = n - m;
    int bad = m > 0 ? k(loss, dc, dr, pc, pr, rc, rr, up, w, s, m, params) : 0;
    if (t == 0) return bad;
    /* the driver's ones stay the driver's ones (prefloss__unweighted) */
    bad |= k(out[0], out[1], out[2], prefloss__pad(in[0], pc + m, t, 0.0f),
             prefloss__pad(in[1], pr + m, t, 0.0f), prefloss__pad(in[2], rc + m, t, 0.0f),
             prefloss__pad(in[3], rr + m, t, 0.0f), prefloss__pad(in[4], up + m, t, 1.0f),
             w == prefloss__ones ? w : prefloss__pad(in[5], w + m, t, 1.0f), s, PREFLOSS__VBLOCK, params);
    prefloss__unpad(loss + m, out[0], t);
    prefloss__unpad(dc + m, out[1], t);
    prefloss__unpad(dr + m, out[2], t);
    return bad;
}

/* The same for a kernel whose body runs over whole blocks only
 * (PREFLOSS__EACH_PAIR): the body is name_blocks (per target where
 * dispatching), and `name`, the kernel over any n, sends the rest through
 * prefloss__cat_blocks. */
#define PREFLOSS__CAT_BLOCKS_KERNEL(name)                                                    \
    static int name##_blocks(PREFLOSS__CAT_ARGS);                                            \
    static PREFLOSS_KERNEL_ATTR int name(PREFLOSS__CAT_ARGS)                                 \
    { return prefloss__cat_blocks(name##_blocks, PREFLOSS__CAT_NAMES); }                     \
    PREFLOSS__KERNEL(int, name##_blocks, (PREFLOSS__CAT_ARGS), (PREFLOSS__CAT_NAMES))

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
/* x rounded as float arithmetic rounds it (subnormals included), but kept
 * in double's range, at float precision, where the float would overflow. */
PREFLOSS__INLINE double prefloss__wround_f(double x)
{
    float f = (float)x;
    return prefloss__select_d(prefloss__fabs(f) <= FLT_MAX, (double)f, prefloss__round24_d(x));
}

/* A wide kernel's loss output (L + lambda (-pc)) w s, and its dchosen with
 * an NLL term, (g u - lambda u) w s: every step rounded as the float
 * arithmetic of prefloss__cat_loss_out and prefloss__cat_nll_grad rounds it
 * (prefloss__wround_f), the same bits wherever nothing overflows, but in
 * double's range, so that nothing overflows part-way: a loss beyond the
 * float range that a small weight brings back, an NLL term that cancels the
 * gradient after both passed FLT_MAX. */
PREFLOSS__INLINE float prefloss__wloss_cat(double l, float pc, float w, float s, float lambda)
{
    double q = prefloss__wround_f(l);
    q = prefloss__select_d(lambda != 0.0f,
                           prefloss__wround_f(q + prefloss__wround_f(-(double)pc * (double)lambda)), q);
    q = prefloss__wround_f(q * (double)w);
    return (float)(q * (double)s);
}

PREFLOSS__INLINE float prefloss__wgrad_nll_cat(double g, float u, float w, float s, float lambda)
{
    double q = prefloss__wround_f(prefloss__wround_f(g) * (double)u);
    q = prefloss__wround_f(q + prefloss__wround_f(-(double)lambda * (double)u));
    q = prefloss__wround_f(q * (double)w);
    return (float)(q * (double)s);
}

/* The wide kernels' outputs where `plain` (prefloss__unweighted: no
 * weights, no NLL term) is known at compile time: the same values as
 * prefloss__wloss_cat, prefloss__wgrad_cat and prefloss__wgrad_nll_cat,
 * without the steps that multiply by 1 (a value already rounded to float
 * precision is unchanged by them). */
PREFLOSS__INLINE float prefloss__wloss_out(int plain, double l, float pc, float w, float s, float lambda)
{
    return plain ? (float)l : prefloss__wloss_cat(l, pc, w, s, lambda);
}

PREFLOSS__INLINE float prefloss__wgrad_out(int plain, double g, float u, float w, float s)
{
    return plain ? (float)prefloss__round24_d(prefloss__round24_d(g) * (double)u)
                 : prefloss__wgrad_cat(g, u, w, s);
}

PREFLOSS__INLINE float prefloss__wgrad_nll_out(int plain, double g, float gfold, float u, float w, float s,
                                               float lambda)
{
    return plain ? gfold : prefloss__select(lambda != 0.0f, prefloss__wgrad_nll_cat(g, u, w, s, lambda), gfold);
}

/* The label-smoothed sigmoid loss at z in double (w_neg = 1 - eps,
 * half_eps = 1/2 - eps), with e = exp(-|z|) (the catalogue's cap):
 *   L = w|z| + log1p(e),  w = eps for z >= 0, 1 - eps otherwise,
 *   *dz = dL/dz = eps - sigma(-z), or tanh(z/2)/2 - (1/2 - eps) for |z| < 1/2
 *         (the odd series of tanh to w^15 on w = z/2: the rest < 2^-43). */
PREFLOSS__INLINE double prefloss__wsmoothed(double z, double eps, double w_neg, double half_eps, double *dz)
{
    double az = prefloss__fabs_d(z), e = prefloss__wexp_neg_to(az, PREFLOSS__WEXP_CAT_CAP, 0);
    int pos = z >= 0.0;
    double l = prefloss__select_d(pos, eps, w_neg) * az + prefloss__wlog1p_unit(e, 0);
    double far = eps - prefloss__select_d(pos, e, 1.0) / (1.0 + e);
    double hz = 0.5 * z, t = hz * hz, near;
    double th = PREFLOSS__MADD_D(0, t, 929569.0 / 638512875, -21844.0 / 6081075);
    th = PREFLOSS__MADD_D(0, t, th, 1382.0 / 155925);
    th = PREFLOSS__MADD_D(0, t, th, -62.0 / 2835);
    th = PREFLOSS__MADD_D(0, t, th, 17.0 / 315);
    th = PREFLOSS__MADD_D(0, t, th, -2.0 / 15);
    th = PREFLOSS__MADD_D(0, t, th, 1.0 / 3);
    near = 0.5 * (hz - (hz * t) * th) - half_eps;                 /* tanh(z/2)/2 - (1/2 - eps) */
    *dz = prefloss__select_d(az < 0.5, near, far);
    return l;
}

/* A wide element's result: one pair's loss and its two partial
 * derivatives in double, before the upstream gradient and the weights. */
typedef struct prefloss__wpair { double loss, gc, gr; } prefloss__wpair;

PREFLOSS__INLINE prefloss__wpair prefloss__wpair_make(double loss, double gc, double gr)
{
    prefloss__wpair o;
    o.loss = loss;
    o.gc = gc;
    o.gr = gr;
    return o;
}

/* The outputs of a wide catalogue kernel for one stage of len pairs (a
 * multiple of PREFLOSS__VBLOCK) from its elements' loss and gradients in
 * double (l, gl, gr): the upstream gradient, the weights, the NLL term and
 * the NaN of a non-finite input added, branch-free. Shared by every wide
 * kind, in two forms: plain = 1 (prefloss__unweighted: without the
 * weighting steps) and plain = 0. */
#define PREFLOSS__WCAT_OUT_ARGS float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dc,      \
    float *PREFLOSS__RESTRICT dr, const float *PREFLOSS__RESTRICT pc,                              \
    const float *PREFLOSS__RESTRICT pr, const float *PREFLOSS__RESTRICT rc,                        \
    const float *PREFLOSS__RESTRICT rr, const float *PREFLOSS__RESTRICT up,                        \
    const float *PREFLOSS__RESTRICT w, float s, float nll, const double *PREFLOSS__RESTRICT l,     \
    const double *PREFLOSS__RESTRICT gl, const double *PREFLOSS__RESTRICT gr, size_t len
#define PREFLOSS__WCAT_OUT_NAMES loss, dc, dr, pc, pr, rc, rr, up, w, s, nll, l, gl, gr, len

PREFLOSS__INLINE int prefloss__wcat_out(PREFLOSS__WCAT_OUT_ARGS, int plain)
{
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i, b;
    PREFLOSS__EACH_PAIR(i, b, len) {
        float bad = PREFLOSS__BAD4(pc[i], pr[i], rc[i], rr[i]) + prefloss__nan_if_nonfinite(w[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        float gc = prefloss__wgrad_out(plain, gl[i], up[i], w[i], s);
        loss[i] = prefloss__wloss_out(plain, l[i], pc[i], w[i], s, nll) + bad;
        dc[i] = prefloss__wgrad_nll_out(plain, gl[i], gc, up[i], w[i], s, nll) + bad_up;
        dr[i] = prefloss__wgrad_out(plain, gr[i], up[i], w[i], s) + bad_up;
        bad_bits |= prefloss__float_to_bits(bad_up);
    }
    return prefloss__bits_has_nan(bad_bits);
}
PREFLOSS__KERNEL(int, prefloss__wcat_out_plain, (PREFLOSS__WCAT_OUT_ARGS), (PREFLOSS__WCAT_OUT_NAMES))
{
    return prefloss__wcat_out(PREFLOSS__WCAT_OUT_NAMES, 1);
}
PREFLOSS__KERNEL(int, prefloss__wcat_out_weighted, (PREFLOSS__WCAT_OUT_ARGS), (PREFLOSS__WCAT_OUT_NAMES))
{
    return prefloss__wcat_out(PREFLOSS__WCAT_OUT_NAMES, 0);
}

/* The wide catalogue kernel, staged: per PREFLOSS__STAGE pairs, a loop of
 * the element function (wel_, in double) inlined, whose results
 * prefloss__wcat_out turns into the outputs. The element is compiled once
 * per variant, whatever the weighting; the doubles pass on unrounded, so
 * the outputs are those of a single loop. */
#define PREFLOSS__WIDE_CATALOGUE_KERNEL(name, element)                                        \
    PREFLOSS__CAT_BLOCKS_KERNEL(name)                                                              \
    {                                                                                         \
        double l[PREFLOSS__STAGE], gl[PREFLOSS__STAGE], gr[PREFLOSS__STAGE];                  \
        int plain = prefloss__unweighted(w, s, params->nll), bad_seen = 0;                    \
        size_t i0, i, b, len;                                                                 \
        for (i0 = 0; i0 < n; i0 += len) {                                                     \
            len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);                                     \
            PREFLOSS__EACH_PAIR(i, b, len) {                                                  \
                prefloss__wpair o = element(pc[i0 + i], pr[i0 + i], rc[i0 + i], rr[i0 + i], params); \
                l[i] = o.loss;                                                                \
                gl[i] = o.gc;                                                                 \
                gr[i] = o.gr;                                                                 \
            }                                                                                 \
            bad_seen |= (plain ? prefloss__wcat_out_plain : prefloss__wcat_out_weighted)(    \
                loss + i0, dc + i0, dr + i0, pc + i0, pr + i0, rc + i0, rr + i0, up + i0,     \
                w + i0, s, params->nll, l, gl, gr, len);                                      \
        }                                                                                     \
        return bad_seen;                                                                      \
    }
#endif

/* g 2^k u w s (a gradient carried scaled, see prefloss__sd_value) in
 * scaled form: finite wherever the exact value is (for finite factors;
 * scalar, and only needed where a partial product overflowed). 2^k joins
 * the product's power of two, whatever the level (k = -64 lvl, lvl <= 3:
 * js_divergence's and apo_down's gradients reach 2^-192). */
static PREFLOSS_KERNEL_ATTR float prefloss__grad_times_scaled(float g, int32_t k, float u, float w, float s)
{
    float f[4];
    int e;
    prefloss__df m;
    f[0] = g; f[1] = u; f[2] = w; f[3] = s;
    m = prefloss__scaled_parts(f, 4, 1.0f, &e);
    return prefloss__scaled_round(m, e + (int)k);
}

/* Whether a kernel's outputs need no weighting: no per-pair weights (the
 * driver's ones), mix weight 1 and no NLL term. There x w s = x exactly
 * (prefloss__weighted2), so the kernels skip those steps. */
PREFLOSS__INLINE int prefloss__unweighted(const float *w, float s, float nll)
{
    return (int)(w == prefloss__ones) & (int)(s == 1.0f) & (int)(nll == 0.0f);
}

/* The catalogue kernel: the outputs of an element with scaled gradients
 * g 2^k (k = 0 for most kinds), times the upstream gradient and the
 * weights, with NaN for a non-finite input; staged as the wide kernel: per
 * PREFLOSS__STAGE pairs a loop of the element, then the outputs from
 * prefloss__cat_out_plain (unweighted calls, the common case: without the
 * weighting steps) or _weighted, shared by every kind. A gradient g 2^k meets the
 * upstream gradient and the weights before 2^k is applied: one rounding where the
 * result is subnormal, so that a weight that brings a tiny gradient back to
 * the normal range finds its digits. (With an NLL term, which then dominates
 * dchosen, the weights apply to the sum.) The loops stay branch-free; a pair
 * whose product overflowed part-way although the result need not (2^k or a
 * small weight brings it back) is redone in scaled form after them. */
#define PREFLOSS__CAT_OUT_ARGS float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dc,       \
    float *PREFLOSS__RESTRICT dr, const float *PREFLOSS__RESTRICT pc,                              \
    const float *PREFLOSS__RESTRICT pr, const float *PREFLOSS__RESTRICT rc,                        \
    const float *PREFLOSS__RESTRICT rr, const float *PREFLOSS__RESTRICT up,                        \
    const float *PREFLOSS__RESTRICT w, float s, float nll, const float *PREFLOSS__RESTRICT l,      \
    const float *PREFLOSS__RESTRICT gl, const int32_t *PREFLOSS__RESTRICT kl,                      \
    const float *PREFLOSS__RESTRICT gr, const int32_t *PREFLOSS__RESTRICT kr, size_t len
#define PREFLOSS__CAT_OUT_NAMES loss, dc, dr, pc, pr, rc, rr, up, w, s, nll, l, gl, kl, gr, kr, len

/* One stage's outputs from its elements' results (l, gl 2^kl, gr 2^kr), as
 * the kernel's single loop formed them; bit 0: a non-finite input seen, bit
 * 1: a product overflowed part-way. Shared by every kind, plain = 1
 * (prefloss__unweighted) and plain = 0. */
PREFLOSS__INLINE int prefloss__cat_out(PREFLOSS__CAT_OUT_ARGS, int plain)
{
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    int over = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        float bad = plain ? PREFLOSS__BAD4(pc[i], pr[i], rc[i], rr[i])
                          : PREFLOSS__BAD4(pc[i], pr[i], rc[i], rr[i]) + prefloss__nan_if_nonfinite(w[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        if (plain) {
            float qc = prefloss__times_up(gl[i], up[i]);
            float qr = prefloss__times_up(gr[i], up[i]);
            loss[i] = l[i] + bad;
            dc[i] = prefloss__scale2(qc, kl[i]) + bad_up;
            dr[i] = prefloss__scale2(qr, kr[i]) + bad_up;
            over |= (int)(prefloss__fabs(qc) > FLT_MAX) | (int)(prefloss__fabs(qr) > FLT_MAX);
        } else {
            float gu = prefloss__times_up(gl[i], up[i]);
            float qc = prefloss__weighted2(gu, w[i], s);
            float qr = prefloss__weighted2(prefloss__times_up(gr[i], up[i]), w[i], s);
            loss[i] = prefloss__cat_loss_out(l[i], pc[i], w[i], s, nll) + bad;
            dc[i] = prefloss__select(nll != 0.0f,
                        prefloss__cat_nll_grad(prefloss__scale2(gu, kl[i]), up[i], w[i], s, nll),
                        prefloss__scale2(qc, kl[i])) + bad_up;
            dr[i] = prefloss__scale2(qr, kr[i]) + bad_up;
            over |= ((int)(prefloss__fabs(qc) > FLT_MAX) & (int)(nll == 0.0f))
                  | (int)(prefloss__fabs(qr) > FLT_MAX);
        }
        bad_bits |= prefloss__float_to_bits(bad_up);
    }
    return prefloss__bits_has_nan(bad_bits) | (over << 1);
}
PREFLOSS__KERNEL(int, prefloss__cat_out_plain, (PREFLOSS__CAT_OUT_ARGS), (PREFLOSS__CAT_OUT_NAMES))
{
    return prefloss__cat_out(PREFLOSS__CAT_OUT_NAMES, 1);
}
PREFLOSS__KERNEL(int, prefloss__cat_out_weighted, (PREFLOSS__CAT_OUT_ARGS), (PREFLOSS__CAT_OUT_NAMES))
{
    return prefloss__cat_out(PREFLOSS__CAT_OUT_NAMES, 0);
}

#define PREFLOSS__CATALOGUE_KERNEL_K(name, element)                                          \
    PREFLOSS__CAT_KERNEL(name)                                                               \
    {                                                                                        \
        const prefloss__cat *c = params;                                                     \
        float l[PREFLOSS__STAGE], gl[PREFLOSS__STAGE], gr[PREFLOSS__STAGE];                  \
        int32_t kl[PREFLOSS__STAGE], kr[PREFLOSS__STAGE];                                    \
        int plain = prefloss__unweighted(w, s, c->nll), flags = 0, bad_seen, over;            \
        size_t i0, i, len;                                                                   \
        for (i0 = 0; i0 < n; i0 += len) {                                                    \
            len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);                                    \
            for (i = 0; i < len; i++) {                                                      \
                prefloss__pair_out_k o = element(pc[i0 + i], pr[i0 + i], rc[i0 + i], rr[i0 + i], c); \
                l[i] = o.loss;                                                               \
                gl[i] = o.gc;                                                                \
                kl[i] = o.kc;                                                                \
                gr[i] = o.gr;                                                                \
                kr[i] = o.kr;                                                                \
            }                                                                                \
            flags |= (plain ? prefloss__cat_out_plain : prefloss__cat_out_weighted)(         \
                loss + i0, dc + i0, dr + i0, pc + i0, pr + i0, rc + i0, rr + i0, up + i0,    \
                w + i0, s, c->nll, l, gl, kl, gr, kr, len);                                   \
        }                                                                                    \
        bad_seen = flags & 1;                                                                \
        over = flags >> 1;                                                                   \
        for (i = 0; over && i < n; i++) { /* rare: a product overflowed part-way */          \
            prefloss__pair_out_k o;                                                          \
            if (!(prefloss__fabs(dc[i]) > FLT_MAX || prefloss__fabs(dr[i]) > FLT_MAX)        \
                || !prefloss__finite(pc[i]) || !prefloss__finite(pr[i])                      \
                || !prefloss__finite(rc[i]) || !prefloss__finite(rr[i])                      \
                || !prefloss__finite(up[i]) || !prefloss__finite(w[i]))                      \
                continue;                                                                    \
            o = element(pc[i], pr[i], rc[i], rr[i], c);                                      \
            /* (a gradient that overflowed by itself stays: alpha's rescue) */                \
            if (c->nll == 0.0f && prefloss__fabs(dc[i]) > FLT_MAX && prefloss__finite(o.gc))  \
                dc[i] = prefloss__grad_times_scaled(o.gc, o.kc, up[i], w[i], s);             \
            if (prefloss__fabs(dr[i]) > FLT_MAX && prefloss__finite(o.gr))                   \
                dr[i] = prefloss__grad_times_scaled(o.gr, o.kr, up[i], w[i], s);             \
        }                                                                                    \
        return bad_seen;                                                                     \
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

/* One kernel per kind, all of the same shape: the element function is
 * inlined into its own loop, so each loop is branch-free and vectorises.
 * Kinds whose gradients never need scaling give a prefloss__pair_out and
 * run through PREFLOSS__CATALOGUE_KERNEL_K at level 0 (2^0: no scaling). */
#define PREFLOSS__CATALOGUE_KERNEL(name, element)                                            \
    PREFLOSS__INLINE prefloss__pair_out_k name##_el(float pc, float pr, float rc, float rr,  \
                                                    const prefloss__cat *c)                  \
    {                                                                                        \
        prefloss__pair_out o = element(pc, pr, rc, rr, c);                                   \
        return prefloss__pair_make_k(o.loss, o.gc, 0, o.gr, 0);                              \
    }                                                                                        \
    PREFLOSS__CATALOGUE_KERNEL_K(name, name##_el)

#endif /* PREFLOSS_NO_CATALOGUE */
