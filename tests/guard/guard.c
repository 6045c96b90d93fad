/*
 * tests/guard/guard.c — every buffer flush against a PROT_NONE page.
 *
 * Each buffer gets its own mapping [PROT_NONE page][data pages][PROT_NONE
 * page] and is placed either at the very start of the data (a read of
 * element -1 faults) or so that it ends at the very end (a read or write of
 * element n faults; its start is then misaligned by 4*n mod 64 bytes). For
 * n = 0..67 (crossing the vector widths and the 64-element chunk), every
 * placement pattern, optional pointers present or NULL, every entry point
 * runs, and its outputs must equal bit for bit those of a call on ordinary
 * heap buffers. A fault is a failure (SIGSEGV handler names the case).
 * The 1.1 entry points (every catalogue kind, the mixture, ORPO, KTO, its KL
 * estimate, BCO's running mean) likewise, with the parameter block (full,
 * or a short older block ending at its size), the kinds and the mixture
 * weights flush against a guard page too.
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "prefloss.h"

#define NMAX 67
#define NBUF 11
static size_t PAGE;
static char CASE[256];

static void on_segv(int sig)
{
    (void)sig;
    static const char m[] = "guard: SIGSEGV (out-of-bounds access) in case: ";
    if (write(2, m, sizeof m - 1) < 0) {}
    if (write(2, CASE, strlen(CASE)) < 0) {}
    if (write(2, "\n", 1) < 0) {}
    _exit(2);
}

typedef struct { unsigned char *base; size_t len; } region_t;
static region_t R[NBUF];

static void region_init(region_t *r, size_t bytes)
{
    size_t data = (bytes + PAGE - 1) / PAGE * PAGE;
    unsigned char *p = mmap(NULL, data + 2 * PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    if (mprotect(p, PAGE, PROT_NONE) || mprotect(p + PAGE + data, PAGE, PROT_NONE)) {
        perror("mprotect");
        exit(1);
    }
    r->base = p + PAGE;
    r->len = data;
}
/* a pointer to `bytes` bytes flush against the front or the back guard */
static void *place(int k, size_t bytes, int back)
{
    return back ? R[k].base + R[k].len - bytes : R[k].base;
}

static unsigned long long rng = 88172645463325252ULL;
static float rnd(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)(rng % 20001) / 10.0f - 1500.0f;
}

static float IN[5][NMAX + 1];
static unsigned char MASK[NMAX * NMAX + 64];

static int failures;
static void cmp(const void *a, const void *b, size_t bytes, const char *what)
{
    if (bytes && memcmp(a, b, bytes) != 0) {
        fprintf(stderr, "guard: %s differs from the heap run in case: %s\n", what, CASE);
        failures++;
    }
}

/* One pairwise function, all placements. fn: 0 dpo, 1 cdpo, 2 ipo, 3 ipo_general, 4 bt, 5 rewards */
static int call(int fn, float **o, const float **in, size_t n)
{
    switch (fn) {
    case 0: return prefloss_dpo_loss(o[0], o[1], o[2], in[0], in[1], in[2], in[3], in[4], n, 0.1f, 0.0f);
    case 1: return prefloss_dpo_loss(o[0], o[1], o[2], in[0], in[1], in[2], in[3], in[4], n, 0.5f, 0.1f);
    case 2: return prefloss_ipo_loss(o[0], o[1], o[2], in[0], in[1], in[2], in[3], in[4], n, 0.1f);
    case 3: return prefloss_ipo_general_loss(o[0], o[1], o[2], in[0], in[1], in[2], in[3], in[4], n, 0.1f, 0.0f, 1.0f);
    case 4: return prefloss_bt_loss(o[0], o[1], o[2], in[0], in[1], in[2], in[4], n, 0.0f);
    case 5: return prefloss_bt_loss(o[0], o[1], o[2], in[0], in[1], in[2], in[4], n, 0.01f);
    default: return prefloss_rewards(o[0], o[1], o[2], o[3], in[0], in[1], in[2], in[3], n, 0.1f);
    }
}

/* The 1.1 entry points. fn 0..14: prefloss_pair_loss of that kind; 15 the
 * mixture; 16 ORPO; 17 KTO; 18 its KL estimate; 19 BCO's running mean.
 * in: pc, pr, rc, rr, weights (KTO: desirable bytes), dlosses. */
#define NFN11 20
static float CIN[6][NMAX + 1];
static const int MIXK[3] = {PREFLOSS_LOSS_SIGMOID, PREFLOSS_LOSS_ALPHA, PREFLOSS_LOSS_SPPO_HARD};
static const float MIXW[3] = {0.5f, 1.0f, -0.25f};

static int call11(int fn, float **o, const float **in, const prefloss_pair_params *prm,
                  const int *kinds, const float *mw, size_t n)
{
    if (fn < 15)
        return prefloss_pair_loss(o[0], o[1], o[2], in[0], in[1], in[2], in[3], in[4], in[5], n, fn, prm);
    switch (fn) {
    case 15: return prefloss_pair_loss_mix(o[0], o[1], o[2], in[0], in[1], in[2], in[3], in[4], in[5], n,
                                           kinds, mw, 3, prm);
    case 16: return prefloss_orpo_loss(o[0], o[1], o[2], in[0], in[1], in[5], n, 0.1f, 1.0f);
    case 17: return prefloss_kto_loss(o[0], o[1], in[0], in[2], (const unsigned char *)in[4], in[5], n,
                                      0.1f, 0.3f, 1.0f, 1.33f);
    case 18: return prefloss_kto_kl(o[0], in[0], in[2], n);
    default: return prefloss_bco_update_delta(o[0], o[1], in[0], in[1], in[2], in[3], n, 0.1f);
    }
}

static int catalogue_cases(void)
{
    size_t n, k;
    int fn, pat, opt, cases = 0;
    prefloss_pair_params full;
    const size_t short_size = offsetof(prefloss_pair_params, alpha) + sizeof(float);
    for (k = 0; k < 6; k++)
        for (n = 0; n <= NMAX; n++) {
            float x = rnd();
            CIN[k][n] = k < 4 ? -(x < 0 ? -x : x) / 100.0f - 1e-3f  /* log-probs < 0 (ORPO's domain) */
                      : k == 4 ? 0.25f + (float)(n % 5) * 0.5f        /* per-pair weights */
                               : 1.0f + (float)(n % 7) * 0.25f;       /* dlosses */
        }
    prefloss_pair_params_init(&full, sizeof full);
    full.label_smoothing = 0.1f;
    full.alpha = 0.5f;
    full.bco_delta = 0.3f;
    full.nll_weight = 0.2f;
    for (fn = 0; fn < NFN11; fn++)
        for (n = 0; n <= NMAX; n++)
            for (pat = 0; pat < 6; pat++)
                for (opt = 0; opt < 8; opt++) {
                    float *o[3], ho[3][NMAX + 1];
                    const float *in[6], *hin[6];
                    const prefloss_pair_params *prm = NULL;
                    int *kinds;
                    float *mw;
                    int st, hst, j;
                    size_t bytes = n * sizeof(float);
                    size_t obytes = fn == 18 ? sizeof(float) : fn == 19 ? sizeof(float) : bytes;
                    int nout = fn < 17 ? 3 : fn == 17 || fn == 19 ? 2 : 1;
                    snprintf(CASE, sizeof CASE, "1.1 fn=%d n=%zu pattern=%d options=%d", fn, n, pat, opt);
                    for (j = 0; j < 9; j++) {
                        int back = pat == 0 ? 0 : pat == 1 ? 1 : pat == 2 ? j & 1 : pat == 3 ? !(j & 1)
                                 : (int)((((unsigned)j * 2654435761u) >> (pat + j)) & 1u);
                        if (j < 3) {
                            o[j] = place(j, obytes, back);
                        } else if (fn == 17 && j == 7) { /* KTO's desirable bytes */
                            void *p = place(j, n, back);
                            memcpy(p, MASK, n);
                            in[4] = p;
                        } else {
                            void *p = place(j, bytes, back);
                            memcpy(p, CIN[j - 3], bytes);
                            in[j - 3] = p;
                        }
                    }
                    /* the parameter block, the kinds and mix weights flush against a guard
                     * page too; a short (older) block ends where its size says */
                    if (pat % 3 == 0) {
                        prm = place(9, sizeof full, 1);
                        memcpy((void *)prm, &full, sizeof full);
                    } else if (pat % 3 == 1) {
                        prefloss_pair_params *sp = place(9, short_size, 1);
                        memcpy(sp, &full, short_size);
                        sp->size = short_size;
                        prm = sp;
                    }
                    kinds = place(10, sizeof MIXK, 0);
                    memcpy(kinds, MIXK, sizeof MIXK);
                    mw = place(10, sizeof MIXW, 1);
                    memcpy(mw, MIXW, sizeof MIXW);
                    for (j = 0; j < 6; j++) hin[j] = CIN[j];
                    if (fn == 17) hin[4] = (const float *)(const void *)MASK;
                    if ((opt & 1) && fn != 18) in[2] = in[3] = hin[2] = hin[3] = NULL; /* reference-free */
                    if (opt & 2) in[5] = hin[5] = NULL;                                /* no upstream gradient */
                    if ((opt & 4) && fn != 17) in[4] = hin[4] = NULL;                  /* no per-pair weights */
                    {
                        float *hop[3] = {ho[0], ho[1], ho[2]};
                        if (fn == 19) { /* the state: delta, count */
                            o[0][0] = ho[0][0] = 0.2f;
                            o[1][0] = ho[1][0] = 6.0f;
                        }
                        hst = call11(fn, hop, hin, prm, MIXK, MIXW, n);
                        st = call11(fn, o, in, prm, kinds, mw, n);
                        if (st != hst) { fprintf(stderr, "guard: status %d vs %d in %s\n", st, hst, CASE); failures++; }
                        if (hst < 0) { fprintf(stderr, "guard: status %d in %s\n", hst, CASE); failures++; }
                        for (j = 0; j < nout; j++) cmp(o[j], ho[j], obytes, "an output");
                    }
                    cases++;
                }
    return cases;
}

int main(void)
{
    size_t n, k;
    int fn, pat, opt, cases = 0;
    PAGE = (size_t)sysconf(_SC_PAGESIZE);
    signal(SIGSEGV, on_segv);
    signal(SIGBUS, on_segv);
    for (k = 0; k < NBUF; k++) region_init(&R[k], (NMAX * NMAX + 64) * sizeof(float));
    for (k = 0; k < 5; k++) for (n = 0; n <= NMAX; n++) IN[k][n] = rnd();
    for (n = 0; n <= NMAX; n++) IN[4][n] = 1.0f + (float)(n % 7) * 0.25f;
    for (k = 0; k < sizeof MASK; k++) MASK[k] = (unsigned char)((k * 7 + 3) % 5 != 0);

    /* pairwise entry points */
    for (fn = 0; fn <= 6; fn++)
        for (n = 0; n <= NMAX; n++)
            for (pat = 0; pat < 6; pat++)
                for (opt = 0; opt < 4; opt++) {
                    float *o[4], ho[4][NMAX + 1];
                    const float *in[5], *hin[5];
                    int st, hst, j;
                    size_t bytes = n * sizeof(float);
                    snprintf(CASE, sizeof CASE, "fn=%d n=%zu pattern=%d options=%d", fn, n, pat, opt);
                    for (j = 0; j < 9; j++) {
                        /* patterns: all front, all back, alternating (2), pseudo-random (2) */
                        int back = pat == 0 ? 0 : pat == 1 ? 1 : pat == 2 ? j & 1 : pat == 3 ? !(j & 1)
                                 : (int)((((unsigned)j * 2654435761u) >> (pat + j)) & 1u);
                        void *p = place(j, bytes, back);
                        if (j < 4) o[j] = p;
                        else {
                            memcpy(p, IN[j - 4], bytes);
                            in[j - 4] = p;
                        }
                    }
                    for (j = 0; j < 5; j++) hin[j] = IN[j];
                    if (opt & 1) in[2] = in[3] = hin[2] = hin[3] = NULL; /* reference-free / no margin */
                    if (opt & 2) in[4] = hin[4] = NULL;                  /* no upstream gradient */
                    {
                        float *hop[4] = {ho[0], ho[1], ho[2], ho[3]};
                        hst = call(fn, hop, hin, n);
                        st = call(fn, o, in, n);
                        if (st != hst) { fprintf(stderr, "guard: status %d vs %d in %s\n", st, hst, CASE); failures++; }
                        for (j = 0; j < (fn == 6 ? 4 : 3); j++) cmp(o[j], ho[j], bytes, "an output");
                    }
                    cases++;
                }

    /* sequence log-probs: rows x tokens, both reductions, mask or not */
    {
        size_t batch, T;
        int red, m;
        static float hout[NMAX * NMAX + 64], tok[NMAX * NMAX + 64];
        for (k = 0; k < sizeof tok / sizeof tok[0]; k++) tok[k] = rnd() / 100.0f;
        for (batch = 0; batch <= NMAX; batch += (batch < 10 ? 1 : 19))
            for (T = 0; T <= NMAX; T += (batch < 3 ? 1 : 11))
                for (red = 0; red < 2; red++)
                    for (m = 0; m < 2; m++)
                        for (pat = 0; pat < 4; pat++) {
                            size_t tb = batch * T * sizeof(float), bb = batch * sizeof(float);
                            float *out, *in, *bout, *bin;
                            unsigned char *mk = NULL;
                            int st, hst;
                            snprintf(CASE, sizeof CASE, "sequence batch=%zu T=%zu red=%d mask=%d pattern=%d",
                                     batch, T, red, m, pat);
                            in = place(0, tb, pat & 1);
                            out = place(1, bb, (pat >> 1) & 1);
                            memcpy(in, tok, tb);
                            if (m) { mk = place(2, batch * T, !(pat & 1)); memcpy(mk, MASK, batch * T); }
                            hst = prefloss_sequence_logps(hout, tok, m ? MASK : NULL, batch, T, red);
                            st = prefloss_sequence_logps(out, in, mk, batch, T, red);
                            if (st != hst) { fprintf(stderr, "guard: status %d vs %d in %s\n", st, hst, CASE); failures++; }
                            cmp(out, hout, bb, "seq_logps");
                            /* backward: dseq (batch) in, dtoken (batch*T) out */
                            bin = place(3, bb, pat & 1);
                            bout = place(4, tb, !((pat >> 1) & 1));
                            memcpy(bin, tok, bb);
                            hst = prefloss_sequence_logps_backward(hout, tok, m ? MASK : NULL, batch, T, red);
                            st = prefloss_sequence_logps_backward(bout, bin, mk, batch, T, red);
                            if (st != hst) { fprintf(stderr, "guard: status %d vs %d in %s\n", st, hst, CASE); failures++; }
                            cmp(bout, hout, tb, "dtoken_logps");
                            cases++;
                        }
    }
    cases += catalogue_cases();
    printf("guard: %d cases, %d failures\n", cases, failures);
    return failures != 0;
}
