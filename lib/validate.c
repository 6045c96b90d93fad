/* Argument validation: everything is checked before anything is written    */
/* ------------------------------------------------------------------------ */


/* A byte range [p, p + bytes). */
typedef struct prefloss__range { const void *p; size_t bytes; } prefloss__range;

static int prefloss__ranges_overlap(prefloss__range a, prefloss__range b)
{
    uintptr_t a0 = (uintptr_t)a.p, b0 = (uintptr_t)b.p;
    if (a.p == NULL || b.p == NULL || a.bytes == 0 || b.bytes == 0) return 0;
    return a0 < b0 + b.bytes && b0 < a0 + a.bytes;
}

/* Whether the rounding mode is round-to-nearest: 1 + 2^-26 and 1 - 2^-26
 * round to 1 only then (upward gives 1 + 2^-23, downward and toward zero
 * 1 - 2^-24). The operands are read through volatile so the sums happen at
 * run time, in the caller's mode. The error-free transformations (TwoSum,
 * TwoProd) hold only under round-to-nearest. */
static int prefloss__rounding_ok(void)
{
    volatile float one = 1.0f, tiny = 1.490116119384765625e-8f; /* 2^-26 */
    float up = one + tiny, down = one - tiny;
    return up == 1.0f && down == 1.0f;
}

/* PREFLOSS_ERR_OVERLAP if any output overlaps an input or another output;
 * then PREFLOSS_ERR_ROUNDING if the rounding mode is not to-nearest (every
 * entry point that computes passes here after its other checks). */
static int prefloss__check_overlap(const prefloss__range *out, int n_out,
                                   const prefloss__range *in, int n_in)
{
    int i, j;
    for (i = 0; i < n_out; i++) {
        for (j = 0; j < n_in; j++)
            if (prefloss__ranges_overlap(out[i], in[j])) return PREFLOSS_ERR_OVERLAP;
        for (j = i + 1; j < n_out; j++)
            if (prefloss__ranges_overlap(out[i], out[j])) return PREFLOSS_ERR_OVERLAP;
    }
    return prefloss__rounding_ok() ? PREFLOSS_OK : PREFLOSS_ERR_ROUNDING;
}

/* beta: a finite, normal, positive float (so that 1/(2 beta) is finite). */
static int prefloss__beta_ok(float beta) { return beta >= FLT_MIN && beta <= FLT_MAX; }
static int prefloss__finite(float x) { return x - x == 0.0f; }

/* Checks shared by every pairwise entry point: n's byte size, the required
 * pointers, the both-or-neither reference pair, and overlaps of the three
 * outputs with the (up to five) inputs. */
static int prefloss__check_pairwise(size_t n,
                                    float *o1, float *o2, float *o3, float *o4,
                                    const float *a, const float *b,
                                    const float *c, const float *d,
                                    const float *e, int c_d_both_or_neither)
{
    size_t bytes;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (a == NULL || b == NULL) return PREFLOSS_ERR_NULL;
    if (c_d_both_or_neither && ((c == NULL) != (d == NULL))) return PREFLOSS_ERR_NULL;
    bytes = n * sizeof(float);
    {
        prefloss__range out[4], in[5];
        out[0].p = o1; out[1].p = o2; out[2].p = o3; out[3].p = o4;
        in[0].p = a; in[1].p = b; in[2].p = c; in[3].p = d; in[4].p = e;
        out[0].bytes = out[1].bytes = out[2].bytes = out[3].bytes = bytes;
        in[0].bytes = in[1].bytes = in[2].bytes = in[3].bytes = in[4].bytes = bytes;
        return prefloss__check_overlap(out, 4, in, 5);
    }
}

/* ------------------------------------------------------------------------ */
