#ifndef PREFLOSS_NO_LD /* (see lib/lean.c) */
/* LD-DPO: length-desensitised sequence log-probs                           */
/* ------------------------------------------------------------------------ */

/* The position after which row m[0..len) has counted `public` tokens
 * (len if it never has that many). */
static size_t prefloss__public_end(const unsigned char *m, size_t len, size_t public_len)
{
    size_t j, seen = 0;
    if (m == NULL) return public_len < len ? public_len : len;
    for (j = 0; j < len && seen < public_len; j++) seen += m[j] != 0;
    return j;
}

/* The compensated sum of a span's counted tokens, through the scaled path
 * where a token is huge (as prefloss_sequence_logps does). */
static PREFLOSS_KERNEL_ATTR float prefloss__span_sum(const float *t, const unsigned char *m, size_t len, int *bad)
{
    size_t count;
    int huge;
    prefloss__df sum;
    float value;
    if (len == 0) { *bad = 0; return 0.0f; }
    sum = prefloss__row_sum(t, m, len, &count, bad, &huge);
    value = prefloss__df_round(sum);
    if (!*bad && (huge || !prefloss__finite(value)))
        value = prefloss__row_value_wide(t, m, len, count, PREFLOSS_REDUCE_SUM);
    return value;
}

/* Checks shared by the LD forward and backward. */
static int prefloss__check_ld(float *out, size_t out_n, const float *in, size_t in_n,
                              const unsigned char *mask, const size_t *public_lengths,
                              size_t batch, size_t seq_len, float alpha)
{
    int st;
    if (!(alpha >= 0.0f && alpha <= 1.0f)) return PREFLOSS_ERR_PARAM;
    st = prefloss__check_sequence(out, out_n, in, in_n, mask, batch, seq_len, PREFLOSS_REDUCE_SUM);
    if (st != PREFLOSS_OK || batch == 0) return st;
    if (public_lengths == NULL) return PREFLOSS_ERR_NULL;
    {
        prefloss__range o[1], i[1];
        o[0].p = out; o[0].bytes = out_n * sizeof(float);
        i[0].p = public_lengths; i[0].bytes = batch * sizeof(size_t);
        return prefloss__check_overlap(o, 1, i, 1);
    }
}

PREFLOSS_API int prefloss_sequence_logps_ld(float *seq_logps, const float *token_logps,
                                            const unsigned char *mask,
                                            const size_t *public_lengths, size_t batch,
                                            size_t seq_len, float alpha)
{
    int st, any_bad = 0;
    size_t b;
    st = prefloss__check_ld(seq_logps, batch, token_logps, batch * seq_len, mask, public_lengths,
                            batch, seq_len, alpha);
    if (st != PREFLOSS_OK || batch == 0) return st;
    if (seq_len == 0) { /* empty rows (token_logps may be NULL: no pointer arithmetic) */
        for (b = 0; b < batch; b++) seq_logps[b] = 0.0f;
        return PREFLOSS_OK;
    }
    for (b = 0; b < batch; b++) {
        const float *t = token_logps + b * seq_len;
        const unsigned char *m = mask != NULL ? mask + b * seq_len : NULL;
        size_t split = prefloss__public_end(m, seq_len, public_lengths[b]);
        int bad_pub, bad_verb;
        float pub = prefloss__span_sum(t, m, split, &bad_pub);
        float verb = prefloss__span_sum(t + split, m != NULL ? m + split : NULL, seq_len - split, &bad_verb);
        /* pub + alpha * verb, one rounding of the product's error kept */
        prefloss__df av = prefloss__two_prod(alpha, verb, 0);
        float value = prefloss__df_round(prefloss__df_add_f(av, pub));
        if (bad_pub || bad_verb) { value = prefloss__nan(); any_bad = 1; }
        seq_logps[b] = value;
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_sequence_logps_ld_backward(float *dtoken_logps, const float *dseq_logps,
                                                     const unsigned char *mask,
                                                     const size_t *public_lengths, size_t batch,
                                                     size_t seq_len, float alpha)
{
    int st, any_bad = 0;
    size_t b, j;
    st = prefloss__check_ld(dtoken_logps, batch * seq_len, dseq_logps, batch, mask, public_lengths,
                            batch, seq_len, alpha);
    if (st != PREFLOSS_OK || batch == 0) return st;
    for (b = 0; b < batch; b++) {
        float g = dseq_logps[b];
        if (!prefloss__finite(g)) { g = prefloss__nan(); any_bad = 1; }
        if (seq_len == 0) continue;
        {
            const unsigned char *m = mask != NULL ? mask + b * seq_len : NULL;
            float *dt = dtoken_logps + b * seq_len;
            size_t split = prefloss__public_end(m, seq_len, public_lengths[b]);
            float ga = g * alpha; /* NaN stays NaN, even for alpha = 0 */
            if (m == NULL) {
                for (j = 0; j < split; j++) dt[j] = g;
                for (; j < seq_len; j++) dt[j] = ga;
            } else {
                for (j = 0; j < split; j++) dt[j] = prefloss__select(m[j] != 0, g, 0.0f);
                for (; j < seq_len; j++) dt[j] = prefloss__select(m[j] != 0, ga, 0.0f);
            }
        }
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}
#endif /* PREFLOSS_NO_LD */
