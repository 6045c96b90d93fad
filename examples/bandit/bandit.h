/*
 * bandit.h — the seed's three-armed bandit experiment (DPO vs IPO), shared
 * declarations. See docs/bandit.md for the mathematics.
 *
 * Notation (docs/bandit.md):
 *   actions y in {0, 1, 2}; mu = pi_ref = uniform (1/3 each);
 *   P[a][b] = p(y_a > y_b), the probability that a is preferred to b;
 *   theta = the three logits of the tabular policy pi = softmax(theta);
 *   u(y) = log pi(y) - log pi_ref(y), the policy/reference log-ratio.
 */
#ifndef BANDIT_H
#define BANDIT_H

#include <stddef.h>
#include <stdint.h>

#define N_ACTIONS 3

/* ------------------------------------------------------------------------ */
/* Preference models and their analytic optima (prefs.c)                    */
/* ------------------------------------------------------------------------ */

/* p[a][b] = p(y_a > y_b), with p[a][a] = 1/2 and p[a][b] + p[b][a] = 1. */
typedef struct {
    double p[N_ACTIONS][N_ACTIONS];
} pref_model;

/* Bradley–Terry on scores s (seed eq. 2): p[a][b] = sigma(s_a - s_b). */
void bt_preferences(pref_model *m, const double s[N_ACTIONS]);

/* Deterministic total order y0 > y1 > y2: p[a][b] = 1 if a < b, 0 if a > b. */
void ordered_preferences(pref_model *m);

/* IPO score (seed eq. 8/18): score(y) = E_{y' ~ mu}[p(y > y')]
 * = sum_y' mu(y') p[y][y'], the y' = y term included (p = 1/2). */
void ipo_score(double score[N_ACTIONS], const pref_model *m,
               const double mu[N_ACTIONS]);

/* Optimum of the KL-regularised objective (seed eq. 1) for a score:
 * pi*(y) = pi_ref(y) exp(score(y)/beta) / Z. */
void regularised_optimum(double pi[N_ACTIONS], const double pi_ref[N_ACTIONS],
                         const double score[N_ACTIONS], double beta);

/* Total-variation distance 1/2 sum_y |p(y) - q(y)|. */
double tv_distance(const double p[N_ACTIONS], const double q[N_ACTIONS]);

/* Softmax and log-softmax of three logits, evaluated stably. */
void softmax3(double out[N_ACTIONS], const double logits[N_ACTIONS]);
void log_softmax3(double out[N_ACTIONS], const double logits[N_ACTIONS]);

/* ------------------------------------------------------------------------ */
/* Preference data (data.c)                                                 */
/* ------------------------------------------------------------------------ */

/* A batch of (chosen, rejected) action pairs, the layout the library takes.
 * The training loss is sum_i weight[i] * loss_i, or the mean over the pairs
 * when weight is NULL. */
typedef struct {
    size_t n;
    unsigned char *chosen;   /* preferred action of pair i */
    unsigned char *rejected; /* the other action of pair i */
    float *weight;           /* per-pair weight, or NULL for 1/n each */
} pair_set;

/* The exact expected loss as a weighted batch: for every ordered pair
 * (a, b), a != b, drawn with probability 1/6 from mu x mu given a != b,
 * the entry (chosen a, rejected b) with weight p[a][b]/6 and the entry
 * (chosen b, rejected a) with weight p[b][a]/6. Returns 0 on success. */
int population_pairs(pair_set *set, const pref_model *m);

/* n pairs (y1, y2) drawn uniformly from mu x mu given y1 != y2 with the
 * generator seeded by seed, labelled y1 > y2 with probability p[y1][y2]. */
int sampled_pairs(pair_set *set, const pref_model *m, size_t n, uint64_t seed);

/* The small deterministic dataset y0 > y1, y1 > y2, y0 > y2 (mean loss). */
int ordered_pairs(pair_set *set);

/* Empirical p(y_a > y_b) of a dataset: wins of a over b / comparisons. */
void empirical_preferences(pref_model *m, const pair_set *set);

void pair_set_free(pair_set *set);

/* ------------------------------------------------------------------------ */
/* Training (train.c)                                                       */
/* ------------------------------------------------------------------------ */

typedef enum { METHOD_DPO = 0, METHOD_IPO = 1 } method_id;

const char *method_name(method_id method);

/* The trajectory of p(y) kept for the CSV and the chart: iteration 0 and a
 * log-spaced grid of iterations up to the last one. */
#define TRAJ_MAX 512
typedef struct {
    size_t n;
    long iter[TRAJ_MAX];
    double p[TRAJ_MAX][N_ACTIONS];
} trajectory;

typedef struct {
    method_id method;
    float beta;
    const char *data;      /* "population", "sampled" or "deterministic" */
    const pair_set *pairs; /* the training batch */
    double step;           /* gradient-descent step size on theta */
    long iterations;
} run_spec;

typedef struct {
    double pi[N_ACTIONS]; /* the learned policy after the last iteration */
    double loss;          /* the training loss at the last iteration */
    double grad_norm;     /* |dL/dtheta| at the last iteration */
    trajectory traj;
} run_result;

/* Trains the tabular softmax policy from theta = 0 (pi = pi_ref) by full-batch
 * gradient descent on the library's loss. Returns 0, or -1 if the library
 * reported an error (the message is printed). */
int train(run_result *out, const run_spec *spec);

/* The recorded p(y) at iteration `iter`, or NULL if it was not recorded. */
const double *trajectory_at(const trajectory *t, long iter);

/* ------------------------------------------------------------------------ */
/* Output (report.c)                                                        */
/* ------------------------------------------------------------------------ */

/* One finished run with its analytic optimum. */
typedef struct {
    run_spec spec;
    run_result result;
    double optimum[N_ACTIONS];
} run_record;

void print_result_line(const run_record *r);
int write_csv(const char *path, const run_record *runs, size_t n_runs);
int write_svg(const char *path, const run_record *runs, size_t n_runs,
              const float *betas, size_t n_betas);

#endif /* BANDIT_H */
