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
/* @PREFLOSS_LOSS_VALUES@: lib/amalgamate.sh writes one #define per row of
 * the kind registry (PREFLOSS__KINDS in lib/registry.c) here. */

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
