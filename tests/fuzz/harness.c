/*
 * tests/fuzz/harness.c — libFuzzer harnesses for every public entry point.
 *
 * One source, compiled once per entry point with -DFUZZ_TARGET=<n>:
 *
 *   1 dpo            prefloss_dpo_loss
 *   2 ipo            prefloss_ipo_loss
 *   3 ipo_general    prefloss_ipo_general_loss
 *   4 bt             prefloss_bt_loss
 *   5 rewards        prefloss_rewards
 *   6 seq            prefloss_sequence_logps
 *   7 seq_backward   prefloss_sequence_logps_backward
 *   8 status         version / strerror / status_name
 *   9 pair_loss      prefloss_pair_loss (every kind), prefloss_pair_params_init,
 *                    prefloss_loss_kind_name / _from_name
 *  10 pair_loss_mix  prefloss_pair_loss_mix
 *  11 orpo           prefloss_orpo_loss
 *  12 kto            prefloss_kto_loss, prefloss_kto_kl
 *  13 bco_update     prefloss_bco_update_delta
 *
 * The input bytes choose, in this order: the size(s), where every pointer
 * argument goes (NULL, its own exactly-sized heap block so that ASan sees
 * one element too far, or an offset into a shared arena so that outputs
 * overlap inputs or each other), the scalar parameters (from tables of
 * NaN, +-inf, +-0, negative, subnormal, huge and ordinary values, or raw
 * bits), then the input values (raw bit patterns over the whole float range,
 * specials, realistic log-probs, near-equal values). When the bytes run
 * out a PRNG seeded from them takes over, so every input is deterministic.
 *
 * Invariants checked (abort() on violation, so libFuzzer reports it):
 *   - the status is exactly the one docs/errors.md promises for the input
 *     (parameters first, then n == 0, size, NULL, overlap, non-finite);
 *   - on an error status no byte of any buffer changed; on success only the
 *     bytes of the requested outputs changed (inputs untouched);
 *   - per sample: non-finite inputs give NaN in every output of the sample
 *     (a non-finite upstream gradient: NaN gradients, exact loss);
 *   - otherwise no output is NaN, ever. Each output is compared with a
 *     float64 reference built on an EXACT evaluation of the log-prob
 *     differences (floating-point expansions): where the exact value fits in
 *     a float the output must be finite and close to it; where it exceeds
 *     FLT_MAX the output must be the infinity of its sign (docs/errors.md,
 *     last row). Losses are never negative; accuracies are 0 or 1 and equal
 *     to the exact comparison;
 *   - gradients agree in sign with a central finite difference of the
 *     library's own loss wherever the curvature bound makes the sign certain;
 *   - dL/dpr == -dL/dpc bit for bit (pairwise losses; BT without centering);
 *   - every output is bit-identical to a call that requests all outputs
 *     into private buffers (optional outputs do not change the others).
 *
 * The 1.1 entry points (targets 9-13) check the same status, untouched-byte
 * and NaN-placement invariants; instead of a float64 reference for every
 * catalogue kind (the unit tests do accuracy) they check: no NaN from finite
 * inputs where docs/errors.md promises none, finite outputs from MODERATE
 * inputs, gradient signs against finite differences of the library's own
 * loss (three step sizes that must agree; none where the loss's argument
 * crosses its bend within the smallest step), per-pair weights (every output is
 * the unweighted one times w_i, within 1 ulp), a mixture of one kind with
 * weight 1 equal to prefloss_pair_loss, and float64 references where they
 * are cheap (ORPO, KTO, the KL estimate, the BCO running mean). The kinds
 * and the fields each reads come from the library (prefloss_loss_kind_count,
 * prefloss_loss_kind_reads); the harness checks those answers: a field a
 * kind reads is range-checked, one it does not read changes nothing.
 *
 * Every invariant is checked strictly: the contract violations found so far
 * (K3-K6: KTO's check order, kto_kl's and bco_update_delta's overflow, NaN
 * instead of +-inf from finite extreme inputs) are fixed.
 */
/* The library is linked in, compiled once for every harness (fuzz.mk);
 * define FUZZ_SINGLE_FILE to compile it into this file instead. */
#ifdef FUZZ_SINGLE_FILE
#define PREFLOSS_IMPLEMENTATION
#endif
#include "prefloss.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_TARGET
#error "define FUZZ_TARGET"
#endif
#define T_DPO 1
#define T_IPO 2
#define T_IPOG 3
#define T_BT 4
#define T_REW 5
#define T_SEQ 6
#define T_SEQB 7
#define T_STATUS 8
#define T_PAIR 9
#define T_MIX 10
#define T_ORPO 11
#define T_KTO 12
#define T_BCO 13

/* What the current sample is, printed with a violation. */
static char CTX[512];

#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf(stderr, "INVARIANT VIOLATED (%s:%d): ", __FILE__, __LINE__);   \
        fprintf(stderr, __VA_ARGS__);                                          \
        fprintf(stderr, "\n  context: %s\n", CTX);                             \
        abort();                                                               \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Byte reader: the fuzzer's bytes, then a PRNG seeded from them            */
/* ------------------------------------------------------------------------ */

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    uint64_t s;
} rd_t;

static uint64_t sm64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint8_t u8(rd_t *r)
{
    if (r->pos < r->n) return r->p[r->pos++];
    return (uint8_t)(sm64(&r->s) >> 56);
}
static uint16_t u16(rd_t *r) { return (uint16_t)(u8(r) | (u8(r) << 8)); }
static uint32_t u32(rd_t *r) { return (uint32_t)u16(r) | ((uint32_t)u16(r) << 16); }
static float bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static int finitef_(float x) { return x - x == 0.0f; }

static const float SPECIALS[] = {
    0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
    1e-45f, -1e-45f, 1.0f, -1.0f, 1e30f, -1e30f, 3e38f, -3e38f, 1e20f, -1e20f,
    4.2535296e37f, -4.2535296e37f, 8.5070592e37f, 1.7014118e38f, 0.5f, 17.0f, -17.0f,
    88.0f, -104.0f, 104.0f, 1e-20f, 16777216.0f, -2000.0f};
#define NSPECIALS (sizeof SPECIALS / sizeof SPECIALS[0])

/* An input value: the whole float range, specials, and realistic values. */
static float gen_value(rd_t *r, float *last)
{
    uint8_t c = u8(r);
    float v;
    switch (c % 10) {
    case 0: case 1: v = bits(u32(r)); break;                       /* any bits */
    case 2: v = SPECIALS[u8(r) % NSPECIALS]; break;
    case 3: v = *last + (float)(int8_t)u8(r) * 0.0078125f; break;   /* near-equal */
    case 4: v = *last; break;                                       /* equal */
    case 5: v = (float)(int16_t)u16(r) / 64.0f; break;              /* moderate */
    case 6: v = bits(u32(r) & 0x87ffffffu); break;                  /* |v| < 2^-? .. small exps */
    case 7: v = bits((u32(r) & 0x803fffffu) | ((uint32_t)(110 + u8(r) % 40) << 23)); break;
    default: v = -(float)u16(r) * (2000.0f / 65535.0f); break;      /* log-prob */
    }
    *last = v;
    return v;
}

/* ------------------------------------------------------------------------ */
/* Parameters                                                               */
/* ------------------------------------------------------------------------ */

static float gen_beta(rd_t *r)
{
    static const float t[] = {0.1f, 1.0f, 0.5f, 2.0f, 0.01f, 10.0f, 1e-3f, 100.0f, FLT_MIN,
                              FLT_MAX, 1e-30f, 1e30f, 0.0f, -0.0f, -0.1f, NAN, INFINITY,
                              -INFINITY, 1e-40f, 5.877472e-39f, 1.1754942e-38f};
    uint8_t c = u8(r);
    if (c < 160) return t[c % 8];
    if (c < 230) return t[c % (sizeof t / sizeof t[0])];
    return bits(u32(r));
}
static float gen_eps(rd_t *r)
{
    static const float t[] = {0.0f, 0.1f, 0.5f, 0.25f, 1e-7f, 0.49999997f, -0.0f,
                              0.50000006f, -1e-45f, NAN, INFINITY, -INFINITY, 1.0f, -0.1f};
    uint8_t c = u8(r);
    if (c < 100) return 0.0f;
    if (c < 200) return (float)u16(r) * (0.5f / 65535.0f);
    if (c < 240) return t[c % (sizeof t / sizeof t[0])];
    return bits(u32(r));
}
static float gen_scalar(rd_t *r) /* alpha1, alpha2, center_coef */
{
    uint8_t c = u8(r);
    if (c < 60) return 0.0f;
    if (c < 150) return (float)(int16_t)u16(r) / 1024.0f;
    if (c < 200) return SPECIALS[u8(r) % NSPECIALS];
    if (c < 215) return FLT_MAX;
    return bits(u32(r));
}

/* ------------------------------------------------------------------------ */
/* Exact sums: floating-point expansions in double (Shewchuk)               */
/* ------------------------------------------------------------------------ */

#define EXP_MAX 1024
typedef struct { double e[EXP_MAX]; int n; } expn_t;

static void exp_add(expn_t *x, double b)
{
    int i, k = 0;
    double q = b;
    for (i = 0; i < x->n; i++) {
        double a = x->e[i];
        double s = q + a, bb = s - q, err = (q - (s - bb)) + (a - bb);
        if (err != 0.0) x->e[k++] = err;
        q = s;
    }
    if (q != 0.0 || k == 0) x->e[k++] = q;
    x->n = k;
}
/* The value rounded to double (components are increasing, non-overlapping). */
static double exp_value(const expn_t *x)
{
    double s = 0.0;
    int i;
    for (i = 0; i < x->n; i++) s += x->e[i];
    return s;
}
static int exp_sign(const expn_t *x)
{
    int i;
    for (i = x->n - 1; i >= 0; i--)
        if (x->e[i] != 0.0) return x->e[i] > 0 ? 1 : -1;
    return 0;
}
/* a - b - c + d exactly; the sign and the value in double. */
static double exact4(float a, float b, float c, float d, int *sign)
{
    expn_t x;
    x.n = 0;
    exp_add(&x, a);
    exp_add(&x, -(double)b);
    exp_add(&x, -(double)c);
    exp_add(&x, d);
    if (sign) *sign = exp_sign(&x);
    return exp_value(&x);
}

/* ------------------------------------------------------------------------ */
/* Reference checks                                                         */
/* ------------------------------------------------------------------------ */

#define BIG_LIM ((double)FLT_MAX * (1.0 + 1e-6))
#define FIT_LIM ((double)FLT_MAX * (1.0 - 1e-6))
#define TINY 1e-44 /* absolute slack: a few subnormal ulps */

/* MODERATE: every input and parameter of the sample is 0 or has a magnitude
 * in [2^-40, 2^40] (upstream gradients too): then every intermediate value
 * the library forms fits in a float, and an output whose exact value fits
 * must be finite. For more extreme inputs an intermediate may overflow
 * (e.g. beta*h beyond FLT_MAX while (1 - eps)*beta*h is not), and a finite
 * exact value may come out as +-inf: accepted there, but never NaN. */
static int MODERATE = 1; /* the sequence functions: always (no intermediate may overflow) */
static int moderate(double x)
{
    double a = fabs(x);
    return a == 0.0 || (a >= 0x1p-40 && a <= 0x1p40);
}

/* got must be the float near ref (tolerance tol) where ref fits, +-inf where
 * it exceeds the range, never NaN. */
static void check_value(const char *what, size_t i, float got, double ref, double tol)
{
    if (got != got) FAIL("%s[%zu] is NaN for finite inputs (reference %.9g)", what, i, ref);
    if (fabs(ref) <= FIT_LIM) {
        if (!MODERATE) return; /* extreme input: intermediate over/underflow allowed */
        if (!finitef_(got))
            FAIL("%s[%zu] = %g but the exact value %.9g fits in a float", what, i, (double)got, ref);
        if (fabs((double)got - ref) > tol + TINY)
            FAIL("%s[%zu] = %.9g, reference %.9g (tolerance %.3g)", what, i, (double)got, ref, tol);
    } else if (fabs(ref) >= BIG_LIM) {
        if (finitef_(got) || (got > 0) != (ref > 0))
            FAIL("%s[%zu] = %g but the exact value %.9g exceeds the float range", what, i,
                 (double)got, ref);
    }
}

static double softplus(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }
static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

/* ------------------------------------------------------------------------ */
/* Buffers: slots placed as NULL, own heap block, or inside a shared arena  */
/* ------------------------------------------------------------------------ */

#define ARENA_FLOATS 1400
#define MAXSLOTS 9

typedef struct {
    int is_out, elem, required; /* elem: 4 floats, 1 mask bytes */
    size_t count;               /* elements */
    unsigned char *p;           /* NULL, own block or arena pointer */
    unsigned char *own;         /* malloc'd block (freed at the end) */
    size_t own_bytes;
    unsigned char *snap;        /* copy of the own block before the call */
} slot_t;

typedef struct {
    _Alignas(64) unsigned char arena[ARENA_FLOATS * 4];
    unsigned char arena_snap[ARENA_FLOATS * 4];
    slot_t s[MAXSLOTS];
    int ns;
    int huge; /* size(s) overflow: nothing may be touched, pointers are fake */
} world_t;

static world_t W;

static void slot_place(rd_t *r, slot_t *s, int real)
{
    uint8_t mode = u8(r);
    size_t bytes = s->count * (size_t)s->elem;
    s->p = NULL;
    s->own = NULL;
    s->snap = NULL;
    if (s->required ? (mode % 16 == 0) : (mode % 4 == 0)) return; /* NULL */
    if (!real) { /* huge sizes: any non-NULL pointer; must never be touched */
        s->p = W.arena + 4 * (u8(r) % 16);
        return;
    }
    if (mode % 4 == 1 || bytes > sizeof W.arena) {
        s->own_bytes = bytes ? bytes : 1;
        s->own = (unsigned char *)malloc(s->own_bytes);
        s->snap = (unsigned char *)malloc(s->own_bytes);
        s->p = s->own;
        return;
    }
    if (s->elem == 4) {
        size_t room = ARENA_FLOATS - s->count + 1;
        s->p = W.arena + 4 * (u16(r) % room);
    } else {
        size_t room = sizeof W.arena - bytes + 1;
        s->p = W.arena + (u16(r) % room);
    }
}

static void fill_values(rd_t *r, unsigned char *p, size_t floats)
{
    static float last = -100.0f;
    size_t i;
    for (i = 0; i < floats; i++) {
        float v = gen_value(r, &last);
        memcpy(p + 4 * i, &v, 4);
    }
}
static void fill_mask(rd_t *r, unsigned char *p, size_t bytes)
{
    size_t i;
    uint8_t mode = u8(r);
    for (i = 0; i < bytes; i++) {
        uint8_t b = u8(r);
        p[i] = mode % 4 == 0 ? (unsigned char)b : (b % 3 == 0 ? 0 : (unsigned char)(b | 1));
    }
}

static int ranges_overlap(const slot_t *a, const slot_t *b)
{
    uintptr_t a0 = (uintptr_t)a->p, b0 = (uintptr_t)b->p;
    size_t ab = a->count * (size_t)a->elem, bb = b->count * (size_t)b->elem;
    if (!a->p || !b->p || !ab || !bb) return 0;
    return a0 < b0 + bb && b0 < a0 + ab;
}

/* Status for n > 0 (or batch > 0) without huge sizes: NULL, then overlap. */
static int expect_null_overlap(int ref_pair_a, int ref_pair_b)
{
    int i, j;
    for (i = 0; i < W.ns; i++)
        if (W.s[i].required && W.s[i].p == NULL) return PREFLOSS_ERR_NULL;
    if (ref_pair_a >= 0 && ((W.s[ref_pair_a].p == NULL) != (W.s[ref_pair_b].p == NULL)))
        return PREFLOSS_ERR_NULL;
    for (i = 0; i < W.ns; i++) {
        if (!W.s[i].is_out) continue;
        for (j = 0; j < W.ns; j++)
            if (j != i && ranges_overlap(&W.s[i], &W.s[j])) return PREFLOSS_ERR_OVERLAP;
    }
    return PREFLOSS_OK;
}

static void snapshot(void)
{
    int i;
    memcpy(W.arena_snap, W.arena, sizeof W.arena);
    for (i = 0; i < W.ns; i++)
        if (W.s[i].own) memcpy(W.s[i].snap, W.s[i].own, W.s[i].own_bytes);
}

/* Was byte q inside a requested output? */
static int in_output(const unsigned char *q)
{
    int i;
    for (i = 0; i < W.ns; i++) {
        const slot_t *s = &W.s[i];
        size_t b = s->count * (size_t)s->elem;
        if (s->is_out && s->p && q >= s->p && q < s->p + b) return 1;
    }
    return 0;
}

static void check_untouched(int status)
{
    size_t k;
    int i;
    for (k = 0; k < sizeof W.arena; k++)
        if (W.arena[k] != W.arena_snap[k] && (status < 0 || !in_output(W.arena + k)))
            FAIL("arena byte %zu changed (status %d)", k, status);
    for (i = 0; i < W.ns; i++) {
        const slot_t *s = &W.s[i];
        if (!s->own) continue;
        if ((status < 0 || !s->is_out) && memcmp(s->own, s->snap, s->own_bytes) != 0)
            FAIL("buffer of slot %d changed (status %d)", i, status);
    }
}

static void release(void)
{
    int i;
    for (i = 0; i < W.ns; i++) {
        free(W.s[i].own);
        free(W.s[i].snap);
        W.s[i].own = W.s[i].snap = NULL;
    }
}

static size_t gen_huge(rd_t *r)
{
    size_t lim = SIZE_MAX / 4; /* any n above it: n * 4 overflows */
    uint8_t c = u8(r);
    if (c % 3 == 0) return SIZE_MAX - u8(r);
    if (c % 3 == 1) return lim + 1 + u8(r);
    return lim + 1 + (size_t)u32(r) * (size_t)u32(r) % (SIZE_MAX - lim);
}

static void check_status(const char *fn, int got, int want)
{
    if (got != want) {
        int k, len = 0;
        for (k = 0; k < W.ns && len < 400; k++)
            len += snprintf(CTX + len, sizeof CTX - (size_t)len, " slot%d=%s%+ld(%zu)", k,
                            W.s[k].p == NULL ? "NULL" : W.s[k].own ? "own" : "arena",
                            W.s[k].p && !W.s[k].own ? (long)(W.s[k].p - W.arena) : 0L,
                            W.s[k].count);
    }
    if (got != want)
        FAIL("%s returned %d (%s), documented status is %d (%s)", fn, got,
             prefloss_status_name(got) ? prefloss_status_name(got) : "?", want,
             prefloss_status_name(want) ? prefloss_status_name(want) : "?");
}

static float F(const slot_t *s, size_t i) { float v; memcpy(&v, s->p + 4 * i, 4); return v; }
static float Fo(const slot_t *s, size_t i, float dflt) { return s->p ? F(s, i) : dflt; }

static int nanf_(float x) { return x != x; }

/* Distance in units in the last place (+0 and -0 are 0 apart). */
static uint32_t ordered_(float x)
{
    uint32_t u = fbits(x);
    return (u & 0x80000000u) ? 0x80000000u - (u & 0x7fffffffu) : u + 0x80000000u;
}
static uint32_t ulps(float a, float b)
{
    uint32_t x = ordered_(a), y = ordered_(b);
    return x > y ? x - y : y - x;
}

/* The library's loss with input k of one sample replaced by x (NAN if
 * unusable); used by fd_sign. */
typedef double (*loss_at_fn)(const void *ctx, int k, float x);
/* Whether the loss may bend within [xm, xp] in input k, so sharply that a
 * central difference over that interval averages slopes of both signs
 * (NULL: never). */
typedef int (*fd_bend_fn)(const void *ctx, int k, float xm, float xp);

/* The gradient g (per unit upstream) of the loss in input k at x0 must agree
 * in sign with central differences of the library's own loss, wherever
 * three step sizes (d, d/8, d/64) agree with each other and stand above the
 * rounding noise of the loss (then no curvature bound is needed). Two steps
 * are not enough: where beta*d is large both can straddle the same bend of
 * the loss and agree with each other but not with the slope at x0. Three
 * are not enough either where the bend is far narrower than the smallest
 * step (the loss turns within it and every difference sees the same mean
 * of the slopes on both sides): there bends() says so and nothing is
 * checked. */
#define FD_STEPS 3
static void fd_sign(const char *what, size_t i, double g, float x0, int k, loss_at_fn f,
                    fd_bend_fn bends, const void *ctx)
{
    double fd[FD_STEPS], noise[FD_STEPS], d = fabs((double)x0) * 0x1p-12;
    int s;
    if (g == 0.0 || g != g || !finitef_((float)g)) return;
    if (d < 0x1p-12) d = 0x1p-12;
    for (s = 0; s < FD_STEPS; s++) {
        double h = d / (double)(1 << (3 * s)), lp, lm, span;
        float xp = (float)((double)x0 + h), xm = (float)((double)x0 - h);
        span = (double)xp - (double)xm;
        if (span <= 0) return;
        /* the smallest step decides: a bend within it is within all three */
        if (s == FD_STEPS - 1 && bends != NULL && bends(ctx, k, xm, xp)) return;
        lp = f(ctx, k, xp);
        lm = f(ctx, k, xm);
        if (lp != lp || lm != lm || fabs(lp) > 1e30 || fabs(lm) > 1e30) return;
        fd[s] = (lp - lm) / span;
        noise[s] = (fabs(lp) + fabs(lm)) * 0x1p-19 / span + 1e-300;
        if (fd[s] == 0.0 || fabs(fd[s]) < 8 * noise[s]) return;
        /* each step is 8x smaller, so where the differences converge they
         * change by a small fraction (1/64 of the error before): a change of
         * over 1/8 means the curvature still dominates (discopop with
         * beta = 100, tau = 0.05 near z = 0 changed by 27% between the last
         * two steps, all three of the wrong sign) */
        if (s > 0 && ((fd[s] > 0) != (fd[s - 1] > 0) || fabs(fd[s - 1] - fd[s]) > 0.125 * fabs(fd[s])))
            return;
    }
    if ((g > 0) != (fd[FD_STEPS - 1] > 0))
        FAIL("%s[%zu]: gradient %.9g disagrees in sign with the finite differences %.9g, %.9g, %.9g "
             "of the loss", what, i, g, fd[0], fd[1], fd[2]);
}

/* Per-pair and mixture weights: ordinary, zero, negative, specials. */
static float gen_weight(rd_t *r)
{
    static const float t[] = {1.0f, 0.0f, -0.0f, 0.5f, 2.0f, -1.0f, 1e-3f, 3.0f, NAN, INFINITY,
                              -INFINITY, 1e30f, FLT_MAX, 1e-45f, -2.5f, 1e-20f};
    uint8_t c = u8(r);
    if (c < 80) return 1.0f;
    if (c < 170) return (float)u16(r) / 4096.0f;
    if (c < 245) return t[c % (sizeof t / sizeof t[0])];
    return bits(u32(r));
}
static void fill_weights(rd_t *r, unsigned char *p, size_t floats)
{
    size_t i;
    uint8_t mode = u8(r);
    for (i = 0; i < floats; i++) {
        float v = mode % 3 == 0 ? 1.0f : gen_weight(r);
        memcpy(p + 4 * i, &v, 4);
    }
}

#if FUZZ_TARGET <= T_BT
/* ------------------------------------------------------------------------ */
/* Pairwise losses: DPO, IPO, IPO general, Bradley–Terry                    */
/* ------------------------------------------------------------------------ */

enum { S_LOSS, S_DC, S_DR, S_PC, S_PR, S_RC, S_RR, S_UP }; /* BT: RC = margins */

typedef struct { float beta, eps, a1, a2, c; } params_t;

static int call(float *l, float *dc, float *dr, const float *pc, const float *pr,
                const float *rc, const float *rr, const float *up, size_t n, params_t p)
{
#if FUZZ_TARGET == T_DPO
    return prefloss_dpo_loss(l, dc, dr, pc, pr, rc, rr, up, n, p.beta, p.eps);
#elif FUZZ_TARGET == T_IPO
    return prefloss_ipo_loss(l, dc, dr, pc, pr, rc, rr, up, n, p.beta);
#elif FUZZ_TARGET == T_IPOG
    return prefloss_ipo_general_loss(l, dc, dr, pc, pr, rc, rr, up, n, p.beta, p.a1, p.a2);
#else
    (void)rr;
    return prefloss_bt_loss(l, dc, dr, pc, pr, rc, up, n, p.c);
#endif
}

static int params_ok(params_t p)
{
#if FUZZ_TARGET == T_BT
    return p.c >= 0.0f && p.c <= FLT_MAX;
#else
    int ok = p.beta >= FLT_MIN && p.beta <= FLT_MAX;
#if FUZZ_TARGET == T_DPO
    ok = ok && p.eps >= 0.0f && p.eps <= 0.5f;
#elif FUZZ_TARGET == T_IPOG
    ok = ok && finitef_(p.a1) && finitef_(p.a2) && p.a1 <= p.a2 && finitef_(p.a2 - p.a1);
#endif
    return ok;
#endif
}

/* Reference loss and dL/d(first input) (before the upstream factor) in
 * double, with an error allowance for each; curv bounds |d2L/dx2|. */
typedef struct { double loss, g_c, g_r, tol_loss, tol_g, curv; } ref_t;

static ref_t reference(float pc, float pr, float rc, float rr, params_t p)
{
    ref_t R;
#if FUZZ_TARGET == T_BT
    double x = exact4(pc, pr, rc, 0.0f, NULL); /* sw - sl - m */
    double sum = (double)pc + (double)pr;
    double dx = 1e-13 * fabs(x);
    double s = sigm(-x);
    R.loss = softplus(-x) + (double)p.c * sum * sum;
    R.g_c = -s + 2.0 * p.c * sum;
    R.g_r = s + 2.0 * p.c * sum;
    R.tol_loss = 2e-6 * R.loss + dx;
    R.tol_g = 2e-6 * (fabs(s) + fabs(2.0 * p.c * sum)) + dx;
    R.curv = 0.25 + 2.0 * p.c;
    (void)rr;
#else
    double h = exact4(pc, rc, pr, rr, NULL); /* (pc - rc) - (pr - rr) */
    double b = p.beta;
#if FUZZ_TARGET == T_DPO
    double z = b * h, dz = 1e-13 * fabs(z), e = p.eps;
    R.loss = (1.0 - e) * softplus(-z) + e * softplus(z);
    R.g_c = -b * (sigm(-z) - e);
    R.tol_loss = 2e-6 * R.loss + dz;
    R.tol_g = 2e-6 * fabs(R.g_c) + b * (dz + 1e-12);
    R.curv = b * b / 4.0;
#else
#if FUZZ_TARGET == T_IPO
    double off = 0.5 / b, slope = 1.0;
#else
    double off = ((double)p.a2 - (double)p.a1) / 2.0, slope = b; /* half-width */
#endif
    double y = slope * h - off;
    double dy = 1e-13 * (fabs(slope * h) + fabs(off)) + 3e-45; /* y may be subnormal */
    R.loss = y * y;
    R.g_c = 2.0 * slope * y;
    R.tol_loss = 2e-6 * R.loss + 2.0 * fabs(y) * dy + dy * dy;
    R.tol_g = 2e-6 * fabs(R.g_c) + 2.0 * slope * dy;
    R.curv = 2.0 * slope * slope;
#endif
    R.g_r = -R.g_c;
#endif
    return R;
}

/* Central finite difference of the library's loss in input k (0: first
 * score/log-prob, 1: second) for sample values v[4]; NAN if unusable. */
static double finite_diff(const float v[4], int k, params_t p, int has_ref, double *noise)
{
    float x0 = v[k];
    double d = fabs((double)x0) * 0x1p-12;
    float xp, xm, w[4], lp, lm;
    if (d < 0x1p-12) d = 0x1p-12;
    xp = (float)((double)x0 + d);
    xm = (float)((double)x0 - d);
    memcpy(w, v, sizeof w);
    w[k] = xp;
    if (call(&lp, NULL, NULL, &w[0], &w[1], has_ref ? &w[2] : NULL, has_ref ? &w[3] : NULL,
             NULL, 1, p) != PREFLOSS_OK) return NAN;
    w[k] = xm;
    if (call(&lm, NULL, NULL, &w[0], &w[1], has_ref ? &w[2] : NULL, has_ref ? &w[3] : NULL,
             NULL, 1, p) != PREFLOSS_OK) return NAN;
    if (!finitef_(lp) || !finitef_(lm)) return NAN;
    {
        double span = (double)xp - (double)xm;
        *noise = (fabs((double)lp) + fabs((double)lm)) * 0x1p-19 / span + 1e-300;
        if (span <= 0) return NAN;
        noise[1] = span;
        return ((double)lp - (double)lm) / span;
    }
}

static void check_fd(const char *what, size_t i, float got, double up, const float v[4], int k,
                     params_t p, int has_ref, double curv)
{
    double noise[2], fd, g;
    if (up == 0.0 || !finitef_(got) || got == 0.0f) return;
    fd = finite_diff(v, k, p, has_ref, noise);
    if (fd != fd) return;
    g = (double)got / up;
    if (fabs(g) > curv * noise[1] + 4.0 * noise[0] + 1e-30) {
        if ((fd > 0) != (g > 0) || fd == 0.0)
            FAIL("%s[%zu] = %.9g (per unit upstream %.9g) disagrees in sign with the finite "
                 "difference %.9g of the loss", what, i, (double)got, g, fd);
    }
}

static void run(rd_t *r)
{
    size_t n, i;
    params_t p;
    int want, got, huge, has_ref;
    const int bt = FUZZ_TARGET == T_BT;
    uint8_t c = u8(r);
    huge = c == 255;
    n = huge ? gen_huge(r) : (size_t)(c % 140);
    p.beta = gen_beta(r);
    p.eps = gen_eps(r);
    p.a1 = gen_scalar(r);
    p.a2 = gen_scalar(r);
    if (u8(r) % 4 != 0 && p.a1 > p.a2) { float t = p.a1; p.a1 = p.a2; p.a2 = t; }
    p.c = gen_scalar(r);
    memset(W.s, 0, sizeof W.s);
    W.ns = bt ? 7 : 8;
    for (i = 0; i < (size_t)W.ns; i++) {
        W.s[i].elem = 4;
        W.s[i].count = huge ? 0 : n;
        W.s[i].is_out = i <= S_DR;
        W.s[i].required = i == S_PC || i == S_PR;
    }
    for (i = 0; i < (size_t)W.ns; i++) slot_place(r, &W.s[i], !huge);
    fill_values(r, W.arena, ARENA_FLOATS);
    for (i = 0; i < (size_t)W.ns; i++) {
        if (!W.s[i].own) continue;
        if (W.s[i].is_out) {
            size_t k;
            for (k = 0; k < W.s[i].own_bytes; k++) W.s[i].own[k] = (unsigned char)(0xA5 ^ k);
        } else {
            fill_values(r, W.s[i].own, W.s[i].own_bytes / 4);
        }
    }
    {
        slot_t *S = W.s;
        slot_t *up = bt ? &S[6] : &S[S_UP];
        slot_t *rcs = &S[S_RC], *rrs = bt ? NULL : &S[S_RR];
        has_ref = rcs->p != NULL;
        if (!params_ok(p)) want = PREFLOSS_ERR_PARAM;
        else if (n == 0) want = PREFLOSS_OK;
        else if (huge) want = PREFLOSS_ERR_SIZE;
        else {
            want = expect_null_overlap(bt ? -1 : S_RC, bt ? -1 : S_RR);
            if (want == PREFLOSS_OK) {
                for (i = 0; i < n; i++) {
                    int bad = !finitef_(F(&S[S_PC], i)) || !finitef_(F(&S[S_PR], i)) ||
                              (rcs->p && !finitef_(F(rcs, i))) ||
                              (rrs && rrs->p && !finitef_(F(rrs, i))) ||
                              (up->p && !finitef_(F(up, i)));
                    if (bad) { want = PREFLOSS_NONFINITE; break; }
                }
            }
        }
        snapshot();
        got = call((float *)S[S_LOSS].p, (float *)S[S_DC].p, (float *)S[S_DR].p,
                   (const float *)S[S_PC].p, (const float *)S[S_PR].p, (const float *)rcs->p,
                   rrs ? (const float *)rrs->p : NULL, (const float *)up->p, n, p);
        check_status("call", got, want);
        check_untouched(got);
        if (got < 0 || n == 0) { release(); return; }

        /* the same call with every output requested, into private buffers */
        {
            float *all = (float *)malloc(3 * n * sizeof(float));
            int st2 = call(all, all + n, all + 2 * n, (const float *)S[S_PC].p,
                           (const float *)S[S_PR].p, (const float *)rcs->p,
                           rrs ? (const float *)rrs->p : NULL, (const float *)up->p, n, p);
            int k;
            check_status("call with all outputs", st2, got);
            for (k = 0; k < 3; k++)
                if (S[k].p && memcmp(S[k].p, all + (size_t)k * n, n * 4) != 0)
                    FAIL("output %d differs from the call that requests every output", k);
            free(all);
        }

        {
            int fd_checks = 0;
            for (i = 0; i < n; i++) {
                float v[4];
                int bad, bad_up;
                double upv;
                v[0] = F(&S[S_PC], i);
                v[1] = F(&S[S_PR], i);
                v[2] = Fo(rcs, i, 0.0f);
                v[3] = rrs ? Fo(rrs, i, 0.0f) : 0.0f;
                upv = Fo(up, i, 1.0f);
                snprintf(CTX, sizeof CTX, "n=%zu i=%zu in=(%a, %a, %a, %a) up=%a ref=%d beta=%a "
                         "eps=%a a1=%a a2=%a c=%a", n, i, (double)v[0], (double)v[1], (double)v[2],
                         (double)v[3], upv, has_ref, (double)p.beta, (double)p.eps, (double)p.a1,
                         (double)p.a2, (double)p.c);
                MODERATE = moderate(v[0]) && moderate(v[1]) && moderate(v[2]) && moderate(v[3]) &&
                           moderate(upv) && moderate(p.beta) && moderate(p.c) &&
                           moderate(p.a1) && moderate(p.a2);
                bad = !finitef_(v[0]) || !finitef_(v[1]) || !finitef_(v[2]) || !finitef_(v[3]);
                bad_up = bad || !finitef_((float)upv);
                if (bad) {
                    int k;
                    for (k = 0; k < 3; k++)
                        if (S[k].p && F(&S[k], i) == F(&S[k], i))
                            FAIL("output %d of sample %zu is not NaN though an input is not finite", k, i);
                    continue;
                }
                {
                    ref_t R = reference(v[0], v[1], v[2], v[3], p);
                    if (S[S_LOSS].p) {
                        float l = F(&S[S_LOSS], i);
                        if (l < 0.0f) FAIL("loss[%zu] = %g < 0", i, (double)l);
                        check_value("loss", i, l, R.loss, R.tol_loss);
                    }
                    if (bad_up) {
                        if (S[S_DC].p && F(&S[S_DC], i) == F(&S[S_DC], i))
                            FAIL("dchosen[%zu] not NaN for a non-finite dlosses", i);
                        if (S[S_DR].p && F(&S[S_DR], i) == F(&S[S_DR], i))
                            FAIL("drejected[%zu] not NaN for a non-finite dlosses", i);
                        continue;
                    }
                    if (S[S_DC].p)
                        check_value("dchosen", i, F(&S[S_DC], i), R.g_c * upv, R.tol_g * fabs(upv));
                    if (S[S_DR].p)
                        check_value("drejected", i, F(&S[S_DR], i), R.g_r * upv, R.tol_g * fabs(upv));
                    if (S[S_DC].p && S[S_DR].p && (!bt || p.c == 0.0f) &&
                        fbits(F(&S[S_DR], i)) != fbits(-F(&S[S_DC], i)))
                        FAIL("drejected[%zu] = %.9g is not -dchosen = %.9g", i,
                             (double)F(&S[S_DR], i), (double)-F(&S[S_DC], i));
                    /* finite differences on moderate inputs, a few per input */
                    if (fd_checks < 3 && fabs(v[0]) < 1e6 && fabs(v[1]) < 1e6 &&
                        fabs(v[2]) < 1e6 && fabs(v[3]) < 1e6 && fabs(R.loss) < 1e30) {
                        fd_checks++;
                        if (S[S_DC].p)
                            check_fd("dchosen", i, F(&S[S_DC], i), upv, v, 0, p, has_ref, R.curv);
                        if (S[S_DR].p)
                            check_fd("drejected", i, F(&S[S_DR], i), upv, v, 1, p, has_ref, R.curv);
                    }
                }
            }
        }
    }
    release();
}

#elif FUZZ_TARGET == T_REW
/* ------------------------------------------------------------------------ */
/* Rewards and accuracies                                                   */
/* ------------------------------------------------------------------------ */

static void run(rd_t *r)
{
    size_t n, i;
    float beta;
    int want, got, huge, k;
    uint8_t c = u8(r);
    slot_t *S = W.s;
    huge = c == 255;
    n = huge ? gen_huge(r) : (size_t)(c % 140);
    beta = gen_beta(r);
    memset(W.s, 0, sizeof W.s);
    W.ns = 8; /* 4 outputs, pc, pr, rc, rr */
    for (k = 0; k < W.ns; k++) {
        S[k].elem = 4;
        S[k].count = huge ? 0 : n;
        S[k].is_out = k < 4;
        S[k].required = k == 4 || k == 5;
    }
    for (k = 0; k < W.ns; k++) slot_place(r, &S[k], !huge);
    fill_values(r, W.arena, ARENA_FLOATS);
    for (k = 0; k < W.ns; k++)
        if (S[k].own) {
            if (S[k].is_out) memset(S[k].own, 0x5A, S[k].own_bytes);
            else fill_values(r, S[k].own, S[k].own_bytes / 4);
        }
    if (!(beta >= FLT_MIN && beta <= FLT_MAX)) want = PREFLOSS_ERR_PARAM;
    else if (n == 0) want = PREFLOSS_OK;
    else if (huge) want = PREFLOSS_ERR_SIZE;
    else {
        want = expect_null_overlap(6, 7);
        if (want == PREFLOSS_OK)
            for (i = 0; i < n; i++)
                if (!finitef_(F(&S[4], i)) || !finitef_(F(&S[5], i)) ||
                    !finitef_(Fo(&S[6], i, 0)) || !finitef_(Fo(&S[7], i, 0))) {
                    want = PREFLOSS_NONFINITE;
                    break;
                }
    }
    snapshot();
    got = prefloss_rewards((float *)S[0].p, (float *)S[1].p, (float *)S[2].p, (float *)S[3].p,
                           (const float *)S[4].p, (const float *)S[5].p, (const float *)S[6].p,
                           (const float *)S[7].p, n, beta);
    check_status("prefloss_rewards", got, want);
    check_untouched(got);
    if (got >= 0 && n > 0) {
        float *all = (float *)malloc(4 * n * sizeof(float));
        int st2 = prefloss_rewards(all, all + n, all + 2 * n, all + 3 * n, (const float *)S[4].p,
                                   (const float *)S[5].p, (const float *)S[6].p,
                                   (const float *)S[7].p, n, beta);
        check_status("prefloss_rewards (all outputs)", st2, got);
        for (k = 0; k < 4; k++)
            if (S[k].p && memcmp(S[k].p, all + (size_t)k * n, n * 4) != 0)
                FAIL("rewards output %d differs from the call that requests every output", k);
        free(all);
        for (i = 0; i < n; i++) {
            float pc = F(&S[4], i), pr = F(&S[5], i), rc = Fo(&S[6], i, 0), rr = Fo(&S[7], i, 0);
            int sign;
            double uc, ur, h;
            snprintf(CTX, sizeof CTX, "n=%zu i=%zu pc=%a pr=%a rc=%a rr=%a beta=%a", n, i,
                     (double)pc, (double)pr, (double)rc, (double)rr, (double)beta);
            if (!finitef_(pc) || !finitef_(pr) || !finitef_(rc) || !finitef_(rr)) {
                for (k = 0; k < 4; k++)
                    if (S[k].p && F(&S[k], i) == F(&S[k], i))
                        FAIL("rewards output %d of pair %zu not NaN for a non-finite input", k, i);
                continue;
            }
            MODERATE = moderate(pc) && moderate(pr) && moderate(rc) && moderate(rr) && moderate(beta);
            uc = exact4(pc, rc, 0, 0, NULL);
            ur = exact4(pr, rr, 0, 0, NULL);
            h = exact4(pc, rc, pr, rr, &sign);
            if (S[0].p) check_value("chosen_rewards", i, F(&S[0], i), beta * uc, 1e-6 * fabs(beta * uc));
            if (S[1].p) check_value("rejected_rewards", i, F(&S[1], i), beta * ur, 1e-6 * fabs(beta * ur));
            if (S[2].p) check_value("margins", i, F(&S[2], i), beta * h, 1e-6 * fabs(beta * h));
            if (S[3].p) {
                float a = F(&S[3], i);
                if (a != (sign > 0 ? 1.0f : 0.0f))
                    FAIL("accuracies[%zu] = %g, but (pc - rc) - (pr - rr) has sign %d exactly "
                         "(pc %a rc %a pr %a rr %a)", i, (double)a, sign, (double)pc, (double)rc,
                         (double)pr, (double)rr);
            }
        }
    }
    release();
}

#elif FUZZ_TARGET == T_SEQ || FUZZ_TARGET == T_SEQB
/* ------------------------------------------------------------------------ */
/* Sequence log-probs, forward and backward                                 */
/* ------------------------------------------------------------------------ */

static void run(rd_t *r)
{
    const int fwd = FUZZ_TARGET == T_SEQ;
    size_t batch, seq_len, tokens = 0, b, j;
    int reduction, want, got, huge = 0, k;
    uint8_t c = u8(r), red = u8(r);
    slot_t *S = W.s, *out = &W.s[0], *in = &W.s[1], *mask = &W.s[2];
    static const int reds[] = {2, -1, 3, 255, -2147483647 - 1, 2147483647};
    reduction = red < 240 ? red % 2 : reds[red % 6];
    if (c >= 250) { /* a size overflow */
        huge = 1;
        switch (c % 3) {
        case 0: batch = gen_huge(r); seq_len = u8(r) % 3; break; /* includes seq_len 0 */
        case 1: batch = 1 + u8(r); seq_len = gen_huge(r); break;
        default: batch = ((size_t)1 << (sizeof(size_t) * 4)) + u16(r);
                 seq_len = ((size_t)1 << (sizeof(size_t) * 4 - 2)) + u16(r); break;
        }
    } else {
        batch = c % 10;
        seq_len = u8(r) % 45;
        tokens = batch * seq_len;
    }
    memset(W.s, 0, sizeof W.s);
    W.ns = 3;
    out->is_out = 1;
    out->elem = 4;
    out->count = huge ? 0 : (fwd ? batch : tokens);
    out->required = fwd ? 1 : out->count > 0; /* dtoken: required only for tokens > 0 */
    in->elem = 4;
    in->count = huge ? 0 : (fwd ? tokens : batch);
    in->required = in->count > 0;
    mask->elem = 1;
    mask->count = huge ? 0 : tokens;
    for (k = 0; k < 3; k++) slot_place(r, &S[k], !huge);
    fill_values(r, W.arena, ARENA_FLOATS);
    if (!huge && mask->p && !(mask->own == NULL && u8(r) % 2)) fill_mask(r, mask->p, tokens);
    if (in->own) fill_values(r, in->own, in->own_bytes / 4);
    if (mask->own) fill_mask(r, mask->own, mask->own_bytes);
    if (out->own) memset(out->own, 0xC3, out->own_bytes);

    if (reduction != PREFLOSS_REDUCE_SUM && reduction != PREFLOSS_REDUCE_MEAN)
        want = PREFLOSS_ERR_PARAM;
    else if (batch == 0) want = PREFLOSS_OK;
    else if (huge) want = PREFLOSS_ERR_SIZE;
    else {
        want = expect_null_overlap(-1, -1);
        if (want == PREFLOSS_OK) {
            for (b = 0; b < batch && want == PREFLOSS_OK; b++) {
                if (fwd) {
                    for (j = 0; j < seq_len; j++)
                        if ((!mask->p || mask->p[b * seq_len + j]) && !finitef_(F(in, b * seq_len + j)))
                            want = PREFLOSS_NONFINITE;
                } else if (!finitef_(F(in, b))) {
                    want = PREFLOSS_NONFINITE;
                }
            }
        }
    }
    snapshot();
    if (fwd)
        got = prefloss_sequence_logps((float *)out->p, (const float *)in->p, mask->p, batch,
                                      seq_len, reduction);
    else
        got = prefloss_sequence_logps_backward((float *)out->p, (const float *)in->p, mask->p,
                                               batch, seq_len, reduction);
    check_status(fwd ? "prefloss_sequence_logps" : "prefloss_sequence_logps_backward", got, want);
    check_untouched(got);
    if (got >= 0 && batch > 0) {
        for (b = 0; b < batch; b++) {
            expn_t x;
            size_t count = 0;
            double abs_sum = 0.0;
            int bad = 0;
            x.n = 0;
            {
                int len = snprintf(CTX, sizeof CTX, "batch=%zu seq_len=%zu red=%d row %zu:", batch,
                                   seq_len, reduction, b);
                for (j = 0; j < seq_len && len < 400; j++)
                    len += snprintf(CTX + len, sizeof CTX - (size_t)len, " %s%a",
                                    (!mask->p || mask->p[b * seq_len + j]) ? "" : "~",
                                    fwd ? (double)F(in, b * seq_len + j) : (double)F(in, b));
            }
            for (j = 0; j < seq_len; j++) {
                int on = !mask->p || mask->p[b * seq_len + j];
                if (!on) continue;
                count++;
                if (fwd) {
                    float v = F(in, b * seq_len + j);
                    if (!finitef_(v)) bad = 1;
                    else { exp_add(&x, v); abs_sum += fabs((double)v); }
                }
            }
            if (fwd) {
                float v = F(out, b);
                double ref = exp_value(&x);
                /* a compensated sum is within ~u|S| + n u^2 sum|t| of the exact sum S
                 * (u = 2^-24): correctly rounded for one-signed tokens (log-probs),
                 * condition-bound where huge tokens cancel */
                double cancel_tol = (double)count * 0x1p-44 * abs_sum;
                if (reduction == PREFLOSS_REDUCE_MEAN) {
                    ref = count ? ref / (double)count : 0.0;
                    cancel_tol = count ? cancel_tol / (double)count : 0.0;
                }
                if (bad) {
                    if (v == v) FAIL("row %zu not NaN though a counted token is not finite", b);
                } else {
                    check_value("seq_logps", b, v, ref, fabs(ref) * 0x1p-22 + cancel_tol);
                }
            } else {
                float g = F(in, b), want_g;
                if (!finitef_(g)) want_g = NAN;
                else if (reduction == PREFLOSS_REDUCE_MEAN) want_g = count ? g / (float)count : 0.0f;
                else want_g = g;
                for (j = 0; j < seq_len; j++) {
                    int on = !mask->p || mask->p[b * seq_len + j];
                    float v = F(out, b * seq_len + j);
                    float w = on ? want_g : 0.0f;
                    if (w != w ? v == v : fbits(v) != fbits(w))
                        FAIL("dtoken[%zu,%zu] = %a, want %a", b, j, (double)v, (double)w);
                }
            }
        }
    }
    release();
}

#elif FUZZ_TARGET == T_STATUS
/* ------------------------------------------------------------------------ */
/* Status and version functions                                             */
/* ------------------------------------------------------------------------ */

static void run(rd_t *r)
{
    /* every status code, from the lowest (-6) up */
    static const char *names[] = {"PREFLOSS_ERR_UNSUPPORTED", "PREFLOSS_ERR_ROUNDING",
                                  "PREFLOSS_ERR_SIZE", "PREFLOSS_ERR_OVERLAP", "PREFLOSS_ERR_PARAM",
                                  "PREFLOSS_ERR_NULL", "PREFLOSS_OK", "PREFLOSS_NONFINITE"};
    int k;
    for (k = 0; k < 8; k++) {
        int code = (int)u32(r);
        const char *m = prefloss_strerror(code), *nm = prefloss_status_name(code);
        if (m == NULL || strlen(m) == 0) FAIL("strerror(%d) empty", code);
        if (code >= PREFLOSS_ERR_UNSUPPORTED && code <= PREFLOSS_NONFINITE) {
            if (nm == NULL || strcmp(nm, names[code - PREFLOSS_ERR_UNSUPPORTED]) != 0) FAIL("status_name(%d)", code);
            if (strcmp(m, "unknown status code") == 0) FAIL("strerror(%d) unknown", code);
        } else {
            if (nm != NULL) FAIL("status_name(%d) = %s for an unknown code", code, nm);
            if (strcmp(m, "unknown status code") != 0) FAIL("strerror(%d) = %s", code, m);
        }
    }
    if (strcmp(prefloss_version(), PREFLOSS_VERSION) != 0 ||
        prefloss_version_number() != PREFLOSS_VERSION_NUMBER ||
        prefloss_abi_version() != PREFLOSS_ABI_VERSION)
        FAIL("version functions disagree with the header");
}
#elif FUZZ_TARGET == T_PAIR || FUZZ_TARGET == T_MIX
/* ------------------------------------------------------------------------ */
/* The catalogue: prefloss_pair_loss (every kind), prefloss_pair_loss_mix   */
/* ------------------------------------------------------------------------ */

#include <stddef.h>

enum { C_LOSS, C_DC, C_DR, C_PC, C_PR, C_RC, C_RR, C_W, C_UP };
/* The kinds, and what each reads, come from the library's registry
 * (prefloss_loss_kind_count, prefloss_loss_kind_reads): the harness keeps
 * no copy. kind_names checks the registry's answers against its contract,
 * and run() that a field a kind does not read changes nothing, and that a
 * field it reads is range-checked. */
#define NK prefloss_loss_kind_count()
#define MAXMIX 5

/* prefloss_loss_kind_reads for a valid kind and a known field: 0 or 1 */
static int reads(int kind, const char *field)
{
    int r = prefloss_loss_kind_reads(kind, field);
    if (r != 0 && r != 1) FAIL("prefloss_loss_kind_reads(%d, \"%s\") = %d", kind, field, r);
    return r;
}
static int refless(int kind) { return kind >= 0 && kind < NK && !reads(kind, "reference"); }
/* losses of h (or of pc - pr) alone: dL/dpr = -dL/dpc */
static int h_only(int kind)
{
    return kind == PREFLOSS_LOSS_SIGMOID || kind == PREFLOSS_LOSS_IPO || kind == PREFLOSS_LOSS_HINGE ||
           kind == PREFLOSS_LOSS_ROBUST || kind == PREFLOSS_LOSS_EXO_PAIR ||
           kind == PREFLOSS_LOSS_DISCOPOP || kind == PREFLOSS_LOSS_SIMPO || kind == PREFLOSS_LOSS_CPO;
}

static int gen_kind(rd_t *r)
{
    const int odd[] = {-1, NK, NK + 1, 255, -NK, 1 << 16, 2147483647, -2147483647 - 1};
    uint8_t c = u8(r);
    if (c < 225) return c % NK;
    if (c < 250) return odd[c % 8];
    return (int)u32(r);
}
static float gen_tau(rd_t *r)
{
    static const float t[] = {0.05f, 1.0f, 0.5f, 1e-3f, FLT_MIN, 1e-40f, 0.0f, -0.0f,
                              1.0000001f, 2.0f, NAN, INFINITY, -0.05f, 1e-30f};
    uint8_t c = u8(r);
    if (c < 120) return 0.05f;
    if (c < 200) return (float)(1 + u16(r)) / 65536.0f;
    if (c < 245) return t[c % (sizeof t / sizeof t[0])];
    return bits(u32(r));
}
static float gen_alpha(rd_t *r)
{
    static const float t[] = {1.0f, 0.5f, 2.0f, 0.1f, 10.0f, FLT_MIN, 1e-40f, 0.0f, -1.0f,
                              NAN, INFINITY, FLT_MAX, 1e-30f, 100.0f};
    uint8_t c = u8(r);
    if (c < 120) return 1.0f;
    if (c < 200) return (float)(1 + u16(r)) / 8192.0f;
    if (c < 245) return t[c % (sizeof t / sizeof t[0])];
    return bits(u32(r));
}

/* The parameter block: NULL, or a malloc'd block of exactly the bytes its
 * size field claims (at least the size field itself; at most the struct),
 * so that ASan sees a read past the claimed size. */
typedef struct {
    prefloss_pair_params *blk;
    size_t alloc;
    unsigned char snap[sizeof(prefloss_pair_params)];
    prefloss_pair_params eff; /* the values the library must use */
    int size_bad;             /* size < sizeof(size_t) */
} pblk_t;
static pblk_t PB; /* this input's */

#define FIELD_END(f) (offsetof(prefloss_pair_params, f) + sizeof(float))
static void gen_params(rd_t *r, pblk_t *b)
{
    static const size_t ends[] = {sizeof(size_t), FIELD_END(beta), FIELD_END(label_smoothing),
                                  FIELD_END(discopop_tau), FIELD_END(alpha), FIELD_END(simpo_gamma),
                                  FIELD_END(bco_delta), FIELD_END(nll_weight), FIELD_END(beta) - 1, FIELD_END(alpha) - 2,
                                  sizeof(prefloss_pair_params) + 8};
    prefloss_pair_params p;
    size_t size;
    uint8_t m = u8(r);
    b->blk = NULL;
    b->alloc = 0;
    b->size_bad = 0;
    prefloss_pair_params_init(&b->eff, sizeof b->eff);
    if (m % 8 == 0) return; /* NULL: the defaults */
    if (prefloss_pair_params_init(&p, sizeof p) != PREFLOSS_OK || p.size != sizeof p)
        FAIL("prefloss_pair_params_init");
    if (u8(r) % 4) p.beta = gen_beta(r);
    if (u8(r) % 4) p.label_smoothing = gen_eps(r);
    if (u8(r) % 4) p.discopop_tau = gen_tau(r);
    if (u8(r) % 4) p.alpha = gen_alpha(r);
    if (u8(r) % 4) p.simpo_gamma = gen_scalar(r);
    if (u8(r) % 4) p.bco_delta = gen_scalar(r);
    if (u8(r) % 4 == 0) p.nll_weight = gen_scalar(r);
    switch (m % 8) {
    case 5: size = ends[u8(r) % (sizeof ends / sizeof ends[0])]; break;
    case 6: size = u8(r) % (sizeof p + 9); break; /* < sizeof(size_t), mid-field, larger */
    case 7: size = u8(r) % 2 ? SIZE_MAX - u8(r) : (size_t)u32(r); break;
    default: size = sizeof p; break;
    }
    p.size = size;
    b->alloc = size < sizeof p ? (size < sizeof(size_t) ? sizeof(size_t) : size) : sizeof p;
    b->blk = (prefloss_pair_params *)malloc(b->alloc);
    memcpy(b->blk, &p, b->alloc);
    memcpy(b->snap, b->blk, b->alloc);
    if (size < sizeof(size_t)) { b->size_bad = 1; return; }
#define TAKE(f) if (size >= FIELD_END(f)) b->eff.f = p.f
    TAKE(beta); TAKE(label_smoothing); TAKE(discopop_tau); TAKE(alpha); TAKE(simpo_gamma); TAKE(bco_delta);
    TAKE(nll_weight);
#undef TAKE
}

/* The parameter check the documentation promises for a kind, for the
 * fields the kind reads (prefloss_loss_kind_reads). */
static int kind_ok(int kind, const prefloss_pair_params *p)
{
    float e = p->label_smoothing;
    if (kind < 0 || kind >= NK) return 0;
    if (!(p->beta >= FLT_MIN && p->beta <= FLT_MAX) || !finitef_(p->nll_weight)) return 0;
    if (reads(kind, "label_smoothing") &&
        !(e >= 0.0f && (reads(kind, "label_smoothing<1/2") ? e < 0.5f : e <= 0.5f)))
        return 0;
    /* tau in (0, 1] and alpha finite > 0: subnormal values are refused like
     * beta's (the library checks >= FLT_MIN; docs/errors.md says so) */
    if (reads(kind, "discopop_tau") && !(p->discopop_tau >= FLT_MIN && p->discopop_tau <= 1.0f)) return 0;
    if (reads(kind, "alpha") && !(p->alpha >= FLT_MIN && p->alpha <= FLT_MAX)) return 0;
    if (reads(kind, "simpo_gamma") && !finitef_(p->simpo_gamma)) return 0;
    if (reads(kind, "bco_delta") && !finitef_(p->bco_delta)) return 0;
    return 1;
}
static int cat_moderate(double x)
{
    double a = fabs(x);
    return a == 0.0 || (a >= 0x1p-20 && a <= 0x1p20);
}
static int params_moderate(const prefloss_pair_params *p)
{
    return cat_moderate(p->beta) && cat_moderate(p->label_smoothing) &&
           cat_moderate(p->discopop_tau) && cat_moderate(p->alpha) &&
           cat_moderate(p->simpo_gamma) && cat_moderate(p->bco_delta) &&
           cat_moderate(p->nll_weight);
}
/* alpha_divergence: e^{-alpha u} (capped at e^88.72, about FLT_MAX) must
 * stay moderate too: |alpha u| <= 40 */
static int alpha_moderate(int kind, const float *v)
{
    double a = PB.eff.alpha;
    if (kind != PREFLOSS_LOSS_ALPHA) return 1;
    return fabs(a * ((double)v[0] - v[2])) <= 40 && fabs(a * ((double)v[1] - v[3])) <= 40;
}

typedef struct {
    int *kinds;   /* NULL or malloc'd nk ints */
    float *mw;    /* NULL or malloc'd nk floats */
    int kv[MAXMIX];
    float mv[MAXMIX];
    size_t nk;
} mix_t;

static int KIND;     /* T_PAIR: the kind of this input */
static mix_t MIX;    /* T_MIX */

static int call(float *l, float *dc, float *dr, const float *pc, const float *pr, const float *rc,
                const float *rr, const float *w, const float *up, size_t n)
{
#if FUZZ_TARGET == T_PAIR
    return prefloss_pair_loss(l, dc, dr, pc, pr, rc, rr, w, up, n, KIND, PB.blk);
#else
    return prefloss_pair_loss_mix(l, dc, dr, pc, pr, rc, rr, w, up, n, MIX.kinds, MIX.mw, MIX.nk, PB.blk);
#endif
}

/* fd_sign's loss: one pair (pc, pr, rc, rr), no weight, no upstream. */
typedef struct { float v[4]; int has_ref, kind; } one_t;
static double one_loss(const void *ctx, int k, float x)
{
    const one_t *o = (const one_t *)ctx;
    float w[4], l;
    memcpy(w, o->v, sizeof w);
    w[k] = x;
    if (prefloss_pair_loss(&l, NULL, NULL, &w[0], &w[1], o->has_ref ? &w[2] : NULL,
                           o->has_ref ? &w[3] : NULL, NULL, NULL, 1, o->kind, PB.blk) != PREFLOSS_OK)
        return NAN;
    return l;
}

/* softplus(x) = log(1 + e^x), without overflow */
static double softplus_(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* The arguments of the kind's loss at which it bends (in double, from the
 * formulas of the header), each with the width of its bend: the sigmoid
 * family's z, and the like (the loss turns within a few units of its
 * argument: the label-smoothed sigmoid's slope eps - sigma(-z) changes sign
 * at log((1-eps)/eps), hinge's at z = 1, apo_down's dL/dpc where |a| = |z|);
 * discopop bends on the scale tau. ipo and sppo_hard are quadratics. */
static int pair_args(int kind, const double v[4], int has_ref, double a[3], double width[3])
{
    const prefloss_pair_params *p = &PB.eff;
    double beta = p->beta, rc = has_ref ? v[2] : 0.0, rr = has_ref ? v[3] : 0.0;
    double uc = v[0] - rc, ur = v[1] - rr, h = uc - ur;
    int n = 0;
    width[0] = width[1] = width[2] = 0.25;
    switch (kind) {
    case PREFLOSS_LOSS_SIGMOID: case PREFLOSS_LOSS_HINGE: case PREFLOSS_LOSS_ROBUST:
    case PREFLOSS_LOSS_EXO_PAIR:
        a[n++] = beta * h;
        break;
    case PREFLOSS_LOSS_DISCOPOP:
        a[n++] = beta * h;
        width[0] = 0.25 * p->discopop_tau;
        break;
    case PREFLOSS_LOSS_NCA_PAIR: case PREFLOSS_LOSS_APO_ZERO:
        a[n++] = beta * uc;
        a[n++] = beta * ur;
        break;
    case PREFLOSS_LOSS_APO_DOWN:
        a[n++] = beta * uc;
        a[n++] = beta * ur;
        a[n++] = beta * h;
        break;
    case PREFLOSS_LOSS_BCO_PAIR:
        a[n++] = beta * uc - p->bco_delta;
        a[n++] = beta * ur - p->bco_delta;
        break;
    case PREFLOSS_LOSS_JS:
        a[n++] = beta * (softplus_(-ur) - softplus_(-uc));
        break;
    case PREFLOSS_LOSS_ALPHA: {
        /* (e^{-al ur} - e^{-al uc})/al, exponents capped at 88.7228; where
         * neither is capped as -e^{-al ur} expm1(-al h), exact to rounding */
        double al = p->alpha, xc = -al * uc, xr = -al * ur, cap = 88.7228;
        double d = xc < cap && xr < cap ? -exp(xr) * expm1(-al * h)
                                        : exp(xr < cap ? xr : cap) - exp(xc < cap ? xc : cap);
        a[n++] = beta * d / al;
        break;
    }
    case PREFLOSS_LOSS_SIMPO:
        a[n++] = beta * (v[0] - v[1]) - p->simpo_gamma;
        break;
    case PREFLOSS_LOSS_CPO:
        a[n++] = beta * (v[0] - v[1]);
        break;
    default: /* ipo, sppo_hard */
        break;
    }
    return n;
}

/* fd_sign's bend test for one pair: an argument of the loss that moves by
 * more than its bend's width between xm and xp (so the step does not
 * resolve the bend) while within 200 of 0, where the slope's sign can
 * change (beyond, the smoothed sigmoid's slope is constant to e^-200; with
 * an NLL term the slope's zero moves, but not beyond log(beta dz/dx /
 * lambda) < 200 for moderate parameters). */
static int pair_bends(const void *ctx, int k, float xm, float xp)
{
    const one_t *o = (const one_t *)ctx;
    double v[4], am[3], ap[3], wd[3];
    int j, n;
    for (j = 0; j < 4; j++) v[j] = o->v[j];
    v[k] = xm;
    n = pair_args(o->kind, v, o->has_ref, am, wd);
    v[k] = xp;
    pair_args(o->kind, v, o->has_ref, ap, wd);
    for (j = 0; j < n; j++) {
        double lo = am[j] < ap[j] ? am[j] : ap[j], hi = am[j] < ap[j] ? ap[j] : am[j];
        if (am[j] != am[j] || ap[j] != ap[j]) return 1;
        if (hi - lo > wd[j] && hi >= -200.0 && lo <= 200.0) return 1;
    }
    return 0;
}

/* What prefloss_loss_kind_reads says, checked against the library's
 * behaviour on this input (one field per input): a field the kind reads
 * is range-checked (NaN gives PREFLOSS_ERR_PARAM); one it does not read
 * changes nothing, bit for bit, nor do NULL references where it reads
 * none. all: the outputs of the call with every output, status got. */
static void reads_check(rd_t *r, const float *all, const float *pc, const float *pr, const float *rc,
                        const float *rr, const float *w, const float *up, size_t n, int got)
{
    static const char *const fields[] = {"label_smoothing", "discopop_tau", "alpha", "simpo_gamma",
                                         "bco_delta", "reference"};
    size_t f = u8(r) % (sizeof fields / sizeof fields[0]);
    prefloss_pair_params q = PB.eff;
    float *o;
    int st;
    if (f == 5 && (rc == NULL || reads(KIND, "reference"))) return;
    o = (float *)malloc(3 * n * sizeof(float));
    q.size = sizeof q;
    switch (f) {
    case 0: q.label_smoothing = NAN; break;
    case 1: q.discopop_tau = NAN; break;
    case 2: q.alpha = NAN; break;
    case 3: q.simpo_gamma = NAN; break;
    case 4: q.bco_delta = NAN; break;
    default: break;
    }
    st = prefloss_pair_loss(o, o + n, o + 2 * n, pc, pr, f == 5 ? NULL : rc, f == 5 ? NULL : rr, w, up,
                            n, KIND, &q);
    if (f < 5 && reads(KIND, fields[f])) {
        if (st != PREFLOSS_ERR_PARAM)
            FAIL("kind %d reads %s, but a NaN %s gives status %d", KIND, fields[f], fields[f], st);
    } else if (st != got || memcmp(o, all, 3 * n * sizeof(float)) != 0)
        FAIL("kind %d does not read %s, but %s changes the outputs (status %d, was %d)", KIND,
             fields[f], f == 5 ? "NULL references" : "a NaN value", st, got);
    free(o);
}

static void kind_names(rd_t *r)
{
    char name[24];
    size_t len = u8(r) % 20, j;
    int k, got;
    for (k = -2; k < NK + 2; k++) {
        const char *nm = prefloss_loss_kind_name(k);
        if ((k >= 0 && k < NK) != (nm != NULL)) FAIL("prefloss_loss_kind_name(%d)", k);
        if (nm && prefloss_loss_kind_from_name(nm) != k) FAIL("kind_from_name(kind_name(%d))", k);
    }
    if (prefloss_loss_kind_from_name(NULL) != PREFLOSS_ERR_NULL) FAIL("kind_from_name(NULL)");
    {
        /* prefloss_loss_kind_reads: every kind reads beta and nll_weight;
         * the open bound of label_smoothing only where it is read; unknown
         * kinds and fields are PREFLOSS_ERR_PARAM, a NULL field
         * PREFLOSS_ERR_NULL */
        static const char *const fields[] = {"beta", "label_smoothing", "label_smoothing<1/2",
                                             "discopop_tau", "alpha", "simpo_gamma", "bco_delta",
                                             "nll_weight", "reference"};
        static const char *const unknown[] = {"", "Beta", "beta ", "label_smoothing<", "size",
                                              "ref_chosen", "references", "label_smoothing<1/2 "};
        size_t f;
        if (NK < 15) FAIL("prefloss_loss_kind_count() = %d < 15", NK);
        for (k = -2; k < NK + 2; k++) {
            int valid = k >= 0 && k < NK;
            if (prefloss_loss_kind_reads(k, NULL) != PREFLOSS_ERR_NULL) FAIL("kind_reads(%d, NULL)", k);
            for (f = 0; f < sizeof fields / sizeof fields[0]; f++) {
                got = prefloss_loss_kind_reads(k, fields[f]);
                if (valid ? (got != 0 && got != 1) : got != PREFLOSS_ERR_PARAM)
                    FAIL("prefloss_loss_kind_reads(%d, \"%s\") = %d", k, fields[f], got);
            }
            for (f = 0; f < sizeof unknown / sizeof unknown[0]; f++)
                if (prefloss_loss_kind_reads(k, unknown[f]) != PREFLOSS_ERR_PARAM)
                    FAIL("prefloss_loss_kind_reads(%d, \"%s\") is not PREFLOSS_ERR_PARAM", k, unknown[f]);
            if (!valid) continue;
            if (reads(k, "beta") != 1 || reads(k, "nll_weight") != 1)
                FAIL("kind %d does not read beta or nll_weight", k);
            if (reads(k, "label_smoothing<1/2") && !reads(k, "label_smoothing"))
                FAIL("kind %d: label_smoothing<1/2 without label_smoothing", k);
        }
    }
    if (prefloss_pair_params_init(NULL, sizeof(prefloss_pair_params)) != PREFLOSS_ERR_NULL)
        FAIL("pair_params_init(NULL)");
    {
        /* init writes the size field and exactly the fields that fit in size
         * bytes; nothing for a size < sizeof(size_t) */
        size_t size = u8(r) % (sizeof(prefloss_pair_params) + 9), j;
        unsigned char *blk = (unsigned char *)malloc(size + 16), ref[sizeof(prefloss_pair_params) + 16];
        prefloss_pair_params d;
        int st;
        memset(blk, 0xA7, size + 16);
        memset(ref, 0xA7, sizeof ref);
        st = prefloss_pair_params_init((prefloss_pair_params *)blk, size);
        if (size < sizeof(size_t)) {
            if (st != PREFLOSS_ERR_PARAM) FAIL("pair_params_init(size %zu) = %d", size, st);
        } else {
            prefloss_pair_params_init(&d, sizeof d);
            d.size = size;
            memcpy(ref, &d, sizeof(size_t));
#define FITS(f) if (size >= FIELD_END(f)) memcpy(ref + offsetof(prefloss_pair_params, f), &d.f, sizeof d.f)
            FITS(beta); FITS(label_smoothing); FITS(discopop_tau); FITS(alpha); FITS(simpo_gamma);
            FITS(bco_delta); FITS(nll_weight);
#undef FITS
            if (st != PREFLOSS_OK) FAIL("pair_params_init(size %zu) = %d", size, st);
        }
        for (j = 0; j < size + 16 && j < sizeof ref; j++)
            if (blk[j] != ref[j]) FAIL("pair_params_init(size %zu): byte %zu is %02x, want %02x", size, j, blk[j], ref[j]);
        free(blk);
    }
    /* a name from the bytes: a kind's name, a prefix or extension of one, or noise */
    k = u8(r) % NK;
    snprintf(name, sizeof name, "%s", prefloss_loss_kind_name(k));
    switch (u8(r) % 4) {
    case 0: break;
    case 1: name[strlen(name) - 1] = 0; break;
    case 2: if (strlen(name) < sizeof name - 1) strcat(name, len % 2 ? "_" : " "); break;
    default: for (j = 0; j < len; j++) name[j] = (char)(1 + u8(r) % 255); name[len] = 0; break;
    }
    got = prefloss_loss_kind_from_name(name);
    for (k = 0; k < NK; k++)
        if (strcmp(name, prefloss_loss_kind_name(k)) == 0) break;
    if (got != (k < NK ? k : PREFLOSS_ERR_PARAM))
        FAIL("prefloss_loss_kind_from_name(\"%s\") = %d", name, got);
}

static void run(rd_t *r)
{
    size_t n, i, k;
    int want, got, huge, uses_ref = 0;
    uint8_t c = u8(r);
    slot_t *S = W.s;
    float *all = NULL, *uw = NULL, *nu = NULL, *terms = NULL;
    int mkinds_snap[MAXMIX];
    float mw_snap[MAXMIX];
    const int pair = FUZZ_TARGET == T_PAIR;
    huge = c == 255;
    n = huge ? gen_huge(r) : (size_t)(c % 140);
#if FUZZ_TARGET == T_PAIR
    kind_names(r);
    KIND = gen_kind(r);
#else
    {
        uint8_t m = u8(r);
        MIX.nk = m % (MAXMIX + 1);
        for (k = 0; k < MIX.nk; k++) {
            MIX.kv[k] = u8(r) < 230 ? (int)(u8(r) % NK) : gen_kind(r);
            MIX.mv[k] = MIX.nk == 1 && m >= 128 ? 1.0f : gen_weight(r);
        }
        MIX.kinds = NULL;
        MIX.mw = NULL;
        if (u8(r) % 16 != 0 || (MIX.nk == 0 && u8(r) % 2)) {
            MIX.kinds = (int *)malloc((MIX.nk ? MIX.nk : 1) * sizeof(int));
            memcpy(MIX.kinds, MIX.kv, MIX.nk * sizeof(int));
        }
        if (u8(r) % 16 != 0 || (MIX.nk == 0 && u8(r) % 2)) {
            MIX.mw = (float *)malloc((MIX.nk ? MIX.nk : 1) * sizeof(float));
            memcpy(MIX.mw, MIX.mv, MIX.nk * sizeof(float));
        }
        memcpy(mkinds_snap, MIX.kv, sizeof mkinds_snap);
        memcpy(mw_snap, MIX.mv, sizeof mw_snap);
    }
#endif
    gen_params(r, &PB);
    memset(W.s, 0, sizeof W.s);
    W.ns = 9;
    for (k = 0; k < 9; k++) {
        S[k].elem = 4;
        S[k].count = huge ? 0 : n;
        S[k].is_out = k <= C_DR;
        S[k].required = k == C_PC || k == C_PR;
    }
    for (k = 0; k < 9; k++) slot_place(r, &S[k], !huge);
    fill_values(r, W.arena, ARENA_FLOATS);
    if (!huge && S[C_W].p && !S[C_W].own && u8(r) % 2) fill_weights(r, S[C_W].p, n);
    for (k = 0; k < 9; k++) {
        if (!S[k].own) continue;
        if (S[k].is_out) memset(S[k].own, 0x7B, S[k].own_bytes);
        else if (k == C_W) fill_weights(r, S[k].own, S[k].own_bytes / 4);
        else fill_values(r, S[k].own, S[k].own_bytes / 4);
    }
#if FUZZ_TARGET == T_PAIR
    uses_ref = !refless(KIND);
#else
    for (k = 0; k < MIX.nk; k++) uses_ref |= !refless(MIX.kv[k]);
#endif

    if (PB.blk && PB.size_bad) want = PREFLOSS_ERR_PARAM;
    else {
        want = PREFLOSS_OK;
#if FUZZ_TARGET == T_PAIR
        if (!kind_ok(KIND, &PB.eff)) want = PREFLOSS_ERR_PARAM;
#else
        if (MIX.nk > 0 && (MIX.kinds == NULL || MIX.mw == NULL)) want = PREFLOSS_ERR_NULL;
        else
            for (k = 0; k < MIX.nk; k++)
                if (!kind_ok(MIX.kv[k], &PB.eff) || !finitef_(MIX.mv[k])) want = PREFLOSS_ERR_PARAM;
#endif
    }
    if (want != PREFLOSS_OK) {}
    else if (n == 0) want = PREFLOSS_OK;
    else if (huge) want = PREFLOSS_ERR_SIZE;
    else {
        want = expect_null_overlap(C_RC, C_RR);
        if (want == PREFLOSS_OK && (pair || MIX.nk > 0))
            for (i = 0; i < n; i++)
                if (!finitef_(F(&S[C_PC], i)) || !finitef_(F(&S[C_PR], i)) ||
                    (uses_ref && S[C_RC].p && (!finitef_(F(&S[C_RC], i)) || !finitef_(F(&S[C_RR], i)))) ||
                    !finitef_(Fo(&S[C_W], i, 1)) || !finitef_(Fo(&S[C_UP], i, 1))) {
                    want = PREFLOSS_NONFINITE;
                    break;
                }
    }
    snprintf(CTX, sizeof CTX, "n=%zu kind=%d nk=%zu params=%s size=%zu beta=%a eps=%a tau=%a "
             "alpha=%a gamma=%a delta=%a", huge ? 0 : n, KIND, MIX.nk, PB.blk ? "block" : "NULL",
             PB.blk ? PB.blk->size : 0, (double)PB.eff.beta, (double)PB.eff.label_smoothing,
             (double)PB.eff.discopop_tau, (double)PB.eff.alpha, (double)PB.eff.simpo_gamma,
             (double)PB.eff.bco_delta);
    snapshot();
    got = call((float *)S[C_LOSS].p, (float *)S[C_DC].p, (float *)S[C_DR].p, (const float *)S[C_PC].p,
               (const float *)S[C_PR].p, (const float *)S[C_RC].p, (const float *)S[C_RR].p,
               (const float *)S[C_W].p, (const float *)S[C_UP].p, n);
    check_status(pair ? "prefloss_pair_loss" : "prefloss_pair_loss_mix", got, want);
    check_untouched(got);
    if (PB.blk && memcmp(PB.blk, PB.snap, PB.alloc) != 0) FAIL("the parameter block changed");
    if ((MIX.kinds && memcmp(MIX.kinds, mkinds_snap, MIX.nk * sizeof(int)) != 0) ||
        (MIX.mw && memcmp(MIX.mw, mw_snap, MIX.nk * sizeof(float)) != 0))
        FAIL("kinds or mix_weights changed");
    if (got < 0 || n == 0) goto done;

    {
        const float *pc = (const float *)S[C_PC].p, *pr = (const float *)S[C_PR].p;
        const float *rc = (const float *)S[C_RC].p, *rr = (const float *)S[C_RR].p;
        const float *w = (const float *)S[C_W].p, *up = (const float *)S[C_UP].p;
        int st2;
#if FUZZ_TARGET == T_PAIR
        int fd_checks = 0;
#endif
        all = (float *)malloc(3 * n * sizeof(float));
        uw = (float *)malloc(3 * n * sizeof(float));
        nu = (float *)malloc(3 * n * sizeof(float));
        /* every output requested: bit-identical */
        st2 = call(all, all + n, all + 2 * n, pc, pr, rc, rr, w, up, n);
        check_status("call with all outputs", st2, got);
        for (k = 0; k < 3; k++)
            if (S[k].p && memcmp(S[k].p, all + k * n, n * 4) != 0)
                FAIL("output %zu differs from the call that requests every output", k);
#if FUZZ_TARGET == T_PAIR
        reads_check(r, all, pc, pr, rc, rr, w, up, n, got);
#endif
        /* without weights, and without the upstream gradient */
        call(uw, uw + n, uw + 2 * n, pc, pr, rc, rr, NULL, up, n);
        call(nu, nu + n, nu + 2 * n, pc, pr, rc, rr, w, NULL, n);
#if FUZZ_TARGET == T_MIX
        terms = (float *)malloc((MIX.nk ? MIX.nk : 1) * 3 * n * sizeof(float));
        for (k = 0; k < MIX.nk; k++)
            prefloss_pair_loss(terms + 3 * n * k, terms + 3 * n * k + n, terms + 3 * n * k + 2 * n, pc,
                               pr, rc, rr, w, up, n, MIX.kv[k], PB.blk);
#endif
        for (i = 0; i < n; i++) {
            float v[4], wi = w ? w[i] : 1.0f, upi = up ? up[i] : 1.0f;
            int bad_in, bad_w, bad_up;
            v[0] = pc[i]; v[1] = pr[i];
            v[2] = rc ? rc[i] : 0.0f; v[3] = rr ? rr[i] : 0.0f;
            {
                int len = snprintf(CTX, sizeof CTX, "n=%zu i=%zu kind=%d in=(%a, %a, %a, %a) w=%a up=%a "
                                   "beta=%a eps=%a tau=%a alpha=%a gamma=%a delta=%a nll=%a", n, i,
                                   KIND, (double)v[0], (double)v[1], (double)v[2], (double)v[3],
                                   (double)wi, (double)upi, (double)PB.eff.beta,
                                   (double)PB.eff.label_smoothing, (double)PB.eff.discopop_tau,
                                   (double)PB.eff.alpha, (double)PB.eff.simpo_gamma,
                                   (double)PB.eff.bco_delta, (double)PB.eff.nll_weight);
                for (k = 0; k < MIX.nk && len < 440; k++)
                    len += snprintf(CTX + len, sizeof CTX - (size_t)len, " mix[%d]=%a", MIX.kv[k],
                                    (double)MIX.mv[k]);
            }
            bad_in = !finitef_(v[0]) || !finitef_(v[1]) || (uses_ref && (!finitef_(v[2]) || !finitef_(v[3])));
            bad_w = !finitef_(wi);
            bad_up = !finitef_(upi);
            /* the catalogue multiplies up to four moderate values (beta h w
             * dlosses, or beta, alpha's capped exponential, w, dlosses):
             * a tighter range [2^-20, 2^20] keeps every exact output finite */
            MODERATE = cat_moderate(v[0]) && cat_moderate(v[1]) && cat_moderate(v[2]) &&
                       cat_moderate(v[3]) && cat_moderate(wi) && cat_moderate(upi) &&
                       params_moderate(&PB.eff);
#if FUZZ_TARGET == T_PAIR
            MODERATE = MODERATE && alpha_moderate(KIND, v);
#else
            for (k = 0; k < MIX.nk; k++)
                MODERATE = MODERATE && cat_moderate(MIX.mv[k]) && alpha_moderate(MIX.kv[k], v);
#endif
            if (!pair && MIX.nk == 0) { /* documented: zero losses and gradients */
                for (k = 0; k < 3; k++)
                    if (S[k].p && F(&S[k], i) != 0.0f) FAIL("n_kinds == 0 but output %zu is not 0", k);
                continue;
            }
            for (k = 0; k < 3; k++) {
                float o = all[k * n + i];
                int want_nan = bad_in || bad_w || (k > 0 && bad_up);
                if (want_nan && !nanf_(o)) /* a zero weight keeps the NaN too */
                    FAIL("output %zu of pair %zu is %a, not NaN, though %s is not finite", k, i,
                         (double)o, bad_w ? "its weight" : bad_in ? "an input" : "dlosses");
                if (!want_nan && nanf_(o)) {
                    FAIL("output %zu of pair %zu is NaN for finite inputs", k, i);
                }
                if (!want_nan && MODERATE && !finitef_(o))
                    FAIL("output %zu of pair %zu = %g for moderate inputs", k, i, (double)o);
            }
            if (bad_in || bad_w) continue;
            /* the loss does not depend on dlosses */
            if (fbits(all[i]) != fbits(nu[i]))
                FAIL("loss[%zu] = %a depends on dlosses (%a without)", i, (double)all[i], (double)nu[i]);
#if FUZZ_TARGET == T_PAIR
            /* weights: every output is the unweighted one times w_i */
            if (w) {
                for (k = 0; k < 3; k++) {
                    float o = all[k * n + i], u0 = uw[k * n + i];
                    float e = (float)((double)u0 * (double)wi);
                    if (k > 0 && bad_up) continue;
                    /* an unweighted output that overflowed can come back in range with
                     * |w| < 1 (alpha_divergence recomputes it scaled): finite, same sign */
                    if (!finitef_(u0) && !nanf_(u0) && finitef_(o) && fabsf(wi) < 1.0f &&
                        (o == 0.0f || (o < 0.0f) == ((u0 < 0.0f) != (wi < 0.0f))))
                        continue;
                    /* a gradient that is subnormal unweighted: the weight meets it
                     * before its last rounding, so the weighted one is closer to
                     * exact than the rounded subnormal times w (off by |w| 2^-150) */
                    if (k > 0 && fabsf(u0) < FLT_MIN && finitef_(o) &&
                        fabs((double)o - (double)u0 * (double)wi) <=
                            fabs((double)wi) * 0x1p-149 + fabs((double)o) * 0x1p-23)
                        continue;
                    /* alpha_divergence's outputs that overflow part-way are scaled
                     * products of a few roundings each, weighted or not */
                    if (wi == 0.0f ? o != 0.0f : nanf_(e) ? !nanf_(o)
                                   : ulps(o, e) > (KIND == PREFLOSS_LOSS_ALPHA ? 8u : 1u))
                        FAIL("output %zu of pair %zu = %a with weight %a; unweighted %a times the "
                             "weight is %a", k, i, (double)o, (double)wi, (double)u0, (double)e);
                }
            }
            /* (by value: the sign of a zero may differ, e.g. with dlosses 0) */
            if (h_only(KIND) && PB.eff.nll_weight == 0.0f && !bad_up && uw[2 * n + i] != -uw[n + i])
                FAIL("drejected[%zu] = %a is not -dchosen = %a (kind %d depends on h only)", i,
                     (double)uw[2 * n + i], (double)-uw[n + i], KIND);
            /* robust can be negative; exo_pair's KL by rounding (-1e-36) */
            if (KIND != PREFLOSS_LOSS_ROBUST && KIND != PREFLOSS_LOSS_EXO_PAIR &&
                PB.eff.nll_weight == 0.0f && uw[i] < 0.0f)
                FAIL("loss[%zu] = %g < 0 (kind %d)", i, (double)uw[i], KIND);
            if (fd_checks < 3 && fabs(v[0]) < 1e4 && fabs(v[1]) < 1e4 && fabs(v[2]) < 1e4 &&
                fabs(v[3]) < 1e4 && params_moderate(&PB.eff)) {
                one_t o;
                float l1, g1[2];
                memcpy(o.v, v, sizeof v);
                o.has_ref = rc != NULL;
                o.kind = KIND;
                fd_checks++;
                if (prefloss_pair_loss(&l1, &g1[0], &g1[1], &v[0], &v[1], rc ? &v[2] : NULL,
                                       rc ? &v[3] : NULL, NULL, NULL, 1, KIND, PB.blk) == PREFLOSS_OK) {
                    if (fbits(l1) != fbits(uw[i]))
                        FAIL("loss of pair %zu alone %a differs from the batch's %a", i, (double)l1,
                             (double)uw[i]);
                    fd_sign("dchosen", i, g1[0], v[0], 0, one_loss, pair_bends, &o);
                    fd_sign("drejected", i, g1[1], v[1], 1, one_loss, pair_bends, &o);
                }
            }
#else
            /* the mixture: sum_k mix_weights[k] * (kind k's output), in order */
            for (k = 0; k < 3; k++) {
                float o = all[k * n + i], acc = 0.0f;
                double mag = 0.0;
                size_t j;
                int term_nan = 0;
                double slack = 0.0;
                if (k > 0 && bad_up) continue;
                for (j = 0; j < MIX.nk; j++) {
                    float t = terms[3 * n * j + k * n + i], m = MIX.mv[j];
                    float p = nanf_(t) ? t : m != 0.0f ? t * m : 0.0f; /* NaN stays */
                    term_nan |= nanf_(t);
                    /* terms that overflowed with opposite signs (inf - inf):
                     * the sum so far keeps its infinity (docs/errors.md) */
                    acc = (!nanf_(acc) && !nanf_(p) && nanf_(acc + p)) ? acc : acc + p;
                    mag += fabs((double)p);
                    /* a term subnormal before the mix weight: the library applies
                     * the weight before its last rounding (see the weights check) */
                    if (fabsf(t) < FLT_MIN) slack += fabs((double)m) * 0x1p-149;
                }
                /* terms that overflowed here with opposite signs (inf - inf) where
                 * the library, applying the mix weight before the last rounding,
                 * kept one finite: not comparable */
                if (nanf_(acc) && !term_nan && !nanf_(o) && !MODERATE) continue;
                if (nanf_(o) || nanf_(acc)) {
                    if (nanf_(o) != nanf_(acc))
                        FAIL("mixture output %zu of pair %zu = %a, the sum of its terms %a", k, i,
                             (double)o, (double)acc);
                    continue;
                }
                if (!finitef_(acc) || !finitef_(o)) {
                    if (fbits(o) != fbits(acc) && MODERATE)
                        FAIL("mixture output %zu of pair %zu = %a, the sum of its terms %a", k, i,
                             (double)o, (double)acc);
                    continue;
                }
                if (fabs((double)o - (double)acc) > mag * 0x1p-20 + TINY + slack)
                    FAIL("mixture output %zu of pair %zu = %a, the sum of its terms %a", k, i,
                         (double)o, (double)acc);
                if (MIX.nk == 1 && MIX.mv[0] == 1.0f && o != terms[k * n + i])
                    FAIL("a mixture of kind %d with weight 1 gives %a, prefloss_pair_loss %a", MIX.kv[0],
                         (double)o, (double)terms[k * n + i]);
            }
#endif
        }
    }
done:
    free(all);
    free(uw);
    free(nu);
    free(terms);
    free(PB.blk);
    PB.blk = NULL;
    free(MIX.kinds);
    free(MIX.mw);
    MIX.kinds = NULL;
    MIX.mw = NULL;
    release();
}

#elif FUZZ_TARGET == T_ORPO
/* ------------------------------------------------------------------------ */
/* ORPO's odds-ratio loss                                                   */
/* ------------------------------------------------------------------------ */

enum { O_LOSS, O_DC, O_DR, O_A, O_B, O_UP };
static float LAMBDA, NLL;

/* a log-prob inside the domain: finite and < 0 (0, -0 and positive are not) */
static int in_domain(float x) { return finitef_(x) && x < 0.0f; }

static double orpo_loss_at(const void *ctx, int k, float x)
{
    const float *v = (const float *)ctx;
    float a = k == 0 ? x : v[0], b = k == 1 ? x : v[1], l;
    if (!in_domain(a) || !in_domain(b)) return NAN;
    if (prefloss_orpo_loss(&l, NULL, NULL, &a, &b, NULL, 1, LAMBDA, NLL) != PREFLOSS_OK) return NAN;
    return l;
}

static void run(rd_t *r)
{
    size_t n, i, k;
    int want, got, huge, fd_checks = 0;
    uint8_t c = u8(r);
    slot_t *S = W.s;
    float *all = NULL, *nu = NULL;
    huge = c == 255;
    n = huge ? gen_huge(r) : (size_t)(c % 140);
    {
        uint8_t m = u8(r);
        LAMBDA = m < 120 ? 0.1f : m < 200 ? (float)u16(r) / 4096.0f : gen_scalar(r);
        m = u8(r);
        NLL = m < 120 ? 1.0f : m < 160 ? 0.0f : gen_scalar(r);
    }
    memset(W.s, 0, sizeof W.s);
    W.ns = 6;
    for (k = 0; k < 6; k++) {
        S[k].elem = 4;
        S[k].count = huge ? 0 : n;
        S[k].is_out = k <= O_DR;
        S[k].required = k == O_A || k == O_B;
    }
    for (k = 0; k < 6; k++) slot_place(r, &S[k], !huge);
    fill_values(r, W.arena, ARENA_FLOATS);
    for (k = 0; k < 6; k++)
        if (S[k].own) {
            if (S[k].is_out) memset(S[k].own, 0x3C, S[k].own_bytes);
            else fill_values(r, S[k].own, S[k].own_bytes / 4);
        }
    /* mean log-probs: mostly negative; positive, +-0 and near 0 too */
    for (k = O_A; k <= O_B; k++)
        if (!huge && S[k].p && u8(r) % 2)
            for (i = 0; i < n; i++) {
                uint8_t m = u8(r);
                float v = m < 200 ? -(float)(1 + u16(r)) / 8192.0f
                        : m < 215 ? -(float)(m - 199) * 1e-30f
                        : m < 225 ? (m % 2 ? 0.0f : -0.0f)
                        : m < 235 ? (float)u16(r) / 4096.0f : F(&S[k], i);
                memcpy(S[k].p + 4 * i, &v, 4);
            }
    if (!(LAMBDA >= 0.0f && LAMBDA <= FLT_MAX) || !finitef_(NLL)) want = PREFLOSS_ERR_PARAM;
    else if (n == 0) want = PREFLOSS_OK;
    else if (huge) want = PREFLOSS_ERR_SIZE;
    else {
        want = expect_null_overlap(-1, -1);
        if (want == PREFLOSS_OK)
            for (i = 0; i < n; i++)
                if (!in_domain(F(&S[O_A], i)) || !in_domain(F(&S[O_B], i)) || !finitef_(Fo(&S[O_UP], i, 1))) {
                    want = PREFLOSS_NONFINITE;
                    break;
                }
    }
    snprintf(CTX, sizeof CTX, "n=%zu lambda=%a nll=%a", huge ? 0 : n, (double)LAMBDA, (double)NLL);
    snapshot();
    got = prefloss_orpo_loss((float *)S[O_LOSS].p, (float *)S[O_DC].p, (float *)S[O_DR].p,
                             (const float *)S[O_A].p, (const float *)S[O_B].p, (const float *)S[O_UP].p,
                             n, LAMBDA, NLL);
    check_status("prefloss_orpo_loss", got, want);
    check_untouched(got);
    if (got < 0 || n == 0) { release(); return; }
    {
        const float *A = (const float *)S[O_A].p, *B = (const float *)S[O_B].p, *up = (const float *)S[O_UP].p;
        int st2;
        all = (float *)malloc(3 * n * sizeof(float));
        nu = (float *)malloc(3 * n * sizeof(float));
        st2 = prefloss_orpo_loss(all, all + n, all + 2 * n, A, B, up, n, LAMBDA, NLL);
        check_status("prefloss_orpo_loss (all outputs)", st2, got);
        for (k = 0; k < 3; k++)
            if (S[k].p && memcmp(S[k].p, all + k * n, n * 4) != 0)
                FAIL("orpo output %zu differs from the call that requests every output", k);
        prefloss_orpo_loss(nu, nu + n, nu + 2 * n, A, B, NULL, n, LAMBDA, NLL);
        for (i = 0; i < n; i++) {
            float a = A[i], b = B[i], upi = up ? up[i] : 1.0f;
            int bad = !in_domain(a) || !in_domain(b), bad_up = bad || !finitef_(upi);
            snprintf(CTX, sizeof CTX, "n=%zu i=%zu a=%a b=%a up=%a lambda=%a nll=%a", n, i, (double)a,
                     (double)b, (double)upi, (double)LAMBDA, (double)NLL);
            MODERATE = moderate(a) && moderate(b) && moderate(upi) && moderate(LAMBDA) && moderate(NLL);
            for (k = 0; k < 3; k++) {
                float o = all[k * n + i];
                int want_nan = k == 0 ? bad : bad_up;
                if (want_nan ? !nanf_(o) : nanf_(o))
                    FAIL("orpo output %zu of pair %zu is %a (NaN exactly for a log-prob that is not "
                         "finite and < 0, and for gradients a non-finite dlosses)", k, i, (double)o);
            }
            if (bad) continue;
            if (fbits(all[i]) != fbits(nu[i])) FAIL("orpo loss[%zu] depends on dlosses", i);
            if (bad_up) continue;
            {
                /* float64 reference (log1mexp via expm1/log1p) */
                double la = a > -0.69314718055994531 ? log(-expm1(a)) : log1p(-exp(a));
                double lb = b > -0.69314718055994531 ? log(-expm1(b)) : log1p(-exp(b));
                double l = ((double)a - (double)b) - la + lb;
                double sp = softplus(-l), s = sigm(-l);
                double oa = -expm1(a), ob = -expm1(b);
                double loss = -(double)NLL * a + (double)LAMBDA * sp;
                double ga = -(double)NLL - LAMBDA * s / oa, gb = LAMBDA * s / ob;
                /* l is conditioned by |a|/(1-e^a) + |b|/(1-e^b) */
                double dl = 1e-6 * (fabs(a) + fabs(b) + fabs(la) + fabs(lb) + fabs(a) / oa + fabs(b) / ob);
                double tl = 1e-5 * (fabs((double)NLL * a) + LAMBDA * sp) + LAMBDA * dl;
                double tga = 1e-5 * (fabs((double)NLL) + LAMBDA * s / oa) + LAMBDA * dl / oa;
                double tgb = 1e-5 * LAMBDA * s / ob + LAMBDA * dl / ob;
                /* extreme inputs (e.g. a subnormal log-prob with lambda near
                 * FLT_MAX) lose a term to underflow: only the NaN rules
                 * above apply there (see the report on sigma(-l)) */
                if (MODERATE) {
                    check_value("orpo loss", i, all[i], loss, tl);
                    check_value("orpo dchosen", i, all[n + i], ga * upi, tga * fabs(upi));
                    check_value("orpo drejected", i, all[2 * n + i], gb * upi, tgb * fabs(upi));
                }
                if (all[2 * n + i] * upi < 0.0f)
                    FAIL("orpo drejected[%zu] = %g has the wrong sign (lambda >= 0)", i, (double)all[2 * n + i]);
            }
            if (fd_checks < 3 && MODERATE && fabs(a) < 1e4 && fabs(b) < 1e4 && upi != 0.0f) {
                float v[2];
                v[0] = a; v[1] = b;
                fd_checks++;
                fd_sign("orpo dchosen", i, (double)nu[n + i], a, 0, orpo_loss_at, NULL, v);
                fd_sign("orpo drejected", i, (double)nu[2 * n + i], b, 1, orpo_loss_at, NULL, v);
            }
        }
    }
    free(all);
    free(nu);
    release();
}

#elif FUZZ_TARGET == T_KTO
/* ------------------------------------------------------------------------ */
/* KTO's loss and its KL estimate                                           */
/* ------------------------------------------------------------------------ */

enum { K_LOSS, K_DP, K_POL, K_REF, K_DES, K_UP };
static float BETA, KL, WD, WU;

static double kto_loss_at(const void *ctx, int k, float x)
{
    const float *v = (const float *)ctx; /* policy, ref, desirable, has_ref */
    float p = x, l;
    unsigned char d = v[2] != 0.0f;
    (void)k;
    if (prefloss_kto_loss(&l, NULL, &p, v[3] != 0.0f ? &v[1] : NULL, &d, NULL, 1, BETA, KL, WD, WU) != PREFLOSS_OK)
        return NAN;
    return l;
}

static float gen_nonneg(rd_t *r)
{
    uint8_t m = u8(r);
    if (m < 100) return 1.0f;
    if (m < 140) return 0.0f;
    if (m < 200) return (float)u16(r) / 2048.0f;
    return gen_scalar(r);
}

static void run_kto(rd_t *r)
{
    size_t n, i, k;
    int want, got, huge, fd_checks = 0;
    uint8_t c = u8(r);
    slot_t *S = W.s;
    float *all = NULL, *nu = NULL;
    huge = c == 255;
    n = huge ? gen_huge(r) : (size_t)(c % 140);
    BETA = gen_beta(r);
    KL = u8(r) < 100 ? 0.0f : gen_nonneg(r);
    WD = gen_nonneg(r);
    WU = u8(r) < 128 ? 1.0f : gen_nonneg(r);
    memset(W.s, 0, sizeof W.s);
    W.ns = 6;
    for (k = 0; k < 6; k++) {
        S[k].elem = k == K_DES ? 1 : 4;
        S[k].count = huge ? 0 : n;
        S[k].is_out = k <= K_DP;
        S[k].required = k == K_POL || k == K_DES;
    }
    for (k = 0; k < 6; k++) slot_place(r, &S[k], !huge);
    fill_values(r, W.arena, ARENA_FLOATS);
    for (k = 0; k < 6; k++)
        if (S[k].own) {
            if (S[k].is_out) memset(S[k].own, 0x3C, S[k].own_bytes);
            else if (k == K_DES) fill_mask(r, S[k].own, S[k].own_bytes);
            else fill_values(r, S[k].own, S[k].own_bytes / 4);
        }
    if (!(BETA >= FLT_MIN && BETA <= FLT_MAX) || !(KL >= 0.0f && KL <= FLT_MAX) ||
        !(WD >= 0.0f && WD <= FLT_MAX) || !(WU >= 0.0f && WU <= FLT_MAX))
        want = PREFLOSS_ERR_PARAM;
    else if (n == 0) want = PREFLOSS_OK;
    else if (huge) want = PREFLOSS_ERR_SIZE;
    else {
        want = expect_null_overlap(-1, -1);
        if (want == PREFLOSS_OK)
            for (i = 0; i < n; i++)
                if (!finitef_(F(&S[K_POL], i)) || !finitef_(Fo(&S[K_REF], i, 0)) ||
                    !finitef_(Fo(&S[K_UP], i, 1))) {
                    want = PREFLOSS_NONFINITE;
                    break;
                }
    }
    snprintf(CTX, sizeof CTX, "n=%zu beta=%a kl=%a wd=%a wu=%a", huge ? 0 : n, (double)BETA, (double)KL,
             (double)WD, (double)WU);
    snapshot();
    got = prefloss_kto_loss((float *)S[K_LOSS].p, (float *)S[K_DP].p, (const float *)S[K_POL].p,
                            (const float *)S[K_REF].p, S[K_DES].p, (const float *)S[K_UP].p, n, BETA, KL,
                            WD, WU);
    check_status("prefloss_kto_loss", got, want);
    check_untouched(got);
    if (got < 0 || n == 0) { release(); return; }
    {
        const float *pol = (const float *)S[K_POL].p, *ref = (const float *)S[K_REF].p;
        const float *up = (const float *)S[K_UP].p;
        const unsigned char *des = S[K_DES].p;
        int st2;
        all = (float *)malloc(2 * n * sizeof(float));
        nu = (float *)malloc(2 * n * sizeof(float));
        st2 = prefloss_kto_loss(all, all + n, pol, ref, des, up, n, BETA, KL, WD, WU);
        check_status("prefloss_kto_loss (all outputs)", st2, got);
        for (k = 0; k < 2; k++)
            if (S[k].p && memcmp(S[k].p, all + k * n, n * 4) != 0)
                FAIL("kto output %zu differs from the call that requests every output", k);
        prefloss_kto_loss(nu, nu + n, pol, ref, des, NULL, n, BETA, KL, WD, WU);
        for (i = 0; i < n; i++) {
            float p = pol[i], q = ref ? ref[i] : 0.0f, upi = up ? up[i] : 1.0f;
            int d = des[i] != 0, bad = !finitef_(p) || !finitef_(q), bad_up = bad || !finitef_(upi);
            snprintf(CTX, sizeof CTX, "n=%zu i=%zu policy=%a ref=%a desirable=%d up=%a beta=%a kl=%a "
                     "wd=%a wu=%a", n, i, (double)p, (double)q, d, (double)upi, (double)BETA, (double)KL,
                     (double)WD, (double)WU);
            if (bad ? !nanf_(all[i]) : nanf_(all[i])) FAIL("kto loss[%zu] = %a", i, (double)all[i]);
            if (bad_up ? !nanf_(all[n + i]) : nanf_(all[n + i])) FAIL("kto dpolicy[%zu] = %a", i, (double)all[n + i]);
            if (bad) continue;
            if (fbits(all[i]) != fbits(nu[i])) FAIL("kto loss[%zu] depends on dlosses", i);
            if (all[i] < 0.0f || all[i] > (d ? WD : WU))
                FAIL("kto loss[%zu] = %g outside [0, weight]", i, (double)all[i]);
            if (bad_up) continue;
            MODERATE = moderate(p) && moderate(q) && moderate(upi) && moderate(BETA) && moderate(KL) &&
                       moderate(WD) && moderate(WU);
            {
                double x = (double)BETA * exact4(p, q, KL, 0.0f, NULL); /* beta (u - kl) */
                double w = d ? WD : WU, sg = sigm(x) * sigm(-x);
                double loss = d ? w * sigm(-x) : w * sigm(x);
                double g = (d ? -w : w) * BETA * sg;
                double dx = 1e-12 * BETA * (fabs((double)p) + fabs((double)q) + KL) + 1e-6 * fabs(x);
                check_value("kto loss", i, all[i], loss, 1e-5 * loss + w * 0.25 * dx);
                check_value("kto dpolicy", i, all[n + i], g * upi, (1e-5 * fabs(g) + w * BETA * 0.1 * dx) * fabs(upi));
            }
            if (fd_checks < 3 && MODERATE && fabs(p) < 1e4 && fabs(q) < 1e4) {
                float v[4];
                v[0] = p; v[1] = q; v[2] = (float)d; v[3] = ref != NULL;
                fd_checks++;
                fd_sign("kto dpolicy", i, (double)nu[n + i], p, 0, kto_loss_at, NULL, v);
            }
        }
    }
    free(all);
    free(nu);
    release();
}

/* prefloss_kto_kl: kl (one float, required even for n == 0: it gets 0),
 * policy and reference KL log-probs. No overlap rule: *kl is written after
 * every input is read. */
static void run_kl(rd_t *r)
{
    size_t n, i;
    int want, got, huge;
    uint8_t c = u8(r);
    slot_t *S = W.s;
    float *pk, *rk;
    huge = c == 255;
    n = huge ? gen_huge(r) : (size_t)(c % 140);
    memset(W.s, 0, sizeof W.s);
    W.ns = 3;
    S[0].elem = S[1].elem = S[2].elem = 4;
    S[0].count = 1;
    S[0].is_out = S[0].required = 1;
    S[1].count = S[2].count = huge ? 0 : n;
    S[1].required = S[2].required = 1;
    slot_place(r, &S[0], 1);
    if (S[0].p && !S[0].own) { /* the output in its own block (see above) */
        S[0].own_bytes = 4;
        S[0].own = S[0].p = (unsigned char *)malloc(4);
        S[0].snap = (unsigned char *)malloc(4);
    }
    slot_place(r, &S[1], !huge);
    slot_place(r, &S[2], !huge);
    fill_values(r, W.arena, ARENA_FLOATS);
    if (S[0].own) memset(S[0].own, 0x3C, 4);
    for (i = 1; i < 3; i++) if (S[i].own) fill_values(r, S[i].own, S[i].own_bytes / 4);
    if (S[0].p == NULL) want = PREFLOSS_ERR_NULL;
    else if (huge) want = PREFLOSS_ERR_SIZE;
    else if (n > 0 && (S[1].p == NULL || S[2].p == NULL)) want = PREFLOSS_ERR_NULL;
    else {
        want = PREFLOSS_OK;
        for (i = 0; i < n; i++)
            if (!finitef_(F(&S[1], i)) || !finitef_(F(&S[2], i))) want = PREFLOSS_NONFINITE;
    }
    snprintf(CTX, sizeof CTX, "kto_kl n=%zu", huge ? 0 : n);
    snapshot();
    got = prefloss_kto_kl((float *)S[0].p, (const float *)S[1].p, (const float *)S[2].p, n);
    check_status("prefloss_kto_kl", got, want);
    check_untouched(got);
    if (got >= 0) {
        float kl = F(&S[0], 0);
        expn_t x;
        double abs_sum = 0.0, mean;
        int sign;
        pk = (float *)S[1].p;
        rk = (float *)S[2].p;
        x.n = 0;
        MODERATE = 1;
        for (i = 0; i < n && got == PREFLOSS_OK; i++) {
            exp_add(&x, pk[i]);
            exp_add(&x, -(double)rk[i]);
            abs_sum += fabs((double)pk[i]) + fabs((double)rk[i]);
            MODERATE = MODERATE && moderate(pk[i]) && moderate(rk[i]);
        }
        if (got == PREFLOSS_NONFINITE) {
            if (!nanf_(kl)) FAIL("kto_kl = %a, not NaN, for a non-finite input", (double)kl);
        } else if (n == 0) {
            if (fbits(kl) != 0) FAIL("kto_kl = %a for n == 0", (double)kl);
        } else {
            /* the double-float sum is exact up to ~2^-44 of the sum of
             * magnitudes (huge terms that cancel), then rounded once */
            double tol;
            sign = exp_sign(&x);
            mean = exp_value(&x) / (double)n;
            tol = fabs(mean) * 0x1p-22 + 0x1p-44 * abs_sum / (double)n + TINY;
            snprintf(CTX, sizeof CTX, "kto_kl n=%zu exact mean %.9g first (%a, %a)", n, mean,
                     (double)pk[0], (double)rk[0]);
            if (nanf_(kl)) FAIL("kto_kl = NaN for finite inputs");
            if (sign <= 0 || mean <= tol) {
                if (!(kl >= 0.0f && kl <= tol))
                    FAIL("kto_kl = %a but the exact mean is %.9g (tolerance %.3g)", (double)kl, mean, tol);
            } else if (kl == 0.0f) {
                FAIL("kto_kl = 0 but the exact mean %.9g is positive", mean);
            } else {
                check_value("kto_kl", 0, kl, mean, tol);
            }
        }
    }
    release();
}

static void run(rd_t *r)
{
    run_kto(r);
    run_kl(r);
}

#elif FUZZ_TARGET == T_BCO
/* ------------------------------------------------------------------------ */
/* The running mean of BCO's rewards                                        */
/* ------------------------------------------------------------------------ */

enum { B_PC, B_PR, B_RC, B_RR };

static void run(rd_t *r)
{
    size_t n, i, k;
    int want, got, huge, has_delta, has_count;
    uint8_t c = u8(r), m;
    slot_t *S = W.s;
    float beta, delta0, count0, *delta = NULL, *count = NULL;
    huge = c == 255;
    n = huge ? gen_huge(r) : (size_t)(c % 140);
    beta = gen_beta(r);
    m = u8(r);
    delta0 = m < 60 ? 0.0f : m < 200 ? (float)(int16_t)u16(r) / 256.0f : gen_scalar(r);
    m = u8(r);
    count0 = m < 60 ? 0.0f : m < 200 ? (float)u16(r) * 2.0f
           : m < 210 ? -1.0f : m < 215 ? -0.0f : m < 220 ? 16777216.0f : gen_scalar(r);
    m = u8(r);
    has_delta = m % 16 != 0;
    has_count = (m >> 4) % 16 != 0;
    if (has_delta) { delta = (float *)malloc(sizeof *delta); *delta = delta0; }
    if (has_count) { count = (float *)malloc(sizeof *count); *count = count0; }
    memset(W.s, 0, sizeof W.s);
    W.ns = 4;
    for (k = 0; k < 4; k++) {
        S[k].elem = 4;
        S[k].count = huge ? 0 : n;
        S[k].required = k == B_PC || k == B_PR;
    }
    for (k = 0; k < 4; k++) slot_place(r, &S[k], !huge);
    fill_values(r, W.arena, ARENA_FLOATS);
    for (k = 0; k < 4; k++) if (S[k].own) fill_values(r, S[k].own, S[k].own_bytes / 4);
    if (!has_delta || !has_count) want = PREFLOSS_ERR_NULL;
    else if (!(beta >= FLT_MIN && beta <= FLT_MAX) || !finitef_(delta0) || !(count0 >= 0.0f && count0 <= FLT_MAX))
        want = PREFLOSS_ERR_PARAM;
    else if (n == 0) want = PREFLOSS_OK;
    else if (huge) want = PREFLOSS_ERR_SIZE;
    else {
        want = expect_null_overlap(B_RC, B_RR);
        if (want == PREFLOSS_OK)
            for (i = 0; i < n; i++)
                if (!finitef_(F(&S[B_PC], i)) || !finitef_(F(&S[B_PR], i)) ||
                    !finitef_(Fo(&S[B_RC], i, 0)) || !finitef_(Fo(&S[B_RR], i, 0))) {
                    want = PREFLOSS_NONFINITE;
                    break;
                }
    }
    snprintf(CTX, sizeof CTX, "n=%zu beta=%a delta=%a count=%a delta%s count%s", huge ? 0 : n, (double)beta,
             (double)delta0, (double)count0, has_delta ? "" : "=NULL", has_count ? "" : "=NULL");
    snapshot();
    got = prefloss_bco_update_delta(delta, count, (const float *)S[B_PC].p, (const float *)S[B_PR].p,
                                    (const float *)S[B_RC].p, (const float *)S[B_RR].p, n, beta);
    MODERATE = moderate(beta) && moderate(delta0) && moderate(count0);
    for (i = 0; !huge && i < n && want == PREFLOSS_OK && S[B_PC].p && S[B_PR].p; i++)
        MODERATE = MODERATE && moderate(F(&S[B_PC], i)) && moderate(F(&S[B_PR], i)) &&
                   moderate(Fo(&S[B_RC], i, 0)) && moderate(Fo(&S[B_RR], i, 0));
    /* finite but extreme inputs whose rewards (beta * u) or their sum
     * overflow: the library reports PREFLOSS_NONFINITE (nothing updated) */
    if (want == PREFLOSS_OK && got == PREFLOSS_NONFINITE && !MODERATE) want = PREFLOSS_NONFINITE;
    check_status("prefloss_bco_update_delta", got, want);
    check_untouched(got);
    if (got != PREFLOSS_OK || n == 0) {
        /* errors, the non-finite status and n == 0: the state is untouched */
        if ((delta && fbits(*delta) != fbits(delta0)) || (count && fbits(*count) != fbits(count0)))
            FAIL("state changed on status %d: delta %a -> %a, count %a -> %a", got, (double)delta0,
                 (double)*delta, (double)count0, (double)*count);
    } else {
        expn_t x;
        double mag = fabs((double)count0 * delta0), ref;
        x.n = 0;
        for (i = 0; i < n; i++) {
            float pc = F(&S[B_PC], i), pr = F(&S[B_PR], i);
            float rc = Fo(&S[B_RC], i, 0), rr = Fo(&S[B_RR], i, 0);
            double uc = exact4(pc, rc, 0, 0, NULL), ur = exact4(pr, rr, 0, 0, NULL);
            exp_add(&x, beta * uc);
            exp_add(&x, beta * ur);
            mag += fabs(beta * uc) + fabs(beta * ur);
        }
        exp_add(&x, (double)count0 * delta0);
        ref = exp_value(&x) / ((double)count0 + 2.0 * (double)n);
        if (fbits(*count) != fbits(count0 + 2.0f * (float)n))
            FAIL("count %a -> %a, want %a", (double)count0, (double)*count, (double)(count0 + 2.0f * (float)n));
        if (nanf_(*delta)) FAIL("delta = NaN with PREFLOSS_OK (reference %.9g)", ref);
        if (!nanf_(*delta))
            check_value("delta", 0, *delta, ref, fabs(ref) * 0x1p-21 + mag * 0x1p-40 / ((double)count0 + 2.0 * (double)n));
    }
    free(delta);
    free(count);
    release();
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_t r;
    size_t i;
    r.p = data;
    r.n = size;
    r.pos = 0;
    r.s = UINT64_C(1469598103934665603);
    for (i = 0; i < size; i++) r.s = (r.s ^ data[i]) * UINT64_C(1099511628211);
    run(&r);
    return 0;
}
