/*
 * train_mpi.c — data-parallel preference training with OpenMPI and
 * libprefloss, equal to one process on the concatenated batch.
 *
 * The model is a bigram language model over a vocabulary of V tokens (a
 * V x V table of logits, the row picked by the previous token): a policy
 * that gives every completion a sequence log-prob, which is all a
 * preference loss needs. The reference model is the initial table. Each
 * step takes a global batch of B pairs; rank r takes a share of it (the
 * shares may be unequal and may be 0), computes its pairs with the library
 * (token log-probs -> prefloss_sequence_logps -> DPO / IPO / KTO ->
 * backward), and the ranks all-reduce:
 *
 *   - the gradient, with upstream gradient 1/global_count for every sample;
 *   - the (sum, count) partials of the batch means: the loss, the reward
 *     metrics, and for KTO the KL baseline (which every rank needs before
 *     its losses, so KTO reduces twice per step).
 *
 * --reduce exact (default): every reduced quantity is a prefloss_partial,
 *     the gradient included (each sample's contribution to each parameter
 *     is added exactly), so the whole step is ONE MPI_Allreduce of 64-bit
 *     integers and training is bitwise the same for every world size and
 *     split: max_rel_diff_vs_single is 0.
 * --reduce float: the gradient is summed in float on each rank and
 *     all-reduced as floats (what NCCL and gloo do); the batch means are
 *     still exact partials. Equal up to the rounding of the gradient sums.
 * --reduce naive: the common mistake: each rank takes the mean of its own
 *     samples (and its own KL), and the ranks average: wrong as soon as the
 *     shards are unequal.
 *
 * Rank 0 also trains alone on the concatenated batches, with exact sums
 * (the reference), and compares per-step losses, metrics and gradients and the final parameters;
 * it prints, per loss,
 *
 *   DIST engine=mpi world=K loss=dpo steps=S pairs=N max_rel_diff_vs_single=X
 *
 * with X the largest relative difference: |a-b|/|b| for a scalar,
 * max|a-b|/max|b| for a vector (0 where b is 0 and a equals it). The exit
 * status is 1 when X exceeds --bound (default 0) for any loss.
 *
 * --input logps (default): the example forms the token log-probs itself
 *     (a log-softmax in double) and the gradient of the table from the
 *     sequence gradients the library returns.
 * --input logits: the library starts from the logits. Each rank lays out
 *     the logits of its tokens (one row of V per token: the table's row of
 *     the previous token) with their target ids, padded to LMAX rows per
 *     sequence (ignore_index past the end). DPO and IPO are one call of
 *     prefloss_pair_loss_from_logits, the gradient written over the logits
 *     in place; KTO is prefloss_token_logps -> prefloss_sequence_logps ->
 *     prefloss_kto_loss -> the two backwards, prefloss_token_logps_backward
 *     in place. The rank then adds each row's gradient into the table's row
 *     it came from (exact partials, or float sums with --reduce float):
 *     the reduction is the same as from log-probs.
 *
 *   mpirun -np 3 build/examples/train_mpi --shares 2,0,1 [--reduce exact|float|naive]
 *          [--input logps|logits] [--steps S] [--batch B] [--pairs N] [--bound X] [--quiet]
 */
#include <mpi.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefloss.h"

#define V 6                 /* vocabulary */
#define P (V * V)           /* parameters */
#define LMAX 8              /* longest completion */
#define MAX_WORLD 64
#define MAX_BATCH 4096

enum { LOSS_DPO, LOSS_IPO, LOSS_KTO, N_LOSSES };
static const char *const loss_name[N_LOSSES] = { "dpo", "ipo", "kto" };
enum { REDUCE_EXACT, REDUCE_FLOAT, REDUCE_NAIVE };
enum { M_CHOSEN, M_REJECTED, M_MARGIN, M_ACCURACY, N_METRICS };

enum { INPUT_LOGPS, INPUT_LOGITS };
#define IGNORE_INDEX (-100)

typedef struct {
    int steps, batch, npairs, reduce, input, quiet;
    float beta, lr;
    double bound;
} config;

/* What one training run records, to compare with the reference. */
typedef struct {
    float *loss;            /* (steps) */
    float *metric;          /* (steps, N_METRICS) */
    float *grad;            /* (steps, P) */
    float kl_last;
    float param[P];
} record;

/* ------------------------------------------------------------------------ */
/* Data: every pair is a pure function of its global index                  */
/* ------------------------------------------------------------------------ */

typedef struct { int prompt, len[2], tok[2][LMAX]; } pair_t;   /* [0] chosen, [1] rejected */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A completion is better the more of its tokens follow the prompt's
 * "favourite" successor chain t -> (t + 1) mod V. */
static pair_t make_pair(int g)
{
    pair_t p;
    int s, t, score[2];
    uint64_t h = mix64((uint64_t)g * 7919u + 17u);
    p.prompt = (int)(h % V);
    for (s = 0; s < 2; s++) {
        int prev = p.prompt;
        h = mix64(h);
        p.len[s] = 3 + (int)(h % (LMAX - 2));
        score[s] = 0;
        for (t = 0; t < p.len[s]; t++) {
            h = mix64(h);
            p.tok[s][t] = (h % 3 == 0) ? (prev + 1) % V : (int)((h >> 8) % V);
            score[s] += p.tok[s][t] == (prev + 1) % V;
            prev = p.tok[s][t];
        }
    }
    if (score[1] > score[0]) {   /* put the better completion first */
        pair_t q = p;
        q.len[0] = p.len[1]; q.len[1] = p.len[0];
        memcpy(q.tok[0], p.tok[1], sizeof q.tok[0]);
        memcpy(q.tok[1], p.tok[0], sizeof q.tok[1]);
        p = q;
    }
    return p;
}

/* ------------------------------------------------------------------------ */
/* The model                                                                */
/* ------------------------------------------------------------------------ */

/* log sum_v e^row[v], in double. */
static double logsumexp_row(const float *row)
{
    double mx = (double)row[0], z = 0.0;
    int v;
    for (v = 1; v < V; v++) if ((double)row[v] > mx) mx = (double)row[v];
    for (v = 0; v < V; v++) z += exp((double)row[v] - mx);
    return mx + log(z);
}

/* Row-wise softmax of the logit table (float), for the backward. */
static void softmax_rows(float *sm, const float *w)
{
    int c, v;
    for (c = 0; c < V; c++) {
        double lse = logsumexp_row(w + c * V);
        for (v = 0; v < V; v++) sm[c * V + v] = (float)exp((double)w[c * V + v] - lse);
    }
}

/* Token log-probs of a completion after a prompt token, padded to LMAX. */
static void token_logps(float *t, unsigned char *m, const float *w, int prompt, const int *tok, int len)
{
    int j, prev = prompt;
    for (j = 0; j < LMAX; j++) {
        t[j] = 0.0f;
        m[j] = 0;
        if (j < len) {
            t[j] = (float)((double)w[prev * V + tok[j]] - logsumexp_row(w + prev * V));
            m[j] = 1;
            prev = tok[j];
        }
    }
}

/* ------------------------------------------------------------------------ */
/* One training run                                                         */
/* ------------------------------------------------------------------------ */

static void die(const char *what, int st)
{
    fprintf(stderr, "train_mpi: %s: %s\n", what, prefloss_strerror(st));
    MPI_Abort(MPI_COMM_WORLD, 2);
}
#define CHECK(call) do { int st_ = (call); if (st_ < 0) die(#call, st_); } while (0)

/* Sequences handled by one rank in one step: up to 2 per pair, plus the KL
 * sequences of KTO (one per pair). */
typedef struct {
    int n;                                   /* rows */
    int prompt[2 * MAX_BATCH], len[2 * MAX_BATCH], tok[2 * MAX_BATCH][LMAX];
    float t[2 * MAX_BATCH * LMAX];
    unsigned char m[2 * MAX_BATCH * LMAX];
} rows_t;

static void rows_add(rows_t *r, int prompt, const int *tok, int len)
{
    r->prompt[r->n] = prompt;
    r->len[r->n] = len;
    memcpy(r->tok[r->n], tok, sizeof r->tok[0]);
    r->n++;
}

/* Sequence log-probs (SUM, or MEAN for IPO as TRL does) of every row under w. */
static void seq_logps(float *out, rows_t *r, const float *w, int reduction)
{
    int i;
    for (i = 0; i < r->n; i++)
        token_logps(r->t + i * LMAX, r->m + i * LMAX, w, r->prompt[i], r->tok[i], r->len[i]);
    CHECK(prefloss_sequence_logps(out, r->t, r->m, (size_t)r->n, LMAX, reduction));
}

/* The gradient of the rows' sequence log-probs, dseq[i] each, into the
 * table: exact partials (gp) or a float sum (gf). */
static void backward(prefloss_partial *gp, float *gf, rows_t *r, const float *dseq, const float *sm,
                     int reduction)
{
    static float dt[2 * MAX_BATCH * LMAX];
    int i, j, v;
    CHECK(prefloss_sequence_logps_backward(dt, dseq, r->m, (size_t)r->n, LMAX, reduction));
    for (i = 0; i < r->n; i++) {
        int prev = r->prompt[i];
        for (j = 0; j < r->len[i]; j++) {
            float d = dt[i * LMAX + j];
            for (v = 0; v < V; v++) {
                /* d log softmax(w[prev])[y] / d w[prev][v] = [v == y] - softmax[v] */
                float c = d * ((v == r->tok[i][j] ? 1.0f : 0.0f) - sm[prev * V + v]);
                if (gp != NULL) CHECK(prefloss_partial_add(&gp[prev * V + v], &c, 1));
                else gf[prev * V + v] += c;
            }
            prev = r->tok[i][j];
        }
    }
}

/* ------------------------------------------------------------------------ */
/* From logits (--input logits)                                             */
/* ------------------------------------------------------------------------ */

/* Every row's logits under w, one row of V per token (the table's row of
 * the previous token), and the target ids, padded to LMAX rows per sequence
 * with ignore_index past the end. */
static void fill_logits(float *x, int32_t *target, const rows_t *r, const float *w)
{
    int i, j;
    for (i = 0; i < r->n; i++) {
        int prev = r->prompt[i];
        for (j = 0; j < LMAX; j++) {
            float *row = x + ((size_t)i * LMAX + (size_t)j) * V;
            if (j < r->len[i]) {
                memcpy(row, w + prev * V, V * sizeof(float));
                target[i * LMAX + j] = r->tok[i][j];
                prev = r->tok[i][j];
            } else {
                memset(row, 0, V * sizeof(float));          /* never read */
                target[i * LMAX + j] = IGNORE_INDEX;
            }
        }
    }
}

/* Sequence log-probs of every row under w, from the logits (token stage,
 * then the masked sum or mean); keeps the logits, targets, lse and mask for
 * a backward. */
static void seq_logps_from_logits(float *out, float *x, int32_t *target, float *lse, rows_t *r,
                                  const float *w, int reduction)
{
    size_t k, n_tok = (size_t)r->n * LMAX;
    fill_logits(x, target, r, w);
    CHECK(prefloss_token_logps(r->t, lse, x, target, n_tok, V, V, IGNORE_INDEX));
    for (k = 0; k < n_tok; k++) r->m[k] = target[k] != IGNORE_INDEX;
    CHECK(prefloss_sequence_logps(out, r->t, r->m, (size_t)r->n, LMAX, reduction));
}

/* Adds the gradient rows dx (rows as fill_logits laid them out) into the
 * table rows they came from: exact partials (gp) or a float sum (gf). */
static void scatter_dlogits(prefloss_partial *gp, float *gf, const rows_t *r, const float *dx)
{
    int i, j, v;
    for (i = 0; i < r->n; i++) {
        int prev = r->prompt[i];
        for (j = 0; j < r->len[i]; j++) {
            const float *row = dx + ((size_t)i * LMAX + (size_t)j) * V;
            for (v = 0; v < V; v++) {
                if (gp != NULL) CHECK(prefloss_partial_add(&gp[prev * V + v], &row[v], 1));
                else gf[prev * V + v] += row[v];
            }
            prev = r->tok[i][j];
        }
    }
}

/* The part [lo, hi) of a global batch of B positions that a rank takes. */
static void shard(int B, const int *shares, int world, int rank, int *lo, int *hi)
{
    long total = 0, before = 0;
    int r;
    for (r = 0; r < world; r++) total += shares[r];
    for (r = 0; r < rank; r++) before += shares[r];
    *lo = (int)((long)B * before / total);
    *hi = (int)((long)B * (before + shares[rank]) / total);
}

/* The buffer every step reduces in exact mode: P gradient partials, then the
 * loss and the metrics. */
#define N_PART (P + 1 + N_METRICS)

static void allreduce_ll(void *buf, int count, MPI_Comm comm)
{
    if (comm != MPI_COMM_NULL)
        MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_LONG_LONG, MPI_SUM, comm);
}
static void allreduce_f(float *buf, int count, MPI_Comm comm)
{
    if (comm != MPI_COMM_NULL)
        MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, comm);
}

/* Trains with loss `loss` on this rank's shares; comm == MPI_COMM_NULL is
 * one process on whole batches. Fills rec (on every rank). */
static void train(const config *cf, int loss, MPI_Comm comm, int world, int rank, const int *shares,
                  record *rec)
{
    static rows_t rows, kl_rows;
    static float pol[2 * MAX_BATCH], ref[2 * MAX_BATCH], lossv[2 * MAX_BATCH], dpol[2 * MAX_BATCH];
    static float up[2 * MAX_BATCH], klp[MAX_BATCH], klr[MAX_BATCH];
    static unsigned char des[2 * MAX_BATCH];
    /* --input logits: the logits of this rank's rows and of its KL rows */
    static float x[2 * MAX_BATCH * LMAX * V], lse[2 * MAX_BATCH * LMAX], dt[2 * MAX_BATCH * LMAX];
    static float kl_x[MAX_BATCH * LMAX * V], kl_lse[MAX_BATCH * LMAX];
    static int32_t target[2 * MAX_BATCH * LMAX], kl_target[MAX_BATCH * LMAX];
    float workspace[2 * LMAX];
    prefloss_pair_params params;
    prefloss_partial part[N_PART];
    float w[P], w0[P], sm[P], gf[P + 1 + N_METRICS];
    int step, i, j, lo, hi, n, B = cf->batch;
    int reduction = loss == LOSS_IPO ? PREFLOSS_REDUCE_MEAN : PREFLOSS_REDUCE_SUM;
    uint64_t h = 12345;

    for (i = 0; i < P; i++) { h = mix64(h); w0[i] = w[i] = (float)((double)(h >> 11) * 0x1p-53 - 0.5); }
    shard(B, shares, world, rank, &lo, &hi);
    n = hi - lo;
    for (step = 0; step < cf->steps; step++) {
        /* this rank's pairs of the step's global batch; the pair at global
         * position j is (step * B + j) mod N */
        rows.n = 0;
        kl_rows.n = 0;
        for (j = lo; j < hi; j++) {
            pair_t p = make_pair((step * B + j) % cf->npairs);
            rows_add(&rows, p.prompt, p.tok[0], p.len[0]);
        }
        for (j = lo; j < hi; j++) {
            pair_t p = make_pair((step * B + j) % cf->npairs);
            rows_add(&rows, p.prompt, p.tok[1], p.len[1]);
        }
        /* KTO's KL sequences: the prompt at position j with the chosen
         * completion at position j + 1 of the GLOBAL batch (mismatched
         * pairs defined on the global batch, so the set does not depend
         * on the split) */
        if (loss == LOSS_KTO)
            for (j = lo; j < hi; j++) {
                pair_t p = make_pair((step * B + j) % cf->npairs);
                pair_t q = make_pair((step * B + (j + 1) % B) % cf->npairs);
                rows_add(&kl_rows, p.prompt, q.tok[0], q.len[0]);
            }
        softmax_rows(sm, w);
        if (cf->input == INPUT_LOGITS) {
            /* the reference from its logits; the policy's logits are laid
             * out last, so x holds them for the backward */
            seq_logps_from_logits(ref, x, target, lse, &rows, w0, reduction);
            if (loss == LOSS_KTO) seq_logps_from_logits(pol, x, target, lse, &rows, w, reduction);
            else fill_logits(x, target, &rows, w);   /* the fused call forms pol */
        } else {
            seq_logps(pol, &rows, w, reduction);
            seq_logps(ref, &rows, w0, reduction);
        }
        for (i = 0; i < N_PART; i++) prefloss_partial_init(&part[i]);
        memset(gf, 0, sizeof gf);

        if (loss == LOSS_KTO) {
            /* the KL baseline: a global mean, reduced before the losses */
            float kl;
            if (cf->input == INPUT_LOGITS) {
                seq_logps_from_logits(klp, kl_x, kl_target, kl_lse, &kl_rows, w, PREFLOSS_REDUCE_SUM);
                seq_logps_from_logits(klr, kl_x, kl_target, kl_lse, &kl_rows, w0, PREFLOSS_REDUCE_SUM);
            } else {
                seq_logps(klp, &kl_rows, w, PREFLOSS_REDUCE_SUM);
                seq_logps(klr, &kl_rows, w0, PREFLOSS_REDUCE_SUM);
            }
            if (cf->reduce == REDUCE_NAIVE) {
                /* each rank's own mean, averaged over the ranks */
                CHECK(prefloss_kto_kl(&kl, klp, klr, (size_t)n));
                gf[0] = kl;
                allreduce_f(gf, 1, comm);
                kl = comm != MPI_COMM_NULL ? gf[0] / (float)world : gf[0];
                gf[0] = 0.0f;
                if (kl < 0.0f) kl = 0.0f;
            } else {
                prefloss_partial klpart;
                prefloss_partial_init(&klpart);
                CHECK(prefloss_kto_kl_partial(&klpart, klp, klr, (size_t)n));
                allreduce_ll(klpart.word, PREFLOSS_PARTIAL_WORDS, comm);
                CHECK(prefloss_kto_kl_finish(&kl, &klpart));
            }
            rec->kl_last = kl;
            for (i = 0; i < 2 * n; i++) {
                des[i] = (unsigned char)(i < n);
                /* upstream gradient: 1 / global count (2B samples) */
                up[i] = cf->reduce == REDUCE_NAIVE ? 1.0f / (float)(2 * n) : 1.0f / (float)(2 * B);
            }
            CHECK(prefloss_kto_loss(lossv, dpol, pol, ref, des, up, (size_t)(2 * n), cf->beta, kl, 1.0f, 1.0f));
            CHECK(prefloss_partial_add(&part[P], lossv, (size_t)(2 * n)));
        } else {
            for (i = 0; i < n; i++) up[i] = cf->reduce == REDUCE_NAIVE ? 1.0f / (float)n : 1.0f / (float)B;
            if (cf->input == INPUT_LOGITS) {
                /* logits -> sequence log-probs -> DPO / IPO -> dlogits, the
                 * gradient over the logits in place */
                float *xc = x, *xr = x + (size_t)n * LMAX * V;
                CHECK(prefloss_pair_params_init(&params, sizeof params));
                params.beta = cf->beta;
                CHECK(prefloss_pair_loss_from_logits(
                    lossv, pol, pol + n, xc, xr, xc, xr, target, target + (size_t)n * LMAX, NULL, NULL,
                    ref, ref + n, up, (size_t)n, LMAX, V, V, IGNORE_INDEX, reduction == PREFLOSS_REDUCE_MEAN,
                    loss == LOSS_DPO ? PREFLOSS_LOSS_SIGMOID : PREFLOSS_LOSS_IPO, &params, workspace,
                    sizeof workspace / sizeof workspace[0]));
            } else if (loss == LOSS_DPO)
                CHECK(prefloss_dpo_loss(lossv, dpol, dpol + n, pol, pol + n, ref, ref + n, up, (size_t)n,
                                        cf->beta, 0.0f));
            else
                CHECK(prefloss_ipo_loss(lossv, dpol, dpol + n, pol, pol + n, ref, ref + n, up, (size_t)n,
                                        cf->beta));
            CHECK(prefloss_partial_add(&part[P], lossv, (size_t)n));
            CHECK(prefloss_rewards_partial(&part[P + 1 + M_CHOSEN], &part[P + 1 + M_REJECTED],
                                           &part[P + 1 + M_MARGIN], &part[P + 1 + M_ACCURACY],
                                           pol, pol + n, ref, ref + n, (size_t)n, cf->beta));
        }
        if (cf->input == INPUT_LOGITS) {
            size_t n_tok = (size_t)rows.n * LMAX;
            if (loss == LOSS_KTO) {
                /* sequence gradients -> token gradients -> dlogits, in place */
                CHECK(prefloss_sequence_logps_backward(dt, dpol, rows.m, (size_t)rows.n, LMAX, reduction));
                CHECK(prefloss_token_logps_backward(x, V, dt, x, V, lse, target, n_tok, V, IGNORE_INDEX));
            }
            scatter_dlogits(cf->reduce == REDUCE_EXACT ? part : NULL, gf, &rows, x);
        } else {
            backward(cf->reduce == REDUCE_EXACT ? part : NULL, gf, &rows, dpol, sm, reduction);
        }

        /* the reduction: ONE all-reduce of int64 words in exact mode */
        if (cf->reduce == REDUCE_EXACT) {
            allreduce_ll(part, N_PART * PREFLOSS_PARTIAL_WORDS, comm);
            for (i = 0; i < P; i++) CHECK(prefloss_partial_finish(NULL, &gf[i], NULL, &part[i]));
        } else if (cf->reduce == REDUCE_FLOAT) {
            allreduce_ll(part + P, (N_PART - P) * PREFLOSS_PARTIAL_WORDS, comm);
            allreduce_f(gf, P, comm);
        } else {
            /* naive: local means of the loss and the metrics ride along
             * with the gradient (taken with 1/local_count); all / world */
            for (i = 0; i <= N_METRICS; i++) CHECK(prefloss_partial_finish(&gf[P + i], NULL, NULL, &part[P + i]));
            allreduce_f(gf, P + 1 + N_METRICS, comm);
            if (comm != MPI_COMM_NULL)
                for (i = 0; i < P + 1 + N_METRICS; i++) gf[i] /= (float)world;
        }
        if (cf->reduce == REDUCE_NAIVE) rec->loss[step] = gf[P];
        else CHECK(prefloss_partial_finish(&rec->loss[step], NULL, NULL, &part[P]));
        for (i = 0; i < N_METRICS; i++) {
            float mv = 0.0f;
            if (cf->reduce == REDUCE_NAIVE) mv = gf[P + 1 + i];
            else CHECK(prefloss_partial_finish(&mv, NULL, NULL, &part[P + 1 + i]));
            rec->metric[step * N_METRICS + i] = mv;
        }
        memcpy(rec->grad + step * P, gf, P * sizeof(float));
        for (i = 0; i < P; i++) w[i] -= cf->lr * gf[i];
    }
    memcpy(rec->param, w, sizeof w);
}

/* ------------------------------------------------------------------------ */
/* Comparison and driver                                                    */
/* ------------------------------------------------------------------------ */

static double rel_diff(const float *a, const float *b, int n)
{
    double num = 0.0, den = 0.0;
    int i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= num)) num = d;                      /* NaN wins */
        if (fabs((double)b[i]) > den) den = fabs((double)b[i]);
    }
    if (num == 0.0) return 0.0;
    return den > 0.0 ? num / den : (double)INFINITY;
}

static record record_new(int steps)
{
    record r;
    r.loss = calloc((size_t)steps, sizeof(float));
    r.metric = calloc((size_t)steps * N_METRICS, sizeof(float));
    r.grad = calloc((size_t)steps * P, sizeof(float));
    if (!r.loss || !r.metric || !r.grad) { fprintf(stderr, "train_mpi: out of memory\n"); exit(2); }
    return r;
}

static void usage(void)
{
    fprintf(stderr, "usage: train_mpi [--shares a,b,...] [--reduce exact|float|naive] [--input logps|logits]\n"
                    "                 [--steps S] [--batch B] [--pairs N] [--bound X] [--quiet]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
}

int main(int argc, char **argv)
{
    config cf;
    int rank, world, shares[MAX_WORLD], n_shares = 0, i, loss, fail = 0;
    const char *reduce_name = "exact";
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    cf.steps = 40; cf.batch = 60; cf.npairs = 150; cf.reduce = REDUCE_EXACT; cf.input = INPUT_LOGPS; cf.quiet = 0;
    cf.beta = 0.1f; cf.lr = 2.0f; cf.bound = 0.0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quiet")) { cf.quiet = 1; continue; }
        if (v == NULL) usage();
        if (!strcmp(a, "--shares")) {
            char *s = (char *)v, *end;
            n_shares = 0;
            while (*s && n_shares < MAX_WORLD) {
                shares[n_shares++] = (int)strtol(s, &end, 10);
                s = *end == ',' ? end + 1 : end;
                if (end == s && *s) usage();
            }
        } else if (!strcmp(a, "--reduce")) {
            reduce_name = v;
            if (!strcmp(v, "exact")) cf.reduce = REDUCE_EXACT;
            else if (!strcmp(v, "float")) cf.reduce = REDUCE_FLOAT;
            else if (!strcmp(v, "naive")) cf.reduce = REDUCE_NAIVE;
            else usage();
        } else if (!strcmp(a, "--input")) {
            if (!strcmp(v, "logps")) cf.input = INPUT_LOGPS;
            else if (!strcmp(v, "logits")) cf.input = INPUT_LOGITS;
            else usage();
        } else if (!strcmp(a, "--steps")) cf.steps = atoi(v);
        else if (!strcmp(a, "--batch")) cf.batch = atoi(v);
        else if (!strcmp(a, "--pairs")) cf.npairs = atoi(v);
        else if (!strcmp(a, "--bound")) cf.bound = atof(v);
        else usage();
        i++;
    }
    if (n_shares == 0) { n_shares = world; for (i = 0; i < world; i++) shares[i] = 1; }
    if (n_shares != world || world > MAX_WORLD || cf.steps < 1 || cf.batch < 1 || cf.batch > MAX_BATCH
        || cf.npairs < 1) {
        if (rank == 0) fprintf(stderr, "train_mpi: --shares needs one share per rank (%d), sizes in range\n", world);
        usage();
    }
    {
        long total = 0;
        for (i = 0; i < world; i++) { if (shares[i] < 0) usage(); total += shares[i]; }
        if (total == 0) usage();
    }
    for (loss = 0; loss < N_LOSSES; loss++) {
        record dist = record_new(cf.steps);
        int ones[1] = { 1 };
        train(&cf, loss, MPI_COMM_WORLD, world, rank, shares, &dist);
        if (rank == 0) {
            record single = record_new(cf.steps);
            double diff = 0.0, d;
            int s;
            config exact = cf;
            exact.reduce = REDUCE_EXACT;   /* the reference: one process, exact sums */
            train(&exact, loss, MPI_COMM_NULL, 1, 0, ones, &single);
            for (s = 0; s < cf.steps; s++) {
                d = rel_diff(&dist.loss[s], &single.loss[s], 1);
                diff = d > diff || d != d ? d : diff;
                d = rel_diff(dist.metric + s * N_METRICS, single.metric + s * N_METRICS, N_METRICS);
                diff = d > diff || d != d ? d : diff;
                d = rel_diff(dist.grad + s * P, single.grad + s * P, P);
                diff = d > diff || d != d ? d : diff;
            }
            d = rel_diff(dist.param, single.param, P);
            diff = d > diff || d != d ? d : diff;
            if (!cf.quiet) {
                printf("# loss=%s reduce=%s shares=", loss_name[loss], reduce_name);
                for (i = 0; i < world; i++) printf("%s%d", i ? "," : "", shares[i]);
                printf(" loss[0]=%.7g loss[%d]=%.7g (single: %.7g, %.7g)", (double)dist.loss[0], cf.steps - 1,
                       (double)dist.loss[cf.steps - 1], (double)single.loss[0],
                       (double)single.loss[cf.steps - 1]);
                if (loss == LOSS_KTO) printf(" kl=%.7g (single: %.7g)", (double)dist.kl_last, (double)single.kl_last);
                else printf(" accuracy=%.4g", (double)dist.metric[(cf.steps - 1) * N_METRICS + M_ACCURACY]);
                printf("\n");
            }
            printf("DIST engine=mpi world=%d loss=%s steps=%d pairs=%d max_rel_diff_vs_single=%.3g input=%s\n",
                   world, loss_name[loss], cf.steps, cf.batch, diff,
                   cf.input == INPUT_LOGITS ? "logits" : "logps");
            if (!(diff <= cf.bound)) fail = 1;
            free(single.loss); free(single.metric); free(single.grad);
        }
        free(dist.loss); free(dist.metric); free(dist.grad);
    }
    fflush(stdout);
    MPI_Bcast(&fail, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return fail;
}
