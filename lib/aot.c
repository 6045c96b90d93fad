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
