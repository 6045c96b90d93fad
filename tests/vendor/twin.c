/* A second private copy of libprefloss in the same program (PREFLOSS_STATIC:
 * every function is static, nothing is exported), reached through two
 * wrappers. vectors.c, built with its own private copy, checks that the two
 * copies agree. */
#define PREFLOSS_STATIC
#define PREFLOSS_IMPLEMENTATION
#include "prefloss.h"

int twin_dpo_loss(float *losses, float *dchosen, float *drejected, const float *pc,
                  const float *pr, const float *rc, const float *rr, const float *up,
                  size_t n, float beta, float eps);
const char *twin_version(void);

int twin_dpo_loss(float *losses, float *dchosen, float *drejected, const float *pc,
                  const float *pr, const float *rc, const float *rr, const float *up,
                  size_t n, float beta, float eps)
{
    return prefloss_dpo_loss(losses, dchosen, drejected, pc, pr, rc, rr, up, n, beta, eps);
}

const char *twin_version(void) { return prefloss_version(); }
