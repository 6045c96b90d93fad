/*
 * Quick start: DPO, IPO and Bradley–Terry losses, their gradients and the
 * logged rewards for a handful of preference pairs.
 *
 *   make demo-quickstart      (or: cc quickstart.c -lprefloss)
 */
#include <stdio.h>
#include <prefloss.h>

#define N 4

int main(void)
{
    /* Sequence log-probs (sums over response tokens) of policy and reference. */
    const float policy_chosen[N]   = {-120.5f, -87.25f, -1530.0f, -42.0f};
    const float policy_rejected[N] = {-131.0f, -85.5f, -1534.75f, -40.5f};
    const float ref_chosen[N]      = {-121.0f, -88.0f, -1531.5f, -42.25f};
    const float ref_rejected[N]    = {-130.0f, -86.0f, -1533.0f, -41.0f};
    const float beta = 0.1f;
    float losses[N], dchosen[N], drejected[N];
    float rw_chosen[N], rw_rejected[N], margins[N], accuracies[N];
    int i, status;

    printf("libprefloss %s (ABI %d)\n\n", prefloss_version(), prefloss_abi_version());

    status = prefloss_rewards(rw_chosen, rw_rejected, margins, accuracies, policy_chosen,
                              policy_rejected, ref_chosen, ref_rejected, N, beta);
    if (status != PREFLOSS_OK) goto fail;
    printf("rewards (beta = %.1f)\n  pair  chosen   rejected  margin   accuracy\n", (double)beta);
    for (i = 0; i < N; i++)
        printf("  %d   %8.4f %8.4f %8.4f   %.0f\n", i, (double)rw_chosen[i],
               (double)rw_rejected[i], (double)margins[i], (double)accuracies[i]);

    status = prefloss_dpo_loss(losses, dchosen, drejected, policy_chosen, policy_rejected,
                               ref_chosen, ref_rejected, NULL, N, beta, 0.0f);
    if (status != PREFLOSS_OK) goto fail;
    printf("\nDPO  -log sigmoid(beta*h)\n  pair  loss       dL/dpc     dL/dpr\n");
    for (i = 0; i < N; i++)
        printf("  %d   %.6f  %+.6f  %+.6f\n", i, (double)losses[i], (double)dchosen[i],
               (double)drejected[i]);

    status = prefloss_ipo_loss(losses, dchosen, drejected, policy_chosen, policy_rejected,
                               ref_chosen, ref_rejected, NULL, N, beta);
    if (status != PREFLOSS_OK) goto fail;
    printf("\nIPO  (h - 1/(2 beta))^2\n  pair  loss        dL/dpc      dL/dpr\n");
    for (i = 0; i < N; i++)
        printf("  %d   %10.4f  %+10.4f  %+10.4f\n", i, (double)losses[i], (double)dchosen[i],
               (double)drejected[i]);

    /* A reward model's scores for the preferred and the other response. */
    {
        const float score_chosen[N] = {1.5f, 0.25f, -0.5f, 3.0f};
        const float score_rejected[N] = {0.5f, 0.75f, -2.0f, 3.0f};
        status = prefloss_bt_loss(losses, dchosen, drejected, score_chosen, score_rejected,
                                  NULL, NULL, N, 0.0f);
        if (status != PREFLOSS_OK) goto fail;
        printf("\nBradley-Terry  -log sigmoid(sw - sl)\n  pair  loss       dL/dsw     dL/dsl\n");
        for (i = 0; i < N; i++)
            printf("  %d   %.6f  %+.6f  %+.6f\n", i, (double)losses[i], (double)dchosen[i],
                   (double)drejected[i]);
    }
    return 0;

fail:
    fprintf(stderr, "prefloss: %s\n", prefloss_strerror(status));
    return 1;
}
