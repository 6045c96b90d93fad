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
