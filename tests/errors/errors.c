/*
 * tests/errors/errors.c — walks the bad-input table of docs/errors.md.
 *
 * TWIN below is the machine-readable copy of the table "Every class of bad
 * input": the exact text of each row's three cells, and a check that
 * exercises the row on the entry points it applies to. The test fails if
 * the markdown has a row the twin lacks (or with a different status or
 * "written" text), if the twin has a row the markdown lacks, or if a check
 * fails. Also checks the status-code table against the macros.
 * Usage: errors docs/errors.md
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prefloss.h"

static int fails;
#define CHECK(c, ...) do { if (!(c)) { fails++; fprintf(stderr, "errors: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define N 5
static float PC[N] = {-10, -20, -30, -40, -50}, PR[N] = {-11, -19, -33, -38, -52};
static float RC[N] = {-10.5f, -20, -29, -41, -50}, RR[N] = {-11, -20.5f, -33, -39, -51};
static float UP[N] = {1, 0.5f, 2, 1, 1};
static float O[4][N + 3]; /* room for 6 tokens */
static const float SENT = -12345.0f;
static void sentinel(void) { int i, k; for (k = 0; k < 4; k++) for (i = 0; i < N + 3; i++) O[k][i] = SENT; }
static int untouched(void) { int i, k; for (k = 0; k < 4; k++) for (i = 0; i < N + 3; i++) if (O[k][i] != SENT) return 0; return 1; }

/* every pairwise entry point with the given beta-like parameter set */
static int dpo(float beta, float eps, size_t n) { return prefloss_dpo_loss(O[0], O[1], O[2], PC, PR, RC, RR, UP, n, beta, eps); }
static int ipo(float beta, size_t n) { return prefloss_ipo_loss(O[0], O[1], O[2], PC, PR, RC, RR, UP, n, beta); }
static int ipog(float beta, float a1, float a2, size_t n) { return prefloss_ipo_general_loss(O[0], O[1], O[2], PC, PR, RC, RR, UP, n, beta, a1, a2); }
static int bt(float c, size_t n) { return prefloss_bt_loss(O[0], O[1], O[2], PC, PR, RC, UP, n, c); }
static int rew(float beta, size_t n) { return prefloss_rewards(O[0], O[1], O[2], O[3], PC, PR, RC, RR, n, beta); }

#define EXPECT_ERR(call, code, what) do { sentinel(); { int st_ = (call); \
    CHECK(st_ == (code), "%s: %s returned %d, table says %d", what, #call, st_, code); \
    CHECK(untouched(), "%s: %s wrote an output", what, #call); } } while (0)

static void row_beta(const char *w)
{
    const float bad[] = {0.0f, -0.0f, -1.0f, NAN, INFINITY, -INFINITY, FLT_MIN / 2, 1e-45f};
    size_t k;
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        EXPECT_ERR(dpo(bad[k], 0, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(ipo(bad[k], N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(ipog(bad[k], 0, 1, N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(rew(bad[k], N), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(dpo(bad[k], 0, 0), PREFLOSS_ERR_PARAM, w); /* even when n == 0 */
    }
}
static void row_eps(const char *w)
{
    const float bad[] = {-1e-45f, -0.1f, 0.50000006f, 1.0f, NAN, INFINITY};
    size_t k;
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) EXPECT_ERR(dpo(0.1f, bad[k], N), PREFLOSS_ERR_PARAM, w);
}
static void row_alpha(const char *w)
{
    EXPECT_ERR(ipog(0.1f, NAN, 1, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(ipog(0.1f, 0, INFINITY, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(ipog(0.1f, -INFINITY, 0, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(ipog(0.1f, 1, 0, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(ipog(0.1f, -FLT_MAX, FLT_MAX, N), PREFLOSS_ERR_PARAM, w);
}
static void row_center(const char *w)
{
    EXPECT_ERR(bt(-1e-45f, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(bt(-1.0f, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(bt(NAN, N), PREFLOSS_ERR_PARAM, w);
    EXPECT_ERR(bt(INFINITY, N), PREFLOSS_ERR_PARAM, w);
}
static void row_reduction(const char *w)
{
    const int bad[] = {-1, 2, 3, 1000};
    size_t k;
    for (k = 0; k < 4; k++) {
        EXPECT_ERR(prefloss_sequence_logps(O[0], PC, NULL, 1, N, bad[k]), PREFLOSS_ERR_PARAM, w);
        EXPECT_ERR(prefloss_sequence_logps_backward(O[0], PC, NULL, N, 1, bad[k]), PREFLOSS_ERR_PARAM, w);
    }
}
static void row_n0(const char *w)
{
    EXPECT_ERR(prefloss_dpo_loss(NULL, NULL, NULL, NULL, NULL, NULL, RR, NULL, 0, 0.1f, 0), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_ipo_loss(NULL, NULL, NULL, NULL, NULL, RC, NULL, NULL, 0, 0.1f), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_ipo_general_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f, 0, 1), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_bt_loss(NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_rewards(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.1f), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_sequence_logps(NULL, NULL, NULL, 0, 7, 0), PREFLOSS_OK, w);
    EXPECT_ERR(prefloss_sequence_logps_backward(NULL, NULL, NULL, 0, 7, 1), PREFLOSS_OK, w);
}
static void row_size(const char *w)
{
    const size_t big[] = {SIZE_MAX, SIZE_MAX / 4 + 1, SIZE_MAX / 2};
    size_t k;
    for (k = 0; k < 3; k++) {
        EXPECT_ERR(dpo(0.1f, 0, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(ipo(0.1f, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(ipog(0.1f, 0, 1, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(bt(0, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(rew(0.1f, big[k]), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(prefloss_sequence_logps(O[0], PC, NULL, big[k], 0, 0), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(prefloss_sequence_logps(O[0], PC, NULL, 2, big[k], 0), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(prefloss_sequence_logps_backward(O[0], PC, NULL, big[k], 0, 0), PREFLOSS_ERR_SIZE, w);
        EXPECT_ERR(prefloss_sequence_logps_backward(O[0], PC, NULL, (size_t)1 << 33, (size_t)1 << 31, 1), PREFLOSS_ERR_SIZE, w);
    }
}
static void row_null(const char *w)
{
    EXPECT_ERR(prefloss_dpo_loss(O[0], O[1], O[2], NULL, PR, RC, RR, UP, N, 0.1f, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_dpo_loss(O[0], O[1], O[2], PC, NULL, RC, RR, UP, N, 0.1f, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_ipo_loss(O[0], O[1], O[2], NULL, PR, NULL, NULL, NULL, N, 0.1f), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_ipo_general_loss(O[0], O[1], O[2], PC, NULL, NULL, NULL, NULL, N, 0.1f, 0, 1), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_bt_loss(O[0], O[1], O[2], NULL, PR, NULL, NULL, N, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_rewards(O[0], O[1], O[2], O[3], PC, NULL, NULL, NULL, N, 0.1f), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_sequence_logps(NULL, PC, NULL, 1, N, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_sequence_logps(O[0], NULL, NULL, 1, N, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_sequence_logps_backward(NULL, PC, NULL, 1, N, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_sequence_logps_backward(O[0], NULL, NULL, 1, N, 0), PREFLOSS_ERR_NULL, w);
}
static void row_ref(const char *w)
{
    EXPECT_ERR(prefloss_dpo_loss(O[0], O[1], O[2], PC, PR, RC, NULL, UP, N, 0.1f, 0), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_ipo_loss(O[0], O[1], O[2], PC, PR, NULL, RR, UP, N, 0.1f), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_ipo_general_loss(O[0], O[1], O[2], PC, PR, RC, NULL, UP, N, 0.1f, 0, 1), PREFLOSS_ERR_NULL, w);
    EXPECT_ERR(prefloss_rewards(O[0], O[1], O[2], O[3], PC, PR, NULL, RR, N, 0.1f), PREFLOSS_ERR_NULL, w);
}
static void row_overlap(const char *w)
{
    static float buf[3 * N];
    memcpy(buf, PC, sizeof PC);
    memcpy(buf + N, PR, sizeof PR);
    /* an output on an input (in place), partly on an input, on another output */
    sentinel();
    CHECK(prefloss_dpo_loss(buf, NULL, NULL, buf, buf + N, NULL, NULL, NULL, N, 0.1f, 0) == PREFLOSS_ERR_OVERLAP, "%s: in place", w);
    CHECK(prefloss_ipo_loss(buf + N - 1, NULL, NULL, PC, buf + N, NULL, NULL, NULL, 1, 0.1f) == PREFLOSS_OK, "%s: adjacent is not overlap", w);
    CHECK(memcmp(buf + N, PR, sizeof PR) == 0, "%s: input changed", w);
    memcpy(buf, PC, sizeof PC);
    EXPECT_ERR(prefloss_ipo_loss(O[0], O[0] + 2, NULL, PC, PR, NULL, NULL, NULL, N, 0.1f), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_bt_loss(O[0], O[1], O[2], PC, PR, NULL, O[2] + 4, N, 0), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_rewards(O[0], O[1], O[2], O[2] + 1, PC, PR, NULL, NULL, N, 0.1f), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_sequence_logps(O[0] + 1, O[0], NULL, 1, 2, 0), PREFLOSS_ERR_OVERLAP, w);
    EXPECT_ERR(prefloss_sequence_logps_backward(O[0], PC, (const unsigned char *)O[0] + 3, 1, 2, 0), PREFLOSS_ERR_OVERLAP, w);
}
static void row_nonfinite(const char *w)
{
    float pc[N];
    int i, k, st;
    memcpy(pc, PC, sizeof pc);
    pc[2] = NAN;
    pc[4] = -INFINITY;
    for (k = 0; k < 4; k++) {
        sentinel();
        st = k == 0 ? prefloss_dpo_loss(O[0], O[1], O[2], pc, PR, RC, RR, UP, N, 0.1f, 0.1f)
           : k == 1 ? prefloss_ipo_loss(O[0], O[1], O[2], pc, PR, RC, RR, UP, N, 0.1f)
           : k == 2 ? prefloss_bt_loss(O[0], O[1], O[2], pc, PR, RC, UP, N, 0.5f)
                    : prefloss_rewards(O[0], O[1], O[2], O[3], pc, PR, RC, RR, N, 0.1f);
        CHECK(st == PREFLOSS_NONFINITE, "%s: function %d returned %d", w, k, st);
        for (i = 0; i < N; i++) {
            int j;
            for (j = 0; j < (k == 3 ? 4 : 3); j++) {
                int nan = O[j][i] != O[j][i];
                CHECK(nan == (i == 2 || i == 4) && O[j][i] != SENT, "%s: function %d output %d sample %d", w, k, j, i);
            }
        }
    }
}
static void row_dlosses(const char *w)
{
    float up[N] = {1, NAN, 1, INFINITY, 1}, l2[N];
    int i;
    sentinel();
    CHECK(prefloss_dpo_loss(O[0], O[1], O[2], PC, PR, RC, RR, up, N, 0.1f, 0) == PREFLOSS_NONFINITE, "%s: status", w);
    CHECK(prefloss_dpo_loss(l2, NULL, NULL, PC, PR, RC, RR, NULL, N, 0.1f, 0) == PREFLOSS_OK, "%s: loss only", w);
    for (i = 0; i < N; i++) {
        int badi = i == 1 || i == 3;
        CHECK(O[0][i] == l2[i], "%s: loss %d not exact", w, i);
        CHECK((O[1][i] != O[1][i]) == badi && (O[2][i] != O[2][i]) == badi, "%s: gradients %d", w, i);
    }
    sentinel();
    CHECK(prefloss_bt_loss(O[0], O[1], O[2], PC, PR, NULL, up, N, 0) == PREFLOSS_NONFINITE, "%s: bt", w);
    CHECK(O[0][1] == O[0][1] && O[1][1] != O[1][1], "%s: bt sample 1", w);
}
static void row_token(const char *w)
{
    float t[6] = {-1, -2, NAN, -4, -5, -6};
    unsigned char m[6] = {1, 1, 1, 1, 1, 1};
    sentinel();
    CHECK(prefloss_sequence_logps(O[0], t, m, 2, 3, 0) == PREFLOSS_NONFINITE, "%s: status", w);
    CHECK(O[0][0] != O[0][0] && O[0][1] == -15.0f, "%s: rows %g %g", w, (double)O[0][0], (double)O[0][1]);
}
static void row_masked(const char *w)
{
    float t[6] = {-1, -2, NAN, -4, INFINITY, -6};
    unsigned char m[6] = {1, 1, 0, 1, 0, 1};
    sentinel();
    CHECK(prefloss_sequence_logps(O[0], t, m, 2, 3, 1) == PREFLOSS_OK, "%s: status", w);
    CHECK(O[0][0] == -1.5f && O[0][1] == -5.0f, "%s: rows %g %g", w, (double)O[0][0], (double)O[0][1]);
}
static void row_dseq(const char *w)
{
    float d[2] = {2.0f, NAN};
    unsigned char m[6] = {1, 0, 1, 1, 0, 1};
    sentinel();
    CHECK(prefloss_sequence_logps_backward(O[0], d, m, 2, 3, 0) == PREFLOSS_NONFINITE, "%s: status", w);
    CHECK(O[0][0] == 2 && O[0][1] == 0 && O[0][2] == 2, "%s: row 0", w);
    CHECK(O[0][3] != O[0][3] && O[0][4] == 0 && O[0][5] != O[0][5], "%s: row 1", w);
}
static void row_overflow(const char *w)
{
    float pc = 3e38f, pr = -3e38f, l, g, g2;
    CHECK(prefloss_ipo_loss(&l, &g, &g2, &pc, &pr, NULL, NULL, NULL, 1, 0.1f) == PREFLOSS_OK && l == INFINITY, "%s: ipo %g", w, (double)l);
    pc = -3e38f; pr = 3e38f;
    CHECK(prefloss_dpo_loss(&l, &g, NULL, &pc, &pr, NULL, NULL, NULL, 1, 1.0f, 0) == PREFLOSS_OK && l == INFINITY, "%s: dpo %g", w, (double)l);
    CHECK(prefloss_bt_loss(&l, &g, &g2, &pc, &pr, NULL, NULL, 1, 1.0f) == PREFLOSS_OK && l == INFINITY && g == g && g2 == g2, "%s: bt %g", w, (double)l);
}

typedef struct { const char *input, *status, *written; void (*check)(const char *); } twin_t;
static const twin_t TWIN[] = {
    {"`beta` ≤ 0, NaN, ±inf, or subnormal (< `FLT_MIN`)", "`PREFLOSS_ERR_PARAM`", "nothing", row_beta},
    {"`label_smoothing` < 0, > 0.5 or NaN", "`PREFLOSS_ERR_PARAM`", "nothing", row_eps},
    {"`alpha1`, `alpha2` not finite, `alpha1 > alpha2`, or `alpha2 − alpha1` overflows", "`PREFLOSS_ERR_PARAM`", "nothing", row_alpha},
    {"`center_coef` < 0, NaN or +inf", "`PREFLOSS_ERR_PARAM`", "nothing", row_center},
    {"`reduction` not `PREFLOSS_REDUCE_SUM`/`_MEAN`", "`PREFLOSS_ERR_PARAM`", "nothing", row_reduction},
    {"`n == 0` (any pointers, even NULL)", "`PREFLOSS_OK`", "nothing", row_n0},
    {"`n · 4` (or `batch · 4`, or `batch · seq_len · 4`) overflows `size_t`", "`PREFLOSS_ERR_SIZE`", "nothing", row_size},
    {"a required input or output pointer NULL (for `n > 0`)", "`PREFLOSS_ERR_NULL`", "nothing", row_null},
    {"exactly one of `ref_chosen`, `ref_rejected` NULL", "`PREFLOSS_ERR_NULL`", "nothing", row_ref},
    {"an output overlapping an input or another output, even partly", "`PREFLOSS_ERR_OVERLAP`", "nothing", row_overlap},
    {"NaN/±inf in a log-prob, score or margin of sample `i`", "`PREFLOSS_NONFINITE`", "all outputs; sample `i`'s are NaN", row_nonfinite},
    {"NaN/±inf in `dlosses[i]`", "`PREFLOSS_NONFINITE`", "all outputs; sample `i`'s gradients are NaN, its loss is exact", row_dlosses},
    {"NaN/±inf in a counted token of row `b`", "`PREFLOSS_NONFINITE`", "all rows; row `b` is NaN", row_token},
    {"NaN/±inf in a masked token", "`PREFLOSS_OK`", "the token is ignored", row_masked},
    {"NaN/±inf in `dseq_logps[b]`", "`PREFLOSS_NONFINITE`", "all rows; row `b`'s counted tokens get NaN, its masked tokens 0", row_dseq},
    {"finite inputs whose loss exceeds the float range", "`PREFLOSS_OK`", "`+inf` (the correctly rounded value), never NaN", row_overflow},
};
#define NTWIN (sizeof TWIN / sizeof TWIN[0])

static char *trim(char *s)
{
    char *e;
    while (*s == ' ') s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
    return s;
}

int main(int argc, char **argv)
{
    FILE *f = fopen(argc > 1 ? argv[1] : "docs/errors.md", "r");
    char line[1024];
    int in_table = 0, seen[NTWIN] = {0}, rows = 0;
    size_t k;
    if (!f) { perror("errors.md"); return 1; }
    while (fgets(line, sizeof line, f)) {
        char *cell[4], *p = line;
        int nc = 0;
        if (strncmp(line, "## ", 3) == 0) in_table = strstr(line, "Every class of bad input") != NULL;
        if (line[0] != '|') continue;
        p++;
        while (nc < 4 && (cell[nc] = strtok(nc ? NULL : p, "|")) != NULL) nc++;
        if (nc < 3) continue;
        for (k = 0; k < 3; k++) cell[k] = trim(cell[k]);
        if (!in_table) { /* the status-code table: | `NAME` | value | meaning | */
            int code = (int)strtol(strncmp(cell[1], "\xe2\x88\x92", 3) == 0 ? cell[1] + 3 : cell[1], NULL, 10);
            if (strncmp(cell[1], "\xe2\x88\x92", 3) == 0) code = -code;
            if (cell[0][0] == '`') {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)strlen(cell[0]) - 2, cell[0] + 1);
                CHECK(prefloss_status_name(code) && strcmp(prefloss_status_name(code), name) == 0,
                      "status table: %s = %d but prefloss_status_name(%d) = %s", name, code, code,
                      prefloss_status_name(code) ? prefloss_status_name(code) : "NULL");
            }
            continue;
        }
        if (strcmp(cell[0], "input") == 0 || cell[0][0] == '-') continue;
        rows++;
        for (k = 0; k < NTWIN; k++) if (strcmp(cell[0], TWIN[k].input) == 0) break;
        if (k == NTWIN) { CHECK(0, "docs/errors.md row without a test: | %s |", cell[0]); continue; }
        seen[k] = 1;
        CHECK(strcmp(cell[1], TWIN[k].status) == 0, "row '%s': status %s in the docs, %s in the test", cell[0], cell[1], TWIN[k].status);
        CHECK(strcmp(cell[2], TWIN[k].written) == 0, "row '%s': written '%s' in the docs, '%s' in the test", cell[0], cell[2], TWIN[k].written);
        TWIN[k].check(TWIN[k].input);
    }
    fclose(f);
    for (k = 0; k < NTWIN; k++) CHECK(seen[k], "test row missing from docs/errors.md: | %s |", TWIN[k].input);
    printf("errors: %d table rows walked, %d failures\n", rows, fails);
    return fails != 0;
}
