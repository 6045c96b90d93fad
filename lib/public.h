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
#define PREFLOSS_LOSS_SIGMOID 0    /**< "sigmoid": DPO/cDPO, -(1-eps) log sigma(z) - eps log sigma(-z) */
#define PREFLOSS_LOSS_IPO 1        /**< "ipo": (h - 1/(2 beta))^2 */
#define PREFLOSS_LOSS_HINGE 2      /**< "hinge" (SLiC): max(0, 1 - z) */
#define PREFLOSS_LOSS_ROBUST 3     /**< "robust": [-(1-eps) log sigma(z) + eps log sigma(-z)] / (1 - 2 eps), eps in [0, 1/2) */
#define PREFLOSS_LOSS_EXO_PAIR 4   /**< "exo_pair": KL(Bernoulli(sigma(z)) || Bernoulli(1-eps)); eps = 0 means 1e-3 (as TRL) */
#define PREFLOSS_LOSS_NCA_PAIR 5   /**< "nca_pair": -log sigma(beta uc) - 1/2 log sigma(-beta uc) - 1/2 log sigma(-beta ur) */
#define PREFLOSS_LOSS_BCO_PAIR 6   /**< "bco_pair": -log sigma(beta uc - delta) - log sigma(-(beta ur - delta)) */
#define PREFLOSS_LOSS_SPPO_HARD 7  /**< "sppo_hard": (uc - 1/(2 beta))^2 + (ur + 1/(2 beta))^2 */
#define PREFLOSS_LOSS_APO_ZERO 8   /**< "apo_zero": 1 - sigma(beta uc) + sigma(beta ur) */
#define PREFLOSS_LOSS_APO_DOWN 9   /**< "apo_down": sigma(beta uc) + 1 - sigma(z) */
#define PREFLOSS_LOSS_DISCOPOP 10  /**< "discopop": (1 - w)(-log sigma(z)) + w e^{-z}, w = sigma(z/tau) */
#define PREFLOSS_LOSS_JS 11        /**< "js_divergence": sigmoid loss with h - (sp(uc) - sp(ur)) for h */
#define PREFLOSS_LOSS_ALPHA 12     /**< "alpha_divergence": sigmoid loss with (e^{-a ur} - e^{-a uc})/a for h (exponents capped at 88.7228 as TRL's cap_exp) */
#define PREFLOSS_LOSS_SIMPO 13     /**< "simpo": -(1-eps) log sigma(beta(pc - pr) - gamma) - eps log sigma(-(...)); no reference; pass mean log-probs */
#define PREFLOSS_LOSS_CPO 14       /**< "cpo": -(1-eps) log sigma(beta(pc - pr)) - eps log sigma(-(...)); no reference */

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
 * The kind for a TRL loss_type name ("sigmoid", "ipo", "hinge", "robust",
 * "exo_pair", "nca_pair", "bco_pair", "sppo_hard", "apo_zero", "apo_down",
 * "discopop", "js_divergence", "alpha_divergence", "simpo", "cpo").
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
 * the sum formed exactly in double-float (TRL computes it on mismatched
 * prompt/completion pairs and detaches it).
 *
 * @param[out] kl  the estimate.
 * @param[in]  policy_kl_logps  (n) required if n > 0.
 * @param[in]  ref_kl_logps  (n) required if n > 0.
 * @param      n   number of samples (0 gives 0).
 * @return PREFLOSS_OK; PREFLOSS_NONFINITE (a non-finite input: *kl is NaN);
 *   PREFLOSS_ERR_NULL, PREFLOSS_ERR_SIZE.
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

#ifdef __cplusplus
}
#endif

#endif /* PREFLOSS_H */
