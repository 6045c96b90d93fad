/*
 * testutil.h — small helpers shared by the libprefloss CMocka tests:
 * the cmocka include boilerplate, a deterministic PRNG (splitmix64),
 * status assertions that print code names, sentinel buffers, and the
 * tunable sample count.
 *
 * Everything here is static inline so that every test file can include it
 * without unused-function warnings.
 */
#ifndef PREFLOSS_TESTUTIL_H
#define PREFLOSS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefloss.h"

/* The smallest positive subnormal float (FLT_TRUE_MIN is C11). */
#define TU_FLT_TRUE_MIN 0x1p-149f

/* ------------------------------------------------------------------------ */
/* Sample counts                                                            */
/* ------------------------------------------------------------------------ */

/* Random samples per loss per configuration in the accuracy tests. Override
 * at build time (-DPREFLOSS_TEST_SAMPLES=2000) or at run time with the
 * environment variable PREFLOSS_TEST_SAMPLES (e.g. under valgrind). */
#ifndef PREFLOSS_TEST_SAMPLES
#define PREFLOSS_TEST_SAMPLES 100000
#endif

static inline size_t tu_samples(void)
{
    const char *s = getenv("PREFLOSS_TEST_SAMPLES");
    if (s != NULL && *s != '\0') {
        long v = strtol(s, NULL, 10);
        if (v > 0) return (size_t)v;
    }
    return (size_t)PREFLOSS_TEST_SAMPLES;
}

/* ------------------------------------------------------------------------ */
/* Deterministic PRNG: splitmix64 (Steele, Lea, Flood 2014)                 */
/* ------------------------------------------------------------------------ */

typedef struct { uint64_t s; } tu_rng;

static inline tu_rng tu_rng_seed(uint64_t seed)
{
    tu_rng r;
    r.s = seed;
    return r;
}

static inline uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double tu_unif(tu_rng *r)
{
    return (double)(tu_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform double in [a, b). */
static inline double tu_range(tu_rng *r, double a, double b)
{
    return a + (b - a) * tu_unif(r);
}

/* 10^u with u uniform in [lo, hi): log-uniform magnitudes. */
static inline double tu_logu(tu_rng *r, double lo, double hi)
{
    return pow(10.0, tu_range(r, lo, hi));
}

/* +1 or -1 with equal probability. */
static inline double tu_sign(tu_rng *r)
{
    return (tu_next(r) & 1u) ? 1.0 : -1.0;
}

/* Uniform integer in [0, n). */
static inline size_t tu_below(tu_rng *r, size_t n)
{
    return (size_t)(tu_next(r) % (uint64_t)n);
}

/* ------------------------------------------------------------------------ */
/* Status assertions with readable messages                                 */
/* ------------------------------------------------------------------------ */

/* A code's name for messages (test_version checks prefloss_status_name itself). */
static inline const char *tu_code_name(int code)
{
    const char *name = prefloss_status_name(code);
    return name != NULL ? name : "(unknown code)";
}

#define assert_status(got, want)                                              \
    do {                                                                      \
        int tu_got_ = (got), tu_want_ = (want);                               \
        if (tu_got_ != tu_want_) {                                            \
            print_error("status %d (%s), expected %d (%s)\n", tu_got_,        \
                        tu_code_name(tu_got_), tu_want_,                      \
                        tu_code_name(tu_want_));                              \
            fail();                                                           \
        }                                                                     \
    } while (0)

/* Bit-for-bit equality of two floats (NaN == NaN only if same payload). */
static inline int tu_same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

#define assert_float_bits_equal(got, want)                                    \
    do {                                                                      \
        float tu_g_ = (got), tu_w_ = (want);                                  \
        if (!tu_same_bits(tu_g_, tu_w_)) {                                    \
            print_error("got %.9g (%a), expected bit-identical %.9g (%a)\n",  \
                        (double)tu_g_, (double)tu_g_, (double)tu_w_,          \
                        (double)tu_w_);                                       \
            fail();                                                           \
        }                                                                     \
    } while (0)

/* |got - want| <= tol (double arithmetic), with a readable message. */
#define assert_close(got, want, tol)                                          \
    do {                                                                      \
        double tu_g_ = (double)(got), tu_w_ = (double)(want);                 \
        double tu_t_ = (double)(tol);                                         \
        if (!(fabs(tu_g_ - tu_w_) <= tu_t_)) {                                \
            print_error("got %.17g, expected %.17g (tolerance %.3g)\n",       \
                        tu_g_, tu_w_, tu_t_);                                 \
            fail();                                                           \
        }                                                                     \
    } while (0)

#define assert_nan(x)                                                         \
    do {                                                                      \
        double tu_x_ = (double)(x);                                           \
        if (!isnan(tu_x_)) {                                                  \
            print_error("expected NaN, got %.9g\n", tu_x_);                   \
            fail();                                                           \
        }                                                                     \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Sentinels: outputs are pre-filled with a byte pattern so tests can see   */
/* whether anything was written.                                            */
/* ------------------------------------------------------------------------ */

#define TU_SENTINEL_BYTE 0xA5u

static inline void tu_fill_sentinel(void *p, size_t bytes)
{
    memset(p, (int)TU_SENTINEL_BYTE, bytes);
}

static inline int tu_is_sentinel(const void *p, size_t bytes)
{
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < bytes; i++)
        if (c[i] != TU_SENTINEL_BYTE) return 0;
    return 1;
}

/* A float that is dyadic with few bits, so x +- a small power of two is
 * exact: used by the finite-difference checks. */
static inline float tu_dyadic(tu_rng *r, double lo, double hi)
{
    double x = tu_range(r, lo, hi);
    return (float)(floor(x * 1024.0) / 1024.0);
}

#endif /* PREFLOSS_TESTUTIL_H */
