/* Chunked drivers: substitute defaults for NULL pointers, chunk by chunk   */
/* ------------------------------------------------------------------------ */

/* The pointer for elements [i, i + len) of an optional input, or a block of
 * defaults. */

/* How many elements from i the next kernel call may take. */
static size_t prefloss__step(size_t n, size_t i, int input_default, int output_scratch)
{
    size_t len = n - i;
    if (input_default && len > PREFLOSS__CHUNK) len = PREFLOSS__CHUNK;
    if (output_scratch && len > PREFLOSS__SCRATCH) len = PREFLOSS__SCRATCH;
    return len;
}

/* Runs a loss kernel over [0, n). c may be NULL (zeros), d may be NULL
 * (zeros; for Bradley–Terry, which never reads d, it is always NULL) and
 * dlosses may be NULL (ones). */
static PREFLOSS_KERNEL_ATTR int prefloss__run_pairwise(prefloss__kernel_fn kernel, const prefloss__kparams *kp,
                                  float *losses, float *dchosen, float *drejected,
                                  const float *a, const float *b,
                                  const float *c, const float *d,
                                  const float *dlosses, size_t n)
{
#if PREFLOSS__WIDE
    /* the wide kernels take the NULLs themselves, in one call */
    return kernel(losses, dchosen, drejected, a, b, c, d, dlosses, n, kp) ? PREFLOSS_NONFINITE
                                                                          : PREFLOSS_OK;
#else
    float s_loss[PREFLOSS__SCRATCH], s_dc[PREFLOSS__SCRATCH], s_dr[PREFLOSS__SCRATCH];
    int bad = 0;
    int in_dflt = c == NULL || d == NULL || dlosses == NULL;
    int out_scr = losses == NULL || dchosen == NULL || drejected == NULL;
    size_t i, len;
    for (i = 0; i < n; i += len) {
        len = prefloss__step(n, i, in_dflt, out_scr);
        bad |= kernel(PREFLOSS__OUT(losses, i, s_loss), PREFLOSS__OUT(dchosen, i, s_dc),
                      PREFLOSS__OUT(drejected, i, s_dr), a + i, b + i,
                      PREFLOSS__IN(c, i, prefloss__zeros), PREFLOSS__IN(d, i, prefloss__zeros),
                      PREFLOSS__IN(dlosses, i, prefloss__ones), len, kp);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
#endif
}

/* ------------------------------------------------------------------------ */
