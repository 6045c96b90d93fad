/*
 * prefs.c — preference models of the bandit and the analytic optima the
 * trained policies are compared with (seed eqs. 1, 2, 8, 11, 17, 18).
 */
#include "bandit.h"

#include <math.h>

/* sigma(x) = 1 / (1 + exp(-x)), without overflow for large |x|. */
static double sigmoid(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

void bt_preferences(pref_model *m, const double s[N_ACTIONS])
{
    /* Seed eq. (2): p(y_a > y_b) = exp(s_a) / (exp(s_a) + exp(s_b))
     *                            = sigma(s_a - s_b). */
    for (int a = 0; a < N_ACTIONS; a++)
        for (int b = 0; b < N_ACTIONS; b++)
            m->p[a][b] = sigmoid(s[a] - s[b]);
}

void ordered_preferences(pref_model *m)
{
    /* y0 > y1 > y2 always: p = 1 above the diagonal, 1/2 on it, 0 below. */
    for (int a = 0; a < N_ACTIONS; a++)
        for (int b = 0; b < N_ACTIONS; b++)
            m->p[a][b] = a < b ? 1.0 : a == b ? 0.5 : 0.0;
}

void ipo_score(double score[N_ACTIONS], const pref_model *m,
               const double mu[N_ACTIONS])
{
    /* Seed eq. (8) with v = p (alpha1 = 0, alpha2 = 1):
     *   score(y) = E_{y' ~ mu}[p(y > y')].
     * y' = y is a draw like any other and contributes mu(y) * 1/2; this is
     * what the least-squares minimiser of the IPO loss gives (docs/bandit.md).
     * The scores sum to |A|/2 = 1.5 for uniform mu ("total score is a
     * constant"). */
    for (int y = 0; y < N_ACTIONS; y++) {
        score[y] = 0.0;
        for (int y2 = 0; y2 < N_ACTIONS; y2++)
            score[y] += mu[y2] * m->p[y][y2];
    }
}

void softmax3(double out[N_ACTIONS], const double logits[N_ACTIONS])
{
    /* softmax(t)_y = exp(t_y - max t) / sum_k exp(t_k - max t) */
    double mx = logits[0];
    for (int y = 1; y < N_ACTIONS; y++)
        if (logits[y] > mx)
            mx = logits[y];
    double z = 0.0;
    for (int y = 0; y < N_ACTIONS; y++) {
        out[y] = exp(logits[y] - mx);
        z += out[y];
    }
    for (int y = 0; y < N_ACTIONS; y++)
        out[y] /= z;
}

void log_softmax3(double out[N_ACTIONS], const double logits[N_ACTIONS])
{
    /* log softmax(t)_y = t_y - (max t + log sum_k exp(t_k - max t)) */
    double mx = logits[0];
    for (int y = 1; y < N_ACTIONS; y++)
        if (logits[y] > mx)
            mx = logits[y];
    double z = 0.0;
    for (int y = 0; y < N_ACTIONS; y++)
        z += exp(logits[y] - mx);
    double lse = mx + log(z);
    for (int y = 0; y < N_ACTIONS; y++)
        out[y] = logits[y] - lse;
}

void regularised_optimum(double pi[N_ACTIONS], const double pi_ref[N_ACTIONS],
                         const double score[N_ACTIONS], double beta)
{
    /* argmax_pi E_{y~pi}[score(y)] - beta KL(pi || pi_ref)
     *   = pi_ref(y) exp(score(y)/beta) / Z            (seed section 3.2) */
    double logits[N_ACTIONS];
    for (int y = 0; y < N_ACTIONS; y++)
        logits[y] = log(pi_ref[y]) + score[y] / beta;
    softmax3(pi, logits);
}

double tv_distance(const double p[N_ACTIONS], const double q[N_ACTIONS])
{
    double d = 0.0;
    for (int y = 0; y < N_ACTIONS; y++)
        d += fabs(p[y] - q[y]);
    return 0.5 * d;
}
