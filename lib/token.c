/* ------------------------------------------------------------------------ */
/* From logits: token log-probs, their backward, the fused pair loss        */
/*                                                                          */
/* A row of logits x[0..V) is read once forward: per block of              */
/* PREFLOSS__TBLOCK floats (in L1) its maximum, then the sum of             */
/* e^(x_j - m) against the running maximum m, in compensated lanes; when a  */
/* block raises m, the sum so far is scaled by e^(m_old - m_new) in         */
/* double-float. The row's log-sum-exp is m + log s; the token's log-prob   */
/* (x_t - m) - log s is a sum of two non-positive terms (no cancellation).  */
/* The backward reads the row once more and writes -g e^(x_j - lse), the    */
/* target's entry g (1 - p_t) = -g expm1(x_t - lse) (accurate where the     */
/* model is confident), in place over the logits when asked.               */
/* ------------------------------------------------------------------------ */

#ifndef PREFLOSS_NO_TOKEN /* (see lib/lean.c) */

#define PREFLOSS__TBLOCK 256
#define PREFLOSS__TLANES 32

/* 2^24 e^d for d <= 64, as a float (the softmax term, scaled so that no
 * term above e^-104 is subnormal: those still count where log p_t is
 * tiny; the sum or the gradient takes the 2^-24 back exactly). d > 0 only
 * by a rounding of lse, or for inconsistent inputs. k = round(d / ln2),
 * r = d - k ln2 with ln 2 in two parts (k LN2_HI exact), e^r = 1 + r +
 * r^2 q(r) with q the degree-4 minimax fit on |r| <= ln2/2 (relative error
 * 2^-28.3 before rounding), times 2^(k+24) built in the exponent bits.
 * Below d = -104.7, k = -151 and those bits are 0: the term is exactly 0
 * (terms under 2^-150 are dropped). Branch-free: the loops vectorise. */
PREFLOSS__INLINE float prefloss__exp_softmax_scaled(float d, int fma)
{
    float x = prefloss__select(d > -104.7f, d, -104.7f);
    float shifted, kf, r, q;
    uint32_t kb;
    x = prefloss__select(x < 64.0f, x, 64.0f);
    shifted = PREFLOSS__MADD(fma, x, PREFLOSS__LOG2E, PREFLOSS__ROUND_MAGIC);
    kf = shifted - PREFLOSS__ROUND_MAGIC;
    kb = prefloss__float_to_bits(shifted) - prefloss__float_to_bits(PREFLOSS__ROUND_MAGIC);
    r = x - kf * PREFLOSS__LN2_HI;
    r = r - kf * PREFLOSS__LN2_LO;
    /* (decimal forms of 0x1.6a23cep-10, 0x1.123a2p-7, 0x1.5558f2p-5,
     * 0x1.555492p-3, 0x1.fffffcp-2) */
    q = PREFLOSS__MADD(fma, r, 0.00138145394f, 0.00836874545f);
    q = PREFLOSS__MADD(fma, r, q, 0.041668389f);
    q = PREFLOSS__MADD(fma, r, q, 0.166665211f);
    q = PREFLOSS__MADD(fma, r, q, 0.49999994f);
    /* 2^(k+24), k in [-151, 93]: (k + 24 + 127) << 23, k's two's-complement bits */
    return (1.0f + PREFLOSS__MADD(fma, r * r, q, r)) * prefloss__bits_to_float((kb + 151u) << 23);
}

/* n 2^24 as a double-float: n = a + b with a = (n >> 24) 2^24 and
 * b = n mod 2^24, both exact in float (n < 2^48), each times 2^24. */
PREFLOSS__INLINE prefloss__df prefloss__count_times_2p24(size_t n)
{
    float a = (float)(n >> 24) * 16777216.0f, b = (float)(n & 0xffffffu);
    return prefloss__two_sum(a * 16777216.0f, b * 16777216.0f);
}

/* The forward state of one row: the maximum, the sum of e^(x_j - m) as a
 * double-float, and whether a logit was not finite. */
typedef struct prefloss__lse_row { float m; prefloss__df s; int bad; } prefloss__lse_row;

/* A float's bits as an unsigned key ordered as the floats are (a
 * non-negative float gets its sign bit set, a negative one all its bits
 * flipped), and back: an integer maximum vectorises where a float one,
 * under -ftrapping-math, does not. */
PREFLOSS__INLINE uint32_t prefloss__order_key(float v)
{
    uint32_t u = prefloss__float_to_bits(v);
    return u ^ ((0u - (u >> 31)) | 0x80000000u);
}
PREFLOSS__INLINE float prefloss__from_order_key(uint32_t key)
{
    return prefloss__bits_to_float(key & 0x80000000u ? key ^ 0x80000000u : ~key);
}

/* The sum's lanes: TLANES doubles where the FPU has them (a row's terms
 * then add with no rounding that matters), else TLANES compensated floats
 * (a sum s and its TwoSum error c per lane). prefloss__tlanes_clear zeroes
 * them (a loop: GCC turns a 256-byte initializer into a memset call, which
 * freestanding builds do not have), prefloss__tlanes_add adds a block's
 * terms (a multiple of TLANES of them), prefloss__tlanes_fold adds the
 * lanes into a double-float. */
#if PREFLOSS__WIDE
typedef struct prefloss__tlanes { double s[PREFLOSS__TLANES]; } prefloss__tlanes;
PREFLOSS__INLINE void prefloss__tlanes_clear(prefloss__tlanes *l)
{
    size_t k;
    for (k = 0; k < PREFLOSS__TLANES; k++) l->s[k] = 0.0;
}
PREFLOSS__INLINE void prefloss__tlanes_add(prefloss__tlanes *PREFLOSS__RESTRICT l,
                                           const float *PREFLOSS__RESTRICT term, size_t len)
{
    size_t j, k;
    for (j = 0; j < len; j += PREFLOSS__TLANES)
        for (k = 0; k < PREFLOSS__TLANES; k++) l->s[k] += (double)term[j + k];
}
PREFLOSS__INLINE prefloss__df prefloss__tlanes_fold(const prefloss__tlanes *l, prefloss__df acc)
{
    size_t k;
    for (k = 0; k < PREFLOSS__TLANES; k++) {
        float hi = (float)l->s[k];
        acc = prefloss__df_add(acc, prefloss__two_sum(hi, (float)(l->s[k] - (double)hi)));
    }
    return acc;
}
#else
typedef struct prefloss__tlanes { float s[PREFLOSS__TLANES], c[PREFLOSS__TLANES]; } prefloss__tlanes;
PREFLOSS__INLINE void prefloss__tlanes_clear(prefloss__tlanes *l)
{
    size_t k;
    for (k = 0; k < PREFLOSS__TLANES; k++) l->s[k] = l->c[k] = 0.0f;
}
PREFLOSS__INLINE void prefloss__tlanes_add(prefloss__tlanes *PREFLOSS__RESTRICT l,
                                           const float *PREFLOSS__RESTRICT term, size_t len)
{
    size_t j, k;
    for (j = 0; j < len; j += PREFLOSS__TLANES)
        for (k = 0; k < PREFLOSS__TLANES; k++) {
            float e = term[j + k], sum = l->s[k] + e, bv = sum - l->s[k];
            l->c[k] += (l->s[k] - (sum - bv)) + (e - bv);
            l->s[k] = sum;
        }
}
PREFLOSS__INLINE prefloss__df prefloss__tlanes_fold(const prefloss__tlanes *l, prefloss__df acc)
{
    size_t k;
    for (k = 0; k < PREFLOSS__TLANES; k++) acc = prefloss__df_add(acc, prefloss__two_sum(l->s[k], l->c[k]));
    return acc;
}
#endif

/* The row in blocks of PREFLOSS__TBLOCK floats (in L1): the block's
 * maximum (an integer reduction) and whether a logit is NaN or infinite;
 * if the maximum grew, the sum so far is scaled by e^(m_old - m_new) in
 * double-float; then the block's terms 2^24 e^(x_j - m) into a buffer (an
 * elementwise loop) and the buffer into the lanes (above). Each
 * loop is one the compilers vectorise whole (a loop doing all three does
 * not vectorise). The maximum's own terms (exactly 2^24 each) are counted
 * apart: where the model is confident, s = 1 + (a tiny rest), and the rest
 * must not be added into a sum already holding the 1, whose roundings
 * would be relative to 1 rather than to the rest. */
PREFLOSS__INLINE prefloss__lse_row prefloss__lse_row_body(const float *PREFLOSS__RESTRICT x,
                                                          size_t V, int fma)
{
    prefloss__lse_row out;
    float term[PREFLOSS__TBLOCK];
    prefloss__tlanes lanes;
    float m = -FLT_MAX;
    uint32_t bad = 0u;
    size_t at_max = 0; /* logits equal to m */
    prefloss__df acc = prefloss__df_make(0.0f, 0.0f);
    size_t j0, j;
    prefloss__tlanes_clear(&lanes);
    for (j0 = 0; j0 < V; j0 += PREFLOSS__TBLOCK) {
        size_t len = V - j0 < PREFLOSS__TBLOCK ? V - j0 : PREFLOSS__TBLOCK;
        size_t body = len - len % PREFLOSS__TLANES;
        const float *b = x + j0;
        uint32_t key = prefloss__order_key(m), low = 0xffffffffu, block_at_max;
        float bm;
        for (j = 0; j < len; j++) {
            uint32_t kj = prefloss__order_key(b[j]);
            key = kj > key ? kj : key;
            low = kj < low ? kj : low;
        }
        /* +inf and NaN have keys above every finite float's, -inf and -NaN below */
        bad |= (key >= 0xff800000u) | (low <= 0x007fffffu);
        bm = prefloss__from_order_key(key);
        if (bm > m) {
            /* fold the lanes, then scale the sum to the new maximum:
             * e^(m - bm) in double-float from the exact difference */
            if (j0 > 0) {
                prefloss__df d = prefloss__two_sum(bm, -m), f;
                acc = prefloss__df_add(acc, prefloss__count_times_2p24(at_max));
                at_max = 0;
                acc = prefloss__tlanes_fold(&lanes, acc);
                prefloss__tlanes_clear(&lanes);
                f = prefloss__exp_neg_df(d.hi, d.lo, fma);
                {
                    prefloss__df p = prefloss__two_prod(acc.hi, f.hi, fma);
                    float lo = acc.hi * f.lo + acc.lo * f.hi + p.lo;
                    acc = prefloss__fast_two_sum(p.hi, lo);
                }
            }
            m = bm;
        }
        block_at_max = 0u;
        for (j = 0; j < len; j++) {
            /* x - m exactly (TwoSum dh + dl), e^(dh + dl) = e^dh (1 + dl);
             * dh <= 0 (dl is NaN where x - m overflowed: that term is 0) */
            float v = b[j], dh = v - m, bb = dh - v;
            float dl = (v - (dh - bb)) + (-m - bb);
            float eh = prefloss__exp_softmax_scaled(dh, fma);
            float e = prefloss__select(eh != 0.0f, PREFLOSS__MADD(fma, eh, dl, eh), 0.0f);
            term[j] = prefloss__select(v != m, e, 0.0f);
            block_at_max += v == m;
        }
        at_max += block_at_max;
        prefloss__tlanes_add(&lanes, term, body);
        for (j = body; j < len; j++) acc = prefloss__df_add_f(acc, term[j]);
    }
    acc = prefloss__tlanes_fold(&lanes, acc);
    acc = prefloss__df_add(acc, prefloss__count_times_2p24(at_max));
    out.m = m;
    out.s = prefloss__df_make(acc.hi * 5.9604644775390625e-8f, acc.lo * 5.9604644775390625e-8f); /* 2^-24 */
    out.bad = bad != 0u;
    return out;
}

/* The backward of one row: out[j] = -g e^(x_j - lse) (the target's entry
 * is written afterwards by the caller). The term is 2^24 e^(x_j - lse),
 * and each entry the factor -g 2^-24 (exact for |g| >= 2^-100, which is
 * 7.88860905e-31) times it, in one loop. A tinier g is first scaled by
 * 2^100, and the row by 2^-100 afterwards (so that neither the factor nor
 * the product underflows before the result does); an infinite g (a
 * gradient that overflowed) gives 0, not inf * 0 = NaN, where the term is
 * 0. One body for the two variants below: out == x (in place, one
 * pointer) and separate buffers (restrict), each vectorised. */
#define PREFLOSS__SOFTMAX_ROW(out, x)                                                      \
    do {                                                                                   \
        size_t j;                                                                          \
        int tiny = prefloss__fabs(g) < 7.88860905e-31f;                                    \
        float gs = (tiny ? -g * 1.26765060e30f : -g) * 5.9604644775390625e-8f;             \
        for (j = 0; j < V; j++) out[j] = gs * prefloss__exp_softmax_scaled(x[j] - lse, fma); \
        if (tiny)                                                                          \
            for (j = 0; j < V; j++) out[j] *= 7.88860905e-31f;                             \
        else if (!(prefloss__fabs(g) <= FLT_MAX))                                          \
            for (j = 0; j < V; j++) out[j] = prefloss__select(out[j] == out[j], out[j], 0.0f); \
    } while (0)
PREFLOSS__INLINE void prefloss__softmax_row_body(float *PREFLOSS__RESTRICT out,
                                                 const float *PREFLOSS__RESTRICT x, size_t V,
                                                 float lse, float g, int fma)
{
    PREFLOSS__SOFTMAX_ROW(out, x);
}
PREFLOSS__INLINE void prefloss__softmax_row_inplace_body(float *PREFLOSS__RESTRICT x, size_t V,
                                                         float lse, float g, int fma)
{
    PREFLOSS__SOFTMAX_ROW(x, x);
}

/* The callable variants (baseline, and AVX2 + FMA where dispatching). */
static prefloss__lse_row prefloss__lse_row_base(const float *x, size_t V)
{ return prefloss__lse_row_body(x, V, 0); }
static void prefloss__softmax_row_base(float *out, const float *x, size_t V, float lse, float g)
{ prefloss__softmax_row_body(out, x, V, lse, g, 0); }
static void prefloss__softmax_row_inplace_base(float *x, size_t V, float lse, float g)
{ prefloss__softmax_row_inplace_body(x, V, lse, g, 0); }
#if PREFLOSS__DISPATCH
PREFLOSS__TARGET_FMA static prefloss__lse_row prefloss__lse_row_fma(const float *x, size_t V)
{ return prefloss__lse_row_body(x, V, 1); }
PREFLOSS__TARGET_FMA static void prefloss__softmax_row_fma(float *out, const float *x, size_t V,
                                                           float lse, float g)
{ prefloss__softmax_row_body(out, x, V, lse, g, 1); }
PREFLOSS__TARGET_FMA static void prefloss__softmax_row_inplace_fma(float *x, size_t V, float lse,
                                                                   float g)
{ prefloss__softmax_row_inplace_body(x, V, lse, g, 1); }
#endif

/* log s for a double-float s >= 1: s = 2^e f with f in [1, 2),
 * log s = e ln2 + log1p(f - 1 + lo 2^-e), in double-float. */
static prefloss__df prefloss__log_ge1_df(prefloss__df s)
{
    uint32_t bits = prefloss__float_to_bits(s.hi);
    int32_t e = (int32_t)(bits >> 23) - 127;
    float f = prefloss__bits_to_float((bits & 0x007fffffu) | 0x3f800000u);
    float scale = prefloss__bits_to_float((uint32_t)(127 - e) << 23); /* 2^-e, e in [0, 127] */
    float arg = (f - 1.0f) + s.lo * scale;
    prefloss__df l = prefloss__log1p_unit_df(arg, 0);
    float ef = (float)e;
    prefloss__df eln2 = prefloss__fast_two_sum(ef * PREFLOSS__LN2_HI, ef * PREFLOSS__LN2_LO);
    return prefloss__df_add(eln2, l);
}

/* One row's results: the token's log-prob (x_t - m) - log s and the row's
 * log-sum-exp m + log s, as double-floats; NaN for a non-finite row. */
static PREFLOSS_KERNEL_ATTR int prefloss__token_row(const float *x, size_t V, int32_t t, int fma,
                               prefloss__df *logp, float *lse)
{
    prefloss__lse_row r;
    prefloss__df ls;
#if PREFLOSS__DISPATCH
    r = fma ? prefloss__lse_row_fma(x, V) : prefloss__lse_row_base(x, V);
#else
    (void)fma;
    r = prefloss__lse_row_base(x, V);
#endif
    if (r.bad) {
        *logp = prefloss__df_make(prefloss__nan(), 0.0f);
        *lse = prefloss__nan();
        return 1;
    }
    ls = prefloss__log_ge1_df(r.s);
    {
        prefloss__df d = prefloss__two_sum(x[t], -r.m); /* exact, <= 0 (-inf if it overflows) */
        d.lo = prefloss__lo_if_finite(d.hi, d.lo);
        prefloss__df nl = prefloss__df_make(-ls.hi, -ls.lo);
        *logp = prefloss__df_add(d, nl);
        *lse = prefloss__df_round(prefloss__df_add_f(ls, r.m));
    }
    return 0;
}

/* -expm1(d) for d <= 0 (1 - p_t), relative error ~2^-26: Taylor to d^5
 * for |d| < 2^-7, else 1 - e^d from e^d in double-float. */
static float prefloss__one_minus_exp(float d)
{
    if (d > -0.0078125f) {
        float q = d * (1.0f / 2 + d * (1.0f / 6 + d * (1.0f / 24 + d * (1.0f / 120))));
        return -(d + d * q);
    } else {
        prefloss__df e = prefloss__exp_neg_df(-d, 0.0f, 0); /* (no fma outside the variants) */
        return (1.0f - e.hi) - e.lo;
    }
}

/* Writes the backward of one counted row. x_t is the target's logit, read
 * before an in-place row is overwritten. inf_ok: an infinite g is a
 * gradient that overflowed for finite inputs (the fused call), not a
 * non-finite input. */
static PREFLOSS_KERNEL_ATTR int prefloss__token_row_backward(float *out, const float *x, size_t V, int32_t t, float lse,
                                        float g, int inf_ok, int fma)
{
    float xt = x[t];
    size_t j;
    (void)fma;
    if (!prefloss__finite(lse) || g != g || (!inf_ok && !prefloss__finite(g))) {
        for (j = 0; j < V; j++) out[j] = prefloss__nan();
        return 1;
    }
#if PREFLOSS__DISPATCH
    if (fma) {
        if (out == x) prefloss__softmax_row_inplace_fma(out, V, lse, g);
        else prefloss__softmax_row_fma(out, x, V, lse, g);
    } else
#endif
    {
        if (out == x) prefloss__softmax_row_inplace_base(out, V, lse, g);
        else prefloss__softmax_row_base(out, x, V, lse, g);
    }
    {
        float d = xt - lse;
        /* d > 0 only by lse's rounding (p_t is 1 to float precision) */
        float q = prefloss__one_minus_exp(d < 0.0f ? d : 0.0f);
        out[t] = q != 0.0f ? g * q : 0.0f;
    }
    return 0;
}

/* ---- validation ---------------------------------------------------------- */

/* The span of n rows of V floats, stride apart, in floats; 0 on overflow of
 * the byte size (n > 0, V > 0, stride >= V checked by the caller). */
static int prefloss__rows_span(size_t n, size_t V, size_t stride, size_t *floats)
{
    size_t maxf = SIZE_MAX / sizeof(float);
    if (n == 0) { *floats = 0; return PREFLOSS_OK; }
    if (V > maxf || (n - 1) > (maxf - V) / stride) return PREFLOSS_ERR_SIZE;
    *floats = (n - 1) * stride + V;
    return PREFLOSS_OK;
}

/* Every target is the ignore index or in [0, V). */
static int prefloss__targets_ok(const int32_t *targets, size_t n, size_t V, int32_t ignore)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int32_t t = targets[i];
        if (t != ignore && (t < 0 || (size_t)t >= V)) return 0;
    }
    return 1;
}

/* ---- token log-probs ----------------------------------------------------- */

PREFLOSS_API int prefloss_token_logps(float *token_logps, float *lse, const float *logits,
                                      const int32_t *targets, size_t n_tokens, size_t vocab,
                                      size_t row_stride, int32_t ignore_index)
{
    size_t span, i;
    int st, bad = 0, fma;
    if (vocab == 0 || row_stride < vocab) return PREFLOSS_ERR_PARAM;
    if (n_tokens == 0) return PREFLOSS_OK;
    st = prefloss__rows_span(n_tokens, vocab, row_stride, &span);
    if (st != PREFLOSS_OK) return st;
    if (n_tokens > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (logits == NULL || targets == NULL) return PREFLOSS_ERR_NULL;
    {
        prefloss__range out[2], in[2];
        out[0].p = token_logps; out[0].bytes = n_tokens * sizeof(float);
        out[1].p = lse; out[1].bytes = n_tokens * sizeof(float);
        in[0].p = logits; in[0].bytes = span * sizeof(float);
        in[1].p = targets; in[1].bytes = n_tokens * sizeof(int32_t);
        st = prefloss__check_overlap(out, 2, in, 2);
        if (st != PREFLOSS_OK) return st;
    }
    if (!prefloss__targets_ok(targets, n_tokens, vocab, ignore_index)) return PREFLOSS_ERR_PARAM;
    fma = prefloss__cpu_fma();
    for (i = 0; i < n_tokens; i++) {
        int32_t t = targets[i];
        prefloss__df lp = prefloss__df_make(0.0f, 0.0f);
        float l = 0.0f;
        if (t != ignore_index)
            bad |= prefloss__token_row(logits + i * row_stride, vocab, t, fma, &lp, &l);
        if (token_logps != NULL) token_logps[i] = prefloss__df_round(lp);
        if (lse != NULL) lse[i] = l;
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_token_logps_backward(float *dlogits, size_t dlogits_stride,
                                               const float *dtoken_logps, const float *logits,
                                               size_t row_stride, const float *lse,
                                               const int32_t *targets, size_t n_tokens,
                                               size_t vocab, int32_t ignore_index)
{
    size_t span, dspan, i, j;
    int st, bad = 0, fma;
    if (vocab == 0 || row_stride < vocab || dlogits_stride < vocab) return PREFLOSS_ERR_PARAM;
    if (n_tokens == 0) return PREFLOSS_OK;
    st = prefloss__rows_span(n_tokens, vocab, row_stride, &span);
    if (st == PREFLOSS_OK) st = prefloss__rows_span(n_tokens, vocab, dlogits_stride, &dspan);
    if (st != PREFLOSS_OK) return st;
    if (n_tokens > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (dlogits == NULL || logits == NULL || lse == NULL || targets == NULL) return PREFLOSS_ERR_NULL;
    {
        /* in place: the identical rows (same pointer, same stride) */
        int inplace = dlogits == logits && dlogits_stride == row_stride;
        prefloss__range out[1], in[4];
        out[0].p = dlogits; out[0].bytes = dspan * sizeof(float);
        in[0].p = inplace ? NULL : logits; in[0].bytes = span * sizeof(float);
        in[1].p = lse; in[1].bytes = n_tokens * sizeof(float);
        in[2].p = targets; in[2].bytes = n_tokens * sizeof(int32_t);
        in[3].p = dtoken_logps; in[3].bytes = n_tokens * sizeof(float);
        st = prefloss__check_overlap(out, 1, in, 4);
        if (st != PREFLOSS_OK) return st;
    }
    if (!prefloss__targets_ok(targets, n_tokens, vocab, ignore_index)) return PREFLOSS_ERR_PARAM;
    fma = prefloss__cpu_fma();
    for (i = 0; i < n_tokens; i++) {
        float *o = dlogits + i * dlogits_stride;
        int32_t t = targets[i];
        if (t == ignore_index) {
            for (j = 0; j < vocab; j++) o[j] = 0.0f;
            continue;
        }
        bad |= prefloss__token_row_backward(o, logits + i * row_stride, vocab, t, lse[i],
                                            dtoken_logps != NULL ? dtoken_logps[i] : 1.0f, 0, fma);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* ---- the fused pair loss --------------------------------------------------- */

/* Rows [first, last) of sequence i: padded (offsets NULL) or packed. */
PREFLOSS__INLINE void prefloss__seq_rows(const size_t *offsets, size_t seq_len, size_t i,
                                         size_t *first, size_t *last)
{
    if (offsets != NULL) { *first = offsets[i]; *last = offsets[i + 1]; }
    else { *first = i * seq_len; *last = (i + 1) * seq_len; }
}

#ifndef PREFLOSS_NO_CATALOGUE
/* Validates one side's layout: the offsets non-decreasing; its rows
 * [first, end), and the largest sequence. */
static int prefloss__side_layout(const size_t *offsets, size_t n, size_t seq_len,
                                 size_t *first, size_t *end, size_t *longest)
{
    size_t i;
    *longest = 0;
    if (offsets == NULL) {
        if (seq_len != 0 && n > SIZE_MAX / sizeof(float) / seq_len) return PREFLOSS_ERR_SIZE;
        *first = 0;
        *end = n * seq_len;
        *longest = seq_len;
        return PREFLOSS_OK;
    }
    for (i = 0; i < n; i++) {
        if (offsets[i + 1] < offsets[i]) return PREFLOSS_ERR_PARAM;
        if (offsets[i + 1] - offsets[i] > *longest) *longest = offsets[i + 1] - offsets[i];
    }
    *first = offsets[0];
    *end = offsets[n];
    return PREFLOSS_OK;
}
#endif

PREFLOSS_API int prefloss_pair_loss_from_logits_workspace(size_t *workspace_len,
                                                          const size_t *chosen_offsets,
                                                          const size_t *rejected_offsets,
                                                          size_t n_pairs, size_t seq_len)
{
    size_t i, best = 0;
    if (workspace_len == NULL) return PREFLOSS_ERR_NULL;
    if ((chosen_offsets == NULL) != (rejected_offsets == NULL)) return PREFLOSS_ERR_NULL;
    if (chosen_offsets == NULL) {
        if (seq_len > SIZE_MAX / 2 / sizeof(float)) return PREFLOSS_ERR_SIZE;
        *workspace_len = n_pairs > 0 ? 2 * seq_len : 0;
        return PREFLOSS_OK;
    }
    for (i = 0; i < n_pairs; i++) {
        size_t a, b;
        if (chosen_offsets[i + 1] < chosen_offsets[i] || rejected_offsets[i + 1] < rejected_offsets[i])
            return PREFLOSS_ERR_PARAM;
        a = chosen_offsets[i + 1] - chosen_offsets[i];
        b = rejected_offsets[i + 1] - rejected_offsets[i];
        if (a > SIZE_MAX / sizeof(float) - b) return PREFLOSS_ERR_SIZE;
        if (a + b > best) best = a + b;
    }
    *workspace_len = best;
    return PREFLOSS_OK;
}

#ifndef PREFLOSS_NO_CATALOGUE /* the fused call needs the catalogue (see lib/lean.c) */
/* One sequence forward: the sum of its counted tokens' log-probs (double-
 * float), their count, each counted row's log-sum-exp into lse[] (NULL:
 * not kept). Returns 1 if a counted row was not finite. */
static PREFLOSS_KERNEL_ATTR int prefloss__seq_forward(const float *logits, size_t stride, const int32_t *targets,
                                 size_t first, size_t last, size_t V, int32_t ignore, int fma,
                                 float *lse, prefloss__df *sum, size_t *count)
{
    size_t r;
    int bad = 0;
    *sum = prefloss__df_make(0.0f, 0.0f);
    *count = 0;
    for (r = first; r < last; r++) {
        int32_t t = targets[r];
        prefloss__df lp;
        float l = 0.0f;
        if (t != ignore) {
            bad |= prefloss__token_row(logits + r * stride, V, t, fma, &lp, &l);
            *sum = prefloss__df_add(*sum, lp);
            ++*count;
        }
        if (lse != NULL) lse[r - first] = l;
    }
    return bad;
}

/* One sequence backward with the per-token gradient g. */
static PREFLOSS_KERNEL_ATTR int prefloss__seq_backward(float *dlogits, const float *logits, size_t stride,
                                  const int32_t *targets, size_t first, size_t last, size_t V,
                                  int32_t ignore, int fma, const float *lse, float g)
{
    size_t r, j;
    int bad = 0;
    for (r = first; r < last; r++) {
        float *o = dlogits + r * stride;
        int32_t t = targets[r];
        if (t == ignore) {
            for (j = 0; j < V; j++) o[j] = 0.0f;
            continue;
        }
        bad |= prefloss__token_row_backward(o, logits + r * stride, V, t, lse[r - first], g, 1, fma);
    }
    return bad;
}

/* The sequence value: the sum, or the mean over counted tokens (0 for none). */
static PREFLOSS_KERNEL_ATTR float prefloss__seq_value(prefloss__df sum, size_t count, int mean, int bad)
{
    if (bad) return prefloss__nan();
    if (!mean) return prefloss__df_round(sum);
    if (count == 0) return 0.0f;
    return prefloss__df_round(prefloss__df_div_f(sum, (float)count, 0));
}

PREFLOSS_API int prefloss_pair_loss_from_logits(
    float *losses, float *policy_chosen, float *policy_rejected,
    float *dchosen_logits, float *drejected_logits,
    const float *chosen_logits, const float *rejected_logits,
    const int32_t *chosen_targets, const int32_t *rejected_targets,
    const size_t *chosen_offsets, const size_t *rejected_offsets,
    const float *ref_chosen, const float *ref_rejected, const float *dlosses,
    size_t n_pairs, size_t seq_len, size_t vocab, size_t row_stride, int32_t ignore_index,
    int average_log_prob, int kind, const prefloss_pair_params *params,
    float *workspace, size_t workspace_len)
{
    size_t c0, c1, r0, r1, clong, rlong, cspan = 0, rspan = 0, need = 0, i;
    int st, any_bad = 0, fma;
    int grad = dchosen_logits != NULL || drejected_logits != NULL;
    /* the kind and its parameters (n = 0 checks them, writes nothing) */
    st = prefloss_pair_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, kind, params);
    if (st != PREFLOSS_OK) return st;
    if (vocab == 0 || row_stride < vocab) return PREFLOSS_ERR_PARAM;
    if (n_pairs == 0) return PREFLOSS_OK;
    if (n_pairs > SIZE_MAX / sizeof(float) - 1) return PREFLOSS_ERR_SIZE;
    if ((chosen_offsets == NULL) != (rejected_offsets == NULL)) return PREFLOSS_ERR_NULL;
    if ((ref_chosen == NULL) != (ref_rejected == NULL)) return PREFLOSS_ERR_NULL;
    st = prefloss__side_layout(chosen_offsets, n_pairs, seq_len, &c0, &c1, &clong);
    if (st == PREFLOSS_OK) st = prefloss__side_layout(rejected_offsets, n_pairs, seq_len, &r0, &r1, &rlong);
    if (st != PREFLOSS_OK) return st;
    if (c1 > SIZE_MAX / sizeof(float) || r1 > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    st = prefloss__rows_span(c1, vocab, row_stride, &cspan);
    if (st == PREFLOSS_OK) st = prefloss__rows_span(r1, vocab, row_stride, &rspan);
    if (st != PREFLOSS_OK) return st;
    if ((c1 > c0 && (chosen_logits == NULL || chosen_targets == NULL))
        || (r1 > r0 && (rejected_logits == NULL || rejected_targets == NULL)))
        return PREFLOSS_ERR_NULL;
    (void)clong;
    (void)rlong;
    st = prefloss_pair_loss_from_logits_workspace(&need, chosen_offsets, rejected_offsets, n_pairs,
                                                  seq_len);
    if (st != PREFLOSS_OK) return st;
    if (grad) {
        if (workspace == NULL) return PREFLOSS_ERR_NULL;
        if (workspace_len < need) return PREFLOSS_ERR_SIZE;
    }
    {
        /* spans from the first row used; an output may be its own input
         * (same pointer: in place), nothing else may overlap */
        size_t cs = c1 > c0 ? (c0 * row_stride) * sizeof(float) : 0;
        size_t rs = r1 > r0 ? (r0 * row_stride) * sizeof(float) : 0;
        size_t cb = c1 > c0 ? (cspan - c0 * row_stride) * sizeof(float) : 0;
        size_t rb = r1 > r0 ? (rspan - r0 * row_stride) * sizeof(float) : 0;
        size_t nb = n_pairs * sizeof(float), ob = (n_pairs + 1) * sizeof(size_t);
        const char *cl = chosen_logits != NULL ? (const char *)chosen_logits + cs : NULL;
        const char *rl = rejected_logits != NULL ? (const char *)rejected_logits + rs : NULL;
        prefloss__range out[6], in[9];
        int a, b;
        out[0].p = losses; out[0].bytes = nb;
        out[1].p = policy_chosen; out[1].bytes = nb;
        out[2].p = policy_rejected; out[2].bytes = nb;
        out[3].p = dchosen_logits != NULL ? (const char *)dchosen_logits + cs : NULL; out[3].bytes = cb;
        out[4].p = drejected_logits != NULL ? (const char *)drejected_logits + rs : NULL; out[4].bytes = rb;
        out[5].p = grad ? workspace : NULL; out[5].bytes = need * sizeof(float);
        in[0].p = cl; in[0].bytes = cb;
        in[1].p = rl; in[1].bytes = rb;
        in[2].p = chosen_targets != NULL ? chosen_targets + c0 : NULL; in[2].bytes = (c1 - c0) * sizeof(int32_t);
        in[3].p = rejected_targets != NULL ? rejected_targets + r0 : NULL; in[3].bytes = (r1 - r0) * sizeof(int32_t);
        in[4].p = chosen_offsets; in[4].bytes = ob;
        in[5].p = rejected_offsets; in[5].bytes = ob;
        in[6].p = ref_chosen; in[6].bytes = nb;
        in[7].p = ref_rejected; in[7].bytes = nb;
        in[8].p = dlosses; in[8].bytes = nb;
        for (a = 0; a < 6; a++) {
            for (b = 0; b < 9; b++) {
                if ((a == 3 && b == 0 && dchosen_logits == chosen_logits)
                    || (a == 4 && b == 1 && drejected_logits == rejected_logits))
                    continue;
                if (prefloss__ranges_overlap(out[a], in[b])) return PREFLOSS_ERR_OVERLAP;
            }
            for (b = a + 1; b < 6; b++)
                if (prefloss__ranges_overlap(out[a], out[b])) return PREFLOSS_ERR_OVERLAP;
        }
    }
    if ((c1 > c0 && !prefloss__targets_ok(chosen_targets + c0, c1 - c0, vocab, ignore_index))
        || (r1 > r0 && !prefloss__targets_ok(rejected_targets + r0, r1 - r0, vocab, ignore_index)))
        return PREFLOSS_ERR_PARAM;

    fma = prefloss__cpu_fma();
    for (i = 0; i < n_pairs; i++) {
        size_t ca, cz, ra, rz, cn, rn;
        prefloss__df csum, rsum;
        float pc, pr, loss, dpc = 0.0f, dpr = 0.0f;
        int cbad, rbad;
        prefloss__seq_rows(chosen_offsets, seq_len, i, &ca, &cz);
        prefloss__seq_rows(rejected_offsets, seq_len, i, &ra, &rz);
        cbad = prefloss__seq_forward(chosen_logits, row_stride, chosen_targets, ca, cz, vocab,
                                     ignore_index, fma, grad ? workspace : NULL, &csum, &cn);
        rbad = prefloss__seq_forward(rejected_logits, row_stride, rejected_targets, ra, rz, vocab,
                                     ignore_index, fma, grad ? workspace + (cz - ca) : NULL, &rsum, &rn);
        pc = prefloss__seq_value(csum, cn, average_log_prob, cbad);
        pr = prefloss__seq_value(rsum, rn, average_log_prob, rbad);
        st = prefloss_pair_loss(&loss, grad ? &dpc : NULL, grad ? &dpr : NULL, &pc, &pr,
                                ref_chosen != NULL ? ref_chosen + i : NULL,
                                ref_rejected != NULL ? ref_rejected + i : NULL, NULL,
                                dlosses != NULL ? dlosses + i : NULL, 1, kind, params);
        any_bad |= st == PREFLOSS_NONFINITE;
        if (losses != NULL) losses[i] = loss;
        if (policy_chosen != NULL) policy_chosen[i] = pc;
        if (policy_rejected != NULL) policy_rejected[i] = pr;
        if (!grad) continue;
        if (average_log_prob) {
            dpc = cn > 0 ? dpc / (float)cn : 0.0f;
            dpr = rn > 0 ? dpr / (float)rn : 0.0f;
        }
        if (dchosen_logits != NULL)
            any_bad |= prefloss__seq_backward(dchosen_logits, chosen_logits, row_stride,
                                              chosen_targets, ca, cz, vocab, ignore_index, fma,
                                              workspace, dpc);
        if (drejected_logits != NULL)
            any_bad |= prefloss__seq_backward(drejected_logits, rejected_logits, row_stride,
                                              rejected_targets, ra, rz, vocab, ignore_index, fma,
                                              workspace + (cz - ca), dpr);
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}
#endif /* PREFLOSS_NO_CATALOGUE */

#endif /* PREFLOSS_NO_TOKEN */
