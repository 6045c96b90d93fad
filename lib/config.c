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
