/*
 * tests/threads/threads.c — 8 threads call every entry point at once for
 * THREADS_SECONDS (default 3), on their own output buffers and on shared
 * read-only inputs; every result must be bit-identical to the single-thread
 * run made first. Built normally and with -fsanitize=thread (threads.mk).
 * The 1.1 entry points (every catalogue kind, the mixture, ORPO, KTO, its KL
 * estimate and BCO's running mean) are part of every round.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "prefloss.h"

#define NT 8
#define N 777
#define B 16
#define T 61
#define NOUT 59 /* output buffers of one round */
#define NST 32  /* statuses of one round */

static float PC[N], PR[N], RC[N], RR[N], UP[N], WT[N], TOK[B * T], DSEQ[B];
static unsigned char MASK[B * T], DES[N];
static prefloss_pair_params PP;
static const int MIXK[3] = {PREFLOSS_LOSS_SIGMOID, PREFLOSS_LOSS_BCO_PAIR, PREFLOSS_LOSS_DISCOPOP};
static const float MIXW[3] = {1.0f, 0.5f, -0.25f};
static float GOLD[NOUT][B * T > N ? B * T : N];
static int GOLD_ST[NST];
static double SECONDS = 3.0;

static int round_(float (*o)[B * T > N ? B * T : N], int *st)
{
    int k = 0;
    st[k++] = prefloss_dpo_loss(o[0], o[1], o[2], PC, PR, RC, RR, UP, N, 0.1f, 0.0f);
    st[k++] = prefloss_dpo_loss(o[3], o[4], o[5], PC, PR, NULL, NULL, NULL, N, 0.5f, 0.2f);
    st[k++] = prefloss_ipo_loss(o[6], o[7], NULL, PC, PR, RC, RR, UP, N, 0.1f);
    st[k++] = prefloss_ipo_general_loss(o[8], NULL, o[9], PC, PR, RC, RR, NULL, N, 0.2f, 0.0f, 1.0f);
    st[k++] = prefloss_bt_loss(o[10], o[11], o[12], PC, PR, RC, UP, N, 0.01f);
    st[k++] = prefloss_rewards(o[13], o[14], o[15], o[16], PC, PR, RC, RR, N, 0.1f);
    st[k++] = prefloss_sequence_logps(o[17], TOK, MASK, B, T, PREFLOSS_REDUCE_MEAN);
    st[k++] = prefloss_sequence_logps_backward(o[18], DSEQ, MASK, B, T, PREFLOSS_REDUCE_SUM);
    st[k++] = prefloss_strerror(st[0])[0] != 0;
    st[k++] = prefloss_status_name(st[1]) != NULL;
    st[k++] = prefloss_version_number();
    st[k++] = prefloss_abi_version();
    /* 1.1: every catalogue kind (per-pair weights on odd kinds, reference-free
     * on every third), the mixture, ORPO, KTO and its KL, BCO's running mean */
    {
        int kind, j = 19;
        for (kind = 0; kind < 15; kind++, j += 2)
            st[k++] = prefloss_pair_loss(o[j], o[j + 1], kind % 4 == 0 ? NULL : o[j + 1] + N / 2 + 1,
                                         PC, PR, kind % 3 ? RC : NULL, kind % 3 ? RR : NULL,
                                         kind % 2 ? WT : NULL, UP, kind % 4 == 0 ? N : N / 2, kind, &PP);
        st[k++] = prefloss_pair_loss_mix(o[49], o[50], o[51], PC, PR, RC, RR, WT, UP, N, MIXK, MIXW, 3, &PP);
        st[k++] = prefloss_orpo_loss(o[52], o[53], o[54], PC, PR, UP, N, 0.1f, 1.0f);
        st[k++] = prefloss_kto_loss(o[55], o[56], PC, RC, DES, UP, N, 0.1f, 0.2f, 1.0f, 1.33f);
        st[k++] = prefloss_kto_kl(o[57], PC, RR, N);
        o[58][0] = 0.25f;
        o[58][1] = 12.0f;
        st[k++] = prefloss_bco_update_delta(&o[58][0], &o[58][1], PC, PR, RC, RR, N, 0.1f);
    }
    return k;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *worker(void *arg)
{
    long *rounds = arg, bad = 0;
    float (*o)[B * T > N ? B * T : N] = malloc(sizeof GOLD);
    int st[NST], k;
    double end = now() + SECONDS;
    do {
        memset(o, 0xEE, sizeof GOLD);
        round_(o, st);
        for (k = 0; k < NST; k++) bad += st[k] != GOLD_ST[k];
        for (k = 0; k < NOUT; k++) bad += memcmp(o[k], GOLD[k], sizeof GOLD[k]) != 0;
        ++*rounds;
    } while (now() < end);
    free(o);
    if (bad) *rounds = -bad;
    return NULL;
}

int main(void)
{
    pthread_t th[NT];
    long rounds[NT], total = 0;
    int i, fails = 0;
    const char *s = getenv("THREADS_SECONDS");
    unsigned long long x = 12345;
    if (s) SECONDS = atof(s);
    for (i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        PC[i] = -(float)(x >> 40) / 1e4f;
        PR[i] = PC[i] + (float)((x >> 20) % 2001) / 100.0f - 10.0f;
        RC[i] = PC[i] + (float)((x >> 8) % 301) / 100.0f - 1.5f;
        RR[i] = PR[i] - (float)((x >> 30) % 301) / 100.0f + 1.5f;
        UP[i] = (float)(i % 5) / 4.0f;
        WT[i] = 0.5f + (float)(i % 3) * 0.25f;
        DES[i] = (unsigned char)(i % 3 != 0);
    }
    prefloss_pair_params_init(&PP, sizeof PP);
    PP.label_smoothing = 0.1f;
    PP.bco_delta = 0.3f;
    PP.nll_weight = 0.05f;
    PC[5] = 1.0f / 0.0f; /* one non-finite pair: the NONFINITE path too */
    for (i = 0; i < B * T; i++) { TOK[i] = -(float)(i % 97) / 7.0f; MASK[i] = (unsigned char)(i % 11 != 0); }
    for (i = 0; i < B; i++) DSEQ[i] = (float)i - 7.5f;
    memset(GOLD, 0xEE, sizeof GOLD);
    if (round_(GOLD, GOLD_ST) != NST) { fprintf(stderr, "threads: NST is wrong\n"); return 1; }
    for (i = 12; i < NST; i++)
        if (GOLD_ST[i] < 0) { fprintf(stderr, "threads: call %d of a round returned %d\n", i, GOLD_ST[i]); return 1; }
    for (i = 0; i < NT; i++) {
        rounds[i] = 0;
        if (pthread_create(&th[i], NULL, worker, &rounds[i])) { perror("pthread_create"); return 1; }
    }
    for (i = 0; i < NT; i++) pthread_join(th[i], NULL);
    for (i = 0; i < NT; i++) {
        if (rounds[i] <= 0) { fails++; fprintf(stderr, "threads: thread %d: %ld mismatches\n", i, -rounds[i]); }
        else total += rounds[i];
    }
    printf("threads: %d threads, %ld rounds of every entry point in %.1f s, %d threads with mismatches\n",
           NT, total, SECONDS, fails);
    return fails != 0;
}
