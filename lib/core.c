/* Public entry points                                                      */
/* ------------------------------------------------------------------------ */

PREFLOSS_API const char *prefloss_version(void) { return PREFLOSS_VERSION; }
PREFLOSS_API int prefloss_version_number(void) { return PREFLOSS_VERSION_NUMBER; }
PREFLOSS_API int prefloss_abi_version(void) { return PREFLOSS_ABI_VERSION; }

PREFLOSS_API const char *prefloss_strerror(int status)
{
    switch (status) {
    case PREFLOSS_OK: return "success";
    case PREFLOSS_NONFINITE: return "done, but some inputs were not finite (those samples are NaN)";
    case PREFLOSS_ERR_NULL: return "a required pointer is NULL (or only one reference pointer is)";
    case PREFLOSS_ERR_PARAM: return "a parameter is out of range";
    case PREFLOSS_ERR_OVERLAP: return "an output buffer overlaps an input or another output";
    case PREFLOSS_ERR_SIZE: return "a buffer size overflows size_t";
    case PREFLOSS_ERR_ROUNDING: return "the floating-point rounding mode is not round-to-nearest";
    case PREFLOSS_ERR_UNSUPPORTED: return "this function's family was left out of this build";
    default: return "unknown status code";
    }
}

PREFLOSS_API const char *prefloss_status_name(int status)
{
    switch (status) {
    case PREFLOSS_OK: return "PREFLOSS_OK";
    case PREFLOSS_NONFINITE: return "PREFLOSS_NONFINITE";
    case PREFLOSS_ERR_NULL: return "PREFLOSS_ERR_NULL";
    case PREFLOSS_ERR_PARAM: return "PREFLOSS_ERR_PARAM";
    case PREFLOSS_ERR_OVERLAP: return "PREFLOSS_ERR_OVERLAP";
    case PREFLOSS_ERR_SIZE: return "PREFLOSS_ERR_SIZE";
    case PREFLOSS_ERR_ROUNDING: return "PREFLOSS_ERR_ROUNDING";
    case PREFLOSS_ERR_UNSUPPORTED: return "PREFLOSS_ERR_UNSUPPORTED";
    default: return NULL;
    }
}

PREFLOSS_API int prefloss_dpo_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen, const float *policy_rejected,
                                   const float *ref_chosen, const float *ref_rejected,
                                   const float *dlosses, size_t n, float beta,
                                   float label_smoothing)
{
    int st;
    if (!prefloss__beta_ok(beta) || !(label_smoothing >= 0.0f && label_smoothing <= 0.5f))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st != PREFLOSS_OK) return st;
    {
        int fma = prefloss__cpu_fma();
        prefloss__kparams kp = prefloss__kparams_zero();
        kp.beta = beta;
        kp.eps = label_smoothing;
        return prefloss__run_pairwise(label_smoothing > 0.0f ? PREFLOSS__PICK(prefloss__cdpo_kernel, fma)
                                                             : PREFLOSS__PICK(prefloss__dpo_kernel, fma),
                                      &kp, losses, dchosen, drejected, policy_chosen,
                                      policy_rejected, ref_chosen, ref_rejected, dlosses, n);
    }
}

PREFLOSS_API int prefloss_ipo_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen, const float *policy_rejected,
                                   const float *ref_chosen, const float *ref_rejected,
                                   const float *dlosses, size_t n, float beta)
{
    int st;
    prefloss__df offset;
    if (!prefloss__beta_ok(beta)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st != PREFLOSS_OK) return st;
    /* 1/(2 beta) as a double-float: c + (1 - 2 beta c)/(2 beta) */
    {
        float c = 0.5f / beta;
        prefloss__df p = prefloss__two_prod(c, beta, 0);
        offset = prefloss__df_make(c, (((0.5f - p.hi) - p.lo) / beta));
    }
    {
        prefloss__kparams kp = prefloss__kparams_zero();
        kp.scale = 1.0f;
        kp.offset = offset;
        kp.gscale = 1.0f;
        return prefloss__run_pairwise(PREFLOSS__PICK(prefloss__ipo_kernel, prefloss__cpu_fma()),
                                      &kp, losses, dchosen, drejected, policy_chosen,
                                      policy_rejected, ref_chosen, ref_rejected, dlosses, n);
    }
}

PREFLOSS_API int prefloss_ipo_general_loss(float *losses, float *dchosen, float *drejected,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen, const float *ref_rejected,
                                           const float *dlosses, size_t n, float beta,
                                           float alpha1, float alpha2)
{
    int st;
    prefloss__df half_width;
    if (!prefloss__beta_ok(beta) || !prefloss__finite(alpha1) || !prefloss__finite(alpha2)
        || !(alpha1 <= alpha2) || !prefloss__finite(alpha2 - alpha1))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st != PREFLOSS_OK) return st;
    /* (alpha2 - alpha1)/2 exactly: only the exact difference enters the loss */
    half_width = prefloss__two_sum(alpha2, -alpha1);
    half_width.hi *= 0.5f;
    half_width.lo *= 0.5f;
    {
        prefloss__kparams kp = prefloss__kparams_zero();
        kp.scale = beta;
        kp.offset = half_width;
        kp.gscale = beta;
        return prefloss__run_pairwise(PREFLOSS__PICK(prefloss__ipo_kernel, prefloss__cpu_fma()),
                                      &kp, losses, dchosen, drejected, policy_chosen,
                                      policy_rejected, ref_chosen, ref_rejected, dlosses, n);
    }
}

PREFLOSS_API int prefloss_bt_loss(float *losses, float *dscore_chosen, float *dscore_rejected,
                                  const float *score_chosen, const float *score_rejected,
                                  const float *margins, const float *dlosses, size_t n,
                                  float center_coef)
{
    int st, fma;
    prefloss__kparams kp = prefloss__kparams_zero();
    if (!(center_coef >= 0.0f && center_coef <= FLT_MAX)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dscore_chosen, dscore_rejected, NULL,
                                  score_chosen, score_rejected, margins, NULL, dlosses, 0);
    if (st != PREFLOSS_OK) return st;
    fma = prefloss__cpu_fma();
    kp.beta = 1.0f;
    if (center_coef > 0.0f) {
        kp.center = center_coef;
        return prefloss__run_pairwise(PREFLOSS__PICK(prefloss__bt_centered_kernel, fma), &kp,
                                      losses, dscore_chosen, dscore_rejected, score_chosen,
                                      score_rejected, margins, NULL, dlosses, n);
    }
    /* without centering it is DPO's loss with beta = 1 on
     * (pc, rc, pr, rr) = (sw, m, sl, 0): (sw - m) - (sl - 0) = sw - sl - m,
     * and DPO's gradients (g, -g) are dloss/dsw and dloss/dsl */
    return prefloss__run_pairwise(PREFLOSS__PICK(prefloss__dpo_kernel, fma), &kp, losses,
                                  dscore_chosen, dscore_rejected, score_chosen, score_rejected,
                                  margins, NULL, dlosses, n);
}

PREFLOSS_API int prefloss_rewards(float *chosen_rewards, float *rejected_rewards,
                                  float *margins, float *accuracies,
                                  const float *policy_chosen, const float *policy_rejected,
                                  const float *ref_chosen, const float *ref_rejected,
                                  size_t n, float beta)
{
    float s0[PREFLOSS__SCRATCH], s1[PREFLOSS__SCRATCH], s2[PREFLOSS__SCRATCH], s3[PREFLOSS__SCRATCH];
    int st, bad = 0;
    size_t i, len;
    if (!prefloss__beta_ok(beta)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, chosen_rewards, rejected_rewards, margins, accuracies,
                                  policy_chosen, policy_rejected, ref_chosen, ref_rejected,
                                  NULL, 1);
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += len) {
        len = prefloss__step(n, i, ref_chosen == NULL,
                             chosen_rewards == NULL || rejected_rewards == NULL
                             || margins == NULL || accuracies == NULL);
        bad |= prefloss__rewards_kernel(PREFLOSS__OUT(chosen_rewards, i, s0),
                                        PREFLOSS__OUT(rejected_rewards, i, s1),
                                        PREFLOSS__OUT(margins, i, s2),
                                        PREFLOSS__OUT(accuracies, i, s3),
                                        policy_chosen + i, policy_rejected + i,
                                        PREFLOSS__IN(ref_chosen, i, prefloss__zeros),
                                        PREFLOSS__IN(ref_rejected, i, prefloss__zeros),
                                        len, beta);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* ------------------------------------------------------------------------ */
