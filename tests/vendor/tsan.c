/* tsan.c — run under ThreadSanitizer (clang -fsanitize=thread) against the
 * default, dispatched build of the implementation: four threads make the
 * library's first calls at the same time (so they race to detect the CPU's
 * features), each over its own buffers, through every kind; then the main
 * thread recomputes each result and compares bit for bit. Prints
 * "tsan: ok" and exits 0 when all agree (a ThreadSanitizer report makes the
 * program exit non-zero by itself). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "prefloss.h"

#define THREADS 4
#define N 1000

typedef struct job {
    float pc[N], pr[N], rc[N], rr[N];
    float loss[N], dc[N], dr[N];
    int status;
} job;

static job jobs[THREADS];
static pthread_barrier_t start;

static int run(job *j, float *loss, float *dc, float *dr)
{
    prefloss_pair_params p;
    int k, st = 0;
    prefloss_pair_params_init(&p, sizeof p);
    st |= prefloss_dpo_loss(loss, dc, dr, j->pc, j->pr, j->rc, j->rr, NULL, N, 0.1f, 0.0f);
    for (k = 0; k < prefloss_loss_kind_count(); k++) {
        float l2[N], c2[N], r2[N];
        size_t i;
        st |= prefloss_pair_loss(l2, c2, r2, j->pc, j->pr, j->rc, j->rr, NULL, NULL, N, k, &p);
        for (i = 0; i < N; i++) { loss[i] += l2[i]; dc[i] += c2[i]; dr[i] += r2[i]; }
    }
    return st;
}

static void *worker(void *arg)
{
    job *j = (job *)arg;
    pthread_barrier_wait(&start);
    j->status = run(j, j->loss, j->dc, j->dr);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    int i, bad = 0;
    size_t e;
    for (i = 0; i < THREADS; i++)
        for (e = 0; e < N; e++) {
            float b = -100.0f - (float)((e * 37u + (size_t)i * 11u) % 900u);
            jobs[i].pc[e] = b + 0.01f * (float)(e % 13u);
            jobs[i].pr[e] = b - 0.5f + 0.02f * (float)(e % 7u);
            jobs[i].rc[e] = b + 0.25f;
            jobs[i].rr[e] = b - 0.25f;
        }
    pthread_barrier_init(&start, NULL, THREADS);
    for (i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, &jobs[i]);
    for (i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (i = 0; i < THREADS; i++) {
        static float loss[N], dc[N], dr[N];
        int st = run(&jobs[i], loss, dc, dr);
        if (st != jobs[i].status || memcmp(loss, jobs[i].loss, sizeof loss) != 0
            || memcmp(dc, jobs[i].dc, sizeof dc) != 0 || memcmp(dr, jobs[i].dr, sizeof dr) != 0) {
            printf("tsan: thread %d's results differ from a second computation\n", i);
            bad = 1;
        }
    }
    if (!bad) printf("tsan: ok\n");
    return bad;
}
