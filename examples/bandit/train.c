/*
 * train.c — the tabular softmax policy trained by gradient descent with
 * libprefloss's DPO and IPO gradients.
 *
 * The policy is pi = softmax(theta) over the three actions; a "sequence"
 * is a single action, so its log-prob is the scalar log pi(y). For a batch
 * of (chosen w, rejected l) pairs the library returns, per pair,
 *
 *     dchosen  = weight * dloss/dlog pi(w),   drejected = weight * dloss/dlog pi(l),
 *
 * which we gather per action into G(y) = dL/dlog pi(y) and chain through
 * the log-softmax Jacobian  dlog pi(y)/dtheta_k = [y == k] - pi(k):
 *
 *     dL/dtheta_k = sum_y G(y) ([y == k] - pi(k)) = G(k) - pi(k) sum_y G(y).
 *
 * The library sees float log-probs only; theta and the sums are double,
 * which is our own bookkeeping.
 */
#include "bandit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <prefloss.h>

const char *method_name(method_id method)
{
    return method == METHOD_DPO ? "dpo" : "ipo";
}

/* Float buffers handed to the library, one entry per pair. */
typedef struct {
    float *policy_chosen, *policy_rejected; /* log pi(w), log pi(l) */
    float *ref_chosen, *ref_rejected;       /* log pi_ref = log(1/3) */
    float *losses, *dchosen, *drejected;    /* library outputs */
} workspace;

static void workspace_free(workspace *ws)
{
    free(ws->policy_chosen);
    free(ws->policy_rejected);
    free(ws->ref_chosen);
    free(ws->ref_rejected);
    free(ws->losses);
    free(ws->dchosen);
    free(ws->drejected);
}

static int workspace_alloc(workspace *ws, size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(float);
    ws->policy_chosen = malloc(bytes);
    ws->policy_rejected = malloc(bytes);
    ws->ref_chosen = malloc(bytes);
    ws->ref_rejected = malloc(bytes);
    ws->losses = malloc(bytes);
    ws->dchosen = malloc(bytes);
    ws->drejected = malloc(bytes);
    if (!ws->policy_chosen || !ws->policy_rejected || !ws->ref_chosen ||
        !ws->ref_rejected || !ws->losses || !ws->dchosen || !ws->drejected) {
        workspace_free(ws);
        return -1;
    }
    /* pi_ref = mu = uniform: log pi_ref(y) = log(1/3) for every response */
    const float log_ref = (float)log(1.0 / N_ACTIONS);
    for (size_t i = 0; i < n; i++)
        ws->ref_chosen[i] = ws->ref_rejected[i] = log_ref;
    return 0;
}

/* The sequence log-probs of every pair under the current policy. */
static void fill_policy_logps(workspace *ws, const pair_set *pairs,
                              const double logpi[N_ACTIONS])
{
    float lp[N_ACTIONS];
    for (int y = 0; y < N_ACTIONS; y++)
        lp[y] = (float)logpi[y];
    for (size_t i = 0; i < pairs->n; i++) {
        ws->policy_chosen[i] = lp[pairs->chosen[i]];
        ws->policy_rejected[i] = lp[pairs->rejected[i]];
    }
}

/* The library call: per-pair losses and weighted gradients. */
static int library_loss(workspace *ws, const run_spec *spec)
{
    const pair_set *p = spec->pairs;
    int status;
    if (spec->method == METHOD_DPO)
        /* -log sigma(beta h), h = (log pi(w) - log pi_ref(w)) - (log pi(l) - log pi_ref(l)) */
        status = prefloss_dpo_loss(ws->losses, ws->dchosen, ws->drejected,
                                   ws->policy_chosen, ws->policy_rejected,
                                   ws->ref_chosen, ws->ref_rejected, p->weight,
                                   p->n, spec->beta, 0.0f);
    else
        /* (h - 1/(2 beta))^2, TRL's scale of the seed's eq. (16) */
        status = prefloss_ipo_loss(ws->losses, ws->dchosen, ws->drejected,
                                   ws->policy_chosen, ws->policy_rejected,
                                   ws->ref_chosen, ws->ref_rejected, p->weight,
                                   p->n, spec->beta);
    if (status != PREFLOSS_OK) {
        fprintf(stderr, "bandit: prefloss_%s_loss: %s (%d)\n",
                method_name(spec->method), prefloss_strerror(status), status);
        return -1;
    }
    return 0;
}

/* G(y) = dL/dlog pi(y) and the loss L = sum_i weight_i loss_i (the library
 * already applied the weights to the gradients; NULL weights mean 1/n). */
static double gather(double G[N_ACTIONS], const workspace *ws,
                     const pair_set *pairs)
{
    double loss = 0.0;
    for (int y = 0; y < N_ACTIONS; y++)
        G[y] = 0.0;
    for (size_t i = 0; i < pairs->n; i++) {
        G[pairs->chosen[i]] += (double)ws->dchosen[i];
        G[pairs->rejected[i]] += (double)ws->drejected[i];
        double w = pairs->weight ? (double)pairs->weight[i] : 1.0;
        loss += w * (double)ws->losses[i];
    }
    if (!pairs->weight && pairs->n > 0) {
        double mean = 1.0 / (double)pairs->n;
        for (int y = 0; y < N_ACTIONS; y++)
            G[y] *= mean;
        loss *= mean;
    }
    return loss;
}

/* dL/dtheta_k = G(k) - pi(k) sum_y G(y)   (log-softmax Jacobian) */
static void chain_log_softmax(double dtheta[N_ACTIONS], const double G[N_ACTIONS],
                              const double pi[N_ACTIONS])
{
    double total = 0.0;
    for (int y = 0; y < N_ACTIONS; y++)
        total += G[y];
    for (int k = 0; k < N_ACTIONS; k++)
        dtheta[k] = G[k] - pi[k] * total;
}

/* Iterations kept in the trajectory: every one up to 100, then 90 per
 * decade (every 10 up to 1000, every 100 up to 10^4, ...), and the last. */
static int on_log_grid(long t, long last)
{
    long stride = 1;
    while (t >= 100 * stride)
        stride *= 10;
    return t % stride == 0 || t == last;
}

static void record(trajectory *traj, long t, const double pi[N_ACTIONS])
{
    if (traj->n >= TRAJ_MAX)
        return;
    traj->iter[traj->n] = t;
    for (int y = 0; y < N_ACTIONS; y++)
        traj->p[traj->n][y] = pi[y];
    traj->n++;
}

const double *trajectory_at(const trajectory *traj, long iter)
{
    for (size_t i = 0; i < traj->n; i++)
        if (traj->iter[i] == iter)
            return traj->p[i];
    return NULL;
}

int train(run_result *out, const run_spec *spec)
{
    workspace ws;
    if (workspace_alloc(&ws, spec->pairs->n) != 0) {
        fprintf(stderr, "bandit: out of memory\n");
        return -1;
    }
    double theta[N_ACTIONS] = {0.0, 0.0, 0.0}; /* pi = pi_ref at the start */
    double logpi[N_ACTIONS], G[N_ACTIONS], dtheta[N_ACTIONS] = {0.0, 0.0, 0.0};
    out->traj.n = 0;
    for (long t = 0;; t++) {
        /* evaluate at theta_t ... */
        softmax3(out->pi, theta);
        log_softmax3(logpi, theta);
        fill_policy_logps(&ws, spec->pairs, logpi);
        if (library_loss(&ws, spec) != 0) {
            workspace_free(&ws);
            return -1;
        }
        out->loss = gather(G, &ws, spec->pairs);
        chain_log_softmax(dtheta, G, out->pi);
        if (on_log_grid(t, spec->iterations))
            record(&out->traj, t, out->pi);
        if (t == spec->iterations)
            break;
        /* ... then step: theta_{t+1} = theta_t - step * dL/dtheta */
        for (int k = 0; k < N_ACTIONS; k++)
            theta[k] -= spec->step * dtheta[k];
    }
    out->grad_norm = sqrt(dtheta[0] * dtheta[0] + dtheta[1] * dtheta[1] +
                          dtheta[2] * dtheta[2]);
    workspace_free(&ws);
    return 0;
}
