/* prefloss_pair_loss_mix: a weighted sum of catalogue kinds in one call
 * (MPO style), every kind through the registry's evaluation. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

PREFLOSS_API int prefloss_pair_loss_mix(float *losses, float *dchosen, float *drejected,
                                        const float *policy_chosen, const float *policy_rejected,
                                        const float *ref_chosen, const float *ref_rejected,
                                        const float *weights, const float *dlosses, size_t n,
                                        const int *kinds, const float *mix_weights, size_t n_kinds,
                                        const prefloss_pair_params *params)
{
    float t_loss[PREFLOSS__SCRATCH], t_dc[PREFLOSS__SCRATCH], t_dr[PREFLOSS__SCRATCH];
    prefloss_pair_params p;
    prefloss__cat c;
    int st, bad = 0;
    size_t i, k, len;
    st = prefloss__read_params(params, &p);
    if (st != PREFLOSS_OK) return st;
    if (n_kinds > 0 && (kinds == NULL || mix_weights == NULL)) return PREFLOSS_ERR_NULL;
    for (k = 0; k < n_kinds; k++) { /* every kind and weight checked before anything is written */
        st = prefloss__prepare_catalogue(kinds[k], &p, &c);
        if (st != PREFLOSS_OK) return st;
        if (!prefloss__finite(mix_weights[k])) return PREFLOSS_ERR_PARAM;
    }
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st == PREFLOSS_OK && weights != NULL) {
        prefloss__range out[3], in[1];
        out[0].p = losses; out[1].p = dchosen; out[2].p = drejected;
        out[0].bytes = out[1].bytes = out[2].bytes = n * sizeof(float);
        in[0].p = weights; in[0].bytes = n * sizeof(float);
        st = prefloss__check_overlap(out, 3, in, 1);
    }
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += len) {
        size_t j;
        len = n - i < PREFLOSS__SCRATCH ? n - i : PREFLOSS__SCRATCH;
        for (j = 0; j < len; j++) {
            if (losses != NULL) losses[i + j] = 0.0f;
            if (dchosen != NULL) dchosen[i + j] = 0.0f;
            if (drejected != NULL) drejected[i + j] = 0.0f;
        }
        for (k = 0; k < n_kinds; k++) {
            /* the mix weight goes in with the per-pair weights (a zero weight
             * gives 0, never 0 * inf; NaN stays) */
            (void)prefloss__prepare_catalogue(kinds[k], &p, &c); /* checked above */
            bad |= prefloss__pair_loss_eval(t_loss, t_dc, t_dr, policy_chosen + i, policy_rejected + i,
                                            ref_chosen != NULL ? ref_chosen + i : NULL,
                                            ref_rejected != NULL ? ref_rejected + i : NULL,
                                            weights != NULL ? weights + i : NULL,
                                            dlosses != NULL ? dlosses + i : NULL, len, kinds[k], &c,
                                            mix_weights[k]);
            for (j = 0; j < len; j++) {
                /* terms that overflowed with opposite signs: the earlier sum's
                 * infinity is kept (never NaN) */
                if (losses != NULL) losses[i + j] = prefloss__add_keep(losses[i + j], t_loss[j]);
                if (dchosen != NULL) dchosen[i + j] = prefloss__add_keep(dchosen[i + j], t_dc[j]);
                if (drejected != NULL) drejected[i + j] = prefloss__add_keep(drejected[i + j], t_dr[j]);
            }
        }
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

#endif /* PREFLOSS_NO_CATALOGUE */
