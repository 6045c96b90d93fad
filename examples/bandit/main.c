/*
 * main.c — the seed's bandit experiment (the DPO-vs-IPO notes, section 5; docs/bandit.md):
 * DPO and IPO trained on the same preferences land on different optima.
 *
 *   three actions, scores s = [10, 9.593, 7.8], preferences Bradley–Terry
 *   on s, pi_ref = mu uniform; a tabular softmax policy trained by gradient
 *   descent with libprefloss's DPO and IPO gradients, for four betas, on
 *   the exact expected loss ("population") and on N = 20,000 sampled pairs;
 *   then the IPO paper's counterpoint, deterministic preferences.
 *
 * Usage: bandit [trajectories.csv [chart.svg]]
 *        (defaults build/bandit.csv and build/bandit.svg)
 * Output: a table, one RESULT line per run, the CSV and the SVG chart.
 * See docs/bandit.md.
 */
#include "bandit.h"

#include <stdio.h>
#include <string.h>

#include <prefloss.h>

static const double SCORES[N_ACTIONS] = {10.0, 9.593, 7.8}; /* seed eq. (17) */
static const float BETAS[] = {0.1f, 0.5f, 1.0f, 2.0f};
#define N_BETAS (sizeof BETAS / sizeof BETAS[0])

#define N_SAMPLED 20000
#define SAMPLE_SEED UINT64_C(20250327)
#define FIT_ITERATIONS 300L        /* population and sampled runs */
#define COUNTER_ITERATIONS 100000L /* deterministic runs ... */
#define COUNTER_EARLY 1000L        /* ... also reported after this many steps */

/* Step sizes. Both losses depend on theta only through the logit differences
 * d = theta_w - theta_l (log-softmax differences are logit differences), so
 * the problems are convex in theta:
 *   DPO: -log sigma(beta d), curvature beta^2 sigma'(beta d) <= beta^2 / 4;
 *   IPO: (d - 1/(2 beta))^2, curvature 2.
 * On K3 with the weights of our batches the Hessian's largest eigenvalue is
 * at most beta^2/4 (DPO) and 2 (IPO). Steps 2/beta^2 and 0.1 make every run
 * converge at the same rate whatever beta (in the variable beta*theta the
 * runs are identical), contracting by ~0.8 per step near the optimum. */
static double step_size(method_id method, float beta)
{
    double b = (double)beta;
    return method == METHOD_DPO ? 2.0 / (b * b) : 0.1;
}

/* Everything the runs share: the preference models, their IPO scores and the
 * three datasets. */
typedef struct {
    double mu[N_ACTIONS];           /* = pi_ref, uniform */
    pref_model bt, ordered;         /* Bradley–Terry on s; y0 > y1 > y2 */
    double score_bt[N_ACTIONS];     /* E_mu[p(y > y')] under bt */
    double score_ordered[N_ACTIONS];/* ... under ordered */
    pair_set population, sampled, deterministic;
} experiment;

static int experiment_init(experiment *e)
{
    for (int y = 0; y < N_ACTIONS; y++)
        e->mu[y] = 1.0 / N_ACTIONS;
    bt_preferences(&e->bt, SCORES);
    ordered_preferences(&e->ordered);
    ipo_score(e->score_bt, &e->bt, e->mu);
    ipo_score(e->score_ordered, &e->ordered, e->mu);
    if (population_pairs(&e->population, &e->bt) != 0 ||
        sampled_pairs(&e->sampled, &e->bt, N_SAMPLED, SAMPLE_SEED) != 0 ||
        ordered_pairs(&e->deterministic) != 0)
        return -1;
    return 0;
}

/* The closed-form optimum each method converges to on a data regime:
 *   DPO (= RLHF, seed section 3.2): pi_ref(y) exp(s(y)/beta) / Z with s the
 *     Bradley–Terry scores. Deterministic preferences have infinite score
 *     gaps: the optimum is the point mass on y0, whatever beta.
 *   IPO (seed eq. 11): pi_ref(y) exp(E_mu[p(y > y')]/beta) / Z. */
static void analytic_optimum(double pi[N_ACTIONS], const experiment *e,
                             method_id method, int deterministic, float beta)
{
    if (method == METHOD_DPO && deterministic) {
        pi[0] = 1.0;
        pi[1] = pi[2] = 0.0;
        return;
    }
    const double *score = method == METHOD_DPO ? SCORES
                        : deterministic        ? e->score_ordered
                                               : e->score_bt;
    regularised_optimum(pi, e->mu, score, (double)beta);
}

/* ------------------------------------------------------------------------ */
/* The readable table                                                       */
/* ------------------------------------------------------------------------ */

static void print_setup(const experiment *e)
{
    pref_model emp;
    empirical_preferences(&emp, &e->sampled);
    printf("libprefloss %s: three-armed bandit, DPO vs IPO (docs/bandit.md)\n\n",
           prefloss_version());
    printf("scores s = [%g, %g, %g]   pi_ref = mu = uniform   "
           "pairs (y1,y2) ~ mu x mu given y1 != y2\n",
           SCORES[0], SCORES[1], SCORES[2]);
    printf("Bradley-Terry p(y0>y1) = %.4f  p(y0>y2) = %.4f  p(y1>y2) = %.4f\n",
           e->bt.p[0][1], e->bt.p[0][2], e->bt.p[1][2]);
    printf("sampled data (N = %d, seed %lu), empirical: p(y0>y1) = %.4f  "
           "p(y0>y2) = %.4f  p(y1>y2) = %.4f\n",
           N_SAMPLED, (unsigned long)SAMPLE_SEED, emp.p[0][1], emp.p[0][2], emp.p[1][2]);
    printf("IPO score E_mu[p(y>y')] = [%.4f, %.4f, %.4f] (sum %.4f)\n\n",
           e->score_bt[0], e->score_bt[1], e->score_bt[2],
           e->score_bt[0] + e->score_bt[1] + e->score_bt[2]);
}

static void print_fit_table(const run_record *runs, size_t n_runs)
{
    printf("Bradley-Terry preferences: learned policy vs the method's analytic optimum "
           "(%ld steps)\n", FIT_ITERATIONS);
    printf("%-11s %4s %-6s  %-22s  %-22s  %-9s %-9s\n", "data", "beta", "method",
           "learned pi(y0..y2)", "analytic optimum", "TV", "|grad|");
    for (size_t r = 0; r < n_runs; r++) {
        const run_record *x = &runs[r];
        if (strcmp(x->spec.data, "deterministic") == 0)
            continue;
        const double *p = x->result.pi, *q = x->optimum;
        printf("%-11s %4g %-6s  %.4f %.4f %.4f  %.4f %.4f %.4f  %.3e %.1e\n",
               x->spec.data, (double)x->spec.beta, method_name(x->spec.method),
               p[0], p[1], p[2], q[0], q[1], q[2], tv_distance(p, q),
               x->result.grad_norm);
    }
    printf("\n");
}

static void print_optimum_gap(const experiment *e)
{
    printf("The two optima on the same preferences (the seed's point)\n");
    printf("%4s  %-22s  %-22s  %s\n", "beta", "DPO/RLHF optimum", "IPO optimum",
           "TV(DPO*, IPO*)");
    for (size_t b = 0; b < N_BETAS; b++) {
        double d[N_ACTIONS], i[N_ACTIONS];
        analytic_optimum(d, e, METHOD_DPO, 0, BETAS[b]);
        analytic_optimum(i, e, METHOD_IPO, 0, BETAS[b]);
        printf("%4g  %.4f %.4f %.4f  %.4f %.4f %.4f  %.4f\n", (double)BETAS[b],
               d[0], d[1], d[2], i[0], i[1], i[2], tv_distance(d, i));
    }
    printf("\n");
}

static void print_counterpoint(const run_record *runs, size_t n_runs)
{
    printf("Deterministic preferences y0 > y1 > y2 (3 pairs): pi after %ld and %ld steps\n",
           COUNTER_EARLY, COUNTER_ITERATIONS);
    printf("%4s %-6s  %-29s  %-29s  %s\n", "beta", "method", "after 1e3 steps",
           "after 1e5 steps", "analytic optimum");
    for (size_t r = 0; r < n_runs; r++) {
        const run_record *x = &runs[r];
        if (strcmp(x->spec.data, "deterministic") != 0)
            continue;
        const double *early = trajectory_at(&x->result.traj, COUNTER_EARLY);
        const double *late = x->result.pi, *q = x->optimum;
        if (!early)
            continue;
        printf("%4g %-6s  %.3e %.3e %.3e  %.3e %.3e %.3e  %.4f %.4f %.4f\n",
               (double)x->spec.beta, method_name(x->spec.method), early[0], early[1],
               early[2], late[0], late[1], late[2], q[0], q[1], q[2]);
    }
    printf("\n");
}

/* ------------------------------------------------------------------------ */

#define N_RUNS (3 * N_BETAS * 2)

int main(int argc, char **argv)
{
    const char *csv_path = argc > 1 ? argv[1] : "build/bandit.csv";
    const char *svg_path = argc > 2 ? argv[2] : "build/bandit.svg";
    static experiment e;
    static run_record runs[N_RUNS];
    if (experiment_init(&e) != 0) {
        fprintf(stderr, "bandit: out of memory\n");
        return 1;
    }

    const struct {
        const char *name;
        const pair_set *pairs;
        long iterations;
    } regimes[3] = {
        {"population", &e.population, FIT_ITERATIONS},
        {"sampled", &e.sampled, FIT_ITERATIONS},
        {"deterministic", &e.deterministic, COUNTER_ITERATIONS},
    };
    size_t n = 0;
    for (int g = 0; g < 3; g++) {
        for (size_t b = 0; b < N_BETAS; b++) {
            for (int m = METHOD_DPO; m <= METHOD_IPO; m++) {
                run_record *r = &runs[n++];
                r->spec.method = (method_id)m;
                r->spec.beta = BETAS[b];
                r->spec.data = regimes[g].name;
                r->spec.pairs = regimes[g].pairs;
                r->spec.step = step_size(r->spec.method, r->spec.beta);
                r->spec.iterations = regimes[g].iterations;
                analytic_optimum(r->optimum, &e, r->spec.method,
                                 regimes[g].pairs == &e.deterministic, r->spec.beta);
                if (train(&r->result, &r->spec) != 0)
                    return 1;
            }
        }
    }

    print_setup(&e);
    print_fit_table(runs, n);
    print_optimum_gap(&e);
    print_counterpoint(runs, n);
    for (size_t r = 0; r < n; r++)
        print_result_line(&runs[r]);

    int status = 0;
    if (write_csv(csv_path, runs, n) != 0) {
        fprintf(stderr, "bandit: cannot write %s\n", csv_path);
        status = 1;
    }
    if (write_svg(svg_path, runs, n, BETAS, N_BETAS) != 0) {
        fprintf(stderr, "bandit: cannot write %s\n", svg_path);
        status = 1;
    }
    if (status == 0)
        printf("\nwrote %s and %s\n", csv_path, svg_path);
    pair_set_free(&e.population);
    pair_set_free(&e.sampled);
    pair_set_free(&e.deterministic);
    return status;
}
