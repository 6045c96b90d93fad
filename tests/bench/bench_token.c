/*
 * make bench (token stage): the speed of the from-logits entry points as
 * fractions of streams over the same logits in the same run, against a
 * three-pass C implementation in llm.c's CPU structure (softmax stored in a
 * second V-wide buffer, then the loss, then the backward; compiled with the
 * same flags), and against PyTorch (token_torch_bench.py, same `make bench`
 * run, passed in a file). Prints
 *
 *   BENCH kernel=token_fwd n=<rows> V=<V> mrows_s=<x> frac_read=<x> vs_3pass=<x> max_ulp=<x>
 *   BENCH kernel=token_bwd n=<rows> V=<V> mrows_s=<x> frac_memcpy=<x> vs_3pass=<x> max_rel=<x>
 *   BENCH kernel=pair_from_logits pairs=<B> T=<T> V=<V> ms=<x> frac_memcpy=<x>
 *         vs_3pass=<x> vs_torch=<x|na> peak_rss_mb=<x> torch_peak_rss_mb=<x|na> torch_base_rss_mb=<x>
 *
 * frac_read: the forward's throughput / a read-only stream (a vectorised
 * sum) over the same bytes; frac_memcpy (token_bwd): the in-place backward /
 * a memcpy of the same bytes; pair_from_logits: forward + in-place backward
 * of the whole step (reads the logits twice, writes them once) / a memcpy
 * of the logits plus a read stream of them (the same traffic). vs_3pass and
 * vs_torch are speed ratios (> 1: the library is faster). Each timing is
 * the median of REPS runs. peak_rss_mb is the peak resident set of a child
 * process that allocates the step's logits, targets and workspace and runs
 * one step; PyTorch's are its whole process after the steps and before
 * them (PyTorch and the inputs loaded).
 */
#define _DEFAULT_SOURCE /* wait4 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prefloss.h"

#define REPS 7
#define IGN (-100)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
typedef void (*run_fn)(void);
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

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double uniform(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}
static float gauss(void)
{
    double u1 = uniform() + 1e-300, u2 = uniform();
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* ---- the state of the current measurement ---------------------------------- */
static size_t N, V;               /* rows, vocabulary */
static float *X, *X0, *D, *LSE, *LP, *P3, *L3, *DST;
static int32_t *TG;
static volatile float sink;

/* a read-only stream: a vectorised sum of the same bytes */
static float read_stream(const float *restrict x, size_t n)
{
    float s[16] = {0}, t = 0;
    size_t j, k;
    for (j = 0; j + 16 <= n; j += 16)
        for (k = 0; k < 16; k++) s[k] += x[j + k];
    for (k = 0; k < 16; k++) t += s[k];
    return t;
}
static void run_read(void) { sink = read_stream(X, N * V); }
#ifdef HAVE_EXPF_STREAM
float bench_expf_row_sum(const float *x, size_t n, float m); /* expf_stream.c */
static void run_expf(void)
{
    size_t i;
    float s = 0.0f;
    for (i = 0; i < N; i++) s += bench_expf_row_sum(X + i * V, V, 8.0f);
    sink = s;
}
#endif
static void run_memcpy(void) { memcpy(DST, X, N * V * sizeof(float)); sink = DST[N * V / 2]; }
static void run_fwd(void)
{
    if (prefloss_token_logps(LP, LSE, X, TG, N, V, V, IGN) != PREFLOSS_OK) exit(1);
}
/* the in-place backward, each run on a fresh copy (the copy is not timed:
 * see run_bwd_timed) */
static double bwd_seconds(void)
{
    double t[REPS];
    int r;
    for (r = 0; r < REPS; r++) {
        double t0;
        memcpy(X, X0, N * V * sizeof(float));
        t0 = now();
        if (prefloss_token_logps_backward(X, V, NULL, X, V, LSE, TG, N, V, IGN) != PREFLOSS_OK) exit(1);
        t[r] = now() - t0;
    }
    qsort(t, REPS, sizeof t[0], cmp_double);
    memcpy(X, X0, N * V * sizeof(float));
    return t[REPS / 2];
}

/* ---- llm.c's CPU structure: softmax stored, loss, backward (3 passes) -------- */
static void three_pass_forward(float *restrict probs, float *restrict losses,
                               const float *restrict logits, const int32_t *targets, size_t n, size_t v)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *x = logits + i * v;
        float *p = probs + i * v, maxv = -INFINITY, sum = 0.0f;
        for (j = 0; j < v; j++) if (x[j] > maxv) maxv = x[j];
        for (j = 0; j < v; j++) { p[j] = expf(x[j] - maxv); sum += p[j]; }
        for (j = 0; j < v; j++) p[j] /= sum;
        losses[i] = targets[i] == IGN ? 0.0f : logf(p[targets[i]]);
    }
}
static void three_pass_backward(float *restrict dlogits, const float *restrict probs,
                                const int32_t *targets, size_t n, size_t v)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        float *d = dlogits + i * v;
        const float *p = probs + i * v;
        if (targets[i] == IGN) { for (j = 0; j < v; j++) d[j] = 0.0f; continue; }
        for (j = 0; j < v; j++) d[j] = -p[j];
        d[targets[i]] += 1.0f;
    }
}
static void run_3pass_fwd(void) { three_pass_forward(P3, L3, X, TG, N, V); }
static void run_3pass_bwd(void) { three_pass_backward(D, P3, TG, N, V); }

/* ---- accuracy ----------------------------------------------------------------- */
static double max_ulp_fwd(size_t rows)
{
    double worst = 0;
    size_t i, j;
    for (i = 0; i < rows; i++) {
        const float *x = X + i * V;
        long double m = x[0], s1 = 0, ref;
        size_t am = 0;
        int e;
        if (TG[i] == IGN) continue;
        for (j = 1; j < V; j++) if (x[j] > m) { m = x[j]; am = j; }
        for (j = 0; j < V; j++) if (j != am) s1 += expl((long double)x[j] - m);
        ref = ((long double)x[TG[i]] - m) - log1pl(s1);
        if (ref == 0) continue;
        frexpl(fabsl(ref), &e);
        {
            double u = (double)(fabsl((long double)LP[i] - ref) / ldexpl(1.0L, e - 24));
            if (u > worst) worst = u;
        }
    }
    return worst;
}
/* the largest relative error of a dlogits entry (g = 1), in units of 2^-24 */
static double max_rel_bwd(size_t rows)
{
    double worst = 0;
    size_t i, j;
    for (i = 0; i < rows; i++) {
        const float *x = X0 + i * V, *d = X + i * V;
        long double m = x[0], s = 0, L;
        if (TG[i] == IGN) continue;
        for (j = 1; j < V; j++) if (x[j] > m) m = x[j];
        for (j = 0; j < V; j++) s += expl((long double)x[j] - m);
        L = m + logl(s);
        for (j = 0; j < V; j++) {
            long double ref = ((int32_t)j == TG[i] ? 1 : 0) - expl((long double)x[j] - L);
            double r = (double)(fabsl((long double)d[j] - ref) / fabsl(ref) * 16777216.0L);
            if (fabsl(ref) > 1e-30L && r > worst) worst = r;
        }
    }
    return worst;
}

/* ---- the fused step ------------------------------------------------------------ */
static size_t B, T;
static float *XC, *XR, *XC0, *XR0, *WS;
static int32_t *TC, *TR;
static float LOSS[64], PC[64], PR[64], RC[64], RR[64], UP[64];

static void fused_once(void)
{
    prefloss_pair_params p;
    prefloss_pair_params_init(&p, sizeof p);
    if (prefloss_pair_loss_from_logits(LOSS, PC, PR, XC, XR, XC, XR, TC, TR, NULL, NULL, RC, RR, UP, B, T, V,
                                       V, IGN, 0, PREFLOSS_LOSS_SIGMOID, &p, WS, 2 * T) != PREFLOSS_OK)
        exit(1);
}
static double fused_seconds(void)
{
    double t[REPS];
    int r;
    size_t bytes = B * T * V * sizeof(float);
    for (r = 0; r < REPS; r++) {
        double t0;
        memcpy(XC, XC0, bytes);
        memcpy(XR, XR0, bytes);
        t0 = now();
        fused_once();
        t[r] = now() - t0;
    }
    qsort(t, REPS, sizeof t[0], cmp_double);
    return t[REPS / 2];
}
/* the same step in llm.c's structure: per side the softmax stored (a
 * second buffer as large as the logits), the token log-probs summed per
 * sequence, the DPO gradient, then the backward written over the stored
 * softmax (a third pass) */
static float *PROBS;
static float LC3[65536], LR3[65536];
static void three_pass_side(float *probs, size_t i, const int32_t *tg, float g)
{
    size_t r, j;
    for (r = i * T; r < (i + 1) * T; r++) {
        float *d = probs + r * V;
        if (tg[r] == IGN) { for (j = 0; j < V; j++) d[j] = 0.0f; continue; }
        for (j = 0; j < V; j++) d[j] = -g * d[j];
        d[tg[r]] += g;
    }
}
static void three_pass_step(void)
{
    size_t rows = B * T, i, r;
    float *pcb = PROBS, *prb = PROBS + rows * V;
    three_pass_forward(pcb, LC3, XC0, TC, rows, V);
    three_pass_forward(prb, LR3, XR0, TR, rows, V);
    for (i = 0; i < B; i++) {
        float pc = 0, pr = 0, z, g;
        for (r = i * T; r < (i + 1) * T; r++) { pc += LC3[r]; pr += LR3[r]; }
        z = 0.1f * ((pc - RC[i]) - (pr - RR[i]));
        g = -0.1f / (1.0f + expf(z)) * UP[i];
        three_pass_side(pcb, i, TC, g);
        three_pass_side(prb, i, TR, -g);
    }
    sink = pcb[0];
}
/* the step's memory traffic as streams: a read of both sides' logits and a
 * copy of them (the fused step reads each row twice, writes it once) */
static void run_traffic(void)
{
    size_t n = B * T * V;
    sink = read_stream(XC0, n) + read_stream(XR0, n);
    memcpy(PROBS, XC0, n * sizeof(float));
    memcpy(PROBS + n, XR0, n * sizeof(float));
}

/* A field of PyTorch's line for the current B, T, V in path; -1 if none. */
static double torch_value(const char *path, const char *key)
{
    char line[256], head[128];
    double v = -1;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return -1;
    snprintf(head, sizeof head, "TORCH kernel=pair_from_logits pairs=%zu T=%zu V=%zu ", B, T, V);
    while (fgets(line, sizeof line, f)) {
        const char *k = strstr(line, key);
        if (strncmp(line, head, strlen(head)) == 0 && k != NULL)
            v = atof(k + strlen(key));
    }
    fclose(f);
    return v;
}

static void alloc_step(void)
{
    size_t rows = B * T, i;
    XC = malloc(rows * V * sizeof(float)); XR = malloc(rows * V * sizeof(float));
    TC = malloc(rows * sizeof(int32_t)); TR = malloc(rows * sizeof(int32_t));
    WS = malloc(2 * T * sizeof(float));
    if (!XC || !XR || !TC || !TR || !WS) exit(2);
    for (i = 0; i < rows * V; i++) { XC[i] = 2.0f * gauss(); XR[i] = 2.0f * gauss(); }
    for (i = 0; i < rows; i++) {
        TC[i] = (i % T) < T / 4 ? IGN : (int32_t)(uniform() * (double)V);
        TR[i] = (i % T) < T / 4 ? IGN : (int32_t)(uniform() * (double)V);
    }
    for (i = 0; i < B; i++) { RC[i] = -900.0f; RR[i] = -905.0f; UP[i] = 1.0f / (float)B; }
}

/* One BENCH line for the fused step at B, T, V (set by the caller), against
 * the three-pass structure, the streams of the same traffic and PyTorch's
 * line for that size in torch_file. */
static int fused_step_line(const char *torch_file)
{
    int status;
    struct rusage ru;
    double rss_mb, t_step, t_3, t_traffic, torch_ms, torch_rss, torch_base;
    size_t bytes;
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) { /* the peak RSS of a process that runs one step */
        alloc_step();
        fused_once();
        _exit(0);
    }
    wait4(pid, &status, 0, &ru);
    rss_mb = (double)ru.ru_maxrss / 1024.0;
    alloc_step();
    bytes = B * T * V * sizeof(float);
    XC0 = malloc(bytes); XR0 = malloc(bytes);
    PROBS = malloc(2 * bytes);
    if (!XC0 || !XR0 || !PROBS) return 2;
    memcpy(XC0, XC, bytes); memcpy(XR0, XR, bytes);
    memset(PROBS, 0, 2 * bytes);
    t_step = fused_seconds();
    t_3 = median_seconds(three_pass_step);
    t_traffic = median_seconds(run_traffic);
    torch_ms = torch_value(torch_file, " ms=");
    torch_rss = torch_value(torch_file, " peak_rss_mb=");
    torch_base = torch_value(torch_file, " base_rss_mb=");
    printf("BENCH kernel=pair_from_logits pairs=%zu T=%zu V=%zu ms=%.2f frac_memcpy=%.3f vs_3pass=%.2f ",
           B, T, V, t_step * 1e3, t_traffic / t_step, t_3 / t_step);
    if (torch_ms > 0) printf("vs_torch=%.1f ", torch_ms / (t_step * 1e3));
    else printf("vs_torch=na ");
    printf("peak_rss_mb=%.1f ", rss_mb);
    if (torch_rss > 0) printf("torch_peak_rss_mb=%.1f torch_base_rss_mb=%.1f\n", torch_rss, torch_base);
    else printf("torch_peak_rss_mb=na\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *torch_file = argc > 1 && argv[1][0] != '\0' ? argv[1] : NULL;
    size_t i;
    double t_read, t_mem, t_fwd, t_bwd, t_3f, t_3b;

    if (argc == 5) { /* bench_token TORCH_FILE B T V: the fused step alone, at that size */
        B = (size_t)strtoul(argv[2], NULL, 10);
        T = (size_t)strtoul(argv[3], NULL, 10);
        V = (size_t)strtoul(argv[4], NULL, 10);
        if (B == 0 || B > 64 || T == 0 || B * T > 65536 || V == 0) return 2;
        return fused_step_line(torch_file);
    }

    /* ---- token_fwd / token_bwd: 512 rows at V = 32000 (65.5 MB) ---- */
    N = 512;
    V = 32000;
    X = malloc(N * V * sizeof(float)); X0 = malloc(N * V * sizeof(float));
    D = malloc(N * V * sizeof(float)); DST = malloc(N * V * sizeof(float));
    P3 = malloc(N * V * sizeof(float));
    LSE = malloc(N * sizeof(float)); LP = malloc(N * sizeof(float)); L3 = malloc(N * sizeof(float));
    TG = malloc(N * sizeof(int32_t));
    if (!X || !X0 || !D || !DST || !P3 || !LSE || !LP || !L3 || !TG) return 2;
    for (i = 0; i < N * V; i++) X[i] = 2.0f * gauss();
    for (i = 0; i < N; i++) TG[i] = (int32_t)(uniform() * (double)V);
    memcpy(X0, X, N * V * sizeof(float));
    memset(D, 0, N * V * sizeof(float));
    memset(DST, 0, N * V * sizeof(float));
    memset(P3, 0, N * V * sizeof(float));

    t_read = median_seconds(run_read);
    t_mem = median_seconds(run_memcpy);
    t_fwd = median_seconds(run_fwd);
    t_3f = median_seconds(run_3pass_fwd);
    t_3b = median_seconds(run_3pass_bwd);
    t_bwd = bwd_seconds();
#ifdef HAVE_EXPF_STREAM
    {
        double t_expf = median_seconds(run_expf);
        printf("INFO token: a ceiling, glibc's vectorised expf summing the same logits (no exact difference, "
               "no compensation, no maximum pass): frac_read=%.3f, %.2f x our forward's time\n",
               t_read / t_expf, t_expf / t_fwd);
    }
#else
    printf("INFO token: the libmvec expf ceiling was not built (frac_read=na)\n");
#endif
    printf("BENCH kernel=token_fwd n=%zu V=%zu mrows_s=%.4f frac_read=%.3f vs_3pass=%.2f max_ulp=%.2f\n", N, V,
           (double)N / t_fwd / 1e6, t_read / t_fwd, (t_3f + t_3b) / (t_fwd + t_bwd), max_ulp_fwd(32));
    /* the backward's accuracy on a row set written in place */
    if (prefloss_token_logps_backward(X, V, NULL, X, V, LSE, TG, 16, V, IGN) != PREFLOSS_OK) return 1;
    printf("BENCH kernel=token_bwd n=%zu V=%zu mrows_s=%.4f frac_memcpy=%.3f vs_3pass=%.2f max_rel=%.2f\n", N, V,
           (double)N / t_bwd / 1e6, t_mem / t_bwd, (t_3f + t_3b) / (t_fwd + t_bwd), max_rel_bwd(16));
    printf("INFO token: read %.2f GB/s, memcpy %.2f GB/s, fwd %.2f GB/s, bwd in place %.2f GB/s (r+w), "
           "3-pass fwd %.1f ms bwd %.1f ms, ours fwd %.1f ms bwd %.1f ms\n",
           (double)(N * V * 4) / t_read / 1e9, (double)(N * V * 4) / t_mem / 1e9,
           (double)(N * V * 4) / t_fwd / 1e9, (double)(N * V * 4) / t_bwd / 1e9, t_3f * 1e3, t_3b * 1e3,
           t_fwd * 1e3, t_bwd * 1e3);
    fflush(stdout);
    free(X); free(X0); free(D); free(DST); free(P3); free(LSE); free(LP); free(L3); free(TG);

    /* ---- pair_from_logits: B = 2 pairs, T = 128, V = 32000 (2 x 32.8 MB) ---- */
    B = 2;
    T = 128;
    V = 32000;
    return fused_step_line(torch_file);
}
