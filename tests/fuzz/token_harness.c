/*
 * tests/fuzz/token_harness.c — libFuzzer harness for the token stage:
 * prefloss_token_logps, prefloss_token_logps_backward and
 * prefloss_pair_loss_from_logits on inputs decoded from the fuzzer's bytes
 * (shapes, strides, targets with invalid and ignored ids, logits with
 * special values, in place / separate / overlapping outputs, padded and
 * packed layouts, every kind, sum or mean).
 *
 * Invariants, checked strictly:
 *  - the status is one of the documented codes; on an error nothing is
 *    written (every output byte keeps its sentinel), and the error is the
 *    expected one for the input classes this harness knows (bad target,
 *    vocab 0, short stride, short workspace, overlap);
 *  - on success: token log-probs <= 0, 0 for ignored tokens, NaN exactly
 *    for the counted rows with a non-finite logit (and PREFLOSS_NONFINITE
 *    exactly then); each finite dlogits row sums to ~0 (g (1 - sum p));
 *  - the in-place backward and fused call are bit-identical to the separate
 *    buffer ones.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* The library is linked in, compiled once for every harness (fuzz.mk). */
#ifdef FUZZ_SINGLE_FILE
#define PREFLOSS_IMPLEMENTATION
#endif
#include "prefloss.h"

#define MAXR 12
#define MAXV 40
#define MAXS (MAXV + 3)
#define IGN (-100)

typedef struct { const uint8_t *p; size_t n, i; } rd_t;
static uint8_t u8(rd_t *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static uint32_t u32(rd_t *r) { uint32_t v = 0; int k; for (k = 0; k < 4; k++) v |= (uint32_t)u8(r) << (8 * k); return v; }
static float bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

#define FAIL(...) do { fprintf(stderr, "token fuzz: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static float gen_logit(rd_t *r)
{
    uint8_t c = u8(r);
    switch (c % 8) {
    case 0: return bits(u32(r));                                   /* any bits */
    case 1: { static const float sp[] = {0.0f, -0.0f, 1e30f, -1e30f, 3.4e38f, -3.4e38f, 1e-40f, 88.0f, -104.0f};
              return sp[u8(r) % 9]; }
    case 2: return (float)(int8_t)u8(r) * 4.0f;                      /* spread */
    default: return (float)(int16_t)(u8(r) | (u8(r) << 8)) / 1024.0f; /* moderate */
    }
}

static float X[MAXR * MAXS], XI[MAXR * MAXS], D[MAXR * MAXS], L1[MAXR], L2[MAXR], G[MAXR];
static int32_t TG[MAXR];
static const float SENT = -777.0f;

static int finite_(float x) { return x - x == 0.0f; }

static void token_case(rd_t *r)
{
    size_t V = u8(r) % (MAXV + 1), n = u8(r) % (MAXR + 1), stride = V + u8(r) % 4, i, j;
    int expect_param = V == 0, st, bad_rows = 0;
    if (u8(r) % 8 == 0 && stride > 0) { stride--; expect_param |= stride < V; }
    for (i = 0; i < MAXR * MAXS; i++) X[i] = gen_logit(r);
    for (i = 0; i < MAXR; i++) {
        uint8_t c = u8(r);
        TG[i] = c % 5 == 0 ? IGN : c % 17 == 0 ? (int32_t)V : V > 0 ? (int32_t)(u8(r) % V) : 0;
        if (i < n && TG[i] != IGN && (TG[i] < 0 || (size_t)TG[i] >= V)) expect_param = 1;
        G[i] = (float)(int8_t)u8(r) / 16.0f;
    }
    if (n == 0 && V > 0 && stride >= V) expect_param = 0;
    for (i = 0; i < MAXR; i++) L1[i] = L2[i] = SENT;
    st = prefloss_token_logps(L1, L2, X, TG, n, V, stride, IGN);
    if (expect_param) {
        if (st != PREFLOSS_ERR_PARAM) FAIL("token_logps: status %d, expected ERR_PARAM", st);
        for (i = 0; i < MAXR; i++) if (L1[i] != SENT || L2[i] != SENT) FAIL("token_logps wrote on an error");
        return;
    }
    if (st != PREFLOSS_OK && st != PREFLOSS_NONFINITE) FAIL("token_logps: status %d", st);
    for (i = 0; i < n; i++) {
        int rowbad = 0;
        if (TG[i] == IGN) {
            if (L1[i] != 0.0f) FAIL("ignored token's log-prob %g", (double)L1[i]);
            continue;
        }
        for (j = 0; j < V; j++) rowbad |= !finite_(X[i * stride + j]);
        bad_rows |= rowbad;
        if (rowbad != (L1[i] != L1[i])) {
            for (j = 0; j < V; j++) fprintf(stderr, "x[%zu] = %a\n", j, (double)X[i * stride + j]);
            FAIL("row %zu (V %zu, target %d): NaN %d but non-finite logit %d", i, V, (int)TG[i], L1[i] != L1[i], rowbad);
        }
        if (!rowbad && !(L1[i] <= 0.0f)) FAIL("row %zu: log-prob %g > 0", i, (double)L1[i]);
    }
    for (i = n; i < MAXR; i++) if (L1[i] != SENT) FAIL("wrote past n");
    if ((st == PREFLOSS_NONFINITE) != bad_rows) FAIL("status %d with non-finite rows %d", st, bad_rows);
    if (n == 0) return;
    /* backward: separate, then in place (bit-identical), then an overlap */
    for (i = 0; i < MAXR * MAXS; i++) D[i] = SENT;
    st = prefloss_token_logps_backward(D, stride, G, X, stride, L2, TG, n, V, IGN);
    if (st != PREFLOSS_OK && st != PREFLOSS_NONFINITE) FAIL("backward: status %d", st);
    memcpy(XI, X, sizeof X);
    if (prefloss_token_logps_backward(XI, stride, G, XI, stride, L2, TG, n, V, IGN) != st) FAIL("in place: another status");
    for (i = 0; i < n; i++) {
        double sum = 0, mag = 0, big = 0;
        for (j = 0; j < V; j++) {
            float a = D[i * stride + j], b = XI[i * stride + j];
            if (memcmp(&a, &b, 4) != 0) FAIL("in place differs at row %zu entry %zu", i, j);
            sum += a;
            mag += fabs((double)a);
        }
        for (j = V; j < stride && i + 1 < n; j++) if (D[i * stride + j] != SENT) FAIL("wrote a gap");
        if (TG[i] == IGN && mag != 0) FAIL("ignored row not zero");
        /* the documented bound: each entry within 6u|value| + 2u|g| p_j (|x_j| + |lse|);
         * for logits so large that this is not small, only finiteness is checked */
        for (j = 0; j < V; j++) if (fabs((double)X[i * stride + j]) > big) big = fabs((double)X[i * stride + j]);
        big += fabs((double)L2[i]);
        if (big * 0x1p-21 > 0.01) continue;
        if (sum == sum && !(fabs(sum) <= 1e-5 * (fabs((double)G[i]) + mag) + fabs((double)G[i]) * (double)(V + 1) * 8 * 0x1p-24 * big + 1e-30)) {
            for (j = 0; j < V; j++)
                fprintf(stderr, "x[%zu] = %a  d = %a\n", j, (double)X[i * stride + j], (double)D[i * stride + j]);
            FAIL("row %zu (V %zu, target %d, g %g, lse %a) sums to %g", i, V, (int)TG[i], (double)G[i], (double)L2[i], sum);
        }
    }
    /* an overlap other than in place (the spans overlap when they hold more than one float) */
    if ((n - 1) * stride + V < 2) return;
    memcpy(XI, X, sizeof X);
    if (prefloss_token_logps_backward(XI + 1, stride, G, XI, stride, L2, TG, n, V, IGN) != PREFLOSS_ERR_OVERLAP)
        FAIL("shifted in place not an overlap");
    if (memcmp(XI, X, sizeof X) != 0) FAIL("wrote on an overlap");
}

static float XC[MAXR * MAXS], XR[MAXR * MAXS], DC[MAXR * MAXS], DR[MAXR * MAXS], WS[2 * MAXR];
static float XCI[MAXR * MAXS], XRI[MAXR * MAXS];
static int32_t TC[MAXR], TR[MAXR];

static void fused_case(rd_t *r)
{
    size_t npairs = u8(r) % 4, T = u8(r) % 4, V = 1 + u8(r) % MAXV, stride = V + u8(r) % 3, i, j, wl;
    size_t offc[5], offr[5];
    int packed = u8(r) & 1, mean = u8(r) & 1, kind = (int)(u8(r) % (uint8_t)prefloss_loss_kind_count());
    float loss[4], pc[4], pr[4], l2[4], rc[4], rr[4], up[4];
    int st, st2, wst;
    prefloss_pair_params p;
    prefloss_pair_params_init(&p, sizeof p);
    if (packed) {
        offc[0] = offr[0] = 0;
        for (i = 0; i < npairs; i++) {
            offc[i + 1] = offc[i] + u8(r) % 4;
            offr[i + 1] = offr[i] + u8(r) % 4;
            if (offc[i + 1] > MAXR) offc[i + 1] = MAXR;
            if (offr[i + 1] > MAXR) offr[i + 1] = MAXR;
        }
    } else if (npairs * T > MAXR) T = MAXR / (npairs ? npairs : 1);
    for (i = 0; i < MAXR * MAXS; i++) { XC[i] = gen_logit(r); XR[i] = gen_logit(r); }
    for (i = 0; i < MAXR; i++) {
        TC[i] = u8(r) % 4 == 0 ? IGN : (int32_t)(u8(r) % V);
        TR[i] = u8(r) % 4 == 0 ? IGN : (int32_t)(u8(r) % V);
    }
    for (i = 0; i < 4; i++) {
        rc[i] = (float)(int8_t)u8(r);
        rr[i] = (float)(int8_t)u8(r);
        up[i] = (float)(int8_t)u8(r) / 32.0f;
    }
    wst = prefloss_pair_loss_from_logits_workspace(&wl, packed ? offc : NULL, packed ? offr : NULL, npairs, T);
    if (wst != PREFLOSS_OK) FAIL("workspace query %d", wst);
    for (i = 0; i < MAXR * MAXS; i++) DC[i] = DR[i] = SENT;
    for (i = 0; i < 2 * MAXR; i++) WS[i] = SENT;
    for (i = 0; i < 4; i++) loss[i] = pc[i] = pr[i] = l2[i] = SENT;
    {
        size_t short_ws = (u8(r) % 8 == 0 && wl > 0) ? wl - 1 : wl;
        st = prefloss_pair_loss_from_logits(loss, pc, pr, DC, DR, XC, XR, TC, TR, packed ? offc : NULL,
                                            packed ? offr : NULL, rc, rr, up, npairs, T, V, stride, IGN, mean,
                                            kind, &p, WS, short_ws);
        if (short_ws < wl && npairs > 0) {
            if (st != PREFLOSS_ERR_SIZE) FAIL("short workspace: status %d", st);
            for (i = 0; i < MAXR * MAXS; i++) if (DC[i] != SENT || DR[i] != SENT) FAIL("wrote on an error");
            for (i = 0; i < 4; i++) if (loss[i] != SENT) FAIL("wrote on an error");
            return;
        }
    }
    if (st != PREFLOSS_OK && st != PREFLOSS_NONFINITE) FAIL("fused: status %d", st);
    for (i = npairs; i < 4; i++) if (loss[i] != SENT) FAIL("wrote past n");
    /* the losses equal prefloss_pair_loss on the returned log-probs */
    if (npairs > 0) {
        st2 = prefloss_pair_loss(l2, NULL, NULL, pc, pr, rc, rr, NULL, up, npairs, kind, &p);
        if (st2 != st) {
            for (i = 0; i < npairs; i++)
                fprintf(stderr, "pair %zu: pc %a pr %a rc %g rr %g up %g loss %a kind %d mean %d\n", i, (double)pc[i],
                        (double)pr[i], (double)rc[i], (double)rr[i], (double)up[i], (double)loss[i], kind, mean);
            FAIL("pair_loss on the log-probs: status %d vs %d", st2, st);
        }
        for (i = 0; i < npairs; i++) if (memcmp(&l2[i], &loss[i], 4) != 0) FAIL("loss %zu differs", i);
    }
    /* in place: bit-identical */
    memcpy(XCI, XC, sizeof XC);
    memcpy(XRI, XR, sizeof XR);
    st2 = prefloss_pair_loss_from_logits(l2, NULL, NULL, XCI, XRI, XCI, XRI, TC, TR, packed ? offc : NULL,
                                         packed ? offr : NULL, rc, rr, up, npairs, T, V, stride, IGN, mean, kind,
                                         &p, WS, wl);
    if (st2 != st) FAIL("in place: status %d vs %d", st2, st);
    {
        size_t rows_c = packed ? offc[npairs] : npairs * T, rows_r = packed ? offr[npairs] : npairs * T;
        for (i = 0; i < rows_c; i++)
            for (j = 0; j < V; j++)
                if (memcmp(&XCI[i * stride + j], &DC[i * stride + j], 4) != 0) FAIL("in place chosen differs");
        for (i = 0; i < rows_r; i++)
            for (j = 0; j < V; j++)
                if (memcmp(&XRI[i * stride + j], &DR[i * stride + j], 4) != 0) FAIL("in place rejected differs");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_t r;
    r.p = data;
    r.n = size;
    r.i = 0;
    if (u8(&r) & 1) token_case(&r);
    else fused_case(&r);
    return 0;
}
