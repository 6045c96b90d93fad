/* "sigmoid" (DPO, cDPO) and "ipo" in prefloss_pair_loss(): the dedicated
 * kernels of prefloss_dpo_loss() and prefloss_ipo_loss() over the whole
 * batch, then the NLL term and the weights. (Their gradients never
 * underflow before the weights, so applying those afterwards loses
 * nothing; the catalogue kernels apply them inside, see
 * prefloss__cat_loss_out.) */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* The NLL term of the dedicated DPO and IPO kernels (the catalogue kernels
 * add it themselves), applied before the weights: loss_i += lambda (-pc_i),
 * dchosen_i += -lambda dlosses_i (prefloss__add_keep where both overflow). */
static PREFLOSS_KERNEL_ATTR void prefloss__apply_nll(float *losses, float *dc, const float *pc, const float *up,
                                size_t n, float lambda)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float u = up != NULL ? up[i] : 1.0f;
        if (losses != NULL) losses[i] = prefloss__add_keep(losses[i], prefloss__times_up(-pc[i], lambda));
        if (dc != NULL) dc[i] = prefloss__add_keep(dc[i], prefloss__times_up(-lambda, u));
    }
}

/* Per-pair weights w (NULL for 1) and the mix weight s, applied after the
 * dedicated DPO and IPO kernels (the catalogue kernels apply them
 * themselves): every output of pair i times w_i s; a non-finite weight
 * makes the pair NaN. */
static PREFLOSS_KERNEL_ATTR int prefloss__apply_weights(float *losses, float *dc, float *dr, const float *w, float s, size_t n)
{
    uint32_t bad_bits = 0; /* the OR of every bad (prefloss__bits_has_nan) */
    size_t i;
    for (i = 0; i < n; i++) {
        float wi = w != NULL ? w[i] : 1.0f, bad = prefloss__nan_if_nonfinite(wi);
        if (losses != NULL) losses[i] = prefloss__weighted(prefloss__weighted(losses[i], wi), s) + bad;
        if (dc != NULL) dc[i] = prefloss__weighted(prefloss__weighted(dc[i], wi), s) + bad;
        if (dr != NULL) dr[i] = prefloss__weighted(prefloss__weighted(dr[i], wi), s) + bad;
        bad_bits |= prefloss__float_to_bits(bad);
    }
    return prefloss__bits_has_nan(bad_bits);
}

/* The registry's whole-batch kernels (PREFLOSS__KIND_WHOLE): the caller's
 * pointers, NULL-able as in prefloss_pair_loss(). */
static PREFLOSS_KERNEL_ATTR int prefloss__k_sigmoid(PREFLOSS__CAT_ARGS)
{
    int bad = prefloss_dpo_loss(loss, dc, dr, pc, pr, rc, rr, up, n, params->beta, params->eps)
           == PREFLOSS_NONFINITE;
    if (params->nll != 0.0f) prefloss__apply_nll(loss, dc, pc, up, n, params->nll);
    if (w != NULL || s != 1.0f) bad |= prefloss__apply_weights(loss, dc, dr, w, s, n);
    return bad;
}

static PREFLOSS_KERNEL_ATTR int prefloss__k_ipo(PREFLOSS__CAT_ARGS)
{
    int bad = prefloss_ipo_loss(loss, dc, dr, pc, pr, rc, rr, up, n, params->beta)
           == PREFLOSS_NONFINITE;
    if (params->nll != 0.0f) prefloss__apply_nll(loss, dc, pc, up, n, params->nll);
    if (w != NULL || s != 1.0f) bad |= prefloss__apply_weights(loss, dc, dr, w, s, n);
    return bad;
}

#endif /* PREFLOSS_NO_CATALOGUE */
