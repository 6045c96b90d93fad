/* ------------------------------------------------------------------------ */
/* Exact partial sums (prefloss_partial)                                    */
/*                                                                          */
/* A float x = m 2^(e-150) (m < 2^24, biased exponent e >= 1; subnormals    */
/* with e = 1) is the integer m 2^(e-1) in units of 2^-149, at most 277     */
/* bits. It is added to 24-bit digits kept in 64-bit words: m << ((e-1) %   */
/* 24) has at most 47 bits, i.e. at most two digits, each added (or         */
/* subtracted) whole, so a word moves by less than 2^24 per value. The      */
/* words are never carried: with at most 2 values per counted item and the  */
/* count at most 2^36, every word stays below 2^61 in magnitude, whatever   */
/* the split and whatever the order of the integer additions. The finish    */
/* carries them into a sign and magnitude, divides by the count with an     */
/* exact long division and rounds once.                                     */
/* ------------------------------------------------------------------------ */

#define PREFLOSS__PD 12                /* digit words */
#define PREFLOSS__PCOUNT 12            /* word holding the count */
#define PREFLOSS__PBAD 13              /* word holding the non-finite count */
#define PREFLOSS__PW 16                /* in all */
#define PREFLOSS__PWORK (PREFLOSS__PD + 4) /* digits while finishing: carries, one fraction digit */

/* long long must have 64 bits: the words' headroom and the engines'
 * 64-bit integer types (MPI_LONG_LONG, torch.int64) depend on it */
typedef char prefloss__long_long_is_64_bits[(sizeof(long long) == 8) ? 1 : -1];

PREFLOSS_API int prefloss_partial_words(void) { return PREFLOSS_PARTIAL_WORDS; }
PREFLOSS_API long long prefloss_partial_max_count(void) { return PREFLOSS_PARTIAL_MAX_COUNT; }

#ifndef PREFLOSS_NO_PARTIALS /* (see lib/lean.c) */

/* Adds (sign > 0) or subtracts x, finite, exactly into the digit words. */
PREFLOSS__INLINE void prefloss__partial_put(long long *w, float x)
{
    uint32_t b = prefloss__float_to_bits(x);
    uint32_t e = (b >> 23) & 0xffu;
    unsigned long long m = b & 0x7fffffu, v;
    unsigned p, k;
    long long lo, hi, sgn = (b >> 31) ? -1 : 1;
    if (e != 0) m |= 0x800000u; else e = 1;
    p = (unsigned)(e - 1u);            /* position of m's last bit, in units of 2^-149 */
    k = p / 24u;
    v = m << (p % 24u);                /* < 2^47 */
    lo = (long long)(v & 0xffffffu);
    hi = (long long)(v >> 24);
    w[k] += sgn * lo;
    w[k + 1] += sgn * hi;              /* k <= 10 */
}

/* PREFLOSS_OK when p is a partial these functions could have produced. */
static int prefloss__partial_valid(const prefloss_partial *p)
{
    long long c = p->word[PREFLOSS__PCOUNT], bad = p->word[PREFLOSS__PBAD], lim;
    int k;
    if (c < 0 || c > PREFLOSS_PARTIAL_MAX_COUNT) return PREFLOSS_ERR_PARAM;
    if (bad < 0 || bad > c) return PREFLOSS_ERR_PARAM;
    for (k = PREFLOSS__PBAD + 1; k < PREFLOSS__PW; k++)
        if (p->word[k] != 0) return PREFLOSS_ERR_PARAM;
    lim = 2 * c * 16777216LL;          /* at most two values per count, each < 2^24 per word */
    for (k = 0; k < PREFLOSS__PD; k++)
        if (p->word[k] > lim || p->word[k] < -lim) return PREFLOSS_ERR_PARAM;
    return PREFLOSS_OK;
}

/* Common checks of the accumulating functions: the partial itself, the
 * count after adding n, and the overlap of the partial with the inputs. */
static int prefloss__partial_check(const prefloss_partial *p, size_t n, const void *in1,
                                   size_t bytes1, const void *in2, size_t bytes2)
{
    int st;
    if (p == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_valid(p);
    if (st != PREFLOSS_OK) return st;
    if ((unsigned long long)n > (unsigned long long)(PREFLOSS_PARTIAL_MAX_COUNT - p->word[PREFLOSS__PCOUNT]))
        return PREFLOSS_ERR_SIZE;
    {
        prefloss__range out[1], in[2];
        out[0].p = p; out[0].bytes = sizeof *p;
        in[0].p = in1; in[0].bytes = bytes1;
        in[1].p = in2; in[1].bytes = bytes2;
        return prefloss__check_overlap(out, 1, in, 2);
    }
}


PREFLOSS_API int prefloss_partial_init(prefloss_partial *partial)
{
    int k;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    for (k = 0; k < PREFLOSS__PW; k++) partial->word[k] = 0;
    return PREFLOSS_OK;
}

/* Adds sgn * x[i] (sgn = +-1) exactly for each of n values; returns how
 * many were not finite (skipped; the caller counts them in the bad word,
 * and the items in the count word). */
static long long prefloss__partial_add_values(long long *w, const float *x, size_t n, float sgn)
{
    long long bad = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float v = sgn * x[i];
        if (prefloss__finite(v)) prefloss__partial_put(w, v);
        else bad++;
    }
    return bad;
}

PREFLOSS_API int prefloss_partial_add(prefloss_partial *partial, const float *values, size_t n)
{
    int st;
    long long bad;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (n > 0 && values == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_check(partial, n, values, n * sizeof(float), NULL, 0);
    if (st != PREFLOSS_OK || n == 0) return st;
    bad = prefloss__partial_add_values(partial->word, values, n, 1.0f);
    partial->word[PREFLOSS__PCOUNT] += (long long)n;
    partial->word[PREFLOSS__PBAD] += bad;
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_partial_merge(prefloss_partial *dst, const prefloss_partial *src)
{
    int st, k;
    if (dst == NULL || src == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_valid(dst);
    if (st == PREFLOSS_OK) st = prefloss__partial_valid(src);
    if (st != PREFLOSS_OK) return st;
    if (src->word[PREFLOSS__PCOUNT] > PREFLOSS_PARTIAL_MAX_COUNT - dst->word[PREFLOSS__PCOUNT])
        return PREFLOSS_ERR_SIZE;
    if (src == dst) {
        for (k = 0; k < PREFLOSS__PW; k++) dst->word[k] *= 2;
    } else {
        for (k = 0; k < PREFLOSS__PW; k++) dst->word[k] += src->word[k];
    }
    return PREFLOSS_OK;
}

/* Bit i of a magnitude held in 24-bit digits. */
PREFLOSS__INLINE unsigned prefloss__digit_bit(const uint32_t *d, int i)
{
    return (unsigned)(d[i / 24] >> (i % 24)) & 1u;
}

/* The digit words divided by `count` (>= 1), rounded once to the nearest
 * float (ties to even). */
static PREFLOSS_KERNEL_ATTR float prefloss__partial_round(const long long *w, long long count)
{
    uint32_t d[PREFLOSS__PWORK];           /* d[0] a fraction digit: units of 2^-173 */
    unsigned long long r;
    long long carry = 0;
    int k, top, negative, lsb, i;
    unsigned long long mant;
    unsigned guard, sticky;
    uint32_t bits;
    /* carry into digits in [0, 2^24): value = sum d[k] 2^(24(k-1)) + carry 2^(24(W-1)) */
    d[0] = 0;
    for (k = 1; k < PREFLOSS__PWORK; k++) {
        long long v = (k - 1 < PREFLOSS__PD ? w[k - 1] : 0) + carry;
        uint32_t dk = (uint32_t)((unsigned long long)v & 0xffffffu);
        carry = (v - (long long)dk) / 16777216LL;   /* exact */
        d[k] = dk;
    }
    negative = carry < 0;                  /* carry is 0 or -1: the headroom is ample */
    if (negative) {                        /* magnitude: two's complement in base 2^24 */
        uint32_t c = 1;
        for (k = 0; k < PREFLOSS__PWORK; k++) {
            uint32_t v = (0xffffffu - d[k]) + c;
            d[k] = v & 0xffffffu;
            c = v >> 24;
        }
    }
    /* exact long division by count, one bit at a time (shifts and
     * subtractions only: no 64-bit division, which 32-bit targets do in a
     * library helper); the remainder stays below 2 count <= 2^37 */
    r = 0;
    for (k = PREFLOSS__PWORK - 1; k >= 0; k--) {
        uint32_t q = 0;
        for (i = 23; i >= 0; i--) {
            r = (r << 1) | ((d[k] >> i) & 1u);
            if (r >= (unsigned long long)count) { r -= (unsigned long long)count; q |= 1u << i; }
        }
        d[k] = q;
    }
    /* the quotient's top bit */
    top = -1;
    for (i = 24 * PREFLOSS__PWORK - 1; i >= 0; i--)
        if (prefloss__digit_bit(d, i)) { top = i; break; }
    if (top < 0) return negative ? -0.0f : 0.0f; /* below 2^-173 (or zero): rounds to 0 */
    /* the last bit kept: 24 significant bits, but never below 2^-149 (bit 24) */
    lsb = top - 23 > 24 ? top - 23 : 24;
    mant = 0;
    for (i = top; i >= lsb; i--) mant = (mant << 1) | prefloss__digit_bit(d, i);
    guard = lsb >= 1 ? prefloss__digit_bit(d, lsb - 1) : 0u;
    sticky = r != 0;
    for (i = lsb - 2; i >= 0 && !sticky; i--) sticky |= prefloss__digit_bit(d, i);
    if (guard && (sticky || (mant & 1u))) mant++;
    if (mant == (1ull << 24)) { mant >>= 1; lsb++; }
    /* value = mant 2^(lsb - 173); a normal float has mant >= 2^23 and biased exponent lsb - 23 */
    if (mant < (1ull << 23)) {
        bits = (uint32_t)mant;             /* subnormal (lsb == 24) */
    } else if (lsb - 23 >= 255) {
        bits = 0x7f800000u;                /* beyond the float range */
    } else {
        bits = ((uint32_t)(lsb - 23) << 23) | (uint32_t)(mant - (1ull << 23));
    }
    if (negative) bits |= 0x80000000u;
    return prefloss__bits_to_float(bits);
}

PREFLOSS_API int prefloss_partial_finish(float *mean, float *sum, long long *count,
                                         const prefloss_partial *partial)
{
    int st;
    long long c;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_valid(partial);
    if (st != PREFLOSS_OK) return st;
    {
        prefloss__range out[3], in[1];
        out[0].p = mean; out[0].bytes = sizeof(float);
        out[1].p = sum; out[1].bytes = sizeof(float);
        out[2].p = count; out[2].bytes = sizeof(long long);
        in[0].p = partial; in[0].bytes = sizeof *partial;
        st = prefloss__check_overlap(out, 3, in, 1);
        if (st != PREFLOSS_OK) return st;
    }
    c = partial->word[PREFLOSS__PCOUNT];
    if (count != NULL) *count = c;
    if (partial->word[PREFLOSS__PBAD] != 0) {
        if (mean != NULL) *mean = prefloss__nan();
        if (sum != NULL) *sum = prefloss__nan();
        return PREFLOSS_NONFINITE;
    }
    if (mean != NULL) *mean = c > 0 ? prefloss__partial_round(partial->word, c) : 0.0f;
    if (sum != NULL) {
        float s = prefloss__partial_round(partial->word, 1);
        *sum = s == 0.0f ? 0.0f : s;
    }
    if (mean != NULL && *mean == 0.0f) *mean = 0.0f;   /* an exact or underflowed zero is +0 */
    return PREFLOSS_OK;
}

PREFLOSS_API int prefloss_kto_kl_partial(prefloss_partial *partial, const float *policy_kl_logps,
                                         const float *ref_kl_logps, size_t n)
{
    int st;
    long long bad = 0;
    size_t i;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (n > 0 && (policy_kl_logps == NULL || ref_kl_logps == NULL)) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_check(partial, n, policy_kl_logps, n * sizeof(float), ref_kl_logps,
                                 n * sizeof(float));
    if (st != PREFLOSS_OK || n == 0) return st;
    for (i = 0; i < n; i++) {
        float p = policy_kl_logps[i], r = ref_kl_logps[i];
        if (prefloss__finite(p) && prefloss__finite(r)) {
            prefloss__partial_put(partial->word, p);
            prefloss__partial_put(partial->word, -r);
        } else {
            bad++;
        }
    }
    partial->word[PREFLOSS__PCOUNT] += (long long)n;
    partial->word[PREFLOSS__PBAD] += bad;
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_kto_kl_finish(float *kl, const prefloss_partial *partial)
{
    float mean = 0.0f;
    int st;
    if (kl == NULL || partial == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss_partial_finish(&mean, NULL, NULL, partial);
    if (st < 0) return st;
    *kl = mean > 0.0f ? mean : (mean != mean ? mean : 0.0f);
    return st;
}

PREFLOSS_API int prefloss_rewards_partial(prefloss_partial *chosen_rewards,
                                          prefloss_partial *rejected_rewards,
                                          prefloss_partial *margins, prefloss_partial *accuracies,
                                          const float *policy_chosen, const float *policy_rejected,
                                          const float *ref_chosen, const float *ref_rejected,
                                          size_t n, float beta)
{
    prefloss_partial *acc[4];
    float s[4][PREFLOSS__SCRATCH];
    int st, k, j, bad = 0;
    size_t i, len, bytes;
    acc[0] = chosen_rewards; acc[1] = rejected_rewards; acc[2] = margins; acc[3] = accuracies;
    if (!prefloss__beta_ok(beta)) return PREFLOSS_ERR_PARAM;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (n > 0 && (policy_chosen == NULL || policy_rejected == NULL)) return PREFLOSS_ERR_NULL;
    if ((ref_chosen == NULL) != (ref_rejected == NULL)) return PREFLOSS_ERR_NULL;
    bytes = n * sizeof(float);
    for (k = 0; k < 4; k++) {
        if (acc[k] == NULL) continue;
        st = prefloss__partial_check(acc[k], n, policy_chosen, bytes, policy_rejected, bytes);
        if (st == PREFLOSS_OK)
            st = prefloss__partial_check(acc[k], n, ref_chosen, bytes, ref_rejected, bytes);
        if (st != PREFLOSS_OK) return st;
        for (j = k + 1; j < 4; j++) {
            prefloss__range a, b;
            a.p = acc[k]; b.p = acc[j];
            a.bytes = b.bytes = sizeof *acc[k];
            if (prefloss__ranges_overlap(a, b)) return PREFLOSS_ERR_OVERLAP;
        }
    }
    if (n == 0) return PREFLOSS_OK;
    for (i = 0; i < n; i += len) {
        len = n - i < PREFLOSS__SCRATCH ? n - i : PREFLOSS__SCRATCH;
        /* valid arguments: only PREFLOSS_OK or PREFLOSS_NONFINITE */
        bad |= prefloss_rewards(s[0], s[1], s[2], s[3], policy_chosen + i, policy_rejected + i,
                                ref_chosen != NULL ? ref_chosen + i : NULL,
                                ref_rejected != NULL ? ref_rejected + i : NULL, len, beta)
               == PREFLOSS_NONFINITE;
        for (k = 0; k < 4; k++)
            if (acc[k] != NULL)
                acc[k]->word[PREFLOSS__PBAD] += prefloss__partial_add_values(acc[k]->word, s[k], len, 1.0f);
    }
    for (k = 0; k < 4; k++)
        if (acc[k] != NULL) acc[k]->word[PREFLOSS__PCOUNT] += (long long)n;
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_token_partial(prefloss_partial *partial, const float *token_logps,
                                        const unsigned char *mask, size_t batch, size_t seq_len)
{
    int st;
    size_t i, total, counted = 0;
    long long bad = 0;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    if (seq_len != 0 && batch > SIZE_MAX / sizeof(float) / seq_len) return PREFLOSS_ERR_SIZE;
    total = batch * seq_len;
    if (total > 0 && token_logps == NULL) return PREFLOSS_ERR_NULL;
    if (mask == NULL) {
        counted = total;
    } else {
        for (i = 0; i < total; i++) counted += mask[i] != 0;
    }
    st = prefloss__partial_check(partial, counted, token_logps, total * sizeof(float), mask,
                                 mask != NULL ? total : 0);
    if (st != PREFLOSS_OK || total == 0) return st;
    for (i = 0; i < total; i++) {
        float t = token_logps[i];
        if (mask != NULL && mask[i] == 0) continue;
        if (prefloss__finite(t)) prefloss__partial_put(partial->word, t);
        else bad++;
    }
    partial->word[PREFLOSS__PCOUNT] += (long long)counted;
    partial->word[PREFLOSS__PBAD] += bad;
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

#endif /* PREFLOSS_NO_PARTIALS */
