/*
 * prefloss.h — preference-optimisation losses (DPO, IPO, Bradley–Terry) with
 * exact gradients, over float buffers the caller owns.
 *
 * libprefloss 1.0.0 — MIT licence (see the end of this file).
 *
 * HOW TO USE IT
 *
 *   As a library:  link with -lprefloss (pkg-config --cflags --libs prefloss)
 *                  and #include <prefloss.h> anywhere.
 *
 *   Vendored (single header): copy this one file into your tree. In exactly
 *   ONE C or C++ file write
 *
 *       #define PREFLOSS_IMPLEMENTATION
 *       #include "prefloss.h"
 *
 *   and include it normally everywhere else. Nothing else is needed.
 *   Define PREFLOSS_STATIC as well to make every function `static` (a private
 *   copy per translation unit; no symbols are exported).
 *
 * WHAT IT IS
 *
 *   Pure kernels: no allocation, no threads, no global state, no I/O, no libm.
 *   Every function is safe to call concurrently on any buffers. Every
 *   function validates all of its arguments before it writes anything, and
 *   returns a status code (PREFLOSS_OK == 0, errors negative, the "done, but
 *   some inputs were not finite" notice positive).
 *
 * CONVENTIONS (see docs/conventions.md)
 *
 *   For one preference pair: policy log-probs of the chosen and rejected
 *   responses pc, pr; reference log-probs rc, rr (pass NULL for both to train
 *   reference-free, i.e. rc = rr = 0). Log-ratios uc = pc - rc, ur = pr - rr,
 *   h = uc - ur. Every pairwise loss is a function of z = beta*h (or of h);
 *   its gradients are dL/dpc = g and dL/dpr = -g with g = dL/dh. The
 *   reference gets no gradient.
 *
 *   Gradients are written, not accumulated, and are already multiplied by
 *   the caller's upstream gradient dlosses[i] = dTotal/dloss_i (NULL means
 *   all ones), so an autograd backward is one call.
 *
 *   Arguments are ordered outputs, inputs, size, parameters (as in llm.c).
 *   Every output pointer may be NULL (that output is not computed).
 *   Output buffers must not overlap any input or each other.
 *
 * NUMERICS (see docs/numerics.md)
 *
 *   h = (pc - rc) - (pr - rr) is computed in double-float arithmetic from
 *   error-free transformations, so the cancellation between large log-probs
 *   costs nothing; z = beta*h is carried unrounded into the loss. Results
 *   are within a few ulp of the exact value for the given float inputs.
 *   No double arithmetic is used (single-precision FPUs run at full speed).
 */
#ifndef PREFLOSS_H
#define PREFLOSS_H

#include <stddef.h> /* size_t */

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/** Release version of this header (semantic versioning). */
#define PREFLOSS_VERSION_MAJOR 1
#define PREFLOSS_VERSION_MINOR 0
#define PREFLOSS_VERSION_PATCH 0
/** Release version as a string, "MAJOR.MINOR.PATCH". */
#define PREFLOSS_VERSION "1.0.0"
/** Release version as one integer: MAJOR*10000 + MINOR*100 + PATCH. */
#define PREFLOSS_VERSION_NUMBER \
    (PREFLOSS_VERSION_MAJOR * 10000 + PREFLOSS_VERSION_MINOR * 100 + PREFLOSS_VERSION_PATCH)
/** ABI version: the soname is libprefloss.so.PREFLOSS_ABI_VERSION. It changes
 *  only when a binary built against an older library could break. */
#define PREFLOSS_ABI_VERSION 1

/* ------------------------------------------------------------------------ */
/* Export macro                                                             */
/* ------------------------------------------------------------------------ */

#ifndef PREFLOSS_API
#  if defined(PREFLOSS_STATIC)
#    define PREFLOSS_API static
#  elif defined(_WIN32) && defined(PREFLOSS_BUILD_SHARED)
#    define PREFLOSS_API __declspec(dllexport)
#  elif defined(__GNUC__) && defined(PREFLOSS_BUILD_SHARED)
#    define PREFLOSS_API __attribute__((visibility("default")))
#  else
#    define PREFLOSS_API
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/** Success: every requested output was written. */
#define PREFLOSS_OK 0
/** Done, but some inputs were not finite (NaN or +-inf). Every output of an
 *  affected sample is NaN; all other samples are exact. */
#define PREFLOSS_NONFINITE 1
/** A pointer that is required (for n > 0) was NULL, or exactly one of the two
 *  reference pointers was NULL. Nothing was written. */
#define PREFLOSS_ERR_NULL (-1)
/** A scalar parameter is out of its documented range (beta <= 0, not finite,
 *  label smoothing outside [0, 0.5], unknown reduction, ...). Nothing was
 *  written. */
#define PREFLOSS_ERR_PARAM (-2)
/** An output buffer overlaps an input buffer or another output buffer.
 *  Nothing was written. */
#define PREFLOSS_ERR_OVERLAP (-3)
/** A size is too large: the byte size of a buffer does not fit in size_t.
 *  Nothing was written. */
#define PREFLOSS_ERR_SIZE (-4)

/* ------------------------------------------------------------------------ */
/* Version and status functions (the function twins of the macros above)    */
/* ------------------------------------------------------------------------ */

/** Run-time release version string, e.g. "1.0.0". Never NULL. Compare with
 *  PREFLOSS_VERSION to check that header and library agree. */
PREFLOSS_API const char *prefloss_version(void);

/** Run-time release version as MAJOR*10000 + MINOR*100 + PATCH. */
PREFLOSS_API int prefloss_version_number(void);

/** Run-time ABI version (the soname's number): PREFLOSS_ABI_VERSION. */
PREFLOSS_API int prefloss_abi_version(void);

/** A static, human-readable message for a status code. Never NULL; an
 *  unknown code gives "unknown status code". */
PREFLOSS_API const char *prefloss_strerror(int status);

/** The macro name of a status code, e.g. "PREFLOSS_ERR_NULL", or NULL for an
 *  unknown code. Lets bindings that cannot read macros (ctypes) learn the
 *  codes at run time. */
PREFLOSS_API const char *prefloss_status_name(int status);

/* ------------------------------------------------------------------------ */
/* Sequence log-probs                                                       */
/* ------------------------------------------------------------------------ */

/** Reduction of per-token log-probs to one value per sequence. */
#define PREFLOSS_REDUCE_SUM 0  /**< sum_j m[b,j] * t[b,j] (DPO and most losses) */
#define PREFLOSS_REDUCE_MEAN 1 /**< the sum divided by sum_j m[b,j] (IPO in TRL, SimPO) */

/**
 * Sequence log-probs from per-token log-probs and a mask.
 *
 *     sum_b  = sum_j m[b,j] * t[b,j]
 *     mean_b = sum_b / sum_j m[b,j]     (0 for a row with no unmasked token)
 *
 * The sum is compensated (error-free TwoSum accumulation), so it is within
 * about one ulp of the exact sum for any length; the mean is the sum divided
 * by the token count with one rounding.
 *
 * @param[out] seq_logps    (batch) one value per row. Required if batch > 0.
 * @param[in]  token_logps  (batch, seq_len) row-major. Required if batch*seq_len > 0.
 * @param[in]  mask         (batch, seq_len) row-major bytes; a token counts
 *                          when its byte is non-zero (a PyTorch bool tensor
 *                          works as is). NULL: every token counts.
 * @param      batch        number of rows B.
 * @param      seq_len      tokens per row T.
 * @param      reduction    PREFLOSS_REDUCE_SUM or PREFLOSS_REDUCE_MEAN.
 *
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE if a counted token was not finite
 *   (that row is NaN; masked tokens are never read into the result);
 *   PREFLOSS_ERR_PARAM (unknown reduction), PREFLOSS_ERR_NULL,
 *   PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE (batch*seq_len*4 overflows).
 * Writes seq_logps[0..batch) only on a status >= 0.
 */
PREFLOSS_API int prefloss_sequence_logps(float *seq_logps,
                                         const float *token_logps,
                                         const unsigned char *mask,
                                         size_t batch, size_t seq_len,
                                         int reduction);

/**
 * Backward of prefloss_sequence_logps: spreads the gradient of each row's
 * value to its tokens.
 *
 *     SUM:  dt[b,j] = m[b,j] * dseq[b]
 *     MEAN: dt[b,j] = m[b,j] * dseq[b] / sum_j m[b,j]   (0 for an empty row)
 *
 * @param[out] dtoken_logps (batch, seq_len); masked tokens get 0.
 * @param[in]  dseq_logps   (batch) upstream gradient of each row. Required.
 * @param[in]  mask         as for the forward; NULL: every token counts.
 * @return as for prefloss_sequence_logps; a non-finite dseq_logps[b] makes
 *   row b NaN and gives PREFLOSS_NONFINITE.
 */
PREFLOSS_API int prefloss_sequence_logps_backward(float *dtoken_logps,
                                                  const float *dseq_logps,
                                                  const unsigned char *mask,
                                                  size_t batch, size_t seq_len,
                                                  int reduction);

/* ------------------------------------------------------------------------ */
/* Rewards and metrics                                                      */
/* ------------------------------------------------------------------------ */

/**
 * The implicit rewards every trainer logs, per pair:
 *
 *     chosen_rewards[i]   = beta * (pc - rc)
 *     rejected_rewards[i] = beta * (pr - rr)
 *     margins[i]          = beta * ((pc - rc) - (pr - rr))
 *     accuracies[i]       = 1 if (pc - rc) > (pr - rr) exactly, else 0
 *
 * Each value is the exact result for the float inputs, rounded once.
 * Reference-free (ref_chosen == ref_rejected == NULL): rc = rr = 0.
 *
 * @param[out] chosen_rewards, rejected_rewards, margins, accuracies  (n)
 *             each optional (NULL: not computed).
 * @param[in]  policy_chosen, policy_rejected  (n) required if n > 0.
 * @param[in]  ref_chosen, ref_rejected        (n) both or neither.
 * @param      n     number of pairs.
 * @param      beta  KL strength, a finite normal float > 0.
 * @return PREFLOSS_OK, PREFLOSS_NONFINITE (those pairs are NaN, accuracy
 *   included), PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM, PREFLOSS_ERR_OVERLAP,
 *   PREFLOSS_ERR_SIZE.
 */
PREFLOSS_API int prefloss_rewards(float *chosen_rewards, float *rejected_rewards,
                                  float *margins, float *accuracies,
                                  const float *policy_chosen,
                                  const float *policy_rejected,
                                  const float *ref_chosen,
                                  const float *ref_rejected,
                                  size_t n, float beta);

/* ------------------------------------------------------------------------ */
/* DPO: the sigmoid loss, with optional label smoothing (cDPO)              */
/* ------------------------------------------------------------------------ */

/**
 * DPO loss (Rafailov et al. 2023; TRL loss_type="sigmoid"), with optional
 * conservative label smoothing eps (cDPO). With z = beta*h:
 *
 *     loss = -(1 - eps) * log sigma(z) - eps * log sigma(-z)
 *     g    = dloss/dh = -beta * (sigma(-z) - eps)
 *
 *     dchosen[i]   =  g * dlosses[i]
 *     drejected[i] = -g * dlosses[i]
 *
 * -log sigma(z) is evaluated as softplus(-z) without overflow; for z > 17
 * the loss is ~exp(-z), not 0.
 *
 * @param[out] losses     (n) per-pair loss, optional.
 * @param[out] dchosen    (n) gradient w.r.t. policy_chosen, optional.
 * @param[out] drejected  (n) gradient w.r.t. policy_rejected, optional.
 * @param[in]  policy_chosen, policy_rejected  (n) sequence log-probs, required if n > 0.
 * @param[in]  ref_chosen, ref_rejected  (n) both, or both NULL (reference-free).
 * @param[in]  dlosses    (n) upstream gradient, NULL for all ones.
 * @param      n          number of pairs.
 * @param      beta       finite normal float > 0 (TRL's default is 0.1).
 * @param      label_smoothing  eps in [0, 0.5]; 0 is plain DPO.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (pairs with a non-finite log-prob
 *   get NaN in every output; a non-finite dlosses[i] makes that pair's
 *   gradients NaN); PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM,
 *   PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE (nothing written).
 */
PREFLOSS_API int prefloss_dpo_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen,
                                   const float *policy_rejected,
                                   const float *ref_chosen,
                                   const float *ref_rejected,
                                   const float *dlosses,
                                   size_t n, float beta, float label_smoothing);

/* ------------------------------------------------------------------------ */
/* IPO: the squared loss                                                    */
/* ------------------------------------------------------------------------ */

/**
 * IPO loss in TRL's scale (Azar et al. 2023; TRL loss_type="ipo"):
 *
 *     loss = (h - 1/(2*beta))^2
 *     g    = 2 * (h - 1/(2*beta))
 *
 * TRL feeds IPO the MEAN token log-prob of each response (see
 * prefloss_sequence_logps); this function takes whatever it is given.
 * This is the general form below with alpha1 + alpha2 = 1, divided by beta^2.
 *
 * Parameters, outputs and status codes as for prefloss_dpo_loss (no label
 * smoothing). 1/(2*beta) and the difference are computed in double-float, so
 * the loss is accurate even where h is close to 1/(2*beta).
 */
PREFLOSS_API int prefloss_ipo_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen,
                                   const float *policy_rejected,
                                   const float *ref_chosen,
                                   const float *ref_rejected,
                                   const float *dlosses,
                                   size_t n, float beta);

/**
 * IPO loss in the general form of the derivation (preference degree v in
 * [alpha1, alpha2]; the IPO paper's choice is alpha1 = 0, alpha2 = 1):
 *
 *     loss = (beta*h - (alpha1 + alpha2)/2)^2
 *     g    = 2 * beta * (beta*h - (alpha1 + alpha2)/2)
 *
 * It depends on alpha1, alpha2 only through their sum, which is formed
 * exactly: two pairs with the same exact sum give bit-identical results.
 *
 * @param alpha1, alpha2  finite floats (their sum may be anything finite).
 * Other parameters, outputs and status codes as for prefloss_dpo_loss.
 */
PREFLOSS_API int prefloss_ipo_general_loss(float *losses, float *dchosen,
                                           float *drejected,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen,
                                           const float *ref_rejected,
                                           const float *dlosses,
                                           size_t n, float beta,
                                           float alpha1, float alpha2);

/* ------------------------------------------------------------------------ */
/* Bradley–Terry reward-model loss                                          */
/* ------------------------------------------------------------------------ */

/**
 * Bradley–Terry loss of a reward model (TRL RewardTrainer), for scores sw
 * of the preferred and sl of the other response, optional margin m and
 * optional centering coefficient c:
 *
 *     x    = sw - sl - m
 *     loss = -log sigma(x) + c * (sw + sl)^2
 *     dloss/dsw = -sigma(-x) + 2c(sw + sl)
 *     dloss/dsl = +sigma(-x) + 2c(sw + sl)
 *
 * x is formed exactly in double-float before the loss is evaluated.
 *
 * @param[out] losses        (n) optional.
 * @param[out] dscore_chosen (n) gradient w.r.t. score_chosen (sw), optional.
 * @param[out] dscore_rejected (n) gradient w.r.t. score_rejected (sl), optional.
 * @param[in]  score_chosen, score_rejected  (n) required if n > 0.
 * @param[in]  margins   (n) per-pair margin m, NULL for 0.
 * @param[in]  dlosses   (n) upstream gradient, NULL for all ones.
 * @param      n         number of pairs.
 * @param      center_coef  c >= 0 and finite (TRL center_rewards_coefficient;
 *                          0 disables it).
 * @return as for prefloss_dpo_loss.
 */
PREFLOSS_API int prefloss_bt_loss(float *losses, float *dscore_chosen,
                                  float *dscore_rejected,
                                  const float *score_chosen,
                                  const float *score_rejected,
                                  const float *margins,
                                  const float *dlosses,
                                  size_t n, float center_coef);

#ifdef __cplusplus
}
#endif

#endif /* PREFLOSS_H */

/* ======================================================================== */
/*                                                                          */
/*                           IMPLEMENTATION                                 */
/*                                                                          */
/* Compiled only where PREFLOSS_IMPLEMENTATION is defined (one file).       */
/* Internal names use the prefix prefloss__ and are never exported.         */
/* ======================================================================== */
#if defined(PREFLOSS_IMPLEMENTATION) && !defined(PREFLOSS_IMPLEMENTATION_INCLUDED)
#define PREFLOSS_IMPLEMENTATION_INCLUDED

#include <stdint.h> /* uint32_t, int32_t, uintptr_t, SIZE_MAX */
#include <float.h>  /* FLT_MIN, FLT_MAX, FLT_EVAL_METHOD */

/* The error-free transformations below need every float operation rounded
 * to binary32. x87 excess precision (FLT_EVAL_METHOD 2, e.g. i386 without
 * -msse2 -mfpmath=sse) silently breaks them. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != -1
#  error "prefloss needs FLT_EVAL_METHOD == 0 (on i386 build with -msse2 -mfpmath=sse)"
#endif

#ifdef __cplusplus
#  define PREFLOSS__RESTRICT __restrict
#else
#  define PREFLOSS__RESTRICT restrict
#endif
#define PREFLOSS__INLINE static inline

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Double-float arithmetic                                                  */
/*                                                                          */
/* A value is carried as an unevaluated sum hi + lo of two floats with      */
/* |lo| <= ulp(hi)/2: 48 significant bits, with float operations only.      */
/* The algorithms and their error bounds are from Joldes, Muller & Popescu, */
/* "Tight and rigorous error bounds for basic building blocks of            */
/* double-word arithmetic" (ACM TOMS 2017).                                 */
/* ------------------------------------------------------------------------ */

typedef struct prefloss__df { float hi, lo; } prefloss__df;

PREFLOSS__INLINE prefloss__df prefloss__df_make(float hi, float lo)
{
    prefloss__df r;
    r.hi = hi;
    r.lo = lo;
    return r;
}

PREFLOSS__INLINE float prefloss__fabs(float x) { return x < 0.0f ? -x : x; }

/* Reinterpretation of a float's bits (a union: valid C99, and supported by
 * every C++ compiler this header targets). */
PREFLOSS__INLINE float prefloss__bits_to_float(uint32_t u)
{
    union { uint32_t u; float f; } v;
    v.u = u;
    return v.f;
}
PREFLOSS__INLINE uint32_t prefloss__float_to_bits(float f)
{
    union { uint32_t u; float f; } v;
    v.f = f;
    return v.u;
}

/* 0 when x is finite, NaN when it is not (x - x is NaN for inf and NaN).
 * Negated so that the result is -0: y + prefloss__nan_if_nonfinite(x) == y
 * for every y, signed zeros included, when x is finite. */
PREFLOSS__INLINE float prefloss__nan_if_nonfinite(float x) { return -(x - x); }

/* A quiet NaN, without libm's nanf(). */
PREFLOSS__INLINE float prefloss__nan(void) { return prefloss__bits_to_float(0x7fc00000u); }

/* lo, or 0 where hi overflowed: keeps an overflowed value at +-inf instead
 * of letting the (meaningless) low part turn it into NaN. */
PREFLOSS__INLINE float prefloss__lo_if_finite(float hi, float lo)
{
    return prefloss__fabs(hi) <= FLT_MAX ? lo : 0.0f;
}

/* TwoSum (Knuth): s + e == a + b exactly, s = fl(a + b). */
PREFLOSS__INLINE prefloss__df prefloss__two_sum(float a, float b)
{
    float s = a + b;
    float bb = s - a;
    float e = (a - (s - bb)) + (b - bb);
    return prefloss__df_make(s, e);
}

/* Fast2Sum (Dekker): exact when the exponent of a is >= that of b. */
PREFLOSS__INLINE prefloss__df prefloss__fast_two_sum(float a, float b)
{
    float s = a + b;
    float e = b - (s - a);
    return prefloss__df_make(s, e);
}

/* TwoProd: p + e == a * b exactly, p = fl(a * b) (barring under/overflow).
 * With a hardware FMA the error is one fused operation; otherwise Dekker's
 * product with Veltkamp's split (valid for |a|, |b| < 2^115). Where the
 * product or the split overflows, e is set to 0. */
#if defined(__FP_FAST_FMAF)
PREFLOSS__INLINE prefloss__df prefloss__two_prod(float a, float b)
{
    float p = a * b;
    float e = __builtin_fmaf(a, b, -p);
    return prefloss__df_make(p, (e - e == 0.0f) ? e : 0.0f);
}
#else
PREFLOSS__INLINE prefloss__df prefloss__split(float a)
{
    float t = 4097.0f * a; /* 2^12 + 1 */
    float hi = t - (t - a);
    return prefloss__df_make(hi, a - hi);
}
PREFLOSS__INLINE prefloss__df prefloss__two_prod(float a, float b)
{
    float p = a * b;
    prefloss__df as = prefloss__split(a), bs = prefloss__split(b);
    float e = ((as.hi * bs.hi - p) + as.hi * bs.lo + as.lo * bs.hi) + as.lo * bs.lo;
    return prefloss__df_make(p, (e - e == 0.0f) ? e : 0.0f);
}
#endif

/* (xh + xl) + (yh + yl), relative error <= 3u^2 (AccurateDWPlusDW). */
PREFLOSS__INLINE prefloss__df prefloss__df_add(prefloss__df x, prefloss__df y)
{
    prefloss__df s = prefloss__two_sum(x.hi, y.hi);
    prefloss__df t = prefloss__two_sum(x.lo, y.lo);
    prefloss__df v = prefloss__fast_two_sum(s.hi, s.lo + t.hi);
    return prefloss__fast_two_sum(v.hi, t.lo + v.lo);
}

/* (xh + xl) + y, relative error <= 2u^2 (DWPlusFP). */
PREFLOSS__INLINE prefloss__df prefloss__df_add_f(prefloss__df x, float y)
{
    prefloss__df s = prefloss__two_sum(x.hi, y);
    return prefloss__fast_two_sum(s.hi, x.lo + s.lo);
}

/* (xh + xl) * y, relative error <= 2u^2 (DWTimesFP). */
PREFLOSS__INLINE prefloss__df prefloss__df_mul_f(prefloss__df x, float y)
{
    prefloss__df c = prefloss__two_prod(x.hi, y);
    prefloss__df r = prefloss__fast_two_sum(c.hi, x.lo * y + c.lo);
    return prefloss__df_make(r.hi, prefloss__lo_if_finite(r.hi, r.lo));
}

/* The double-float rounded to the nearest float (an overflowed hi stays inf). */
PREFLOSS__INLINE float prefloss__df_round(prefloss__df x)
{
    return x.hi + prefloss__lo_if_finite(x.hi, x.lo);
}

/* ------------------------------------------------------------------------ */
/* Exact differences of log-probs                                           */
/* ------------------------------------------------------------------------ */

/* Inputs at least this large are pre-scaled by 1/4 so that no partial sum
 * of four of them can overflow; the scaling is exact for every input that
 * can still matter next to such a value. */
#define PREFLOSS__BIG 4.2535295865117307932921825928971026432e37f /* 2^125 */

/* h = (a - b) - (c - d) as a double-float, relative error <= 3u^2 for any
 * finite inputs: both differences are exact TwoSums, their difference an
 * accurate double-float addition. No cancellation is ever lost. */
PREFLOSS__INLINE prefloss__df prefloss__diff_of_diffs(float a, float b, float c, float d)
{
    float m = prefloss__fabs(a);
    m = prefloss__fabs(b) > m ? prefloss__fabs(b) : m;
    m = prefloss__fabs(c) > m ? prefloss__fabs(c) : m;
    m = prefloss__fabs(d) > m ? prefloss__fabs(d) : m;
    {
        float scale = m >= PREFLOSS__BIG ? 0.25f : 1.0f;
        float unscale = m >= PREFLOSS__BIG ? 4.0f : 1.0f;
        prefloss__df x = prefloss__two_sum(a * scale, -(b * scale)); /* a - b */
        prefloss__df y = prefloss__two_sum(d * scale, -(c * scale)); /* -(c - d) */
        prefloss__df h = prefloss__df_add(x, y);
        float hi = h.hi * unscale;
        return prefloss__df_make(hi, prefloss__lo_if_finite(hi, h.lo * unscale));
    }
}

/* a - b - c as a double-float (the Bradley–Terry argument sw - sl - m). */
PREFLOSS__INLINE prefloss__df prefloss__diff3(float a, float b, float c)
{
    return prefloss__diff_of_diffs(a, b, c, 0.0f);
}

/* ------------------------------------------------------------------------ */
/* Elementary functions (no libm; branch-free so loops vectorise)           */
/* ------------------------------------------------------------------------ */

#define PREFLOSS__LOG2E 1.44269504088896341f
/* ln 2 split so that k * LN2_HI is exact for |k| < 2^9 (fdlibm's split). */
#define PREFLOSS__LN2_HI 6.9314575195e-01f  /* 0x3f317200 */
#define PREFLOSS__LN2_LO 1.4286067653e-06f  /* 0x35bfbe8e */
/* exp(-x) is 0 in float beyond this (e^-104 < 2^-150). */
#define PREFLOSS__EXP_NEG_LIMIT 104.0f

/* 2^k for k in [-151, 0], as two normal factors whose product is exact
 * unless the final result is subnormal. */
PREFLOSS__INLINE float prefloss__pow2_half(int32_t k)
{
    return prefloss__bits_to_float((uint32_t)(k + 127) << 23);
}

/* Range reduction shared by both exponentials: for x = -(ah + al) with
 * ah >= 0, returns k and r (as a double-float) with x = k ln2 + r,
 * |r| <= ln2/2 (+ tiny). */
PREFLOSS__INLINE prefloss__df prefloss__exp_reduce(float ah, float al, int32_t *k_out)
{
    float a = ah < PREFLOSS__EXP_NEG_LIMIT ? ah : PREFLOSS__EXP_NEG_LIMIT;
    int32_t ki = (int32_t)(a * PREFLOSS__LOG2E + 0.5f); /* round(a / ln2), a >= 0 */
    float kf = (float)ki;
    float r1 = (kf * PREFLOSS__LN2_HI) - a;            /* exact (Sterbenz) */
    prefloss__df r = prefloss__two_sum(r1, kf * PREFLOSS__LN2_LO);
    r.lo -= (a < ah) ? 0.0f : al; /* fold in the low part of the argument */
    *k_out = -ki;
    return r;
}

/* 2^k * (hi + lo) for k in [-151, 0]. */
PREFLOSS__INLINE float prefloss__scale2(float x, int32_t k)
{
    int32_t k1 = k / 2;
    return (x * prefloss__pow2_half(k1)) * prefloss__pow2_half(k - k1);
}

/* exp(-(ah + al)) for ah >= 0, within ~1 ulp; 0 for ah >= 104.
 * e^r = 1 + r + r^2/2 + ... + r^7/5040 (Taylor, |r| <= 0.347: the
 * truncation error is < 2^-27 relative). */
PREFLOSS__INLINE float prefloss__exp_neg(float ah, float al)
{
    int32_t k;
    prefloss__df rr = prefloss__exp_reduce(ah, al, &k);
    float r = rr.hi + rr.lo;
    float q = 1.0f / 2 + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120
              + r * (1.0f / 720 + r * (1.0f / 5040)))));
    float p = 1.0f + (r + r * r * q);
    float e = prefloss__scale2(p, k);
    return ah < PREFLOSS__EXP_NEG_LIMIT ? e : 0.0f;
}

/* exp(-(ah + al)) for ah >= 0 as a double-float, relative error ~2^-30:
 * the part of the Taylor series that matters (1 + r + r^2/2) is summed in
 * double-float, the rest in float. For small |r| the float part is O(r^3)
 * so the error shrinks with the argument. */
PREFLOSS__INLINE prefloss__df prefloss__exp_neg_df(float ah, float al)
{
    int32_t k;
    prefloss__df r = prefloss__exp_reduce(ah, al, &k);
    prefloss__df r2 = prefloss__two_prod(r.hi, r.hi);
    float q = r.hi * r.hi * r.hi * (1.0f / 6 + r.hi * (1.0f / 24 + r.hi * (1.0f / 120
              + r.hi * (1.0f / 720 + r.hi * (1.0f / 5040)))));
    prefloss__df s = prefloss__two_sum(1.0f, r.hi);                 /* 1 + r */
    prefloss__df t = prefloss__two_sum(s.hi, 0.5f * r2.hi);         /* + r^2/2 */
    float low = s.lo + t.lo + r.lo + 0.5f * r2.lo + r.hi * r.lo + q;
    prefloss__df e = prefloss__fast_two_sum(t.hi, low);
    int ok = ah < PREFLOSS__EXP_NEG_LIMIT;
    e.hi = ok ? prefloss__scale2(e.hi, k) : 0.0f;
    e.lo = ok ? prefloss__scale2(e.lo, k) : 0.0f;
    return e;
}

/* log1p(y) for y in [0, 1], within ~1 ulp (also for tiny y, where it is y).
 * log1p(y) = 2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + ..., s = y/(2 + y) <= 1/3;
 * s is computed with a correction for the rounding of 2 + y and of the
 * division, so the leading term 2s carries no error of its own. */
PREFLOSS__INLINE float prefloss__log1p_unit(float y)
{
    prefloss__df d = prefloss__fast_two_sum(2.0f, y);      /* 2 + y exactly */
    float s0 = y / d.hi;
    prefloss__df p = prefloss__two_prod(s0, d.hi);
    float s1 = (((y - p.hi) - p.lo) - s0 * d.lo) / d.hi;  /* s = s0 + s1 */
    float t = s0 * s0;
    float tail = t * (1.0f / 3 + t * (1.0f / 5 + t * (1.0f / 7 + t * (1.0f / 9
                 + t * (1.0f / 11 + t * (1.0f / 13 + t * (1.0f / 15)))))));
    return 2.0f * s0 + (2.0f * s1 + 2.0f * s0 * tail);
}

/* ------------------------------------------------------------------------ */
/* The sigmoid family: -log sigma(z) and sigma(-z) for z = zh + zl          */
/* ------------------------------------------------------------------------ */

/* Per element of the sigmoid family, with e = exp(-|z|):
 *
 *   loss = (1 - eps) softplus(-z) + eps softplus(z)
 *        = w |z| + log1p(e),   w = eps if z >= 0 else 1 - eps
 *   sigma(-z) = e / (1 + e)  if z >= 0,  1 / (1 + e) otherwise
 *
 * z arrives unrounded (double-float), so no rounding of z costs accuracy. */
PREFLOSS__INLINE float prefloss__softplus_family(float zh, float zl, float e, float eps)
{
    int pos = zh >= 0.0f;
    float ah = pos ? zh : -zh, al = pos ? zl : -zl;
    float w = pos ? eps : 1.0f - eps;
    float lin_hi = w > 0.0f ? w * ah : 0.0f; /* 0 * inf must stay 0 */
    float lin_lo = w > 0.0f ? w * al : 0.0f;
    return lin_hi + (lin_lo + prefloss__log1p_unit(e));
}

/* sigma(-z) in float, within ~1.5 ulp: the rounding of 1 + e is corrected. */
PREFLOSS__INLINE float prefloss__sigmoid_neg(float zh, float e)
{
    float num = zh >= 0.0f ? e : 1.0f;
    prefloss__df den = prefloss__fast_two_sum(1.0f, e);
    float q = num / den.hi;
    return q - q * (den.lo / den.hi);
}

/* sigma(-z) as a double-float from a double-float e = exp(-|z|): used where
 * the gradient is a difference that can cancel (label smoothing, reward
 * centering), so that only the final rounding remains. */
PREFLOSS__INLINE prefloss__df prefloss__sigmoid_neg_df(float zh, prefloss__df e)
{
    prefloss__df den = prefloss__df_add_f(e, 1.0f);        /* 1 + e */
    /* q = e / (1 + e): e.hi/den.hi with one correction for the remainder */
    float q0 = e.hi / den.hi;
    prefloss__df p = prefloss__two_prod(q0, den.hi);
    float q1 = (((e.hi - p.hi) - p.lo) + e.lo - q0 * den.lo) / den.hi;
    prefloss__df q = prefloss__fast_two_sum(q0, q1);
    /* sigma(-z) = q for z >= 0, 1 - q = 1/(1 + e) for z < 0 */
    prefloss__df one_minus_q = prefloss__df_add_f(prefloss__df_make(-q.hi, -q.lo), 1.0f);
    return zh >= 0.0f ? q : one_minus_q;
}

/* round(s - c) for double-floats s and c. */
PREFLOSS__INLINE float prefloss__df_sub_round(prefloss__df s, prefloss__df c)
{
    return prefloss__df_round(prefloss__df_add(s, prefloss__df_make(-c.hi, -c.lo)));
}

/* ------------------------------------------------------------------------ */
/* Kernels                                                                  */
/*                                                                          */
/* Each kernel runs over one chunk with every pointer valid: the entry      */
/* points substitute zeros for an absent reference, ones for an absent      */
/* upstream gradient and a scratch buffer for an absent output, so the      */
/* loops have no per-element branches. Each returns non-zero when a         */
/* non-finite input was seen.                                               */
/* ------------------------------------------------------------------------ */

#define PREFLOSS__CHUNK 64

/* DPO / cDPO. z = beta*h; g = -beta (sigma(-z) - eps). */
static int prefloss__dpo_kernel(float *PREFLOSS__RESTRICT loss,
                                float *PREFLOSS__RESTRICT dc,
                                float *PREFLOSS__RESTRICT dr,
                                const float *PREFLOSS__RESTRICT pc,
                                const float *PREFLOSS__RESTRICT pr,
                                const float *PREFLOSS__RESTRICT rc,
                                const float *PREFLOSS__RESTRICT rr,
                                const float *PREFLOSS__RESTRICT up,
                                size_t n, float beta, float eps)
{
    int bad_seen = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = prefloss__nan_if_nonfinite(pc[i]) + prefloss__nan_if_nonfinite(pr[i])
                  + prefloss__nan_if_nonfinite(rc[i]) + prefloss__nan_if_nonfinite(rr[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        prefloss__df z = prefloss__df_mul_f(prefloss__diff_of_diffs(pc[i], rc[i], pr[i], rr[i]), beta);
        float ah = z.hi >= 0.0f ? z.hi : -z.hi;
        float al = z.hi >= 0.0f ? z.lo : -z.lo;
        float e = prefloss__exp_neg(ah, al);
        float s = prefloss__sigmoid_neg(z.hi, e);
        float g = -(beta * s) * up[i];
        loss[i] = prefloss__softplus_family(z.hi, z.lo, e, eps) + bad;
        dc[i] = g + bad_up;
        dr[i] = -g + bad_up;
        bad_seen |= bad_up != bad_up;
    }
    (void)eps;
    return bad_seen;
}

/* The same with eps > 0: the gradient needs sigma(-z) - eps accurately. */
static int prefloss__cdpo_kernel(float *PREFLOSS__RESTRICT loss,
                                 float *PREFLOSS__RESTRICT dc,
                                 float *PREFLOSS__RESTRICT dr,
                                 const float *PREFLOSS__RESTRICT pc,
                                 const float *PREFLOSS__RESTRICT pr,
                                 const float *PREFLOSS__RESTRICT rc,
                                 const float *PREFLOSS__RESTRICT rr,
                                 const float *PREFLOSS__RESTRICT up,
                                 size_t n, float beta, float eps)
{
    int bad_seen = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = prefloss__nan_if_nonfinite(pc[i]) + prefloss__nan_if_nonfinite(pr[i])
                  + prefloss__nan_if_nonfinite(rc[i]) + prefloss__nan_if_nonfinite(rr[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        prefloss__df z = prefloss__df_mul_f(prefloss__diff_of_diffs(pc[i], rc[i], pr[i], rr[i]), beta);
        float ah = z.hi >= 0.0f ? z.hi : -z.hi;
        float al = z.hi >= 0.0f ? z.lo : -z.lo;
        prefloss__df e = prefloss__exp_neg_df(ah, al);
        float s = prefloss__df_sub_round(prefloss__sigmoid_neg_df(z.hi, e),
                                         prefloss__df_make(eps, 0.0f));
        float g = -(beta * s) * up[i];
        loss[i] = prefloss__softplus_family(z.hi, z.lo, e.hi, eps) + bad;
        dc[i] = g + bad_up;
        dr[i] = -g + bad_up;
        bad_seen |= bad_up != bad_up;
    }
    return bad_seen;
}

/* IPO, general form: y = beta*h - half_sum, loss = y^2, g = 2 beta y.
 * The TRL form is the same with beta = 1 and half_sum = 1/(2 beta): both
 * pass the offset as a double-float and the slope of g separately. */
static int prefloss__ipo_kernel(float *PREFLOSS__RESTRICT loss,
                                float *PREFLOSS__RESTRICT dc,
                                float *PREFLOSS__RESTRICT dr,
                                const float *PREFLOSS__RESTRICT pc,
                                const float *PREFLOSS__RESTRICT pr,
                                const float *PREFLOSS__RESTRICT rc,
                                const float *PREFLOSS__RESTRICT rr,
                                const float *PREFLOSS__RESTRICT up,
                                size_t n, float scale, prefloss__df offset, float gscale)
{
    int bad_seen = 0;
    size_t i;
    prefloss__df neg_offset = prefloss__df_make(-offset.hi, -offset.lo);
    for (i = 0; i < n; i++) {
        float bad = prefloss__nan_if_nonfinite(pc[i]) + prefloss__nan_if_nonfinite(pr[i])
                  + prefloss__nan_if_nonfinite(rc[i]) + prefloss__nan_if_nonfinite(rr[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        prefloss__df h = prefloss__diff_of_diffs(pc[i], rc[i], pr[i], rr[i]);
        prefloss__df y = prefloss__df_add(prefloss__df_mul_f(h, scale), neg_offset);
        prefloss__df y2;
        float g;
        y.lo = prefloss__lo_if_finite(y.hi, y.lo);
        y2 = prefloss__two_prod(y.hi, y.hi);             /* y^2 = yh^2 + 2 yh yl */
        g = prefloss__df_round(prefloss__df_mul_f(y, gscale)) * up[i];
        loss[i] = y2.hi + (y2.lo + 2.0f * y.hi * y.lo) + bad;
        dc[i] = g + bad_up;
        dr[i] = -g + bad_up;
        bad_seen |= bad_up != bad_up;
    }
    return bad_seen;
}

/* Bradley–Terry: x = sw - sl - m; loss = softplus(-x) + c (sw + sl)^2,
 * dloss/dsw = -(sigma(-x) - 2c(sw + sl)), dloss/dsl = sigma(-x) + 2c(sw + sl).
 * With c > 0 the two terms of a gradient can cancel, so sigma(-x) and
 * 2c(sw + sl) are then both formed in double-float before they are added. */
static int prefloss__bt_kernel(float *PREFLOSS__RESTRICT loss,
                               float *PREFLOSS__RESTRICT dw,
                               float *PREFLOSS__RESTRICT dl,
                               const float *PREFLOSS__RESTRICT sw,
                               const float *PREFLOSS__RESTRICT sl,
                               const float *PREFLOSS__RESTRICT m,
                               const float *PREFLOSS__RESTRICT up,
                               size_t n, float center)
{
    int bad_seen = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = prefloss__nan_if_nonfinite(sw[i]) + prefloss__nan_if_nonfinite(sl[i])
                  + prefloss__nan_if_nonfinite(m[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        prefloss__df x = prefloss__diff3(sw[i], sl[i], m[i]);
        float ah = x.hi >= 0.0f ? x.hi : -x.hi;
        float al = x.hi >= 0.0f ? x.lo : -x.lo;
        float gw, gl, cterm;
        if (center > 0.0f) {
            prefloss__df e = prefloss__exp_neg_df(ah, al);
            prefloss__df sig = prefloss__sigmoid_neg_df(x.hi, e);
            prefloss__df sum = prefloss__two_sum(sw[i], sl[i]);
            prefloss__df cgrad = prefloss__df_mul_f(sum, 2.0f * center); /* 2c(sw + sl) */
            float sumr = prefloss__df_round(sum);
            cterm = center * (sumr * sumr);
            gw = -prefloss__df_sub_round(sig, cgrad) * up[i];
            gl = prefloss__df_sub_round(sig, prefloss__df_make(-cgrad.hi, -cgrad.lo)) * up[i];
            loss[i] = prefloss__softplus_family(x.hi, x.lo, e.hi, 0.0f) + cterm + bad;
        } else {
            float e = prefloss__exp_neg(ah, al);
            float s = prefloss__sigmoid_neg(x.hi, e);
            gw = -s * up[i];
            gl = s * up[i];
            loss[i] = prefloss__softplus_family(x.hi, x.lo, e, 0.0f) + bad;
        }
        dw[i] = gw + bad_up;
        dl[i] = gl + bad_up;
        bad_seen |= bad_up != bad_up;
    }
    return bad_seen;
}

/* Rewards: beta*uc, beta*ur, beta*h, [h > 0]. */
static int prefloss__rewards_kernel(float *PREFLOSS__RESTRICT rw_c,
                                    float *PREFLOSS__RESTRICT rw_r,
                                    float *PREFLOSS__RESTRICT margin,
                                    float *PREFLOSS__RESTRICT acc,
                                    const float *PREFLOSS__RESTRICT pc,
                                    const float *PREFLOSS__RESTRICT pr,
                                    const float *PREFLOSS__RESTRICT rc,
                                    const float *PREFLOSS__RESTRICT rr,
                                    size_t n, float beta)
{
    int bad_seen = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = prefloss__nan_if_nonfinite(pc[i]) + prefloss__nan_if_nonfinite(pr[i])
                  + prefloss__nan_if_nonfinite(rc[i]) + prefloss__nan_if_nonfinite(rr[i]);
        prefloss__df uc = prefloss__diff_of_diffs(pc[i], rc[i], 0.0f, 0.0f);
        prefloss__df ur = prefloss__diff_of_diffs(pr[i], rr[i], 0.0f, 0.0f);
        prefloss__df h = prefloss__diff_of_diffs(pc[i], rc[i], pr[i], rr[i]);
        rw_c[i] = prefloss__df_round(prefloss__df_mul_f(uc, beta)) + bad;
        rw_r[i] = prefloss__df_round(prefloss__df_mul_f(ur, beta)) + bad;
        margin[i] = prefloss__df_round(prefloss__df_mul_f(h, beta)) + bad;
        acc[i] = (h.hi > 0.0f ? 1.0f : 0.0f) + bad;
        bad_seen |= bad != bad;
    }
    return bad_seen;
}

/* ------------------------------------------------------------------------ */
/* Argument validation: everything is checked before anything is written    */
/* ------------------------------------------------------------------------ */

static const float prefloss__zeros[PREFLOSS__CHUNK] = {0};
static const float prefloss__ones[PREFLOSS__CHUNK] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* A byte range [p, p + bytes). */
typedef struct prefloss__range { const void *p; size_t bytes; } prefloss__range;

static int prefloss__ranges_overlap(prefloss__range a, prefloss__range b)
{
    uintptr_t a0 = (uintptr_t)a.p, b0 = (uintptr_t)b.p;
    if (a.p == NULL || b.p == NULL || a.bytes == 0 || b.bytes == 0) return 0;
    return a0 < b0 + b.bytes && b0 < a0 + a.bytes;
}

/* PREFLOSS_ERR_OVERLAP if any output overlaps an input or another output. */
static int prefloss__check_overlap(const prefloss__range *out, int n_out,
                                   const prefloss__range *in, int n_in)
{
    int i, j;
    for (i = 0; i < n_out; i++) {
        for (j = 0; j < n_in; j++)
            if (prefloss__ranges_overlap(out[i], in[j])) return PREFLOSS_ERR_OVERLAP;
        for (j = i + 1; j < n_out; j++)
            if (prefloss__ranges_overlap(out[i], out[j])) return PREFLOSS_ERR_OVERLAP;
    }
    return PREFLOSS_OK;
}

/* beta: a finite, normal, positive float (so that 1/(2 beta) is finite). */
static int prefloss__beta_ok(float beta) { return beta >= FLT_MIN && beta <= FLT_MAX; }
static int prefloss__finite(float x) { return x - x == 0.0f; }

/* Checks shared by every pairwise entry point: n's byte size, the required
 * pointers, the both-or-neither reference pair, and overlaps of the three
 * outputs with the (up to five) inputs. */
static int prefloss__check_pairwise(size_t n,
                                    float *o1, float *o2, float *o3, float *o4,
                                    const float *a, const float *b,
                                    const float *c, const float *d,
                                    const float *e, int c_d_both_or_neither)
{
    size_t bytes;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (a == NULL || b == NULL) return PREFLOSS_ERR_NULL;
    if (c_d_both_or_neither && ((c == NULL) != (d == NULL))) return PREFLOSS_ERR_NULL;
    bytes = n * sizeof(float);
    {
        prefloss__range out[4], in[5];
        out[0].p = o1; out[1].p = o2; out[2].p = o3; out[3].p = o4;
        in[0].p = a; in[1].p = b; in[2].p = c; in[3].p = d; in[4].p = e;
        out[0].bytes = out[1].bytes = out[2].bytes = out[3].bytes = bytes;
        in[0].bytes = in[1].bytes = in[2].bytes = in[3].bytes = in[4].bytes = bytes;
        return prefloss__check_overlap(out, 4, in, 5);
    }
}

/* ------------------------------------------------------------------------ */
/* Chunked drivers: substitute defaults for NULL pointers, chunk by chunk   */
/* ------------------------------------------------------------------------ */

/* The pointer for elements [i, i + len) of an optional input, or a block of
 * defaults. */
#define PREFLOSS__IN(p, i, dflt) ((p) != NULL ? (p) + (i) : (dflt))
#define PREFLOSS__OUT(p, i, scratch) ((p) != NULL ? (p) + (i) : (scratch))

enum { PREFLOSS__KIND_DPO, PREFLOSS__KIND_CDPO, PREFLOSS__KIND_IPO };

static int prefloss__run_pairwise(int kind, float *losses, float *dchosen, float *drejected,
                                  const float *pc, const float *pr,
                                  const float *rc, const float *rr,
                                  const float *dlosses, size_t n,
                                  float beta, float eps,
                                  float scale, prefloss__df offset, float gscale)
{
    float s_loss[PREFLOSS__CHUNK], s_dc[PREFLOSS__CHUNK], s_dr[PREFLOSS__CHUNK];
    int bad = 0;
    size_t i;
    for (i = 0; i < n; i += PREFLOSS__CHUNK) {
        size_t len = n - i < PREFLOSS__CHUNK ? n - i : PREFLOSS__CHUNK;
        float *l = PREFLOSS__OUT(losses, i, s_loss);
        float *gc = PREFLOSS__OUT(dchosen, i, s_dc);
        float *gr = PREFLOSS__OUT(drejected, i, s_dr);
        const float *c = PREFLOSS__IN(rc, i, prefloss__zeros);
        const float *r = PREFLOSS__IN(rr, i, prefloss__zeros);
        const float *u = PREFLOSS__IN(dlosses, i, prefloss__ones);
        if (kind == PREFLOSS__KIND_DPO)
            bad |= prefloss__dpo_kernel(l, gc, gr, pc + i, pr + i, c, r, u, len, beta, eps);
        else if (kind == PREFLOSS__KIND_CDPO)
            bad |= prefloss__cdpo_kernel(l, gc, gr, pc + i, pr + i, c, r, u, len, beta, eps);
        else
            bad |= prefloss__ipo_kernel(l, gc, gr, pc + i, pr + i, c, r, u, len, scale, offset, gscale);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* ------------------------------------------------------------------------ */
/* Public entry points                                                      */
/* ------------------------------------------------------------------------ */

PREFLOSS_API const char *prefloss_version(void) { return PREFLOSS_VERSION; }
PREFLOSS_API int prefloss_version_number(void) { return PREFLOSS_VERSION_NUMBER; }
PREFLOSS_API int prefloss_abi_version(void) { return PREFLOSS_ABI_VERSION; }

PREFLOSS_API const char *prefloss_strerror(int status)
{
    switch (status) {
    case PREFLOSS_OK: return "success";
    case PREFLOSS_NONFINITE: return "done, but some inputs were not finite (those samples are NaN)";
    case PREFLOSS_ERR_NULL: return "a required pointer is NULL (or only one reference pointer is)";
    case PREFLOSS_ERR_PARAM: return "a parameter is out of range";
    case PREFLOSS_ERR_OVERLAP: return "an output buffer overlaps an input or another output";
    case PREFLOSS_ERR_SIZE: return "a buffer size overflows size_t";
    default: return "unknown status code";
    }
}

PREFLOSS_API const char *prefloss_status_name(int status)
{
    switch (status) {
    case PREFLOSS_OK: return "PREFLOSS_OK";
    case PREFLOSS_NONFINITE: return "PREFLOSS_NONFINITE";
    case PREFLOSS_ERR_NULL: return "PREFLOSS_ERR_NULL";
    case PREFLOSS_ERR_PARAM: return "PREFLOSS_ERR_PARAM";
    case PREFLOSS_ERR_OVERLAP: return "PREFLOSS_ERR_OVERLAP";
    case PREFLOSS_ERR_SIZE: return "PREFLOSS_ERR_SIZE";
    default: return NULL;
    }
}

PREFLOSS_API int prefloss_dpo_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen, const float *policy_rejected,
                                   const float *ref_chosen, const float *ref_rejected,
                                   const float *dlosses, size_t n, float beta,
                                   float label_smoothing)
{
    int st;
    if (!prefloss__beta_ok(beta) || !(label_smoothing >= 0.0f && label_smoothing <= 0.5f))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st != PREFLOSS_OK) return st;
    return prefloss__run_pairwise(label_smoothing > 0.0f ? PREFLOSS__KIND_CDPO : PREFLOSS__KIND_DPO,
                                  losses, dchosen, drejected, policy_chosen, policy_rejected,
                                  ref_chosen, ref_rejected, dlosses, n, beta, label_smoothing,
                                  0.0f, prefloss__df_make(0.0f, 0.0f), 0.0f);
}

PREFLOSS_API int prefloss_ipo_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen, const float *policy_rejected,
                                   const float *ref_chosen, const float *ref_rejected,
                                   const float *dlosses, size_t n, float beta)
{
    int st;
    prefloss__df offset;
    if (!prefloss__beta_ok(beta)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st != PREFLOSS_OK) return st;
    /* 1/(2 beta) as a double-float: c + (1 - 2 beta c)/(2 beta) */
    {
        float c = 0.5f / beta;
        prefloss__df p = prefloss__two_prod(c, beta);
        offset = prefloss__df_make(c, (((0.5f - p.hi) - p.lo) / beta));
    }
    return prefloss__run_pairwise(PREFLOSS__KIND_IPO, losses, dchosen, drejected,
                                  policy_chosen, policy_rejected, ref_chosen, ref_rejected,
                                  dlosses, n, beta, 0.0f, 1.0f, offset, 2.0f);
}

PREFLOSS_API int prefloss_ipo_general_loss(float *losses, float *dchosen, float *drejected,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen, const float *ref_rejected,
                                           const float *dlosses, size_t n, float beta,
                                           float alpha1, float alpha2)
{
    int st;
    prefloss__df half_sum;
    if (!prefloss__beta_ok(beta) || !prefloss__finite(alpha1) || !prefloss__finite(alpha2)
        || !prefloss__finite(alpha1 + alpha2))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st != PREFLOSS_OK) return st;
    /* (alpha1 + alpha2)/2 exactly: only the exact sum enters the loss */
    half_sum = prefloss__two_sum(alpha1, alpha2);
    half_sum.hi *= 0.5f;
    half_sum.lo *= 0.5f;
    return prefloss__run_pairwise(PREFLOSS__KIND_IPO, losses, dchosen, drejected,
                                  policy_chosen, policy_rejected, ref_chosen, ref_rejected,
                                  dlosses, n, beta, 0.0f, beta, half_sum, 2.0f * beta);
}

PREFLOSS_API int prefloss_bt_loss(float *losses, float *dscore_chosen, float *dscore_rejected,
                                  const float *score_chosen, const float *score_rejected,
                                  const float *margins, const float *dlosses, size_t n,
                                  float center_coef)
{
    float s_loss[PREFLOSS__CHUNK], s_dw[PREFLOSS__CHUNK], s_dl[PREFLOSS__CHUNK];
    int st, bad = 0;
    size_t i;
    if (!(center_coef >= 0.0f && center_coef <= FLT_MAX)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dscore_chosen, dscore_rejected, NULL,
                                  score_chosen, score_rejected, margins, NULL, dlosses, 0);
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += PREFLOSS__CHUNK) {
        size_t len = n - i < PREFLOSS__CHUNK ? n - i : PREFLOSS__CHUNK;
        bad |= prefloss__bt_kernel(PREFLOSS__OUT(losses, i, s_loss),
                                   PREFLOSS__OUT(dscore_chosen, i, s_dw),
                                   PREFLOSS__OUT(dscore_rejected, i, s_dl),
                                   score_chosen + i, score_rejected + i,
                                   PREFLOSS__IN(margins, i, prefloss__zeros),
                                   PREFLOSS__IN(dlosses, i, prefloss__ones), len, center_coef);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_rewards(float *chosen_rewards, float *rejected_rewards,
                                  float *margins, float *accuracies,
                                  const float *policy_chosen, const float *policy_rejected,
                                  const float *ref_chosen, const float *ref_rejected,
                                  size_t n, float beta)
{
    float s0[PREFLOSS__CHUNK], s1[PREFLOSS__CHUNK], s2[PREFLOSS__CHUNK], s3[PREFLOSS__CHUNK];
    int st, bad = 0;
    size_t i;
    if (!prefloss__beta_ok(beta)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, chosen_rewards, rejected_rewards, margins, accuracies,
                                  policy_chosen, policy_rejected, ref_chosen, ref_rejected,
                                  NULL, 1);
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += PREFLOSS__CHUNK) {
        size_t len = n - i < PREFLOSS__CHUNK ? n - i : PREFLOSS__CHUNK;
        bad |= prefloss__rewards_kernel(PREFLOSS__OUT(chosen_rewards, i, s0),
                                        PREFLOSS__OUT(rejected_rewards, i, s1),
                                        PREFLOSS__OUT(margins, i, s2),
                                        PREFLOSS__OUT(accuracies, i, s3),
                                        policy_chosen + i, policy_rejected + i,
                                        PREFLOSS__IN(ref_chosen, i, prefloss__zeros),
                                        PREFLOSS__IN(ref_rejected, i, prefloss__zeros),
                                        len, beta);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* ------------------------------------------------------------------------ */
/* Sequence log-probs                                                       */
/* ------------------------------------------------------------------------ */

/* Lanes of the compensated token sum: independent accumulators let the
 * compiler vectorise the loop without reassociating anything. */
#define PREFLOSS__LANES 8

/* Checks shared by the forward and the backward. */
static int prefloss__check_sequence(float *out, size_t out_n, const float *in, size_t in_n,
                                    const unsigned char *mask, size_t batch, size_t seq_len,
                                    int reduction)
{
    size_t tokens;
    prefloss__range o[1], i[2];
    if (reduction != PREFLOSS_REDUCE_SUM && reduction != PREFLOSS_REDUCE_MEAN)
        return PREFLOSS_ERR_PARAM;
    if (batch == 0) return PREFLOSS_OK;
    if (seq_len != 0 && batch > SIZE_MAX / sizeof(float) / seq_len) return PREFLOSS_ERR_SIZE;
    tokens = batch * seq_len;
    if (out == NULL || (in == NULL && in_n > 0)) return PREFLOSS_ERR_NULL;
    o[0].p = out; o[0].bytes = out_n * sizeof(float);
    i[0].p = in; i[0].bytes = in_n * sizeof(float);
    i[1].p = mask; i[1].bytes = mask != NULL ? tokens : 0;
    return prefloss__check_overlap(o, 1, i, 2);
}

/* One row: the compensated sum of its counted tokens, their count, and
 * whether a counted token was not finite. */
static prefloss__df prefloss__row_sum(const float *PREFLOSS__RESTRICT t,
                                      const unsigned char *PREFLOSS__RESTRICT m,
                                      size_t len, size_t *count, int *bad)
{
    float s[PREFLOSS__LANES], c[PREFLOSS__LANES], nf[PREFLOSS__LANES];
    size_t cnt[PREFLOSS__LANES];
    size_t j, k, total = 0;
    prefloss__df acc = prefloss__df_make(0.0f, 0.0f);
    float nonfinite = 0.0f;
    for (k = 0; k < PREFLOSS__LANES; k++) { s[k] = c[k] = nf[k] = 0.0f; cnt[k] = 0; }
    for (j = 0; j + PREFLOSS__LANES <= len; j += PREFLOSS__LANES) {
        for (k = 0; k < PREFLOSS__LANES; k++) {
            int on = m == NULL || m[j + k] != 0;
            float v = on ? t[j + k] : 0.0f; /* a masked token is never read into the sum */
            prefloss__df ts = prefloss__two_sum(s[k], v);
            s[k] = ts.hi;
            c[k] += ts.lo;
            nf[k] += v - v;
            cnt[k] += (size_t)on;
        }
    }
    for (; j < len; j++) {
        int on = m == NULL || m[j] != 0;
        float v = on ? t[j] : 0.0f;
        acc = prefloss__df_add_f(acc, v);
        nonfinite += v - v;
        total += (size_t)on;
    }
    for (k = 0; k < PREFLOSS__LANES; k++) {
        acc = prefloss__df_add(acc, prefloss__fast_two_sum(s[k], c[k]));
        nonfinite += nf[k];
        total += cnt[k];
    }
    *count = total;
    *bad = nonfinite != 0.0f;
    return acc;
}

PREFLOSS_API int prefloss_sequence_logps(float *seq_logps, const float *token_logps,
                                         const unsigned char *mask, size_t batch,
                                         size_t seq_len, int reduction)
{
    int st, any_bad = 0;
    size_t b;
    st = prefloss__check_sequence(seq_logps, batch, token_logps, batch * seq_len, mask,
                                  batch, seq_len, reduction);
    if (st != PREFLOSS_OK || batch == 0) return st;
    for (b = 0; b < batch; b++) {
        size_t count;
        int bad;
        prefloss__df sum = prefloss__row_sum(token_logps + b * seq_len,
                                             mask != NULL ? mask + b * seq_len : NULL,
                                             seq_len, &count, &bad);
        float value;
        if (reduction == PREFLOSS_REDUCE_MEAN) {
            /* sum / count, correctly rounded up to one correction step */
            float nf = (float)count;
            float q0 = count > 0 ? sum.hi / nf : 0.0f;
            prefloss__df p = prefloss__two_prod(q0, nf);
            float q1 = count > 0 ? (((sum.hi - p.hi) - p.lo) + sum.lo) / nf : 0.0f;
            value = prefloss__df_round(prefloss__fast_two_sum(q0, q1));
        } else {
            value = prefloss__df_round(sum);
        }
        if (bad) { value = prefloss__nan(); any_bad = 1; }
        seq_logps[b] = value;
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_sequence_logps_backward(float *dtoken_logps, const float *dseq_logps,
                                                  const unsigned char *mask, size_t batch,
                                                  size_t seq_len, int reduction)
{
    int st, any_bad = 0;
    size_t b, j;
    st = prefloss__check_sequence(dtoken_logps, batch * seq_len, dseq_logps, batch, mask,
                                  batch, seq_len, reduction);
    if (st != PREFLOSS_OK || batch == 0) return st;
    for (b = 0; b < batch; b++) {
        const unsigned char *m = mask != NULL ? mask + b * seq_len : NULL;
        float *PREFLOSS__RESTRICT dt = dtoken_logps + b * seq_len;
        float g = dseq_logps[b];
        if (reduction == PREFLOSS_REDUCE_MEAN) {
            size_t count = 0;
            if (m == NULL) count = seq_len;
            else for (j = 0; j < seq_len; j++) count += m[j] != 0;
            g = count > 0 ? g / (float)count : 0.0f;
        }
        if (!prefloss__finite(dseq_logps[b])) {
            g = prefloss__nan_if_nonfinite(dseq_logps[b]);
            any_bad = 1;
        }
        if (m == NULL) for (j = 0; j < seq_len; j++) dt[j] = g;
        else for (j = 0; j < seq_len; j++) dt[j] = m[j] != 0 ? g : 0.0f;
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* PREFLOSS_IMPLEMENTATION */

/*
 * MIT License
 *
 * Copyright (c) 2026 The libprefloss authors
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to deal
 * in the Software without restriction, including without limitation the rights
 * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 * copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in
 * all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 * SOFTWARE.
 */
