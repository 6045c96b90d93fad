/* ------------------------------------------------------------------------ */
/* Lean builds: families left out at compile time                           */
/*                                                                          */
/* PREFLOSS_NO_CATALOGUE, PREFLOSS_NO_ORPO_KTO, PREFLOSS_NO_AOT,           */
/* PREFLOSS_NO_LD, PREFLOSS_NO_TOKEN (the token stage) and                  */
/* PREFLOSS_NO_PARTIALS (the exact partial sums; prefloss_kto_kl sums       */
/* through them), defined where the implementation is compiled, leave out  */
/* the code of those families. Their public functions stay, so a program   */
/* and the ABI do not change: each returns PREFLOSS_ERR_UNSUPPORTED and     */
/* writes nothing (prefloss_loss_kind_count() gives 0, prefloss_loss_kind_  */
/* name() NULL). PREFLOSS_NO_CATALOGUE implies PREFLOSS_NO_AOT.            */
/* ------------------------------------------------------------------------ */

#ifdef PREFLOSS_NO_CATALOGUE
PREFLOSS_API int prefloss_pair_params_init(prefloss_pair_params *params, size_t size)
{
    (void)params; (void)size;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API const char *prefloss_loss_kind_name(int kind) { (void)kind; return NULL; }
PREFLOSS_API int prefloss_loss_kind_from_name(const char *name)
{
    (void)name;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_loss_kind_count(void) { return 0; }
PREFLOSS_API int prefloss_loss_kind_reads(int kind, const char *field)
{
    (void)kind; (void)field;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_pair_loss(float *losses, float *dchosen, float *drejected,
                                    const float *policy_chosen, const float *policy_rejected,
                                    const float *ref_chosen, const float *ref_rejected,
                                    const float *weights, const float *dlosses, size_t n,
                                    int kind, const prefloss_pair_params *params)
{
    (void)losses; (void)dchosen; (void)drejected; (void)policy_chosen; (void)policy_rejected;
    (void)ref_chosen; (void)ref_rejected; (void)weights; (void)dlosses; (void)n; (void)kind;
    (void)params;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_bco_update_delta(float *delta, float *count,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen, const float *ref_rejected,
                                           size_t n, float beta)
{
    (void)delta; (void)count; (void)policy_chosen; (void)policy_rejected; (void)ref_chosen;
    (void)ref_rejected; (void)n; (void)beta;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_pair_loss_mix(float *losses, float *dchosen, float *drejected,
                                        const float *policy_chosen, const float *policy_rejected,
                                        const float *ref_chosen, const float *ref_rejected,
                                        const float *weights, const float *dlosses, size_t n,
                                        const int *kinds, const float *mix_weights, size_t n_kinds,
                                        const prefloss_pair_params *params)
{
    (void)losses; (void)dchosen; (void)drejected; (void)policy_chosen; (void)policy_rejected;
    (void)ref_chosen; (void)ref_rejected; (void)weights; (void)dlosses; (void)n; (void)kinds;
    (void)mix_weights; (void)n_kinds; (void)params;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_CATALOGUE */

#ifdef PREFLOSS_NO_ORPO_KTO
PREFLOSS_API int prefloss_orpo_loss(float *losses, float *dchosen, float *drejected,
                                    const float *mean_chosen, const float *mean_rejected,
                                    const float *dlosses, size_t n, float lambda, float nll_weight)
{
    (void)losses; (void)dchosen; (void)drejected; (void)mean_chosen; (void)mean_rejected;
    (void)dlosses; (void)n; (void)lambda; (void)nll_weight;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_kto_loss(float *losses, float *dpolicy,
                                   const float *policy_logps, const float *ref_logps,
                                   const unsigned char *desirable, const float *dlosses, size_t n,
                                   float beta, float kl, float desirable_weight,
                                   float undesirable_weight)
{
    (void)losses; (void)dpolicy; (void)policy_logps; (void)ref_logps; (void)desirable;
    (void)dlosses; (void)n; (void)beta; (void)kl; (void)desirable_weight; (void)undesirable_weight;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_kto_kl(float *kl, const float *policy_kl_logps,
                                 const float *ref_kl_logps, size_t n)
{
    (void)kl; (void)policy_kl_logps; (void)ref_kl_logps; (void)n;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_ORPO_KTO */

#ifdef PREFLOSS_NO_AOT
PREFLOSS_API int prefloss_aot_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen, const float *policy_rejected,
                                   const float *ref_chosen, const float *ref_rejected,
                                   const float *dlosses, size_t n, float beta,
                                   float label_smoothing, int paired, size_t *workspace)
{
    (void)losses; (void)dchosen; (void)drejected; (void)policy_chosen; (void)policy_rejected;
    (void)ref_chosen; (void)ref_rejected; (void)dlosses; (void)n; (void)beta;
    (void)label_smoothing; (void)paired; (void)workspace;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_AOT */

#ifdef PREFLOSS_NO_LD
PREFLOSS_API int prefloss_sequence_logps_ld(float *seq_logps, const float *token_logps,
                                            const unsigned char *mask,
                                            const size_t *public_lengths, size_t batch,
                                            size_t seq_len, float alpha)
{
    (void)seq_logps; (void)token_logps; (void)mask; (void)public_lengths; (void)batch;
    (void)seq_len; (void)alpha;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_sequence_logps_ld_backward(float *dtoken_logps, const float *dseq_logps,
                                                     const unsigned char *mask,
                                                     const size_t *public_lengths, size_t batch,
                                                     size_t seq_len, float alpha)
{
    (void)dtoken_logps; (void)dseq_logps; (void)mask; (void)public_lengths; (void)batch;
    (void)seq_len; (void)alpha;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_LD */

#ifdef PREFLOSS_NO_TOKEN
PREFLOSS_API int prefloss_token_logps(float *token_logps, float *lse, const float *logits,
                                      const int32_t *targets, size_t n_tokens, size_t vocab,
                                      size_t row_stride, int32_t ignore_index)
{
    (void)token_logps; (void)lse; (void)logits; (void)targets; (void)n_tokens; (void)vocab; (void)row_stride; (void)ignore_index;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_token_logps_backward(float *dlogits, size_t dlogits_stride,
                                               const float *dtoken_logps, const float *logits,
                                               size_t row_stride, const float *lse,
                                               const int32_t *targets, size_t n_tokens,
                                               size_t vocab, int32_t ignore_index)
{
    (void)dlogits; (void)dlogits_stride; (void)dtoken_logps; (void)logits; (void)row_stride; (void)lse; (void)targets; (void)n_tokens; (void)vocab; (void)ignore_index;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_pair_loss_from_logits_workspace(size_t *workspace_len,
                                                          const size_t *chosen_offsets,
                                                          const size_t *rejected_offsets,
                                                          size_t n_pairs, size_t seq_len)
{
    (void)workspace_len; (void)chosen_offsets; (void)rejected_offsets; (void)n_pairs; (void)seq_len;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_TOKEN */

#ifdef PREFLOSS_NO_PARTIALS
PREFLOSS_API int prefloss_partial_init(prefloss_partial *partial)
{
    (void)partial;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_partial_add(prefloss_partial *partial, const float *values, size_t n)
{
    (void)partial; (void)values; (void)n;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_partial_merge(prefloss_partial *dst, const prefloss_partial *src)
{
    (void)dst; (void)src;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_partial_finish(float *mean, float *sum, long long *count,
                                         const prefloss_partial *partial)
{
    (void)mean; (void)sum; (void)count; (void)partial;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_kto_kl_partial(prefloss_partial *partial, const float *policy_kl_logps,
                                         const float *ref_kl_logps, size_t n)
{
    (void)partial; (void)policy_kl_logps; (void)ref_kl_logps; (void)n;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_kto_kl_finish(float *kl, const prefloss_partial *partial)
{
    (void)kl; (void)partial;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_rewards_partial(prefloss_partial *chosen_rewards,
                                          prefloss_partial *rejected_rewards,
                                          prefloss_partial *margins, prefloss_partial *accuracies,
                                          const float *policy_chosen, const float *policy_rejected,
                                          const float *ref_chosen, const float *ref_rejected,
                                          size_t n, float beta)
{
    (void)chosen_rewards; (void)rejected_rewards; (void)margins; (void)accuracies; (void)policy_chosen; (void)policy_rejected; (void)ref_chosen; (void)ref_rejected; (void)n; (void)beta;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_token_partial(prefloss_partial *partial, const float *token_logps,
                                        const unsigned char *mask, size_t batch, size_t seq_len)
{
    (void)partial; (void)token_logps; (void)mask; (void)batch; (void)seq_len;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_PARTIALS */

/* the fused call needs both the token stage and the catalogue */
#if defined(PREFLOSS_NO_CATALOGUE) || defined(PREFLOSS_NO_TOKEN)
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
    (void)losses; (void)policy_chosen; (void)policy_rejected; (void)dchosen_logits;
    (void)drejected_logits; (void)chosen_logits; (void)rejected_logits; (void)chosen_targets;
    (void)rejected_targets; (void)chosen_offsets; (void)rejected_offsets; (void)ref_chosen;
    (void)ref_rejected; (void)dlosses; (void)n_pairs; (void)seq_len; (void)vocab;
    (void)row_stride; (void)ignore_index; (void)average_log_prob; (void)kind; (void)params;
    (void)workspace; (void)workspace_len;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif
