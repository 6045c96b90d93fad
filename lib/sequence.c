/* Sequence log-probs                                                       */
/* ------------------------------------------------------------------------ */

/* Lanes of the compensated token sum: independent accumulators let the
 * compiler vectorise the loop without reassociating anything. */
#define PREFLOSS__LANES 32

/* Checks shared by the forward and the backward. */
static int prefloss__check_sequence(float *out, size_t out_n, const float *in, size_t in_n,
                                    const unsigned char *mask, size_t batch, size_t seq_len,
                                    int reduction)
{
    size_t tokens;
    prefloss__range o[1], i[2];
    if (reduction != PREFLOSS_REDUCE_SUM && reduction != PREFLOSS_REDUCE_MEAN)
        return PREFLOSS_ERR_PARAM;
    if (batch == 0) return PREFLOSS_OK;
    if (batch > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE; /* the (batch) buffer */
    if (seq_len != 0 && batch > SIZE_MAX / sizeof(float) / seq_len) return PREFLOSS_ERR_SIZE;
    tokens = batch * seq_len;
    if ((out == NULL && out_n > 0) || (in == NULL && in_n > 0)) return PREFLOSS_ERR_NULL;
    o[0].p = out; o[0].bytes = out_n * sizeof(float);
    i[0].p = in; i[0].bytes = in_n * sizeof(float);
    i[1].p = mask; i[1].bytes = mask != NULL ? tokens : 0;
    return prefloss__check_overlap(o, 1, i, 2);
}

/* The running state of a compensated token sum: per lane a TwoSum running
 * sum s and the sum c of its exact rounding errors, a count, and x - x
 * accumulated (NaN once a counted token was not finite). */
typedef struct prefloss__token_acc {
    float s[PREFLOSS__LANES], c[PREFLOSS__LANES], nf[PREFLOSS__LANES];
    uint32_t cnt[PREFLOSS__LANES], mag[PREFLOSS__LANES]; /* mag: largest |token| bits */
} prefloss__token_acc;

/* Tokens per block: lane counts are folded into a size_t after each block,
 * so the 32-bit lane counters never overflow. */
#define PREFLOSS__BLOCK ((size_t)1 << 24)

/* Adds t[0..len) (len a multiple of PREFLOSS__LANES) to the lanes. masked
 * is a constant at each call site, so the test disappears from the loop. */
PREFLOSS__INLINE void prefloss__token_block(prefloss__token_acc *PREFLOSS__RESTRICT a,
                                            const float *PREFLOSS__RESTRICT t,
                                            const unsigned char *PREFLOSS__RESTRICT m,
                                            size_t len, int masked)
{
    /* the lanes live in locals during the loop, so they stay in registers */
    float s[PREFLOSS__LANES], c[PREFLOSS__LANES], nf[PREFLOSS__LANES];
    uint32_t cnt[PREFLOSS__LANES], mag[PREFLOSS__LANES];
    size_t j, k;
    for (k = 0; k < PREFLOSS__LANES; k++) {
        s[k] = a->s[k]; c[k] = a->c[k]; nf[k] = a->nf[k]; cnt[k] = a->cnt[k]; mag[k] = a->mag[k];
    }
    for (j = 0; j < len; j += PREFLOSS__LANES) {
        for (k = 0; k < PREFLOSS__LANES; k++) {
            int on = masked ? m[j + k] != 0 : 1;
            /* a masked token is read but never enters the sum */
            float v = prefloss__select(on, t[j + k], 0.0f);
            float sum = s[k] + v;                 /* TwoSum(s, v), inlined */
            float bv = sum - s[k];
            c[k] += (s[k] - (sum - bv)) + (v - bv);
            s[k] = sum;
            nf[k] += v - v;
            cnt[k] += (uint32_t)on;
            {
                uint32_t vb = prefloss__float_to_bits(v) & 0x7fffffffu;
                mag[k] = vb > mag[k] ? vb : mag[k];
            }
        }
    }
    for (k = 0; k < PREFLOSS__LANES; k++) {
        a->s[k] = s[k]; a->c[k] = c[k]; a->nf[k] = nf[k]; a->cnt[k] = cnt[k]; a->mag[k] = mag[k];
    }
}

/* One row: the compensated sum of its counted tokens (m == NULL: all),
 * their count, and whether a counted token was not finite. */
/* (Built once even where the loss kernels are dispatched: there, on
 * x86-64, only prefloss_sequence_logps_ld uses it; make bench does not
 * time that entry.) */
PREFLOSS_KERNEL_ATTR static prefloss__df prefloss__row_sum(const float *t, const unsigned char *m, size_t len,
                                      size_t *count, int *bad, int *huge)
{
    prefloss__token_acc a;
    prefloss__df acc = prefloss__df_make(0.0f, 0.0f);
    float nonfinite = 0.0f;
    uint32_t mag = 0;
    size_t j = 0, k, total = 0, body = len - len % PREFLOSS__LANES;
    for (k = 0; k < PREFLOSS__LANES; k++) {
        a.s[k] = a.c[k] = a.nf[k] = 0.0f;
        a.cnt[k] = a.mag[k] = 0;
    }
    while (j < body) {
        size_t blk = body - j < PREFLOSS__BLOCK ? body - j : PREFLOSS__BLOCK;
        if (m != NULL) prefloss__token_block(&a, t + j, m + j, blk, 1);
        else prefloss__token_block(&a, t + j, NULL, blk, 0);
        for (k = 0; k < PREFLOSS__LANES; k++) { total += a.cnt[k]; a.cnt[k] = 0; }
        j += blk;
    }
    for (; j < len; j++) {
        int on = m == NULL || m[j] != 0;
        float v = prefloss__select(on, t[j], 0.0f);
        uint32_t vb = prefloss__float_to_bits(v) & 0x7fffffffu;
        acc = prefloss__df_add_f(acc, v);
        nonfinite += v - v;
        mag = vb > mag ? vb : mag;
        total += (size_t)on;
    }
    for (k = 0; k < PREFLOSS__LANES; k++) {
        acc = prefloss__df_add(acc, prefloss__fast_two_sum(a.s[k], a.c[k]));
        nonfinite += a.nf[k];
        mag = a.mag[k] > mag ? a.mag[k] : mag;
    }
    *count = total;
    *bad = nonfinite != 0.0f;
    *huge = mag >= PREFLOSS__BIG_BITS;
    return acc;
}

/* Slow path for a row with a token of magnitude >= 2^125, where a partial
 * sum, or TwoSum's intermediate, can overflow although every counted token is
 * finite: tokens of magnitude >= 2^64 are summed scaled by 2^-64 (exactly),
 * the others unscaled (no partial sum can overflow), and the two parts are
 * combined in double-float, after the division by the count for the mean.
 * The result overflows only when the exact value does. Scalar: it runs only
 * for such rows. */
static PREFLOSS_KERNEL_ATTR float prefloss__row_value_wide(const float *t, const unsigned char *m, size_t len,
                                      size_t count, int reduction)
{
    const float down = 5.42101086242752217e-20f; /* 2^-64 */
    const float up = 18446744073709551616.0f;    /* 2^64 */
    prefloss__df big = prefloss__df_make(0.0f, 0.0f), small = big;
    float d = 1.0f;
    size_t j;
    for (j = 0; j < len; j++) {
        float v;
        if (m != NULL && m[j] == 0) continue;
        v = t[j];
        if (prefloss__fabs(v) >= up) big = prefloss__df_add_f(big, v * down);
        else small = prefloss__df_add_f(small, v);
    }
    if (reduction == PREFLOSS_REDUCE_MEAN) {
        if (count == 0) return 0.0f;
        d = (float)count;
    }
    /* (big 2^64 + small) / d in double-float; big 2^64 is +-inf only if the value is */
    big = prefloss__df_unscale(prefloss__df_div_f(big, d, 0), up);
    small = prefloss__df_div_f(small, d, 0);
    return prefloss__df_round(prefloss__df_add(big, small));
}

#if PREFLOSS__WIDE
/* Where double is at full speed (see "Wide evaluation") a row is summed in
 * double instead: a float converts exactly, no partial sum of floats can
 * overflow a double, and the rounding error, at most (len/lanes) 2^-53 of
 * the sum of |tokens| per lane, stays far below the float result's
 * half-ulp for any realistic row (2^28 tokens would be needed to reach it).
 * A non-finite counted token makes the sum non-finite, and only then. */
#define PREFLOSS__WLANES 16
#define PREFLOSS__WCHUNK 256

/* Adds the counted tokens of t[0..len) to the lanes' sums and returns their
 * count; masked is a constant at each call site. Each chunk is first
 * selected into a float buffer (a masked token is read, never added),
 * zero-padded to whole lanes, then widened and added lane by lane: two
 * simple loops the compiler vectorises. */
PREFLOSS__INLINE uint32_t prefloss__token_chunk_wide(double *PREFLOSS__RESTRICT s,
                                                     float *PREFLOSS__RESTRICT v,
                                                     const float *PREFLOSS__RESTRICT t,
                                                     const unsigned char *PREFLOSS__RESTRICT m,
                                                     size_t n, int masked)
{
    size_t j, k, padded = (n + PREFLOSS__WLANES - 1) / PREFLOSS__WLANES * PREFLOSS__WLANES;
    uint32_t c = 0;
    for (j = 0; j < n; j++) {
        uint32_t on = masked ? (uint32_t)(m[j] != 0) : 1u;
        v[j] = prefloss__bits_to_float(prefloss__float_to_bits(t[j]) & (0u - on));
        c += on;
    }
    for (; j < padded; j++) v[j] = 0.0f;
    for (j = 0; j < padded; j += PREFLOSS__WLANES)
        for (k = 0; k < PREFLOSS__WLANES; k++) s[k] += (double)v[j + k];
    return c;
}

/* Adds the counted tokens of t[0..len) to the lanes' sums and returns their
 * count; masked is a constant at each call site. Each chunk is first
 * selected into a float buffer (a masked token is read, never added),
 * zero-padded to whole lanes, then widened and added lane by lane: two
 * simple loops the compiler vectorises (full chunks with a constant length). */
PREFLOSS__INLINE size_t prefloss__token_sum_wide(double *PREFLOSS__RESTRICT sum,
                                                 const float *PREFLOSS__RESTRICT t,
                                                 const unsigned char *PREFLOSS__RESTRICT m,
                                                 size_t len, int masked)
{
    float v[PREFLOSS__WCHUNK];
    double s[PREFLOSS__WLANES];
    size_t i0, k, count = 0, full = len - len % PREFLOSS__WCHUNK;
    for (k = 0; k < PREFLOSS__WLANES; k++) s[k] = sum[k];
    for (i0 = 0; i0 < full; i0 += PREFLOSS__WCHUNK)
        count += prefloss__token_chunk_wide(s, v, t + i0, masked ? m + i0 : NULL,
                                            PREFLOSS__WCHUNK, masked);
    if (full < len)
        count += prefloss__token_chunk_wide(s, v, t + full, masked ? m + full : NULL,
                                            len - full, masked);
    for (k = 0; k < PREFLOSS__WLANES; k++) sum[k] = s[k];
    return count;
}

/* One row: the sum of its counted tokens (m == NULL: all) and their count.
 * (Dispatched: its AVX2 build ran 1.65x the baseline's in make bench.) */
PREFLOSS__KERNEL(double, prefloss__row_sum_wide,
                 (const float *t, const unsigned char *m, size_t len, double *count),
                 (t, m, len, count))
{
    double sum[PREFLOSS__WLANES], total = 0.0;
    size_t k, n;
    for (k = 0; k < PREFLOSS__WLANES; k++) sum[k] = 0.0;
    if (m != NULL) n = prefloss__token_sum_wide(sum, t, m, len, 1);
    else n = prefloss__token_sum_wide(sum, t, NULL, len, 0);
    for (k = 0; k < PREFLOSS__WLANES; k++) total += sum[k];
    *count = (double)n;
    return total;
}
#endif

PREFLOSS_API int prefloss_sequence_logps(float *seq_logps, const float *token_logps,
                                         const unsigned char *mask, size_t batch,
                                         size_t seq_len, int reduction)
{
    int st, any_bad = 0;
    size_t b;
    st = prefloss__check_sequence(seq_logps, batch, token_logps, batch * seq_len, mask,
                                  batch, seq_len, reduction);
    if (st != PREFLOSS_OK || batch == 0) return st;
    if (seq_len == 0) { /* empty rows (token_logps may be NULL: no pointer arithmetic) */
        for (b = 0; b < batch; b++) seq_logps[b] = 0.0f;
        return PREFLOSS_OK;
    }
#if PREFLOSS__WIDE
    for (b = 0; b < batch; b++) {
        double count, sum = prefloss__row_sum_wide(token_logps + b * seq_len,
                                                   mask != NULL ? mask + b * seq_len : NULL,
                                                   seq_len, &count);
        double value = reduction == PREFLOSS_REDUCE_MEAN ? sum / (count > 0.0 ? count : 1.0) : sum;
        int bad = sum - sum != 0.0;
        seq_logps[b] = bad ? prefloss__nan() : (float)value;
        any_bad |= bad;
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
#endif
    for (b = 0; b < batch; b++) {
        size_t count;
        int bad;
        int huge;
        prefloss__df sum = prefloss__row_sum(token_logps + b * seq_len,
                                             mask != NULL ? mask + b * seq_len : NULL,
                                             seq_len, &count, &bad, &huge);
        float value;
        if (reduction == PREFLOSS_REDUCE_MEAN) {
            /* sum / count: one rounding (plus a tiny correction error) */
            value = count > 0 ? prefloss__df_round(prefloss__df_div_f(sum, (float)count, 0)) : 0.0f;
        } else {
            value = prefloss__df_round(sum);
        }
        if (!bad && (huge || !prefloss__finite(value)))
            value = prefloss__row_value_wide(token_logps + b * seq_len,
                                             mask != NULL ? mask + b * seq_len : NULL,
                                             seq_len, count, reduction);
        if (bad) { value = prefloss__nan(); any_bad = 1; }
        seq_logps[b] = value;
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_sequence_logps_backward(float *dtoken_logps, const float *dseq_logps,
                                                  const unsigned char *mask, size_t batch,
                                                  size_t seq_len, int reduction)
{
    int st, any_bad = 0;
    size_t b, j;
    st = prefloss__check_sequence(dtoken_logps, batch * seq_len, dseq_logps, batch, mask,
                                  batch, seq_len, reduction);
    if (st != PREFLOSS_OK || batch == 0) return st;
    if (seq_len == 0) { /* no token to write; the status still reports dseq */
        for (b = 0; b < batch; b++) any_bad |= !prefloss__finite(dseq_logps[b]);
        return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
    }
    for (b = 0; b < batch; b++) {
        const unsigned char *m = mask != NULL ? mask + b * seq_len : NULL;
        float *PREFLOSS__RESTRICT dt = dtoken_logps + b * seq_len;
        float g = dseq_logps[b];
        if (reduction == PREFLOSS_REDUCE_MEAN) {
            size_t count = 0;
            if (m == NULL) count = seq_len;
            else for (j = 0; j < seq_len; j++) count += m[j] != 0;
            g = count > 0 ? g / (float)count : 0.0f;
        }
        if (!prefloss__finite(dseq_logps[b])) {
            g = prefloss__nan_if_nonfinite(dseq_logps[b]);
            any_bad = 1;
        }
        if (m == NULL) for (j = 0; j < seq_len; j++) dt[j] = g;
        else for (j = 0; j < seq_len; j++) dt[j] = prefloss__select(m[j] != 0, g, 0.0f);
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* ------------------------------------------------------------------------ */
