/*
 * examples/tinylm — a tiny language model fine-tuned with DPO from logits.
 *
 * The model predicts token j+1 from token j: an embedding (V x E), one
 * hidden tanh layer (H), and an lm_head (V x H) giving V logits per
 * position. Each preference pair has a chosen and a rejected response of
 * T tokens after a one-token prompt: chosen responses count upwards
 * (t, t+1, t+2, ... mod V), rejected ones are random. The reference model is
 * the starting model; its sequence log-probs are computed once, with the
 * same library call.
 *
 * One training step: the model's forward writes the logits of every pair
 * (B x T x V per side), prefloss_pair_loss_from_logits turns them into the
 * DPO losses and overwrites them with dL/dlogits (dlosses = 1/B: the batch
 * mean), then the model's own backward and an SGD update. It prints the
 * loss and the preference accuracy (policy margin > reference margin), and
 * checks its whole-model gradient against central finite differences.
 *
 *   tinylm           train, print the trend, exit 0 if the checks pass
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefloss.h"

#define V 16
#define E 8
#define H 16
#define T 6       /* response tokens (the prompt is one more token) */
#define B 16      /* pairs per batch */
#define NP (V * E + H * E + H + V * H + V)

static float theta[NP];                        /* all parameters */
#define EMB (theta)                            /* V x E */
#define W1 (theta + V * E)                     /* H x E */
#define B1 (theta + V * E + H * E)             /* H */
#define W2 (theta + V * E + H * E + H)         /* V x H */
#define B2 (theta + V * E + H * E + H + V * H) /* V */

static uint64_t rng = 12345;
static double unif(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* one side's sequences: tokens (B x (T + 1)); inputs are tokens [0, T),
 * targets tokens [1, T] */
typedef struct { int32_t tok[B][T + 1]; } side_t;

static void make_batch(side_t *c, side_t *r)
{
    int i, j;
    for (i = 0; i < B; i++) {
        int32_t p = (int32_t)(unif() * V);
        c->tok[i][0] = r->tok[i][0] = p;
        for (j = 1; j <= T; j++) {
            c->tok[i][j] = (c->tok[i][j - 1] + 1) % V;
            r->tok[i][j] = (int32_t)(unif() * V);
        }
    }
}

/* forward: hidden activations (B*T x H) and logits (B*T x V) */
static void forward(const side_t *s, float *hid, float *logits)
{
    int i, j, a, k;
    for (i = 0; i < B; i++)
        for (j = 0; j < T; j++) {
            const float *e = EMB + s->tok[i][j] * E;
            float *h = hid + (i * T + j) * H, *x = logits + (i * T + j) * V;
            for (a = 0; a < H; a++) {
                float z = B1[a];
                for (k = 0; k < E; k++) z += W1[a * E + k] * e[k];
                h[a] = tanhf(z);
            }
            for (a = 0; a < V; a++) {
                float z = B2[a];
                for (k = 0; k < H; k++) z += W2[a * H + k] * h[k];
                x[a] = z;
            }
        }
}

/* backward from dlogits (B*T x V) into grad (NP), accumulated */
static void backward(const side_t *s, const float *hid, const float *dlogits, float *grad)
{
    float *gE = grad, *gW1 = grad + V * E, *gB1 = gW1 + H * E, *gW2 = gB1 + H, *gB2 = gW2 + V * H;
    int i, j, a, k;
    for (i = 0; i < B; i++)
        for (j = 0; j < T; j++) {
            const float *e = EMB + s->tok[i][j] * E, *h = hid + (i * T + j) * H;
            const float *d = dlogits + (i * T + j) * V;
            float dh[H], dz;
            for (k = 0; k < H; k++) dh[k] = 0;
            for (a = 0; a < V; a++) {
                gB2[a] += d[a];
                for (k = 0; k < H; k++) {
                    gW2[a * H + k] += d[a] * h[k];
                    dh[k] += d[a] * W2[a * H + k];
                }
            }
            for (a = 0; a < H; a++) {
                dz = dh[a] * (1 - h[a] * h[a]);
                gB1[a] += dz;
                for (k = 0; k < E; k++) {
                    gW1[a * E + k] += dz * e[k];
                    gE[s->tok[i][j] * E + k] += dz * W1[a * E + k];
                }
            }
        }
}

static float lc[B * T * V], lr[B * T * V], hc[B * T * H], hr[B * T * H], ws[2 * T];
static float ref_c[B], ref_r[B];

static int32_t *targets(const side_t *s, int32_t *t)
{
    int i, j;
    for (i = 0; i < B; i++) for (j = 0; j < T; j++) t[i * T + j] = s->tok[i][j + 1];
    return t;
}

/* the batch's mean DPO loss; with grad != NULL also its gradient */
static double step_loss(const side_t *c, const side_t *r, float *grad, float *acc)
{
    int32_t tc[B * T], tr[B * T];
    float loss[B], pc[B], pr[B], up[B];
    prefloss_pair_params p;
    double sum = 0;
    int i, st;
    prefloss_pair_params_init(&p, sizeof p);
    p.beta = 0.5f;
    for (i = 0; i < B; i++) up[i] = 1.0f / B;
    forward(c, hc, lc);
    forward(r, hr, lr);
    st = prefloss_pair_loss_from_logits(loss, pc, pr, grad ? lc : NULL, grad ? lr : NULL, lc, lr,
                                        targets(c, tc), targets(r, tr), NULL, NULL, ref_c, ref_r, up, B, T, V, V,
                                        -100, 0, PREFLOSS_LOSS_SIGMOID, &p, ws, 2 * T);
    if (st != PREFLOSS_OK) { fprintf(stderr, "tinylm: %s\n", prefloss_strerror(st)); exit(1); }
    for (i = 0; i < B; i++) sum += loss[i];
    if (acc != NULL) {
        float a[B];
        prefloss_rewards(NULL, NULL, NULL, a, pc, pr, ref_c, ref_r, B, p.beta);
        *acc = 0;
        for (i = 0; i < B; i++) *acc += a[i] / B;
    }
    if (grad != NULL) {
        memset(grad, 0, NP * sizeof(float));
        backward(c, hc, lc, grad); /* lc, lr now hold dL/dlogits */
        backward(r, hr, lr, grad);
    }
    return sum / B;
}

/* the reference sequence log-probs: the starting model's */
static void reference(const side_t *c, const side_t *r)
{
    int32_t tc[B * T], tr[B * T];
    forward(c, hc, lc);
    forward(r, hr, lr);
    if (prefloss_pair_loss_from_logits(NULL, ref_c, ref_r, NULL, NULL, lc, lr, targets(c, tc), targets(r, tr), NULL,
                                       NULL, NULL, NULL, NULL, B, T, V, V, -100, 0, PREFLOSS_LOSS_SIGMOID, NULL, NULL,
                                       0) != PREFLOSS_OK)
        exit(1);
}

int main(void)
{
    static float grad[NP], theta0[NP];
    side_t c, r;
    int i, it, fails = 0;
    float acc0 = 0, acc1 = 0;
    double first = 0, last = 0;
    for (i = 0; i < NP; i++) theta[i] = (float)((unif() - 0.5) * 0.6);
    memcpy(theta0, theta, sizeof theta);

    /* the gradient of the whole model against central differences, on one
     * batch with a reference that differs from the policy */
    make_batch(&c, &r);
    for (i = 0; i < NP; i++) theta[i] += (float)((unif() - 0.5) * 0.2);
    reference(&c, &r);
    memcpy(theta, theta0, sizeof theta);
    step_loss(&c, &r, grad, NULL);
    {
        int checked = 0;
        double worst = 0;
        for (i = 0; i < NP; i += 7) {
            float keep = theta[i];
            const float hstep = 1e-2f;
            double lp, lm, fd, err;
            theta[i] = keep + hstep;
            lp = step_loss(&c, &r, NULL, NULL);
            theta[i] = keep - hstep;
            lm = step_loss(&c, &r, NULL, NULL);
            theta[i] = keep;
            fd = (lp - lm) / (2.0 * hstep);
            err = fabs(fd - grad[i]) / (fabs(fd) + 1e-3);
            if (err > worst) worst = err;
            checked++;
            if (!(fabs(fd - grad[i]) <= 0.02 * fabs(fd) + 2e-4)) {
                fprintf(stderr, "tinylm: parameter %d: gradient %g, finite difference %g\n", i, (double)grad[i], fd);
                fails++;
            }
        }
        printf("gradient check: %d parameters against central differences, worst relative error %.2e%s\n",
               checked, worst, fails ? " FAILED" : "");
    }

    /* training: the reference is the starting model */
    memcpy(theta, theta0, sizeof theta);
    for (it = 0; it <= 300; it++) {
        double loss;
        float acc;
        make_batch(&c, &r);
        memcpy(grad, theta, sizeof theta);   /* (grad as a save slot) */
        memcpy(theta, theta0, sizeof theta); /* the reference: the starting model */
        reference(&c, &r);
        memcpy(theta, grad, sizeof theta);
        loss = step_loss(&c, &r, grad, &acc);
        for (i = 0; i < NP; i++) theta[i] -= 0.5f * grad[i];
        if (it == 0) { first = loss; acc0 = acc; }
        if (it % 50 == 0) printf("step %3d  loss %.4f  preference accuracy %.2f\n", it, loss, (double)acc);
        if (it >= 280) { last += loss / 21; acc1 += acc / 21; }
    }
    printf("loss %.4f -> %.4f, accuracy %.2f -> %.2f\n", first, last, (double)acc0, (double)acc1);
    if (!(last < 0.5 * first) || !(acc1 > 0.9f)) {
        fprintf(stderr, "tinylm: the loss did not fall or the accuracy did not rise\n");
        fails++;
    }
    return fails != 0;
}
