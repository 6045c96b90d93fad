/* ==== lib/public.h ==== */
/*
 * prefloss.h — preference-optimisation losses (DPO, IPO, Bradley–Terry) with
 * exact gradients, over float buffers the caller owns.
 *
 * libprefloss 1.2.0 — MIT licence (see the end of this file).
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
 *   h = (pc - rc) - (pr - rr) is formed without loss: in double precision
 *   where the target has a double-precision FPU (x86-64, AArch64), in
 *   double-float arithmetic from error-free transformations elsewhere, so
 *   the cancellation between large log-probs costs nothing; z = beta*h is
 *   carried unrounded into the loss. Results are within a few ulp of the
 *   exact value for the given float inputs. Define PREFLOSS_NO_DOUBLE to
 *   use no double arithmetic anywhere (for single-precision-only FPUs this
 *   is automatic).
 */
/**
 * @file prefloss.h
 * @brief The whole public API of libprefloss: preference-optimisation losses
 *        (DPO, IPO, Bradley–Terry) with exact gradients.
 *
 * Use it linked (`-lprefloss`, pkg-config `prefloss`, CMake
 * `find_package(prefloss CONFIG)`) or vendored: in exactly one C or C++ file
 * `#define PREFLOSS_IMPLEMENTATION` before including it (and
 * `PREFLOSS_STATIC` for a private copy). See the getting-started page.
 *
 * Every function is a pure kernel over caller memory: no allocation, no
 * global state, no I/O. **Thread safety:** every function may be called
 * from any number of threads at the same time, provided no two concurrent
 * calls write the same buffer and no buffer is written while a call reads
 * it. Every function validates all of its arguments before it writes
 * anything and returns a status code: PREFLOSS_OK (0), a negative error
 * (nothing written) or PREFLOSS_NONFINITE (all written; the samples with a
 * non-finite input are NaN).
 */
/* PREFLOSS_STATIC must be defined before the FIRST #include of this header in
 * a translation unit: an earlier plain include (a unity build, a precompiled
 * or forced-include header) has already declared every function extern, and
 * the later definitions would silently stay global. (A later
 * PREFLOSS_IMPLEMENTATION without PREFLOSS_STATIC is fine: the definitions
 * match the extern declarations, as in any stb-style header.) */
#if defined(PREFLOSS_H) && defined(PREFLOSS_STATIC) && defined(PREFLOSS__DECLARED_EXTERN)
#  error "prefloss.h: PREFLOSS_STATIC is defined after an earlier #include of prefloss.h declared every function extern; define PREFLOSS_STATIC (and PREFLOSS_IMPLEMENTATION) before the first #include of prefloss.h in this file (e.g. with -DPREFLOSS_STATIC)"
#endif

#ifndef PREFLOSS_H
#define PREFLOSS_H
#ifndef PREFLOSS_STATIC
#  define PREFLOSS__DECLARED_EXTERN /* the declarations below are extern */
#endif

#include <stddef.h> /* size_t */
#include <stdint.h> /* int32_t (target token ids) */

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/** Major release version of this header (semantic versioning): changes
 *  only with an incompatible API change. */
#define PREFLOSS_VERSION_MAJOR 1
/** Minor release version: incremented when functions or constants are added. */
#define PREFLOSS_VERSION_MINOR 2
/** Patch release version: incremented for fixes that add nothing. */
#define PREFLOSS_VERSION_PATCH 0
/** Release version as a string, "MAJOR.MINOR.PATCH". */
#define PREFLOSS_VERSION "1.2.0"
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
#  if defined(PREFLOSS_STATIC) && defined(__GNUC__)
/* A private copy need not call every function: no -Wunused-function. */
#    define PREFLOSS_API static __attribute__((unused))
#  elif defined(PREFLOSS_STATIC)
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
/** The floating-point rounding mode is not round-to-nearest (fesetround
 *  FE_UPWARD, FE_DOWNWARD or FE_TOWARDZERO is in effect). The error-free
 *  transformations of the float-only arithmetic (all of it under
 *  PREFLOSS_NO_DOUBLE and on targets without a double-precision FPU, such as
 *  32-bit Arm and Cortex-M; the catalogue, prefloss_bco_update_delta and
 *  prefloss_kto_kl everywhere) hold only under round-to-nearest, so every
 *  function that computes checks the mode (two float additions) after its
 *  other argument checks, in every build. Nothing was written. */
#define PREFLOSS_ERR_ROUNDING (-5)
/** The function's family was left out of this build (PREFLOSS_NO_CATALOGUE,
 *  PREFLOSS_NO_ORPO_KTO, PREFLOSS_NO_AOT or PREFLOSS_NO_LD where the
 *  implementation was compiled). Nothing was written. */
#define PREFLOSS_ERR_UNSUPPORTED (-6)

/* ------------------------------------------------------------------------ */
/* Version and status functions (the function twins of the macros above)    */
/* ------------------------------------------------------------------------ */

/** Run-time release version string, e.g. "1.0.0". Compare with
 *  PREFLOSS_VERSION to check that header and library agree.
 *  @return the library's PREFLOSS_VERSION, a static string, never NULL.
 *  Writes nothing. Thread-safe. */
PREFLOSS_API const char *prefloss_version(void);

/** Run-time release version as one integer.
 *  @return the library's PREFLOSS_VERSION_NUMBER,
 *          MAJOR*10000 + MINOR*100 + PATCH. Writes nothing. Thread-safe. */
PREFLOSS_API int prefloss_version_number(void);

/** Run-time ABI version (the soname's number).
 *  @return the library's PREFLOSS_ABI_VERSION. Writes nothing. Thread-safe. */
PREFLOSS_API int prefloss_abi_version(void);

/** A static, human-readable message for a status code.
 *  @param[in] status  any int (a status code returned by this library).
 *  @return a static string, never NULL; an unknown code gives
 *          "unknown status code". Writes nothing. Thread-safe. */
PREFLOSS_API const char *prefloss_strerror(int status);

/** The macro name of a status code. Lets bindings that cannot read macros
 *  (ctypes) learn the codes at run time.
 *  @param[in] status  any int.
 *  @return a static string such as "PREFLOSS_ERR_NULL", or NULL for an
 *          unknown code. Writes nothing. Thread-safe. */
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
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
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
 * @param      batch        number of rows B.
 * @param      seq_len      tokens per row T.
 * @param      reduction    PREFLOSS_REDUCE_SUM or PREFLOSS_REDUCE_MEAN, as
 *                          given to the forward.
 * @return as for prefloss_sequence_logps; a non-finite dseq_logps[b] makes
 *   row b NaN and gives PREFLOSS_NONFINITE.
 * Writes dtoken_logps[0..batch*seq_len) only on a status >= 0.
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
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
 * @param[out] chosen_rewards  (n) optional (NULL: not computed).
 * @param[out] rejected_rewards  (n) optional (NULL: not computed).
 * @param[out] margins  (n) optional (NULL: not computed).
 * @param[out] accuracies  (n) optional (NULL: not computed).
 * @param[in]  policy_chosen  (n) required if n > 0.
 * @param[in]  policy_rejected  (n) required if n > 0.
 * @param[in]  ref_chosen  (n) both or neither.
 * @param[in]  ref_rejected  (n) both or neither.
 * @param      n     number of pairs.
 * @param      beta  KL strength, a finite normal float > 0.
 * @return PREFLOSS_OK, PREFLOSS_NONFINITE (those pairs are NaN, accuracy
 *   included), PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM, PREFLOSS_ERR_OVERLAP,
 *   PREFLOSS_ERR_SIZE (nothing written).
 * Writes the non-NULL outputs, n values each, only on a status >= 0.
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
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
 * @param[in]  policy_chosen  (n) sequence log-probs, required if n > 0.
 * @param[in]  policy_rejected  (n) sequence log-probs, required if n > 0.
 * @param[in]  ref_chosen  (n) both, or both NULL (reference-free).
 * @param[in]  ref_rejected  (n) both, or both NULL (reference-free).
 * @param[in]  dlosses    (n) upstream gradient, NULL for all ones.
 * @param      n          number of pairs.
 * @param      beta       finite normal float > 0 (TRL's default is 0.1).
 * @param      label_smoothing  eps in [0, 0.5]; 0 is plain DPO.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (pairs with a non-finite log-prob
 *   get NaN in every output; a non-finite dlosses[i] makes that pair's
 *   gradients NaN); PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM,
 *   PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE (nothing written).
 * Writes losses[0..n), dchosen[0..n), drejected[0..n) (those not NULL)
 * only on a status >= 0.
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
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
 * This is the general form below with alpha1 = 0, alpha2 = 1, divided by beta^2.
 *
 * Parameters, outputs and status codes as for prefloss_dpo_loss (no label
 * smoothing). 1/(2*beta) and the difference are computed in double-float, so
 * the loss is accurate even where h is close to 1/(2*beta).
 *
 * @param[out] losses     (n) per-pair loss, optional.
 * @param[out] dchosen    (n) gradient w.r.t. policy_chosen, optional.
 * @param[out] drejected  (n) gradient w.r.t. policy_rejected, optional.
 * @param[in]  policy_chosen  (n) sequence log-probs, required if n > 0.
 * @param[in]  policy_rejected  (n) sequence log-probs, required if n > 0.
 * @param[in]  ref_chosen  (n) both, or both NULL (reference-free).
 * @param[in]  ref_rejected  (n) both, or both NULL (reference-free).
 * @param[in]  dlosses    (n) upstream gradient, NULL for all ones.
 * @param      n          number of pairs.
 * @param      beta       finite normal float > 0.
 * @return as for prefloss_dpo_loss: PREFLOSS_OK; PREFLOSS_NONFINITE;
 *   PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM, PREFLOSS_ERR_OVERLAP,
 *   PREFLOSS_ERR_SIZE (nothing written).
 * Writes losses[0..n), dchosen[0..n), drejected[0..n) (those not NULL)
 * only on a status >= 0.
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
 */
PREFLOSS_API int prefloss_ipo_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen,
                                   const float *policy_rejected,
                                   const float *ref_chosen,
                                   const float *ref_rejected,
                                   const float *dlosses,
                                   size_t n, float beta);

/**
 * IPO loss in the general form of the derivation, for a preference degree
 * v(y, y') in [alpha1, alpha2] (the IPO paper's choice is v = p(y > y'),
 * alpha1 = 0, alpha2 = 1):
 *
 *     loss = (beta*h - (alpha2 - alpha1)/2)^2
 *     g    = 2 * beta * (beta*h - (alpha2 - alpha1)/2)
 *
 * The symmetrised objective (h - alpha2)^2 + (-h - alpha1)^2 of the
 * derivation is minimised at h = (alpha2 - alpha1)/2: the target is the
 * half-width of the range, so the loss depends on alpha1, alpha2 only
 * through their difference (shifting v by a constant changes nothing, as
 * eq. 11 requires). Some write-ups state (alpha1 + alpha2)/2; the two agree
 * only when alpha1 = 0 (see docs/conventions.md). The difference is formed
 * exactly: two pairs with the same exact difference give bit-identical
 * results.
 *
 * Other parameters, outputs and status codes as for prefloss_dpo_loss.
 *
 * @param[out] losses     (n) per-pair loss, optional.
 * @param[out] dchosen    (n) gradient w.r.t. policy_chosen, optional.
 * @param[out] drejected  (n) gradient w.r.t. policy_rejected, optional.
 * @param[in]  policy_chosen  (n) sequence log-probs, required if n > 0.
 * @param[in]  policy_rejected  (n) sequence log-probs, required if n > 0.
 * @param[in]  ref_chosen  (n) both, or both NULL (reference-free).
 * @param[in]  ref_rejected  (n) both, or both NULL (reference-free).
 * @param[in]  dlosses    (n) upstream gradient, NULL for all ones.
 * @param      n          number of pairs.
 * @param      beta       finite normal float > 0.
 * @param      alpha1  finite floats with alpha1 <= alpha2 and a finite difference (the IPO paper: 0
 *                     and 1); otherwise PREFLOSS_ERR_PARAM.
 * @param      alpha2  finite floats with alpha1 <= alpha2 and a finite difference (the IPO paper: 0
 *                     and 1); otherwise PREFLOSS_ERR_PARAM.
 * @return as for prefloss_dpo_loss: PREFLOSS_OK; PREFLOSS_NONFINITE;
 *   PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM, PREFLOSS_ERR_OVERLAP,
 *   PREFLOSS_ERR_SIZE (nothing written).
 * Writes losses[0..n), dchosen[0..n), drejected[0..n) (those not NULL)
 * only on a status >= 0.
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
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
 * @param[in]  score_chosen  (n) required if n > 0.
 * @param[in]  score_rejected  (n) required if n > 0.
 * @param[in]  margins   (n) per-pair margin m, NULL for 0.
 * @param[in]  dlosses   (n) upstream gradient, NULL for all ones.
 * @param      n         number of pairs.
 * @param      center_coef  c >= 0 and finite (TRL center_rewards_coefficient;
 *                          0 disables it).
 * @return as for prefloss_dpo_loss: PREFLOSS_OK; PREFLOSS_NONFINITE (a
 *   non-finite score or margin makes that pair NaN); PREFLOSS_ERR_NULL,
 *   PREFLOSS_ERR_PARAM, PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE (nothing
 *   written).
 * Writes losses[0..n), dscore_chosen[0..n), dscore_rejected[0..n) (those
 * not NULL) only on a status >= 0.
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
 */
PREFLOSS_API int prefloss_bt_loss(float *losses, float *dscore_chosen,
                                  float *dscore_rejected,
                                  const float *score_chosen,
                                  const float *score_rejected,
                                  const float *margins,
                                  const float *dlosses,
                                  size_t n, float center_coef);

/* ------------------------------------------------------------------------ */
/* The loss catalogue: every pairwise preference loss behind one entry point */
/* ------------------------------------------------------------------------ */

/**
 * Kinds of pairwise loss for prefloss_pair_loss(). The values are part of
 * the ABI: they are never renumbered, and new kinds get new values.
 * Each kind is also reachable by its TRL name (prefloss_loss_kind_from_name).
 * With uc = pc - rc, ur = pr - rr, h = uc - ur, z = beta*h, sigma the
 * logistic function, sp(x) = log(1 + e^x) and eps the label smoothing:
 */
#define PREFLOSS_LOSS_SIGMOID 0       /**< "sigmoid": DPO/cDPO, -(1-eps) log sigma(z) - eps log sigma(-z) */
#define PREFLOSS_LOSS_IPO 1           /**< "ipo": (h - 1/(2 beta))^2 */
#define PREFLOSS_LOSS_HINGE 2         /**< "hinge": (SLiC) max(0, 1 - z) */
#define PREFLOSS_LOSS_ROBUST 3        /**< "robust": [-(1-eps) log sigma(z) + eps log sigma(-z)] / (1 - 2 eps), eps in [0, 1/2) */
#define PREFLOSS_LOSS_EXO_PAIR 4      /**< "exo_pair": KL(Bernoulli(sigma(z)) || Bernoulli(1-eps)); eps = 0 means 1e-3 (as TRL) */
#define PREFLOSS_LOSS_NCA_PAIR 5      /**< "nca_pair": -log sigma(beta uc) - 1/2 log sigma(-beta uc) - 1/2 log sigma(-beta ur) */
#define PREFLOSS_LOSS_BCO_PAIR 6      /**< "bco_pair": -log sigma(beta uc - delta) - log sigma(-(beta ur - delta)) */
#define PREFLOSS_LOSS_SPPO_HARD 7     /**< "sppo_hard": (uc - 1/(2 beta))^2 + (ur + 1/(2 beta))^2 */
#define PREFLOSS_LOSS_APO_ZERO 8      /**< "apo_zero": 1 - sigma(beta uc) + sigma(beta ur) */
#define PREFLOSS_LOSS_APO_DOWN 9      /**< "apo_down": sigma(beta uc) + 1 - sigma(z) */
#define PREFLOSS_LOSS_DISCOPOP 10     /**< "discopop": (1 - w)(-log sigma(z)) + w e^{-z}, w = sigma(z/tau) */
#define PREFLOSS_LOSS_JS 11           /**< "js_divergence": sigmoid loss with h - (sp(uc) - sp(ur)) for h */
#define PREFLOSS_LOSS_ALPHA 12        /**< "alpha_divergence": sigmoid loss with (e^{-a ur} - e^{-a uc})/a for h (exponents capped at 88.7228 as TRL's cap_exp) */
#define PREFLOSS_LOSS_SIMPO 13        /**< "simpo": -(1-eps) log sigma(beta(pc - pr) - gamma) - eps log sigma(-(...)); no reference; pass mean log-probs */
#define PREFLOSS_LOSS_CPO 14          /**< "cpo": -(1-eps) log sigma(beta(pc - pr)) - eps log sigma(-(...)); no reference */

/**
 * Parameters of prefloss_pair_loss(). The block starts with its own size so
 * that it can grow without breaking binaries: fill it with
 * prefloss_pair_params_init(&p, sizeof p), then change what you need. Each loss reads
 * only the fields it uses (see the kinds above).
 */
typedef struct prefloss_pair_params {
    size_t size;            /**< sizeof(prefloss_pair_params), set by prefloss_pair_params_init() */
    float beta;             /**< KL strength, finite normal > 0 (default 0.1) */
    float label_smoothing;  /**< eps: sigmoid/cpo/simpo/exo_pair in [0, 1/2], robust in [0, 1/2) (default 0) */
    float discopop_tau;     /**< tau for "discopop", in (0, 1] (default 0.05) */
    float alpha;            /**< coefficient of "alpha_divergence", finite > 0 (default 1) */
    float simpo_gamma;      /**< target margin gamma of "simpo", finite (default 0.5) */
    float bco_delta;        /**< delta of "bco_pair": the running mean of rewards, finite (default 0); see prefloss_bco_update_delta() */
    float nll_weight;       /**< weight lambda of an NLL term -lambda * policy_chosen added to every kind's loss (RPO's rpo_alpha; CPO/SimPO's SFT term), finite (default 0) */
} prefloss_pair_params;

/**
 * Fills a parameter block with the defaults (TRL's) and sets its size field
 * to size. Only the fields that fit in size bytes are written, so a program
 * built against an older, smaller block is never written past its end:
 * always pass sizeof of your own block.
 *
 *     prefloss_pair_params p;
 *     prefloss_pair_params_init(&p, sizeof p);
 *
 * @param[out] params  the block.
 * @param      size    sizeof the caller's block, at least sizeof(size_t).
 * @return PREFLOSS_OK; PREFLOSS_ERR_NULL for a NULL params;
 *   PREFLOSS_ERR_PARAM for a size smaller than sizeof(size_t) (nothing written).
 */
PREFLOSS_API int prefloss_pair_params_init(prefloss_pair_params *params, size_t size);

/**
 * The kind for a TRL loss_type name: the quoted names of the
 * PREFLOSS_LOSS_* list above ("sigmoid", "ipo", "hinge", ...).
 * @param[in]  name  NUL-terminated; NULL gives PREFLOSS_ERR_NULL.
 * @return the kind (>= 0), or PREFLOSS_ERR_PARAM for an unknown name.
 */
PREFLOSS_API int prefloss_loss_kind_from_name(const char *name);

/**
 * The TRL name of a kind, or NULL for an unknown kind.
 * @param kind  a PREFLOSS_LOSS_* value.
 * @return a static string, or NULL.
 */
PREFLOSS_API const char *prefloss_loss_kind_name(int kind);

/**
 * The number of kinds of prefloss_pair_loss(): the kinds are 0 to
 * prefloss_loss_kind_count() - 1 (a library newer than the header may
 * know more kinds than the header's PREFLOSS_LOSS_* values).
 * @return the count, >= 15. Thread-safe; writes nothing.
 * @since 1.2
 */
PREFLOSS_API int prefloss_loss_kind_count(void);

/**
 * Whether a kind reads an input or a parameter: lets a binding, a test or a
 * configuration check ask the library instead of keeping its own copy.
 *
 * @param kind   a PREFLOSS_LOSS_* value.
 * @param field  NUL-terminated: the name of a prefloss_pair_params field
 *               ("beta", "label_smoothing", "discopop_tau", "alpha",
 *               "simpo_gamma", "bco_delta", "nll_weight") or "reference"
 *               (the ref_chosen and ref_rejected inputs).
 * @return 1 if the kind reads it (and checks its range), 0 if it ignores
 *   it; PREFLOSS_ERR_NULL for a NULL field; PREFLOSS_ERR_PARAM for an
 *   unknown kind or field. Thread-safe; writes nothing.
 *
 * Ranges checked: beta finite > 0; label_smoothing in [0, 1/2] ("robust":
 * [0, 1/2), see prefloss_loss_kind_reads(kind, "label_smoothing<1/2"),
 * which is 1 for the kinds with the open bound); discopop_tau in (0, 1];
 * alpha finite > 0; simpo_gamma, bco_delta and nll_weight finite.
 * @since 1.2
 */
PREFLOSS_API int prefloss_loss_kind_reads(int kind, const char *field);

/**
 * Any loss of the catalogue, per pair, with its gradients. One entry point
 * for every kind, so that new kinds need no new symbol; the kind is a
 * PREFLOSS_LOSS_* value and the parameters come in a size-prefixed block.
 *
 *     losses[i]    = w_i * L_i
 *     dchosen[i]   = w_i * dlosses[i] * dL_i/dpc
 *     drejected[i] = w_i * dlosses[i] * dL_i/dpr
 *
 * with L_i the kind's loss (see the PREFLOSS_LOSS_* list) plus the optional
 * NLL term -nll_weight * pc_i (params->nll_weight; RPO, or CPO's and
 * SimPO's SFT term: pass whatever log-prob the NLL should use, e.g. the
 * mean over tokens), and w_i the optional per-pair weight (WPO-style
 * weighting; NULL means 1). Where both a result and the NLL term
 * overflow with opposite signs, the result's infinity is kept. The
 * weight and dlosses[i] multiply each gradient before its last rounding:
 * where dL/dpc is far below the float range (exo_pair, apo_zero,
 * apo_down, discopop, js_divergence, alpha_divergence, simpo, cpo carry
 * it scaled) and the weight brings the product back, no digits are lost
 * to an underflow. Losses
 * that depend on h only have dL/dpr = -dL/dpc. SIMPO and CPO ignore the
 * reference pointers (they may be NULL or not).
 *
 * @param[out] losses  (n) optional.
 * @param[out] dchosen  (n) optional.
 * @param[out] drejected  (n) optional.
 * @param[in]  policy_chosen  (n) required if n > 0.
 * @param[in]  policy_rejected  (n) required if n > 0.
 * @param[in]  ref_chosen  (n) both, or both NULL (reference-free: 0).
 * @param[in]  ref_rejected  (n) both, or both NULL (reference-free: 0).
 * @param[in]  weights   (n) per-pair weights, NULL for 1.
 * @param[in]  dlosses   (n) upstream gradient, NULL for 1.
 * @param      n         number of pairs.
 * @param      kind      a PREFLOSS_LOSS_* value.
 * @param[in]  params    parameters; NULL means the defaults. A block whose
 *                       size is smaller than today's is read up to its size
 *                       (later fields take their defaults).
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (pairs with a non-finite input or
 *   weight are NaN; a non-finite dlosses[i] makes that pair's gradients NaN);
 *   PREFLOSS_ERR_PARAM (unknown kind, a parameter out of its range, a block
 *   size smaller than its size field), PREFLOSS_ERR_NULL, PREFLOSS_ERR_OVERLAP,
 *   PREFLOSS_ERR_SIZE (nothing written).
 * Writes the outputs that are not NULL only on a status >= 0.
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
 */
PREFLOSS_API int prefloss_pair_loss(float *losses, float *dchosen, float *drejected,
                                    const float *policy_chosen, const float *policy_rejected,
                                    const float *ref_chosen, const float *ref_rejected,
                                    const float *weights, const float *dlosses, size_t n,
                                    int kind, const prefloss_pair_params *params);

/**
 * Updates the running mean of rewards that "bco_pair" uses as delta, from a
 * batch: delta <- (count * delta + sum of the batch's 2n rewards) / (count + 2n),
 * count <- count + 2n, with the rewards beta*uc and beta*ur of each pair
 * (TRL's RunningMoments mean). The caller keeps delta and count.
 *
 * @param[in,out] delta  the running mean.
 * @param[in,out] count  the number of rewards seen so far (a float, so the
 *                       state is two floats; exact up to 2^24).
 * @param[in]  policy_chosen  (n), references both or neither.
 * @param[in]  policy_rejected  (n), references both or neither.
 * @param[in]  ref_chosen  (n), references both or neither.
 * @param[in]  ref_rejected  (n), references both or neither.
 * @param n     number of pairs.
 * @param beta  finite normal > 0.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a non-finite input, or a new
 *   mean beyond the float range: nothing is updated); PREFLOSS_ERR_NULL,
 *   PREFLOSS_ERR_PARAM (beta, or a negative or non-finite count or delta),
 *   PREFLOSS_ERR_SIZE.
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_bco_update_delta(float *delta, float *count,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen, const float *ref_rejected,
                                           size_t n, float beta);

/**
 * A weighted sum of several catalogue losses in one call (MPO style):
 *
 *     L_i = sum_k mix_weights[k] * L_i^{(kinds[k])}
 *
 * with the gradients summed likewise; per-pair weights and the upstream
 * gradient as for prefloss_pair_loss. Each mix weight enters its kind's
 * outputs with the per-pair weight, before their last rounding. All kinds
 * share one parameter block. Where terms overflow with opposite signs
 * (finite extreme inputs) their exact sum is not known: the sum of the
 * earlier kinds keeps its infinity (never NaN).
 *
 * @param[out] losses  (n) optional.
 * @param[out] dchosen  (n) optional.
 * @param[out] drejected  (n) optional.
 * @param[in]  policy_chosen  as for prefloss_pair_loss.
 * @param[in]  policy_rejected  as for prefloss_pair_loss.
 * @param[in]  ref_chosen  as for prefloss_pair_loss.
 * @param[in]  ref_rejected  as for prefloss_pair_loss.
 * @param[in]  weights  as for prefloss_pair_loss.
 * @param[in]  dlosses  as for prefloss_pair_loss.
 * @param      n        number of pairs.
 * @param[in]  kinds    (n_kinds) PREFLOSS_LOSS_* values; required if n_kinds > 0.
 * @param[in]  mix_weights  (n_kinds) finite weights; required if n_kinds > 0.
 * @param      n_kinds  number of losses mixed (0 gives zero losses and gradients).
 * @param[in]  params   as for prefloss_pair_loss.
 * @return as for prefloss_pair_loss; PREFLOSS_ERR_PARAM also for a
 *   non-finite mix weight or a kind out of range.
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_pair_loss_mix(float *losses, float *dchosen, float *drejected,
                                        const float *policy_chosen, const float *policy_rejected,
                                        const float *ref_chosen, const float *ref_rejected,
                                        const float *weights, const float *dlosses, size_t n,
                                        const int *kinds, const float *mix_weights, size_t n_kinds,
                                        const prefloss_pair_params *params);

/**
 * ORPO's odds-ratio loss (Hong et al. 2024; TRL ORPOTrainer), per pair, on
 * MEAN token log-probs a = mean_chosen, b = mean_rejected (both <= 0):
 *
 *     l    = (a - b) - [log(1 - e^a) - log(1 - e^b)]     (the log odds ratio)
 *     loss = -nll_weight * a - lambda * log sigma(l)
 *     dloss/da = -nll_weight - lambda sigma(-l) / (1 - e^a)
 *     dloss/db =  lambda sigma(-l) / (1 - e^b)
 *
 * log(1 - e^x) is formed stably (log(-expm1(x)) above -ln 2, log1p(-e^x)
 * below), so a log-prob near 0 does not cancel to -inf. TRL's total loss is
 * the batch mean of this with nll_weight = 1 (its NLL is averaged over all
 * chosen tokens of the batch instead of per pair).
 *
 * @param[out] losses  (n) optional.
 * @param[out] dchosen  (n) optional.
 * @param[out] drejected  (n) optional.
 * @param[in]  mean_chosen  (n) mean log-probs, required if n > 0.
 * @param[in]  mean_rejected  (n) mean log-probs, required if n > 0.
 * @param[in]  dlosses  (n) upstream gradient, NULL for 1.
 * @param      n        number of pairs.
 * @param      lambda   weight of the odds-ratio term, finite >= 0 (TRL's beta, default 0.1).
 * @param      nll_weight  weight of the NLL term -a, finite (1 in ORPO, 0 for the odds-ratio term alone).
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a pair with a non-finite or
 *   positive log-prob, or equal to 0 where the odds are undefined, is NaN);
 *   PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM, PREFLOSS_ERR_OVERLAP,
 *   PREFLOSS_ERR_SIZE (nothing written).
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_orpo_loss(float *losses, float *dchosen, float *drejected,
                                    const float *mean_chosen, const float *mean_rejected,
                                    const float *dlosses, size_t n, float lambda, float nll_weight);

/**
 * KTO's loss (Ethayarajh et al. 2024; TRL KTOTrainer) on unpaired samples,
 * each desirable or undesirable, with u = policy - ref and a detached
 * estimate kl >= 0 of the KL divergence (see prefloss_kto_kl):
 *
 *     desirable:   loss = wd (1 - sigma(beta (u - kl))),  dloss/dpolicy = -wd beta sigma(x) sigma(-x)
 *     undesirable: loss = wu (1 - sigma(beta (kl - u))),  dloss/dpolicy =  wu beta sigma(x) sigma(-x)
 *
 * with x = beta (u - kl). The reference gets no gradient.
 *
 * @param[out] losses  (n) optional.
 * @param[out] dpolicy  (n) optional.
 * @param[in]  policy_logps  (n) required if n > 0.
 * @param[in]  ref_logps     (n) NULL for reference-free (0).
 * @param[in]  desirable     (n) bytes, non-zero = desirable; required if n > 0.
 * @param[in]  dlosses       (n) upstream gradient, NULL for 1.
 * @param      n             number of samples.
 * @param      beta          finite normal > 0.
 * @param      kl            finite >= 0 (TRL clamps its estimate at 0).
 * @param      desirable_weight  finite >= 0 (TRL: 1).
 * @param      undesirable_weight  finite >= 0 (TRL: 1).
 * @return PREFLOSS_OK, PREFLOSS_NONFINITE, PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM,
 *   PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE (nothing written on an error).
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_kto_loss(float *losses, float *dpolicy,
                                   const float *policy_logps, const float *ref_logps,
                                   const unsigned char *desirable, const float *dlosses, size_t n,
                                   float beta, float kl, float desirable_weight,
                                   float undesirable_weight);

/**
 * KTO's KL estimate: max(0, mean_i (policy_kl_logps[i] - ref_kl_logps[i])),
 * the sum formed exactly and the mean rounded once (TRL computes it on
 * mismatched prompt/completion pairs and detaches it). It is
 * prefloss_kto_kl_partial on the whole batch followed by
 * prefloss_kto_kl_finish: with data parallelism, the partials of the shards,
 * all-reduced, give bitwise this value of the concatenated batch.
 *
 * @param[out] kl  the estimate.
 * @param[in]  policy_kl_logps  (n) required if n > 0.
 * @param[in]  ref_kl_logps  (n) required if n > 0.
 * @param      n   number of samples (0 gives 0).
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a non-finite input: *kl is NaN);
 *   PREFLOSS_ERR_NULL, PREFLOSS_ERR_SIZE (also for n > PREFLOSS_PARTIAL_MAX_COUNT).
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_kto_kl(float *kl, const float *policy_kl_logps,
                                 const float *ref_kl_logps, size_t n);

/**
 * AOT (Melnyk et al. 2024, alignment via optimal transport; TRL loss_type
 * "aot" and "aot_pair"): the sigmoid loss with label smoothing on
 * rank-matched differences over the whole batch,
 *
 *     aot:      d_i = sort(pc - pr)_i - sort(rc - rr)_i
 *     aot_pair: d_i = sort(pc - rc)_i - sort(pr - rr)_i
 *     loss_i = -(1-eps) log sigma(beta d_i) - eps log sigma(-beta d_i)
 *
 * where sort is ascending and i is a RANK, not a pair. The gradient flows
 * back through the sort: with P the permutation that sorts the first
 * sequence and Q the second, g_i = dloss_i/dd_i * dlosses[i],
 *
 *     aot:      dchosen[P(i)] = g_i,  drejected[P(i)] = -g_i
 *     aot_pair: dchosen[P(i)] = g_i,  drejected[Q(i)] = -g_i
 *
 * The differences are exact (double-float) and are sorted as such; ties
 * are ordered by index. Every pair's inputs enter every rank, so a
 * non-finite input makes every output NaN (status PREFLOSS_NONFINITE).
 *
 * @param[out] losses  (n) optional; losses[i] is rank i's loss.
 * @param[out] dchosen  (n) optional.
 * @param[out] drejected  (n) optional.
 * @param[in]  policy_chosen  (n) required if n > 0.
 * @param[in]  policy_rejected  (n) required if n > 0.
 * @param[in]  ref_chosen  (n) both, or both NULL (0).
 * @param[in]  ref_rejected  (n) both, or both NULL (0).
 * @param[in]  dlosses   (n) upstream gradient of each rank's loss, NULL for 1.
 * @param      n         number of pairs.
 * @param      beta      finite normal > 0.
 * @param      label_smoothing  eps in [0, 1/2].
 * @param      paired    0 for "aot", non-zero for "aot_pair".
 * @param[out] workspace (2n) size_t scratch for the two permutations,
 *                       required if n > 0; must not overlap any other buffer.
 * @return PREFLOSS_OK, PREFLOSS_NONFINITE, PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM,
 *   PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE (nothing written on an error,
 *   the workspace included).
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_aot_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen, const float *policy_rejected,
                                   const float *ref_chosen, const float *ref_rejected,
                                   const float *dlosses, size_t n, float beta,
                                   float label_smoothing, int paired, size_t *workspace);

/**
 * LD-DPO's length-desensitised sequence log-probs (Liu et al. 2024): of each
 * row's counted tokens (mask non-zero, or all when mask is NULL), the first
 * public_lengths[b] count fully and the rest with weight alpha:
 *
 *     seq_b = sum_{counted j of rank < l_b} t[b,j] + alpha * sum_{counted j of rank >= l_b} t[b,j]
 *
 * l_b is the "public" length, usually min(len_chosen, len_rejected) of the
 * pair the row belongs to; alpha = 1 gives the plain sum. Both partial sums
 * are compensated, as in prefloss_sequence_logps.
 *
 * @param[out] seq_logps      (batch) required if batch > 0.
 * @param[in]  token_logps    (batch, seq_len) required if batch*seq_len > 0.
 * @param[in]  mask           (batch, seq_len) bytes, NULL: every token counts.
 * @param[in]  public_lengths (batch) counted tokens at full weight per row; required if batch > 0.
 * @param      batch  number of rows B.
 * @param      seq_len  tokens per row T.
 * @param      alpha          weight of the tokens past the public length, in [0, 1].
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a counted token not finite: that
 *   row is NaN); PREFLOSS_ERR_PARAM, PREFLOSS_ERR_NULL, PREFLOSS_ERR_OVERLAP,
 *   PREFLOSS_ERR_SIZE (nothing written).
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_sequence_logps_ld(float *seq_logps, const float *token_logps,
                                            const unsigned char *mask,
                                            const size_t *public_lengths, size_t batch,
                                            size_t seq_len, float alpha);

/**
 * Backward of prefloss_sequence_logps_ld: dt[b,j] = m[b,j] * dseq[b] for the
 * first public_lengths[b] counted tokens of row b, m[b,j] * alpha * dseq[b]
 * for the later ones, 0 for masked tokens.
 *
 * @param[out] dtoken_logps   (batch, seq_len) required if batch*seq_len > 0.
 * @param[in]  dseq_logps     (batch) required if batch > 0.
 * @param[in]  mask  as for the forward.
 * @param[in]  public_lengths  as for the forward.
 * @param      batch  as for the forward.
 * @param      seq_len  as for the forward.
 * @param      alpha  as for the forward.
 * @return as for the forward; a non-finite dseq_logps[b] makes row b NaN.
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_sequence_logps_ld_backward(float *dtoken_logps, const float *dseq_logps,
                                                     const unsigned char *mask,
                                                     const size_t *public_lengths, size_t batch,
                                                     size_t seq_len, float alpha);

/* ------------------------------------------------------------------------ */
/* Exact partial sums for global batch means (data-parallel training)       */
/* ------------------------------------------------------------------------ */

/** Number of 64-bit integers in a prefloss_partial (16). */
#define PREFLOSS_PARTIAL_WORDS 16
/** Most values one partial may count, all ranks together (2^36). */
#define PREFLOSS_PARTIAL_MAX_COUNT 68719476736LL

/**
 * An exact sum of float values and their count, to be summed across
 * processes by any all-reduce engine as PREFLOSS_PARTIAL_WORDS signed 64-bit
 * integers (MPI_LONG_LONG with MPI_SUM, torch.int64 with ReduceOp.SUM,
 * ncclInt64 with ncclSum).
 *
 * Every float (the whole range, subnormals included) is added exactly, as
 * an integer multiple of 2^-149 spread over 24-bit digits kept in 64-bit
 * words, and the words are never normalised: integer addition is
 * associative, so the words of a batch are the same whichever way it was
 * split into shards and in whatever order the shards were added. The mean
 * or sum finished from them (prefloss_partial_finish) is the exact value
 * rounded once to nearest: bitwise the same for every split, and equal to
 * the one-call result on the concatenated batch.
 *
 * Layout (words 0..15): 0..11 the digits, 12 the count, 13 the number of
 * non-finite values added, 14..15 reserved (0). Initialise with
 * prefloss_partial_init, or to all zeros (`prefloss_partial p = {{0}};`).
 * Treat it as opaque apart from that: sum it elementwise, never as floats.
 */
typedef struct prefloss_partial {
    long long word[PREFLOSS_PARTIAL_WORDS]; /**< digits, count, non-finite count, reserved */
} prefloss_partial;

/** PREFLOSS_PARTIAL_WORDS as a function (for bindings that cannot read macros).
 *  @return 16. Writes nothing. Thread-safe. */
PREFLOSS_API int prefloss_partial_words(void);

/** PREFLOSS_PARTIAL_MAX_COUNT as a function (for bindings that cannot read macros).
 *  @return 2^36. Writes nothing. Thread-safe. */
PREFLOSS_API long long prefloss_partial_max_count(void);

/**
 * Sets a partial to the empty sum (every word 0).
 * @param[out] partial  required.
 * @return PREFLOSS_OK, or PREFLOSS_ERR_NULL (nothing written).
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_partial_init(prefloss_partial *partial);

/**
 * Adds n float values exactly to a partial (the sum grows by
 * sum_i values[i], the count by n). Accumulates: the partial is read and
 * updated, not overwritten.
 *
 * @param[in,out] partial  required; must not overlap values.
 * @param[in]  values  (n) required if n > 0.
 * @param      n       number of values.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a value was NaN or +-inf: it is
 *   counted as non-finite, and the finished mean and sum will be NaN);
 *   PREFLOSS_ERR_NULL, PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE (the count
 *   would exceed PREFLOSS_PARTIAL_MAX_COUNT), PREFLOSS_ERR_PARAM (the partial
 *   is not a valid one: a reserved word or the count out of range).
 *   Nothing is written on an error.
 * @par Thread safety
 *   As every function: no state of its own; concurrent calls must not
 *   update the same partial.
 */
PREFLOSS_API int prefloss_partial_add(prefloss_partial *partial, const float *values, size_t n);

/**
 * Adds the partial src into dst, word by word (what an all-reduce does
 * across processes; this is the same within one).
 *
 * @param[in,out] dst  required.
 * @param[in]     src  required; may be dst itself (doubles it).
 * @return PREFLOSS_OK; PREFLOSS_ERR_NULL; PREFLOSS_ERR_PARAM (either is not
 *   a valid partial); PREFLOSS_ERR_SIZE (the counts together exceed
 *   PREFLOSS_PARTIAL_MAX_COUNT). Nothing is written on an error.
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_partial_merge(prefloss_partial *dst, const prefloss_partial *src);

/**
 * Finishes a partial (typically after an all-reduce):
 *
 *     sum   = round(sum of every value added)
 *     mean  = round(sum of every value added / count)   (0 when count == 0)
 *     count = the number of values added
 *
 * Each of mean and sum is the exact value rounded once to nearest (ties to
 * even; beyond the float range, +-inf). A zero result is +0.
 *
 * @param[out] mean  each optional (NULL: not written).
 * @param[out] sum  each optional (NULL: not written).
 * @param[out] count  each optional (NULL: not written).
 * @param[in]  partial  required; must not overlap the outputs.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a non-finite value was added:
 *   mean and sum are NaN, count is written); PREFLOSS_ERR_NULL,
 *   PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_PARAM (not a valid partial: a
 *   reserved word non-zero, a negative count or non-finite count, a count
 *   above PREFLOSS_PARTIAL_MAX_COUNT, or digits that count cannot explain,
 *   e.g. a partial summed as floats). Nothing is written on an error.
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_partial_finish(float *mean, float *sum, long long *count,
                                         const prefloss_partial *partial);

/**
 * The partial of KTO's KL estimate: adds policy_kl_logps[i] -
 * ref_kl_logps[i] exactly for each i (the count grows by n). All-reduce the
 * partial, then prefloss_kto_kl_finish gives the estimate over the global
 * batch; prefloss_kto_kl on one process is this followed by the finish.
 *
 * @param[in,out] partial  required; accumulates.
 * @param[in] policy_kl_logps  (n) required if n > 0.
 * @param[in] ref_kl_logps  (n) required if n > 0.
 * @param      n  number of samples.
 * @return as for prefloss_partial_add.
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_kto_kl_partial(prefloss_partial *partial, const float *policy_kl_logps,
                                         const float *ref_kl_logps, size_t n);

/**
 * KTO's KL estimate from a (reduced) partial of prefloss_kto_kl_partial:
 * max(0, mean), the mean rounded once; 0 for an empty partial.
 *
 * @param[out] kl  required.
 * @param[in]  partial  required.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (*kl is NaN); PREFLOSS_ERR_NULL,
 *   PREFLOSS_ERR_PARAM (as for prefloss_partial_finish; nothing written).
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_kto_kl_finish(float *kl, const prefloss_partial *partial);

/**
 * Partials of the logged reward metrics: for each pair, the values that
 * prefloss_rewards writes (beta uc, beta ur, beta h, and the accuracy 0 or
 * 1, each rounded once) are added exactly to the partial given for them.
 * After an all-reduce, prefloss_partial_finish gives the batch means
 * (rewards/chosen, rewards/rejected, rewards/margins, rewards/accuracies).
 *
 * @param[in,out] chosen_rewards  partial, optional (NULL: not accumulated); distinct
 *             from the others, and not overlapping any input.
 * @param[in,out] rejected_rewards  partial, optional (NULL: not accumulated); distinct
 *             from the others, and not overlapping any input.
 * @param[in,out] margins  partial, optional (NULL: not accumulated); distinct
 *             from the others, and not overlapping any input.
 * @param[in,out] accuracies  partial, optional (NULL: not accumulated); distinct
 *             from the others, and not overlapping any input.
 * @param[in] policy_chosen  (n) required if n > 0.
 * @param[in] policy_rejected  (n) required if n > 0.
 * @param[in] ref_chosen  (n) both or neither.
 * @param[in] ref_rejected  (n) both or neither.
 * @param      n     number of pairs.
 * @param      beta  finite normal > 0.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a pair with a non-finite input
 *   adds NaN to every partial given); PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM
 *   (beta, or a partial that is not valid), PREFLOSS_ERR_OVERLAP,
 *   PREFLOSS_ERR_SIZE. Nothing is written on an error.
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_rewards_partial(prefloss_partial *chosen_rewards,
                                          prefloss_partial *rejected_rewards,
                                          prefloss_partial *margins, prefloss_partial *accuracies,
                                          const float *policy_chosen, const float *policy_rejected,
                                          const float *ref_chosen, const float *ref_rejected,
                                          size_t n, float beta);

/**
 * The partial of a token-level mean over the whole batch (e.g. an NLL term
 * averaged over every completion token of the global batch, as TRL's ORPO
 * and RPO do): adds m[b,j] * t[b,j] for every counted token, and the count
 * grows by the number of counted tokens. Its finished count is the global
 * token count, whose inverse is the per-token upstream gradient.
 *
 * @param[in,out] partial  required; accumulates.
 * @param[in]  token_logps  (batch, seq_len) row-major; required if batch*seq_len > 0.
 * @param[in]  mask  (batch, seq_len) bytes, non-zero = counted; NULL: every token counts.
 * @param batch  the shape.
 * @param seq_len  the shape.
 * @return as for prefloss_partial_add (a non-finite counted token gives
 *   PREFLOSS_NONFINITE; masked tokens are never read into the sum).
 * @par Thread safety
 *   As every function: no state of its own.
 */
PREFLOSS_API int prefloss_token_partial(prefloss_partial *partial, const float *token_logps,
                                        const unsigned char *mask, size_t batch, size_t seq_len);
/* From logits: token log-probs, their gradient, the fused pair loss        */
/* ------------------------------------------------------------------------ */

/**
 * Per-token log-probs of target ids from rows of logits (the first stage of
 * a preference step: TRL's gather(log_softmax(logits), labels)):
 *
 *     lse_i          = log sum_j exp(x[i,j])                (j in [0, V))
 *     token_logps[i] = x[i, t_i] - lse_i                    (0 where t_i == ignore_index)
 *
 * Each row is read once (one streaming pass: a running maximum and a
 * compensated sum of exp(x_j - max) per block of the row, each x_j - max
 * carried exactly), nothing V-wide is stored. The log-prob is formed as
 * (x_t - max) - log s, two terms of one sign: the cancellation of the
 * textbook form x_t - lse, whose condition number
 * kappa = (|x_t| + |lse|) / |x_t - lse| is huge where the model is
 * confident (p_t near 1), is never incurred. The result is within 4 ulp of
 * the exact value for the given floats wherever it is a normal float
 * (tested; see docs/from-logits.md); lse within (4 + kappa_lse/2) ulp,
 * kappa_lse = (|max| + sum_j p_j |x_j - max|) / |lse|.
 *
 * @param[out] token_logps (n_tokens) optional; 0 for ignored tokens.
 * @param[out] lse         (n_tokens) optional: each row's log-sum-exp, rounded
 *                         to float, for prefloss_token_logps_backward; 0 for
 *                         ignored tokens (their rows are never read).
 * @param[in]  logits      n_tokens rows of vocab floats, row i at
 *                         logits + i * row_stride. Required if n_tokens > 0.
 * @param[in]  targets     (n_tokens) target ids, each in [0, vocab) or equal
 *                         to ignore_index. Required if n_tokens > 0. (int32_t:
 *                         convert PyTorch's int64 labels first.)
 * @param      n_tokens    number of rows.
 * @param      vocab       V, the row length, >= 1.
 * @param      row_stride  floats from one row to the next, >= vocab.
 * @param      ignore_index  target id of tokens that do not count (TRL: -100).
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a counted row with a NaN or
 *   infinite logit: that token's log-prob and lse are NaN, the others are
 *   exact); PREFLOSS_ERR_PARAM (vocab == 0, row_stride < vocab, a target
 *   outside [0, vocab) that is not ignore_index); PREFLOSS_ERR_NULL;
 *   PREFLOSS_ERR_OVERLAP (an output overlaps the logits' span, the targets
 *   or the other output); PREFLOSS_ERR_SIZE (the span of the rows in bytes
 *   overflows size_t). Nothing is written on an error.
 * Writes token_logps[0..n_tokens) and lse[0..n_tokens) (those not NULL)
 * only on a status >= 0.
 * @par Thread safety
 *   Safe to call from any number of threads at once: no state; concurrent
 *   calls must not write a buffer another call reads or writes.
 * @since 1.2
 */
PREFLOSS_API int prefloss_token_logps(float *token_logps, float *lse, const float *logits,
                                      const int32_t *targets, size_t n_tokens, size_t vocab,
                                      size_t row_stride, int32_t ignore_index);

/**
 * Backward of prefloss_token_logps: the gradient of the token log-probs
 * with respect to the logits, times the upstream gradient g_i:
 *
 *     dlogits[i,j] = g_i * (onehot(t_i)_j - exp(x[i,j] - lse_i))
 *
 * from the saved log-sum-exp (no softmax stored): one read and one write of
 * each row. The target's entry g_i (1 - p_t) is formed as -g_i expm1(x_t - lse),
 * so it keeps its digits where p_t is close to 1. Each entry is within
 * 6u |value| + 2u |g_i| p_j (|x_j| + |lse_i|) (+ |g_i| 2^-120) of the exact
 * value, u = 2^-24: a few roundings plus those of lse to float and of
 * x_j - lse (relative 2^-24 per unit of |x_j| + |lse|). Rows of ignored
 * tokens are set to zero (their logits are not read).
 *
 * **In place:** dlogits may be the logits themselves — the identical
 * pointer with dlogits_stride == row_stride — and then each row of logits
 * is overwritten by its gradient. Any other overlap of the dlogits span with
 * the logits span, or with lse, dtoken_logps or targets, is
 * PREFLOSS_ERR_OVERLAP (spans: from the first row's first float to the last
 * row's last float, the gaps between rows included).
 *
 * @param[out] dlogits        n_tokens rows of vocab floats, row i at
 *                            dlogits + i * dlogits_stride. Required if n_tokens > 0.
 *                            The floats between rows (stride > vocab) are not written.
 * @param      dlogits_stride floats between rows of dlogits, >= vocab.
 * @param[in]  dtoken_logps   (n_tokens) upstream gradient, NULL for all ones.
 * @param[in]  logits  as given to the forward.
 * @param[in]  row_stride  as given to the forward.
 * @param[in]  targets  as given to the forward.
 * @param[in]  n_tokens  as given to the forward.
 * @param[in]  vocab  as given to the forward.
 * @param[in]  ignore_index  as given to the forward.
 * @param[in]  lse            (n_tokens) the forward's lse. Required if n_tokens > 0.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a counted row with a non-finite
 *   lse or upstream gradient is NaN, the others exact); PREFLOSS_ERR_PARAM,
 *   PREFLOSS_ERR_NULL, PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE as for the
 *   forward (nothing written).
 * Writes the n_tokens rows of dlogits only on a status >= 0.
 * @par Thread safety
 *   As every function: no state of its own.
 * @since 1.2
 */
PREFLOSS_API int prefloss_token_logps_backward(float *dlogits, size_t dlogits_stride,
                                               const float *dtoken_logps, const float *logits,
                                               size_t row_stride, const float *lse,
                                               const int32_t *targets, size_t n_tokens,
                                               size_t vocab, int32_t ignore_index);

/**
 * The workspace (in floats) that prefloss_pair_loss_from_logits needs to
 * return gradients: the largest number of rows of one pair (chosen plus
 * rejected), i.e. 2 * seq_len when padded.
 *
 * @param[out] workspace_len  the count of floats.
 * @param[in] chosen_offsets  (n_pairs + 1) as for
 *             prefloss_pair_loss_from_logits, both or neither (NULL: padded).
 * @param[in] rejected_offsets  see chosen_offsets.
 * @param n_pairs  as for prefloss_pair_loss_from_logits.
 * @param seq_len  as for prefloss_pair_loss_from_logits.
 * @return PREFLOSS_OK; PREFLOSS_ERR_NULL; PREFLOSS_ERR_PARAM (decreasing
 *   offsets); PREFLOSS_ERR_SIZE. Writes *workspace_len only on success.
 * @par Thread safety
 *   As every function: no state of its own.
 * @since 1.2
 */
PREFLOSS_API int prefloss_pair_loss_from_logits_workspace(size_t *workspace_len,
                                                          const size_t *chosen_offsets,
                                                          const size_t *rejected_offsets,
                                                          size_t n_pairs, size_t seq_len);

/**
 * Any catalogue loss straight from the logits, per pair, with the gradient
 * back to the logits: token log-probs (as prefloss_token_logps), their
 * masked sum or mean per sequence (the policy sequence log-probs pc, pr),
 * the pair loss of prefloss_pair_loss(kind, params), and
 *
 *     dlogits[row] = g_row * (onehot(target) - softmax(x_row))
 *
 * with g_row = dL_i/dpc * dlosses[i] for every counted row of pair i's chosen
 * sequence (divided by its count of counted tokens when average_log_prob),
 * and likewise for the rejected one. Ignored rows get zero rows.
 *
 * Pairs are independent: a caller can run its lm_head chunk by chunk of
 * pairs and call this once per chunk (the batch mean enters through
 * dlosses, e.g. 1/B). See docs/from-logits.md.
 *
 * **Layouts.** Row r of the chosen side is at chosen_logits + r * row_stride
 * with target chosen_targets[r] (likewise rejected). Padded (both offsets
 * NULL): pair i's chosen sequence is rows [i * seq_len, (i + 1) * seq_len).
 * Packed (both offsets given, n_pairs + 1 non-decreasing values each, like
 * cu_seqlens): rows [offsets[i], offsets[i + 1]); seq_len is then unused.
 * Rows outside the sequences are neither read nor written.
 *
 * **In place.** dchosen_logits may be chosen_logits itself (the identical
 * pointer) and drejected_logits rejected_logits: each row is then
 * overwritten by its gradient after it has been read twice. Any other
 * overlap between an output (losses, policy_chosen, policy_rejected, the
 * dlogits spans, the workspace) and an input or another output is
 * PREFLOSS_ERR_OVERLAP.
 *
 * @param[out] losses           (n_pairs) the pair losses, optional.
 * @param[out] policy_chosen  (n_pairs) the policy sequence
 *             log-probs (sums, or means when average_log_prob), optional;
 *             pass them to prefloss_rewards for rewards, margins, accuracies.
 * @param[out] policy_rejected  see policy_chosen.
 * @param[out] dchosen_logits  rows as the logits (same
 *             row_stride), each optional (NULL: that gradient is not computed).
 * @param[out] drejected_logits  see dchosen_logits.
 * @param[in] chosen_logits  required where their side has rows.
 * @param[in] rejected_logits  required where their side has rows.
 * @param[in] chosen_targets  int32_t ids in [0, vocab) or
 *             ignore_index, one per row; required where their side has rows.
 * @param[in] rejected_targets  see chosen_targets.
 * @param[in] chosen_offsets  packed layout, or both NULL.
 * @param[in] rejected_offsets  packed layout, or both NULL.
 * @param[in] ref_chosen  (n_pairs) precomputed reference
 *             sequence log-probs, both or neither (NULL: reference-free, 0).
 * @param[in] ref_rejected  see ref_chosen.
 * @param[in]  dlosses          (n_pairs) upstream gradient, NULL for ones.
 * @param      n_pairs          number of pairs.
 * @param      seq_len          rows per sequence (padded layout).
 * @param      vocab            V >= 1.
 * @param      row_stride       floats between rows, >= vocab.
 * @param      ignore_index     target id of tokens that do not count (TRL: -100).
 * @param      average_log_prob non-zero: the mean over counted tokens instead
 *             of the sum (TRL's IPO; 0 for a sequence with none).
 * @param kind  as for prefloss_pair_loss.
 * @param params  as for prefloss_pair_loss.
 * @param[out] workspace        scratch for the rows' log-sum-exp, at least
 *             prefloss_pair_loss_from_logits_workspace() floats; required
 *             when a gradient is asked for, unused (may be NULL) otherwise.
 * @param      workspace_len    its length in floats.
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a pair with a non-finite counted
 *   logit, reference or upstream gradient: its loss, log-probs and gradient
 *   rows are NaN, as prefloss_pair_loss gives them; other pairs exact;
 *   where finite inputs give a pair gradient beyond the float range, its
 *   rows are +-inf where p_j > 0 and 0 elsewhere, with PREFLOSS_OK);
 *   PREFLOSS_ERR_PARAM (kind or params as for prefloss_pair_loss, vocab == 0,
 *   row_stride < vocab, decreasing offsets, a target outside [0, vocab)
 *   that is not ignore_index); PREFLOSS_ERR_NULL (a required pointer, one of
 *   two offsets or references, no workspace for a gradient);
 *   PREFLOSS_ERR_OVERLAP; PREFLOSS_ERR_SIZE (a span overflows, a workspace
 *   too short). Nothing is written on an error (the workspace included).
 * @par Thread safety
 *   As every function: no state of its own.
 * @since 1.2
 */
PREFLOSS_API int prefloss_pair_loss_from_logits(
    float *losses, float *policy_chosen, float *policy_rejected,
    float *dchosen_logits, float *drejected_logits,
    const float *chosen_logits, const float *rejected_logits,
    const int32_t *chosen_targets, const int32_t *rejected_targets,
    const size_t *chosen_offsets, const size_t *rejected_offsets,
    const float *ref_chosen, const float *ref_rejected, const float *dlosses,
    size_t n_pairs, size_t seq_len, size_t vocab, size_t row_stride, int32_t ignore_index,
    int average_log_prob, int kind, const prefloss_pair_params *params,
    float *workspace, size_t workspace_len);

#ifdef __cplusplus
}
#endif

#endif /* PREFLOSS_H */

/* ==== lib/config.c ==== */
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

/* Value-changing optimisations undo the error-free transformations (TwoSum,
 * TwoProd) and the NaN propagation the status codes rely on: under
 * -ffast-math every gradient of a small demo was wrong and NaN inputs
 * returned PREFLOSS_OK. Refuse them by name. gcc predefines a macro for each
 * of these flags; clang (14) only for -ffast-math and -ffinite-math-only,
 * so for clang -fassociative-math / -freciprocal-math alone the pragmas
 * below restore precise semantics for this code (reassociation only, off
 * x86). */
#if defined(__FAST_MATH__)
#  error "prefloss: the implementation cannot be compiled with -ffast-math (its error-free transformations and NaN checks would silently give wrong results); compile this file with -fno-fast-math"
#endif
#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#  error "prefloss: the implementation cannot be compiled with -ffinite-math-only (non-finite inputs would go undetected); compile this file with -fno-finite-math-only"
#endif
#if defined(__ASSOCIATIVE_MATH__)
#  error "prefloss: the implementation cannot be compiled with -fassociative-math (it undoes the error-free transformations); compile this file with -fno-associative-math (or without -funsafe-math-optimizations)"
#endif
#if defined(__RECIPROCAL_MATH__)
#  error "prefloss: the implementation cannot be compiled with -freciprocal-math (x / y becomes x * (1 / y), two roundings); compile this file with -fno-reciprocal-math (or without -funsafe-math-optimizations)"
#endif
#if defined(__clang__) && __clang_major__ >= 12
#  if defined(__x86_64__) || defined(__i386__)
/* Popped at the end of the implementation (footer). */
#    pragma float_control(precise, on, push)
#    define PREFLOSS__FLOAT_CONTROL 1
#  else
/* float_control is x86-only in clang 14 ("not supported on this target");
 * this one has no pop and lasts to the end of the translation unit, which
 * only keeps reassociation out of what follows the header in this file. */
#    pragma clang fp reassociate(off)
#  endif
#endif

/* Lean builds (lib/lean.c): AOT ("aot", "aot_pair" of TRL's catalogue)
 * runs on the catalogue's sigmoid code, so leaving out the catalogue leaves
 * it out too. */
#if defined(PREFLOSS_NO_CATALOGUE) && !defined(PREFLOSS_NO_AOT)
#  define PREFLOSS_NO_AOT
#endif

#ifdef __cplusplus
#  define PREFLOSS__RESTRICT __restrict
#else
#  define PREFLOSS__RESTRICT restrict
#endif
/* Run-time dispatch on x86-64 (GCC-compatible compilers, optimised builds).
 * Each loss kernel is built twice from one always-inline body: for the
 * baseline, and for AVX2 (the core DPO/IPO/BT kernels for AVX2 with FMA,
 * where the body's `fma` argument is 1 and the error-free products and
 * polynomials use fused multiply-adds). A kernel's dispatcher picks one per
 * call from the CPU's features, found with CPUID and XGETBV on the first
 * call and cached (prefloss__cpu_features): no ifunc, no constructor, no
 * libgcc CPU model, so a program that calls nothing runs nothing and
 * ThreadSanitizer sees a relaxed atomic. The variants give the same results
 * to within the documented accuracy (both are tested). In make bench the
 * AVX2 variants ran 1.65x (the sequence sums) to 20x faster than the
 * baseline ones; the double-float row sum, which on x86-64 only
 * prefloss_sequence_logps_ld uses, is built once. Define
 * PREFLOSS_NO_DISPATCH to build only what the compiler flags say (one copy
 * of each kernel: 0.62 of the code and 0.66 of the compile time with
 * GCC 12 at -O2, see docs/embedding.md). */
#if !defined(PREFLOSS_NO_DISPATCH) && defined(__x86_64__) && defined(__OPTIMIZE__) \
    && !defined(__AVX2__) \
    && (defined(__clang__) ? (__clang_major__ >= 14) : (defined(__GNUC__) && __GNUC__ >= 6))
#  define PREFLOSS__DISPATCH 1
#  define PREFLOSS__TARGET_AVX2 __attribute__((target("avx2")))
#  define PREFLOSS__TARGET_FMA __attribute__((target("avx2,fma")))
#else
#  define PREFLOSS__DISPATCH 0
#  define PREFLOSS__TARGET_AVX2
#  define PREFLOSS__TARGET_FMA
#endif

/* The helpers (PREFLOSS__INLINE) are always inlined in optimised builds: a
 * helper compiled once, out of line, would lose the caller's compile-time
 * `fma` flag and its target (see the dispatch), and the kernels' loops
 * would not vectorise. Except when optimising for size (-Os) without the
 * dispatch: there the compiler decides, and each helper is compiled once
 * instead of into every kernel (on the Cortex-M4F a quarter of the code; the
 * results are the same, as at -O0, where nothing is inlined). An
 * out-of-line helper takes PREFLOSS_KERNEL_ATTR, so that it moves with the
 * kernels. */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && !(defined(__OPTIMIZE_SIZE__) && !PREFLOSS__DISPATCH)
#  define PREFLOSS__INLINE static inline __attribute__((always_inline))
#else
#  define PREFLOSS__INLINE static inline PREFLOSS_KERNEL_ATTR
#endif

/* PREFLOSS_KERNEL_ATTR: attributes for every loss, gradient and sum kernel
 * (the loops, and the helpers: inlined into them, or at -Os out of line
 * with the same attributes), e.g. to place them in
 * fast RAM: __attribute__((section(".itcm"))). Empty by default. (The thin
 * public wrappers take PREFLOSS_API.) */
#ifndef PREFLOSS_KERNEL_ATTR
#  define PREFLOSS_KERNEL_ATTR
#endif

/* PREFLOSS__HAS_FMA(f): whether PREFLOSS__FMAF(a, b, c), a * b + c fused
 * (one rounding), may be used: where the caller's compile-time flag f is 1
 * or the target always has a fast FMA; otherwise the helpers take their
 * FMA-free branch, and fmaf is never referenced. Helpers that multiply take
 * f as their last argument. */
#if defined(__FP_FAST_FMAF)
#  define PREFLOSS__HAS_FMA(f) ((void)(f), 1)
#  define PREFLOSS__FMAF(a, b, c) __builtin_fmaf(a, b, c)
#elif PREFLOSS__DISPATCH
#  define PREFLOSS__HAS_FMA(f) (f)
#  define PREFLOSS__FMAF(a, b, c) __builtin_fmaf(a, b, c)
#else
#  define PREFLOSS__HAS_FMA(f) ((void)(f), 0)
#  define PREFLOSS__FMAF(a, b, c) ((a) * (b) + (c)) /* never evaluated */
#endif
/* a * b + c: fused under f, else two roundings (for polynomials). */
#define PREFLOSS__MADD(f, a, b, c) (PREFLOSS__HAS_FMA(f) ? PREFLOSS__FMAF(a, b, c) : (a) * (b) + (c))

#ifdef __cplusplus
extern "C" {
#endif

/* ==== lib/doublefloat.c ==== */
/* ------------------------------------------------------------------------ */
/* Glossary of the numeric helpers' names (this file and the ones after it) */
/* ------------------------------------------------------------------------ */
/*
 * What a helper's name promises, so that one name has one meaning:
 *
 *   _df         works in double-float (below): its result, and where the
 *               signature says so its argument, is hi + lo, ~48 bits from
 *               float operations only; error bounds in the helper's comment
 *   _df2        the same function taking a double-float argument where the
 *               plain _df one takes a float (log1p_unit_df2)
 *   _acc        a more accurate double-float form (relative error ~2^-34
 *               instead of ~2^-29..-31), where a cancellation needs it
 *   _sat        saturating at the ends of the range: +-inf with a zero low
 *               part, never NaN from inf - inf or 0 * inf
 *   _unit       for arguments in [0, 1] only (log1p_unit: log1p on [0, 1])
 *   _neg        of the negated argument, e.g. wexp_neg(a) = e^-a for a >= 0
 *   _d          on double values (select_d, fabs_d, round24_d): used only by
 *               the wide kernels
 *   w prefix    "wide": evaluated in double precision (wdiff, wexp_neg,
 *               wlog1p_unit, wgrad_cat), compiled only where PREFLOSS__WIDE
 *               (a double-precision FPU: x86-64, AArch64; see lib/wide.c);
 *               every wide kernel has a double-float twin in the same file
 *               for the float-only build (PREFLOSS_NO_DOUBLE)
 *   sd_ prefix  scaled double-float: a value that would underflow is carried
 *               times 2^(64 lvl), lvl in {0, 1, 2}, and unscaled after the
 *               last product (lib/scaled.c)
 *   _k          a kernel element's outputs with such scales attached
 *               (pair_out_k: gradients gc 2^kc, gr 2^kr)
 *   el_         a catalogue kind's element function (one pair);
 *   wel_        its twin in double (the wide kernels: a prefloss__wpair);
 *   k_          its kernel (a loop over a chunk, named in the registry)
 *   fma         the last argument of a helper that multiplies: 1 where the
 *               caller's code is compiled for fused multiply-add (see
 *               PREFLOSS__HAS_FMA); results agree within the budget either way
 */

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

/* c ? a : b on the bits, for a and b already computed. Written this way
 * because compilers sink a float operation into the arm of a `?:`, and
 * under the default -ftrapping-math GCC will then not if-convert (nor
 * vectorise) the loop. */
PREFLOSS__INLINE float prefloss__select(int c, float a, float b)
{
    uint32_t m = (uint32_t)0 - (uint32_t)(c != 0);
    return prefloss__bits_to_float((prefloss__float_to_bits(a) & m)
                                   | (prefloss__float_to_bits(b) & ~m));
}

PREFLOSS__INLINE float prefloss__fabs(float x)
{
    return prefloss__bits_to_float(prefloss__float_to_bits(x) & 0x7fffffffu);
}

/* x with its sign flipped where s is negative (sign bit set). */
PREFLOSS__INLINE float prefloss__mulsign(float x, float s)
{
    return prefloss__bits_to_float(prefloss__float_to_bits(x)
                                   ^ (prefloss__float_to_bits(s) & 0x80000000u));
}

/* g * u for an upstream gradient u, where u == 0 gives a (signed) 0 even
 * for an overflowed g = +-inf: the exact product is 0, not NaN. */
PREFLOSS__INLINE float prefloss__times_up(float g, float u)
{
    return prefloss__select(u != 0.0f, g * u, prefloss__mulsign(prefloss__mulsign(0.0f, g), u));
}

/* x * w, 0 for w == 0 even where x is infinite, but NaN stays NaN (a NaN
 * marks a sample with a non-finite input, whatever its weight). */
PREFLOSS__INLINE float prefloss__weighted(float x, float w)
{
    return prefloss__select(x != x, x, prefloss__times_up(x, w));
}

/* x times a per-pair weight w, then a mix weight s, as prefloss__weighted. */
PREFLOSS__INLINE float prefloss__weighted2(float x, float w, float s)
{
    return prefloss__weighted(prefloss__weighted(x, w), s);
}

/* x + y, except that where an overflowed x meets a y that overflowed with
 * the other sign (inf - inf) their exact sum is no longer known, and x is
 * kept (never NaN). A NaN x or y (a non-finite input) stays NaN. */
PREFLOSS__INLINE float prefloss__add_keep(float x, float y)
{
    float sum = x + y;
    return prefloss__select((int)(sum != sum) & (int)(x == x) & (int)(y == y), x, sum);
}

/* 0 when x is finite, NaN when it is not (x - x is NaN for inf and NaN).
 * Negated so that the result is -0: y + prefloss__nan_if_nonfinite(x) == y
 * for every y, signed zeros included, when x is finite. */
PREFLOSS__INLINE float prefloss__nan_if_nonfinite(float x) { return -(x - x); }

/* Whether values that are each +-0 or NaN (the kernels' "bad" terms) held
 * a NaN, from the OR of their bits: a NaN's exponent is all ones, a zero's
 * is none. The kernels OR the bits as they go: an integer OR is a reduction
 * the vectoriser keeps in a register, where a compare to an int flag per
 * element costs it a pack and a spill per vector (in make bench: IPO
 * 1.05-1.08x, DPO and Bradley-Terry 1.02-1.06x, from this alone). */
PREFLOSS__INLINE int prefloss__bits_has_nan(uint32_t bits)
{
    return (bits & 0x7f800000u) == 0x7f800000u;
}

/* A quiet NaN, without libm's nanf(). */
PREFLOSS__INLINE float prefloss__nan(void) { return prefloss__bits_to_float(0x7fc00000u); }

/* lo, or 0 where hi overflowed: keeps an overflowed value at +-inf instead
 * of letting the (meaningless) low part turn it into NaN. */
PREFLOSS__INLINE float prefloss__lo_if_finite(float hi, float lo)
{
    /* lo itself can be NaN too: TwoSum's intermediate s - a overflows when an
     * operand is near FLT_MAX even though the sum is finite */
    return prefloss__select((int)(prefloss__fabs(hi) <= FLT_MAX) & (int)(lo - lo == 0.0f), lo, 0.0f);
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
 * With an FMA the error is one fused operation; otherwise Dekker's product
 * with Veltkamp's split (valid for |a|, |b| < 2^115). Where the product or
 * the split overflows, e is set to 0. */
PREFLOSS__INLINE prefloss__df prefloss__split(float a)
{
    float t = 4097.0f * a; /* 2^12 + 1 */
    float hi = t - (t - a);
    return prefloss__df_make(hi, a - hi);
}
PREFLOSS__INLINE prefloss__df prefloss__two_prod(float a, float b, int fma)
{
    float p = a * b, e;
    if (PREFLOSS__HAS_FMA(fma)) {
        e = PREFLOSS__FMAF(a, b, -p);
    } else {
        prefloss__df as = prefloss__split(a), bs = prefloss__split(b);
        e = ((as.hi * bs.hi - p) + as.hi * bs.lo + as.lo * bs.hi) + as.lo * bs.lo;
    }
    return prefloss__df_make(p, prefloss__select(e - e == 0.0f, e, 0.0f));
}

/* (xh + xl) + (yh + yl), relative error <= 3u^2 (AccurateDWPlusDW). */
PREFLOSS__INLINE prefloss__df prefloss__df_add(prefloss__df x, prefloss__df y)
{
    prefloss__df s = prefloss__two_sum(x.hi, y.hi);
    prefloss__df t = prefloss__two_sum(x.lo, y.lo);
    prefloss__df v = prefloss__fast_two_sum(s.hi, s.lo + t.hi);
    prefloss__df r = prefloss__fast_two_sum(v.hi, t.lo + v.lo);
    /* An infinite operand or an overflow makes the error terms inf - inf =
     * NaN: the sum is then the plain sum of the high parts (+-inf; NaN only
     * for a NaN operand or inf - inf), never a NaN made up here. */
    int ok = r.hi == r.hi;
    return prefloss__df_make(prefloss__select(ok, r.hi, s.hi + t.hi),
                             prefloss__select(ok, r.lo, 0.0f));
}

/* (xh + xl) + y, relative error <= 2u^2 (DWPlusFP). */
PREFLOSS__INLINE prefloss__df prefloss__df_add_f(prefloss__df x, float y)
{
    prefloss__df s = prefloss__two_sum(x.hi, y);
    prefloss__df r = prefloss__fast_two_sum(s.hi, x.lo + s.lo);
    /* an infinite sum: keep it, with a zero low part (not inf - inf = NaN);
     * likewise where TwoSum's intermediate s - x.hi overflowed (|y| near
     * FLT_MAX, x.hi of the other sign) although s did not: s alone, within
     * an ulp of the sum */
    int fin = (int)(prefloss__fabs(s.hi) <= FLT_MAX) & (int)(r.hi == r.hi);
    return prefloss__df_make(prefloss__select(fin, r.hi, s.hi), prefloss__select(fin, r.lo, 0.0f));
}

/* (xh + xl) * y, relative error <= 2u^2 (DWTimesFP). */
PREFLOSS__INLINE prefloss__df prefloss__df_mul_f(prefloss__df x, float y, int fma)
{
    prefloss__df c = prefloss__two_prod(x.hi, y, fma);
    prefloss__df r = prefloss__fast_two_sum(c.hi, PREFLOSS__MADD(fma, x.lo, y, c.lo));
    /* xh*y overflowed: x.lo*y may be -inf against it (inf - inf = NaN) */
    int ok = prefloss__fabs(c.hi) <= FLT_MAX;
    return prefloss__df_make(prefloss__select(ok, r.hi, c.hi),
                             prefloss__select(ok, prefloss__lo_if_finite(r.hi, r.lo), 0.0f));
}

/* (xh + xl) / d for d > 0: the quotient of the high parts with one
 * correction from the exact remainder (TwoProd). */
PREFLOSS__INLINE prefloss__df prefloss__df_div_f(prefloss__df x, float d, int fma)
{
    float q0 = x.hi / d;
    prefloss__df p = prefloss__two_prod(q0, d, fma);
    float q1 = (((x.hi - p.hi) - p.lo) + x.lo) / d;
    prefloss__df q = prefloss__fast_two_sum(q0, q1);
    return prefloss__df_make(q.hi, prefloss__lo_if_finite(q.hi, q.lo));
}

/* The double-float rounded to the nearest float (an overflowed hi stays inf). */
PREFLOSS__INLINE float prefloss__df_round(prefloss__df x)
{
    return x.hi + prefloss__lo_if_finite(x.hi, x.lo);
}

/* ------------------------------------------------------------------------ */

/* More double-float operations: products of two double-floats, negation,
 * selection, and the saturating forms used near the ends of the range. */

/* (xh + xl)(yh + yl) as a double-float (relative error ~ a few u^2). */
PREFLOSS__INLINE prefloss__df prefloss__df_mul(prefloss__df x, prefloss__df y)
{
    prefloss__df p = prefloss__two_prod(x.hi, y.hi, 0);
    return prefloss__fast_two_sum(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi));
}

/* -x, and c ? a : b, for double-floats. */
PREFLOSS__INLINE prefloss__df prefloss__df_negate(prefloss__df x) { return prefloss__df_make(-x.hi, -x.lo); }
PREFLOSS__INLINE prefloss__df prefloss__df_pick(int c, prefloss__df a, prefloss__df b)
{
    return prefloss__df_make(prefloss__select(c, a.hi, b.hi), prefloss__select(c, a.lo, b.lo));
}

/* x y for double-floats (relative error a few u^2), safe at the ends of
 * the range: a zero factor gives a (signed) 0 even against an infinite one,
 * and a product that overflows is +-inf with a zero low part, never NaN. */
PREFLOSS__INLINE prefloss__df prefloss__df_mul_sat(prefloss__df x, prefloss__df y)
{
    prefloss__df p = prefloss__two_prod(x.hi, y.hi, 0);
    prefloss__df r = prefloss__fast_two_sum(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi));
    int zero = (int)(x.hi == 0.0f) | (int)(y.hi == 0.0f);
    int fin = prefloss__fabs(p.hi) <= FLT_MAX;
    float z0 = prefloss__mulsign(prefloss__mulsign(0.0f, x.hi), y.hi);
    float hi = prefloss__select(fin, r.hi, p.hi);
    float lo = prefloss__select(fin, prefloss__lo_if_finite(r.hi, r.lo), 0.0f);
    return prefloss__df_make(prefloss__select(zero, z0, hi), prefloss__select(zero, 0.0f, lo));
}

/* x / d for a float d > 0; a quotient that overflows is +-inf with a zero
 * low part (prefloss__df_div_f would make NaN of it). */
PREFLOSS__INLINE prefloss__df prefloss__df_div_sat(prefloss__df x, float d)
{
    prefloss__df q = prefloss__df_div_f(x, d, 0);
    float q0 = x.hi / d;
    int fin = prefloss__fabs(q0) <= FLT_MAX;
    return prefloss__df_make(prefloss__select(fin, q.hi, q0), prefloss__select(fin, q.lo, 0.0f));
}

/* ==== lib/difference.c ==== */
/* Exact differences of log-probs                                           */
/* ------------------------------------------------------------------------ */

/* Inputs at least this large are pre-scaled by 1/4 so that no partial sum
 * of four of them can overflow; the scaling is exact for every input that
 * can still matter next to such a value. */
#define PREFLOSS__BIG_BITS 0x7e000000u /* bits of 2^125 */

/* h = (a - b) - (c - d) as a double-float, relative error <= 3u^2 for any
 * finite inputs: both differences are exact TwoSums, their difference an
 * accurate double-float addition. No cancellation is ever lost. Where an
 * input is >= 2^125 in magnitude everything is scaled by 1/4 first (the
 * test is on the bits, an integer maximum, so it vectorises): the result is
 * h / unscale, with unscale = 4 then and 1 otherwise. */
PREFLOSS__INLINE prefloss__df prefloss__diff_of_diffs_scaled(float a, float b, float c, float d,
                                                         float *unscale_out)
{
    uint32_t ma = prefloss__float_to_bits(a) & 0x7fffffffu, mb = prefloss__float_to_bits(b) & 0x7fffffffu;
    uint32_t mc = prefloss__float_to_bits(c) & 0x7fffffffu, md = prefloss__float_to_bits(d) & 0x7fffffffu;
    uint32_t m1 = ma > mb ? ma : mb, m2 = mc > md ? mc : md;
    int big = (m1 > m2 ? m1 : m2) >= PREFLOSS__BIG_BITS;
    float scale = prefloss__select(big, 0.25f, 1.0f), unscale = prefloss__select(big, 4.0f, 1.0f);
    prefloss__df x = prefloss__two_sum(scale * a, -(scale * b));  /* (a - b) * scale */
    prefloss__df y = prefloss__two_sum(scale * d, -(scale * c));  /* -(c - d) * scale */
    *unscale_out = unscale;
    return prefloss__df_add(x, y);
}

/* x * unscale (a power of two), an overflow giving +-inf with a zero low part. */
PREFLOSS__INLINE prefloss__df prefloss__df_unscale(prefloss__df x, float unscale)
{
    float hi = unscale * x.hi;
    return prefloss__df_make(hi, prefloss__lo_if_finite(hi, unscale * x.lo));
}

/* h = (a - b) - (c - d) itself. */
PREFLOSS__INLINE prefloss__df prefloss__diff_of_diffs(float a, float b, float c, float d)
{
    float unscale;
    prefloss__df h = prefloss__diff_of_diffs_scaled(a, b, c, d, &unscale);
    return prefloss__df_unscale(h, unscale);
}

/* beta * ((a - b) - (c - d)), formed in the scaled domain so that h may
 * exceed the float range where beta * h does not. */
PREFLOSS__INLINE prefloss__df prefloss__beta_times_diff(float beta, float a, float b, float c, float d,
                                                       int fma)
{
    float unscale;
    prefloss__df h = prefloss__diff_of_diffs_scaled(a, b, c, d, &unscale);
    return prefloss__df_unscale(prefloss__df_mul_f(h, beta, fma), unscale);
}

/* a - b - c as a double-float (the Bradley–Terry argument sw - sl - m). */
PREFLOSS__INLINE prefloss__df prefloss__diff3(float a, float b, float c)
{
    return prefloss__diff_of_diffs(a, b, c, 0.0f);
}

/* ------------------------------------------------------------------------ */

/* ==== lib/elementary.c ==== */
/* Elementary functions (no libm; branch-free so loops vectorise)           */
/*                                                                          */
/* Every select `c ? a : b` in a kernel chooses between values computed     */
/* before it: a float operation inside an arm could raise a floating-point  */
/* exception only on one path, and under the default -ftrapping-math GCC    */
/* then refuses to if-convert, and so to vectorise, the loop.               */
/* ------------------------------------------------------------------------ */

#define PREFLOSS__LOG2E 1.44269504088896341f
/* ln 2 split so that k * LN2_HI is exact for |k| < 2^9 (fdlibm's split). */
#define PREFLOSS__LN2_HI 6.9314575195e-01f  /* 0x3f317200 */
#define PREFLOSS__LN2_LO 1.4286067653e-06f  /* 0x35bfbe8e */
/* 1.5 * 2^23: x + MAGIC - MAGIC rounds x to an integer (|x| < 2^22). */
#define PREFLOSS__ROUND_MAGIC 12582912.0f
/* exp(-x) is computed as p * 2^k up to this x (k >= -251, so 2^k is a
 * product of two normal powers of two); beyond it the result is 0. The
 * float value of exp(-x) is 0 from x = 104 on, but p and k stay useful
 * further: a gradient sigma(-z) * beta * dlosses can be a normal float even
 * where sigma(-z) alone is not. */
#define PREFLOSS__EXP_NEG_LIMIT 174.0f

/* 2^k for k in [-126, 127]. */
PREFLOSS__INLINE float prefloss__pow2_half(int32_t k)
{
    return prefloss__bits_to_float((uint32_t)(k + 127) << 23);
}

/* Range reduction shared by both exponentials: for x = -(ah + al) with
 * ah >= 0, returns k and r (as a normalised double-float, |r.lo| <= half an
 * ulp of r.hi) with x = k ln2 + r, |r| <= ln2/2 (+ tiny), r within ~2^-40
 * of exact. ln 2 is split three ways, ln2 = LN2_HI + L2 + L3 with L2 of 15
 * significant bits, so that k LN2_HI - a and k L2 are exact (|k| < 2^9) and
 * only the tiny k L3 is rounded; the argument's low part is folded in and
 * the result renormalised (al can be larger than r itself). */
PREFLOSS__INLINE prefloss__df prefloss__exp_reduce(float ah, float al, int32_t *k_out, int fma)
{
    /* (decimal forms of exact float constants: C++ before C++17 has no hex
     * floating literals) */
    const float l2 = 1.4285906e-06f, l3 = 1.619851e-11f; /* ln2 - LN2_HI = l2 + l3 + ~6e-19 */
    float a = prefloss__select(ah < PREFLOSS__EXP_NEG_LIMIT, ah, PREFLOSS__EXP_NEG_LIMIT);
    /* k = round(a / ln2) by the 1.5 * 2^23 trick: adding it leaves k in the
     * low mantissa bits. (A float-to-int conversion would stop compilers
     * from vectorising the loops that inline this.) */
    float shifted = PREFLOSS__MADD(fma, a, PREFLOSS__LOG2E, PREFLOSS__ROUND_MAGIC);
    float kf = shifted - PREFLOSS__ROUND_MAGIC;
    int32_t ki = (int32_t)(prefloss__float_to_bits(shifted) - prefloss__float_to_bits(PREFLOSS__ROUND_MAGIC));
    float r1 = (kf * PREFLOSS__LN2_HI) - a;            /* exact (Sterbenz) */
    prefloss__df r = prefloss__two_sum(r1, kf * l2);   /* k l2 exact: 8 + 15 bits */
    float al_used = prefloss__select(a < ah, 0.0f, al); /* fold in the argument's low part */
    *k_out = -ki;
    return prefloss__two_sum(r.hi, r.lo + (kf * l3 - al_used));
}

/* x * 2^k for k in [-252, 0], rounded once (two exact steps, then the
 * final one, which rounds only if the result is subnormal). */
PREFLOSS__INLINE float prefloss__scale2(float x, int32_t k)
{
    int32_t k1 = k / 2;
    return (x * prefloss__pow2_half(k1)) * prefloss__pow2_half(k - k1);
}

/* exp(-(ah + al)) for ah >= 0 as p * 2^k with p in [0.7, 1.42] and
 * k in [-251, 0], within ~1 ulp; p = 0 for ah >= PREFLOSS__EXP_NEG_LIMIT.
 * e^r = 1 + r + r^2/2 + ... + r^7/5040 (Taylor, |r| <= 0.347: the
 * truncation error is < 2^-27 relative). */
PREFLOSS__INLINE float prefloss__exp_neg_parts(float ah, float al, int32_t *k, int fma)
{
    prefloss__df rr = prefloss__exp_reduce(ah, al, k, fma);
    float r = rr.hi + rr.lo;
    float q = PREFLOSS__MADD(fma, r, 1.0f / 5040, 1.0f / 720);
    float p;
    q = PREFLOSS__MADD(fma, r, q, 1.0f / 120);
    q = PREFLOSS__MADD(fma, r, q, 1.0f / 24);
    q = PREFLOSS__MADD(fma, r, q, 1.0f / 6);
    q = PREFLOSS__MADD(fma, r, q, 1.0f / 2);
    p = 1.0f + PREFLOSS__MADD(fma, r * r, q, r);
    return prefloss__select(ah < PREFLOSS__EXP_NEG_LIMIT, p, 0.0f);
}

/* exp(-(ah + al)) for ah >= 0 as a double-float, relative error below
 * 2^-34 (where the result is a normal float with a normal low part). A
 * second reduction, r = j ln2/4 + t with j in {-2, ..., 2} (selects, no
 * table), leaves |t| <= ln2/8, so that with 1 + t + t^2/2 summed in
 * double-float the float part t^3/6 + ... (< 1.1e-4) costs at most ~2^-37;
 * the low part of t multiplies the whole series (not only its linear
 * term), and 2^(j/4) is a double-float factor. */
PREFLOSS__INLINE prefloss__df prefloss__exp_neg_df(float ah, float al, int fma)
{
    const float c1 = 1.732868e-01f, c2 = -4.7616355e-10f;  /* ln2/4 = c1 + c2 + ~2e-17 */
    int32_t k;
    prefloss__df r0 = prefloss__exp_reduce(ah, al, &k, fma);
    float jf = PREFLOSS__MADD(fma, r0.hi, 5.77078e+00f, PREFLOSS__ROUND_MAGIC) - PREFLOSS__ROUND_MAGIC;
    prefloss__df s0 = prefloss__two_sum(r0.hi, -jf * c1);      /* j c1, j c2 exact */
    prefloss__df r = prefloss__two_sum(s0.hi, s0.lo + (r0.lo - jf * c2));
    /* 2^(j/4) = th + tl */
    float th = prefloss__select(jf == 1.0f, 1.1892071e+00f, prefloss__select(jf == -1.0f, 8.408964e-01f,
               prefloss__select(jf == 2.0f, 1.4142135e+00f, prefloss__select(jf == -2.0f, 7.0710677e-01f, 1.0f))));
    float tl = prefloss__select(jf == 1.0f, 3.7976353e-08f, prefloss__select(jf == -1.0f, -1.2377663e-08f,
               prefloss__select(jf == 2.0f, 2.4203235e-08f, prefloss__select(jf == -2.0f, 1.21016175e-08f, 0.0f))));
    prefloss__df r2 = prefloss__two_prod(r.hi, r.hi, fma);
    /* to t^8/8!: the first term left out, t^9/9! < 2^-50 for |t| <= 0.0867 */
    float q = r.hi * r.hi * r.hi * (1.0f / 6 + r.hi * (1.0f / 24 + r.hi * (1.0f / 120
              + r.hi * (1.0f / 720 + r.hi * (1.0f / 5040 + r.hi * (1.0f / 40320))))));
    prefloss__df s = prefloss__two_sum(1.0f, r.hi);                 /* 1 + t */
    prefloss__df t = prefloss__two_sum(s.hi, 0.5f * r2.hi);         /* + t^2/2 */
    float low = q + ((s.lo + t.lo) + (r.lo + 0.5f * r2.lo + r.lo * (r.hi + 0.5f * r2.hi + q)));
    prefloss__df e = prefloss__fast_two_sum(t.hi, low);
    prefloss__df p = prefloss__two_prod(e.hi, th, fma);
    e = prefloss__fast_two_sum(p.hi, p.lo + (e.hi * tl + e.lo * th));
    {
        float hi = prefloss__scale2(e.hi, k), lo = prefloss__scale2(e.lo, k);
        int ok = ah < PREFLOSS__EXP_NEG_LIMIT;
        return prefloss__df_make(prefloss__select(ok, hi, 0.0f), prefloss__select(ok, lo, 0.0f));
    }
}

/* log1p(y) for y in [0, 1], within ~1 ulp (also for tiny y, where it is y).
 * log1p(y) = 2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + ..., s = y/(2 + y) <= 1/3;
 * s is computed with a correction for the rounding of 2 + y and of the
 * division, so the leading term 2s carries no error of its own. */
PREFLOSS__INLINE prefloss__df prefloss__log1p_unit_df(float y, int fma)
{
    prefloss__df d = prefloss__fast_two_sum(2.0f, y);      /* 2 + y exactly */
    float inv = 1.0f / d.hi;
    float s0 = y * inv;
    prefloss__df p = prefloss__two_prod(s0, d.hi, fma);
    float s1 = (((y - p.hi) - p.lo) - s0 * d.lo) * inv;   /* s = s0 + s1 */
    float t = s0 * s0;
    float tail = PREFLOSS__MADD(fma, t, 1.0f / 15, 1.0f / 13);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 11);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 9);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 7);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 5);
    tail = PREFLOSS__MADD(fma, t, tail, 1.0f / 3);
    tail = t * tail;
    /* 2 s0 is exact; the rest is small next to it (its error ~ u |2 s0 tail|) */
    return prefloss__fast_two_sum(2.0f * s0, PREFLOSS__MADD(fma, 2.0f * s0, tail, 2.0f * s1));
}

/* The same, rounded to a float (the low part is dead code where unused). */
PREFLOSS__INLINE float prefloss__log1p_unit(float y, int fma)
{
    return prefloss__log1p_unit_df(y, fma).hi;
}

/* ------------------------------------------------------------------------ */

/* Logarithms of double-float accuracy (the catalogue's cancelling terms). */

/* log(x) for a finite x > 0 as a double-float (within ~2 ulp when
 * rounded; the low part keeps what rounding a large log would lose): x = m 2^e with m in
 * [sqrt(1/2), sqrt(2)), log x = e ln2 + log1p(m - 1) (m - 1 is exact).
 * Subnormal x is scaled by 2^24 first. Branch-free (it runs in kernels). */
PREFLOSS__INLINE prefloss__df prefloss__log_pos_df(float x)
{
    int sub = x < FLT_MIN;
    float xs = prefloss__select(sub, x * 16777216.0f, x);          /* 2^24 */
    uint32_t b = prefloss__float_to_bits(xs);
    int32_t e = (int32_t)(b >> 23) - 127 - (sub ? 24 : 0);
    float m = prefloss__bits_to_float((b & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    int high = m > 1.41421356f;
    float ef = (float)(e + high);
    m = prefloss__select(high, 0.5f * m, m);
    /* e ln2_hi is exact (|e| < 2^9); the rest is small next to it */
    return prefloss__fast_two_sum(ef * PREFLOSS__LN2_HI,
                                  ef * PREFLOSS__LN2_LO + prefloss__log1p_unit(m - 1.0f, 0));
}

/* e^{-|x|} as a double-float (0 for an infinite x). */
PREFLOSS__INLINE prefloss__df prefloss__exp_neg_abs_df(prefloss__df x)
{
    return prefloss__exp_neg_df(prefloss__fabs(x.hi), prefloss__mulsign(x.lo, x.hi), 0);
}

/* log1p(e) for a double-float e in [0, 1]: the float argument's log1p plus
 * the first-order term of the low part. */
PREFLOSS__INLINE prefloss__df prefloss__log1p_unit_df2(prefloss__df e)
{
    return prefloss__df_add_f(prefloss__log1p_unit_df(e.hi, 0), e.lo / (1.0f + e.hi));
}

/* log1p(y) for a double-float y in [0, 1], relative error ~2^-34
 * (prefloss__log1p_unit_df2 is within ~2^-29, which js_divergence's h' cannot
 * afford near the zero of sigma(-z) - eps, where dL/dz amplifies the relative
 * error of h' tens of times): 2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + ... with
 * s = y/(2 + y) <= 1/3 a double-float, 2s, 2s^3/3 and 2s^5/5 in
 * double-float, the rest (< 1.6e-4) in float, to s^23 (the first term left
 * out is < 2^-38). */
PREFLOSS__INLINE prefloss__df prefloss__log1p_unit_acc(prefloss__df y)
{
    prefloss__df d = prefloss__fast_two_sum(2.0f, y.hi);          /* 2 + y.hi exactly */
    float dl = d.lo + y.lo;
    float s0 = y.hi / d.hi;
    prefloss__df p = prefloss__two_prod(s0, d.hi, 0);
    float s1 = (((y.hi - p.hi) - p.lo) + y.lo - s0 * dl) / d.hi;  /* s = s0 + s1 */
    prefloss__df t = prefloss__two_prod(s0, s0, 0);
    float t2 = t.lo + 2.0f * s0 * s1;                             /* s^2 = t.hi + t2 */
    prefloss__df c = prefloss__two_prod(s0, t.hi, 0);
    float cl = c.lo + (s0 * t2 + s1 * t.hi);                      /* s^3 = c.hi + cl */
    float q0 = c.hi / 3.0f;
    prefloss__df p3 = prefloss__two_prod(q0, 3.0f, 0);
    float q1 = (((c.hi - p3.hi) - p3.lo) + cl) / 3.0f;            /* s^3/3 = q0 + q1 */
    prefloss__df f = prefloss__two_prod(c.hi, t.hi, 0);
    float fl = f.lo + (c.hi * t2 + cl * t.hi);                    /* s^5 = f.hi + fl */
    float v0 = f.hi / 5.0f;
    prefloss__df p5 = prefloss__two_prod(v0, 5.0f, 0);
    float v1 = (((f.hi - p5.hi) - p5.lo) + fl) / 5.0f;            /* s^5/5 = v0 + v1 */
    float w = t.hi, tail = 1.0f / 23;
    prefloss__df r, u;
    tail = 1.0f / 21 + w * tail; tail = 1.0f / 19 + w * tail; tail = 1.0f / 17 + w * tail;
    tail = 1.0f / 15 + w * tail; tail = 1.0f / 13 + w * tail; tail = 1.0f / 11 + w * tail;
    tail = 1.0f / 9 + w * tail; tail = 1.0f / 7 + w * tail;
    tail = (f.hi * w) * tail;                                     /* s^7/7 + s^9/9 + ... */
    r = prefloss__fast_two_sum(2.0f * s0, 2.0f * q0);
    u = prefloss__two_sum(r.hi, 2.0f * v0);
    return prefloss__fast_two_sum(u.hi, (r.lo + u.lo) + 2.0f * (s1 + (q1 + (v1 + tail))));
}

/* log(x) for a finite x > 0 as a double-float, relative error ~2^-34 (for
 * exo_pair's constants log(eps'), which its loss needs to more than float
 * accuracy: its two terms cancel by a factor of up to ~10 just outside the
 * series window): x = m 2^k with m in [sqrt(1/2), sqrt(2)), log x =
 * k ln2 + log1p(m - 1) (m - 1 exact), ln2 split three ways as in
 * prefloss__exp_reduce (k LN2_HI and k l2 exact for |k| < 2^9). */
PREFLOSS__INLINE prefloss__df prefloss__log_pos_acc(float x)
{
    const float l2 = 1.4285906e-06f, l3 = 1.619851e-11f; /* ln2 - LN2_HI = l2 + l3 + ~6e-19 */
    int sub = x < FLT_MIN;
    float xs = prefloss__select(sub, x * 16777216.0f, x);          /* 2^24 */
    uint32_t b = prefloss__float_to_bits(xs);
    int32_t e = (int32_t)(b >> 23) - 127 - (sub ? 24 : 0);
    float m = prefloss__bits_to_float((b & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    int high = m > 1.41421356f;
    float ef = (float)(e + high);
    prefloss__df kl = prefloss__two_sum(ef * PREFLOSS__LN2_HI, ef * l2);
    m = prefloss__select(high, 0.5f * m, m);
    kl = prefloss__df_add_f(kl, ef * l3);
    return prefloss__df_add(kl, prefloss__log1p_unit_acc(prefloss__df_make(m - 1.0f, 0.0f)));
}

/* ==== lib/sigmoid.c ==== */
/* The sigmoid family: -log sigma(z) and sigma(-z) for z = zh + zl          */
/* ------------------------------------------------------------------------ */

/* Per element of the sigmoid family, with e = exp(-|z|):
 *
 *   loss = (1 - eps) softplus(-z) + eps softplus(z)
 *        = w |z| + log1p(e),   w = eps if z >= 0 else 1 - eps
 *   sigma(-z) = e / (1 + e)  if z >= 0,  1 / (1 + e) otherwise
 *
 * z arrives unrounded (double-float), so no rounding of z costs accuracy. */
PREFLOSS__INLINE float prefloss__softplus_family(float zh, float zl, float e, float eps, int fma)
{
    int pos = zh >= 0.0f;
    float ah = prefloss__fabs(zh), al = prefloss__mulsign(zl, zh);
    float w = prefloss__select(pos, eps, 1.0f - eps);
    float wah = w * ah, wal = w * al;
    float lin_hi = prefloss__select(w > 0.0f, wah, 0.0f); /* 0 * inf must stay 0 */
    float lin_lo = prefloss__select(w > 0.0f, wal, 0.0f);
    return lin_hi + (lin_lo + prefloss__log1p_unit(e, fma));
}

/* sigma(-z) * w * u for exp(-|z|) = p * 2^k = e, within ~2 ulp: the rounding
 * of 1 + e is corrected, and for z >= 0 (sigma(-z) = e/(1 + e)) the power
 * 2^k is applied last, so that where sigma(-z) is subnormal but w * u
 * large (beta times an upstream gradient u) the product keeps its
 * precision. u == 0 gives 0 even where the rest overflowed. */
PREFLOSS__INLINE float prefloss__sigmoid_neg_times(float zh, float p, int32_t k, float e, float w,
                                                 float u, int fma)
{
    int pos = zh >= 0.0f;
    float num = prefloss__select(pos, p, 1.0f);
    int32_t kk = pos ? k : 0;
    prefloss__df den = prefloss__fast_two_sum(1.0f, e);
    float q = num / den.hi;
    float t = PREFLOSS__MADD(fma, -q, den.lo / den.hi, q);
    return prefloss__scale2(prefloss__times_up(t * w, u), kk);
}

/* sigma(-z) as a double-float from a double-float e = exp(-|z|): used where
 * the gradient is a difference that can cancel (label smoothing, reward
 * centering), so that only the final rounding remains. */
PREFLOSS__INLINE prefloss__df prefloss__sigmoid_neg_df(float zh, prefloss__df e, int fma)
{
    prefloss__df den = prefloss__df_add_f(e, 1.0f);        /* 1 + e */
    /* q = e / (1 + e): e.hi/den.hi with one correction for the remainder */
    float q0 = e.hi / den.hi;
    prefloss__df p = prefloss__two_prod(q0, den.hi, fma);
    float q1 = (((e.hi - p.hi) - p.lo) + e.lo - q0 * den.lo) / den.hi;
    prefloss__df q = prefloss__fast_two_sum(q0, q1);
    /* sigma(-z) = q for z >= 0, 1 - q = 1/(1 + e) for z < 0 */
    prefloss__df one_minus_q = prefloss__df_add_f(prefloss__df_make(-q.hi, -q.lo), 1.0f);
    return prefloss__df_make(prefloss__select(zh >= 0.0f, q.hi, one_minus_q.hi),
                             prefloss__select(zh >= 0.0f, q.lo, one_minus_q.lo));
}

/* round(s - c) for double-floats s and c. */
PREFLOSS__INLINE float prefloss__df_sub_round(prefloss__df s, prefloss__df c)
{
    return prefloss__df_round(prefloss__df_add(s, prefloss__df_make(-c.hi, -c.lo)));
}

/* ------------------------------------------------------------------------ */

/* The sigmoid family's values at z = zh + zl from one exponential:
 * sigma(z), sigma(-z), sp(z) = log(1 + e^z) and sp(-z), each within ~2 ulp. */
typedef struct prefloss__sigvals { float sig_pos, sig_neg, sp_pos, sp_neg; } prefloss__sigvals;

PREFLOSS__INLINE prefloss__sigvals prefloss__sigmoid_values(float zh, float zl)
{
    prefloss__sigvals v;
    int pos = zh >= 0.0f;
    float ah = prefloss__fabs(zh), al = prefloss__mulsign(zl, zh);
    int32_t k;
    float p = prefloss__exp_neg_parts(ah, al, &k, 0); /* k is written here: its own statement */
    float e = prefloss__scale2(p, k);
    prefloss__df den = prefloss__fast_two_sum(1.0f, e);
    float big0 = 1.0f / den.hi;
    float big = big0 - big0 * (den.lo * big0);    /* 1/(1 + e), rounding of 1 + e corrected */
    float small = e * big;                        /* e/(1 + e) */
    float l1p = prefloss__log1p_unit(e, 0);
    float far = ah + (al + l1p);                  /* sp(|z|) = |z| + log1p(e) */
    v.sig_pos = prefloss__select(pos, big, small);
    v.sig_neg = prefloss__select(pos, small, big);
    v.sp_pos = prefloss__select(pos, far, l1p);
    v.sp_neg = prefloss__select(pos, l1p, far);
    return v;
}

/* The sigmoid loss with label smoothing at z (double-float) and its
 * derivative: L = -(1-eps) log sigma(z) - eps log sigma(-z), dL/dz =
 * -(sigma(-z) - eps), the difference formed in double-float. */
typedef struct prefloss__ld { float loss, dz; } prefloss__ld;

PREFLOSS__INLINE prefloss__ld prefloss__smoothed_sigmoid(prefloss__df z, float eps)
{
    prefloss__ld r;
    float ah = prefloss__fabs(z.hi), al = prefloss__mulsign(z.lo, z.hi);
    prefloss__df e = prefloss__exp_neg_df(ah, al, 0);
    r.loss = prefloss__softplus_family(z.hi, z.lo, e.hi, eps, 0);
    r.dz = -prefloss__df_sub_round(prefloss__sigmoid_neg_df(z.hi, e, 0), prefloss__df_make(eps, 0.0f));
    return r;
}

/* relu(-u) as a double-float. */
PREFLOSS__INLINE prefloss__df prefloss__relu_neg_df(prefloss__df u)
{
    int neg = u.hi < 0.0f;
    return prefloss__df_make(prefloss__select(neg, -u.hi, 0.0f), prefloss__select(neg, -u.lo, 0.0f));
}

/* sp(-x) = relu(-x) + log1p(e^{-|x|}) as a double-float, from e = e^{-|x|}
 * (a double-float); +inf for x = -inf. */
PREFLOSS__INLINE prefloss__df prefloss__softplus_neg_df(prefloss__df x, prefloss__df e)
{
    return prefloss__df_add(prefloss__relu_neg_df(x), prefloss__log1p_unit_df2(e));
}

/* ==== lib/wide.c ==== */
/* Wide evaluation: the pairwise loss kernels in double precision           */
/*                                                                          */
/* Where the FPU does double precision at full speed, the loss kernels      */
/* evaluate everything in double: h = (pc - rc) - (pr - rr) of float inputs */
/* is then exact or within 2^-53 of its largest term, can never overflow,   */
/* and the elementary functions need only float accuracy (~2^-32) with no   */
/* correction terms, so each output is rounded once, to within ~0.5 ulp.    */
/* The double-float kernels below are the same computations for targets    */
/* without double hardware (or with PREFLOSS_NO_DOUBLE), and are tested.    */
/* ------------------------------------------------------------------------ */

#if !defined(PREFLOSS_NO_DOUBLE) && (defined(__x86_64__) || defined(_M_X64) \
    || defined(__aarch64__) || defined(_M_ARM64) || defined(__SSE2_MATH__))
#  define PREFLOSS__WIDE 1
#else
#  define PREFLOSS__WIDE 0
#endif

/* a * b + c in double, fused under PREFLOSS__HAS_FMA(f) (see the float one). */
#if defined(__FP_FAST_FMA) || PREFLOSS__DISPATCH
#  define PREFLOSS__FMA_D(a, b, c) __builtin_fma(a, b, c)
#else
#  define PREFLOSS__FMA_D(a, b, c) ((a) * (b) + (c)) /* never evaluated fused */
#endif
#define PREFLOSS__MADD_D(f, a, b, c) (PREFLOSS__HAS_FMA(f) ? PREFLOSS__FMA_D(a, b, c) : (a) * (b) + (c))

PREFLOSS__INLINE double prefloss__bits_to_double(uint64_t u)
{
    union { uint64_t u; double d; } v;
    v.u = u;
    return v.d;
}
PREFLOSS__INLINE uint64_t prefloss__double_to_bits(double d)
{
    union { uint64_t u; double d; } v;
    v.d = d;
    return v.u;
}

/* prefloss__bits_has_nan for doubles. */
PREFLOSS__INLINE int prefloss__bits_has_nan_d(uint64_t bits)
{
    return (bits & 0x7ff0000000000000u) == 0x7ff0000000000000u;
}

/* c ? a : b on the bits (see prefloss__select). */
PREFLOSS__INLINE double prefloss__select_d(int c, double a, double b)
{
    uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
    return prefloss__bits_to_double((prefloss__double_to_bits(a) & m)
                                    | (prefloss__double_to_bits(b) & ~m));
}

PREFLOSS__INLINE double prefloss__fabs_d(double x)
{
    return prefloss__bits_to_double(prefloss__double_to_bits(x) & 0x7fffffffffffffffull);
}

/* x - y for doubles as s + *err exactly, s = fl(x - y) (TwoSum on x, -y). */
PREFLOSS__INLINE double prefloss__wtwo_diff(double x, double y, double *err)
{
    double s = x - y, sb = s - x;
    *err = (x - (s - sb)) - (y + sb);
    return s;
}

/* (a - b) - (c - d) for floats, within ~2^-52 of its own magnitude: both
 * differences are formed with their exact rounding errors (TwoSum in
 * double; a difference of floats whose exponents are over 28 apart is not
 * exact in double), and the errors are added after the main difference,
 * which is exact wherever it cancels (Sterbenz). Never overflows; a
 * non-finite input makes it non-finite. */
PREFLOSS__INLINE double prefloss__wdiff(float a, float b, float c, float d)
{
    double es, et;
    double s = prefloss__wtwo_diff((double)a, (double)b, &es);
    double t = prefloss__wtwo_diff((double)c, (double)d, &et);
    return (s - t) + (es - et);
}

/* The same as an unevaluated sum h + *lo within ~2^-104 of itself: the
 * rounding error of the last difference kept too, for a result that is
 * then scaled and shifted by a constant it may nearly cancel
 * (prefloss__ipo_wide). */
PREFLOSS__INLINE double prefloss__wdiff2(float a, float b, float c, float d, double *lo)
{
    double es, et, eh;
    double s = prefloss__wtwo_diff((double)a, (double)b, &es);
    double t = prefloss__wtwo_diff((double)c, (double)d, &et);
    double h = prefloss__wtwo_diff(s, t, &eh);
    *lo = eh + (es - et);
    return h;
}

/* exp(-a) for a >= 0, relative error < 2^-32: a = k ln2 + r with
 * |r| <= ln2/2, e^-r by its Taylor series to r^8 (truncation
 * 0.347^9/9! < 2^-32), and 2^-k put into the exponent. a is capped at cap
 * (at most 700, so that 2^-k stays a normal double). prefloss__wexp_neg caps
 * at 300: e^-300 ~ 5e-131 times any product of two floats (< 2^256) is
 * < 2^-150, 0 when rounded to a float like the exact value, and the
 * kernels' squares of e stay normal doubles (subnormal operands are slow on
 * many CPUs). The catalogue's wide kernels cap higher (PREFLOSS__WEXP_CAT_CAP). */
#define PREFLOSS__WEXP_CAP 300.0
#define PREFLOSS__WROUND_MAGIC 6755399441055744.0 /* 1.5 * 2^52 */
PREFLOSS__INLINE double prefloss__wexp_neg_to(double a, double cap, int fma)
{
    double x = prefloss__select_d(a < cap, a, cap);
    double shifted = PREFLOSS__MADD_D(fma, x, 1.4426950408889634, PREFLOSS__WROUND_MAGIC);
    double kd = shifted - PREFLOSS__WROUND_MAGIC;                /* round(x / ln2) */
    uint64_t k = prefloss__double_to_bits(shifted) - prefloss__double_to_bits(PREFLOSS__WROUND_MAGIC);
    double r = PREFLOSS__MADD_D(fma, -kd, 0.69314718055994531, x); /* e^-x = 2^-k e^-r */
    double q = PREFLOSS__MADD_D(fma, -r, 1.0 / 40320, 1.0 / 5040);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0 / 720);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0 / 120);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0 / 24);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0 / 6);
    q = PREFLOSS__MADD_D(fma, -r, q, 0.5);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0);
    q = PREFLOSS__MADD_D(fma, -r, q, 1.0);
    return prefloss__bits_to_double(prefloss__double_to_bits(q) - (k << 52));
}
PREFLOSS__INLINE double prefloss__wexp_neg(double a, int fma)
{
    return prefloss__wexp_neg_to(a, PREFLOSS__WEXP_CAP, fma);
}

/* log1p(y) for y in [0, 1], relative error < 2^-33: 2 atanh(s) with
 * s = y / (2 + y) <= 1/3, the series 2s (1 + s^2/3 + ... + s^14/15). */
PREFLOSS__INLINE double prefloss__wlog1p_unit(double y, int fma)
{
    double s = y / (2.0 + y), t = s * s, s2 = s + s;
    double q = PREFLOSS__MADD_D(fma, t, 1.0 / 15, 1.0 / 13);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 11);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 9);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 7);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 5);
    q = PREFLOSS__MADD_D(fma, t, q, 1.0 / 3);
    return PREFLOSS__MADD_D(fma, s2, t * q, s2);
}

/* ------------------------------------------------------------------------ */

/* ==== lib/core_kernels.c ==== */
/* Kernels                                                                  */
/*                                                                          */
/* Each kernel runs over one chunk with every pointer valid: the entry      */
/* points substitute zeros for an absent reference, ones for an absent      */
/* upstream gradient and a scratch buffer for an absent output, so the      */
/* loops have no per-element branches. Each returns non-zero when a         */
/* non-finite input was seen.                                               */
/* ------------------------------------------------------------------------ */

/* Elements per kernel call where a default must be substituted: absent
 * inputs read from static blocks of zeros or ones (PREFLOSS__CHUNK), absent
 * outputs go to scratch on the stack (PREFLOSS__SCRATCH). With every pointer
 * present a kernel runs over the whole range in one call. */
#define PREFLOSS__CHUNK 256
#if PREFLOSS__WIDE
#  define PREFLOSS__SCRATCH 64
#else
/* float-only targets (Cortex-M, 32-bit Arm): a small stack matters more */
#  define PREFLOSS__SCRATCH 16
#endif

/* The loss kernels are staged: each block of PREFLOSS__STAGE elements goes
 * through a few loops that pass intermediate values on in small arrays.
 * One element's work is a dependency chain far longer than an out-of-order
 * core looks ahead, so as a single loop it runs at the chain's latency;
 * shorter chains of independent elements overlap, and the stores and
 * reloads in between cost little. The order of each element's operations
 * is unchanged, so the results are bit for bit those of a single loop. */
#if PREFLOSS__WIDE
#  define PREFLOSS__STAGE 64
#else
/* in-order float-only cores gain nothing from long stages; stack they need */
#  define PREFLOSS__STAGE 16
#endif

/* Parameters of the loss kernels (each reads the ones it needs). */
typedef struct prefloss__kparams {
    float beta, eps;             /* DPO / cDPO */
    float scale, gscale;         /* IPO: y = scale*h - offset, g = 2*gscale*y */
    prefloss__df offset;
    float center;                /* Bradley–Terry reward centering */
} prefloss__kparams;

static prefloss__kparams prefloss__kparams_zero(void)
{
    prefloss__kparams k;
    k.beta = k.eps = k.scale = k.gscale = k.center = 0.0f;
    k.offset = prefloss__df_make(0.0f, 0.0f);
    return k;
}

/* The kernels' common signature: the loss and its gradients with respect
 * to the chosen and the rejected input, from h = (chosen - chosen_off) -
 * (rejected - rejected_off) (DPO/IPO: the policy log-probs and the
 * reference ones; Bradley-Terry: the scores and the margin as chosen_off),
 * and the upstream gradient. */
#define PREFLOSS__KERNEL_ARGS float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dchosen, \
    float *PREFLOSS__RESTRICT drejected, const float *PREFLOSS__RESTRICT chosen,              \
    const float *PREFLOSS__RESTRICT rejected, const float *PREFLOSS__RESTRICT chosen_off,     \
    const float *PREFLOSS__RESTRICT rejected_off, const float *PREFLOSS__RESTRICT up,         \
    size_t n, const prefloss__kparams *kp
typedef int (*prefloss__kernel_fn)(float *, float *, float *, const float *, const float *,
                                   const float *, const float *, const float *, size_t,
                                   const prefloss__kparams *);

/* The CPU's features for the dispatch (see PREFLOSS__DISPATCH): bit 0 set
 * once known, bit 1 AVX2 usable (the CPU has it and the OS saves the YMM
 * registers), bit 2 FMA as well. Found on the first call of a kernel, with
 * CPUID and XGETBV, and cached: every thread computes the same value, so a
 * race only repeats the work; the relaxed atomics make it well defined (and
 * quiet under ThreadSanitizer). The only static variable of the library. */
#if PREFLOSS__DISPATCH
static unsigned prefloss__cpu_detect(void)
{
    unsigned a, b, c, d, xlo, xhi, f = 1u;
    __asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0u), "c"(0u));
    if (a < 7u) return f;
    __asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1u), "c"(0u));
    /* ECX: FMA (bit 12), OSXSAVE (27), AVX (28) */
    if ((c & (1u << 27)) == 0u || (c & (1u << 28)) == 0u) return f;
    __asm__ __volatile__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0u));
    (void)xhi;
    if ((xlo & 6u) != 6u) return f; /* XMM and YMM state enabled by the OS */
    {
        unsigned fma = (c >> 12) & 1u;
        __asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7u), "c"(0u));
        if ((b >> 5) & 1u) f |= 2u | (fma << 2); /* EBX bit 5: AVX2 */
    }
    return f;
}

static unsigned prefloss__cpu_features(void)
{
    static unsigned features; /* 0: not yet known */
    unsigned f = __atomic_load_n(&features, __ATOMIC_RELAXED);
    if (f == 0u) {
        f = prefloss__cpu_detect();
        __atomic_store_n(&features, f, __ATOMIC_RELAXED);
    }
    return f;
}
/* Whether this CPU runs the _avx2 and the _fma variants. */
#  define prefloss__cpu_avx2() ((prefloss__cpu_features() & 2u) != 0u)
#  define prefloss__cpu_fma() ((prefloss__cpu_features() & 6u) == 6u)
#else
#  define prefloss__cpu_avx2() 0
#  define prefloss__cpu_fma() 0
#endif

/* The callable variants of a core kernel body (its last argument `fma`):
 * name_base (baseline ISA, fma 0) and, where dispatching, name_fma (AVX2 +
 * FMA, fma 1); PREFLOSS__PICK chooses. */
#if PREFLOSS__DISPATCH
#  define PREFLOSS__VARIANTS(name)                                                       \
    PREFLOSS_KERNEL_ATTR static int name##_base(PREFLOSS__KERNEL_ARGS)                   \
    { return name(loss, dchosen, drejected, chosen, rejected, chosen_off, rejected_off, up, n, kp, 0); } \
    PREFLOSS_KERNEL_ATTR PREFLOSS__TARGET_FMA static int name##_fma(PREFLOSS__KERNEL_ARGS) \
    { return name(loss, dchosen, drejected, chosen, rejected, chosen_off, rejected_off, up, n, kp, 1); }
#  define PREFLOSS__PICK(name, use_fma) ((use_fma) ? name##_fma : name##_base)
#else
#  define PREFLOSS__VARIANTS(name)                                                       \
    PREFLOSS_KERNEL_ATTR static int name##_base(PREFLOSS__KERNEL_ARGS)                   \
    { return name(loss, dchosen, drejected, chosen, rejected, chosen_off, rejected_off, up, n, kp, 0); }
#  define PREFLOSS__PICK(name, use_fma) ((void)(use_fma), name##_base)
#endif

/* PREFLOSS__KERNEL(ret, name, (params), (argument names)) opens the
 * definition of a kernel whose body follows, and makes `name` the function
 * to call: where dispatching, name_base (baseline) and name_avx2 (AVX2),
 * both from the one always-inline body name_body, and `name` picking one per
 * call; elsewhere `name` alone. */
#if PREFLOSS__DISPATCH
#  define PREFLOSS__KERNEL(ret, name, params, args)                                      \
    PREFLOSS__INLINE ret name##_body params;                                             \
    PREFLOSS_KERNEL_ATTR static ret name##_base params { return name##_body args; }      \
    PREFLOSS_KERNEL_ATTR PREFLOSS__TARGET_AVX2 static ret name##_avx2 params             \
    { return name##_body args; }                                                         \
    PREFLOSS_KERNEL_ATTR static ret name params                                          \
    { return prefloss__cpu_avx2() ? name##_avx2 args : name##_base args; }               \
    PREFLOSS__INLINE ret name##_body params
#else
#  define PREFLOSS__KERNEL(ret, name, params, args)                                      \
    PREFLOSS__INLINE ret name##_body params;                                             \
    PREFLOSS_KERNEL_ATTR static ret name params { return name##_body args; }             \
    PREFLOSS__INLINE ret name##_body params
#endif

#define PREFLOSS__MIN(x, y) ((x) < (y) ? (x) : (y))
#define PREFLOSS__BAD4(p, q, r, s) (prefloss__nan_if_nonfinite(p) + prefloss__nan_if_nonfinite(q) \
                                    + prefloss__nan_if_nonfinite(r) + prefloss__nan_if_nonfinite(s))

/* The defaults for absent inputs: zeros for a reference, ones for dlosses;
 * PREFLOSS__IN / PREFLOSS__OUT give p + i, or the default (scratch) where p
 * is NULL. */
#define PREFLOSS__IN(p, i, dflt) ((p) != NULL ? (p) + (i) : (dflt))
#define PREFLOSS__OUT(p, i, scratch) ((p) != NULL ? (p) + (i) : (scratch))
static const float prefloss__zeros[PREFLOSS__CHUNK] = {0};
#define PREFLOSS__ONES8 1, 1, 1, 1, 1, 1, 1, 1
#define PREFLOSS__ONES64 PREFLOSS__ONES8, PREFLOSS__ONES8, PREFLOSS__ONES8, PREFLOSS__ONES8, \
                         PREFLOSS__ONES8, PREFLOSS__ONES8, PREFLOSS__ONES8, PREFLOSS__ONES8
static const float prefloss__ones[PREFLOSS__CHUNK] = {
    PREFLOSS__ONES64, PREFLOSS__ONES64, PREFLOSS__ONES64, PREFLOSS__ONES64};

#if PREFLOSS__WIDE
/* The wide kernels take NULL for an absent chosen_off, rejected_off, up or
 * output and run over any n: per block they read the static defaults
 * (zeros, ones) and write scratch instead, so the entry points need not cut
 * the work into chunks. */

/* The sigmoid family in double (see "Wide evaluation"): DPO, cDPO and
 * Bradley–Terry, plain or with reward centering (centered, a compile-time
 * flag), from z = beta*h, h = (chosen - chosen_off) - (rejected - rejected_off),
 * e = exp(-|z|), s = chosen + rejected:
 *   loss      = w |z| + log1p(e) [+ center s^2],  w = eps if z >= 0 else 1 - eps
 *   dchosen   = (-beta (sigma(-z) - eps) [+ 2 center s]) u
 *   drejected = ( beta (sigma(-z) - eps) [+ 2 center s]) u
 * with sigma(-z) = e/(1 + e) for z >= 0, 1/(1 + e) otherwise. A block's z
 * and e are formed first, then its outputs (staged as below). */
PREFLOSS__INLINE int prefloss__sigmoid_wide(PREFLOSS__KERNEL_ARGS, int centered, int fma)
{
    double zz[PREFLOSS__STAGE], ee[PREFLOSS__STAGE];
    float s1[PREFLOSS__STAGE], s2[PREFLOSS__STAGE], s3[PREFLOSS__STAGE];
    const double beta = (double)kp->beta, eps = (double)kp->eps, w_neg = 1.0 - eps;
    const double center = (double)kp->center;
    uint64_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i0, j, len;
    for (i0 = 0; i0 < n; i0 += len) {
        const float *pa = chosen + i0, *pb = rejected + i0, *u = PREFLOSS__IN(up, i0, prefloss__ones);
        float *q1 = PREFLOSS__OUT(loss, i0, s1), *q2 = PREFLOSS__OUT(dchosen, i0, s2);
        float *q3 = PREFLOSS__OUT(drejected, i0, s3);
        len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);
        if (chosen_off != NULL || rejected_off != NULL) {          /* z = beta*h and e = exp(-|z|) */
            const float *pc = PREFLOSS__IN(chosen_off, i0, prefloss__zeros);
            const float *pd = PREFLOSS__IN(rejected_off, i0, prefloss__zeros);
            for (j = 0; j < len; j++) {
                double h = prefloss__wdiff(pa[j], pc[j], pb[j], pd[j]);
                double z = beta * h;
                zz[j] = z + (h - h);           /* NaN for a non-finite input */
                ee[j] = prefloss__wexp_neg(prefloss__fabs_d(z), fma);
            }
        } else {                               /* the same with h = a - b (one rounding) */
            for (j = 0; j < len; j++) {
                double h = (double)pa[j] - (double)pb[j];
                double z = beta * h;
                zz[j] = z + (h - h);
                ee[j] = prefloss__wexp_neg(prefloss__fabs_d(z), fma);
            }
        }
        for (j = 0; j < len; j++) {            /* the loss and the gradients */
            double z = zz[j], e = ee[j], az = prefloss__fabs_d(z), uu = (double)u[j];
            /* -0 for finite inputs (adding -0 keeps signed zeros), NaN otherwise */
            double bad_in = -(z - z), bad_up = bad_in - (uu - uu);
            int pos = z >= 0.0;
            double sig = prefloss__select_d(pos, e, 1.0) / (1.0 + e);
            double l = prefloss__select_d(pos, eps, w_neg) * az + prefloss__wlog1p_unit(e, fma);
            double gz = beta * (sig - eps), gc = 0.0;
            if (centered) {                    /* a compile-time constant */
                double sum = (double)pa[j] + (double)pb[j];
                l += (center * sum) * sum;
                gc = 2.0 * center * sum;
            }
            q1[j] = (float)(l + bad_in);
            if (centered) {
                q2[j] = (float)((gc - gz) * uu + bad_up);
                q3[j] = (float)((gc + gz) * uu + bad_up);
            } else {                           /* exactly -(each other), signed zeros too */
                q2[j] = (float)(-(gz * uu) + bad_up);
                q3[j] = (float)(gz * uu + bad_up);
            }
            bad_bits |= prefloss__double_to_bits(bad_up);
        }
    }
    return prefloss__bits_has_nan_d(bad_bits);
}

/* IPO in double: y = scale*h - offset, loss = y^2, dchosen = 2 gscale y u,
 * drejected = -dchosen (the parameters as for prefloss__ipo_kernel below).
 * h = (a - c) - (b - d) comes within 2^-52 |h| (prefloss__wdiff), so y
 * within 2^-52 (|y| + 2 |offset|): relative 2^-40 wherever
 * |y| >= 2^-11 |offset|. A stage with a y below that (scale h and the
 * offset cancel) is computed again with h to ~2^-104 (prefloss__wdiff2),
 * its rounding error added after the offset, so that y keeps its digits
 * (with a fused multiply-add, or a scale whose product with h is exact).
 * The test is the top bit of bits(|y|) - bits(2^-11 |offset|), ORed over
 * the stage (an integer test: a NaN y never asks for the second pass). Outputs
 * never alias inputs (restrict), so the second pass reads what the first
 * did. */
#define PREFLOSS__IPO_WIDE_PASS(h_of, y_of, uu_of)                                            \
    for (j = 0; j < len; j++) {                                                              \
        double hl = 0.0, h = h_of, uu = uu_of; /* hl: h's low part (careful pass) */         \
        double bad_in = -(h - h), bad_up = bad_in - (uu - uu);   /* -0 or NaN */             \
        double y = y_of;                                                                     \
        double g = (gscale2 * y) * uu;                                                       \
        (void)hl;                                                                            \
        q1[j] = (float)(y * y + bad_in);                                                     \
        q2[j] = (float)(g + bad_up);                                                         \
        q3[j] = (float)(-g + bad_up);                                                        \
        bad_bits |= prefloss__double_to_bits(bad_up);                                        \
        near_bits |= prefloss__double_to_bits(prefloss__fabs_d(y)) - y_near_bits;            \
    }
/* One stage: the first pass (y from h alone), and the careful one (y from
 * h + hl) where the first found a |y| below 2^-11 |offset|. */
#define PREFLOSS__IPO_WIDE_STAGE(uu_of)                                                       \
    PREFLOSS__IPO_WIDE_PASS(prefloss__wdiff(pa[j], pc[j], pb[j], pd[j]),                      \
                            PREFLOSS__MADD_D(fma, scale, h, -offset), uu_of)                  \
    if (near_bits >> 63)                                                                     \
        PREFLOSS__IPO_WIDE_PASS(prefloss__wdiff2(pa[j], pc[j], pb[j], pd[j], &hl),            \
                                PREFLOSS__MADD_D(fma, scale, h, -offset) + scale * hl, uu_of)
PREFLOSS__INLINE int prefloss__ipo_wide(PREFLOSS__KERNEL_ARGS, int fma)
{
    float s1[PREFLOSS__STAGE], s2[PREFLOSS__STAGE], s3[PREFLOSS__STAGE];
    const double scale = (double)kp->scale, gscale2 = 2.0 * (double)kp->gscale;
    const double offset = (double)kp->offset.hi + (double)kp->offset.lo;
    /* 2^-11 |offset|, as bits: for doubles >= 0 (|y|; NaN above all) the
     * bits order as the values, so |y| < y_near sets the difference's top bit */
    const uint64_t y_near_bits = prefloss__double_to_bits(4.8828125e-4 * prefloss__fabs_d(offset));
    uint64_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    uint64_t near_bits;
    size_t i0, j, len;
    for (i0 = 0; i0 < n; i0 += len) {
        const float *pa = chosen + i0, *pb = rejected + i0, *u = PREFLOSS__IN(up, i0, prefloss__ones);
        const float *pc = PREFLOSS__IN(chosen_off, i0, prefloss__zeros);
        const float *pd = PREFLOSS__IN(rejected_off, i0, prefloss__zeros);
        float *q1 = PREFLOSS__OUT(loss, i0, s1), *q2 = PREFLOSS__OUT(dchosen, i0, s2);
        float *q3 = PREFLOSS__OUT(drejected, i0, s3);
        len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);
        near_bits = 0;
        if (up == NULL) { /* (the common call: loops without u's loads and products) */
            PREFLOSS__IPO_WIDE_STAGE(1.0)
        } else {
            PREFLOSS__IPO_WIDE_STAGE((double)u[j])
        }
    }
    return prefloss__bits_has_nan_d(bad_bits);
}
#endif

/* DPO: the loss and its gradients from the policy log-probs (chosen,
 * rejected) and the reference ones (chosen_off, rejected_off).
 * z = beta*h; g = -beta sigma(-z). */
PREFLOSS__INLINE int prefloss__dpo_kernel(PREFLOSS__KERNEL_ARGS, int fma)
{
    float zh[PREFLOSS__STAGE], zl[PREFLOSS__STAGE], bad[PREFLOSS__STAGE];
    float pp[PREFLOSS__STAGE], ee[PREFLOSS__STAGE];
    int32_t kk[PREFLOSS__STAGE];
    const float beta = kp->beta;
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i0, j, len;
#if PREFLOSS__WIDE
    return prefloss__sigmoid_wide(loss, dchosen, drejected, chosen, rejected, chosen_off, rejected_off, up,
                                  n, kp, 0, fma);
#endif
    for (i0 = 0; i0 < n; i0 += len) {
        const float *pc = chosen + i0, *pr = rejected + i0, *u = up + i0;
        const float *rc = chosen_off + i0, *rr = rejected_off + i0;
        len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);
        for (j = 0; j < len; j++) {            /* z = beta*h */
            prefloss__df z = prefloss__beta_times_diff(beta, pc[j], rc[j], pr[j], rr[j], fma);
            zh[j] = z.hi;
            zl[j] = z.lo;
            bad[j] = PREFLOSS__BAD4(pc[j], pr[j], rc[j], rr[j]);
        }
        for (j = 0; j < len; j++) {            /* exp(-|z|) = p 2^k = e */
            float ah = prefloss__fabs(zh[j]), al = prefloss__mulsign(zl[j], zh[j]);
            int32_t k;
            pp[j] = prefloss__exp_neg_parts(ah, al, &k, fma);
            kk[j] = k;
            ee[j] = prefloss__scale2(pp[j], k);
        }
        for (j = 0; j < len; j++) {            /* the gradients */
            float bad_up = bad[j] + prefloss__nan_if_nonfinite(u[j]);
            float g = -prefloss__sigmoid_neg_times(zh[j], pp[j], kk[j], ee[j], beta, u[j], fma);
            dchosen[i0 + j] = g + bad_up;
            drejected[i0 + j] = -g + bad_up;
            bad_bits |= prefloss__float_to_bits(bad_up);
        }
        for (j = 0; j < len; j++)              /* the loss */
            loss[i0 + j] = prefloss__softplus_family(zh[j], zl[j], ee[j], 0.0f, fma) + bad[j];
    }
    return prefloss__bits_has_nan(bad_bits);
}
PREFLOSS__VARIANTS(prefloss__dpo_kernel)

/* cDPO (DPO with eps > 0): the gradient needs sigma(-z) - eps accurately. */
PREFLOSS__INLINE int prefloss__cdpo_kernel(PREFLOSS__KERNEL_ARGS, int fma)
{
    float zh[PREFLOSS__STAGE], zl[PREFLOSS__STAGE], bad[PREFLOSS__STAGE];
    float eh[PREFLOSS__STAGE], el[PREFLOSS__STAGE];
    const float beta = kp->beta, eps = kp->eps;
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i0, j, len;
#if PREFLOSS__WIDE
    return prefloss__sigmoid_wide(loss, dchosen, drejected, chosen, rejected, chosen_off, rejected_off, up,
                                  n, kp, 0, fma);
#endif
    for (i0 = 0; i0 < n; i0 += len) {
        const float *pc = chosen + i0, *pr = rejected + i0, *u = up + i0;
        const float *rc = chosen_off + i0, *rr = rejected_off + i0;
        len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);
        for (j = 0; j < len; j++) {            /* z = beta*h */
            prefloss__df z = prefloss__beta_times_diff(beta, pc[j], rc[j], pr[j], rr[j], fma);
            zh[j] = z.hi;
            zl[j] = z.lo;
            bad[j] = PREFLOSS__BAD4(pc[j], pr[j], rc[j], rr[j]);
        }
        for (j = 0; j < len; j++) {            /* exp(-|z|) */
            float ah = prefloss__fabs(zh[j]), al = prefloss__mulsign(zl[j], zh[j]);
            prefloss__df e = prefloss__exp_neg_df(ah, al, fma);
            eh[j] = e.hi;
            el[j] = e.lo;
        }
        for (j = 0; j < len; j++) {            /* the gradients */
            float bad_up = bad[j] + prefloss__nan_if_nonfinite(u[j]);
            prefloss__df sig = prefloss__sigmoid_neg_df(zh[j], prefloss__df_make(eh[j], el[j]), fma);
            float s = prefloss__df_sub_round(sig, prefloss__df_make(eps, 0.0f));
            float g = -(beta * s) * u[j];
            dchosen[i0 + j] = g + bad_up;
            drejected[i0 + j] = -g + bad_up;
            bad_bits |= prefloss__float_to_bits(bad_up);
        }
        for (j = 0; j < len; j++)              /* the loss */
            loss[i0 + j] = prefloss__softplus_family(zh[j], zl[j], eh[j], eps, fma) + bad[j];
    }
    return prefloss__bits_has_nan(bad_bits);
}
#if PREFLOSS__WIDE
/* In double, cDPO runs DPO's kernel (prefloss__sigmoid_wide reads eps):
 * compiled once, not twice. */
#  define prefloss__cdpo_kernel_base prefloss__dpo_kernel_base
#  define prefloss__cdpo_kernel_fma prefloss__dpo_kernel_fma
#else
PREFLOSS__VARIANTS(prefloss__cdpo_kernel)
#endif

/* IPO, general form: y = scale*h - offset, loss = y^2, g = 2 gscale y
 * (scale = beta, offset = (alpha2 - alpha1)/2, gscale = beta; the factor 2
 * is applied to the rounded product, exactly, so that 2 beta never
 * overflows on its own).
 * The TRL form is the same with scale = 1, offset = 1/(2 beta): both
 * pass the offset as a double-float and the slope of g separately. */
PREFLOSS__INLINE int prefloss__ipo_kernel(PREFLOSS__KERNEL_ARGS, int fma)
{
    float yh[PREFLOSS__STAGE], yl[PREFLOSS__STAGE], us[PREFLOSS__STAGE], bad[PREFLOSS__STAGE];
    const float scale = kp->scale, gscale = kp->gscale;
    const prefloss__df neg_offset = prefloss__df_make(-kp->offset.hi, -kp->offset.lo);
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i0, j, len;
#if PREFLOSS__WIDE
    return prefloss__ipo_wide(loss, dchosen, drejected, chosen, rejected, chosen_off, rejected_off, up,
                              n, kp, fma);
#endif
    for (i0 = 0; i0 < n; i0 += len) {
        const float *pc = chosen + i0, *pr = rejected + i0, *u = up + i0;
        const float *rc = chosen_off + i0, *rr = rejected_off + i0;
        len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);
        /* everything in the pre-scaled domain (h/s, y/s), unscaled at the
         * end, so that only a result beyond the float range overflows */
        for (j = 0; j < len; j++) {            /* y/s = scale*(h/s) - offset/s */
            float s;
            prefloss__df h = prefloss__diff_of_diffs_scaled(pc[j], rc[j], pr[j], rr[j], &s);
            float inv_s = prefloss__select(s > 1.0f, 0.25f, 1.0f);
            prefloss__df y = prefloss__df_add(prefloss__df_mul_f(h, scale, fma),
                                              prefloss__df_make(neg_offset.hi * inv_s,
                                                                neg_offset.lo * inv_s));
            yh[j] = y.hi;
            yl[j] = prefloss__lo_if_finite(y.hi, y.lo);
            us[j] = s;
            bad[j] = PREFLOSS__BAD4(pc[j], pr[j], rc[j], rr[j]);
        }
        for (j = 0; j < len; j++) {            /* y^2 and g = 2*gscale*y, then unscaled */
            prefloss__df y = prefloss__df_make(yh[j], yl[j]);
            prefloss__df y2 = prefloss__two_prod(y.hi, y.hi, fma);  /* y^2 = yh^2 + 2 yh yl */
            float bad_up = bad[j] + prefloss__nan_if_nonfinite(u[j]);
            float g = prefloss__times_up(2.0f * prefloss__df_round(prefloss__df_mul_f(y, gscale, fma)) * us[j],
                                         u[j]);
            /* y^2 overflowed: the correction (itself possibly +-inf) is dropped */
            float l = y2.hi + prefloss__lo_if_finite(y2.hi, y2.lo + 2.0f * y.hi * y.lo);
            loss[i0 + j] = (l * us[j]) * us[j] + bad[j];
            dchosen[i0 + j] = g + bad_up;
            drejected[i0 + j] = -g + bad_up;
            bad_bits |= prefloss__float_to_bits(bad_up);
        }
    }
    return prefloss__bits_has_nan(bad_bits);
}
PREFLOSS__VARIANTS(prefloss__ipo_kernel)


/* Bradley–Terry with reward centering c > 0:
 *   loss = softplus(-x) + c (sw + sl)^2,
 *   dloss/dsw = -(sigma(-x) - 2c(sw + sl)), dloss/dsl = sigma(-x) + 2c(sw + sl).
 * The two terms of a gradient can cancel, so sigma(-x) and 2c(sw + sl) are
 * both formed in double-float before they are added. */
PREFLOSS__INLINE int prefloss__bt_centered_kernel(PREFLOSS__KERNEL_ARGS, int fma)
{
    float xh[PREFLOSS__STAGE], xl[PREFLOSS__STAGE], bad[PREFLOSS__STAGE];
    float eh[PREFLOSS__STAGE], el[PREFLOSS__STAGE], sr[PREFLOSS__STAGE];
    const float center = kp->center;
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i0, j, len;
#if PREFLOSS__WIDE
    return prefloss__sigmoid_wide(loss, dchosen, drejected, chosen, rejected, chosen_off, rejected_off, up,
                                  n, kp, 1, fma);
#endif
    (void)rejected_off;
    for (i0 = 0; i0 < n; i0 += len) {
        const float *sw = chosen + i0, *sl = rejected + i0, *m = chosen_off + i0, *u = up + i0;
        len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);
        for (j = 0; j < len; j++) {            /* x = sw - sl - m */
            prefloss__df x = prefloss__diff3(sw[j], sl[j], m[j]);
            xh[j] = x.hi;
            xl[j] = x.lo;
            bad[j] = PREFLOSS__BAD4(sw[j], sl[j], m[j], 0.0f);
        }
        for (j = 0; j < len; j++) {            /* exp(-|x|) */
            float ah = prefloss__fabs(xh[j]), al = prefloss__mulsign(xl[j], xh[j]);
            prefloss__df e = prefloss__exp_neg_df(ah, al, fma);
            eh[j] = e.hi;
            el[j] = e.lo;
        }
        for (j = 0; j < len; j++) {            /* the gradients */
            float bad_up = bad[j] + prefloss__nan_if_nonfinite(u[j]);
            prefloss__df sig = prefloss__sigmoid_neg_df(xh[j], prefloss__df_make(eh[j], el[j]), fma);
            /* sw + sl, pre-scaled like h so that no intermediate overflows;
             * 2c(sw + sl) as c(sw + sl) doubled exactly, so that 2c never
             * overflows */
            float s, gw, gl;
            prefloss__df sum = prefloss__diff_of_diffs_scaled(sw[j], -sl[j], 0.0f, 0.0f, &s);
            prefloss__df cgrad = prefloss__df_unscale(prefloss__df_mul_f(sum, center, fma), 2.0f * s);
            sr[j] = prefloss__df_round(prefloss__df_unscale(sum, s));
            gw = -prefloss__df_sub_round(sig, cgrad);
            gl = prefloss__df_sub_round(sig, prefloss__df_make(-cgrad.hi, -cgrad.lo));
            dchosen[i0 + j] = prefloss__times_up(gw, u[j]) + bad_up;
            drejected[i0 + j] = prefloss__times_up(gl, u[j]) + bad_up;
            bad_bits |= prefloss__float_to_bits(bad_up);
        }
        for (j = 0; j < len; j++) {            /* the loss */
            float sumr = prefloss__fabs(sr[j]);
            loss[i0 + j] = prefloss__softplus_family(xh[j], xl[j], eh[j], 0.0f, fma)
                       + (center * sumr) * sumr + bad[j];
        }
    }
    return prefloss__bits_has_nan(bad_bits);
}
PREFLOSS__VARIANTS(prefloss__bt_centered_kernel)

/* Rewards: beta*uc, beta*ur, beta*h, [h > 0]. */
PREFLOSS__KERNEL(int, prefloss__rewards_kernel,
                 (float *PREFLOSS__RESTRICT rw_c, float *PREFLOSS__RESTRICT rw_r,
                  float *PREFLOSS__RESTRICT margin, float *PREFLOSS__RESTRICT acc,
                  const float *PREFLOSS__RESTRICT pc, const float *PREFLOSS__RESTRICT pr,
                  const float *PREFLOSS__RESTRICT rc, const float *PREFLOSS__RESTRICT rr,
                  size_t n, float beta),
                 (rw_c, rw_r, margin, acc, pc, pr, rc, rr, n, beta))
{
    uint32_t bad_bits = 0; /* the OR of every bad (prefloss__bits_has_nan) */
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = prefloss__nan_if_nonfinite(pc[i]) + prefloss__nan_if_nonfinite(pr[i])
                  + prefloss__nan_if_nonfinite(rc[i]) + prefloss__nan_if_nonfinite(rr[i]);
        /* accuracy: uc > ur exactly. Each TwoSum is exact and its (sum, error)
         * pair is unique, so comparing the pairs compares the exact values.
         * Only where a difference overflowed (every input huge, where nothing
         * tiny can matter) the sign of the pre-scaled h decides. */
        prefloss__df uc = prefloss__two_sum(pc[i], -rc[i]), ur = prefloss__two_sum(pr[i], -rr[i]);
        int exact_ok = (int)(prefloss__fabs(uc.hi) <= FLT_MAX) & (int)(prefloss__fabs(ur.hi) <= FLT_MAX)
                     & (int)(uc.lo - uc.lo == 0.0f) & (int)(ur.lo - ur.lo == 0.0f);
        int above = (int)(uc.hi > ur.hi) | ((int)(uc.hi == ur.hi) & (int)(uc.lo > ur.lo));
        prefloss__df h = prefloss__diff_of_diffs(pc[i], rc[i], pr[i], rr[i]);
        /* exact_ok ? above : h > 0, as integer arithmetic (no branch: the loop vectorises) */
        int win = (exact_ok & above) | ((1 - exact_ok) & (int)(h.hi > 0.0f));
        rw_c[i] = prefloss__df_round(prefloss__beta_times_diff(beta, pc[i], rc[i], 0.0f, 0.0f, 0)) + bad;
        rw_r[i] = prefloss__df_round(prefloss__beta_times_diff(beta, pr[i], rr[i], 0.0f, 0.0f, 0)) + bad;
        margin[i] = prefloss__df_round(prefloss__beta_times_diff(beta, pc[i], rc[i], pr[i], rr[i], 0)) + bad;
        acc[i] = prefloss__select(win, 1.0f, 0.0f) + bad;
        bad_bits |= prefloss__float_to_bits(bad);
    }
    return prefloss__bits_has_nan(bad_bits);
}

/* ------------------------------------------------------------------------ */

/* ==== lib/validate.c ==== */
/* Argument validation: everything is checked before anything is written    */
/* ------------------------------------------------------------------------ */


/* A byte range [p, p + bytes). */
typedef struct prefloss__range { const void *p; size_t bytes; } prefloss__range;

static int prefloss__ranges_overlap(prefloss__range a, prefloss__range b)
{
    uintptr_t a0 = (uintptr_t)a.p, b0 = (uintptr_t)b.p;
    if (a.p == NULL || b.p == NULL || a.bytes == 0 || b.bytes == 0) return 0;
    return a0 < b0 + b.bytes && b0 < a0 + a.bytes;
}

/* Whether the rounding mode is round-to-nearest: 1 + 2^-26 and 1 - 2^-26
 * round to 1 only then (upward gives 1 + 2^-23, downward and toward zero
 * 1 - 2^-24). The operands are read through volatile so the sums happen at
 * run time, in the caller's mode. The error-free transformations (TwoSum,
 * TwoProd) hold only under round-to-nearest. */
static int prefloss__rounding_ok(void)
{
    volatile float one = 1.0f, tiny = 1.490116119384765625e-8f; /* 2^-26 */
    float up = one + tiny, down = one - tiny;
    return up == 1.0f && down == 1.0f;
}

/* PREFLOSS_ERR_OVERLAP if any output overlaps an input or another output;
 * then PREFLOSS_ERR_ROUNDING if the rounding mode is not to-nearest (every
 * entry point that computes passes here after its other checks). */
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
    return prefloss__rounding_ok() ? PREFLOSS_OK : PREFLOSS_ERR_ROUNDING;
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

/* ==== lib/drivers.c ==== */
/* Chunked drivers: substitute defaults for NULL pointers, chunk by chunk   */
/* ------------------------------------------------------------------------ */

/* The pointer for elements [i, i + len) of an optional input, or a block of
 * defaults. */

/* How many elements from i the next kernel call may take. */
static size_t prefloss__step(size_t n, size_t i, int input_default, int output_scratch)
{
    size_t len = n - i;
    if (input_default && len > PREFLOSS__CHUNK) len = PREFLOSS__CHUNK;
    if (output_scratch && len > PREFLOSS__SCRATCH) len = PREFLOSS__SCRATCH;
    return len;
}

/* Runs a loss kernel over [0, n). c may be NULL (zeros), d may be NULL
 * (zeros; for Bradley–Terry, which never reads d, it is always NULL) and
 * dlosses may be NULL (ones). */
static PREFLOSS_KERNEL_ATTR int prefloss__run_pairwise(prefloss__kernel_fn kernel, const prefloss__kparams *kp,
                                  float *losses, float *dchosen, float *drejected,
                                  const float *a, const float *b,
                                  const float *c, const float *d,
                                  const float *dlosses, size_t n)
{
#if PREFLOSS__WIDE
    /* the wide kernels take the NULLs themselves, in one call */
    return kernel(losses, dchosen, drejected, a, b, c, d, dlosses, n, kp) ? PREFLOSS_NONFINITE
                                                                          : PREFLOSS_OK;
#else
    float s_loss[PREFLOSS__SCRATCH], s_dc[PREFLOSS__SCRATCH], s_dr[PREFLOSS__SCRATCH];
    int bad = 0;
    int in_dflt = c == NULL || d == NULL || dlosses == NULL;
    int out_scr = losses == NULL || dchosen == NULL || drejected == NULL;
    size_t i, len;
    for (i = 0; i < n; i += len) {
        len = prefloss__step(n, i, in_dflt, out_scr);
        bad |= kernel(PREFLOSS__OUT(losses, i, s_loss), PREFLOSS__OUT(dchosen, i, s_dc),
                      PREFLOSS__OUT(drejected, i, s_dr), a + i, b + i,
                      PREFLOSS__IN(c, i, prefloss__zeros), PREFLOSS__IN(d, i, prefloss__zeros),
                      PREFLOSS__IN(dlosses, i, prefloss__ones), len, kp);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
#endif
}

/* ------------------------------------------------------------------------ */

/* ==== lib/core.c ==== */
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
    case PREFLOSS_ERR_ROUNDING: return "the floating-point rounding mode is not round-to-nearest";
    case PREFLOSS_ERR_UNSUPPORTED: return "this function's family was left out of this build";
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
    case PREFLOSS_ERR_ROUNDING: return "PREFLOSS_ERR_ROUNDING";
    case PREFLOSS_ERR_UNSUPPORTED: return "PREFLOSS_ERR_UNSUPPORTED";
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
    {
        int fma = prefloss__cpu_fma();
        prefloss__kparams kp = prefloss__kparams_zero();
        kp.beta = beta;
        kp.eps = label_smoothing;
        return prefloss__run_pairwise(label_smoothing > 0.0f ? PREFLOSS__PICK(prefloss__cdpo_kernel, fma)
                                                             : PREFLOSS__PICK(prefloss__dpo_kernel, fma),
                                      &kp, losses, dchosen, drejected, policy_chosen,
                                      policy_rejected, ref_chosen, ref_rejected, dlosses, n);
    }
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
        prefloss__df p = prefloss__two_prod(c, beta, 0);
        offset = prefloss__df_make(c, (((0.5f - p.hi) - p.lo) / beta));
    }
    {
        prefloss__kparams kp = prefloss__kparams_zero();
        kp.scale = 1.0f;
        kp.offset = offset;
        kp.gscale = 1.0f;
        return prefloss__run_pairwise(PREFLOSS__PICK(prefloss__ipo_kernel, prefloss__cpu_fma()),
                                      &kp, losses, dchosen, drejected, policy_chosen,
                                      policy_rejected, ref_chosen, ref_rejected, dlosses, n);
    }
}

PREFLOSS_API int prefloss_ipo_general_loss(float *losses, float *dchosen, float *drejected,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen, const float *ref_rejected,
                                           const float *dlosses, size_t n, float beta,
                                           float alpha1, float alpha2)
{
    int st;
    prefloss__df half_width;
    if (!prefloss__beta_ok(beta) || !prefloss__finite(alpha1) || !prefloss__finite(alpha2)
        || !(alpha1 <= alpha2) || !prefloss__finite(alpha2 - alpha1))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st != PREFLOSS_OK) return st;
    /* (alpha2 - alpha1)/2 exactly: only the exact difference enters the loss */
    half_width = prefloss__two_sum(alpha2, -alpha1);
    half_width.hi *= 0.5f;
    half_width.lo *= 0.5f;
    {
        prefloss__kparams kp = prefloss__kparams_zero();
        kp.scale = beta;
        kp.offset = half_width;
        kp.gscale = beta;
        return prefloss__run_pairwise(PREFLOSS__PICK(prefloss__ipo_kernel, prefloss__cpu_fma()),
                                      &kp, losses, dchosen, drejected, policy_chosen,
                                      policy_rejected, ref_chosen, ref_rejected, dlosses, n);
    }
}

PREFLOSS_API int prefloss_bt_loss(float *losses, float *dscore_chosen, float *dscore_rejected,
                                  const float *score_chosen, const float *score_rejected,
                                  const float *margins, const float *dlosses, size_t n,
                                  float center_coef)
{
    int st, fma;
    prefloss__kparams kp = prefloss__kparams_zero();
    if (!(center_coef >= 0.0f && center_coef <= FLT_MAX)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dscore_chosen, dscore_rejected, NULL,
                                  score_chosen, score_rejected, margins, NULL, dlosses, 0);
    if (st != PREFLOSS_OK) return st;
    fma = prefloss__cpu_fma();
    kp.beta = 1.0f;
    if (center_coef > 0.0f) {
        kp.center = center_coef;
        return prefloss__run_pairwise(PREFLOSS__PICK(prefloss__bt_centered_kernel, fma), &kp,
                                      losses, dscore_chosen, dscore_rejected, score_chosen,
                                      score_rejected, margins, NULL, dlosses, n);
    }
    /* without centering it is DPO's loss with beta = 1 on
     * (pc, rc, pr, rr) = (sw, m, sl, 0): (sw - m) - (sl - 0) = sw - sl - m,
     * and DPO's gradients (g, -g) are dloss/dsw and dloss/dsl */
    return prefloss__run_pairwise(PREFLOSS__PICK(prefloss__dpo_kernel, fma), &kp, losses,
                                  dscore_chosen, dscore_rejected, score_chosen, score_rejected,
                                  margins, NULL, dlosses, n);
}

PREFLOSS_API int prefloss_rewards(float *chosen_rewards, float *rejected_rewards,
                                  float *margins, float *accuracies,
                                  const float *policy_chosen, const float *policy_rejected,
                                  const float *ref_chosen, const float *ref_rejected,
                                  size_t n, float beta)
{
    float s0[PREFLOSS__SCRATCH], s1[PREFLOSS__SCRATCH], s2[PREFLOSS__SCRATCH], s3[PREFLOSS__SCRATCH];
    int st, bad = 0;
    size_t i, len;
    if (!prefloss__beta_ok(beta)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, chosen_rewards, rejected_rewards, margins, accuracies,
                                  policy_chosen, policy_rejected, ref_chosen, ref_rejected,
                                  NULL, 1);
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += len) {
        len = prefloss__step(n, i, ref_chosen == NULL,
                             chosen_rewards == NULL || rejected_rewards == NULL
                             || margins == NULL || accuracies == NULL);
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

/* ==== lib/sequence.c ==== */
/* Sequence log-probs                                                       */
/* ------------------------------------------------------------------------ */

/* Lanes of the compensated token sum: independent accumulators let the
 * compiler vectorise the loop without reassociating anything. */
#define PREFLOSS__LANES 32

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
    if (batch > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE; /* the (batch) buffer */
    if (seq_len != 0 && batch > SIZE_MAX / sizeof(float) / seq_len) return PREFLOSS_ERR_SIZE;
    tokens = batch * seq_len;
    if ((out == NULL && out_n > 0) || (in == NULL && in_n > 0)) return PREFLOSS_ERR_NULL;
    o[0].p = out; o[0].bytes = out_n * sizeof(float);
    i[0].p = in; i[0].bytes = in_n * sizeof(float);
    i[1].p = mask; i[1].bytes = mask != NULL ? tokens : 0;
    return prefloss__check_overlap(o, 1, i, 2);
}

/* The running state of a compensated token sum: per lane a TwoSum running
 * sum s and the sum c of its exact rounding errors, a count, and x - x
 * accumulated (NaN once a counted token was not finite). */
typedef struct prefloss__token_acc {
    float s[PREFLOSS__LANES], c[PREFLOSS__LANES], nf[PREFLOSS__LANES];
    uint32_t cnt[PREFLOSS__LANES], mag[PREFLOSS__LANES]; /* mag: largest |token| bits */
} prefloss__token_acc;

/* Tokens per block: lane counts are folded into a size_t after each block,
 * so the 32-bit lane counters never overflow. */
#define PREFLOSS__BLOCK ((size_t)1 << 24)

/* Adds t[0..len) (len a multiple of PREFLOSS__LANES) to the lanes. masked
 * is a constant at each call site, so the test disappears from the loop. */
PREFLOSS__INLINE void prefloss__token_block(prefloss__token_acc *PREFLOSS__RESTRICT a,
                                            const float *PREFLOSS__RESTRICT t,
                                            const unsigned char *PREFLOSS__RESTRICT m,
                                            size_t len, int masked)
{
    /* the lanes live in locals during the loop, so they stay in registers */
    float s[PREFLOSS__LANES], c[PREFLOSS__LANES], nf[PREFLOSS__LANES];
    uint32_t cnt[PREFLOSS__LANES], mag[PREFLOSS__LANES];
    size_t j, k;
    for (k = 0; k < PREFLOSS__LANES; k++) {
        s[k] = a->s[k]; c[k] = a->c[k]; nf[k] = a->nf[k]; cnt[k] = a->cnt[k]; mag[k] = a->mag[k];
    }
    for (j = 0; j < len; j += PREFLOSS__LANES) {
        for (k = 0; k < PREFLOSS__LANES; k++) {
            int on = masked ? m[j + k] != 0 : 1;
            /* a masked token is read but never enters the sum */
            float v = prefloss__select(on, t[j + k], 0.0f);
            float sum = s[k] + v;                 /* TwoSum(s, v), inlined */
            float bv = sum - s[k];
            c[k] += (s[k] - (sum - bv)) + (v - bv);
            s[k] = sum;
            nf[k] += v - v;
            cnt[k] += (uint32_t)on;
            {
                uint32_t vb = prefloss__float_to_bits(v) & 0x7fffffffu;
                mag[k] = vb > mag[k] ? vb : mag[k];
            }
        }
    }
    for (k = 0; k < PREFLOSS__LANES; k++) {
        a->s[k] = s[k]; a->c[k] = c[k]; a->nf[k] = nf[k]; a->cnt[k] = cnt[k]; a->mag[k] = mag[k];
    }
}

/* One row: the compensated sum of its counted tokens (m == NULL: all),
 * their count, and whether a counted token was not finite. */
/* (Built once even where the loss kernels are dispatched: there, on
 * x86-64, only prefloss_sequence_logps_ld uses it; make bench does not
 * time that entry.) */
PREFLOSS_KERNEL_ATTR static prefloss__df prefloss__row_sum(const float *t, const unsigned char *m, size_t len,
                                      size_t *count, int *bad, int *huge)
{
    prefloss__token_acc a;
    prefloss__df acc = prefloss__df_make(0.0f, 0.0f);
    float nonfinite = 0.0f;
    uint32_t mag = 0;
    size_t j = 0, k, total = 0, body = len - len % PREFLOSS__LANES;
    for (k = 0; k < PREFLOSS__LANES; k++) {
        a.s[k] = a.c[k] = a.nf[k] = 0.0f;
        a.cnt[k] = a.mag[k] = 0;
    }
    while (j < body) {
        size_t blk = body - j < PREFLOSS__BLOCK ? body - j : PREFLOSS__BLOCK;
        if (m != NULL) prefloss__token_block(&a, t + j, m + j, blk, 1);
        else prefloss__token_block(&a, t + j, NULL, blk, 0);
        for (k = 0; k < PREFLOSS__LANES; k++) { total += a.cnt[k]; a.cnt[k] = 0; }
        j += blk;
    }
    for (; j < len; j++) {
        int on = m == NULL || m[j] != 0;
        float v = prefloss__select(on, t[j], 0.0f);
        uint32_t vb = prefloss__float_to_bits(v) & 0x7fffffffu;
        acc = prefloss__df_add_f(acc, v);
        nonfinite += v - v;
        mag = vb > mag ? vb : mag;
        total += (size_t)on;
    }
    for (k = 0; k < PREFLOSS__LANES; k++) {
        acc = prefloss__df_add(acc, prefloss__fast_two_sum(a.s[k], a.c[k]));
        nonfinite += a.nf[k];
        mag = a.mag[k] > mag ? a.mag[k] : mag;
    }
    *count = total;
    *bad = nonfinite != 0.0f;
    *huge = mag >= PREFLOSS__BIG_BITS;
    return acc;
}

/* Slow path for a row with a token of magnitude >= 2^125, where a partial
 * sum, or TwoSum's intermediate, can overflow although every counted token is
 * finite: tokens of magnitude >= 2^64 are summed scaled by 2^-64 (exactly),
 * the others unscaled (no partial sum can overflow), and the two parts are
 * combined in double-float, after the division by the count for the mean.
 * The result overflows only when the exact value does. Scalar: it runs only
 * for such rows. */
static PREFLOSS_KERNEL_ATTR float prefloss__row_value_wide(const float *t, const unsigned char *m, size_t len,
                                      size_t count, int reduction)
{
    const float down = 5.42101086242752217e-20f; /* 2^-64 */
    const float up = 18446744073709551616.0f;    /* 2^64 */
    prefloss__df big = prefloss__df_make(0.0f, 0.0f), small = big;
    float d = 1.0f;
    size_t j;
    for (j = 0; j < len; j++) {
        float v;
        if (m != NULL && m[j] == 0) continue;
        v = t[j];
        if (prefloss__fabs(v) >= up) big = prefloss__df_add_f(big, v * down);
        else small = prefloss__df_add_f(small, v);
    }
    if (reduction == PREFLOSS_REDUCE_MEAN) {
        if (count == 0) return 0.0f;
        d = (float)count;
    }
    /* (big 2^64 + small) / d in double-float; big 2^64 is +-inf only if the value is */
    big = prefloss__df_unscale(prefloss__df_div_f(big, d, 0), up);
    small = prefloss__df_div_f(small, d, 0);
    return prefloss__df_round(prefloss__df_add(big, small));
}

#if PREFLOSS__WIDE
/* Where double is at full speed (see "Wide evaluation") a row is summed in
 * double instead: a float converts exactly, no partial sum of floats can
 * overflow a double, and the rounding error, at most (len/lanes) 2^-53 of
 * the sum of |tokens| per lane, stays far below the float result's
 * half-ulp for any realistic row (2^28 tokens would be needed to reach it).
 * A non-finite counted token makes the sum non-finite, and only then. */
#define PREFLOSS__WLANES 16
#define PREFLOSS__WCHUNK 256

/* Adds the counted tokens of t[0..len) to the lanes' sums and returns their
 * count; masked is a constant at each call site. Each chunk is first
 * selected into a float buffer (a masked token is read, never added),
 * zero-padded to whole lanes, then widened and added lane by lane: two
 * simple loops the compiler vectorises. */
PREFLOSS__INLINE uint32_t prefloss__token_chunk_wide(double *PREFLOSS__RESTRICT s,
                                                     float *PREFLOSS__RESTRICT v,
                                                     const float *PREFLOSS__RESTRICT t,
                                                     const unsigned char *PREFLOSS__RESTRICT m,
                                                     size_t n, int masked)
{
    size_t j, k, padded = (n + PREFLOSS__WLANES - 1) / PREFLOSS__WLANES * PREFLOSS__WLANES;
    uint32_t c = 0;
    for (j = 0; j < n; j++) {
        uint32_t on = masked ? (uint32_t)(m[j] != 0) : 1u;
        v[j] = prefloss__bits_to_float(prefloss__float_to_bits(t[j]) & (0u - on));
        c += on;
    }
    for (; j < padded; j++) v[j] = 0.0f;
    for (j = 0; j < padded; j += PREFLOSS__WLANES)
        for (k = 0; k < PREFLOSS__WLANES; k++) s[k] += (double)v[j + k];
    return c;
}

/* Adds the counted tokens of t[0..len) to the lanes' sums and returns their
 * count; masked is a constant at each call site. Each chunk is first
 * selected into a float buffer (a masked token is read, never added),
 * zero-padded to whole lanes, then widened and added lane by lane: two
 * simple loops the compiler vectorises (full chunks with a constant length). */
PREFLOSS__INLINE size_t prefloss__token_sum_wide(double *PREFLOSS__RESTRICT sum,
                                                 const float *PREFLOSS__RESTRICT t,
                                                 const unsigned char *PREFLOSS__RESTRICT m,
                                                 size_t len, int masked)
{
    float v[PREFLOSS__WCHUNK];
    double s[PREFLOSS__WLANES];
    size_t i0, k, count = 0, full = len - len % PREFLOSS__WCHUNK;
    for (k = 0; k < PREFLOSS__WLANES; k++) s[k] = sum[k];
    for (i0 = 0; i0 < full; i0 += PREFLOSS__WCHUNK)
        count += prefloss__token_chunk_wide(s, v, t + i0, masked ? m + i0 : NULL,
                                            PREFLOSS__WCHUNK, masked);
    if (full < len)
        count += prefloss__token_chunk_wide(s, v, t + full, masked ? m + full : NULL,
                                            len - full, masked);
    for (k = 0; k < PREFLOSS__WLANES; k++) sum[k] = s[k];
    return count;
}

/* One row: the sum of its counted tokens (m == NULL: all) and their count.
 * (Dispatched: its AVX2 build ran 1.65x the baseline's in make bench.) */
PREFLOSS__KERNEL(double, prefloss__row_sum_wide,
                 (const float *t, const unsigned char *m, size_t len, double *count),
                 (t, m, len, count))
{
    double sum[PREFLOSS__WLANES], total = 0.0;
    size_t k, n;
    for (k = 0; k < PREFLOSS__WLANES; k++) sum[k] = 0.0;
    if (m != NULL) n = prefloss__token_sum_wide(sum, t, m, len, 1);
    else n = prefloss__token_sum_wide(sum, t, NULL, len, 0);
    for (k = 0; k < PREFLOSS__WLANES; k++) total += sum[k];
    *count = (double)n;
    return total;
}
#endif

PREFLOSS_API int prefloss_sequence_logps(float *seq_logps, const float *token_logps,
                                         const unsigned char *mask, size_t batch,
                                         size_t seq_len, int reduction)
{
    int st, any_bad = 0;
    size_t b;
    st = prefloss__check_sequence(seq_logps, batch, token_logps, batch * seq_len, mask,
                                  batch, seq_len, reduction);
    if (st != PREFLOSS_OK || batch == 0) return st;
    if (seq_len == 0) { /* empty rows (token_logps may be NULL: no pointer arithmetic) */
        for (b = 0; b < batch; b++) seq_logps[b] = 0.0f;
        return PREFLOSS_OK;
    }
#if PREFLOSS__WIDE
    for (b = 0; b < batch; b++) {
        double count, sum = prefloss__row_sum_wide(token_logps + b * seq_len,
                                                   mask != NULL ? mask + b * seq_len : NULL,
                                                   seq_len, &count);
        double value = reduction == PREFLOSS_REDUCE_MEAN ? sum / (count > 0.0 ? count : 1.0) : sum;
        int bad = sum - sum != 0.0;
        seq_logps[b] = bad ? prefloss__nan() : (float)value;
        any_bad |= bad;
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
#endif
    for (b = 0; b < batch; b++) {
        size_t count;
        int bad;
        int huge;
        prefloss__df sum = prefloss__row_sum(token_logps + b * seq_len,
                                             mask != NULL ? mask + b * seq_len : NULL,
                                             seq_len, &count, &bad, &huge);
        float value;
        if (reduction == PREFLOSS_REDUCE_MEAN) {
            /* sum / count: one rounding (plus a tiny correction error) */
            value = count > 0 ? prefloss__df_round(prefloss__df_div_f(sum, (float)count, 0)) : 0.0f;
        } else {
            value = prefloss__df_round(sum);
        }
        if (!bad && (huge || !prefloss__finite(value)))
            value = prefloss__row_value_wide(token_logps + b * seq_len,
                                             mask != NULL ? mask + b * seq_len : NULL,
                                             seq_len, count, reduction);
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
    if (seq_len == 0) { /* no token to write; the status still reports dseq */
        for (b = 0; b < batch; b++) any_bad |= !prefloss__finite(dseq_logps[b]);
        return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
    }
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
        else for (j = 0; j < seq_len; j++) dt[j] = prefloss__select(m[j] != 0, g, 0.0f);
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* ------------------------------------------------------------------------ */

/* ==== lib/scaled.c ==== */
/* Scaled gradients: values that would underflow before the upstream
 * gradient and the weights bring them back are carried times 2^64 or 2^128
 * (the "level" lvl = 1 or 2) and unscaled once, after the last product.
 * The sd_ helpers compute such values; prefloss__scaled_* form exact
 * products and sums of many factors without overflow or underflow. */

/* ---- The derivative of the sigmoid, for exo_pair's and APO's gradients --- */

/* sigma'(x) = sigma(x) sigma(-x) = e/(1 + e)^2 with e = exp(-|x|) is below
 * 2^-92 for |x| >= 64 and subnormal beyond |x| ~ 87, where a gradient
 * beta sigma'(x) times an upstream gradient and a weight can still be a
 * normal float. So there it is computed times 2^(64 lvl), lvl = 1 for
 * |x| >= 64 and 2 for |x| >= 128 (prefloss__sd_level), and the kernel
 * (PREFLOSS__CATALOGUE_KERNEL_K) applies 2^(-64 lvl) after the product with
 * the upstream gradient, rounding once. 2^64 e^-64 = E64_HI + E64_LO,
 * 2^128 e^-128 = E128_HI + E128_LO. */
#define PREFLOSS__E64_HI 2.95850899e-09f
#define PREFLOSS__E64_LO -8.92869275e-17f
#define PREFLOSS__E128_HI 8.75277526e-18f
#define PREFLOSS__E128_LO -3.20393071e-25f

PREFLOSS__INLINE int prefloss__sd_level(float x)
{
    float ax = prefloss__fabs(x);
    return (int)(ax >= 64.0f) + (int)(ax >= 128.0f);
}

/* x / y for double-floats, y > 0: one correction from the exact remainder. */
PREFLOSS__INLINE prefloss__df prefloss__sd_div(prefloss__df x, prefloss__df y)
{
    float q0 = x.hi / y.hi;
    prefloss__df p = prefloss__two_prod(q0, y.hi, 0);
    float q1 = (((x.hi - p.hi) - p.lo) + x.lo - q0 * y.lo) / y.hi;
    return prefloss__fast_two_sum(q0, q1);
}

PREFLOSS__INLINE prefloss__df prefloss__sd_select(int c, prefloss__df x, prefloss__df y)
{
    return prefloss__df_make(prefloss__select(c, x.hi, y.hi), prefloss__select(c, x.lo, y.lo));
}

/* exp(-(ah + al)) for ah >= 0 as a double-float (relative error ~2^-32),
 * times 2^(64 lvl) (callers pass lvl > 0 only for ah >= 64 lvl; ah - 64 lvl
 * is then exact). */
PREFLOSS__INLINE prefloss__df prefloss__sd_exp(float ah, float al, int lvl)
{
    int l1 = lvl == 1, l2 = lvl == 2;
    float ar = prefloss__select(l2, ah - 128.0f, prefloss__select(l1, ah - 64.0f, ah));
    prefloss__df e = prefloss__exp_neg_df(ar, al, 0);
    return prefloss__df_mul(e, prefloss__df_make(
        prefloss__select(l2, PREFLOSS__E128_HI, prefloss__select(l1, PREFLOSS__E64_HI, 1.0f)),
        prefloss__select(l2, PREFLOSS__E128_LO, prefloss__select(l1, PREFLOSS__E64_LO, 0.0f))));
}

/* sigma'(x) as a double-float (relative error ~2^-31), times 2^(64 lvl)
 * (lvl > 0 only for |x| >= 64: there e < 2^-92 drops out of 1 + e). */
PREFLOSS__INLINE prefloss__df prefloss__sd_dsig(prefloss__df x, int lvl)
{
    prefloss__df e = prefloss__sd_exp(prefloss__fabs(x.hi), prefloss__mulsign(x.lo, x.hi), lvl);
    prefloss__df den = prefloss__df_add_f(prefloss__sd_select(lvl > 0, prefloss__df_make(0.0f, 0.0f), e), 1.0f);
    return prefloss__sd_div(e, prefloss__df_mul(den, den));
}

/* x 2^(-64 lvl), each part rounded once (only where it is subnormal). */
PREFLOSS__INLINE prefloss__df prefloss__sd_unscale(prefloss__df x, int lvl)
{
    int32_t k = -64 * (int32_t)lvl;
    return prefloss__df_make(prefloss__scale2(x.hi, k), prefloss__scale2(x.lo, k));
}

/* 2^(-64 lvl) */
PREFLOSS__INLINE float prefloss__sd_unit(int lvl)
{
    return prefloss__select(lvl == 2, prefloss__pow2_half(-64) * prefloss__pow2_half(-64),
                            prefloss__select(lvl == 1, prefloss__pow2_half(-64), 1.0f));
}

/* A gradient gs = g 2^(64 lvl), rounded, handed to the kernel as
 * (value, k) with value 2^k = g. Where g is at least 2^-64 it is unscaled
 * here (exactly), so that the product with the upstream gradient cannot
 * overflow where g times it is finite; elsewhere k = -64 lvl. */
typedef struct prefloss__sd_grad { float v; int32_t k; } prefloss__sd_grad;

PREFLOSS__INLINE prefloss__sd_grad prefloss__sd_value(float gs, int lvl)
{
    prefloss__sd_grad r;
    int32_t k = -64 * (int32_t)lvl;
    float g = prefloss__scale2(gs, k);
    int keep = (int)(lvl > 0) & (int)(prefloss__fabs(g) < prefloss__pow2_half(-64));
    r.v = prefloss__select(keep, gs, g);
    r.k = keep ? k : 0;
    return r;
}

/* One pair's outputs with gradients gc 2^kc and gr 2^kr (k = -64 lvl, lvl <= 3). */
typedef struct prefloss__pair_out_k { float loss, gc, gr; int32_t kc, kr; } prefloss__pair_out_k;

PREFLOSS__INLINE prefloss__pair_out_k prefloss__pair_make_k(float loss, float gcs, int lc, float grs, int lr)
{
    prefloss__pair_out_k o;
    prefloss__sd_grad c = prefloss__sd_value(gcs, lc), r = prefloss__sd_value(grs, lr);
    o.loss = loss;
    o.gc = c.v;
    o.kc = c.k;
    o.gr = r.v;
    o.kr = r.k;
    return o;
}

/* sigma(-x) as a double-float (relative error ~2^-31), times 2^(64 lvl):
 * lvl > 0 only for x >= 64 (prefloss__sd_level_pos), where e = exp(-x) <
 * 2^-92 and sigma(-x) = e/(1 + e) is e within 2^-92. For nca_pair's,
 * bco_pair's and robust's gradients, which are subnormal beyond x ~ 87. */
PREFLOSS__INLINE int prefloss__sd_level_pos(float x)
{
    return prefloss__sd_level(x) * (int)(x > 0.0f);
}

PREFLOSS__INLINE prefloss__df prefloss__sd_signeg(prefloss__df x, int lvl)
{
    prefloss__df e = prefloss__sd_exp(prefloss__fabs(x.hi), prefloss__mulsign(x.lo, x.hi), lvl);
    return prefloss__sd_select(lvl > 0, e, prefloss__sigmoid_neg_df(x.hi, e, 0));
}

#ifndef PREFLOSS_NO_CATALOGUE /* used by the catalogue only (see lib/lean.c) */
/* x = m 2^e for a finite x != 0, |m| in [1, 2). */
static PREFLOSS_KERNEL_ATTR float prefloss__frexp2(float x, int *e)
{
    int sub = prefloss__fabs(x) < FLT_MIN;
    uint32_t b = prefloss__float_to_bits(sub ? x * 16777216.0f : x);
    *e = (int)((b >> 23) & 0xffu) - 127 - (sub ? 24 : 0);
    return prefloss__bits_to_float((b & 0x807fffffu) | 0x3f800000u);
}

/* m 2^e for |m| in [2^-8, 2^8], rounded once where the result is normal;
 * +-inf beyond the float range, 0 far below it. */
static float prefloss__ldexp2(float m, int e)
{
    int32_t k = (int32_t)(e < -252 ? -252 : e > 254 ? 254 : e);
    int32_t k1 = k / 2;
    return (m * prefloss__pow2_half(k1)) * prefloss__pow2_half(k - k1);
}

/* f[0] f[1] ... f[n-1] / div for finite factors and a finite div != 0 as
 * m 2^e: the mantissas are multiplied in double-float (relative error ~n
 * 2^-48) and the power of two kept apart, so the value is known wherever
 * the exact one is, however large or small the factors. */
static PREFLOSS_KERNEL_ATTR prefloss__df prefloss__scaled_parts(const float *f, int n, float div, int *e_out)
{
    int e, ed, i;
    float md = prefloss__frexp2(div, &ed);
    prefloss__df m = prefloss__df_make(1.0f, 0.0f);
    e = -ed;
    *e_out = 0;
    for (i = 0; i < n; i++) {
        int ei;
        if (f[i] == 0.0f) return prefloss__df_make(0.0f, 0.0f);
        m = prefloss__df_mul_f(m, prefloss__frexp2(f[i], &ei), 0);
        e += ei;
        if (prefloss__fabs(m.hi) >= 2.0f) { m = prefloss__df_make(m.hi * 0.5f, m.lo * 0.5f); e++; }
    }
    *e_out = e;
    return prefloss__df_div_f(m, md, 0);   /* |m / md| in (1/2, 2) */
}

/* m 2^e rounded to a float: once, except where it is subnormal. */
static PREFLOSS_KERNEL_ATTR float prefloss__scaled_round(prefloss__df m, int e)
{
    int er;
    float r = prefloss__df_round(m);
    if (r == 0.0f || !(prefloss__fabs(r) >= FLT_MIN)) return prefloss__ldexp2(r, e);
    r = prefloss__frexp2(r, &er);          /* after a cancellation |r| may be far below 1 */
    return prefloss__ldexp2(r, e + er);
}

#if !PREFLOSS__WIDE /* (only alpha_divergence's rescue, which the wide kernel does not need) */
static float prefloss__scaled_product(const float *f, int n, float div)
{
    int e;
    prefloss__df m = prefloss__scaled_parts(f, n, div, &e);
    return prefloss__scaled_round(m, e);
}

/* (f[0..n) / div + g[0..k)) h[0..nh): the two products in scaled form,
 * added in double-float at the larger power of two, then times the common
 * factors h, and rounded once, so that two terms beyond the float range in
 * opposite directions give their true sum (finite, or the right +-inf),
 * never inf - inf. Factors the two terms share belong in h: multiplied
 * into both, they would round differently, and where the terms cancel
 * exactly (their products of one or two factors are exact in double-float)
 * that rounding would be all that is left. */
static PREFLOSS_KERNEL_ATTR float prefloss__scaled_sum_times(const float *f, int n, float div, const float *g, int k,
                                                             const float *h, int nh)
{
    int e1, e2, eh, e;
    prefloss__df m1 = prefloss__scaled_parts(f, n, div, &e1), m2 = prefloss__scaled_parts(g, k, 1.0f, &e2);
    prefloss__df mh = prefloss__scaled_parts(h, nh, 1.0f, &eh), m;
    float s1, s2;
    if (m1.hi == 0.0f) { m = m2; e = e2; }
    else if (m2.hi == 0.0f) { m = m1; e = e1; }
    else {
        e = e1 > e2 ? e1 : e2;
        /* the smaller term shifted down; below 2^-60 of the larger it cannot matter */
        s1 = e1 - e < -60 ? 0.0f : prefloss__pow2_half(e1 - e);
        s2 = e2 - e < -60 ? 0.0f : prefloss__pow2_half(e2 - e);
        m = prefloss__df_add(prefloss__df_make(m1.hi * s1, m1.lo * s1), prefloss__df_make(m2.hi * s2, m2.lo * s2));
    }
    return prefloss__scaled_round(prefloss__df_mul_sat(m, mh), e + eh);
}
#endif /* !PREFLOSS__WIDE */
#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/partials.c ==== */
/* ------------------------------------------------------------------------ */
/* Exact partial sums (prefloss_partial)                                    */
/*                                                                          */
/* A float x = m 2^(e-150) (m < 2^24, biased exponent e >= 1; subnormals    */
/* with e = 1) is the integer m 2^(e-1) in units of 2^-149, at most 277     */
/* bits. It is added to 24-bit digits kept in 64-bit words: m << ((e-1) %   */
/* 24) has at most 47 bits, i.e. at most two digits, each added (or         */
/* subtracted) whole, so a word moves by less than 2^24 per value. The      */
/* words are never carried: with at most 2 values per counted item and the  */
/* count at most 2^36, every word stays below 2^61 in magnitude, whatever   */
/* the split and whatever the order of the integer additions. The finish    */
/* carries them into a sign and magnitude, divides by the count with an     */
/* exact long division and rounds once.                                     */
/* ------------------------------------------------------------------------ */

#define PREFLOSS__PD 12                /* digit words */
#define PREFLOSS__PCOUNT 12            /* word holding the count */
#define PREFLOSS__PBAD 13              /* word holding the non-finite count */
#define PREFLOSS__PW 16                /* in all */
#define PREFLOSS__PWORK (PREFLOSS__PD + 4) /* digits while finishing: carries, one fraction digit */

/* long long must have 64 bits: the words' headroom and the engines'
 * 64-bit integer types (MPI_LONG_LONG, torch.int64) depend on it */
typedef char prefloss__long_long_is_64_bits[(sizeof(long long) == 8) ? 1 : -1];

PREFLOSS_API int prefloss_partial_words(void) { return PREFLOSS_PARTIAL_WORDS; }
PREFLOSS_API long long prefloss_partial_max_count(void) { return PREFLOSS_PARTIAL_MAX_COUNT; }

#ifndef PREFLOSS_NO_PARTIALS /* (see lib/lean.c) */

/* Adds (sign > 0) or subtracts x, finite, exactly into the digit words. */
PREFLOSS__INLINE void prefloss__partial_put(long long *w, float x)
{
    uint32_t b = prefloss__float_to_bits(x);
    uint32_t e = (b >> 23) & 0xffu;
    unsigned long long m = b & 0x7fffffu, v;
    unsigned p, k;
    long long lo, hi, sgn = (b >> 31) ? -1 : 1;
    if (e != 0) m |= 0x800000u; else e = 1;
    p = (unsigned)(e - 1u);            /* position of m's last bit, in units of 2^-149 */
    k = p / 24u;
    v = m << (p % 24u);                /* < 2^47 */
    lo = (long long)(v & 0xffffffu);
    hi = (long long)(v >> 24);
    w[k] += sgn * lo;
    w[k + 1] += sgn * hi;              /* k <= 10 */
}

/* PREFLOSS_OK when p is a partial these functions could have produced. */
static int prefloss__partial_valid(const prefloss_partial *p)
{
    long long c = p->word[PREFLOSS__PCOUNT], bad = p->word[PREFLOSS__PBAD], lim;
    int k;
    if (c < 0 || c > PREFLOSS_PARTIAL_MAX_COUNT) return PREFLOSS_ERR_PARAM;
    if (bad < 0 || bad > c) return PREFLOSS_ERR_PARAM;
    for (k = PREFLOSS__PBAD + 1; k < PREFLOSS__PW; k++)
        if (p->word[k] != 0) return PREFLOSS_ERR_PARAM;
    lim = 2 * c * 16777216LL;          /* at most two values per count, each < 2^24 per word */
    for (k = 0; k < PREFLOSS__PD; k++)
        if (p->word[k] > lim || p->word[k] < -lim) return PREFLOSS_ERR_PARAM;
    return PREFLOSS_OK;
}

/* Common checks of the accumulating functions: the partial itself, the
 * count after adding n, and the overlap of the partial with the inputs. */
static int prefloss__partial_check(const prefloss_partial *p, size_t n, const void *in1,
                                   size_t bytes1, const void *in2, size_t bytes2)
{
    int st;
    if (p == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_valid(p);
    if (st != PREFLOSS_OK) return st;
    if ((unsigned long long)n > (unsigned long long)(PREFLOSS_PARTIAL_MAX_COUNT - p->word[PREFLOSS__PCOUNT]))
        return PREFLOSS_ERR_SIZE;
    {
        prefloss__range out[1], in[2];
        out[0].p = p; out[0].bytes = sizeof *p;
        in[0].p = in1; in[0].bytes = bytes1;
        in[1].p = in2; in[1].bytes = bytes2;
        return prefloss__check_overlap(out, 1, in, 2);
    }
}


PREFLOSS_API int prefloss_partial_init(prefloss_partial *partial)
{
    int k;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    for (k = 0; k < PREFLOSS__PW; k++) partial->word[k] = 0;
    return PREFLOSS_OK;
}

/* Adds sgn * x[i] (sgn = +-1) exactly for each of n values; returns how
 * many were not finite (skipped; the caller counts them in the bad word,
 * and the items in the count word). */
static long long prefloss__partial_add_values(long long *w, const float *x, size_t n, float sgn)
{
    long long bad = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float v = sgn * x[i];
        if (prefloss__finite(v)) prefloss__partial_put(w, v);
        else bad++;
    }
    return bad;
}

PREFLOSS_API int prefloss_partial_add(prefloss_partial *partial, const float *values, size_t n)
{
    int st;
    long long bad;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (n > 0 && values == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_check(partial, n, values, n * sizeof(float), NULL, 0);
    if (st != PREFLOSS_OK || n == 0) return st;
    bad = prefloss__partial_add_values(partial->word, values, n, 1.0f);
    partial->word[PREFLOSS__PCOUNT] += (long long)n;
    partial->word[PREFLOSS__PBAD] += bad;
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_partial_merge(prefloss_partial *dst, const prefloss_partial *src)
{
    int st, k;
    if (dst == NULL || src == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_valid(dst);
    if (st == PREFLOSS_OK) st = prefloss__partial_valid(src);
    if (st != PREFLOSS_OK) return st;
    if (src->word[PREFLOSS__PCOUNT] > PREFLOSS_PARTIAL_MAX_COUNT - dst->word[PREFLOSS__PCOUNT])
        return PREFLOSS_ERR_SIZE;
    if (src == dst) {
        for (k = 0; k < PREFLOSS__PW; k++) dst->word[k] *= 2;
    } else {
        for (k = 0; k < PREFLOSS__PW; k++) dst->word[k] += src->word[k];
    }
    return PREFLOSS_OK;
}

/* Bit i of a magnitude held in 24-bit digits. */
PREFLOSS__INLINE unsigned prefloss__digit_bit(const uint32_t *d, int i)
{
    return (unsigned)(d[i / 24] >> (i % 24)) & 1u;
}

/* The digit words divided by `count` (>= 1), rounded once to the nearest
 * float (ties to even). */
static PREFLOSS_KERNEL_ATTR float prefloss__partial_round(const long long *w, long long count)
{
    uint32_t d[PREFLOSS__PWORK];           /* d[0] a fraction digit: units of 2^-173 */
    unsigned long long r;
    long long carry = 0;
    int k, top, negative, lsb, i;
    unsigned long long mant;
    unsigned guard, sticky;
    uint32_t bits;
    /* carry into digits in [0, 2^24): value = sum d[k] 2^(24(k-1)) + carry 2^(24(W-1)) */
    d[0] = 0;
    for (k = 1; k < PREFLOSS__PWORK; k++) {
        long long v = (k - 1 < PREFLOSS__PD ? w[k - 1] : 0) + carry;
        uint32_t dk = (uint32_t)((unsigned long long)v & 0xffffffu);
        carry = (v - (long long)dk) / 16777216LL;   /* exact */
        d[k] = dk;
    }
    negative = carry < 0;                  /* carry is 0 or -1: the headroom is ample */
    if (negative) {                        /* magnitude: two's complement in base 2^24 */
        uint32_t c = 1;
        for (k = 0; k < PREFLOSS__PWORK; k++) {
            uint32_t v = (0xffffffu - d[k]) + c;
            d[k] = v & 0xffffffu;
            c = v >> 24;
        }
    }
    /* exact long division by count, one bit at a time (shifts and
     * subtractions only: no 64-bit division, which 32-bit targets do in a
     * library helper); the remainder stays below 2 count <= 2^37 */
    r = 0;
    for (k = PREFLOSS__PWORK - 1; k >= 0; k--) {
        uint32_t q = 0;
        for (i = 23; i >= 0; i--) {
            r = (r << 1) | ((d[k] >> i) & 1u);
            if (r >= (unsigned long long)count) { r -= (unsigned long long)count; q |= 1u << i; }
        }
        d[k] = q;
    }
    /* the quotient's top bit */
    top = -1;
    for (i = 24 * PREFLOSS__PWORK - 1; i >= 0; i--)
        if (prefloss__digit_bit(d, i)) { top = i; break; }
    if (top < 0) return negative ? -0.0f : 0.0f; /* below 2^-173 (or zero): rounds to 0 */
    /* the last bit kept: 24 significant bits, but never below 2^-149 (bit 24) */
    lsb = top - 23 > 24 ? top - 23 : 24;
    mant = 0;
    for (i = top; i >= lsb; i--) mant = (mant << 1) | prefloss__digit_bit(d, i);
    guard = lsb >= 1 ? prefloss__digit_bit(d, lsb - 1) : 0u;
    sticky = r != 0;
    for (i = lsb - 2; i >= 0 && !sticky; i--) sticky |= prefloss__digit_bit(d, i);
    if (guard && (sticky || (mant & 1u))) mant++;
    if (mant == (1ull << 24)) { mant >>= 1; lsb++; }
    /* value = mant 2^(lsb - 173); a normal float has mant >= 2^23 and biased exponent lsb - 23 */
    if (mant < (1ull << 23)) {
        bits = (uint32_t)mant;             /* subnormal (lsb == 24) */
    } else if (lsb - 23 >= 255) {
        bits = 0x7f800000u;                /* beyond the float range */
    } else {
        bits = ((uint32_t)(lsb - 23) << 23) | (uint32_t)(mant - (1ull << 23));
    }
    if (negative) bits |= 0x80000000u;
    return prefloss__bits_to_float(bits);
}

PREFLOSS_API int prefloss_partial_finish(float *mean, float *sum, long long *count,
                                         const prefloss_partial *partial)
{
    int st;
    long long c;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_valid(partial);
    if (st != PREFLOSS_OK) return st;
    {
        prefloss__range out[3], in[1];
        out[0].p = mean; out[0].bytes = sizeof(float);
        out[1].p = sum; out[1].bytes = sizeof(float);
        out[2].p = count; out[2].bytes = sizeof(long long);
        in[0].p = partial; in[0].bytes = sizeof *partial;
        st = prefloss__check_overlap(out, 3, in, 1);
        if (st != PREFLOSS_OK) return st;
    }
    c = partial->word[PREFLOSS__PCOUNT];
    if (count != NULL) *count = c;
    if (partial->word[PREFLOSS__PBAD] != 0) {
        if (mean != NULL) *mean = prefloss__nan();
        if (sum != NULL) *sum = prefloss__nan();
        return PREFLOSS_NONFINITE;
    }
    if (mean != NULL) *mean = c > 0 ? prefloss__partial_round(partial->word, c) : 0.0f;
    if (sum != NULL) {
        float s = prefloss__partial_round(partial->word, 1);
        *sum = s == 0.0f ? 0.0f : s;
    }
    if (mean != NULL && *mean == 0.0f) *mean = 0.0f;   /* an exact or underflowed zero is +0 */
    return PREFLOSS_OK;
}

PREFLOSS_API int prefloss_kto_kl_partial(prefloss_partial *partial, const float *policy_kl_logps,
                                         const float *ref_kl_logps, size_t n)
{
    int st;
    long long bad = 0;
    size_t i;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (n > 0 && (policy_kl_logps == NULL || ref_kl_logps == NULL)) return PREFLOSS_ERR_NULL;
    st = prefloss__partial_check(partial, n, policy_kl_logps, n * sizeof(float), ref_kl_logps,
                                 n * sizeof(float));
    if (st != PREFLOSS_OK || n == 0) return st;
    for (i = 0; i < n; i++) {
        float p = policy_kl_logps[i], r = ref_kl_logps[i];
        if (prefloss__finite(p) && prefloss__finite(r)) {
            prefloss__partial_put(partial->word, p);
            prefloss__partial_put(partial->word, -r);
        } else {
            bad++;
        }
    }
    partial->word[PREFLOSS__PCOUNT] += (long long)n;
    partial->word[PREFLOSS__PBAD] += bad;
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_kto_kl_finish(float *kl, const prefloss_partial *partial)
{
    float mean = 0.0f;
    int st;
    if (kl == NULL || partial == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss_partial_finish(&mean, NULL, NULL, partial);
    if (st < 0) return st;
    *kl = mean > 0.0f ? mean : (mean != mean ? mean : 0.0f);
    return st;
}

PREFLOSS_API int prefloss_rewards_partial(prefloss_partial *chosen_rewards,
                                          prefloss_partial *rejected_rewards,
                                          prefloss_partial *margins, prefloss_partial *accuracies,
                                          const float *policy_chosen, const float *policy_rejected,
                                          const float *ref_chosen, const float *ref_rejected,
                                          size_t n, float beta)
{
    prefloss_partial *acc[4];
    float s[4][PREFLOSS__SCRATCH];
    int st, k, j, bad = 0;
    size_t i, len, bytes;
    acc[0] = chosen_rewards; acc[1] = rejected_rewards; acc[2] = margins; acc[3] = accuracies;
    if (!prefloss__beta_ok(beta)) return PREFLOSS_ERR_PARAM;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (n > 0 && (policy_chosen == NULL || policy_rejected == NULL)) return PREFLOSS_ERR_NULL;
    if ((ref_chosen == NULL) != (ref_rejected == NULL)) return PREFLOSS_ERR_NULL;
    bytes = n * sizeof(float);
    for (k = 0; k < 4; k++) {
        if (acc[k] == NULL) continue;
        st = prefloss__partial_check(acc[k], n, policy_chosen, bytes, policy_rejected, bytes);
        if (st == PREFLOSS_OK)
            st = prefloss__partial_check(acc[k], n, ref_chosen, bytes, ref_rejected, bytes);
        if (st != PREFLOSS_OK) return st;
        for (j = k + 1; j < 4; j++) {
            prefloss__range a, b;
            a.p = acc[k]; b.p = acc[j];
            a.bytes = b.bytes = sizeof *acc[k];
            if (prefloss__ranges_overlap(a, b)) return PREFLOSS_ERR_OVERLAP;
        }
    }
    if (n == 0) return PREFLOSS_OK;
    for (i = 0; i < n; i += len) {
        len = n - i < PREFLOSS__SCRATCH ? n - i : PREFLOSS__SCRATCH;
        /* valid arguments: only PREFLOSS_OK or PREFLOSS_NONFINITE */
        bad |= prefloss_rewards(s[0], s[1], s[2], s[3], policy_chosen + i, policy_rejected + i,
                                ref_chosen != NULL ? ref_chosen + i : NULL,
                                ref_rejected != NULL ? ref_rejected + i : NULL, len, beta)
               == PREFLOSS_NONFINITE;
        for (k = 0; k < 4; k++)
            if (acc[k] != NULL)
                acc[k]->word[PREFLOSS__PBAD] += prefloss__partial_add_values(acc[k]->word, s[k], len, 1.0f);
    }
    for (k = 0; k < 4; k++)
        if (acc[k] != NULL) acc[k]->word[PREFLOSS__PCOUNT] += (long long)n;
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_token_partial(prefloss_partial *partial, const float *token_logps,
                                        const unsigned char *mask, size_t batch, size_t seq_len)
{
    int st;
    size_t i, total, counted = 0;
    long long bad = 0;
    if (partial == NULL) return PREFLOSS_ERR_NULL;
    if (seq_len != 0 && batch > SIZE_MAX / sizeof(float) / seq_len) return PREFLOSS_ERR_SIZE;
    total = batch * seq_len;
    if (total > 0 && token_logps == NULL) return PREFLOSS_ERR_NULL;
    if (mask == NULL) {
        counted = total;
    } else {
        for (i = 0; i < total; i++) counted += mask[i] != 0;
    }
    st = prefloss__partial_check(partial, counted, token_logps, total * sizeof(float), mask,
                                 mask != NULL ? total : 0);
    if (st != PREFLOSS_OK || total == 0) return st;
    for (i = 0; i < total; i++) {
        float t = token_logps[i];
        if (mask != NULL && mask[i] == 0) continue;
        if (prefloss__finite(t)) prefloss__partial_put(partial->word, t);
        else bad++;
    }
    partial->word[PREFLOSS__PCOUNT] += (long long)counted;
    partial->word[PREFLOSS__PBAD] += bad;
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

#endif /* PREFLOSS_NO_PARTIALS */

/* ==== lib/catalogue_common.c ==== */
/* The loss catalogue                                                       */
/* ------------------------------------------------------------------------ */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* TRL's cap for exponents (cap_exp): log(FLT_MAX) floored to 4 decimals
 * (get_exp_cap), 88.7228, where exp is still finite (prefloss__cap_exp_df). */
#define PREFLOSS__EXP_CAP 88.7228f

/* Everything a catalogue kernel needs, derived once per call. */
typedef struct prefloss__cat {
    float beta, eps, tau, alpha, gamma, delta;
    float robust_c;          /* eps/(1 - 2 eps) = robust_c + robust_c_lo */
    float robust_c_lo;
    float exo_eps;           /* eps' = eps, or 1e-3 for eps = 0 (as TRL) */
    prefloss__df exo_d;      /* log((1 - eps')/eps') as a double-float */
    prefloss__df exo_la, exo_lb; /* log(1 - eps'), log(eps') as double-floats */
    prefloss__df half_inv_beta; /* 1/(2 beta) as a double-float */
    prefloss__df beta_alpha; /* beta/alpha as a double-float (alpha_divergence) */
    float nll;               /* the NLL term's weight lambda (params->nll_weight) */
} prefloss__cat;

/* The catalogue kernels' signature (PREFLOSS__CATALOGUE_KERNEL and the wide
 * kernels): outputs, the four log-probs, the upstream gradients, the
 * per-pair weights and the mix weight. */
#define PREFLOSS__CAT_ARGS float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dc,    \
    float *PREFLOSS__RESTRICT dr, const float *PREFLOSS__RESTRICT pc,                      \
    const float *PREFLOSS__RESTRICT pr, const float *PREFLOSS__RESTRICT rc,                \
    const float *PREFLOSS__RESTRICT rr, const float *PREFLOSS__RESTRICT up,                \
    const float *PREFLOSS__RESTRICT w, float s, size_t n,                                  \
    const prefloss__cat *PREFLOSS__RESTRICT params
#define PREFLOSS__CAT_NAMES loss, dc, dr, pc, pr, rc, rr, up, w, s, n, params
typedef int (*prefloss__cat_kernel)(float *, float *, float *, const float *, const float *,
                                    const float *, const float *, const float *, const float *,
                                    float, size_t, const prefloss__cat *);

/* Opens the definition of a catalogue kernel (see PREFLOSS__KERNEL). */
#define PREFLOSS__CAT_KERNEL(name) \
    PREFLOSS__KERNEL(int, name, (PREFLOSS__CAT_ARGS), (PREFLOSS__CAT_NAMES))

#if PREFLOSS__WIDE
/* The wide kernels' element loops run over whole blocks of PREFLOSS__VBLOCK
 * pairs, an inner loop of constant count (PREFLOSS__EACH_PAIR): then the
 * vectoriser emits no remainder loops (a second, SSE-vectorised and a
 * third, scalar copy of the element function). prefloss__cat_blocks sends
 * the last n mod PREFLOSS__VBLOCK pairs through the same loop as one block
 * of copies padded with a finite pair (prefloss__pad, prefloss__unpad):
 * each output depends on its own pair only, so it is the same. 8 floats:
 * one AVX2 vector, two SSE ones; PREFLOSS__STAGE and the chunks are
 * multiples of it. (The other kernels keep their plain loops: blocked, the
 * dedicated ones ran 1-4 % slower, KTO's 5x, exo_pair's 1 %.) */
#define PREFLOSS__VBLOCK 8
/* For each i of [0, n), n a multiple of PREFLOSS__VBLOCK, by blocks [b, b + PREFLOSS__VBLOCK). */
#define PREFLOSS__EACH_PAIR(i, b, n) \
    for (b = 0; b < (n); b += PREFLOSS__VBLOCK) for (i = b; i - b < PREFLOSS__VBLOCK; i++)

/* A block: src[0, t) then fill up to PREFLOSS__VBLOCK, in dst. */
PREFLOSS__INLINE const float *prefloss__pad(float *dst, const float *src, size_t t, float fill)
{
    size_t j;
    for (j = 0; j < PREFLOSS__VBLOCK; j++) dst[j] = j < t ? src[j] : fill;
    return dst;
}

/* The first t outputs of a padded block. */
PREFLOSS__INLINE void prefloss__unpad(float *dst, const float *src, size_t t)
{
    size_t j;
    for (j = 0; j < t; j++) dst[j] = src[j];
}

/* A catalogue kernel over any n: the whole blocks in place, then the rest
 * as one padded block. */
static PREFLOSS_KERNEL_ATTR int prefloss__cat_blocks(prefloss__cat_kernel k, PREFLOSS__CAT_ARGS)
{
    float in[6][PREFLOSS__VBLOCK], out[3][PREFLOSS__VBLOCK];
    size_t m = n - n % PREFLOSS__VBLOCK, t = n - m;
    int bad = m > 0 ? k(loss, dc, dr, pc, pr, rc, rr, up, w, s, m, params) : 0;
    if (t == 0) return bad;
    /* the driver's ones stay the driver's ones (prefloss__unweighted) */
    bad |= k(out[0], out[1], out[2], prefloss__pad(in[0], pc + m, t, 0.0f),
             prefloss__pad(in[1], pr + m, t, 0.0f), prefloss__pad(in[2], rc + m, t, 0.0f),
             prefloss__pad(in[3], rr + m, t, 0.0f), prefloss__pad(in[4], up + m, t, 1.0f),
             w == prefloss__ones ? w : prefloss__pad(in[5], w + m, t, 1.0f), s, PREFLOSS__VBLOCK, params);
    prefloss__unpad(loss + m, out[0], t);
    prefloss__unpad(dc + m, out[1], t);
    prefloss__unpad(dr + m, out[2], t);
    return bad;
}

/* The same for a kernel whose body runs over whole blocks only
 * (PREFLOSS__EACH_PAIR): the body is name_blocks (per target where
 * dispatching), and `name`, the kernel over any n, sends the rest through
 * prefloss__cat_blocks. */
#define PREFLOSS__CAT_BLOCKS_KERNEL(name)                                                    \
    static int name##_blocks(PREFLOSS__CAT_ARGS);                                            \
    static PREFLOSS_KERNEL_ATTR int name(PREFLOSS__CAT_ARGS)                                 \
    { return prefloss__cat_blocks(name##_blocks, PREFLOSS__CAT_NAMES); }                     \
    PREFLOSS__KERNEL(int, name##_blocks, (PREFLOSS__CAT_ARGS), (PREFLOSS__CAT_NAMES))

/* The cap of exp(-a) in the wide catalogue kernels: there a gradient is
 * formed in double and multiplied, unrounded, by the upstream gradient and
 * the two weights (each below 2^128), so it matters down to 2^-150/2^384 =
 * 2^-534, and its factor beta (< 2^128) lets e^-a matter down to ~2^-662
 * (a ~ 459). e^-500 ~ 2^-721 times beta and those factors is below 2^-209,
 * 0 in float like the exact value; every e and e/(1 + e)^2 stays a normal
 * double. */
#define PREFLOSS__WEXP_CAT_CAP 500.0

/* x rounded to float precision (24 bits, to nearest even) in double's
 * exponent range: x + C - C with C = 1.5 * 2^(e + 29) for x in [2^e, 2^(e+1)),
 * whose ulp is x's at 24 bits (no multiplication, so no contraction into a
 * fused multiply-add can change it); signed zeros kept. For normal doubles
 * below 2^990 (the wide kernels' products are below 2^640). */
PREFLOSS__INLINE double prefloss__round24_d(double x)
{
    uint64_t b = prefloss__double_to_bits(x);
    double c = prefloss__bits_to_double(((b & 0x7ff0000000000000ull) + ((uint64_t)29 << 52))
                                        | ((uint64_t)1 << 51));
    double r = (x + c) - c;
    return prefloss__bits_to_double(prefloss__double_to_bits(r) | (b & 0x8000000000000000ull));
}

/* A wide catalogue kernel's gradient output g u w s, before its NaN for a
 * non-finite input: g rounded to a float's precision, then each product
 * with the upstream gradient and the two weights rounded to it in turn, as
 * the float arithmetic of PREFLOSS__CATALOGUE_KERNEL_K, but in double's
 * range: nothing overflows or underflows on the way (so a gradient below
 * the float range before a large weight keeps its digits), and the result
 * is rounded to a float once, where it is subnormal or beyond FLT_MAX. */
PREFLOSS__INLINE float prefloss__wgrad_cat(double g, float u, float w, float s)
{
    double q = prefloss__round24_d(prefloss__round24_d(g) * (double)u);
    q = prefloss__round24_d(q * (double)w);
    return (float)prefloss__round24_d(q * (double)s);
}
#endif

/* One pair's loss and its two partial derivatives (before the upstream
 * gradient). */
typedef struct prefloss__pair_out { float loss, gc, gr; } prefloss__pair_out;

PREFLOSS__INLINE prefloss__pair_out prefloss__pair_make(float loss, float gc, float gr)
{
    prefloss__pair_out o;
    o.loss = loss;
    o.gc = gc;
    o.gr = gr;
    return o;
}

/* The outputs of a catalogue kernel, with the per-pair weight w and the mix
 * weight s (each 0 where it is 0, even against an infinite value; NaN stays
 * NaN) and the NLL term of weight lambda:
 *   loss = (L + lambda (-pc)) w s          dc = (g u - lambda u) w s
 * The NLL term joins before the weights: where both overflow, the sign of
 * their exact sum decides (prefloss__add_keep). */
PREFLOSS__INLINE float prefloss__cat_loss_out(float loss, float pc, float w, float s, float lambda)
{
    float l = prefloss__select(lambda != 0.0f, prefloss__add_keep(loss, prefloss__times_up(-pc, lambda)), loss);
    return prefloss__weighted2(l, w, s);
}

PREFLOSS__INLINE float prefloss__cat_nll_grad(float gu, float u, float w, float s, float lambda)
{
    return prefloss__weighted2(prefloss__add_keep(gu, prefloss__times_up(-lambda, u)), w, s);
}

#if PREFLOSS__WIDE
/* x rounded as float arithmetic rounds it (subnormals included), but kept
 * in double's range, at float precision, where the float would overflow. */
PREFLOSS__INLINE double prefloss__wround_f(double x)
{
    float f = (float)x;
    return prefloss__select_d(prefloss__fabs(f) <= FLT_MAX, (double)f, prefloss__round24_d(x));
}

/* A wide kernel's loss output (L + lambda (-pc)) w s, and its dchosen with
 * an NLL term, (g u - lambda u) w s: every step rounded as the float
 * arithmetic of prefloss__cat_loss_out and prefloss__cat_nll_grad rounds it
 * (prefloss__wround_f), the same bits wherever nothing overflows, but in
 * double's range, so that nothing overflows part-way: a loss beyond the
 * float range that a small weight brings back, an NLL term that cancels the
 * gradient after both passed FLT_MAX. */
PREFLOSS__INLINE float prefloss__wloss_cat(double l, float pc, float w, float s, float lambda)
{
    double q = prefloss__wround_f(l);
    q = prefloss__select_d(lambda != 0.0f,
                           prefloss__wround_f(q + prefloss__wround_f(-(double)pc * (double)lambda)), q);
    q = prefloss__wround_f(q * (double)w);
    return (float)(q * (double)s);
}

PREFLOSS__INLINE float prefloss__wgrad_nll_cat(double g, float u, float w, float s, float lambda)
{
    double q = prefloss__wround_f(prefloss__wround_f(g) * (double)u);
    q = prefloss__wround_f(q + prefloss__wround_f(-(double)lambda * (double)u));
    q = prefloss__wround_f(q * (double)w);
    return (float)(q * (double)s);
}

/* The wide kernels' outputs where `plain` (prefloss__unweighted: no
 * weights, no NLL term) is known at compile time: the same values as
 * prefloss__wloss_cat, prefloss__wgrad_cat and prefloss__wgrad_nll_cat,
 * without the steps that multiply by 1 (a value already rounded to float
 * precision is unchanged by them). */
PREFLOSS__INLINE float prefloss__wloss_out(int plain, double l, float pc, float w, float s, float lambda)
{
    return plain ? (float)l : prefloss__wloss_cat(l, pc, w, s, lambda);
}

PREFLOSS__INLINE float prefloss__wgrad_out(int plain, double g, float u, float w, float s)
{
    return plain ? (float)prefloss__round24_d(prefloss__round24_d(g) * (double)u)
                 : prefloss__wgrad_cat(g, u, w, s);
}

PREFLOSS__INLINE float prefloss__wgrad_nll_out(int plain, double g, float gfold, float u, float w, float s,
                                               float lambda)
{
    return plain ? gfold : prefloss__select(lambda != 0.0f, prefloss__wgrad_nll_cat(g, u, w, s, lambda), gfold);
}

/* The label-smoothed sigmoid loss at z in double (w_neg = 1 - eps,
 * half_eps = 1/2 - eps), with e = exp(-|z|) (the catalogue's cap):
 *   L = w|z| + log1p(e),  w = eps for z >= 0, 1 - eps otherwise,
 *   *dz = dL/dz = eps - sigma(-z), or tanh(z/2)/2 - (1/2 - eps) for |z| < 1/2
 *         (the odd series of tanh to w^15 on w = z/2: the rest < 2^-43). */
PREFLOSS__INLINE double prefloss__wsmoothed(double z, double eps, double w_neg, double half_eps, double *dz)
{
    double az = prefloss__fabs_d(z), e = prefloss__wexp_neg_to(az, PREFLOSS__WEXP_CAT_CAP, 0);
    int pos = z >= 0.0;
    double l = prefloss__select_d(pos, eps, w_neg) * az + prefloss__wlog1p_unit(e, 0);
    double far = eps - prefloss__select_d(pos, e, 1.0) / (1.0 + e);
    double hz = 0.5 * z, t = hz * hz, near;
    double th = PREFLOSS__MADD_D(0, t, 929569.0 / 638512875, -21844.0 / 6081075);
    th = PREFLOSS__MADD_D(0, t, th, 1382.0 / 155925);
    th = PREFLOSS__MADD_D(0, t, th, -62.0 / 2835);
    th = PREFLOSS__MADD_D(0, t, th, 17.0 / 315);
    th = PREFLOSS__MADD_D(0, t, th, -2.0 / 15);
    th = PREFLOSS__MADD_D(0, t, th, 1.0 / 3);
    near = 0.5 * (hz - (hz * t) * th) - half_eps;                 /* tanh(z/2)/2 - (1/2 - eps) */
    *dz = prefloss__select_d(az < 0.5, near, far);
    return l;
}

/* A wide element's result: one pair's loss and its two partial
 * derivatives in double, before the upstream gradient and the weights. */
typedef struct prefloss__wpair { double loss, gc, gr; } prefloss__wpair;

PREFLOSS__INLINE prefloss__wpair prefloss__wpair_make(double loss, double gc, double gr)
{
    prefloss__wpair o;
    o.loss = loss;
    o.gc = gc;
    o.gr = gr;
    return o;
}

/* The outputs of a wide catalogue kernel for one stage of len pairs (a
 * multiple of PREFLOSS__VBLOCK) from its elements' loss and gradients in
 * double (l, gl, gr): the upstream gradient, the weights, the NLL term and
 * the NaN of a non-finite input added, branch-free. Shared by every wide
 * kind, in two forms: plain = 1 (prefloss__unweighted: without the
 * weighting steps) and plain = 0. */
#define PREFLOSS__WCAT_OUT_ARGS float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dc,      \
    float *PREFLOSS__RESTRICT dr, const float *PREFLOSS__RESTRICT pc,                              \
    const float *PREFLOSS__RESTRICT pr, const float *PREFLOSS__RESTRICT rc,                        \
    const float *PREFLOSS__RESTRICT rr, const float *PREFLOSS__RESTRICT up,                        \
    const float *PREFLOSS__RESTRICT w, float s, float nll, const double *PREFLOSS__RESTRICT l,     \
    const double *PREFLOSS__RESTRICT gl, const double *PREFLOSS__RESTRICT gr, size_t len
#define PREFLOSS__WCAT_OUT_NAMES loss, dc, dr, pc, pr, rc, rr, up, w, s, nll, l, gl, gr, len

PREFLOSS__INLINE int prefloss__wcat_out(PREFLOSS__WCAT_OUT_ARGS, int plain)
{
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i, b;
    PREFLOSS__EACH_PAIR(i, b, len) {
        float bad = PREFLOSS__BAD4(pc[i], pr[i], rc[i], rr[i]) + prefloss__nan_if_nonfinite(w[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        float gc = prefloss__wgrad_out(plain, gl[i], up[i], w[i], s);
        loss[i] = prefloss__wloss_out(plain, l[i], pc[i], w[i], s, nll) + bad;
        dc[i] = prefloss__wgrad_nll_out(plain, gl[i], gc, up[i], w[i], s, nll) + bad_up;
        dr[i] = prefloss__wgrad_out(plain, gr[i], up[i], w[i], s) + bad_up;
        bad_bits |= prefloss__float_to_bits(bad_up);
    }
    return prefloss__bits_has_nan(bad_bits);
}
PREFLOSS__KERNEL(int, prefloss__wcat_out_plain, (PREFLOSS__WCAT_OUT_ARGS), (PREFLOSS__WCAT_OUT_NAMES))
{
    return prefloss__wcat_out(PREFLOSS__WCAT_OUT_NAMES, 1);
}
PREFLOSS__KERNEL(int, prefloss__wcat_out_weighted, (PREFLOSS__WCAT_OUT_ARGS), (PREFLOSS__WCAT_OUT_NAMES))
{
    return prefloss__wcat_out(PREFLOSS__WCAT_OUT_NAMES, 0);
}

/* The wide catalogue kernel, staged: per PREFLOSS__STAGE pairs, a loop of
 * the element function (wel_, in double) inlined, whose results
 * prefloss__wcat_out turns into the outputs. The element is compiled once
 * per variant, whatever the weighting; the doubles pass on unrounded, so
 * the outputs are those of a single loop. */
#define PREFLOSS__WIDE_CATALOGUE_KERNEL(name, element)                                        \
    PREFLOSS__CAT_BLOCKS_KERNEL(name)                                                              \
    {                                                                                         \
        double l[PREFLOSS__STAGE], gl[PREFLOSS__STAGE], gr[PREFLOSS__STAGE];                  \
        int plain = prefloss__unweighted(w, s, params->nll), bad_seen = 0;                    \
        size_t i0, i, b, len;                                                                 \
        for (i0 = 0; i0 < n; i0 += len) {                                                     \
            len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);                                     \
            PREFLOSS__EACH_PAIR(i, b, len) {                                                  \
                prefloss__wpair o = element(pc[i0 + i], pr[i0 + i], rc[i0 + i], rr[i0 + i], params); \
                l[i] = o.loss;                                                                \
                gl[i] = o.gc;                                                                 \
                gr[i] = o.gr;                                                                 \
            }                                                                                 \
            bad_seen |= (plain ? prefloss__wcat_out_plain : prefloss__wcat_out_weighted)(    \
                loss + i0, dc + i0, dr + i0, pc + i0, pr + i0, rc + i0, rr + i0, up + i0,     \
                w + i0, s, params->nll, l, gl, gr, len);                                      \
        }                                                                                     \
        return bad_seen;                                                                      \
    }
#endif

/* g 2^k u w s (a gradient carried scaled, see prefloss__sd_value) in
 * scaled form: finite wherever the exact value is (for finite factors;
 * scalar, and only needed where a partial product overflowed). 2^k joins
 * the product's power of two, whatever the level (k = -64 lvl, lvl <= 3:
 * js_divergence's and apo_down's gradients reach 2^-192). */
static PREFLOSS_KERNEL_ATTR float prefloss__grad_times_scaled(float g, int32_t k, float u, float w, float s)
{
    float f[4];
    int e;
    prefloss__df m;
    f[0] = g; f[1] = u; f[2] = w; f[3] = s;
    m = prefloss__scaled_parts(f, 4, 1.0f, &e);
    return prefloss__scaled_round(m, e + (int)k);
}

/* Whether a kernel's outputs need no weighting: no per-pair weights (the
 * driver's ones), mix weight 1 and no NLL term. There x w s = x exactly
 * (prefloss__weighted2), so the kernels skip those steps. */
PREFLOSS__INLINE int prefloss__unweighted(const float *w, float s, float nll)
{
    return (int)(w == prefloss__ones) & (int)(s == 1.0f) & (int)(nll == 0.0f);
}

/* The catalogue kernel: the outputs of an element with scaled gradients
 * g 2^k (k = 0 for most kinds), times the upstream gradient and the
 * weights, with NaN for a non-finite input; staged as the wide kernel: per
 * PREFLOSS__STAGE pairs a loop of the element, then the outputs from
 * prefloss__cat_out_plain (unweighted calls, the common case: without the
 * weighting steps) or _weighted, shared by every kind. A gradient g 2^k meets the
 * upstream gradient and the weights before 2^k is applied: one rounding where the
 * result is subnormal, so that a weight that brings a tiny gradient back to
 * the normal range finds its digits. (With an NLL term, which then dominates
 * dchosen, the weights apply to the sum.) The loops stay branch-free; a pair
 * whose product overflowed part-way although the result need not (2^k or a
 * small weight brings it back) is redone in scaled form after them. */
#define PREFLOSS__CAT_OUT_ARGS float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dc,       \
    float *PREFLOSS__RESTRICT dr, const float *PREFLOSS__RESTRICT pc,                              \
    const float *PREFLOSS__RESTRICT pr, const float *PREFLOSS__RESTRICT rc,                        \
    const float *PREFLOSS__RESTRICT rr, const float *PREFLOSS__RESTRICT up,                        \
    const float *PREFLOSS__RESTRICT w, float s, float nll, const float *PREFLOSS__RESTRICT l,      \
    const float *PREFLOSS__RESTRICT gl, const int32_t *PREFLOSS__RESTRICT kl,                      \
    const float *PREFLOSS__RESTRICT gr, const int32_t *PREFLOSS__RESTRICT kr, size_t len
#define PREFLOSS__CAT_OUT_NAMES loss, dc, dr, pc, pr, rc, rr, up, w, s, nll, l, gl, kl, gr, kr, len

/* One stage's outputs from its elements' results (l, gl 2^kl, gr 2^kr), as
 * the kernel's single loop formed them; bit 0: a non-finite input seen, bit
 * 1: a product overflowed part-way. Shared by every kind, plain = 1
 * (prefloss__unweighted) and plain = 0. */
PREFLOSS__INLINE int prefloss__cat_out(PREFLOSS__CAT_OUT_ARGS, int plain)
{
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    int over = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        float bad = plain ? PREFLOSS__BAD4(pc[i], pr[i], rc[i], rr[i])
                          : PREFLOSS__BAD4(pc[i], pr[i], rc[i], rr[i]) + prefloss__nan_if_nonfinite(w[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        if (plain) {
            float qc = prefloss__times_up(gl[i], up[i]);
            float qr = prefloss__times_up(gr[i], up[i]);
            loss[i] = l[i] + bad;
            dc[i] = prefloss__scale2(qc, kl[i]) + bad_up;
            dr[i] = prefloss__scale2(qr, kr[i]) + bad_up;
            over |= (int)(prefloss__fabs(qc) > FLT_MAX) | (int)(prefloss__fabs(qr) > FLT_MAX);
        } else {
            float gu = prefloss__times_up(gl[i], up[i]);
            float qc = prefloss__weighted2(gu, w[i], s);
            float qr = prefloss__weighted2(prefloss__times_up(gr[i], up[i]), w[i], s);
            loss[i] = prefloss__cat_loss_out(l[i], pc[i], w[i], s, nll) + bad;
            dc[i] = prefloss__select(nll != 0.0f,
                        prefloss__cat_nll_grad(prefloss__scale2(gu, kl[i]), up[i], w[i], s, nll),
                        prefloss__scale2(qc, kl[i])) + bad_up;
            dr[i] = prefloss__scale2(qr, kr[i]) + bad_up;
            over |= ((int)(prefloss__fabs(qc) > FLT_MAX) & (int)(nll == 0.0f))
                  | (int)(prefloss__fabs(qr) > FLT_MAX);
        }
        bad_bits |= prefloss__float_to_bits(bad_up);
    }
    return prefloss__bits_has_nan(bad_bits) | (over << 1);
}
PREFLOSS__KERNEL(int, prefloss__cat_out_plain, (PREFLOSS__CAT_OUT_ARGS), (PREFLOSS__CAT_OUT_NAMES))
{
    return prefloss__cat_out(PREFLOSS__CAT_OUT_NAMES, 1);
}
PREFLOSS__KERNEL(int, prefloss__cat_out_weighted, (PREFLOSS__CAT_OUT_ARGS), (PREFLOSS__CAT_OUT_NAMES))
{
    return prefloss__cat_out(PREFLOSS__CAT_OUT_NAMES, 0);
}

#define PREFLOSS__CATALOGUE_KERNEL_K(name, element)                                          \
    PREFLOSS__CAT_KERNEL(name)                                                               \
    {                                                                                        \
        const prefloss__cat *c = params;                                                     \
        float l[PREFLOSS__STAGE], gl[PREFLOSS__STAGE], gr[PREFLOSS__STAGE];                  \
        int32_t kl[PREFLOSS__STAGE], kr[PREFLOSS__STAGE];                                    \
        int plain = prefloss__unweighted(w, s, c->nll), flags = 0, bad_seen, over;            \
        size_t i0, i, len;                                                                   \
        for (i0 = 0; i0 < n; i0 += len) {                                                    \
            len = PREFLOSS__MIN(n - i0, PREFLOSS__STAGE);                                    \
            for (i = 0; i < len; i++) {                                                      \
                prefloss__pair_out_k o = element(pc[i0 + i], pr[i0 + i], rc[i0 + i], rr[i0 + i], c); \
                l[i] = o.loss;                                                               \
                gl[i] = o.gc;                                                                \
                kl[i] = o.kc;                                                                \
                gr[i] = o.gr;                                                                \
                kr[i] = o.kr;                                                                \
            }                                                                                \
            flags |= (plain ? prefloss__cat_out_plain : prefloss__cat_out_weighted)(         \
                loss + i0, dc + i0, dr + i0, pc + i0, pr + i0, rc + i0, rr + i0, up + i0,    \
                w + i0, s, c->nll, l, gl, kl, gr, kr, len);                                   \
        }                                                                                    \
        bad_seen = flags & 1;                                                                \
        over = flags >> 1;                                                                   \
        for (i = 0; over && i < n; i++) { /* rare: a product overflowed part-way */          \
            prefloss__pair_out_k o;                                                          \
            if (!(prefloss__fabs(dc[i]) > FLT_MAX || prefloss__fabs(dr[i]) > FLT_MAX)        \
                || !prefloss__finite(pc[i]) || !prefloss__finite(pr[i])                      \
                || !prefloss__finite(rc[i]) || !prefloss__finite(rr[i])                      \
                || !prefloss__finite(up[i]) || !prefloss__finite(w[i]))                      \
                continue;                                                                    \
            o = element(pc[i], pr[i], rc[i], rr[i], c);                                      \
            /* (a gradient that overflowed by itself stays: alpha's rescue) */                \
            if (c->nll == 0.0f && prefloss__fabs(dc[i]) > FLT_MAX && prefloss__finite(o.gc))  \
                dc[i] = prefloss__grad_times_scaled(o.gc, o.kc, up[i], w[i], s);             \
            if (prefloss__fabs(dr[i]) > FLT_MAX && prefloss__finite(o.gr))                   \
                dr[i] = prefloss__grad_times_scaled(o.gr, o.kr, up[i], w[i], s);             \
        }                                                                                    \
        return bad_seen;                                                                     \
    }

/* The label-smoothed sigmoid loss at z (a double-float), rounded, and its
 * derivative dL/dz = eps - sigma(-z) as a double-float, so that a gradient
 * formed from it is rounded once. Near z = 0 sigma(-z) - 1/2 is known only
 * to an absolute ~u^2, too little next to z/4 for tiny z (and eps = 1/2), so
 * for |z| < 1/2 the difference is tanh(z/2)/2 - (1/2 - eps) instead, with
 * the odd series of tanh (|z/2| < 1/4: to w^11, the rest below 2^-31
 * relative) on the exact z/2. */
typedef struct prefloss__ldf { float loss; prefloss__df dz; } prefloss__ldf;

/* The same with dz also times 2^(64 lvl), in *dz_s: lvl > 0 only for
 * z >= 64 lvl and eps 2^(64 lvl) < 2^-36 (see prefloss__el_js), where
 * dz = eps - e^{-z} (1 + e^{-z} is 1 there), so that a dz that underflows
 * keeps its digits until after the upstream gradient. lvl = 0: *dz_s = dz. */
PREFLOSS__INLINE prefloss__ldf prefloss__smoothed_sigmoid_sd(prefloss__df z, float eps, int lvl,
                                                             prefloss__df *dz_s)
{
    prefloss__ldf r;
    float ah = prefloss__fabs(z.hi), al = prefloss__mulsign(z.lo, z.hi);
    prefloss__df e_s = prefloss__sd_exp(ah, al, lvl);
    prefloss__df e = prefloss__sd_unscale(e_s, lvl);
    prefloss__df far = prefloss__df_add(prefloss__df_make(eps, 0.0f),
                                        prefloss__df_negate(prefloss__sigmoid_neg_df(z.hi, e, 0)));
    prefloss__df w = prefloss__df_make(0.5f * z.hi, 0.5f * z.lo), th, near;
    float w2 = w.hi * w.hi;
    float tpoly = w2 * (-1.0f / 3 + w2 * (2.0f / 15 + w2 * (-17.0f / 315 + w2 * (62.0f / 2835
                  + w2 * (-1382.0f / 155925)))));
    th = prefloss__df_add_f(w, w.hi * tpoly);                              /* tanh(z/2) */
    near = prefloss__df_add(prefloss__df_make(0.5f * th.hi, 0.5f * th.lo),
                            prefloss__df_negate(prefloss__two_sum(0.5f, -eps)));
    r.loss = prefloss__softplus_family(z.hi, z.lo, e.hi, eps, 0);
    r.dz = prefloss__df_pick(ah < 0.5f, near, far);
    *dz_s = prefloss__df_pick(lvl > 0, prefloss__df_add(prefloss__df_make(prefloss__scale2(eps, 64 * (int32_t)lvl), 0.0f),
                                                          prefloss__df_negate(e_s)), r.dz);
    return r;
}

PREFLOSS__INLINE prefloss__ldf prefloss__smoothed_sigmoid_df(prefloss__df z, float eps)
{
    prefloss__df unused;
    return prefloss__smoothed_sigmoid_sd(z, eps, 0, &unused);
}

/* One kernel per kind, all of the same shape: the element function is
 * inlined into its own loop, so each loop is branch-free and vectorises.
 * Kinds whose gradients never need scaling give a prefloss__pair_out and
 * run through PREFLOSS__CATALOGUE_KERNEL_K at level 0 (2^0: no scaling). */
#define PREFLOSS__CATALOGUE_KERNEL(name, element)                                            \
    PREFLOSS__INLINE prefloss__pair_out_k name##_el(float pc, float pr, float rc, float rr,  \
                                                    const prefloss__cat *c)                  \
    {                                                                                        \
        prefloss__pair_out o = element(pc, pr, rc, rr, c);                                   \
        return prefloss__pair_make_k(o.loss, o.gc, 0, o.gr, 0);                              \
    }                                                                                        \
    PREFLOSS__CATALOGUE_KERNEL_K(name, name##_el)

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_sigmoid_ipo.c ==== */
/* "sigmoid" (DPO, cDPO) and "ipo" in prefloss_pair_loss(): the dedicated
 * kernels of prefloss_dpo_loss() and prefloss_ipo_loss() over the whole
 * batch, then the NLL term and the weights. (Their gradients never
 * underflow before the weights, so applying those afterwards loses
 * nothing; the catalogue kernels apply them inside, see
 * prefloss__cat_loss_out.) */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* The NLL term of the dedicated DPO and IPO kernels (the catalogue kernels
 * add it themselves), applied before the weights: loss_i += lambda (-pc_i),
 * dchosen_i += -lambda dlosses_i (prefloss__add_keep where both overflow). */
static PREFLOSS_KERNEL_ATTR void prefloss__apply_nll(float *losses, float *dc, const float *pc, const float *up,
                                size_t n, float lambda)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float u = up != NULL ? up[i] : 1.0f;
        if (losses != NULL) losses[i] = prefloss__add_keep(losses[i], prefloss__times_up(-pc[i], lambda));
        if (dc != NULL) dc[i] = prefloss__add_keep(dc[i], prefloss__times_up(-lambda, u));
    }
}

/* Per-pair weights w (NULL for 1) and the mix weight s, applied after the
 * dedicated DPO and IPO kernels (the catalogue kernels apply them
 * themselves): every output of pair i times w_i s; a non-finite weight
 * makes the pair NaN. */
static PREFLOSS_KERNEL_ATTR int prefloss__apply_weights(float *losses, float *dc, float *dr, const float *w, float s, size_t n)
{
    uint32_t bad_bits = 0; /* the OR of every bad (prefloss__bits_has_nan) */
    size_t i;
    for (i = 0; i < n; i++) {
        float wi = w != NULL ? w[i] : 1.0f, bad = prefloss__nan_if_nonfinite(wi);
        if (losses != NULL) losses[i] = prefloss__weighted(prefloss__weighted(losses[i], wi), s) + bad;
        if (dc != NULL) dc[i] = prefloss__weighted(prefloss__weighted(dc[i], wi), s) + bad;
        if (dr != NULL) dr[i] = prefloss__weighted(prefloss__weighted(dr[i], wi), s) + bad;
        bad_bits |= prefloss__float_to_bits(bad);
    }
    return prefloss__bits_has_nan(bad_bits);
}

/* The registry's whole-batch kernels (PREFLOSS__KIND_WHOLE): the caller's
 * pointers, NULL-able as in prefloss_pair_loss(). */
static PREFLOSS_KERNEL_ATTR int prefloss__k_sigmoid(PREFLOSS__CAT_ARGS)
{
    int bad = prefloss_dpo_loss(loss, dc, dr, pc, pr, rc, rr, up, n, params->beta, params->eps)
           == PREFLOSS_NONFINITE;
    if (params->nll != 0.0f) prefloss__apply_nll(loss, dc, pc, up, n, params->nll);
    if (w != NULL || s != 1.0f) bad |= prefloss__apply_weights(loss, dc, dr, w, s, n);
    return bad;
}

static PREFLOSS_KERNEL_ATTR int prefloss__k_ipo(PREFLOSS__CAT_ARGS)
{
    int bad = prefloss_ipo_loss(loss, dc, dr, pc, pr, rc, rr, up, n, params->beta)
           == PREFLOSS_NONFINITE;
    if (params->nll != 0.0f) prefloss__apply_nll(loss, dc, pc, up, n, params->nll);
    if (w != NULL || s != 1.0f) bad |= prefloss__apply_weights(loss, dc, dr, w, s, n);
    return bad;
}

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_hinge_sppo.c ==== */
/* The catalogue kinds "hinge" (SLiC) and "sppo_hard": piecewise-linear and
 * squared losses, exact without special functions. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "hinge": max(0, 1 - z); dL/dz = -1 where 1 - z > 0 (0 at and beyond the hinge). */
PREFLOSS__INLINE prefloss__pair_out prefloss__el_hinge(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    float t = prefloss__df_round(prefloss__df_add_f(prefloss__df_make(-z.hi, -z.lo), 1.0f));
    float g = prefloss__select(t > 0.0f, -c->beta, 0.0f);
    return prefloss__pair_make(prefloss__select(t > 0.0f, t, 0.0f), g, -g);
}

/* "sppo_hard": (uc - c)^2 + (ur + c)^2, c = 1/(2 beta); gradients 2(uc - c), 2(ur + c). */
PREFLOSS__INLINE prefloss__pair_out prefloss__el_sppo(float pc, float pr, float rc, float rr,
                                                      const prefloss__cat *c)
{
    prefloss__df hb = c->half_inv_beta;
    prefloss__df y1 = prefloss__df_add(prefloss__diff_of_diffs(pc, rc, 0.0f, 0.0f),
                                       prefloss__df_make(-hb.hi, -hb.lo));
    prefloss__df y2 = prefloss__df_add(prefloss__diff_of_diffs(pr, rr, 0.0f, 0.0f), hb);
    prefloss__df q1 = prefloss__two_prod(y1.hi, y1.hi, 0), q2 = prefloss__two_prod(y2.hi, y2.hi, 0);
    q1.lo = prefloss__lo_if_finite(q1.hi, q1.lo + 2.0f * y1.hi * y1.lo);
    q2.lo = prefloss__lo_if_finite(q2.hi, q2.lo + 2.0f * y2.hi * y2.lo);
    return prefloss__pair_make(prefloss__df_round(prefloss__df_add(q1, q2)),
                               2.0f * prefloss__df_round(y1), 2.0f * prefloss__df_round(y2));
}

#if PREFLOSS__WIDE
/* hinge in double (see "Wide evaluation"): t = 1 - beta h, h within
 * ~2^-52 of its magnitude (prefloss__wdiff), L = max(t, 0) rounded once,
 * dL/dpc = -beta = -dL/dpr where t > 0. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_hinge(float pc, float pr, float rc, float rr,
                                                    const prefloss__cat *c)
{
    const double beta = (double)c->beta;
    double t = 1.0 - beta * prefloss__wdiff(pc, rc, pr, rr);
    double g = prefloss__select_d(t > 0.0, -beta, 0.0);
    return prefloss__wpair_make(prefloss__select_d(t > 0.0, t, 0.0), g, -g);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_hinge, prefloss__wel_hinge)

/* sppo_hard in double: y1 = uc - c, y2 = ur + c (c = 1/(2 beta), in
 * double's range for every beta; each log-ratio with its exact rounding
 * error, so that y keeps its digits where it cancels), L = y1^2 + y2^2 (two positive terms,
 * rounded once), dL/dpc = 2 y1, dL/dpr = 2 y2. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_sppo(float pc, float pr, float rc, float rr,
                                                   const prefloss__cat *c)
{
    const double hb = 0.5 / (double)c->beta;   /* 1/(2 beta), a normal double for every beta */
    double y1 = prefloss__wdiff(pc, rc, 0.0f, 0.0f) - hb, y2 = prefloss__wdiff(pr, rr, 0.0f, 0.0f) + hb;
    return prefloss__wpair_make(y1 * y1 + y2 * y2, 2.0 * y1, 2.0 * y2);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_sppo, prefloss__wel_sppo)
#else
PREFLOSS__CATALOGUE_KERNEL(prefloss__k_hinge, prefloss__el_hinge)

PREFLOSS__CATALOGUE_KERNEL(prefloss__k_sppo, prefloss__el_sppo)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_exo.c ==== */
/* The catalogue kind "exo_pair": the KL divergence between Bernoulli(sigma(z))
 * and the label-smoothed target. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* sum_{k>=3} x^k/(k(k-1)) for |x| <= 1/4, to k = 14 (the rest is below
 * 2^-30 of the sum's leading term). */
PREFLOSS__INLINE float prefloss__kl_tail(float x)
{
    float q = 1.0f / 182;
    q = 1.0f / 156 + x * q; q = 1.0f / 132 + x * q; q = 1.0f / 110 + x * q;
    q = 1.0f / 90 + x * q; q = 1.0f / 72 + x * q; q = 1.0f / 56 + x * q;
    q = 1.0f / 42 + x * q; q = 1.0f / 30 + x * q; q = 1.0f / 20 + x * q;
    q = 1.0f / 12 + x * q; q = 1.0f / 6 + x * q;
    return (x * x) * (x * q);
}

/* "exo_pair": KL(Bernoulli(s) || Bernoulli(t)), s = sigma(z), t = 1 - eps:
 * s log(s/t) + (1-s) log((1-s)/(1-t)), with log s = -sp(-z);
 * dL/dz = s(1-s)(z - log((1-eps)/eps)). Its two terms cancel as s nears
 * t. There (|x1|, |x2| <= 1/4 with r = s - t, u = 1 - t, x1 = r/t,
 * x2 = -r/u) its Taylor series in r is used instead (the k-th derivative
 * of KL in s at s = t is (k-2)! ((-1)^k/t^(k-1) + 1/u^(k-1))),
 *   KL = sum_{k>=2} (t (-x1)^k + u (-x2)^k)/(k(k-1)) = r^2/(2tu) + (t T(-x1) + u T(-x2)),
 * the leading term in double-float, the rest a small correction; elsewhere
 * the two terms are evaluated in double-float (they cancel by a small
 * factor only). The gradient beta sigma'(z)(z - d) is a product of
 * double-floats rounded once, scaled by 2^64 or 2^128 for |z| >= 64 (see
 * prefloss__sd_dsig). */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_exo(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    float ah = prefloss__fabs(z.hi), al = prefloss__mulsign(z.lo, z.hi);
    prefloss__df e = prefloss__exp_neg_df(ah, al, 0);
    prefloss__df sneg = prefloss__sigmoid_neg_df(z.hi, e, 0);       /* 1 - s */
    prefloss__df spos = prefloss__df_add_f(prefloss__df_make(-sneg.hi, -sneg.lo), 1.0f);
    /* far from the zero, in double-float too (its terms still cancel by a
     * small factor): s (log s - log t) + (1-s)(log(1-s) - log(1-t)), with
     * log s = -sp(-z) = -(relu(-z) + log1p(e)), log(1-s) = -(relu(z) + log1p(e)) */
    int pos = z.hi >= 0.0f;
    prefloss__df l1p = prefloss__log1p_unit_acc(e);                /* log1p(e), ~2^-34 */
    prefloss__df zabs = prefloss__df_make(ah, al);
    prefloss__df zero = prefloss__df_make(0.0f, 0.0f);
    prefloss__df spn = prefloss__df_add(l1p, prefloss__sd_select(pos, zero, zabs));   /* sp(-z) */
    prefloss__df spp = prefloss__df_add(l1p, prefloss__sd_select(pos, zabs, zero));   /* sp(z) */
    prefloss__df lst = prefloss__df_add(spn, c->exo_la);            /* -(log s - log t) */
    prefloss__df lsu = prefloss__df_add(spp, c->exo_lb);            /* -(log(1-s) - log(1-t)) */
    prefloss__df t1 = prefloss__df_mul(spos, lst), t2 = prefloss__df_mul(sneg, lsu);
    /* where z overflowed to +-inf, s or 1 - s is 0 and its term is 0, not 0 * inf */
    t1 = prefloss__sd_select(spos.hi != 0.0f, t1, zero);
    t2 = prefloss__sd_select(sneg.hi != 0.0f, t2, zero);
    float far = -prefloss__df_round(prefloss__df_add(t1, t2));
    /* r = s - t = eps - sigma(-z), in double-float */
    float r = prefloss__df_sub_round(prefloss__df_make(c->exo_eps, 0.0f), sneg);
    float t = 1.0f - c->exo_eps, u = c->exo_eps;     /* t + u = 1 (u = eps' <= 1/2) */
    float x1 = r / t, x2 = -r / u;
    int near = (int)(prefloss__fabs(x1) <= 0.25f) & (int)(prefloss__fabs(x2) <= 0.25f);
    float p1 = prefloss__kl_tail(prefloss__select(near, -x1, 0.0f));
    float p2 = prefloss__kl_tail(prefloss__select(near, -x2, 0.0f));
    /* r^2/(t u) in double-float: r, t = 1 - eps exact, one quotient. For
     * small |z|, r = (1/2 - t) + tanh(z/2)/2 with the odd series of tanh
     * (|z/2| < 1/4: to w^9, the rest below 2^-30 relative), as sigma(z) - 1/2
     * would cancel */
    prefloss__df w = prefloss__df_make(0.5f * z.hi, 0.5f * z.lo), rd;
    float w2 = w.hi * w.hi;
    float tpoly = w2 * (-1.0f / 3 + w2 * (2.0f / 15 + w2 * (-17.0f / 315 + w2 * (62.0f / 2835))));
    prefloss__df half_th = prefloss__df_add_f(w, w.hi * tpoly);     /* tanh(w), then halved */
    half_th.hi *= 0.5f;
    half_th.lo *= 0.5f;
    {
        prefloss__df r_sig = prefloss__df_add(prefloss__df_make(c->exo_eps, 0.0f),
                                              prefloss__df_make(-sneg.hi, -sneg.lo));
        prefloss__df r_th = prefloss__df_add_f(half_th, c->exo_eps - 0.5f);   /* eps - 1/2 exact */
        int small_z = prefloss__fabs(z.hi) < 0.5f;
        rd = prefloss__df_make(prefloss__select(small_z, r_th.hi, r_sig.hi),
                               prefloss__select(small_z, r_th.lo, r_sig.lo));
    }
    prefloss__df r2 = prefloss__two_prod(rd.hi, rd.hi, 0);
    prefloss__df tu = prefloss__df_mul_f(prefloss__two_sum(1.0f, -c->exo_eps), u, 0);
    prefloss__df lead;
    float q0, q1;
    prefloss__df pq;
    r2.lo += 2.0f * rd.hi * rd.lo;
    q0 = r2.hi / tu.hi;
    pq = prefloss__two_prod(q0, tu.hi, 0);
    q1 = (((r2.hi - pq.hi) - pq.lo) + r2.lo - q0 * tu.lo) / tu.hi;
    lead = prefloss__fast_two_sum(0.5f * q0, 0.5f * q1);            /* r^2/(2 t u) */
    float close = prefloss__df_round(prefloss__df_add_f(lead, t * p1 + u * p2));
    prefloss__df zt = prefloss__df_add(z, prefloss__df_make(-c->exo_d.hi, -c->exo_d.lo));
    int sh = prefloss__sd_level(z.hi);
    prefloss__df sd = prefloss__sd_dsig(z, sh);
    /* sigma'(z) = 0 (|z| >= 174, or z infinite): the product is 0, never 0 * inf */
    prefloss__df zz = prefloss__sd_select(sd.hi != 0.0f, zt, zero);
    float g = prefloss__df_round(prefloss__df_mul_f(prefloss__df_mul(sd, zz), c->beta, 0));
    return prefloss__pair_make_k(prefloss__select(near, close, far), g, sh, -g, sh);
}
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_exo, prefloss__el_exo)

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_robust.c ==== */
/* The catalogue kind "robust": the noise-robust sigmoid loss (cDPO's
 * unbiased form), in double where there is a double FPU, else in
 * double-float. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "robust": [(1-eps) sp(-z) - eps sp(z)]/(1 - 2eps) = sp(-z) - c z with
 * c = eps/(1 - 2eps); dL/dz = -(sigma(-z) + c). The loss's two terms cancel
 * near its zero, so sp(-z) = max(-z, 0) + log1p(e^-|z|), c and c z are all
 * formed in double-float and rounded once at the end. The gradient
 * -beta (sigma(-z) + c) is formed in double-float and rounded once; where
 * it is tiny (z >= 64 and c < 2^-64) it is carried times 2^64 or 2^128
 * until after the upstream gradient and the weights (prefloss__sd_signeg). */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_robust(float pc, float pr, float rc, float rr,
                                                          const prefloss__cat *c)
{
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    float ah = prefloss__fabs(z.hi), al = prefloss__mulsign(z.lo, z.hi);
    prefloss__df e = prefloss__exp_neg_df(ah, al, 0);
    prefloss__df l1p = prefloss__log1p_unit_df(e.hi, 0);
    prefloss__df sp, cz, loss;
    float zf;
    int pos = z.hi >= 0.0f;
    l1p = prefloss__df_add_f(l1p, e.lo / (1.0f + e.hi));     /* log1p(e.hi + e.lo) */
    /* sp(-z) = l1p for z >= 0, |z| + l1p for z < 0 */
    sp = prefloss__df_add(l1p, prefloss__df_make(prefloss__select(pos, 0.0f, ah),
                                                 prefloss__select(pos, 0.0f, al)));
    /* c z = (c_hi + c_lo)(z_hi + z_lo). Where z = beta h overflowed to
     * +-inf, c_lo z_hi would make the low part inf - inf or 0 inf = NaN: it
     * is left out, and c z is +-inf with its low part dropped below. */
    zf = prefloss__select(prefloss__fabs(z.hi) <= FLT_MAX, z.hi, 0.0f);
    cz = prefloss__two_prod(c->robust_c, z.hi, 0);
    cz = prefloss__fast_two_sum(cz.hi, cz.lo + (c->robust_c * z.lo + c->robust_c_lo * zf));
    /* eps = 0 (c = 0): no term at all, even where z is infinite (0 * inf) */
    cz = prefloss__df_make(prefloss__select(c->robust_c != 0.0f, cz.hi, 0.0f),
                           prefloss__select(c->robust_c != 0.0f, prefloss__lo_if_finite(cz.hi, cz.lo), 0.0f));
    loss = prefloss__df_add(sp, prefloss__df_make(-cz.hi, -cz.lo));
    {
        /* c 2^(64 l) is exact (c < 2^-64 where l > 0) */
        int l = prefloss__sd_level_pos(z.hi) * (int)(c->robust_c < prefloss__pow2_half(-64));
        int32_t k = 64 * (int32_t)l;
        prefloss__df cs = prefloss__df_make(prefloss__scale2(c->robust_c, k), prefloss__scale2(c->robust_c_lo, k));
        prefloss__df sum = prefloss__df_add(prefloss__sd_signeg(z, l), cs);
        float g = -prefloss__df_round(prefloss__df_mul_f(sum, c->beta, 0));
        return prefloss__pair_make_k(prefloss__df_round(loss), g, l, -g, l);
    }
}

#if PREFLOSS__WIDE
/* robust in double (see "Wide evaluation"): z = beta h (h as in the DPO
 * kernel, prefloss__wdiff), e = exp(-|z|) (the catalogue's cap), c = eps/(1 -
 * 2 eps) (its two floats, exact in double):
 *   L = sp(-z) - c z,  sp(-z) = max(-z, 0) + log1p(e),
 *   dL/dpc = -beta (sigma(-z) + c) = -dL/dpr.
 * Near the loss's zero its terms cancel, within the budget's kappa/2: their
 * error (~2^-32 of sp(-z) = c z there) is far below |z dL/dz| u. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_robust(float pc, float pr, float rc, float rr,
                                                     const prefloss__cat *c)
{
    const double beta = (double)c->beta, cc = (double)c->robust_c + (double)c->robust_c_lo;
    double z = beta * prefloss__wdiff(pc, rc, pr, rr), az = prefloss__fabs_d(z);
    double e = prefloss__wexp_neg_to(az, PREFLOSS__WEXP_CAT_CAP, 0);
    int pos = z >= 0.0;
    double sp = prefloss__select_d(pos, 0.0, az) + prefloss__wlog1p_unit(e, 0);
    double g = -beta * (prefloss__select_d(pos, e, 1.0) / (1.0 + e) + cc);
    return prefloss__wpair_make(sp - prefloss__select_d(cc != 0.0, cc * z, 0.0), g, -g);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_robust, prefloss__wel_robust)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_robust, prefloss__el_robust)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_nca_bco.c ==== */
/* The catalogue kinds "nca_pair" and "bco_pair" (each log-ratio through its
 * own sigmoid), and bco_pair's running reward mean. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "nca_pair": sp(-a) + sp(a)/2 + sp(b)/2 with a = beta uc, b = beta ur;
 * dL/dpc = beta(sigma(a)/2 - sigma(-a)), dL/dpr = beta sigma(b)/2. The
 * chosen gradient is zero at a = ln 2, where its two terms cancel. It is
 * formed as beta (1/2 - (3/2) sigma(-a)) (the same value, as sigma(a) =
 * 1 - sigma(-a)) with sigma(-a) a double-float (relative error ~2^-34), the
 * sum and the product with beta in double-float, rounded once: the
 * cancellation then costs ~2^-34 absolute, far inside the budget's
 * kappa/2 = ln2/(2|a - ln 2|) ulp near the zero, and elsewhere the result
 * is within ~1/2 ulp. The rejected gradient beta sigma(b)/2 is a
 * double-float product rounded once, carried times 2^64 or 2^128 where
 * sigma(b) is below 2^-92 (b <= -64, prefloss__sd_signeg) until after the
 * upstream gradient and the weights. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_nca(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    prefloss__df a = prefloss__beta_times_diff(c->beta, pc, rc, 0.0f, 0.0f, 0);
    prefloss__df b = prefloss__beta_times_diff(c->beta, pr, rr, 0.0f, 0.0f, 0);
    prefloss__df nb = prefloss__df_make(-b.hi, -b.lo);
    prefloss__sigvals va = prefloss__sigmoid_values(a.hi, a.lo), vb = prefloss__sigmoid_values(b.hi, b.lo);
    float loss = va.sp_neg + 0.5f * (va.sp_pos + vb.sp_pos);
    prefloss__df e = prefloss__exp_neg_df(prefloss__fabs(a.hi), prefloss__mulsign(a.lo, a.hi), 0);
    prefloss__df sneg = prefloss__sigmoid_neg_df(a.hi, e, 0);                         /* sigma(-a) */
    prefloss__df g = prefloss__df_add_f(prefloss__df_mul_f(sneg, -1.5f, 0), 0.5f);    /* g(a) */
    int lb = prefloss__sd_level_pos(nb.hi);
    prefloss__df sb = prefloss__sd_signeg(nb, lb);                                    /* sigma(b) 2^(64 lb) */
    float gr = prefloss__df_round(prefloss__df_mul_f(prefloss__df_make(0.5f * sb.hi, 0.5f * sb.lo), c->beta, 0));
    return prefloss__pair_make_k(loss, prefloss__df_round(prefloss__df_mul_f(g, c->beta, 0)), 0, gr, lb);
}

/* "bco_pair": sp(-a) + sp(b) with a = beta uc - delta, b = beta ur - delta;
 * dL/dpc = -beta sigma(-a), dL/dpr = beta sigma(b), each a double-float
 * product rounded once, carried times 2^64 or 2^128 where the sigmoid is
 * below 2^-92 (prefloss__sd_signeg) until after the upstream gradient and
 * the weights. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_bco(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    prefloss__df a = prefloss__df_add_f(prefloss__beta_times_diff(c->beta, pc, rc, 0.0f, 0.0f, 0), -c->delta);
    prefloss__df b = prefloss__df_add_f(prefloss__beta_times_diff(c->beta, pr, rr, 0.0f, 0.0f, 0), -c->delta);
    prefloss__df nb = prefloss__df_make(-b.hi, -b.lo);
    prefloss__sigvals va = prefloss__sigmoid_values(a.hi, a.lo), vb = prefloss__sigmoid_values(b.hi, b.lo);
    int la = prefloss__sd_level_pos(a.hi), lb = prefloss__sd_level_pos(nb.hi);
    float gc = -prefloss__df_round(prefloss__df_mul_f(prefloss__sd_signeg(a, la), c->beta, 0));
    float gr = prefloss__df_round(prefloss__df_mul_f(prefloss__sd_signeg(nb, lb), c->beta, 0));
    return prefloss__pair_make_k(va.sp_neg + vb.sp_pos, gc, la, gr, lb);
}

#if PREFLOSS__WIDE
/* nca_pair and bco_pair in double (see "Wide evaluation"), the formulas
 * above with a = beta uc - delta, b = beta ur - delta (delta 0 for nca; uc,
 * ur with their rounding errors, prefloss__wdiff), e = exp(-|x|) (the
 * catalogue's cap), sp(-x) = relu(-x) + log1p(e), sp(x) = relu(x) + log1p(e),
 * sigma(-x) = (x >= 0 ? e : 1)/(1 + e), sigma(x) = (x >= 0 ? 1 : e)/(1 + e):
 *   nca: L = sp(-a) + (sp(a) + sp(b))/2, dL/dpc = beta (1/2 - (3/2) sigma(-a)),
 *        dL/dpr = beta sigma(b)/2;
 *   bco: L = sp(-a) + sp(b), dL/dpc = -beta sigma(-a), dL/dpr = beta sigma(b).
 * The losses are sums of positive terms; nca's chosen gradient cancels near
 * a = ln 2 to an absolute ~2^-32, far inside the budget's kappa/2 there. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_sig2(float pc, float pr, float rc, float rr,
                                                   const prefloss__cat *c, int nca)
{
    const double beta = (double)c->beta, delta = nca ? 0.0 : (double)c->delta;
    double a = beta * prefloss__wdiff(pc, rc, 0.0f, 0.0f) - delta;
    double b = beta * prefloss__wdiff(pr, rr, 0.0f, 0.0f) - delta;
    double ea = prefloss__wexp_neg_to(prefloss__fabs_d(a), PREFLOSS__WEXP_CAT_CAP, 0);
    double eb = prefloss__wexp_neg_to(prefloss__fabs_d(b), PREFLOSS__WEXP_CAT_CAP, 0);
    double la = prefloss__wlog1p_unit(ea, 0), lb = prefloss__wlog1p_unit(eb, 0);
    double sp_neg_a = prefloss__select_d(a < 0.0, -a, 0.0) + la;
    double sp_a = prefloss__select_d(a > 0.0, a, 0.0) + la, sp_b = prefloss__select_d(b > 0.0, b, 0.0) + lb;
    double s_neg_a = prefloss__select_d(a >= 0.0, ea, 1.0) / (1.0 + ea);
    double s_b = prefloss__select_d(b >= 0.0, 1.0, eb) / (1.0 + eb);
    if (nca)
        return prefloss__wpair_make(sp_neg_a + 0.5 * (sp_a + sp_b), beta * (0.5 - 1.5 * s_neg_a), beta * (0.5 * s_b));
    return prefloss__wpair_make(sp_neg_a + sp_b, -(beta * s_neg_a), beta * s_b);
}
PREFLOSS__INLINE prefloss__wpair prefloss__wel_nca(float pc, float pr, float rc, float rr, const prefloss__cat *c)
{
    return prefloss__wel_sig2(pc, pr, rc, rr, c, 1);
}
PREFLOSS__INLINE prefloss__wpair prefloss__wel_bco(float pc, float pr, float rc, float rr, const prefloss__cat *c)
{
    return prefloss__wel_sig2(pc, pr, rc, rr, c, 0);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_nca, prefloss__wel_nca)
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_bco, prefloss__wel_bco)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_nca, prefloss__el_nca)
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_bco, prefloss__el_bco)
#endif

PREFLOSS_API int prefloss_bco_update_delta(float *delta, float *count,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen, const float *ref_rejected,
                                           size_t n, float beta)
{
    prefloss__df sum = prefloss__df_make(0.0f, 0.0f);
    size_t i;
    if (delta == NULL || count == NULL) return PREFLOSS_ERR_NULL;
    if (!prefloss__beta_ok(beta) || !prefloss__finite(*delta) || !(*count >= 0.0f && *count <= FLT_MAX))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (policy_chosen == NULL || policy_rejected == NULL || ((ref_chosen == NULL) != (ref_rejected == NULL)))
        return PREFLOSS_ERR_NULL;
    if (!prefloss__rounding_ok()) return PREFLOSS_ERR_ROUNDING;
    {
        /* the new mean is delta + sum_j (reward_j - delta)/(count + 2n): no
         * count * delta, which could overflow. The 2n deviations are summed
         * in double-float. */
        float bad = 0.0f;
        prefloss__df total = prefloss__two_sum(*count, 2.0f * (float)n); /* exact: a fractional
                                                                      * count may not fit */
        for (i = 0; i < n; i++) {
            float rc = ref_chosen != NULL ? ref_chosen[i] : 0.0f, rr = ref_rejected != NULL ? ref_rejected[i] : 0.0f;
            prefloss__df a = prefloss__beta_times_diff(beta, policy_chosen[i], rc, 0.0f, 0.0f, 0);
            prefloss__df b = prefloss__beta_times_diff(beta, policy_rejected[i], rr, 0.0f, 0.0f, 0);
            bad += prefloss__nan_if_nonfinite(policy_chosen[i]) + prefloss__nan_if_nonfinite(policy_rejected[i])
                 + prefloss__nan_if_nonfinite(rc) + prefloss__nan_if_nonfinite(rr);
            sum = prefloss__df_add(sum, prefloss__df_add_f(a, -*delta));
            sum = prefloss__df_add(sum, prefloss__df_add_f(b, -*delta));
        }
        if (bad != bad) return PREFLOSS_NONFINITE;
        {
            /* shift = sum / total (both double-floats, one correction step);
             * delta + shift can cancel: added in double-float, rounded once */
            float q0 = sum.hi / total.hi;
            prefloss__df pq = prefloss__two_prod(q0, total.hi, 0);
            float q1 = (((sum.hi - pq.hi) - pq.lo) + sum.lo - q0 * total.lo) / total.hi;
            prefloss__df shift = prefloss__fast_two_sum(q0, prefloss__lo_if_finite(q0, q1));
            float updated = prefloss__df_round(prefloss__df_add_f(shift, *delta));
            if (!prefloss__finite(updated)) return PREFLOSS_NONFINITE; /* the mean itself overflows */
            *delta = updated;
            *count = prefloss__df_round(total);
        }
    }
    return PREFLOSS_OK;
}

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_apo.c ==== */
/* The catalogue kinds "apo_zero" and "apo_down" (anchored preference
 * optimisation), each in double and in double-float side by side. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "apo_zero": sigma(-a) + sigma(b), a = beta uc, b = beta ur;
 * dL/dpc = -beta sigma'(a), dL/dpr = beta sigma'(b), sigma'(x) = sigma(x)sigma(-x)
 * in double-float and rounded once (scaled for |x| >= 64: prefloss__sd_dsig). */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_apo_zero(float pc, float pr, float rc, float rr,
                                                            const prefloss__cat *c)
{
    prefloss__df a = prefloss__beta_times_diff(c->beta, pc, rc, 0.0f, 0.0f, 0);
    prefloss__df b = prefloss__beta_times_diff(c->beta, pr, rr, 0.0f, 0.0f, 0);
    prefloss__sigvals va = prefloss__sigmoid_values(a.hi, a.lo), vb = prefloss__sigmoid_values(b.hi, b.lo);
    int sha = prefloss__sd_level(a.hi), shb = prefloss__sd_level(b.hi);
    float gc = prefloss__df_round(prefloss__df_mul_f(prefloss__sd_dsig(a, sha), -c->beta, 0));
    float gr = prefloss__df_round(prefloss__df_mul_f(prefloss__sd_dsig(b, shb), c->beta, 0));
    return prefloss__pair_make_k(va.sig_neg + vb.sig_pos, gc, sha, gr, shb);
}
#if PREFLOSS__WIDE
/* apo_zero in double (see "Wide evaluation"): a = beta uc, b = beta ur from
 * the differences rounded to double (within ~2^-52), e = exp(-|x|) (the
 * catalogue's cap), r = 1/(1 + e), sigma(-x) = (x >= 0 ? e : 1) r,
 * sigma'(x) = e r^2:
 *   L = sigma(-a) + sigma(b), dL/dpc = -beta sigma'(a), dL/dpr = beta sigma'(b). */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_apo_zero(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    const double beta = (double)c->beta;
    double a = beta * ((double)pc - (double)rc), b = beta * ((double)pr - (double)rr);
    double ea = prefloss__wexp_neg_to(prefloss__fabs_d(a), PREFLOSS__WEXP_CAT_CAP, 0);
    double eb = prefloss__wexp_neg_to(prefloss__fabs_d(b), PREFLOSS__WEXP_CAT_CAP, 0);
    double ra = 1.0 / (1.0 + ea), rb = 1.0 / (1.0 + eb);
    double l = prefloss__select_d(a >= 0.0, ea, 1.0) * ra + prefloss__select_d(b >= 0.0, 1.0, eb) * rb;
    return prefloss__wpair_make(l, -beta * ((ea * ra) * ra), beta * ((eb * rb) * rb));
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_apo_zero, prefloss__wel_apo_zero)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_apo_zero, prefloss__el_apo_zero)
#endif

/* sigma'(a) - sigma'(z) without cancellation where |a| ~ |z|. With
 * s = (z + a)/2, t = (z - a)/2 (so a = s - t, z = s + t), sigma'(x) =
 * 1/(4 cosh^2(x/2)), cosh^2 p - cosh^2 q = sinh(p + q) sinh(p - q) and
 * 2 cosh(a/2) cosh(z/2) = cosh s + cosh t:
 *   sigma'(a) - sigma'(z) = sinh(s) sinh(t) / (cosh s + cosh t)^2
 *                         (= 4 sinh(s) sinh(t) sigma'(a) sigma'(z)).
 * With m, n the larger and the smaller of s, t in magnitude and E = e^-|m|
 * this is, without overflow,
 *   sgn(s) sgn(t) sinh|n| 2E (1 - E^2) / (1 + E^2 + 2E cosh n)^2.
 * Used where |n| < 1/4 (sinh and cosh of n by their series, sinh's leading
 * term exact); 1 - E^2 = 1 - e^-y (y = 2|m|) by its series for y <= 1/2.
 * All in double-float, times 2^(64 lvl) (lvl > 0 only where |m| >= 64 lvl:
 * there E drops out of 1 - E^2 and of the denominator), and times 2^64 more
 * where tiny is set (|n| < 2^-32: the result is ~ 2E|n|). */
PREFLOSS__INLINE prefloss__df prefloss__sd_dsig_diff(prefloss__df s, prefloss__df t, int lvl, int tiny)
{
    int s_big = prefloss__fabs(s.hi) >= prefloss__fabs(t.hi);
    prefloss__df m = prefloss__sd_select(s_big, s, t), n = prefloss__sd_select(s_big, t, s);
    float sgn = prefloss__mulsign(prefloss__mulsign(1.0f, s.hi), t.hi);
    float mh = prefloss__fabs(m.hi), ml = prefloss__mulsign(m.lo, m.hi);
    int n_small = prefloss__fabs(n.hi) < 0.25f;
    float nh = prefloss__select(n_small, prefloss__fabs(n.hi), 0.0f);
    float nl = prefloss__select(n_small, prefloss__mulsign(n.lo, n.hi), 0.0f);
    float n2 = nh * nh;
    /* sinh|n| = |n| + |n|^3 (1/6 + n^2/120 + ...), cosh n - 1 = n^2 (1/2 + n^2/24 + ...) */
    prefloss__df sh = prefloss__df_add_f(prefloss__df_make(nh, nl),
                                         nh * n2 * (1.0f / 6 + n2 * (1.0f / 120 + n2 * (1.0f / 5040 + n2 * (1.0f / 362880)))));
    float sc = prefloss__select(tiny, prefloss__pow2_half(64), 1.0f);
    float ch1 = n2 * (0.5f + n2 * (1.0f / 24 + n2 * (1.0f / 720 + n2 * (1.0f / 40320))));
    prefloss__df e = prefloss__sd_exp(mh, ml, lvl);
    prefloss__df ed = prefloss__sd_select(lvl > 0, prefloss__df_make(0.0f, 0.0f), e);
    /* 1 - e^-y: y - y^2/2 + y^3 (1/6 - y/24 + ...) for y <= 1/2, else 1 - E^2 */
    prefloss__df y = prefloss__df_make(2.0f * mh, 2.0f * ml);
    float yc = prefloss__select(mh <= 0.25f, y.hi, 0.0f);
    prefloss__df y2 = prefloss__two_prod(yc, yc, 0);
    float p = 1.0f / 6 + yc * (-1.0f / 24 + yc * (1.0f / 120 + yc * (-1.0f / 720 + yc * (1.0f / 5040
              + yc * (-1.0f / 40320 + yc * (1.0f / 362880 + yc * (-1.0f / 3628800 + yc * (1.0f / 39916800))))))));
    prefloss__df f_small = prefloss__df_add(y, prefloss__df_make(-0.5f * y2.hi, -0.5f * (y2.lo + 2.0f * yc * y.lo)));
    prefloss__df e2 = prefloss__df_mul(ed, ed);
    prefloss__df f_big = prefloss__df_add_f(prefloss__df_make(-e2.hi, -e2.lo), 1.0f);
    prefloss__df f, num, den, den1;
    f_small = prefloss__df_add_f(f_small, yc * y2.hi * p);
    f = prefloss__sd_select(mh <= 0.25f, f_small, f_big);
    num = prefloss__df_mul(prefloss__df_mul(e, f), prefloss__df_make(sc * sh.hi, sc * sh.lo));
    den1 = prefloss__df_add_f(ed, 1.0f);                                 /* 1 + E */
    den = prefloss__df_add_f(prefloss__df_mul(den1, den1), 2.0f * ed.hi * ch1); /* (1+E)^2 + 2E(cosh n - 1) */
    num = prefloss__sd_div(num, prefloss__df_mul(den, den));
    return prefloss__df_make(2.0f * sgn * num.hi, 2.0f * sgn * num.lo);
}

/* "apo_down": sigma(a) + sigma(-z), a = beta uc, z = beta h;
 * dL/dpc = beta(sigma'(a) - sigma'(z)), dL/dpr = beta sigma'(z). The
 * difference cancels where |a| ~ |z| (beta ur ~ 0, or 2a ~ beta ur): there
 * it is prefloss__sd_dsig_diff, elsewhere (where it loses at most a factor
 * ~32) the difference of the two double-floats. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_apo_down(float pc, float pr, float rc, float rr,
                                                            const prefloss__cat *c)
{
    prefloss__df a = prefloss__beta_times_diff(c->beta, pc, rc, 0.0f, 0.0f, 0);
    prefloss__df b = prefloss__beta_times_diff(c->beta, pr, rr, 0.0f, 0.0f, 0);
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    /* s = (z + a)/2 = beta((pc - rc) - (pr - rr)/2) from exact differences */
    prefloss__df s = prefloss__beta_times_diff(c->beta, pc, rc, 0.5f * pr, 0.5f * rr, 0);
    prefloss__df t = prefloss__df_make(-0.5f * b.hi, -0.5f * b.lo);       /* (z - a)/2 */
    prefloss__sigvals va = prefloss__sigmoid_values(a.hi, a.lo), vz = prefloss__sigmoid_values(z.hi, z.lo);
    int shz = prefloss__sd_level(z.hi), sha = prefloss__sd_level(a.hi);
    int sh = sha < shz ? sha : shz;                                     /* for dL/dpc */
    prefloss__df dz = prefloss__sd_dsig(z, shz), da = prefloss__sd_dsig(a, sh);
    /* sigma'(z) at dL/dpc's scale: where z is scaled more than a, sigma'(a)
     * dominates the difference (or it is formed by prefloss__sd_dsig_diff) */
    float f = prefloss__sd_unit(shz - sh);
    prefloss__df direct = prefloss__df_add(da, prefloss__df_make(-f * dz.hi, -f * dz.lo));
    int use_near = (int)(prefloss__fabs(s.hi) < 0.25f) | (int)(prefloss__fabs(t.hi) < 0.25f);
    /* where |s| or |t| is below 2^-32 the difference is scaled by 2^64 more */
    int tiny = (int)(prefloss__fabs(s.hi) < 2.32830644e-10f) | (int)(prefloss__fabs(t.hi) < 2.32830644e-10f);
    prefloss__df near = prefloss__sd_dsig_diff(s, t, sh, tiny);
    prefloss__df d = prefloss__sd_select(use_near, near, direct);
    float gc = prefloss__df_round(prefloss__df_mul_f(d, c->beta, 0));
    float gr = prefloss__df_round(prefloss__df_mul_f(dz, c->beta, 0));
    return prefloss__pair_make_k(va.sig_pos + vz.sig_neg, gc, sh + tiny, gr, shz);
}
#if PREFLOSS__WIDE
/* sinh(x) for 0 <= x < 1/2 by its series to x^15 (the rest < 2^-60 relative). */
PREFLOSS__INLINE double prefloss__wsinh_small(double x)
{
    double t = x * x;
    double q = PREFLOSS__MADD_D(0, t, 1.0 / 1307674368000.0, 1.0 / 6227020800.0);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 39916800);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 362880);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 5040);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 120);
    q = PREFLOSS__MADD_D(0, t, q, 1.0 / 6);
    return PREFLOSS__MADD_D(0, x * t, q, x);
}

/* apo_down in double (see "Wide evaluation"): uc, ur as differences rounded
 * to double with their exact errors (TwoSum), a = beta uc, z = beta h and
 * s = (z + a)/2 = beta(uc - ur/2) from them (each within ~2^-52), t = (z -
 * a)/2 = -beta ur/2; e, r, sigma and sigma' as in apo_zero:
 *   L = sigma(a) + sigma(-z), dL/dpr = beta sigma'(z),
 *   dL/dpc = beta (sigma'(a) - sigma'(z)).
 * The difference cancels where |s| or |t| is small; there (the smaller of
 * them, n, below 1/2 in magnitude; m the larger) it is
 *   sigma'(a) - sigma'(z) = 4 sinh(s) sinh(t) sigma'(a) sigma'(z)
 *                         = sgn(s t) 4 sinh|n| (sinh|m| sigma'(a)) sigma'(z),
 * sinh|n| by its series, sinh|m| by its series below 1/2 and as
 * (1/E - E)/2, E = exp(-|m|), above; the product sinh|m| sigma'(a) is
 * ~e^(|m| - |a|), |m| - |a| <= |n|, so nothing overflows or underflows.
 * Elsewhere the difference loses at most a factor ~5 (at s = t = 1/2). */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_apo_down(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    const double beta = (double)c->beta;
    double ec, er;                                     /* the exact errors */
    double xc = prefloss__wtwo_diff((double)pc, (double)rc, &ec), xr = prefloss__wtwo_diff((double)pr, (double)rr, &er);
    double a = beta * xc, z = beta * ((xc - xr) + (ec - er));
    double sv = beta * ((xc - 0.5 * xr) + (ec - 0.5 * er)), tv = -0.5 * (beta * xr);
    double as = prefloss__fabs_d(sv), at = prefloss__fabs_d(tv);
    double m = prefloss__select_d(as >= at, as, at), nn = prefloss__select_d(as >= at, at, as);
    int near = nn < 0.5, m_small = m < 0.5;
    double ea = prefloss__wexp_neg_to(prefloss__fabs_d(a), PREFLOSS__WEXP_CAT_CAP, 0);
    double ez = prefloss__wexp_neg_to(prefloss__fabs_d(z), PREFLOSS__WEXP_CAT_CAP, 0);
    double em = prefloss__wexp_neg_to(m, PREFLOSS__WEXP_CAT_CAP, 0);
    double ra = 1.0 / (1.0 + ea), rz = 1.0 / (1.0 + ez);
    double da = (ea * ra) * ra, dz = (ez * rz) * rz;
    double sh_n = prefloss__wsinh_small(prefloss__select_d(near, nn, 0.0));
    double sh_m = prefloss__select_d(m_small, prefloss__wsinh_small(prefloss__select_d(m_small, m, 0.0)),
                                     0.5 * (1.0 / em - em));
    double sgn = prefloss__bits_to_double(0x3ff0000000000000ull
        | ((prefloss__double_to_bits(sv) ^ prefloss__double_to_bits(tv)) & 0x8000000000000000ull));
    double d_near = (4.0 * sgn) * (sh_n * ((sh_m * da) * dz));
    double l = prefloss__select_d(a >= 0.0, 1.0, ea) * ra + prefloss__select_d(z >= 0.0, ez, 1.0) * rz;
    return prefloss__wpair_make(l, beta * prefloss__select_d(near, d_near, da - dz), beta * dz);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_apo_down, prefloss__wel_apo_down)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_apo_down, prefloss__el_apo_down)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_discopop.c ==== */
/* The catalogue kind "discopop": a sigmoid/exponential blend of the DPO
 * loss, switched by sigma(z/tau). */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "discopop": m sp(-z) + w e^{-z} with w = sigma(x), m = 1 - w = sigma(-x),
 * x = z/tau. The product w e^{-z} is formed as exp(-(z + sp(-x))) (for
 * tau <= 1 the exponent is <= 0), so that z << 0 gives a finite loss rather
 * than 0 * inf = NaN. Everything is a double-float: z (never rounded), x,
 * the exponent, every term. The gradient
 *   dL/dz = -(w m/tau) sp(-z) - m sigma(-z) + w e^{-z} (m/tau - 1)
 *         = (m/tau)(w e^{-z} - w sp(-z)) - m sigma(-z) - w e^{-z}
 * has zeros (z ~ -0.119 and 0.072 for tau = 0.05) where terms of size ~1
 * cancel: they are summed in double-float and rounded once. Where it
 * underflows (z > 63) it is -w e^{-z}, carried times 2^64 or 2^128 until
 * after the upstream gradient (as exo_pair's, prefloss__sd_dsig). */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_discopop(float pc, float pr, float rc, float rr,
                                                            const prefloss__cat *c)
{
    prefloss__df z = prefloss__beta_times_diff(c->beta, pc, rc, pr, rr, 0);
    prefloss__df x = prefloss__df_div_sat(z, c->tau);                      /* z/tau */
    prefloss__df ez = prefloss__exp_neg_abs_df(z), ex = prefloss__exp_neg_abs_df(x);
    prefloss__df spz = prefloss__softplus_neg_df(z, ez);                  /* sp(-z) */
    prefloss__df sz = prefloss__sigmoid_neg_df(z.hi, ez, 0);              /* sigma(-z) */
    prefloss__df m = prefloss__sigmoid_neg_df(x.hi, ex, 0);               /* sigma(-x) */
    prefloss__df w = prefloss__sigmoid_neg_df(-x.hi, ex, 0);              /* sigma(x) */
    prefloss__df a = prefloss__df_add(z, prefloss__softplus_neg_df(x, ex)); /* z + sp(-x) >= 0 */
    prefloss__df we, t1, d;
    /* z = -inf (beta h beyond the float range) makes a = -inf + inf: its
     * value there is +inf for tau < 1 (w e^{-z} -> 0) and 0 for tau = 1 */
    int a_ok = a.hi == a.hi, a_pos = a.hi > 0.0f;
    float ah = prefloss__select(a_ok, prefloss__select(a_pos, a.hi, 0.0f),
                                prefloss__select(c->tau < 1.0f, FLT_MAX * 2.0f, 0.0f));
    float al = prefloss__select(a_ok & a_pos, a.lo, 0.0f);
    float loss, gs;
    /* w e^{-z} times 2^(64 la) (la > 0 for a >= 64) */
    int la = prefloss__sd_level(ah), lg = la * (int)(z.hi > 0.0f);
    prefloss__df we_s = prefloss__sd_exp(ah, al, la);
    we = prefloss__sd_unscale(we_s, la);                                  /* w e^{-z} */
    loss = prefloss__df_round(prefloss__df_add(prefloss__df_mul_sat(m, spz), we));
    /* (w sp(-z) -> 0 as z -> -inf: zero-safe, never 0 * inf) */
    t1 = prefloss__df_add(we, prefloss__df_negate(prefloss__df_mul_sat(w, spz)));
    t1 = prefloss__df_div_sat(prefloss__df_mul_sat(m, t1), c->tau);
    d = prefloss__df_add(prefloss__df_add(t1, prefloss__df_negate(prefloss__df_mul_sat(m, sz))),
                         prefloss__df_negate(we));
    /* for z > 0 and a >= 64 (so z > 63) the other terms are below e^-63 of
     * w e^{-z}: dL/dz = -w e^{-z}, kept scaled until after the upstream
     * gradient (it underflows from z ~ 87 on) */
    d = prefloss__df_pick(lg > 0, prefloss__df_negate(we_s), d);
    gs = prefloss__df_round(prefloss__df_mul_f(d, c->beta, 0));
    return prefloss__pair_make_k(loss, gs, lg, -gs, lg);
}

#if PREFLOSS__WIDE
/* discopop in double (see "Wide evaluation"), the same formulas as above:
 * z = beta h (prefloss__wdiff), x = z/tau, e = exp(-|z|), ex = exp(-|x|)
 * (the catalogue's cap), sp(-z) = max(-z, 0) + log1p(e), sigma(-z),
 * m = sigma(-x), w = sigma(x), w e^{-z} = exp(-a), a = z + sp(-x) >= 0:
 *   L = m sp(-z) + exp(-a),
 *   dL/dz = (m/tau)(exp(-a) - w sp(-z)) - m sigma(-z) - exp(-a).
 * Every term is within ~2^-32 of itself: near the gradient's zeros (terms
 * ~1 cancelling) that is far inside the budget's kappa/2, and for z > 0
 * large the gradient is -exp(-a) to the same relative accuracy, in
 * double's range: nothing underflows before the weights (the cap e^-500
 * is below 2^-150 times any product of beta and the three factors). */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_discopop(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    const double beta = (double)c->beta, tau = (double)c->tau;
    double z = beta * prefloss__wdiff(pc, rc, pr, rr), x = z / tau;
    double e = prefloss__wexp_neg_to(prefloss__fabs_d(z), PREFLOSS__WEXP_CAT_CAP, 0);
    double ex = prefloss__wexp_neg_to(prefloss__fabs_d(x), PREFLOSS__WEXP_CAT_CAP, 0);
    double rz = 1.0 / (1.0 + e), rx = 1.0 / (1.0 + ex);
    double spz = prefloss__select_d(z < 0.0, -z, 0.0) + prefloss__wlog1p_unit(e, 0);
    double sz = prefloss__select_d(z >= 0.0, e, 1.0) * rz;                /* sigma(-z) */
    double m = prefloss__select_d(x >= 0.0, ex, 1.0) * rx;                /* sigma(-x) */
    double wx = prefloss__select_d(x >= 0.0, 1.0, ex) * rx;               /* sigma(x) */
    double a = z + (prefloss__select_d(x < 0.0, -x, 0.0) + prefloss__wlog1p_unit(ex, 0));
    double we = prefloss__wexp_neg_to(prefloss__select_d(a > 0.0, a, 0.0), PREFLOSS__WEXP_CAT_CAP, 0);
    double d = (m * (1.0 / tau)) * (we - wx * spz) - m * sz - we;
    return prefloss__wpair_make(m * spz + we, beta * d, -(beta * d));
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_discopop, prefloss__wel_discopop)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_discopop, prefloss__el_discopop)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_divergence.c ==== */
/* The f-divergence kinds "js_divergence" and "alpha_divergence": the sigmoid
 * loss on a transformed log-ratio difference, and alpha's rescue of
 * results that overflow alone but not after the weights. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* ln cosh(x) - x^2/2 for |x| <= 1/4 (Taylor to x^12; the rest is below
 * 2^-30 of the first term). */
PREFLOSS__INLINE float prefloss__lncosh_tail(float x)
{
    float t = x * x;
    return t * t * (-1.0f / 12 + t * (1.0f / 45 + t * (-17.0f / 2520 + t * (31.0f / 14175
                    + t * (-691.0f / 935550)))));
}

/* "js_divergence": the sigmoid loss on beta h' with h' = h - (sp(uc) - sp(ur)),
 * i.e. sp(-ur) - sp(-uc) (the same, since sp(x) = x + sp(-x)), as a
 * double-float:
 *  - where |uc| or |ur| >= 1/2, as [relu(-ur) - relu(-uc)] + [log1p(e^-|ur|)
 *    - log1p(e^-|uc|)]: the first bracket is exactly h, uc, -ur or 0 (by the
 *    signs), the second a difference of double-floats (nothing large cancels);
 *  - where both are below 1/2, with sp(-u) = ln 2 - u/2 + ln cosh(u/2) and
 *    ln cosh(x) = x^2/2 + T(x): h' = h (4 - (uc + ur))/8 + T(ur/2) - T(uc/2),
 *    so h' keeps its relative accuracy however small it is next to uc, ur.
 * dh'/duc = sigma(-uc), dh'/dur = -sigma(-ur); each gradient is a
 * double-float product, rounded once. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_js(float pc, float pr, float rc, float rr,
                                                      const prefloss__cat *c)
{
    prefloss__df uc = prefloss__diff_of_diffs(pc, rc, 0.0f, 0.0f), ur = prefloss__diff_of_diffs(pr, rr, 0.0f, 0.0f);
    prefloss__df h = prefloss__diff_of_diffs(pc, rc, pr, rr);
    /* e^{-|u|} times 2^(64 l) (l > 0 for |u| >= 64), and unscaled */
    int lc = prefloss__sd_level(uc.hi), lr = prefloss__sd_level(ur.hi);
    prefloss__df ecs = prefloss__sd_exp(prefloss__fabs(uc.hi), prefloss__mulsign(uc.lo, uc.hi), lc);
    prefloss__df ers = prefloss__sd_exp(prefloss__fabs(ur.hi), prefloss__mulsign(ur.lo, ur.hi), lr);
    prefloss__df ec = prefloss__sd_unscale(ecs, lc), er = prefloss__sd_unscale(ers, lr), dzs, z;
    int lz;
    prefloss__df zero = prefloss__df_make(0.0f, 0.0f), rel, far, near, q, hp;
    int nc = uc.hi < 0.0f, nr = ur.hi < 0.0f;
    int small = (int)(prefloss__fabs(uc.hi) < 0.5f) & (int)(prefloss__fabs(ur.hi) < 0.5f);
    prefloss__ldf l;
    rel = prefloss__df_pick(nc & nr, h, prefloss__df_pick(nc, uc, prefloss__df_pick(nr, prefloss__df_negate(ur), zero)));
    far = prefloss__df_add(rel, prefloss__df_add(prefloss__log1p_unit_acc(er),
                                                 prefloss__df_negate(prefloss__log1p_unit_acc(ec))));
    q = prefloss__df_add_f(prefloss__df_negate(prefloss__df_add(uc, ur)), 4.0f);   /* 4 - (uc + ur) */
    near = prefloss__df_mul_sat(h, q);
    near = prefloss__df_add_f(prefloss__df_make(0.125f * near.hi, 0.125f * near.lo),
                              prefloss__lncosh_tail(0.5f * prefloss__select(small, ur.hi, 0.0f))
                              - prefloss__lncosh_tail(0.5f * prefloss__select(small, uc.hi, 0.0f)));
    hp = prefloss__df_pick(small, near, far);
    z = prefloss__df_mul_f(hp, c->beta, 0);
    /* dL/dz = eps - sigma(-z) underflows only for eps ~ 0 and z >~ 87: there
     * it is carried times 2^64 (eps < 2^-100) or 2^128 (eps = 0, z >= 128),
     * so that eps 2^(64 lz) stays below 2^-36 */
    lz = (int)(z.hi >= 64.0f) * (int)(c->eps < 7.888609e-31f) + (int)(z.hi >= 128.0f) * (int)(c->eps == 0.0f);
    l = prefloss__smoothed_sigmoid_sd(z, c->eps, lz, &dzs);
    {
        /* sigma(-u) = e^{-u} for u >= 64 (1 + e^{-u} is 1), times 2^(64 l);
         * a product of levels above 3 (dL/dz and sigma(-u) both < e^-128) is 0 */
        int sc_l = lc * (int)(uc.hi > 0.0f), sr_l = lr * (int)(ur.hi > 0.0f);
        int tc = lz + sc_l, tr = lz + sr_l, okc = tc <= 3, okr = tr <= 3;
        prefloss__df sc = prefloss__df_pick(sc_l > 0, ecs, prefloss__sigmoid_neg_df(uc.hi, ec, 0));
        prefloss__df sr = prefloss__df_pick(sr_l > 0, ers, prefloss__sigmoid_neg_df(ur.hi, er, 0));
        float gc = prefloss__df_round(prefloss__df_mul_f(prefloss__df_mul_sat(dzs, sc), c->beta, 0));
        float gr = prefloss__df_round(prefloss__df_mul_f(prefloss__df_mul_sat(dzs, sr), c->beta, 0));
        return prefloss__pair_make_k(l.loss, prefloss__select(okc, gc, 0.0f), tc * okc,
                                     prefloss__select(okr, -gr, 0.0f), tr * okr);
    }
}

/* TRL's cap_exp on a double-float exponent v: e^{min(v, cap)} as a
 * double-float (exp_neg_df of -v: the reduction also serves positive
 * exponents up to the cap, where e^v is still finite). below: v < cap,
 * where the derivative is e^v (0 above, as for a clamp). */
PREFLOSS__INLINE prefloss__df prefloss__cap_exp_df(prefloss__df v, int *below, prefloss__df *capped)
{
    int in = (int)(v.hi < PREFLOSS__EXP_CAP) | ((int)(v.hi == PREFLOSS__EXP_CAP) & (int)(v.lo < 0.0f));
    *below = in;
    *capped = prefloss__df_make(prefloss__select(in, v.hi, PREFLOSS__EXP_CAP), prefloss__select(in, v.lo, 0.0f));
    return prefloss__exp_neg_df(-capped->hi, -capped->lo, 0);
}

/* "alpha_divergence": the sigmoid loss on z = beta h' with
 * h' = (e^{-a ur} - e^{-a uc})/a, the exponents capped at 88.7228 as TRL's
 * cap_exp does. The exponents -a u are double-floats (u never rounded), so
 * are the exponentials; where they nearly cancel (both uncapped,
 * |a h| < 0.347) the difference is -e^{-a ur} expm1(-a h), expm1 of the
 * double-float -a h by its Taylor series (y + y^2/2 in double-float, the
 * rest below 2^-35). z = d (beta/a) with beta/a a double-float, so nothing
 * is rounded before the loss. dh'/duc = e^{-a uc}, dh'/dur = -e^{-a ur}
 * (0 where capped). */
/* alpha_divergence's values before the upstream gradient: z = d (beta/alpha)
 * with d = e^{-a ur} - e^{-a uc}, the loss, and dL/dz times each (capped)
 * exponential; shared by the element and prefloss__alpha_rescue. */
typedef struct prefloss__alpha_parts {
    prefloss__df d, z, gc, gr;   /* gc = dL/dz e^{-a uc} 2^(64 lc), gr = dL/dz e^{-a ur} 2^(64 lr) */
    float loss;
    int below_c, below_r, lc, lr;
} prefloss__alpha_parts;

/* dL/dz e^v for the smoothed sigmoid's dL/dz = eps - sigma(-z) and a
 * double-float exponent v <= cap, times 2^(64 *lvl) (see prefloss__sd_dsig):
 * for z >= 1/2 as eps e^v - e^{-(z - v)}/(1 + e^{-z}), the exponents
 * combined first, so that where sigma(-z) is subnormal but the product is
 * not (e^v up to 3.4e38) no digit is lost; elsewhere the product of dz and
 * e^v. The level is that of e^v (v <= -64), or for eps = 0 and z >= 1/2
 * that of e^{v - z} (z - v >= 64): the gradient, subnormal there, keeps
 * its digits until after the upstream gradient. */
PREFLOSS__INLINE prefloss__df prefloss__dz_times_exp(prefloss__df z, prefloss__df dz, prefloss__df v,
                                                     float eps, int *lvl)
{
    prefloss__df ez = prefloss__exp_neg_abs_df(z), den = prefloss__df_add_f(ez, 1.0f);
    prefloss__df a = prefloss__df_add(z, prefloss__df_negate(v)), t, q, es;
    int hi_z = z.hi >= 0.5f, lv, la, l;
    a = prefloss__df_pick(a.hi == a.hi, a, prefloss__df_make(FLT_MAX * 2.0f, 0.0f));  /* z = inf */
    lv = prefloss__sd_level(v.hi) * (int)(v.hi < 0.0f);
    la = prefloss__sd_level(a.hi) * (int)(a.hi > 0.0f);
    l = lv + (la - lv) * ((int)(eps == 0.0f) & hi_z);
    es = prefloss__sd_exp(-v.hi, -v.lo, lv);                /* e^v 2^(64 lv) */
    t = prefloss__sd_exp(a.hi, a.lo, l);                    /* e^{v - z} 2^(64 l) */
    q = prefloss__sd_div(t, den);
    *lvl = l;
    return prefloss__df_pick(hi_z, prefloss__df_add(prefloss__df_mul_f(es, eps, 0), prefloss__df_negate(q)),
                             prefloss__df_mul_sat(dz, es));
}

PREFLOSS__INLINE prefloss__alpha_parts prefloss__alpha_eval(float pc, float pr, float rc, float rr,
                                                            const prefloss__cat *c)
{
    prefloss__alpha_parts o;
    prefloss__df uc = prefloss__diff_of_diffs(pc, rc, 0.0f, 0.0f), ur = prefloss__diff_of_diffs(pr, rr, 0.0f, 0.0f);
    prefloss__df y = prefloss__df_mul_f(prefloss__diff_of_diffs(pc, rc, pr, rr), -c->alpha, 0);  /* -a h */
    prefloss__df y2, em1, qd, ec, er, vc, vr;
    prefloss__ldf l;
    float yh, yl, rest;
    int near;
    ec = prefloss__cap_exp_df(prefloss__df_mul_f(uc, -c->alpha, 0), &o.below_c, &vc);
    er = prefloss__cap_exp_df(prefloss__df_mul_f(ur, -c->alpha, 0), &o.below_r, &vr);
    near = (int)(o.below_c & o.below_r) & (int)(prefloss__fabs(y.hi) < 0.34657359f);
    yh = prefloss__select(near, y.hi, 0.0f);
    yl = prefloss__select(near, y.lo, 0.0f);
    y2 = prefloss__two_prod(yh, yh, 0);
    y2.lo += 2.0f * yh * yl;
    rest = yh * yh * yh * (1.0f / 6 + yh * (1.0f / 24 + yh * (1.0f / 120 + yh * (1.0f / 720
           + yh * (1.0f / 5040 + yh * (1.0f / 40320 + yh * (1.0f / 362880)))))));
    em1 = prefloss__df_add_f(prefloss__df_add(prefloss__df_make(yh, yl),
                                              prefloss__df_make(0.5f * y2.hi, 0.5f * y2.lo)), rest);
    o.d = prefloss__df_pick(near, prefloss__df_negate(prefloss__df_mul_sat(er, em1)),
                            prefloss__df_add(er, prefloss__df_negate(ec)));
    qd = c->beta_alpha;   /* beta/a as a double-float (prefloss__prepare_catalogue) */
    /* where beta/a is beyond the float range (beta ~ FLT_MAX, a < 1), z is
     * (d beta)/a instead: finite wherever z is (then d beta < FLT_MAX a) */
    o.z = prefloss__df_pick(qd.hi <= FLT_MAX, prefloss__df_mul_sat(o.d, qd),
                            prefloss__df_div_sat(prefloss__df_mul_sat(o.d, prefloss__df_make(c->beta, 0.0f)),
                                                 c->alpha));
    l = prefloss__smoothed_sigmoid_df(o.z, c->eps);
    o.loss = l.loss;
    o.gc = prefloss__dz_times_exp(o.z, l.dz, vc, c->eps, &o.lc);
    o.gr = prefloss__dz_times_exp(o.z, l.dz, vr, c->eps, &o.lr);
    return o;
}

PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_alpha(float pc, float pr, float rc, float rr,
                                                         const prefloss__cat *c)
{
    prefloss__alpha_parts o = prefloss__alpha_eval(pc, pr, rc, rr, c);
    float gc = prefloss__df_round(prefloss__df_mul_f(o.gc, c->beta, 0));
    float gr = prefloss__df_round(prefloss__df_mul_f(o.gr, c->beta, 0));
    return prefloss__pair_make_k(o.loss, prefloss__select(o.below_c, gc, 0.0f), o.lc,
                                 prefloss__select(o.below_r, -gr, 0.0f), o.lr);
}

#if !PREFLOSS__WIDE
/* alpha_divergence can overflow where the exact output is in range: beta h'
 * (or beta e^{-a u} in a gradient) exceeds the float range, and the
 * per-pair weight, the mix weight or the upstream gradient would bring it
 * back. Run after the kernel (which adds the NLL term): every output that came out
 * +-inf for a pair with finite inputs, weights and upstream gradient is
 * recomputed as one scaled product (the loss is then (1-eps)|z| or eps z,
 * log1p(e^-|z|) being 0 next to it), plus the NLL term. Scalar, and only
 * reached where an output is infinite. */
static PREFLOSS_KERNEL_ATTR void prefloss__alpha_rescue(float *losses, float *dc, float *dr, const float *pc, const float *pr,
                                   const float *rc, const float *rr, const float *w, float s,
                                   const float *up, size_t n, const prefloss__cat *c, float lambda)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float wi = w != NULL ? w[i] : 1.0f, ui = up != NULL ? up[i] : 1.0f;
        float rci = rc != NULL ? rc[i] : 0.0f, rri = rr != NULL ? rr[i] : 0.0f;
        int l_inf = losses != NULL && prefloss__fabs(losses[i]) > FLT_MAX && losses[i] == losses[i];
        int c_inf = dc != NULL && prefloss__fabs(dc[i]) > FLT_MAX && dc[i] == dc[i];
        int r_inf = dr != NULL && prefloss__fabs(dr[i]) > FLT_MAX && dr[i] == dr[i];
        prefloss__alpha_parts o;
        float f[6], g[2], h[3];
        if (!(l_inf || c_inf || r_inf)) continue;
        if (!prefloss__finite(pc[i]) || !prefloss__finite(pr[i]) || !prefloss__finite(rci)
            || !prefloss__finite(rri) || !prefloss__finite(wi) || wi == 0.0f || s == 0.0f) continue;
        o = prefloss__alpha_eval(pc[i], pr[i], rci, rri, c);
        if (l_inf && prefloss__fabs(o.z.hi) > FLT_MAX) {
            /* s w [((1-eps) relu(-z) + eps relu(z)) + lambda (-pc)], z = d beta/alpha */
            f[0] = prefloss__fabs(prefloss__df_round(o.d));
            f[1] = c->beta;
            f[2] = o.d.hi < 0.0f ? 1.0f - c->eps : c->eps;
            g[0] = lambda;        /* the NLL term */
            g[1] = -pc[i];
            h[0] = wi;
            h[1] = s;
            losses[i] = prefloss__scaled_sum_times(f, 3, c->alpha, g, 2, h, 2);
        }
        if ((c_inf || r_inf) && prefloss__finite(ui)) {
            f[0] = c->beta;
            f[2] = ui;
            f[3] = wi;
            f[5] = s;
            if (c_inf && o.below_c) {
                /* s w u [beta g 2^(-64 lc) - lambda]: the two terms can cancel
                 * exactly (beta g = lambda), so their common factors come last */
                float fc[3];
                fc[0] = c->beta;
                fc[1] = prefloss__df_round(o.gc);
                fc[2] = prefloss__sd_unit(o.lc);  /* 2^(-64 lc), exact */
                g[0] = -lambda;   /* the NLL term */
                h[0] = ui;
                h[1] = wi;
                h[2] = s;
                dc[i] = prefloss__scaled_sum_times(fc, 3, 1.0f, g, 1, h, 3);
            }
            if (r_inf && o.below_r) {
                f[1] = prefloss__df_round(o.gr);
                f[4] = prefloss__sd_unit(o.lr);
                dr[i] = -prefloss__scaled_product(f, 6, 1.0f);
            }
        }
    }
}
#define PREFLOSS__ALPHA_FIXUP prefloss__alpha_rescue
#else
/* The wide kernel forms every output in double's range and rounds it once
 * (prefloss__wloss_cat, prefloss__wgrad_cat, prefloss__wgrad_nll_cat): an
 * output that is +-inf is beyond the float range, and there is nothing to
 * rescue. */
#define PREFLOSS__ALPHA_FIXUP NULL
#endif

#if PREFLOSS__WIDE
/* js_divergence in double (see "Wide evaluation"), the formulas of
 * prefloss__el_js: uc, ur, h each with its rounding error (prefloss__wdiff),
 * e = exp(-|u|) (the catalogue's cap);
 *  - where |uc| or |ur| >= 1/2, h' = [relu(-ur) - relu(-uc)] + [log1p(e_r)
 *    - log1p(e_c)], the first bracket h, uc, -ur or 0 by the signs;
 *  - where both are below 1/2, h' = h (4 - (uc + ur))/8 + T(ur/2) - T(uc/2),
 *    T(x) = ln cosh(x) - x^2/2 by its series (to x^12);
 * z = beta h', L the smoothed sigmoid loss (prefloss__wsmoothed),
 * dL/dpc = beta (dL/dz) sigma(-uc), dL/dpr = -beta (dL/dz) sigma(-ur). */
PREFLOSS__INLINE double prefloss__wlncosh_tail(double x)
{
    double t = x * x;
    return t * t * (-1.0 / 12 + t * (1.0 / 45 + t * (-17.0 / 2520 + t * (31.0 / 14175 + t * (-691.0 / 935550)))));
}

PREFLOSS__INLINE prefloss__wpair prefloss__wel_js(float pc, float pr, float rc, float rr,
                                                 const prefloss__cat *c)
{
    const double beta = (double)c->beta, eps = (double)c->eps;
    double uc = prefloss__wdiff(pc, rc, 0.0f, 0.0f), ur = prefloss__wdiff(pr, rr, 0.0f, 0.0f);
    double h = prefloss__wdiff(pc, rc, pr, rr);
    double ec = prefloss__wexp_neg_to(prefloss__fabs_d(uc), PREFLOSS__WEXP_CAT_CAP, 0);
    double er = prefloss__wexp_neg_to(prefloss__fabs_d(ur), PREFLOSS__WEXP_CAT_CAP, 0);
    int nc = uc < 0.0, nr = ur < 0.0;
    int small = (int)(prefloss__fabs_d(uc) < 0.5) & (int)(prefloss__fabs_d(ur) < 0.5);
    double rel = prefloss__select_d(nc & nr, h, prefloss__select_d(nc, uc, prefloss__select_d(nr, -ur, 0.0)));
    double far = rel + (prefloss__wlog1p_unit(er, 0) - prefloss__wlog1p_unit(ec, 0));
    double near = h * (4.0 - (uc + ur)) * 0.125
                + (prefloss__wlncosh_tail(0.5 * prefloss__select_d(small, ur, 0.0))
                   - prefloss__wlncosh_tail(0.5 * prefloss__select_d(small, uc, 0.0)));
    double z = beta * prefloss__select_d(small, near, far), dz;
    double l = prefloss__wsmoothed(z, eps, 1.0 - eps, 0.5 - eps, &dz);
    double sc = prefloss__select_d(nc, 1.0, ec) / (1.0 + ec), sr = prefloss__select_d(nr, 1.0, er) / (1.0 + er);
    return prefloss__wpair_make(l, beta * (dz * sc), -(beta * (dz * sr)));
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_js, prefloss__wel_js)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_js, prefloss__el_js)
#endif

#if PREFLOSS__WIDE
/* alpha_divergence in double (see "Wide evaluation"), the formulas of
 * prefloss__alpha_eval: v = -a u (u each log-ratio with its rounding error,
 * prefloss__wdiff), capped at 88.7228 as TRL's cap_exp; d = e^{v_r} - e^{v_c},
 * or where both are uncapped and |a h| < 0.347, -e^{v_r} expm1(-a h) (Taylor
 * to y^12: the rest < 2^-45), so that d keeps its digits where it cancels;
 * z = d beta/a; L the smoothed sigmoid loss (prefloss__wsmoothed); the
 * gradients beta (dL/dz) e^{v} (+ for pc, - for pr, 0 where capped), for
 * z >= 1/2 as beta (eps e^v - e^{v - z}/(1 + e^{-z})), the exponents
 * combined first. Nothing overflows in double, nor on the way to the
 * outputs (the weights and the NLL term are applied in double's range too),
 * so no rescue is needed. */
/* expm1(y) for |y| < 0.347: y + y^2/2 + ... + y^12/12! (the rest < 2^-45
 * relative), so that it keeps its digits however small y is. */
PREFLOSS__INLINE double prefloss__wexpm1_small(double y)
{
    double q = PREFLOSS__MADD_D(0, y, 1.0 / 479001600, 1.0 / 39916800);   /* expm1(y)/y - 1 */
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 3628800);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 362880);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 40320);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 5040);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 720);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 120);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 24);
    q = PREFLOSS__MADD_D(0, y, q, 1.0 / 6);
    q = PREFLOSS__MADD_D(0, y, q, 0.5);
    return y + y * (y * q);
}

PREFLOSS__INLINE double prefloss__walpha_grad(double z, double dz, double e, double v, double eps)
{
    double ez = prefloss__wexp_neg_to(prefloss__fabs_d(z), PREFLOSS__WEXP_CAT_CAP, 0);
    double ea = prefloss__wexp_neg_to(z - v, PREFLOSS__WEXP_CAT_CAP, 0);   /* e^{v - z} */
    return prefloss__select_d(z >= 0.5, eps * e - ea / (1.0 + ez), dz * e);
}

PREFLOSS__INLINE prefloss__wpair prefloss__wel_alpha(float pc, float pr, float rc, float rr,
                                                    const prefloss__cat *c)
{
    const double beta = (double)c->beta, al = (double)c->alpha, eps = (double)c->eps;
    const double cap = (double)PREFLOSS__EXP_CAP;
    const double ba = beta / al;   /* beta/a (beyond the float range for beta ~ FLT_MAX, a < 1) */
    double vc = -al * prefloss__wdiff(pc, rc, 0.0f, 0.0f), vr = -al * prefloss__wdiff(pr, rr, 0.0f, 0.0f);
    double y = -al * prefloss__wdiff(pc, rc, pr, rr);                           /* -a h */
    int below_c = vc < cap, below_r = vr < cap;
    double ec = prefloss__wexp_neg_to(-prefloss__select_d(below_c, vc, cap), PREFLOSS__WEXP_CAT_CAP, 0);
    double er = prefloss__wexp_neg_to(-prefloss__select_d(below_r, vr, cap), PREFLOSS__WEXP_CAT_CAP, 0);
    int near = below_c & below_r & (int)(prefloss__fabs_d(y) < 0.34657359);
    double d = prefloss__select_d(near, -er * prefloss__wexpm1_small(prefloss__select_d(near, y, 0.0)), er - ec);
    double z = d * ba, dz, l;
    l = prefloss__wsmoothed(z, eps, 1.0 - eps, 0.5 - eps, &dz);
    return prefloss__wpair_make(l, prefloss__select_d(below_c, beta * prefloss__walpha_grad(z, dz, ec, vc, eps), 0.0),
                                prefloss__select_d(below_r, -(beta * prefloss__walpha_grad(z, dz, er, vr, eps)), 0.0));
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_alpha, prefloss__wel_alpha)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_alpha, prefloss__el_alpha)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/kind_reference_free.c ==== */
/* The reference-free catalogue kinds "simpo" and "cpo", in double and in
 * double-float side by side. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

/* "simpo": the sigmoid loss on beta(pc - pr) - gamma; "cpo": on beta(pc - pr).
 * dL/dz = eps - sigma(-z) cancels near its zero (z = 0 for eps = 1/2): it
 * is the double-float of prefloss__smoothed_sigmoid_sd (tanh(z/2)/2 - (1/2 - eps)
 * for |z| < 1/2), and beta dL/dz is rounded once. Where it underflows
 * (eps ~ 0, z >~ 87) it is carried times 2^64 or 2^128 until after the
 * upstream gradient, as js_divergence's. */
PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_sigmoid_z(prefloss__df z, const prefloss__cat *c)
{
    prefloss__df dzs;
    int lz = (int)(z.hi >= 64.0f) * (int)(c->eps < 7.888609e-31f) + (int)(z.hi >= 128.0f) * (int)(c->eps == 0.0f);
    prefloss__ldf l = prefloss__smoothed_sigmoid_sd(z, c->eps, lz, &dzs);
    float g = prefloss__df_round(prefloss__df_mul_f(dzs, c->beta, 0));
    return prefloss__pair_make_k(l.loss, g, lz, -g, lz);
}

PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_simpo(float pc, float pr, float rc, float rr,
                                                         const prefloss__cat *c)
{
    (void)rc;
    (void)rr;
    return prefloss__el_sigmoid_z(prefloss__df_add_f(prefloss__beta_times_diff(c->beta, pc, 0.0f, pr, 0.0f, 0),
                                                     -c->gamma), c);
}

PREFLOSS__INLINE prefloss__pair_out_k prefloss__el_cpo(float pc, float pr, float rc, float rr,
                                                       const prefloss__cat *c)
{
    (void)rc;
    (void)rr;
    return prefloss__el_sigmoid_z(prefloss__beta_times_diff(c->beta, pc, 0.0f, pr, 0.0f, 0), c);
}

#if PREFLOSS__WIDE
/* simpo and cpo in double (see "Wide evaluation"; shift: simpo's gamma).
 * beta pc and beta pr are exact in double, and z = (beta pc - beta pr) -
 * gamma is formed with the first difference's rounding error (TwoSum) added
 * last, so that z is within ~2^-52 of itself even where gamma cancels the
 * difference. With e = exp(-|z|) (the catalogue's cap, see
 * PREFLOSS__WEXP_CAT_CAP), as prefloss__el_sigmoid_z:
 *   L = w|z| + log1p(e),  w = eps for z >= 0, 1 - eps otherwise,
 *   dL/dz = eps - sigma(-z), or tanh(z/2)/2 - (1/2 - eps) for |z| < 1/2
 *           (the odd series of tanh to w^15 on w = z/2: the rest < 2^-43),
 * and dL/dpc = beta dL/dz = -dL/dpr. The reference log-probs are not read. */
PREFLOSS__INLINE prefloss__wpair prefloss__wel_sigz(float pc, float pr, const prefloss__cat *c, int shift)
{
    const double beta = (double)c->beta, eps = (double)c->eps;
    double ed, d = prefloss__wtwo_diff(beta * (double)pc, beta * (double)pr, &ed);  /* both products exact */
    double z = shift ? (d - (double)c->gamma) + ed : d;
    double dz, l = prefloss__wsmoothed(z, eps, 1.0 - eps, 0.5 - eps, &dz);
    return prefloss__wpair_make(l, beta * dz, -(beta * dz));
}
PREFLOSS__INLINE prefloss__wpair prefloss__wel_simpo(float pc, float pr, float rc, float rr, const prefloss__cat *c)
{
    (void)rc;
    (void)rr;
    return prefloss__wel_sigz(pc, pr, c, 1);
}
PREFLOSS__INLINE prefloss__wpair prefloss__wel_cpo(float pc, float pr, float rc, float rr, const prefloss__cat *c)
{
    (void)rc;
    (void)rr;
    return prefloss__wel_sigz(pc, pr, c, 0);
}
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_simpo, prefloss__wel_simpo)
PREFLOSS__WIDE_CATALOGUE_KERNEL(prefloss__k_cpo, prefloss__wel_cpo)
#else
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_simpo, prefloss__el_simpo)
PREFLOSS__CATALOGUE_KERNEL_K(prefloss__k_cpo, prefloss__el_cpo)
#endif

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/registry.c ==== */
#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */
/* The kind registry: one row per kind of prefloss_pair_loss(), the only
 * place that lists them. Everything else is generated from it: the name
 * table, the dispatch, the parameter checks and the introspection
 * (prefloss_loss_kind_reads). A row names its kernel, so a kind without a
 * kernel does not compile, and a kernel without a row is an unused static
 * function (the library's build makes that an error). Adding a kind: a
 * row, its kernel in a lib/kind_*.c file, its PREFLOSS_LOSS_* value in
 * lib/public.h (CONTRIBUTING.md has the steps).
 *
 *   X(NAME, value, TRL name, kernel, fix-up, what it reads, formula)
 *
 * value   the public PREFLOSS_LOSS_NAME (ABI: checked below), the row's index;
 * kernel  a prefloss__cat_kernel over a chunk, inputs defaulted (zeros for a
 *         NULL reference, ones for NULL weights and upstream gradient), or,
 *         with PREFLOSS__KIND_WHOLE, over the whole batch with the caller's
 *         NULL-able pointers (the dedicated DPO and IPO kernels);
 * fix-up  NULL, or a pass over the whole batch after the kernel;
 * reads   the PREFLOSS__READS_* bits: which parameters it checks and uses;
 * formula its documentation: lib/amalgamate.sh writes the public
 *         "#define PREFLOSS_LOSS_NAME value" with it into the header. */
#define PREFLOSS__KINDS(X)                                                                     \
    X(SIGMOID, 0, "sigmoid", prefloss__k_sigmoid, NULL, PREFLOSS__READS_EPS | PREFLOSS__KIND_WHOLE, \
      "DPO/cDPO, -(1-eps) log sigma(z) - eps log sigma(-z)") \
    X(IPO, 1, "ipo", prefloss__k_ipo, NULL, PREFLOSS__KIND_WHOLE, \
      "(h - 1/(2 beta))^2") \
    X(HINGE, 2, "hinge", prefloss__k_hinge, NULL, 0, \
      "(SLiC) max(0, 1 - z)") \
    X(ROBUST, 3, "robust", prefloss__k_robust, NULL, PREFLOSS__READS_EPS | PREFLOSS__EPS_BELOW_HALF, \
      "[-(1-eps) log sigma(z) + eps log sigma(-z)] / (1 - 2 eps), eps in [0, 1/2)") \
    X(EXO_PAIR, 4, "exo_pair", prefloss__k_exo, NULL, PREFLOSS__READS_EPS, \
      "KL(Bernoulli(sigma(z)) || Bernoulli(1-eps)); eps = 0 means 1e-3 (as TRL)") \
    X(NCA_PAIR, 5, "nca_pair", prefloss__k_nca, NULL, 0, \
      "-log sigma(beta uc) - 1/2 log sigma(-beta uc) - 1/2 log sigma(-beta ur)") \
    X(BCO_PAIR, 6, "bco_pair", prefloss__k_bco, NULL, PREFLOSS__READS_DELTA, \
      "-log sigma(beta uc - delta) - log sigma(-(beta ur - delta))") \
    X(SPPO_HARD, 7, "sppo_hard", prefloss__k_sppo, NULL, 0, \
      "(uc - 1/(2 beta))^2 + (ur + 1/(2 beta))^2") \
    X(APO_ZERO, 8, "apo_zero", prefloss__k_apo_zero, NULL, 0, \
      "1 - sigma(beta uc) + sigma(beta ur)") \
    X(APO_DOWN, 9, "apo_down", prefloss__k_apo_down, NULL, 0, \
      "sigma(beta uc) + 1 - sigma(z)") \
    X(DISCOPOP, 10, "discopop", prefloss__k_discopop, NULL, PREFLOSS__READS_TAU, \
      "(1 - w)(-log sigma(z)) + w e^{-z}, w = sigma(z/tau)") \
    X(JS, 11, "js_divergence", prefloss__k_js, NULL, PREFLOSS__READS_EPS, \
      "sigmoid loss with h - (sp(uc) - sp(ur)) for h") \
    X(ALPHA, 12, "alpha_divergence", prefloss__k_alpha, PREFLOSS__ALPHA_FIXUP, PREFLOSS__READS_EPS | PREFLOSS__READS_ALPHA, \
      "sigmoid loss with (e^{-a ur} - e^{-a uc})/a for h (exponents capped at 88.7228 as TRL's cap_exp)") \
    X(SIMPO, 13, "simpo", prefloss__k_simpo, NULL, PREFLOSS__READS_EPS | PREFLOSS__READS_GAMMA | PREFLOSS__NO_REFERENCE, \
      "-(1-eps) log sigma(beta(pc - pr) - gamma) - eps log sigma(-(...)); no reference; pass mean log-probs") \
    X(CPO, 14, "cpo", prefloss__k_cpo, NULL, PREFLOSS__READS_EPS | PREFLOSS__NO_REFERENCE, \
      "-(1-eps) log sigma(beta(pc - pr)) - eps log sigma(-(...)); no reference")

/* What a kind reads besides beta and nll_weight (which every kind reads). */
#define PREFLOSS__READS_EPS 0x01        /* label_smoothing, in [0, 1/2] */
#define PREFLOSS__EPS_BELOW_HALF 0x02   /* ... in [0, 1/2) instead */
#define PREFLOSS__READS_TAU 0x04        /* discopop_tau, in (0, 1] */
#define PREFLOSS__READS_ALPHA 0x08      /* alpha, finite > 0 */
#define PREFLOSS__READS_GAMMA 0x10      /* simpo_gamma, finite */
#define PREFLOSS__READS_DELTA 0x20      /* bco_delta, finite */
#define PREFLOSS__NO_REFERENCE 0x40     /* the reference log-probs are not read */
#define PREFLOSS__KIND_WHOLE 0x80       /* the kernel takes the whole batch (see above) */

/* A pass over the whole batch after the kernel (alpha's rescue). */
typedef void (*prefloss__kind_fixup)(float *, float *, float *, const float *, const float *,
                                     const float *, const float *, const float *, float,
                                     const float *, size_t, const prefloss__cat *, float);
typedef struct prefloss__kind {
    const char *name;
    prefloss__cat_kernel kernel;
    prefloss__kind_fixup fixup;
    int flags;
} prefloss__kind;

/* The row index of each kind, and the check that it is the public value. */
#define PREFLOSS__KIND_INDEX(NAME, value, name, kernel, fixup, flags, formula) PREFLOSS__KIND_INDEX_##NAME,
enum { PREFLOSS__KINDS(PREFLOSS__KIND_INDEX) PREFLOSS__N_KINDS };
#define PREFLOSS__KIND_ABI(NAME, value, name, kernel, fixup, flags, formula)                             \
    typedef char prefloss__kind_abi_##NAME[(PREFLOSS_LOSS_##NAME == (value)                     \
                                            && PREFLOSS__KIND_INDEX_##NAME == (value)) ? 1 : -1];
PREFLOSS__KINDS(PREFLOSS__KIND_ABI)

#define PREFLOSS__KIND_ROW(NAME, value, name, kernel, fixup, flags, formula) {name, kernel, fixup, flags},
static const prefloss__kind prefloss__kinds[PREFLOSS__N_KINDS] = {PREFLOSS__KINDS(PREFLOSS__KIND_ROW)};

/* Assigns field f of the block where it lies within the first size bytes. */
#define PREFLOSS__IF_FITS(size, f, stmt)                                          \
    if ((size) >= offsetof(prefloss_pair_params, f) + sizeof(((prefloss_pair_params *)0)->f)) stmt

PREFLOSS_API int prefloss_pair_params_init(prefloss_pair_params *params, size_t size)
{
    if (params == NULL) return PREFLOSS_ERR_NULL;
    if (size < sizeof(size_t)) return PREFLOSS_ERR_PARAM;
    params->size = size;
    PREFLOSS__IF_FITS(size, beta, params->beta = 0.1f);
    PREFLOSS__IF_FITS(size, label_smoothing, params->label_smoothing = 0.0f);
    PREFLOSS__IF_FITS(size, discopop_tau, params->discopop_tau = 0.05f);
    PREFLOSS__IF_FITS(size, alpha, params->alpha = 1.0f);
    PREFLOSS__IF_FITS(size, simpo_gamma, params->simpo_gamma = 0.5f);
    PREFLOSS__IF_FITS(size, bco_delta, params->bco_delta = 0.0f);
    PREFLOSS__IF_FITS(size, nll_weight, params->nll_weight = 0.0f);
    return PREFLOSS_OK;
}

/* Whether NUL-terminated a and b are equal. */
static int prefloss__same_name(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) { a++; b++; }
    return *a == '\0' && *b == '\0';
}

PREFLOSS_API const char *prefloss_loss_kind_name(int kind)
{
    return kind >= 0 && kind < PREFLOSS__N_KINDS ? prefloss__kinds[kind].name : NULL;
}

PREFLOSS_API int prefloss_loss_kind_from_name(const char *name)
{
    int k;
    if (name == NULL) return PREFLOSS_ERR_NULL;
    for (k = 0; k < PREFLOSS__N_KINDS; k++)
        if (prefloss__same_name(prefloss__kinds[k].name, name)) return k;
    return PREFLOSS_ERR_PARAM;
}

PREFLOSS_API int prefloss_loss_kind_count(void) { return PREFLOSS__N_KINDS; }

PREFLOSS_API int prefloss_loss_kind_reads(int kind, const char *field)
{
    static const struct { const char *field; int bit; } fields[] = {
        {"label_smoothing", PREFLOSS__READS_EPS}, {"label_smoothing<1/2", PREFLOSS__EPS_BELOW_HALF},
        {"discopop_tau", PREFLOSS__READS_TAU}, {"alpha", PREFLOSS__READS_ALPHA},
        {"simpo_gamma", PREFLOSS__READS_GAMMA}, {"bco_delta", PREFLOSS__READS_DELTA}};
    size_t i;
    if (field == NULL) return PREFLOSS_ERR_NULL;
    if (kind < 0 || kind >= PREFLOSS__N_KINDS) return PREFLOSS_ERR_PARAM;
    if (prefloss__same_name("beta", field) || prefloss__same_name("nll_weight", field)) return 1;
    if (prefloss__same_name("reference", field))
        return (prefloss__kinds[kind].flags & PREFLOSS__NO_REFERENCE) == 0;
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (prefloss__same_name(fields[i].field, field))
            return (prefloss__kinds[kind].flags & fields[i].bit) != 0;
    return PREFLOSS_ERR_PARAM;
}

/* The caller's block, read up to its size (later fields keep the defaults). */
static int prefloss__read_params(const prefloss_pair_params *in, prefloss_pair_params *out)
{
    prefloss_pair_params_init(out, sizeof *out);
    if (in == NULL) return PREFLOSS_OK;
    if (in->size < sizeof(size_t)) return PREFLOSS_ERR_PARAM;
    PREFLOSS__IF_FITS(in->size, beta, out->beta = in->beta);
    PREFLOSS__IF_FITS(in->size, label_smoothing, out->label_smoothing = in->label_smoothing);
    PREFLOSS__IF_FITS(in->size, discopop_tau, out->discopop_tau = in->discopop_tau);
    PREFLOSS__IF_FITS(in->size, alpha, out->alpha = in->alpha);
    PREFLOSS__IF_FITS(in->size, simpo_gamma, out->simpo_gamma = in->simpo_gamma);
    PREFLOSS__IF_FITS(in->size, bco_delta, out->bco_delta = in->bco_delta);
    PREFLOSS__IF_FITS(in->size, nll_weight, out->nll_weight = in->nll_weight);
    return PREFLOSS_OK;
}

/* Checks the parameters the kind uses and derives the per-call constants. */
static int prefloss__prepare_catalogue(int kind, const prefloss_pair_params *p, prefloss__cat *c)
{
    float eps = p->label_smoothing;
    int reads = kind >= 0 && kind < PREFLOSS__N_KINDS ? prefloss__kinds[kind].flags : 0;
    int eps_half_open = (reads & PREFLOSS__EPS_BELOW_HALF) != 0;
    if (kind < 0 || kind >= PREFLOSS__N_KINDS || !prefloss__beta_ok(p->beta)) return PREFLOSS_ERR_PARAM;
    if ((reads & PREFLOSS__READS_EPS) && !(eps >= 0.0f && (eps_half_open ? eps < 0.5f : eps <= 0.5f)))
        return PREFLOSS_ERR_PARAM;
    if ((reads & PREFLOSS__READS_TAU) && !(p->discopop_tau >= FLT_MIN && p->discopop_tau <= 1.0f))
        return PREFLOSS_ERR_PARAM;
    if ((reads & PREFLOSS__READS_ALPHA) && !(p->alpha >= FLT_MIN && p->alpha <= FLT_MAX))
        return PREFLOSS_ERR_PARAM;
    if ((reads & PREFLOSS__READS_GAMMA) && !prefloss__finite(p->simpo_gamma)) return PREFLOSS_ERR_PARAM;
    if ((reads & PREFLOSS__READS_DELTA) && !prefloss__finite(p->bco_delta)) return PREFLOSS_ERR_PARAM;
    if (!prefloss__finite(p->nll_weight)) return PREFLOSS_ERR_PARAM;
    c->beta = p->beta;
    c->eps = eps;
    c->tau = p->discopop_tau;
    c->alpha = p->alpha;
    c->gamma = p->simpo_gamma;
    c->delta = p->bco_delta;
    c->robust_c = eps_half_open ? eps / (1.0f - 2.0f * eps) : 0.0f;
    {   /* the low part of eps/(1 - 2 eps): (eps - c (1 - 2 eps))/(1 - 2 eps), with
         * 1 - 2 eps exact as a TwoSum and the product's error from TwoProd */
        prefloss__df den = prefloss__two_sum(1.0f, -2.0f * eps);
        prefloss__df q = prefloss__two_prod(c->robust_c, den.hi, 0);
        float rem = ((eps - q.hi) - q.lo) - c->robust_c * den.lo;
        c->robust_c_lo = eps_half_open ? rem / den.hi : 0.0f;
    }
    {
        float e = eps > 0.0f ? eps : 1e-3f; /* TRL's exo_pair replaces eps = 0 by 1e-3 */
        /* log(1 - eps') as log1p(-eps'): 1 - eps' itself would be rounded;
         * both to ~2^-34 (the float-accurate forms cost exo_pair's loss up
         * to 7 ulp beyond its budget at eps = 0.4) */
        prefloss__df la = prefloss__log1p_unit_acc(prefloss__df_make(-e, 0.0f)), lb = prefloss__log_pos_acc(e);
        c->exo_eps = e;
        /* log((1 - eps')/eps'): for eps' >= 1/3 as log1p(y), y = (1 - 2 eps')/eps'
         * (1 - 2eps' exact; the quotient a double-float y0 + y1, log1p(y0 + y1) =
         * log1p(y0) + y1/(1 + y0)), so that it is exactly 0 at eps' = 1/2 and
         * exact to ~u^2 near the gradient's zero z = d; else the difference */
        if (e >= 1.0f / 3) {
            float y0 = (1.0f - 2.0f * e) / e;
            prefloss__df q = prefloss__two_prod(y0, e, 0);
            float y1 = (((1.0f - 2.0f * e) - q.hi) - q.lo) / e;
            c->exo_d = prefloss__df_add_f(prefloss__log1p_unit_df(y0, 0), y1 / (1.0f + y0));
        } else
            c->exo_d = prefloss__df_add(la, prefloss__df_make(-lb.hi, -lb.lo));
        c->exo_la = la;
        c->exo_lb = lb;
    }
    {
        float h = 0.5f / p->beta;            /* 1/(2 beta) as a double-float */
        prefloss__df q = prefloss__two_prod(h, p->beta, 0);
        c->half_inv_beta = prefloss__df_make(h, ((0.5f - q.hi) - q.lo) / p->beta);
    }
    {
        /* beta/alpha as a double-float q0 + ql: the remainder beta - q0 alpha
         * from copies scaled to [1/2, 2), so that neither the product (beta
         * near FLT_MAX: q0 alpha can round above it) nor TwoProd's splitting
         * (a factor above 2^116) overflows; ql = 0 where q0 is not a normal
         * float (and for kinds that do not read alpha) */
        float q0 = p->beta / p->alpha, ql = 0.0f;
        if (prefloss__fabs(q0) >= FLT_MIN && q0 <= FLT_MAX && p->alpha >= FLT_MIN && p->alpha <= FLT_MAX) {
            int eb, ea, eq, k, k1;
            float bs = prefloss__frexp2(p->beta, &eb), as = prefloss__frexp2(p->alpha, &ea);
            float qs = prefloss__frexp2(q0, &eq);
            prefloss__df q;
            /* q0 2^(ea - eb) = qs 2^(eq + ea - eb), the exponent -1, 0 or 1 */
            qs *= prefloss__pow2_half((int32_t)(eq + ea - eb));
            q = prefloss__two_prod(qs, as, 0);
            ql = ((bs - q.hi) - q.lo) / as;     /* ql 2^(eb - ea), eb - ea >= -127 */
            k = eb - ea;
            k1 = k / 2;
            ql = (ql * prefloss__pow2_half((int32_t)k1)) * prefloss__pow2_half((int32_t)(k - k1));
        }
        c->beta_alpha = prefloss__df_make(q0, ql);
    }
    c->nll = p->nll_weight;
    return PREFLOSS_OK;
}

/* One catalogue kind over [0, n) for validated arguments, every output
 * times the per-pair weight (NULL for 1) and the mix weight s (1 outside
 * prefloss_pair_loss_mix). */
static PREFLOSS_KERNEL_ATTR int prefloss__pair_loss_eval(float *losses, float *dchosen, float *drejected,
                                    const float *policy_chosen, const float *policy_rejected,
                                    const float *ref_chosen, const float *ref_rejected,
                                    const float *weights, const float *dlosses, size_t n,
                                    int kind, const prefloss__cat *c, float s)
{
    const prefloss__kind *k = &prefloss__kinds[kind];
    int bad = 0;
    if (k->flags & PREFLOSS__KIND_WHOLE) {
        bad = k->kernel(losses, dchosen, drejected, policy_chosen, policy_rejected, ref_chosen,
                        ref_rejected, dlosses, weights, s, n, c);
    } else {
        /* chunk by chunk, NULL inputs replaced by their defaults and NULL
         * outputs by scratch */
        float s_loss[PREFLOSS__SCRATCH], s_dc[PREFLOSS__SCRATCH], s_dr[PREFLOSS__SCRATCH];
        int refless = (k->flags & PREFLOSS__NO_REFERENCE) != 0;
        const float *rc = refless ? NULL : ref_chosen, *rr = refless ? NULL : ref_rejected;
        int in_dflt = rc == NULL || dlosses == NULL || weights == NULL;
        int out_scr = losses == NULL || dchosen == NULL || drejected == NULL;
        size_t i, len;
        for (i = 0; i < n; i += len) {
            len = prefloss__step(n, i, in_dflt, out_scr);
            bad |= k->kernel(PREFLOSS__OUT(losses, i, s_loss), PREFLOSS__OUT(dchosen, i, s_dc),
                             PREFLOSS__OUT(drejected, i, s_dr), policy_chosen + i,
                             policy_rejected + i, PREFLOSS__IN(rc, i, prefloss__zeros),
                             PREFLOSS__IN(rr, i, prefloss__zeros),
                             PREFLOSS__IN(dlosses, i, prefloss__ones),
                             PREFLOSS__IN(weights, i, prefloss__ones), s, len, c);
        }
    }
    if (k->fixup != NULL)
        k->fixup(losses, dchosen, drejected, policy_chosen, policy_rejected, ref_chosen,
                 ref_rejected, weights, s, dlosses, n, c, c->nll);
    return bad;
}

PREFLOSS_API int prefloss_pair_loss(float *losses, float *dchosen, float *drejected,
                                    const float *policy_chosen, const float *policy_rejected,
                                    const float *ref_chosen, const float *ref_rejected,
                                    const float *weights, const float *dlosses, size_t n,
                                    int kind, const prefloss_pair_params *params)
{
    prefloss_pair_params p;
    prefloss__cat c;
    int st;
    st = prefloss__read_params(params, &p);
    if (st == PREFLOSS_OK) st = prefloss__prepare_catalogue(kind, &p, &c);
    if (st != PREFLOSS_OK) return st;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st == PREFLOSS_OK && weights != NULL) { /* the weights are one more input */
        prefloss__range out[3], in[1];
        out[0].p = losses; out[1].p = dchosen; out[2].p = drejected;
        out[0].bytes = out[1].bytes = out[2].bytes = n * sizeof(float);
        in[0].p = weights; in[0].bytes = n * sizeof(float);
        st = prefloss__check_overlap(out, 3, in, 1);
    }
    if (st != PREFLOSS_OK) return st;
    return prefloss__pair_loss_eval(losses, dchosen, drejected, policy_chosen, policy_rejected,
                                    ref_chosen, ref_rejected, weights, dlosses, n, kind, &c, 1.0f)
         ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}
#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/orpo_kto.c ==== */
/* ORPO (odds-ratio loss on mean log-probs, plus NLL) and KTO (unpaired
 * samples against a batch KL baseline). */

#ifndef PREFLOSS_NO_ORPO_KTO /* (see lib/lean.c) */

/* log(1 - e^x) and 1 - e^x for x < 0, stably (Maechler's log1mexp):
 * log(-expm1(x)) for x > -ln2, where e^x is near 1, and log1p(-e^x) below.
 * expm1 is x + x^2/2 + x^3 P(x) for x > -0.347 (the leading x exact), and
 * e^x - 1 (exact by Sterbenz) between -ln2 and -0.347. */
typedef struct prefloss__l1me { prefloss__df log1mexp; float one_minus_exp; } prefloss__l1me;

PREFLOSS__INLINE prefloss__l1me prefloss__log1mexp(float x)
{
    prefloss__l1me r;
    int32_t k;
    float p = prefloss__exp_neg_parts(-x, 0.0f, &k, 0);
    float e = prefloss__scale2(p, k);                              /* e^x */
    float q = 1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 + x * (1.0f / 720
              + x * (1.0f / 5040 + x * (1.0f / 40320)))));
    float em1 = prefloss__select(x > -0.34657359f, x + x * x * (0.5f + x * q), e - 1.0f);
    prefloss__df near = prefloss__log_pos_df(-em1);
    float far = prefloss__log1p_unit(-e, 0);
    int is_near = x > -0.69314718f;
    r.log1mexp = prefloss__df_make(prefloss__select(is_near, near.hi, far),
                                   prefloss__select(is_near, near.lo, 0.0f));
    r.one_minus_exp = prefloss__select(is_near, -em1, 1.0f - e);
    return r;
}

/* e^(xh + xl) for any finite x, within ~1 ulp; +inf beyond the float
 * range, 0 below it. */
PREFLOSS__INLINE float prefloss__exp_signed(float xh, float xl)
{
    int32_t k, k1;
    int in = xh < 100.0f;
    float xc = prefloss__select(in, xh, 100.0f);               /* e^100 overflows anyway */
    float p = prefloss__exp_neg_parts(-xc, -prefloss__select(in, xl, 0.0f), &k, 0); /* p 2^k */
    k1 = k / 2;
    return (p * prefloss__pow2_half(k1)) * prefloss__pow2_half(k - k1);
}

/* ORPO: l = (a - b) - [log(1 - e^a) - log(1 - e^b)];
 * loss = -nll a + lambda sp(-l); dloss/da = -nll - lambda sigma(-l)/(1 - e^a),
 * dloss/db = lambda sigma(-l)/(1 - e^b). a or b >= 0 (not a log-prob, or
 * odds undefined) makes the pair NaN. */
PREFLOSS__KERNEL(int, prefloss__orpo_kernel,
                 (float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dc,
                  float *PREFLOSS__RESTRICT dr, const float *PREFLOSS__RESTRICT ma,
                  const float *PREFLOSS__RESTRICT mb, const float *PREFLOSS__RESTRICT up,
                  size_t n, float lambda, float nll),
                 (loss, dc, dr, ma, mb, up, n, lambda, nll))
{
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i;
    for (i = 0; i < n; i++) {
        float a = ma[i], b = mb[i];
        /* a log-prob that is >= 0 (or NaN) is outside the domain: NaN */
        float dom = prefloss__select((int)(a < 0.0f) & (int)(b < 0.0f), 0.0f, prefloss__nan());
        float bad = prefloss__nan_if_nonfinite(a) + prefloss__nan_if_nonfinite(b) + dom;
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        prefloss__l1me la = prefloss__log1mexp(prefloss__select(a < 0.0f, a, -1.0f));
        prefloss__l1me lb = prefloss__log1mexp(prefloss__select(b < 0.0f, b, -1.0f));
        /* l = (a - b) - La + Lb, all in double-float: La is large (~ log|a|)
         * where a is near 0, and rounding it would cost more than a's own
         * conditioning */
        prefloss__df l = prefloss__df_add(prefloss__diff_of_diffs(a, b, 0.0f, 0.0f),
                                          prefloss__df_add(lb.log1mexp,
                                                           prefloss__df_make(-la.log1mexp.hi, -la.log1mexp.lo)));
        prefloss__sigvals v = prefloss__sigmoid_values(l.hi, l.lo);
        /* With e^l = e^(a-b) (1 - e^b)/(1 - e^a) = e^(a - b - La + Lb):
         *   sigma(-l)/(1 - e^a) = 1/((1 - e^a) + e^(a - b + Lb))
         *   sigma(-l)/(1 - e^b) = 1/((1 - e^b) + e^(a - b + 2Lb - La))
         * each exponent an exact double-float, so that neither a subnormal
         * sigma(-l) (a near 0) nor an overflowing (1 - e^b)^2/(1 - e^a)
         * appears on the way to a normal result. */
        prefloss__df ab = prefloss__diff_of_diffs(a, b, 0.0f, 0.0f); /* a - b, no intermediate overflow */
        prefloss__df xa = prefloss__df_add(ab, lb.log1mexp);
        prefloss__df xb = prefloss__df_add(xa, prefloss__df_add(lb.log1mexp,
                                          prefloss__df_make(-la.log1mexp.hi, -la.log1mexp.lo)));
        float da = la.one_minus_exp + prefloss__exp_signed(xa.hi, xa.lo);
        float db = lb.one_minus_exp + prefloss__exp_signed(xb.hi, xb.lo);
        {
            /* lambda sp(-l) - nll a: two terms that can each overflow with
             * opposite signs (inf - inf) where the exact loss is +-inf;
             * then every factor is scaled by 2^-64 (exact: each is >= 1
             * there) and the difference scaled back */
            const float down = 5.42101086e-20f, up64 = 18446744073709551616.0f;
            float t = lambda * v.sp_neg - nll * a;
            float ts = (((lambda * down) * (v.sp_neg * down)) - ((nll * down) * (a * down))) * up64 * up64;
            loss[i] = prefloss__select(t != t, ts, t) + bad;
        }
        dc[i] = prefloss__times_up(-nll - lambda / da, up[i]) + bad_up;
        dr[i] = prefloss__times_up(lambda / db, up[i]) + bad_up;
        bad_bits |= prefloss__float_to_bits(bad_up);
    }
    return prefloss__bits_has_nan(bad_bits);
}

PREFLOSS_API int prefloss_orpo_loss(float *losses, float *dchosen, float *drejected,
                                    const float *mean_chosen, const float *mean_rejected,
                                    const float *dlosses, size_t n, float lambda, float nll_weight)
{
    float s_loss[PREFLOSS__SCRATCH], s_dc[PREFLOSS__SCRATCH], s_dr[PREFLOSS__SCRATCH];
    int st, bad = 0;
    size_t i, len;
    if (!(lambda >= 0.0f && lambda <= FLT_MAX) || !prefloss__finite(nll_weight)) return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, mean_chosen, mean_rejected,
                                  NULL, NULL, dlosses, 0);
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += len) {
        len = prefloss__step(n, i, dlosses == NULL, losses == NULL || dchosen == NULL || drejected == NULL);
        bad |= prefloss__orpo_kernel(PREFLOSS__OUT(losses, i, s_loss), PREFLOSS__OUT(dchosen, i, s_dc),
                                     PREFLOSS__OUT(drejected, i, s_dr), mean_chosen + i,
                                     mean_rejected + i, PREFLOSS__IN(dlosses, i, prefloss__ones), len,
                                     lambda, nll_weight);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* KTO: x = beta (u - kl); desirable: wd sigma(-x), gradient -wd beta sigma(x)sigma(-x);
 * undesirable: wu sigma(x), gradient wu beta sigma(x)sigma(-x). */
PREFLOSS__KERNEL(int, prefloss__kto_kernel,
                 (float *PREFLOSS__RESTRICT loss, float *PREFLOSS__RESTRICT dp,
                  const float *PREFLOSS__RESTRICT pol, const float *PREFLOSS__RESTRICT ref,
                  const unsigned char *PREFLOSS__RESTRICT des, const float *PREFLOSS__RESTRICT up,
                  size_t n, float beta, float kl, float wd, float wu),
                 (loss, dp, pol, ref, des, up, n, beta, kl, wd, wu))
{
    uint32_t bad_bits = 0; /* the OR of every bad_up (prefloss__bits_has_nan) */
    size_t i;
    for (i = 0; i < n; i++) {
        float bad = prefloss__nan_if_nonfinite(pol[i]) + prefloss__nan_if_nonfinite(ref[i]);
        float bad_up = bad + prefloss__nan_if_nonfinite(up[i]);
        prefloss__df x = prefloss__beta_times_diff(beta, pol[i], ref[i], kl, 0.0f, 0);
        prefloss__sigvals v = prefloss__sigmoid_values(x.hi, x.lo);
        int d = des[i] != 0;
        float slope = beta * (v.sig_pos * v.sig_neg);
        loss[i] = prefloss__select(d, wd * v.sig_neg, wu * v.sig_pos) + bad;
        dp[i] = prefloss__times_up(prefloss__select(d, -wd * slope, wu * slope), up[i]) + bad_up;
        bad_bits |= prefloss__float_to_bits(bad_up);
    }
    return prefloss__bits_has_nan(bad_bits);
}

PREFLOSS_API int prefloss_kto_loss(float *losses, float *dpolicy,
                                   const float *policy_logps, const float *ref_logps,
                                   const unsigned char *desirable, const float *dlosses, size_t n,
                                   float beta, float kl, float desirable_weight,
                                   float undesirable_weight)
{
    float s_loss[PREFLOSS__SCRATCH], s_dp[PREFLOSS__SCRATCH];
    int st, bad = 0;
    size_t i, len;
    if (!prefloss__beta_ok(beta) || !(kl >= 0.0f && kl <= FLT_MAX)
        || !(desirable_weight >= 0.0f && desirable_weight <= FLT_MAX)
        || !(undesirable_weight >= 0.0f && undesirable_weight <= FLT_MAX))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    /* the documented order: sizes, then required pointers, then overlaps */
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (policy_logps == NULL || desirable == NULL) return PREFLOSS_ERR_NULL;
    st = prefloss__check_pairwise(n, losses, dpolicy, NULL, NULL, policy_logps,
                                  policy_logps, ref_logps, NULL, dlosses, 0);
    if (st == PREFLOSS_OK) {
        prefloss__range out[2], in[1];
        out[0].p = losses; out[1].p = dpolicy;
        out[0].bytes = out[1].bytes = n * sizeof(float);
        in[0].p = desirable; in[0].bytes = n;
        st = prefloss__check_overlap(out, 2, in, 1);
    }
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += len) {
        len = prefloss__step(n, i, ref_logps == NULL || dlosses == NULL, losses == NULL || dpolicy == NULL);
        bad |= prefloss__kto_kernel(PREFLOSS__OUT(losses, i, s_loss), PREFLOSS__OUT(dpolicy, i, s_dp),
                                    policy_logps + i, PREFLOSS__IN(ref_logps, i, prefloss__zeros),
                                    desirable + i, PREFLOSS__IN(dlosses, i, prefloss__ones), len,
                                    beta, kl, desirable_weight, undesirable_weight);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* The one-process estimate is the partial of the whole batch, finished:
 * bitwise what any split of the batch gives after an all-reduce. */
PREFLOSS_API int prefloss_kto_kl(float *kl, const float *policy_kl_logps,
                                 const float *ref_kl_logps, size_t n)
{
    prefloss_partial acc;
    int st;
    if (kl == NULL) return PREFLOSS_ERR_NULL;
    if (n > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (n > 0 && (policy_kl_logps == NULL || ref_kl_logps == NULL)) return PREFLOSS_ERR_NULL;
    prefloss_partial_init(&acc);
    st = prefloss_kto_kl_partial(&acc, policy_kl_logps, ref_kl_logps, n);
    if (st < 0) return st;
    return prefloss_kto_kl_finish(kl, &acc);
}

#endif /* PREFLOSS_NO_ORPO_KTO */

/* ==== lib/mix.c ==== */
/* prefloss_pair_loss_mix: a weighted sum of catalogue kinds in one call
 * (MPO style), every kind through the registry's evaluation. */

#ifndef PREFLOSS_NO_CATALOGUE /* (see lib/lean.c) */

PREFLOSS_API int prefloss_pair_loss_mix(float *losses, float *dchosen, float *drejected,
                                        const float *policy_chosen, const float *policy_rejected,
                                        const float *ref_chosen, const float *ref_rejected,
                                        const float *weights, const float *dlosses, size_t n,
                                        const int *kinds, const float *mix_weights, size_t n_kinds,
                                        const prefloss_pair_params *params)
{
    float t_loss[PREFLOSS__SCRATCH], t_dc[PREFLOSS__SCRATCH], t_dr[PREFLOSS__SCRATCH];
    prefloss_pair_params p;
    prefloss__cat c;
    int st, bad = 0;
    size_t i, k, len;
    st = prefloss__read_params(params, &p);
    if (st != PREFLOSS_OK) return st;
    if (n_kinds > 0 && (kinds == NULL || mix_weights == NULL)) return PREFLOSS_ERR_NULL;
    for (k = 0; k < n_kinds; k++) { /* every kind and weight checked before anything is written */
        st = prefloss__prepare_catalogue(kinds[k], &p, &c);
        if (st != PREFLOSS_OK) return st;
        if (!prefloss__finite(mix_weights[k])) return PREFLOSS_ERR_PARAM;
    }
    if (n == 0) return PREFLOSS_OK;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st == PREFLOSS_OK && weights != NULL) {
        prefloss__range out[3], in[1];
        out[0].p = losses; out[1].p = dchosen; out[2].p = drejected;
        out[0].bytes = out[1].bytes = out[2].bytes = n * sizeof(float);
        in[0].p = weights; in[0].bytes = n * sizeof(float);
        st = prefloss__check_overlap(out, 3, in, 1);
    }
    if (st != PREFLOSS_OK) return st;
    for (i = 0; i < n; i += len) {
        size_t j;
        len = n - i < PREFLOSS__SCRATCH ? n - i : PREFLOSS__SCRATCH;
        for (j = 0; j < len; j++) {
            if (losses != NULL) losses[i + j] = 0.0f;
            if (dchosen != NULL) dchosen[i + j] = 0.0f;
            if (drejected != NULL) drejected[i + j] = 0.0f;
        }
        for (k = 0; k < n_kinds; k++) {
            /* the mix weight goes in with the per-pair weights (a zero weight
             * gives 0, never 0 * inf; NaN stays) */
            (void)prefloss__prepare_catalogue(kinds[k], &p, &c); /* checked above */
            bad |= prefloss__pair_loss_eval(t_loss, t_dc, t_dr, policy_chosen + i, policy_rejected + i,
                                            ref_chosen != NULL ? ref_chosen + i : NULL,
                                            ref_rejected != NULL ? ref_rejected + i : NULL,
                                            weights != NULL ? weights + i : NULL,
                                            dlosses != NULL ? dlosses + i : NULL, len, kinds[k], &c,
                                            mix_weights[k]);
            for (j = 0; j < len; j++) {
                /* terms that overflowed with opposite signs: the earlier sum's
                 * infinity is kept (never NaN) */
                if (losses != NULL) losses[i + j] = prefloss__add_keep(losses[i + j], t_loss[j]);
                if (dchosen != NULL) dchosen[i + j] = prefloss__add_keep(dchosen[i + j], t_dc[j]);
                if (drejected != NULL) drejected[i + j] = prefloss__add_keep(drejected[i + j], t_dr[j]);
            }
        }
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

#endif /* PREFLOSS_NO_CATALOGUE */

/* ==== lib/token.c ==== */
/* ------------------------------------------------------------------------ */
/* From logits: token log-probs, their backward, the fused pair loss        */
/*                                                                          */
/* A row of logits x[0..V) is read once forward: per block of              */
/* PREFLOSS__TBLOCK floats (in L1) its maximum, then the sum of             */
/* e^(x_j - m) against the running maximum m, in compensated lanes; when a  */
/* block raises m, the sum so far is scaled by e^(m_old - m_new) in         */
/* double-float. The row's log-sum-exp is m + log s; the token's log-prob   */
/* (x_t - m) - log s is a sum of two non-positive terms (no cancellation).  */
/* The backward reads the row once more and writes -g e^(x_j - lse), the    */
/* target's entry g (1 - p_t) = -g expm1(x_t - lse) (accurate where the     */
/* model is confident), in place over the logits when asked.               */
/* ------------------------------------------------------------------------ */

#ifndef PREFLOSS_NO_TOKEN /* (see lib/lean.c) */

#define PREFLOSS__TBLOCK 256
#define PREFLOSS__TLANES 32

/* 2^24 e^d for d <= 64, as a float (the softmax term, scaled so that no
 * term above e^-104 is subnormal: those still count where log p_t is
 * tiny; the sum or the gradient takes the 2^-24 back exactly). d > 0 only
 * by a rounding of lse, or for inconsistent inputs. k = round(d / ln2),
 * r = d - k ln2 with ln 2 in two parts (k LN2_HI exact), e^r = 1 + r +
 * r^2 q(r) with q the degree-4 minimax fit on |r| <= ln2/2 (relative error
 * 2^-28.3 before rounding), times 2^(k+24) built in the exponent bits.
 * Below d = -104.7, k = -151 and those bits are 0: the term is exactly 0
 * (terms under 2^-150 are dropped). Branch-free: the loops vectorise. */
PREFLOSS__INLINE float prefloss__exp_softmax_scaled(float d, int fma)
{
    float x = prefloss__select(d > -104.7f, d, -104.7f);
    float shifted, kf, r, q;
    uint32_t kb;
    x = prefloss__select(x < 64.0f, x, 64.0f);
    shifted = PREFLOSS__MADD(fma, x, PREFLOSS__LOG2E, PREFLOSS__ROUND_MAGIC);
    kf = shifted - PREFLOSS__ROUND_MAGIC;
    kb = prefloss__float_to_bits(shifted) - prefloss__float_to_bits(PREFLOSS__ROUND_MAGIC);
    r = x - kf * PREFLOSS__LN2_HI;
    r = r - kf * PREFLOSS__LN2_LO;
    /* (decimal forms of 0x1.6a23cep-10, 0x1.123a2p-7, 0x1.5558f2p-5,
     * 0x1.555492p-3, 0x1.fffffcp-2) */
    q = PREFLOSS__MADD(fma, r, 0.00138145394f, 0.00836874545f);
    q = PREFLOSS__MADD(fma, r, q, 0.041668389f);
    q = PREFLOSS__MADD(fma, r, q, 0.166665211f);
    q = PREFLOSS__MADD(fma, r, q, 0.49999994f);
    /* 2^(k+24), k in [-151, 93]: (k + 24 + 127) << 23, k's two's-complement bits */
    return (1.0f + PREFLOSS__MADD(fma, r * r, q, r)) * prefloss__bits_to_float((kb + 151u) << 23);
}

/* n 2^24 as a double-float: n = a + b with a = (n >> 24) 2^24 and
 * b = n mod 2^24, both exact in float (n < 2^48), each times 2^24. */
PREFLOSS__INLINE prefloss__df prefloss__count_times_2p24(size_t n)
{
    float a = (float)(n >> 24) * 16777216.0f, b = (float)(n & 0xffffffu);
    return prefloss__two_sum(a * 16777216.0f, b * 16777216.0f);
}

/* The forward state of one row: the maximum, the sum of e^(x_j - m) as a
 * double-float, and whether a logit was not finite. */
typedef struct prefloss__lse_row { float m; prefloss__df s; int bad; } prefloss__lse_row;

/* A float's bits as an unsigned key ordered as the floats are (a
 * non-negative float gets its sign bit set, a negative one all its bits
 * flipped), and back: an integer maximum vectorises where a float one,
 * under -ftrapping-math, does not. */
PREFLOSS__INLINE uint32_t prefloss__order_key(float v)
{
    uint32_t u = prefloss__float_to_bits(v);
    return u ^ ((0u - (u >> 31)) | 0x80000000u);
}
PREFLOSS__INLINE float prefloss__from_order_key(uint32_t key)
{
    return prefloss__bits_to_float(key & 0x80000000u ? key ^ 0x80000000u : ~key);
}

/* The sum's lanes: TLANES doubles where the FPU has them (a row's terms
 * then add with no rounding that matters), else TLANES compensated floats
 * (a sum s and its TwoSum error c per lane). prefloss__tlanes_clear zeroes
 * them (a loop: GCC turns a 256-byte initializer into a memset call, which
 * freestanding builds do not have), prefloss__tlanes_add adds a block's
 * terms (a multiple of TLANES of them), prefloss__tlanes_fold adds the
 * lanes into a double-float. */
#if PREFLOSS__WIDE
typedef struct prefloss__tlanes { double s[PREFLOSS__TLANES]; } prefloss__tlanes;
PREFLOSS__INLINE void prefloss__tlanes_clear(prefloss__tlanes *l)
{
    size_t k;
    for (k = 0; k < PREFLOSS__TLANES; k++) l->s[k] = 0.0;
}
PREFLOSS__INLINE void prefloss__tlanes_add(prefloss__tlanes *PREFLOSS__RESTRICT l,
                                           const float *PREFLOSS__RESTRICT term, size_t len)
{
    size_t j, k;
    for (j = 0; j < len; j += PREFLOSS__TLANES)
        for (k = 0; k < PREFLOSS__TLANES; k++) l->s[k] += (double)term[j + k];
}
PREFLOSS__INLINE prefloss__df prefloss__tlanes_fold(const prefloss__tlanes *l, prefloss__df acc)
{
    size_t k;
    for (k = 0; k < PREFLOSS__TLANES; k++) {
        float hi = (float)l->s[k];
        acc = prefloss__df_add(acc, prefloss__two_sum(hi, (float)(l->s[k] - (double)hi)));
    }
    return acc;
}
#else
typedef struct prefloss__tlanes { float s[PREFLOSS__TLANES], c[PREFLOSS__TLANES]; } prefloss__tlanes;
PREFLOSS__INLINE void prefloss__tlanes_clear(prefloss__tlanes *l)
{
    size_t k;
    for (k = 0; k < PREFLOSS__TLANES; k++) l->s[k] = l->c[k] = 0.0f;
}
PREFLOSS__INLINE void prefloss__tlanes_add(prefloss__tlanes *PREFLOSS__RESTRICT l,
                                           const float *PREFLOSS__RESTRICT term, size_t len)
{
    size_t j, k;
    for (j = 0; j < len; j += PREFLOSS__TLANES)
        for (k = 0; k < PREFLOSS__TLANES; k++) {
            float e = term[j + k], sum = l->s[k] + e, bv = sum - l->s[k];
            l->c[k] += (l->s[k] - (sum - bv)) + (e - bv);
            l->s[k] = sum;
        }
}
PREFLOSS__INLINE prefloss__df prefloss__tlanes_fold(const prefloss__tlanes *l, prefloss__df acc)
{
    size_t k;
    for (k = 0; k < PREFLOSS__TLANES; k++) acc = prefloss__df_add(acc, prefloss__two_sum(l->s[k], l->c[k]));
    return acc;
}
#endif

/* The row in blocks of PREFLOSS__TBLOCK floats (in L1): the block's
 * maximum (an integer reduction) and whether a logit is NaN or infinite;
 * if the maximum grew, the sum so far is scaled by e^(m_old - m_new) in
 * double-float; then the block's terms 2^24 e^(x_j - m) into a buffer (an
 * elementwise loop) and the buffer into the lanes (above). Each
 * loop is one the compilers vectorise whole (a loop doing all three does
 * not vectorise). The maximum's own terms (exactly 2^24 each) are counted
 * apart: where the model is confident, s = 1 + (a tiny rest), and the rest
 * must not be added into a sum already holding the 1, whose roundings
 * would be relative to 1 rather than to the rest. */
PREFLOSS__INLINE prefloss__lse_row prefloss__lse_row_body(const float *PREFLOSS__RESTRICT x,
                                                          size_t V, int fma)
{
    prefloss__lse_row out;
    float term[PREFLOSS__TBLOCK];
    prefloss__tlanes lanes;
    float m = -FLT_MAX;
    uint32_t bad = 0u;
    size_t at_max = 0; /* logits equal to m */
    prefloss__df acc = prefloss__df_make(0.0f, 0.0f);
    size_t j0, j;
    prefloss__tlanes_clear(&lanes);
    for (j0 = 0; j0 < V; j0 += PREFLOSS__TBLOCK) {
        size_t len = V - j0 < PREFLOSS__TBLOCK ? V - j0 : PREFLOSS__TBLOCK;
        size_t body = len - len % PREFLOSS__TLANES;
        const float *b = x + j0;
        uint32_t key = prefloss__order_key(m), low = 0xffffffffu, block_at_max;
        float bm;
        for (j = 0; j < len; j++) {
            uint32_t kj = prefloss__order_key(b[j]);
            key = kj > key ? kj : key;
            low = kj < low ? kj : low;
        }
        /* +inf and NaN have keys above every finite float's, -inf and -NaN below */
        bad |= (key >= 0xff800000u) | (low <= 0x007fffffu);
        bm = prefloss__from_order_key(key);
        if (bm > m) {
            /* fold the lanes, then scale the sum to the new maximum:
             * e^(m - bm) in double-float from the exact difference */
            if (j0 > 0) {
                prefloss__df d = prefloss__two_sum(bm, -m), f;
                acc = prefloss__df_add(acc, prefloss__count_times_2p24(at_max));
                at_max = 0;
                acc = prefloss__tlanes_fold(&lanes, acc);
                prefloss__tlanes_clear(&lanes);
                f = prefloss__exp_neg_df(d.hi, d.lo, fma);
                {
                    prefloss__df p = prefloss__two_prod(acc.hi, f.hi, fma);
                    float lo = acc.hi * f.lo + acc.lo * f.hi + p.lo;
                    acc = prefloss__fast_two_sum(p.hi, lo);
                }
            }
            m = bm;
        }
        block_at_max = 0u;
        for (j = 0; j < len; j++) {
            /* x - m exactly (TwoSum dh + dl), e^(dh + dl) = e^dh (1 + dl);
             * dh <= 0 (dl is NaN where x - m overflowed: that term is 0) */
            float v = b[j], dh = v - m, bb = dh - v;
            float dl = (v - (dh - bb)) + (-m - bb);
            float eh = prefloss__exp_softmax_scaled(dh, fma);
            float e = prefloss__select(eh != 0.0f, PREFLOSS__MADD(fma, eh, dl, eh), 0.0f);
            term[j] = prefloss__select(v != m, e, 0.0f);
            block_at_max += v == m;
        }
        at_max += block_at_max;
        prefloss__tlanes_add(&lanes, term, body);
        for (j = body; j < len; j++) acc = prefloss__df_add_f(acc, term[j]);
    }
    acc = prefloss__tlanes_fold(&lanes, acc);
    acc = prefloss__df_add(acc, prefloss__count_times_2p24(at_max));
    out.m = m;
    out.s = prefloss__df_make(acc.hi * 5.9604644775390625e-8f, acc.lo * 5.9604644775390625e-8f); /* 2^-24 */
    out.bad = bad != 0u;
    return out;
}

/* The backward of one row: out[j] = -g e^(x_j - lse) (the target's entry
 * is written afterwards by the caller). The term is 2^24 e^(x_j - lse),
 * and each entry the factor -g 2^-24 (exact for |g| >= 2^-100, which is
 * 7.88860905e-31) times it, in one loop. A tinier g is first scaled by
 * 2^100, and the row by 2^-100 afterwards (so that neither the factor nor
 * the product underflows before the result does); an infinite g (a
 * gradient that overflowed) gives 0, not inf * 0 = NaN, where the term is
 * 0. One body for the two variants below: out == x (in place, one
 * pointer) and separate buffers (restrict), each vectorised. */
#define PREFLOSS__SOFTMAX_ROW(out, x)                                                      \
    do {                                                                                   \
        size_t j;                                                                          \
        int tiny = prefloss__fabs(g) < 7.88860905e-31f;                                    \
        float gs = (tiny ? -g * 1.26765060e30f : -g) * 5.9604644775390625e-8f;             \
        for (j = 0; j < V; j++) out[j] = gs * prefloss__exp_softmax_scaled(x[j] - lse, fma); \
        if (tiny)                                                                          \
            for (j = 0; j < V; j++) out[j] *= 7.88860905e-31f;                             \
        else if (!(prefloss__fabs(g) <= FLT_MAX))                                          \
            for (j = 0; j < V; j++) out[j] = prefloss__select(out[j] == out[j], out[j], 0.0f); \
    } while (0)
PREFLOSS__INLINE void prefloss__softmax_row_body(float *PREFLOSS__RESTRICT out,
                                                 const float *PREFLOSS__RESTRICT x, size_t V,
                                                 float lse, float g, int fma)
{
    PREFLOSS__SOFTMAX_ROW(out, x);
}
PREFLOSS__INLINE void prefloss__softmax_row_inplace_body(float *PREFLOSS__RESTRICT x, size_t V,
                                                         float lse, float g, int fma)
{
    PREFLOSS__SOFTMAX_ROW(x, x);
}

/* The callable variants (baseline, and AVX2 + FMA where dispatching). */
static prefloss__lse_row prefloss__lse_row_base(const float *x, size_t V)
{ return prefloss__lse_row_body(x, V, 0); }
static void prefloss__softmax_row_base(float *out, const float *x, size_t V, float lse, float g)
{ prefloss__softmax_row_body(out, x, V, lse, g, 0); }
static void prefloss__softmax_row_inplace_base(float *x, size_t V, float lse, float g)
{ prefloss__softmax_row_inplace_body(x, V, lse, g, 0); }
#if PREFLOSS__DISPATCH
PREFLOSS__TARGET_FMA static prefloss__lse_row prefloss__lse_row_fma(const float *x, size_t V)
{ return prefloss__lse_row_body(x, V, 1); }
PREFLOSS__TARGET_FMA static void prefloss__softmax_row_fma(float *out, const float *x, size_t V,
                                                           float lse, float g)
{ prefloss__softmax_row_body(out, x, V, lse, g, 1); }
PREFLOSS__TARGET_FMA static void prefloss__softmax_row_inplace_fma(float *x, size_t V, float lse,
                                                                   float g)
{ prefloss__softmax_row_inplace_body(x, V, lse, g, 1); }
#endif

/* log s for a double-float s >= 1: s = 2^e f with f in [1, 2),
 * log s = e ln2 + log1p(f - 1 + lo 2^-e), in double-float. */
static prefloss__df prefloss__log_ge1_df(prefloss__df s)
{
    uint32_t bits = prefloss__float_to_bits(s.hi);
    int32_t e = (int32_t)(bits >> 23) - 127;
    float f = prefloss__bits_to_float((bits & 0x007fffffu) | 0x3f800000u);
    float scale = prefloss__bits_to_float((uint32_t)(127 - e) << 23); /* 2^-e, e in [0, 127] */
    float arg = (f - 1.0f) + s.lo * scale;
    prefloss__df l = prefloss__log1p_unit_df(arg, 0);
    float ef = (float)e;
    prefloss__df eln2 = prefloss__fast_two_sum(ef * PREFLOSS__LN2_HI, ef * PREFLOSS__LN2_LO);
    return prefloss__df_add(eln2, l);
}

/* One row's results: the token's log-prob (x_t - m) - log s and the row's
 * log-sum-exp m + log s, as double-floats; NaN for a non-finite row. */
static PREFLOSS_KERNEL_ATTR int prefloss__token_row(const float *x, size_t V, int32_t t, int fma,
                               prefloss__df *logp, float *lse)
{
    prefloss__lse_row r;
    prefloss__df ls;
#if PREFLOSS__DISPATCH
    r = fma ? prefloss__lse_row_fma(x, V) : prefloss__lse_row_base(x, V);
#else
    (void)fma;
    r = prefloss__lse_row_base(x, V);
#endif
    if (r.bad) {
        *logp = prefloss__df_make(prefloss__nan(), 0.0f);
        *lse = prefloss__nan();
        return 1;
    }
    ls = prefloss__log_ge1_df(r.s);
    {
        prefloss__df d = prefloss__two_sum(x[t], -r.m); /* exact, <= 0 (-inf if it overflows) */
        d.lo = prefloss__lo_if_finite(d.hi, d.lo);
        prefloss__df nl = prefloss__df_make(-ls.hi, -ls.lo);
        *logp = prefloss__df_add(d, nl);
        *lse = prefloss__df_round(prefloss__df_add_f(ls, r.m));
    }
    return 0;
}

/* -expm1(d) for d <= 0 (1 - p_t), relative error ~2^-26: Taylor to d^5
 * for |d| < 2^-7, else 1 - e^d from e^d in double-float. */
static float prefloss__one_minus_exp(float d)
{
    if (d > -0.0078125f) {
        float q = d * (1.0f / 2 + d * (1.0f / 6 + d * (1.0f / 24 + d * (1.0f / 120))));
        return -(d + d * q);
    } else {
        prefloss__df e = prefloss__exp_neg_df(-d, 0.0f, 0); /* (no fma outside the variants) */
        return (1.0f - e.hi) - e.lo;
    }
}

/* Writes the backward of one counted row. x_t is the target's logit, read
 * before an in-place row is overwritten. inf_ok: an infinite g is a
 * gradient that overflowed for finite inputs (the fused call), not a
 * non-finite input. */
static PREFLOSS_KERNEL_ATTR int prefloss__token_row_backward(float *out, const float *x, size_t V, int32_t t, float lse,
                                        float g, int inf_ok, int fma)
{
    float xt = x[t];
    size_t j;
    (void)fma;
    if (!prefloss__finite(lse) || g != g || (!inf_ok && !prefloss__finite(g))) {
        for (j = 0; j < V; j++) out[j] = prefloss__nan();
        return 1;
    }
#if PREFLOSS__DISPATCH
    if (fma) {
        if (out == x) prefloss__softmax_row_inplace_fma(out, V, lse, g);
        else prefloss__softmax_row_fma(out, x, V, lse, g);
    } else
#endif
    {
        if (out == x) prefloss__softmax_row_inplace_base(out, V, lse, g);
        else prefloss__softmax_row_base(out, x, V, lse, g);
    }
    {
        float d = xt - lse;
        /* d > 0 only by lse's rounding (p_t is 1 to float precision) */
        float q = prefloss__one_minus_exp(d < 0.0f ? d : 0.0f);
        out[t] = q != 0.0f ? g * q : 0.0f;
    }
    return 0;
}

/* ---- validation ---------------------------------------------------------- */

/* The span of n rows of V floats, stride apart, in floats; 0 on overflow of
 * the byte size (n > 0, V > 0, stride >= V checked by the caller). */
static int prefloss__rows_span(size_t n, size_t V, size_t stride, size_t *floats)
{
    size_t maxf = SIZE_MAX / sizeof(float);
    if (n == 0) { *floats = 0; return PREFLOSS_OK; }
    if (V > maxf || (n - 1) > (maxf - V) / stride) return PREFLOSS_ERR_SIZE;
    *floats = (n - 1) * stride + V;
    return PREFLOSS_OK;
}

/* Every target is the ignore index or in [0, V). */
static int prefloss__targets_ok(const int32_t *targets, size_t n, size_t V, int32_t ignore)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int32_t t = targets[i];
        if (t != ignore && (t < 0 || (size_t)t >= V)) return 0;
    }
    return 1;
}

/* ---- token log-probs ----------------------------------------------------- */

PREFLOSS_API int prefloss_token_logps(float *token_logps, float *lse, const float *logits,
                                      const int32_t *targets, size_t n_tokens, size_t vocab,
                                      size_t row_stride, int32_t ignore_index)
{
    size_t span, i;
    int st, bad = 0, fma;
    if (vocab == 0 || row_stride < vocab) return PREFLOSS_ERR_PARAM;
    if (n_tokens == 0) return PREFLOSS_OK;
    st = prefloss__rows_span(n_tokens, vocab, row_stride, &span);
    if (st != PREFLOSS_OK) return st;
    if (n_tokens > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (logits == NULL || targets == NULL) return PREFLOSS_ERR_NULL;
    {
        prefloss__range out[2], in[2];
        out[0].p = token_logps; out[0].bytes = n_tokens * sizeof(float);
        out[1].p = lse; out[1].bytes = n_tokens * sizeof(float);
        in[0].p = logits; in[0].bytes = span * sizeof(float);
        in[1].p = targets; in[1].bytes = n_tokens * sizeof(int32_t);
        st = prefloss__check_overlap(out, 2, in, 2);
        if (st != PREFLOSS_OK) return st;
    }
    if (!prefloss__targets_ok(targets, n_tokens, vocab, ignore_index)) return PREFLOSS_ERR_PARAM;
    fma = prefloss__cpu_fma();
    for (i = 0; i < n_tokens; i++) {
        int32_t t = targets[i];
        prefloss__df lp = prefloss__df_make(0.0f, 0.0f);
        float l = 0.0f;
        if (t != ignore_index)
            bad |= prefloss__token_row(logits + i * row_stride, vocab, t, fma, &lp, &l);
        if (token_logps != NULL) token_logps[i] = prefloss__df_round(lp);
        if (lse != NULL) lse[i] = l;
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_token_logps_backward(float *dlogits, size_t dlogits_stride,
                                               const float *dtoken_logps, const float *logits,
                                               size_t row_stride, const float *lse,
                                               const int32_t *targets, size_t n_tokens,
                                               size_t vocab, int32_t ignore_index)
{
    size_t span, dspan, i, j;
    int st, bad = 0, fma;
    if (vocab == 0 || row_stride < vocab || dlogits_stride < vocab) return PREFLOSS_ERR_PARAM;
    if (n_tokens == 0) return PREFLOSS_OK;
    st = prefloss__rows_span(n_tokens, vocab, row_stride, &span);
    if (st == PREFLOSS_OK) st = prefloss__rows_span(n_tokens, vocab, dlogits_stride, &dspan);
    if (st != PREFLOSS_OK) return st;
    if (n_tokens > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    if (dlogits == NULL || logits == NULL || lse == NULL || targets == NULL) return PREFLOSS_ERR_NULL;
    {
        /* in place: the identical rows (same pointer, same stride) */
        int inplace = dlogits == logits && dlogits_stride == row_stride;
        prefloss__range out[1], in[4];
        out[0].p = dlogits; out[0].bytes = dspan * sizeof(float);
        in[0].p = inplace ? NULL : logits; in[0].bytes = span * sizeof(float);
        in[1].p = lse; in[1].bytes = n_tokens * sizeof(float);
        in[2].p = targets; in[2].bytes = n_tokens * sizeof(int32_t);
        in[3].p = dtoken_logps; in[3].bytes = n_tokens * sizeof(float);
        st = prefloss__check_overlap(out, 1, in, 4);
        if (st != PREFLOSS_OK) return st;
    }
    if (!prefloss__targets_ok(targets, n_tokens, vocab, ignore_index)) return PREFLOSS_ERR_PARAM;
    fma = prefloss__cpu_fma();
    for (i = 0; i < n_tokens; i++) {
        float *o = dlogits + i * dlogits_stride;
        int32_t t = targets[i];
        if (t == ignore_index) {
            for (j = 0; j < vocab; j++) o[j] = 0.0f;
            continue;
        }
        bad |= prefloss__token_row_backward(o, logits + i * row_stride, vocab, t, lse[i],
                                            dtoken_logps != NULL ? dtoken_logps[i] : 1.0f, 0, fma);
    }
    return bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* ---- the fused pair loss --------------------------------------------------- */

/* Rows [first, last) of sequence i: padded (offsets NULL) or packed. */
PREFLOSS__INLINE void prefloss__seq_rows(const size_t *offsets, size_t seq_len, size_t i,
                                         size_t *first, size_t *last)
{
    if (offsets != NULL) { *first = offsets[i]; *last = offsets[i + 1]; }
    else { *first = i * seq_len; *last = (i + 1) * seq_len; }
}

#ifndef PREFLOSS_NO_CATALOGUE
/* Validates one side's layout: the offsets non-decreasing; its rows
 * [first, end), and the largest sequence. */
static int prefloss__side_layout(const size_t *offsets, size_t n, size_t seq_len,
                                 size_t *first, size_t *end, size_t *longest)
{
    size_t i;
    *longest = 0;
    if (offsets == NULL) {
        if (seq_len != 0 && n > SIZE_MAX / sizeof(float) / seq_len) return PREFLOSS_ERR_SIZE;
        *first = 0;
        *end = n * seq_len;
        *longest = seq_len;
        return PREFLOSS_OK;
    }
    for (i = 0; i < n; i++) {
        if (offsets[i + 1] < offsets[i]) return PREFLOSS_ERR_PARAM;
        if (offsets[i + 1] - offsets[i] > *longest) *longest = offsets[i + 1] - offsets[i];
    }
    *first = offsets[0];
    *end = offsets[n];
    return PREFLOSS_OK;
}
#endif

PREFLOSS_API int prefloss_pair_loss_from_logits_workspace(size_t *workspace_len,
                                                          const size_t *chosen_offsets,
                                                          const size_t *rejected_offsets,
                                                          size_t n_pairs, size_t seq_len)
{
    size_t i, best = 0;
    if (workspace_len == NULL) return PREFLOSS_ERR_NULL;
    if ((chosen_offsets == NULL) != (rejected_offsets == NULL)) return PREFLOSS_ERR_NULL;
    if (chosen_offsets == NULL) {
        if (seq_len > SIZE_MAX / 2 / sizeof(float)) return PREFLOSS_ERR_SIZE;
        *workspace_len = n_pairs > 0 ? 2 * seq_len : 0;
        return PREFLOSS_OK;
    }
    for (i = 0; i < n_pairs; i++) {
        size_t a, b;
        if (chosen_offsets[i + 1] < chosen_offsets[i] || rejected_offsets[i + 1] < rejected_offsets[i])
            return PREFLOSS_ERR_PARAM;
        a = chosen_offsets[i + 1] - chosen_offsets[i];
        b = rejected_offsets[i + 1] - rejected_offsets[i];
        if (a > SIZE_MAX / sizeof(float) - b) return PREFLOSS_ERR_SIZE;
        if (a + b > best) best = a + b;
    }
    *workspace_len = best;
    return PREFLOSS_OK;
}

#ifndef PREFLOSS_NO_CATALOGUE /* the fused call needs the catalogue (see lib/lean.c) */
/* One sequence forward: the sum of its counted tokens' log-probs (double-
 * float), their count, each counted row's log-sum-exp into lse[] (NULL:
 * not kept). Returns 1 if a counted row was not finite. */
static PREFLOSS_KERNEL_ATTR int prefloss__seq_forward(const float *logits, size_t stride, const int32_t *targets,
                                 size_t first, size_t last, size_t V, int32_t ignore, int fma,
                                 float *lse, prefloss__df *sum, size_t *count)
{
    size_t r;
    int bad = 0;
    *sum = prefloss__df_make(0.0f, 0.0f);
    *count = 0;
    for (r = first; r < last; r++) {
        int32_t t = targets[r];
        prefloss__df lp;
        float l = 0.0f;
        if (t != ignore) {
            bad |= prefloss__token_row(logits + r * stride, V, t, fma, &lp, &l);
            *sum = prefloss__df_add(*sum, lp);
            ++*count;
        }
        if (lse != NULL) lse[r - first] = l;
    }
    return bad;
}

/* One sequence backward with the per-token gradient g. */
static PREFLOSS_KERNEL_ATTR int prefloss__seq_backward(float *dlogits, const float *logits, size_t stride,
                                  const int32_t *targets, size_t first, size_t last, size_t V,
                                  int32_t ignore, int fma, const float *lse, float g)
{
    size_t r, j;
    int bad = 0;
    for (r = first; r < last; r++) {
        float *o = dlogits + r * stride;
        int32_t t = targets[r];
        if (t == ignore) {
            for (j = 0; j < V; j++) o[j] = 0.0f;
            continue;
        }
        bad |= prefloss__token_row_backward(o, logits + r * stride, V, t, lse[r - first], g, 1, fma);
    }
    return bad;
}

/* The sequence value: the sum, or the mean over counted tokens (0 for none). */
static PREFLOSS_KERNEL_ATTR float prefloss__seq_value(prefloss__df sum, size_t count, int mean, int bad)
{
    if (bad) return prefloss__nan();
    if (!mean) return prefloss__df_round(sum);
    if (count == 0) return 0.0f;
    return prefloss__df_round(prefloss__df_div_f(sum, (float)count, 0));
}

PREFLOSS_API int prefloss_pair_loss_from_logits(
    float *losses, float *policy_chosen, float *policy_rejected,
    float *dchosen_logits, float *drejected_logits,
    const float *chosen_logits, const float *rejected_logits,
    const int32_t *chosen_targets, const int32_t *rejected_targets,
    const size_t *chosen_offsets, const size_t *rejected_offsets,
    const float *ref_chosen, const float *ref_rejected, const float *dlosses,
    size_t n_pairs, size_t seq_len, size_t vocab, size_t row_stride, int32_t ignore_index,
    int average_log_prob, int kind, const prefloss_pair_params *params,
    float *workspace, size_t workspace_len)
{
    size_t c0, c1, r0, r1, clong, rlong, cspan = 0, rspan = 0, need = 0, i;
    int st, any_bad = 0, fma;
    int grad = dchosen_logits != NULL || drejected_logits != NULL;
    /* the kind and its parameters (n = 0 checks them, writes nothing) */
    st = prefloss_pair_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, kind, params);
    if (st != PREFLOSS_OK) return st;
    if (vocab == 0 || row_stride < vocab) return PREFLOSS_ERR_PARAM;
    if (n_pairs == 0) return PREFLOSS_OK;
    if (n_pairs > SIZE_MAX / sizeof(float) - 1) return PREFLOSS_ERR_SIZE;
    if ((chosen_offsets == NULL) != (rejected_offsets == NULL)) return PREFLOSS_ERR_NULL;
    if ((ref_chosen == NULL) != (ref_rejected == NULL)) return PREFLOSS_ERR_NULL;
    st = prefloss__side_layout(chosen_offsets, n_pairs, seq_len, &c0, &c1, &clong);
    if (st == PREFLOSS_OK) st = prefloss__side_layout(rejected_offsets, n_pairs, seq_len, &r0, &r1, &rlong);
    if (st != PREFLOSS_OK) return st;
    if (c1 > SIZE_MAX / sizeof(float) || r1 > SIZE_MAX / sizeof(float)) return PREFLOSS_ERR_SIZE;
    st = prefloss__rows_span(c1, vocab, row_stride, &cspan);
    if (st == PREFLOSS_OK) st = prefloss__rows_span(r1, vocab, row_stride, &rspan);
    if (st != PREFLOSS_OK) return st;
    if ((c1 > c0 && (chosen_logits == NULL || chosen_targets == NULL))
        || (r1 > r0 && (rejected_logits == NULL || rejected_targets == NULL)))
        return PREFLOSS_ERR_NULL;
    (void)clong;
    (void)rlong;
    st = prefloss_pair_loss_from_logits_workspace(&need, chosen_offsets, rejected_offsets, n_pairs,
                                                  seq_len);
    if (st != PREFLOSS_OK) return st;
    if (grad) {
        if (workspace == NULL) return PREFLOSS_ERR_NULL;
        if (workspace_len < need) return PREFLOSS_ERR_SIZE;
    }
    {
        /* spans from the first row used; an output may be its own input
         * (same pointer: in place), nothing else may overlap */
        size_t cs = c1 > c0 ? (c0 * row_stride) * sizeof(float) : 0;
        size_t rs = r1 > r0 ? (r0 * row_stride) * sizeof(float) : 0;
        size_t cb = c1 > c0 ? (cspan - c0 * row_stride) * sizeof(float) : 0;
        size_t rb = r1 > r0 ? (rspan - r0 * row_stride) * sizeof(float) : 0;
        size_t nb = n_pairs * sizeof(float), ob = (n_pairs + 1) * sizeof(size_t);
        const char *cl = chosen_logits != NULL ? (const char *)chosen_logits + cs : NULL;
        const char *rl = rejected_logits != NULL ? (const char *)rejected_logits + rs : NULL;
        prefloss__range out[6], in[9];
        int a, b;
        out[0].p = losses; out[0].bytes = nb;
        out[1].p = policy_chosen; out[1].bytes = nb;
        out[2].p = policy_rejected; out[2].bytes = nb;
        out[3].p = dchosen_logits != NULL ? (const char *)dchosen_logits + cs : NULL; out[3].bytes = cb;
        out[4].p = drejected_logits != NULL ? (const char *)drejected_logits + rs : NULL; out[4].bytes = rb;
        out[5].p = grad ? workspace : NULL; out[5].bytes = need * sizeof(float);
        in[0].p = cl; in[0].bytes = cb;
        in[1].p = rl; in[1].bytes = rb;
        in[2].p = chosen_targets != NULL ? chosen_targets + c0 : NULL; in[2].bytes = (c1 - c0) * sizeof(int32_t);
        in[3].p = rejected_targets != NULL ? rejected_targets + r0 : NULL; in[3].bytes = (r1 - r0) * sizeof(int32_t);
        in[4].p = chosen_offsets; in[4].bytes = ob;
        in[5].p = rejected_offsets; in[5].bytes = ob;
        in[6].p = ref_chosen; in[6].bytes = nb;
        in[7].p = ref_rejected; in[7].bytes = nb;
        in[8].p = dlosses; in[8].bytes = nb;
        for (a = 0; a < 6; a++) {
            for (b = 0; b < 9; b++) {
                if ((a == 3 && b == 0 && dchosen_logits == chosen_logits)
                    || (a == 4 && b == 1 && drejected_logits == rejected_logits))
                    continue;
                if (prefloss__ranges_overlap(out[a], in[b])) return PREFLOSS_ERR_OVERLAP;
            }
            for (b = a + 1; b < 6; b++)
                if (prefloss__ranges_overlap(out[a], out[b])) return PREFLOSS_ERR_OVERLAP;
        }
    }
    if ((c1 > c0 && !prefloss__targets_ok(chosen_targets + c0, c1 - c0, vocab, ignore_index))
        || (r1 > r0 && !prefloss__targets_ok(rejected_targets + r0, r1 - r0, vocab, ignore_index)))
        return PREFLOSS_ERR_PARAM;

    fma = prefloss__cpu_fma();
    for (i = 0; i < n_pairs; i++) {
        size_t ca, cz, ra, rz, cn, rn;
        prefloss__df csum, rsum;
        float pc, pr, loss, dpc = 0.0f, dpr = 0.0f;
        int cbad, rbad;
        prefloss__seq_rows(chosen_offsets, seq_len, i, &ca, &cz);
        prefloss__seq_rows(rejected_offsets, seq_len, i, &ra, &rz);
        cbad = prefloss__seq_forward(chosen_logits, row_stride, chosen_targets, ca, cz, vocab,
                                     ignore_index, fma, grad ? workspace : NULL, &csum, &cn);
        rbad = prefloss__seq_forward(rejected_logits, row_stride, rejected_targets, ra, rz, vocab,
                                     ignore_index, fma, grad ? workspace + (cz - ca) : NULL, &rsum, &rn);
        pc = prefloss__seq_value(csum, cn, average_log_prob, cbad);
        pr = prefloss__seq_value(rsum, rn, average_log_prob, rbad);
        st = prefloss_pair_loss(&loss, grad ? &dpc : NULL, grad ? &dpr : NULL, &pc, &pr,
                                ref_chosen != NULL ? ref_chosen + i : NULL,
                                ref_rejected != NULL ? ref_rejected + i : NULL, NULL,
                                dlosses != NULL ? dlosses + i : NULL, 1, kind, params);
        any_bad |= st == PREFLOSS_NONFINITE;
        if (losses != NULL) losses[i] = loss;
        if (policy_chosen != NULL) policy_chosen[i] = pc;
        if (policy_rejected != NULL) policy_rejected[i] = pr;
        if (!grad) continue;
        if (average_log_prob) {
            dpc = cn > 0 ? dpc / (float)cn : 0.0f;
            dpr = rn > 0 ? dpr / (float)rn : 0.0f;
        }
        if (dchosen_logits != NULL)
            any_bad |= prefloss__seq_backward(dchosen_logits, chosen_logits, row_stride,
                                              chosen_targets, ca, cz, vocab, ignore_index, fma,
                                              workspace, dpc);
        if (drejected_logits != NULL)
            any_bad |= prefloss__seq_backward(drejected_logits, rejected_logits, row_stride,
                                              rejected_targets, ra, rz, vocab, ignore_index, fma,
                                              workspace + (cz - ca), dpr);
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}
#endif /* PREFLOSS_NO_CATALOGUE */

#endif /* PREFLOSS_NO_TOKEN */

/* ==== lib/aot.c ==== */
#ifndef PREFLOSS_NO_AOT /* (see lib/lean.c) */
/* ------------------------------------------------------------------------ */
/* AOT: losses on rank-matched differences                                  */
/* ------------------------------------------------------------------------ */

/* The sort key of element j: x_j - y_j as an exact double-float. */
PREFLOSS__INLINE prefloss__df prefloss__aot_key(const float *x, const float *y, size_t j)
{
    return prefloss__diff_of_diffs(x[j], y != NULL ? y[j] : 0.0f, 0.0f, 0.0f);
}

/* Whether element a sorts before b: by the exact value, then by index.
 * Two keys that overflowed to the same infinity (inputs near FLT_MAX) are
 * compared in the scaled domain of prefloss__diff_of_diffs_scaled, where
 * both are exact (both scaled by 1/4: only an input >= 2^125 overflows). */
static PREFLOSS_KERNEL_ATTR int prefloss__aot_before(const float *x, const float *y, size_t a, size_t b)
{
    prefloss__df ka = prefloss__aot_key(x, y, a), kb = prefloss__aot_key(x, y, b);
    if (ka.hi == kb.hi && prefloss__fabs(ka.hi) > FLT_MAX) {
        float ua, ub;
        ka = prefloss__diff_of_diffs_scaled(x[a], y != NULL ? y[a] : 0.0f, 0.0f, 0.0f, &ua);
        kb = prefloss__diff_of_diffs_scaled(x[b], y != NULL ? y[b] : 0.0f, 0.0f, 0.0f, &ub);
    }
    if (ka.hi != kb.hi) return ka.hi < kb.hi;
    if (ka.lo != kb.lo) return ka.lo < kb.lo;
    return a < b;
}

/* Heap sort of the indices 0..n-1 by key: in place, no recursion, no
 * allocation, O(n log n) whatever the input. */
static PREFLOSS_KERNEL_ATTR void prefloss__aot_sort(size_t *idx, size_t n, const float *x, const float *y)
{
    size_t i, end;
    for (i = 0; i < n; i++) idx[i] = i;
    if (n < 2) return;
    for (i = n / 2; i-- > 0;) { /* build a max-heap */
        size_t root = i;
        for (;;) {
            size_t child = 2 * root + 1, top = root, t;
            if (child >= n) break;
            if (prefloss__aot_before(x, y, idx[top], idx[child])) top = child;
            if (child + 1 < n && prefloss__aot_before(x, y, idx[top], idx[child + 1])) top = child + 1;
            if (top == root) break;
            t = idx[root]; idx[root] = idx[top]; idx[top] = t;
            root = top;
        }
    }
    for (end = n - 1; end > 0; end--) { /* move the maximum to the end, restore the heap */
        size_t root = 0, t = idx[0];
        idx[0] = idx[end]; idx[end] = t;
        for (;;) {
            size_t child = 2 * root + 1, top = root;
            if (child >= end) break;
            if (prefloss__aot_before(x, y, idx[top], idx[child])) top = child;
            if (child + 1 < end && prefloss__aot_before(x, y, idx[top], idx[child + 1])) top = child + 1;
            if (top == root) break;
            t = idx[root]; idx[root] = idx[top]; idx[top] = t;
            root = top;
        }
    }
}

PREFLOSS_API int prefloss_aot_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen, const float *policy_rejected,
                                   const float *ref_chosen, const float *ref_rejected,
                                   const float *dlosses, size_t n, float beta,
                                   float label_smoothing, int paired, size_t *workspace)
{
    const float *x1, *y1, *x2, *y2; /* rank i pairs key (x1 - y1) with key (x2 - y2) */
    size_t *p, *q, i;
    float bad = 0.0f;
    int st, any_bad;
    if (!prefloss__beta_ok(beta) || !(label_smoothing >= 0.0f && label_smoothing <= 0.5f))
        return PREFLOSS_ERR_PARAM;
    if (n == 0) return PREFLOSS_OK;
    if (n > SIZE_MAX / 2 / sizeof(size_t)) return PREFLOSS_ERR_SIZE;
    st = prefloss__check_pairwise(n, losses, dchosen, drejected, NULL, policy_chosen,
                                  policy_rejected, ref_chosen, ref_rejected, dlosses, 1);
    if (st != PREFLOSS_OK) return st;
    if (workspace == NULL) return PREFLOSS_ERR_NULL;
    {
        prefloss__range ws[1], other[8];
        const void *ptrs[8];
        int k;
        ptrs[0] = losses; ptrs[1] = dchosen; ptrs[2] = drejected; ptrs[3] = policy_chosen;
        ptrs[4] = policy_rejected; ptrs[5] = ref_chosen; ptrs[6] = ref_rejected; ptrs[7] = dlosses;
        ws[0].p = workspace;
        ws[0].bytes = 2 * n * sizeof(size_t);
        for (k = 0; k < 8; k++) { other[k].p = ptrs[k]; other[k].bytes = n * sizeof(float); }
        st = prefloss__check_overlap(ws, 1, other, 8);
        if (st != PREFLOSS_OK) return st;
    }
    /* a non-finite input anywhere poisons every rank */
    for (i = 0; i < n; i++) {
        bad += prefloss__nan_if_nonfinite(policy_chosen[i]) + prefloss__nan_if_nonfinite(policy_rejected[i]);
        if (ref_chosen != NULL) bad += prefloss__nan_if_nonfinite(ref_chosen[i]) + prefloss__nan_if_nonfinite(ref_rejected[i]);
    }
    if (paired) { x1 = policy_chosen; y1 = ref_chosen; x2 = policy_rejected; y2 = ref_rejected; }
    else { x1 = policy_chosen; y1 = policy_rejected; x2 = ref_chosen; y2 = ref_rejected; }
    p = workspace;
    q = workspace + n;
    prefloss__aot_sort(p, n, x1, y1);
    if (x2 != NULL) prefloss__aot_sort(q, n, x2, y2);
    else for (i = 0; i < n; i++) q[i] = i;  /* reference-free "aot": the second key is 0 */
    any_bad = bad != bad;
    for (i = 0; i < n; i++) { /* every index occurs once in p and once in q */
        /* beta d, d = (x1 - y1)[P(i)] - (x2 - y2)[Q(i)], from the four inputs
         * at once: exact, and no inf - inf where both keys overflow */
        size_t a = p[i], b = q[i];
        prefloss__df z = prefloss__beta_times_diff(beta, x1[a], y1 != NULL ? y1[a] : 0.0f,
                                                   x2 != NULL ? x2[b] : 0.0f,
                                                   y2 != NULL ? y2[b] : 0.0f, 0);
        prefloss__ld l = prefloss__smoothed_sigmoid(z, label_smoothing);
        float up = dlosses != NULL ? dlosses[i] : 1.0f;
        float g = prefloss__times_up(beta * l.dz, up);
        float bad_up = bad + prefloss__nan_if_nonfinite(up);
        if (losses != NULL) losses[i] = l.loss + bad;
        /* aot: d = (pc - pr)_P - (...): +g to pc[P], -g to pr[P];
         * aot_pair: d = (pc - rc)_P - (pr - rr)_Q: +g to pc[P], -g to pr[Q] */
        if (dchosen != NULL) dchosen[p[i]] = g + bad_up;
        if (drejected != NULL) drejected[paired ? q[i] : p[i]] = -g + bad_up;
        any_bad |= bad_up != bad_up;
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

/* ------------------------------------------------------------------------ */
#endif /* PREFLOSS_NO_AOT */

/* ==== lib/ld.c ==== */
#ifndef PREFLOSS_NO_LD /* (see lib/lean.c) */
/* LD-DPO: length-desensitised sequence log-probs                           */
/* ------------------------------------------------------------------------ */

/* The position after which row m[0..len) has counted `public` tokens
 * (len if it never has that many). */
static size_t prefloss__public_end(const unsigned char *m, size_t len, size_t public_len)
{
    size_t j, seen = 0;
    if (m == NULL) return public_len < len ? public_len : len;
    for (j = 0; j < len && seen < public_len; j++) seen += m[j] != 0;
    return j;
}

/* The compensated sum of a span's counted tokens, through the scaled path
 * where a token is huge (as prefloss_sequence_logps does). */
static PREFLOSS_KERNEL_ATTR float prefloss__span_sum(const float *t, const unsigned char *m, size_t len, int *bad)
{
    size_t count;
    int huge;
    prefloss__df sum;
    float value;
    if (len == 0) { *bad = 0; return 0.0f; }
    sum = prefloss__row_sum(t, m, len, &count, bad, &huge);
    value = prefloss__df_round(sum);
    if (!*bad && (huge || !prefloss__finite(value)))
        value = prefloss__row_value_wide(t, m, len, count, PREFLOSS_REDUCE_SUM);
    return value;
}

/* Checks shared by the LD forward and backward. */
static int prefloss__check_ld(float *out, size_t out_n, const float *in, size_t in_n,
                              const unsigned char *mask, const size_t *public_lengths,
                              size_t batch, size_t seq_len, float alpha)
{
    int st;
    if (!(alpha >= 0.0f && alpha <= 1.0f)) return PREFLOSS_ERR_PARAM;
    st = prefloss__check_sequence(out, out_n, in, in_n, mask, batch, seq_len, PREFLOSS_REDUCE_SUM);
    if (st != PREFLOSS_OK || batch == 0) return st;
    if (public_lengths == NULL) return PREFLOSS_ERR_NULL;
    {
        prefloss__range o[1], i[1];
        o[0].p = out; o[0].bytes = out_n * sizeof(float);
        i[0].p = public_lengths; i[0].bytes = batch * sizeof(size_t);
        return prefloss__check_overlap(o, 1, i, 1);
    }
}

PREFLOSS_API int prefloss_sequence_logps_ld(float *seq_logps, const float *token_logps,
                                            const unsigned char *mask,
                                            const size_t *public_lengths, size_t batch,
                                            size_t seq_len, float alpha)
{
    int st, any_bad = 0;
    size_t b;
    st = prefloss__check_ld(seq_logps, batch, token_logps, batch * seq_len, mask, public_lengths,
                            batch, seq_len, alpha);
    if (st != PREFLOSS_OK || batch == 0) return st;
    if (seq_len == 0) { /* empty rows (token_logps may be NULL: no pointer arithmetic) */
        for (b = 0; b < batch; b++) seq_logps[b] = 0.0f;
        return PREFLOSS_OK;
    }
    for (b = 0; b < batch; b++) {
        const float *t = token_logps + b * seq_len;
        const unsigned char *m = mask != NULL ? mask + b * seq_len : NULL;
        size_t split = prefloss__public_end(m, seq_len, public_lengths[b]);
        int bad_pub, bad_verb;
        float pub = prefloss__span_sum(t, m, split, &bad_pub);
        float verb = prefloss__span_sum(t + split, m != NULL ? m + split : NULL, seq_len - split, &bad_verb);
        /* pub + alpha * verb, one rounding of the product's error kept */
        prefloss__df av = prefloss__two_prod(alpha, verb, 0);
        float value = prefloss__df_round(prefloss__df_add_f(av, pub));
        if (bad_pub || bad_verb) { value = prefloss__nan(); any_bad = 1; }
        seq_logps[b] = value;
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}

PREFLOSS_API int prefloss_sequence_logps_ld_backward(float *dtoken_logps, const float *dseq_logps,
                                                     const unsigned char *mask,
                                                     const size_t *public_lengths, size_t batch,
                                                     size_t seq_len, float alpha)
{
    int st, any_bad = 0;
    size_t b, j;
    st = prefloss__check_ld(dtoken_logps, batch * seq_len, dseq_logps, batch, mask, public_lengths,
                            batch, seq_len, alpha);
    if (st != PREFLOSS_OK || batch == 0) return st;
    for (b = 0; b < batch; b++) {
        float g = dseq_logps[b];
        if (!prefloss__finite(g)) { g = prefloss__nan(); any_bad = 1; }
        if (seq_len == 0) continue;
        {
            const unsigned char *m = mask != NULL ? mask + b * seq_len : NULL;
            float *dt = dtoken_logps + b * seq_len;
            size_t split = prefloss__public_end(m, seq_len, public_lengths[b]);
            float ga = g * alpha; /* NaN stays NaN, even for alpha = 0 */
            if (m == NULL) {
                for (j = 0; j < split; j++) dt[j] = g;
                for (; j < seq_len; j++) dt[j] = ga;
            } else {
                for (j = 0; j < split; j++) dt[j] = prefloss__select(m[j] != 0, g, 0.0f);
                for (; j < seq_len; j++) dt[j] = prefloss__select(m[j] != 0, ga, 0.0f);
            }
        }
    }
    return any_bad ? PREFLOSS_NONFINITE : PREFLOSS_OK;
}
#endif /* PREFLOSS_NO_LD */

/* ==== lib/lean.c ==== */
/* ------------------------------------------------------------------------ */
/* Lean builds: families left out at compile time                           */
/*                                                                          */
/* PREFLOSS_NO_CATALOGUE, PREFLOSS_NO_ORPO_KTO, PREFLOSS_NO_AOT,           */
/* PREFLOSS_NO_LD, PREFLOSS_NO_TOKEN (the token stage) and                  */
/* PREFLOSS_NO_PARTIALS (the exact partial sums; prefloss_kto_kl sums       */
/* through them), defined where the implementation is compiled, leave out  */
/* the code of those families. Their public functions stay, so a program   */
/* and the ABI do not change: each returns PREFLOSS_ERR_UNSUPPORTED and     */
/* writes nothing (prefloss_loss_kind_count() gives 0, prefloss_loss_kind_  */
/* name() NULL). PREFLOSS_NO_CATALOGUE implies PREFLOSS_NO_AOT.            */
/* ------------------------------------------------------------------------ */

#ifdef PREFLOSS_NO_CATALOGUE
PREFLOSS_API int prefloss_pair_params_init(prefloss_pair_params *params, size_t size)
{
    (void)params; (void)size;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API const char *prefloss_loss_kind_name(int kind) { (void)kind; return NULL; }
PREFLOSS_API int prefloss_loss_kind_from_name(const char *name)
{
    (void)name;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_loss_kind_count(void) { return 0; }
PREFLOSS_API int prefloss_loss_kind_reads(int kind, const char *field)
{
    (void)kind; (void)field;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_pair_loss(float *losses, float *dchosen, float *drejected,
                                    const float *policy_chosen, const float *policy_rejected,
                                    const float *ref_chosen, const float *ref_rejected,
                                    const float *weights, const float *dlosses, size_t n,
                                    int kind, const prefloss_pair_params *params)
{
    (void)losses; (void)dchosen; (void)drejected; (void)policy_chosen; (void)policy_rejected;
    (void)ref_chosen; (void)ref_rejected; (void)weights; (void)dlosses; (void)n; (void)kind;
    (void)params;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_bco_update_delta(float *delta, float *count,
                                           const float *policy_chosen,
                                           const float *policy_rejected,
                                           const float *ref_chosen, const float *ref_rejected,
                                           size_t n, float beta)
{
    (void)delta; (void)count; (void)policy_chosen; (void)policy_rejected; (void)ref_chosen;
    (void)ref_rejected; (void)n; (void)beta;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_pair_loss_mix(float *losses, float *dchosen, float *drejected,
                                        const float *policy_chosen, const float *policy_rejected,
                                        const float *ref_chosen, const float *ref_rejected,
                                        const float *weights, const float *dlosses, size_t n,
                                        const int *kinds, const float *mix_weights, size_t n_kinds,
                                        const prefloss_pair_params *params)
{
    (void)losses; (void)dchosen; (void)drejected; (void)policy_chosen; (void)policy_rejected;
    (void)ref_chosen; (void)ref_rejected; (void)weights; (void)dlosses; (void)n; (void)kinds;
    (void)mix_weights; (void)n_kinds; (void)params;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_CATALOGUE */

#ifdef PREFLOSS_NO_ORPO_KTO
PREFLOSS_API int prefloss_orpo_loss(float *losses, float *dchosen, float *drejected,
                                    const float *mean_chosen, const float *mean_rejected,
                                    const float *dlosses, size_t n, float lambda, float nll_weight)
{
    (void)losses; (void)dchosen; (void)drejected; (void)mean_chosen; (void)mean_rejected;
    (void)dlosses; (void)n; (void)lambda; (void)nll_weight;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_kto_loss(float *losses, float *dpolicy,
                                   const float *policy_logps, const float *ref_logps,
                                   const unsigned char *desirable, const float *dlosses, size_t n,
                                   float beta, float kl, float desirable_weight,
                                   float undesirable_weight)
{
    (void)losses; (void)dpolicy; (void)policy_logps; (void)ref_logps; (void)desirable;
    (void)dlosses; (void)n; (void)beta; (void)kl; (void)desirable_weight; (void)undesirable_weight;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_kto_kl(float *kl, const float *policy_kl_logps,
                                 const float *ref_kl_logps, size_t n)
{
    (void)kl; (void)policy_kl_logps; (void)ref_kl_logps; (void)n;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_ORPO_KTO */

#ifdef PREFLOSS_NO_AOT
PREFLOSS_API int prefloss_aot_loss(float *losses, float *dchosen, float *drejected,
                                   const float *policy_chosen, const float *policy_rejected,
                                   const float *ref_chosen, const float *ref_rejected,
                                   const float *dlosses, size_t n, float beta,
                                   float label_smoothing, int paired, size_t *workspace)
{
    (void)losses; (void)dchosen; (void)drejected; (void)policy_chosen; (void)policy_rejected;
    (void)ref_chosen; (void)ref_rejected; (void)dlosses; (void)n; (void)beta;
    (void)label_smoothing; (void)paired; (void)workspace;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_AOT */

#ifdef PREFLOSS_NO_LD
PREFLOSS_API int prefloss_sequence_logps_ld(float *seq_logps, const float *token_logps,
                                            const unsigned char *mask,
                                            const size_t *public_lengths, size_t batch,
                                            size_t seq_len, float alpha)
{
    (void)seq_logps; (void)token_logps; (void)mask; (void)public_lengths; (void)batch;
    (void)seq_len; (void)alpha;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_sequence_logps_ld_backward(float *dtoken_logps, const float *dseq_logps,
                                                     const unsigned char *mask,
                                                     const size_t *public_lengths, size_t batch,
                                                     size_t seq_len, float alpha)
{
    (void)dtoken_logps; (void)dseq_logps; (void)mask; (void)public_lengths; (void)batch;
    (void)seq_len; (void)alpha;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_LD */

#ifdef PREFLOSS_NO_TOKEN
PREFLOSS_API int prefloss_token_logps(float *token_logps, float *lse, const float *logits,
                                      const int32_t *targets, size_t n_tokens, size_t vocab,
                                      size_t row_stride, int32_t ignore_index)
{
    (void)token_logps; (void)lse; (void)logits; (void)targets; (void)n_tokens; (void)vocab; (void)row_stride; (void)ignore_index;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_token_logps_backward(float *dlogits, size_t dlogits_stride,
                                               const float *dtoken_logps, const float *logits,
                                               size_t row_stride, const float *lse,
                                               const int32_t *targets, size_t n_tokens,
                                               size_t vocab, int32_t ignore_index)
{
    (void)dlogits; (void)dlogits_stride; (void)dtoken_logps; (void)logits; (void)row_stride; (void)lse; (void)targets; (void)n_tokens; (void)vocab; (void)ignore_index;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_pair_loss_from_logits_workspace(size_t *workspace_len,
                                                          const size_t *chosen_offsets,
                                                          const size_t *rejected_offsets,
                                                          size_t n_pairs, size_t seq_len)
{
    (void)workspace_len; (void)chosen_offsets; (void)rejected_offsets; (void)n_pairs; (void)seq_len;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_TOKEN */

#ifdef PREFLOSS_NO_PARTIALS
PREFLOSS_API int prefloss_partial_init(prefloss_partial *partial)
{
    (void)partial;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_partial_add(prefloss_partial *partial, const float *values, size_t n)
{
    (void)partial; (void)values; (void)n;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_partial_merge(prefloss_partial *dst, const prefloss_partial *src)
{
    (void)dst; (void)src;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_partial_finish(float *mean, float *sum, long long *count,
                                         const prefloss_partial *partial)
{
    (void)mean; (void)sum; (void)count; (void)partial;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_kto_kl_partial(prefloss_partial *partial, const float *policy_kl_logps,
                                         const float *ref_kl_logps, size_t n)
{
    (void)partial; (void)policy_kl_logps; (void)ref_kl_logps; (void)n;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_kto_kl_finish(float *kl, const prefloss_partial *partial)
{
    (void)kl; (void)partial;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_rewards_partial(prefloss_partial *chosen_rewards,
                                          prefloss_partial *rejected_rewards,
                                          prefloss_partial *margins, prefloss_partial *accuracies,
                                          const float *policy_chosen, const float *policy_rejected,
                                          const float *ref_chosen, const float *ref_rejected,
                                          size_t n, float beta)
{
    (void)chosen_rewards; (void)rejected_rewards; (void)margins; (void)accuracies; (void)policy_chosen; (void)policy_rejected; (void)ref_chosen; (void)ref_rejected; (void)n; (void)beta;
    return PREFLOSS_ERR_UNSUPPORTED;
}
PREFLOSS_API int prefloss_token_partial(prefloss_partial *partial, const float *token_logps,
                                        const unsigned char *mask, size_t batch, size_t seq_len)
{
    (void)partial; (void)token_logps; (void)mask; (void)batch; (void)seq_len;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif /* PREFLOSS_NO_PARTIALS */

/* the fused call needs both the token stage and the catalogue */
#if defined(PREFLOSS_NO_CATALOGUE) || defined(PREFLOSS_NO_TOKEN)
PREFLOSS_API int prefloss_pair_loss_from_logits(
    float *losses, float *policy_chosen, float *policy_rejected,
    float *dchosen_logits, float *drejected_logits,
    const float *chosen_logits, const float *rejected_logits,
    const int32_t *chosen_targets, const int32_t *rejected_targets,
    const size_t *chosen_offsets, const size_t *rejected_offsets,
    const float *ref_chosen, const float *ref_rejected, const float *dlosses,
    size_t n_pairs, size_t seq_len, size_t vocab, size_t row_stride, int32_t ignore_index,
    int average_log_prob, int kind, const prefloss_pair_params *params,
    float *workspace, size_t workspace_len)
{
    (void)losses; (void)policy_chosen; (void)policy_rejected; (void)dchosen_logits;
    (void)drejected_logits; (void)chosen_logits; (void)rejected_logits; (void)chosen_targets;
    (void)rejected_targets; (void)chosen_offsets; (void)rejected_offsets; (void)ref_chosen;
    (void)ref_rejected; (void)dlosses; (void)n_pairs; (void)seq_len; (void)vocab;
    (void)row_stride; (void)ignore_index; (void)average_log_prob; (void)kind; (void)params;
    (void)workspace; (void)workspace_len;
    return PREFLOSS_ERR_UNSUPPORTED;
}
#endif

/* ==== lib/footer.c ==== */
#ifdef __cplusplus
}
#endif

#ifdef PREFLOSS__FLOAT_CONTROL
#  pragma float_control(pop)
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

