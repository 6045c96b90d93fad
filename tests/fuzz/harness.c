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
 */
#define PREFLOSS_IMPLEMENTATION
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
    static const char *names[] = {"PREFLOSS_ERR_SIZE", "PREFLOSS_ERR_OVERLAP", "PREFLOSS_ERR_PARAM",
                                  "PREFLOSS_ERR_NULL", "PREFLOSS_OK", "PREFLOSS_NONFINITE"};
    int k;
    for (k = 0; k < 8; k++) {
        int code = (int)u32(r);
        const char *m = prefloss_strerror(code), *nm = prefloss_status_name(code);
        if (m == NULL || strlen(m) == 0) FAIL("strerror(%d) empty", code);
        if (code >= -4 && code <= 1) {
            if (nm == NULL || strcmp(nm, names[code + 4]) != 0) FAIL("status_name(%d)", code);
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
