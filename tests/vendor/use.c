/* use.c — a translation unit that only includes prefloss.h (no
 * implementation) and calls every public function once: compiled as C99,
 * C11, C17 and as C++11/17 with strict warnings (-Werror) to check that the
 * declarations are clean in every language mode. Returns 0 on success. */
#include "prefloss.h"

#include <string.h>

int main(void)
{
    float pc[2] = {-100.0f, -50.5f}, pr[2] = {-101.0f, -50.0f};
    float rc[2] = {-100.5f, -50.25f}, rr[2] = {-100.5f, -50.25f};
    float loss[2], dc[2], dr[2], m[2], acc[2];
    float tok[4] = {-1.0f, -2.0f, -3.0f, -4.0f}, seq[2], dtok[4];
    unsigned char mask[4] = {1, 1, 1, 0};
    int bad = 0;
    bad |= strcmp(prefloss_version(), PREFLOSS_VERSION) != 0;
    bad |= prefloss_version_number() != PREFLOSS_VERSION_NUMBER;
    bad |= prefloss_abi_version() != PREFLOSS_ABI_VERSION;
    bad |= prefloss_strerror(PREFLOSS_ERR_NULL) == NULL;
    bad |= prefloss_status_name(PREFLOSS_OK) == NULL;
    bad |= prefloss_dpo_loss(loss, dc, dr, pc, pr, rc, rr, NULL, 2, 0.1f, 0.0f) != PREFLOSS_OK;
    bad |= !(loss[0] > 0.0f && dc[0] < 0.0f && dr[0] == -dc[0]);
    bad |= prefloss_ipo_loss(loss, dc, dr, pc, pr, rc, rr, NULL, 2, 0.1f) != PREFLOSS_OK;
    bad |= prefloss_ipo_general_loss(loss, dc, dr, pc, pr, rc, rr, NULL, 2, 0.1f, 0.0f, 1.0f)
           != PREFLOSS_OK;
    bad |= prefloss_bt_loss(loss, dc, dr, pc, pr, NULL, NULL, 2, 0.01f) != PREFLOSS_OK;
    bad |= prefloss_rewards(loss, dc, m, acc, pc, pr, rc, rr, 2, 0.1f) != PREFLOSS_OK;
    bad |= !(acc[0] == 1.0f && acc[1] == 0.0f);
    bad |= prefloss_sequence_logps(seq, tok, mask, 2, 2, PREFLOSS_REDUCE_SUM) != PREFLOSS_OK;
    bad |= !(seq[0] == -3.0f && seq[1] == -3.0f);
    bad |= prefloss_sequence_logps_backward(dtok, seq, mask, 2, 2, PREFLOSS_REDUCE_MEAN)
           != PREFLOSS_OK;
    bad |= !(dtok[0] == -1.5f && dtok[2] == -3.0f && dtok[3] == 0.0f);
    return bad;
}
