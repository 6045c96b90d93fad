/*
 * make bench: throughput of each kernel as a fraction of a memcpy moving the
 * same bytes in the same run, its speed against PyTorch (measured by
 * torch_bench.py in the same `make bench` run and passed in a file), and its
 * worst error on the stress set in ulp beyond the kappa/2 allowance.
 *
 * Prints one line per kernel and size:
 *   BENCH kernel=<name> n=<pairs or tokens> mpairs_s=<float> frac_memcpy=<float>
 *         vs_torch=<float|na> max_ulp=<float>
 * Each timing is the median of REPS runs after a warm-up. The kernels are
 * the dedicated ones (dpo, cdpo, ipo, bt, the sequence log-probs) and every
 * other kind of the loss catalogue through prefloss_pair_loss() (see
 * CATALOGUE below).
 *
 * It also prints, per size, the ceiling any kernel with the same memory
 * traffic can reach on this machine: a stream loop that reads the same
 * inputs and writes the same outputs with one addition each,
 *   CEILING kernel=stream<bytes> n=<pairs> mpairs_s=<float> frac_memcpy=<float>
 *           vs_torch=<name>:<float>,...
 * so that a vs_torch target above the ceiling's is visibly unreachable.
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefloss.h"
#include "../unit/catalogue_reference.h"

#define REPS 9

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- deterministic inputs --------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double uniform(void) /* splitmix64 -> [0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* Realistic sequence log-probs: large (-2000 .. -50), small differences. */
static void fill_pairs(float *pc, float *pr, float *rc, float *rr, size_t n, double beta)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double base_c = -50.0 - 1950.0 * uniform(), base_r = -50.0 - 1950.0 * uniform();
        double drift = 20.0 * (uniform() - 0.5);
        double z = pow(10.0, -8.0 + 12.0 * uniform()) * (uniform() < 0.5 ? -1.0 : 1.0);
        rc[i] = (float)base_c;
        rr[i] = (float)base_r;
        pc[i] = (float)(base_c + drift);
        pr[i] = (float)(base_r + drift - z / beta);
    }
}

/* ---- accuracy on the stress set (long double reference) ---------------- */

static double ulp_of(long double r)
{
    int e;
    r = fabsl(r);
    if (r < (long double)FLT_MIN || r > (long double)FLT_MAX) return -1.0;
    frexpl(r, &e);
    return ldexp(1.0, e - 1 - 23);
}

/* err - kappa/2 in ulp, or -inf when the reference is not a normal float */
static double excess(float got, long double ref, long double kappa)
{
    double u = ulp_of(ref);
    if (u < 0) return -HUGE_VAL;
    return (double)(fabsl((long double)got - ref) / u - kappa / 2);
}

static long double softplus(long double x) { return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x)); }
static long double sigm(long double x) { return 1.0L / (1.0L + expl(-x)); }
static long double hexact(float pc, float pr, float rc, float rr)
{
    return ((long double)pc - rc) - ((long double)pr - rr);
}

#define STRESS 100000
static float spc[STRESS], spr[STRESS], src[STRESS], srr[STRESS], sup[STRESS];
static float sl[STRESS], sdc[STRESS], sdr[STRESS];

static double max_ulp_dpo(float beta)
{
    double worst = 0;
    size_t i;
    prefloss_dpo_loss(sl, sdc, sdr, spc, spr, src, srr, sup, STRESS, beta, 0.0f);
    for (i = 0; i < STRESS; i++) {
        long double z = beta * hexact(spc[i], spr[i], src[i], srr[i]);
        long double l = softplus(-z), g = -(long double)beta * sigm(-z) * sup[i];
        long double kl = fabsl(z * sigm(-z) / l), kg = fabsl(z * sigm(z));
        double e1 = excess(sl[i], l, kl), e2 = excess(sdc[i], g, kg), e3 = excess(sdr[i], -g, kg);
        if (e1 > worst) worst = e1;
        if (e2 > worst) worst = e2;
        if (e3 > worst) worst = e3;
    }
    return worst;
}

static double max_ulp_ipo(float beta)
{
    double worst = 0;
    size_t i;
    prefloss_ipo_loss(sl, sdc, sdr, spc, spr, src, srr, sup, STRESS, beta);
    for (i = 0; i < STRESS; i++) {
        long double h = hexact(spc[i], spr[i], src[i], srr[i]);
        long double d = h - 1.0L / (2.0L * beta);
        long double l = d * d, g = 2 * d * sup[i];
        long double kappa_l = fabsl(2 * h / d), kappa_g = fabsl(h / d);
        double e1 = excess(sl[i], l, kappa_l), e2 = excess(sdc[i], g, kappa_g);
        if (e1 > worst) worst = e1;
        if (e2 > worst) worst = e2;
    }
    return worst;
}

static double max_ulp_bt(void)
{
    double worst = 0;
    size_t i;
    /* scores: the policy log-ratio columns reused as reward-model scores */
    prefloss_bt_loss(sl, sdc, sdr, spc, spr, NULL, sup, STRESS, 0.0f);
    for (i = 0; i < STRESS; i++) {
        long double x = (long double)spc[i] - spr[i];
        long double l = softplus(-x), g = -sigm(-x) * sup[i];
        long double kl = fabsl(x * sigm(-x) / l), kg = fabsl(x * sigm(x));
        double e1 = excess(sl[i], l, kl), e2 = excess(sdc[i], g, kg);
        if (e1 > worst) worst = e1;
        if (e2 > worst) worst = e2;
    }
    return worst;
}

/* ---- the loss catalogue: every kind through prefloss_pair_loss() ------ */

/* Every kind of the catalogue but sigmoid and ipo (timed above through
 * their own entry points), with TRL's defaults for what they read (beta =
 * 0.1 throughout; robust eps = 0.1; exo_pair eps = 0, which means 1e-3;
 * discopop tau = 0.05; simpo gamma = 0.5; alpha 1; bco_pair delta 0), as
 * torch_bench.py computes them. Their long-double references and condition
 * numbers are those of the unit tests (tests/unit/catalogue_reference.h:
 * TRL v0.26's formulas, not the library's algorithms). */
typedef struct { const char *name; int kind; float eps; int refless; } cat_kind;
static const cat_kind CATALOGUE[] = {
    {"hinge", PREFLOSS_LOSS_HINGE, 0.0f, 0},         {"robust", PREFLOSS_LOSS_ROBUST, 0.1f, 0},
    {"exo_pair", PREFLOSS_LOSS_EXO_PAIR, 0.0f, 0},   {"apo_zero", PREFLOSS_LOSS_APO_ZERO, 0.0f, 0},
    {"discopop", PREFLOSS_LOSS_DISCOPOP, 0.0f, 0},   {"nca_pair", PREFLOSS_LOSS_NCA_PAIR, 0.0f, 0},
    {"bco_pair", PREFLOSS_LOSS_BCO_PAIR, 0.0f, 0},   {"sppo_hard", PREFLOSS_LOSS_SPPO_HARD, 0.0f, 0},
    {"apo_down", PREFLOSS_LOSS_APO_DOWN, 0.0f, 0},   {"js_divergence", PREFLOSS_LOSS_JS, 0.0f, 0},
    {"alpha_divergence", PREFLOSS_LOSS_ALPHA, 0.0f, 0},
    {"simpo", PREFLOSS_LOSS_SIMPO, 0.0f, 1},         {"cpo", PREFLOSS_LOSS_CPO, 0.0f, 1}};
#define N_CATALOGUE (sizeof CATALOGUE / sizeof CATALOGUE[0])
#define CAT_BETA 0.1f
#define CAT_TAU 0.05f
#define CAT_GAMMA 0.5f

static prefloss_pair_params cat_params(const cat_kind *k)
{
    prefloss_pair_params p;
    prefloss_pair_params_init(&p, sizeof p);
    p.beta = CAT_BETA;
    p.label_smoothing = k->eps;
    p.discopop_tau = CAT_TAU;
    p.simpo_gamma = CAT_GAMMA;
    return p;
}

/* simpo takes (mean) log-probs and no reference: it is given the stress
 * set's log-ratios pc - rc and pr - rr rounded to float, so that
 * beta (pc - pr) spans the stress set's z. */
static float sqc[STRESS], sqr[STRESS];

static double max_ulp_catalogue(const cat_kind *k)
{
    prefloss_pair_params p = cat_params(k);
    const float *a = k->refless ? sqc : spc, *b = k->refless ? sqr : spr;
    double worst = 0;
    size_t i;
    int o;
    if (prefloss_pair_loss(sl, sdc, sdr, a, b, k->refless ? NULL : src, k->refless ? NULL : srr, NULL, sup,
                           STRESS, k->kind, &p) != PREFLOSS_OK)
        return HUGE_VAL; /* no finite stress input fails: a broken call */
    for (i = 0; i < STRESS; i++) {
        pref r = reference(k->kind, &p, a[i], b[i], src[i], srr[i]);
        const float got[3] = {sl[i], sdc[i], sdr[i]};
        for (o = 0; o < 3; o++) {
            double e = excess(got[o], o == 0 ? r.v[0] : r.v[o] * sup[i], r.kappa[o]);
            if (e > worst) worst = e;
        }
    }
    return worst;
}

/* Token sums over masked rows, and the backward's per-token gradient. */
static double max_ulp_sequence(int reduction, int backward)
{
    enum { B = 16, T = 5000 };
    static float t[B * T], out[B], dt[B * T], dseq_in[B];
    static unsigned char m[B * T];
    double worst = 0;
    size_t b, j;
    for (j = 0; j < (size_t)B * T; j++) {
        t[j] = (float)(-1e4 * pow(uniform(), 3.0) * (uniform() < 0.05 ? 1.0 : 1e-3));
        m[j] = (unsigned char)(uniform() < 0.8);
    }
    for (b = 0; b < B; b++) dseq_in[b] = (float)(uniform() - 0.5);
    if (!backward) prefloss_sequence_logps(out, t, m, B, T, reduction);
    else prefloss_sequence_logps_backward(dt, dseq_in, m, B, T, reduction);
    for (b = 0; b < B; b++) {
        long double sum = 0, abs_sum = 0;
        size_t count = 0;
        for (j = 0; j < T; j++)
            if (m[b * T + j]) { sum += t[b * T + j]; abs_sum += fabsl((long double)t[b * T + j]); count++; }
        if (!backward) {
            long double ref = reduction == PREFLOSS_REDUCE_MEAN ? sum / (long double)count : sum;
            double e = excess(out[b], ref, abs_sum / fabsl(sum)); /* kappa of a sum */
            if (e > worst) worst = e;
        } else {
            long double g = reduction == PREFLOSS_REDUCE_MEAN ? (long double)dseq_in[b] / (long double)count
                                                              : (long double)dseq_in[b];
            for (j = 0; j < T; j++)
                if (m[b * T + j]) { double e = excess(dt[b * T + j], g, 0); if (e > worst) worst = e; }
        }
    }
    return worst;
}

/* ---- timing -------------------------------------------------------------- */

typedef int (*run_fn)(void);

static double median_seconds(run_fn fn)
{
    double t[REPS];
    int r;
    fn(); /* warm-up */
    for (r = 0; r < REPS; r++) {
        double t0 = now();
        fn();
        t[r] = now() - t0;
    }
    qsort(t, REPS, sizeof t[0], cmp_double);
    return t[REPS / 2];
}

/* Small sizes are repeated inside one timed run so that a run lasts long
 * enough for the clock; the per-call time is reported. */
static size_t inner = 1;
static size_t n_cur;
static float *pc, *pr, *rc, *rr, *lo, *dc, *dr, *tok, *dtok, *seq, *dseq;
static unsigned char *mask;
static char *msrc, *mdst;
static size_t mbytes;
static size_t seq_b, seq_t;

static int run_memcpy(void) { size_t k; for (k = 0; k < inner; k++) memcpy(mdst, msrc, mbytes); return mdst[mbytes / 2]; }
static int run_dpo(void) { size_t k; int s = 0; for (k = 0; k < inner; k++) s |= prefloss_dpo_loss(lo, dc, dr, pc, pr, rc, rr, NULL, n_cur, 0.1f, 0.0f); return s; }
static int run_cdpo(void) { size_t k; int s = 0; for (k = 0; k < inner; k++) s |= prefloss_dpo_loss(lo, dc, dr, pc, pr, rc, rr, NULL, n_cur, 0.1f, 0.1f); return s; }
static int run_ipo(void) { size_t k; int s = 0; for (k = 0; k < inner; k++) s |= prefloss_ipo_loss(lo, dc, dr, pc, pr, rc, rr, NULL, n_cur, 0.1f); return s; }
static int run_bt(void) { size_t k; int s = 0; for (k = 0; k < inner; k++) s |= prefloss_bt_loss(lo, dc, dr, pc, pr, NULL, NULL, n_cur, 0.0f); return s; }
/* the catalogue kind being timed: prefloss_pair_loss() as a caller makes it */
static const cat_kind *cat_cur;
static prefloss_pair_params cat_p;
static int run_catalogue(void)
{
    size_t k;
    int s = 0;
    const float *r1 = cat_cur->refless ? NULL : rc, *r2 = cat_cur->refless ? NULL : rr;
    for (k = 0; k < inner; k++)
        s |= prefloss_pair_loss(lo, dc, dr, pc, pr, r1, r2, NULL, NULL, n_cur, cat_cur->kind, &cat_p);
    return s;
}
static int run_seq_fwd(void) { size_t k; int s = 0; for (k = 0; k < inner; k++) s |= prefloss_sequence_logps(seq, tok, mask, seq_b, seq_t, PREFLOSS_REDUCE_SUM); return s; }
static int run_seq_bwd(void) { size_t k; int s = 0; for (k = 0; k < inner; k++) s |= prefloss_sequence_logps_backward(dtok, dseq, mask, seq_b, seq_t, PREFLOSS_REDUCE_SUM); return s; }

/* The stream ceilings: 4 floats in, 3 out (28 bytes) and 2 in, 3 out (20),
 * one operation per output, so that only the memory traffic is timed. */
static void stream28(float *restrict o1, float *restrict o2, float *restrict o3, const float *restrict a,
                     const float *restrict b, const float *restrict c, const float *restrict d, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) { o1[i] = a[i] + b[i]; o2[i] = c[i] + d[i]; o3[i] = a[i] + d[i]; }
}
static void stream20(float *restrict o1, float *restrict o2, float *restrict o3, const float *restrict a,
                     const float *restrict b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) { o1[i] = a[i] + b[i]; o2[i] = a[i] - b[i]; o3[i] = b[i] - a[i]; }
}
static int run_stream28(void) { size_t k; for (k = 0; k < inner; k++) stream28(lo, dc, dr, pc, pr, rc, rr, n_cur); return (int)lo[0]; }
static int run_stream20(void) { size_t k; for (k = 0; k < inner; k++) stream20(lo, dc, dr, pc, pr, n_cur); return (int)lo[0]; }

/* memcpy of `bytes` bytes, timed as the kernels are. */
static double memcpy_seconds(size_t bytes)
{
    mbytes = bytes;
    return median_seconds(run_memcpy);
}

/* PyTorch throughputs from torch_bench.py: lines "TORCH kernel=<k> n=<n> mpairs_s=<x>". */
static double torch_mpairs(const char *path, const char *kernel, size_t n)
{
    char line[256], k[64];
    unsigned long long nn;
    double x, found = -1.0;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return -1.0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "TORCH kernel=%63s n=%llu mpairs_s=%lf", k, &nn, &x) == 3
            && strcmp(k, kernel) == 0 && nn == (unsigned long long)n)
            found = x;
    fclose(f);
    return found;
}

/* The CEILING line: the stream loop's throughput, and its ratio to each
 * PyTorch baseline named in `torch_names` (comma-separated). */
static void report_ceiling(const char *kernel, size_t n, double seconds, double mseconds,
                           const char *torch_file, const char *torch_names)
{
    double mps = (double)n * (double)inner / seconds / 1e6;
    char names[256], *name, *save = NULL;
    int first = 1;
    printf("CEILING kernel=%s n=%zu mpairs_s=%.1f frac_memcpy=%.3f vs_torch=", kernel, n, mps,
           mseconds / seconds);
    snprintf(names, sizeof names, "%s", torch_names);
    for (name = strtok_r(names, ",", &save); name != NULL; name = strtok_r(NULL, ",", &save)) {
        double tm = torch_mpairs(torch_file, name, n);
        if (tm > 0) printf("%s%s:%.2f", first ? "" : ",", name, mps / tm);
        else printf("%s%s:na", first ? "" : ",", name);
        first = 0;
    }
    printf("\n");
    fflush(stdout);
}

static void report(const char *kernel, size_t n, double seconds, double mseconds,
                   const char *torch_file, const char *torch_name, double max_ulp)
{
    double mps = (double)n * (double)inner / seconds / 1e6;
    double tm = torch_name ? torch_mpairs(torch_file, torch_name, n) : -1.0;
    char vs[32];
    if (tm > 0) snprintf(vs, sizeof vs, "%.2f", mps / tm);
    else snprintf(vs, sizeof vs, "na");
    printf("BENCH kernel=%s n=%zu mpairs_s=%.1f frac_memcpy=%.3f vs_torch=%s max_ulp=%.2f\n",
           kernel, n, mps, mseconds / seconds, vs, max_ulp);
    fflush(stdout);
}

/* A catalogue kind's line: named by its TRL name, timed as the others. */
static void report_catalogue(const cat_kind *k, size_t n, double mseconds, const char *torch_file,
                             double max_ulp)
{
    cat_cur = k;
    cat_p = cat_params(k);
    if (run_catalogue() != PREFLOSS_OK) {
        fprintf(stderr, "bench: prefloss_pair_loss(%s) failed\n", k->name);
        exit(1);
    }
    report(k->name, n, median_seconds(run_catalogue), mseconds, torch_file, k->name, max_ulp);
}

int main(int argc, char **argv)
{
    const char *torch_file = argc > 1 ? argv[1] : NULL;
    const size_t sizes[2] = {1024, 4194304};
    size_t big = sizes[1], si, i;
    double acc_dpo, acc_ipo, acc_bt, acc_cat[N_CATALOGUE];

    /* the stress set, shared by the accuracy columns */
    fill_pairs(spc, spr, src, srr, STRESS, 0.1);
    for (i = 0; i < STRESS; i++) sup[i] = (float)(0.5 + uniform());
    acc_dpo = max_ulp_dpo(0.1f);
    acc_ipo = max_ulp_ipo(0.1f);
    acc_bt = max_ulp_bt();
    for (i = 0; i < STRESS; i++) {
        sqc[i] = (float)((double)spc[i] - (double)src[i]);
        sqr[i] = (float)((double)spr[i] - (double)srr[i]);
    }
    for (i = 0; i < N_CATALOGUE; i++) acc_cat[i] = max_ulp_catalogue(&CATALOGUE[i]);

    pc = malloc(big * sizeof *pc); pr = malloc(big * sizeof *pr);
    rc = malloc(big * sizeof *rc); rr = malloc(big * sizeof *rr);
    lo = malloc(big * sizeof *lo); dc = malloc(big * sizeof *dc); dr = malloc(big * sizeof *dr);
    msrc = malloc(big * 28); mdst = malloc(big * 28);
    if (!pc || !pr || !rc || !rr || !lo || !dc || !dr || !msrc || !mdst) return 1;
    fill_pairs(pc, pr, rc, rr, big, 0.1);
    memset(lo, 0, big * 4); memset(dc, 0, big * 4); memset(dr, 0, big * 4);
    memset(msrc, 1, big * 28); memset(mdst, 0, big * 28);

    for (si = 0; si < 2; si++) {
        size_t n = sizes[si];
        double m4, m3;
        n_cur = n;
        inner = n < 65536 ? 4096 : 1;
        /* a loss with both gradients reads 4 floats and writes 3: 28 bytes;
         * Bradley-Terry reads 2 and writes 3: 20 bytes */
        m4 = memcpy_seconds(n * 28);
        report("dpo", n, median_seconds(run_dpo), m4, torch_file, "dpo", acc_dpo);
        report("cdpo", n, median_seconds(run_cdpo), m4, torch_file, "cdpo", acc_dpo);
        report("ipo", n, median_seconds(run_ipo), m4, torch_file, "ipo", acc_ipo);
        /* the catalogue kinds with references: the same 28 bytes per pair */
        for (i = 0; i < N_CATALOGUE; i++)
            if (!CATALOGUE[i].refless) report_catalogue(&CATALOGUE[i], n, m4, torch_file, acc_cat[i]);
        report_ceiling("stream28", n, median_seconds(run_stream28), m4, torch_file,
                       "dpo,cdpo,ipo,hinge,robust,exo_pair,apo_zero,discopop,nca_pair,bco_pair,"
                       "sppo_hard,apo_down,js_divergence,alpha_divergence");
        m3 = memcpy_seconds(n * 20);
        report("bt", n, median_seconds(run_bt), m3, torch_file, "bt", acc_bt);
        /* reference-free kinds read 2 floats and write 3, as Bradley-Terry */
        for (i = 0; i < N_CATALOGUE; i++)
            if (CATALOGUE[i].refless) report_catalogue(&CATALOGUE[i], n, m3, torch_file, acc_cat[i]);
        report_ceiling("stream20", n, median_seconds(run_stream20), m3, torch_file, "bt,simpo,cpo");
    }

    /* sequence log-probs over B x T tokens with a byte mask */
    seq_b = 64; seq_t = 4096;
    {
        size_t tokens = seq_b * seq_t;
        double mf, mb;
        tok = malloc(tokens * 4); dtok = malloc(tokens * 4); mask = malloc(tokens);
        seq = malloc(seq_b * 4); dseq = malloc(seq_b * 4);
        if (!tok || !dtok || !mask || !seq || !dseq) return 1;
        for (i = 0; i < tokens; i++) { tok[i] = (float)(-8.0 * uniform()); mask[i] = (unsigned char)(uniform() < 0.9); }
        for (i = 0; i < seq_b; i++) dseq[i] = (float)uniform();
        memset(dtok, 0, tokens * 4);
        inner = 4;
        /* forward reads 4 + 1 bytes per token and writes a float per row */
        mf = memcpy_seconds(tokens * 5 + seq_b * 4);
        report("seq_logps_fwd", tokens, median_seconds(run_seq_fwd), mf, torch_file, "seq_logps_fwd",
               fmax(max_ulp_sequence(PREFLOSS_REDUCE_SUM, 0), max_ulp_sequence(PREFLOSS_REDUCE_MEAN, 0)));
        /* backward reads a mask byte and writes a float per token */
        mb = memcpy_seconds(tokens * 5 + seq_b * 4);
        report("seq_logps_bwd", tokens, median_seconds(run_seq_bwd), mb, torch_file, "seq_logps_bwd",
               fmax(max_ulp_sequence(PREFLOSS_REDUCE_SUM, 1), max_ulp_sequence(PREFLOSS_REDUCE_MEAN, 1)));
    }
    return 0;
}
