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
