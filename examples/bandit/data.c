/*
 * data.c — the three data regimes of the experiment, each as a batch of
 * (chosen, rejected) pairs ready for the library:
 *
 *   population     the exact expected loss: every ordered pair (y1, y2) with
 *                  y1 != y2, both labels, weighted by their probabilities;
 *   sampled        N pairs drawn from mu x mu given y1 != y2, labels drawn
 *                  from the preference model (a fixed seed, own generator,
 *                  so the data are the same on every platform);
 *   deterministic  the IPO paper's counterpoint, y0 > y1 > y2 seen once each.
 *
 * Pairs with y1 == y2 are left out everywhere: comparing an action with
 * itself carries no preference, and its h = u(y) - u(y) is 0 whatever the
 * policy, so it has zero gradient and does not move any minimiser.
 */
#include "bandit.h"

#include <stdlib.h>

static int pair_set_alloc(pair_set *set, size_t n, int weighted)
{
    set->n = n;
    set->chosen = malloc(n);
    set->rejected = malloc(n);
    set->weight = weighted ? malloc(n * sizeof *set->weight) : NULL;
    if (!set->chosen || !set->rejected || (weighted && !set->weight)) {
        pair_set_free(set);
        return -1;
    }
    return 0;
}

void pair_set_free(pair_set *set)
{
    free(set->chosen);
    free(set->rejected);
    free(set->weight);
    set->chosen = set->rejected = NULL;
    set->weight = NULL;
    set->n = 0;
}

int population_pairs(pair_set *set, const pref_model *m)
{
    /* E_{(y1,y2) ~ mu x mu | y1 != y2} [ p(y1 > y2) L(y1, y2) + p(y2 > y1) L(y2, y1) ]
     * with L(w, l) the loss of "w chosen, l rejected": 6 ordered pairs of
     * probability 1/6, two label outcomes each, 12 weighted entries. */
    const double pair_prob = 1.0 / (N_ACTIONS * (N_ACTIONS - 1));
    if (pair_set_alloc(set, 2 * N_ACTIONS * (N_ACTIONS - 1), 1) != 0)
        return -1;
    size_t i = 0;
    for (int a = 0; a < N_ACTIONS; a++) {
        for (int b = 0; b < N_ACTIONS; b++) {
            if (a == b)
                continue;
            set->chosen[i] = (unsigned char)a; /* label "a preferred" */
            set->rejected[i] = (unsigned char)b;
            set->weight[i++] = (float)(pair_prob * m->p[a][b]);
            set->chosen[i] = (unsigned char)b; /* label "b preferred" */
            set->rejected[i] = (unsigned char)a;
            set->weight[i++] = (float)(pair_prob * m->p[b][a]);
        }
    }
    return 0;
}

/* splitmix64 (Steele, Lea, Flood 2014): a small, well-mixed generator. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1) from the top 53 bits. */
static double uniform01(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, k), k small: floor(k * U), U in [0, 1). */
static int uniform_int(uint64_t *state, int k)
{
    return (int)(uniform01(state) * (double)k);
}

int sampled_pairs(pair_set *set, const pref_model *m, size_t n, uint64_t seed)
{
    uint64_t state = seed;
    if (pair_set_alloc(set, n, 0) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* (y1, y2) ~ mu x mu given y1 != y2, mu uniform: y1 uniform, then
         * y2 uniform over the other two actions. */
        int y1 = uniform_int(&state, N_ACTIONS);
        int y2 = (y1 + 1 + uniform_int(&state, N_ACTIONS - 1)) % N_ACTIONS;
        /* label: y1 preferred with probability p(y1 > y2) */
        int y1_wins = uniform01(&state) < m->p[y1][y2];
        set->chosen[i] = (unsigned char)(y1_wins ? y1 : y2);
        set->rejected[i] = (unsigned char)(y1_wins ? y2 : y1);
    }
    return 0;
}

int ordered_pairs(pair_set *set)
{
    static const unsigned char w[] = {0, 1, 0}, l[] = {1, 2, 2};
    if (pair_set_alloc(set, sizeof w, 0) != 0)
        return -1;
    for (size_t i = 0; i < sizeof w; i++) {
        set->chosen[i] = w[i];
        set->rejected[i] = l[i];
    }
    return 0;
}

void empirical_preferences(pref_model *m, const pair_set *set)
{
    double wins[N_ACTIONS][N_ACTIONS] = {{0}};
    for (size_t i = 0; i < set->n; i++)
        wins[set->chosen[i]][set->rejected[i]] += 1.0;
    for (int a = 0; a < N_ACTIONS; a++) {
        for (int b = 0; b < N_ACTIONS; b++) {
            double seen = wins[a][b] + wins[b][a];
            m->p[a][b] = a == b || seen == 0.0 ? 0.5 : wins[a][b] / seen;
        }
    }
}
