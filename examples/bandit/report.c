/*
 * report.c — what the demo writes besides its table: the RESULT lines, the
 * CSV of the training trajectories and a self-contained SVG chart of them
 * (hand-written SVG: no plotting dependency).
 */
#include "bandit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* RESULT line and CSV                                                      */
/* ------------------------------------------------------------------------ */

void print_result_line(const run_record *r)
{
    const double *p = r->result.pi, *q = r->optimum;
    printf("RESULT beta=%g method=%s data=%s learned=%.4f,%.4f,%.4f "
           "analytic=%.4f,%.4f,%.4f tv=%.3e\n",
           (double)r->spec.beta, method_name(r->spec.method), r->spec.data,
           p[0], p[1], p[2], q[0], q[1], q[2], tv_distance(p, q));
}

int write_csv(const char *path, const run_record *runs, size_t n_runs)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "method,beta,data,iteration,p0,p1,p2\n");
    for (size_t r = 0; r < n_runs; r++) {
        const trajectory *t = &runs[r].result.traj;
        for (size_t i = 0; i < t->n; i++)
            fprintf(f, "%s,%g,%s,%ld,%.9g,%.9g,%.9g\n",
                    method_name(runs[r].spec.method), (double)runs[r].spec.beta,
                    runs[r].spec.data, t->iter[i], t->p[i][0], t->p[i][1],
                    t->p[i][2]);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* SVG: small multiples, one row per beta, four columns                     */
/* ------------------------------------------------------------------------ */

#define PANEL_W 240.0 /* plot area of one panel, px */
#define PANEL_H 130.0
#define GAP_X 55.0    /* between panels: room for the y tick labels */
#define GAP_Y 55.0    /* room for the x tick labels */
#define MARGIN_L 120.0 /* row labels and the first y axis */
#define MARGIN_T 125.0 /* title, legend, column titles */
#define MARGIN_B 45.0
#define N_COLUMNS 4

static const char *const ACTION_COLOUR[N_ACTIONS] = {"#1f77b4", "#e6550d", "#2ca02c"};

/* What each column shows: a method, the data regimes drawn solid and dashed
 * (NULL: none), and whether pi is on a log scale. */
typedef struct {
    method_id method;
    const char *solid, *dashed;
    int log_y;
    const char *title, *subtitle;
} column_spec;

static const column_spec COLUMNS[N_COLUMNS] = {
    {METHOD_DPO, "population", "sampled", 0,
     "DPO &#8212; Bradley&#8211;Terry preferences",
     "population (solid), sampled (dashed)"},
    {METHOD_IPO, "population", "sampled", 0,
     "IPO &#8212; Bradley&#8211;Terry preferences",
     "population (solid), sampled (dashed)"},
    {METHOD_DPO, "deterministic", NULL, 1,
     "DPO &#8212; deterministic y0&#8827;y1&#8827;y2",
     "3 pairs; &#960; on a log scale: &#960;(y1), &#960;(y2) keep falling"},
    {METHOD_IPO, "deterministic", NULL, 0,
     "IPO &#8212; deterministic y0&#8827;y1&#8827;y2",
     "3 pairs; settles at its optimum"},
};

/* One panel: its plot area, x range (iterations 0 .. t_max on a log scale)
 * and y scale (pi linear in [0, 1], or log10 pi in [LOG_Y_MIN, 0]). */
typedef struct {
    double left, top;
    long t_max;
    int log_y;
    int id; /* names the panel's clip path */
} panel;

#define LOG_Y_MIN (-16.0)

/* x = log10(1 + t) scaled to the panel: iteration 0 sits on the y axis. */
static double panel_x(const panel *pn, double t)
{
    return pn->left + PANEL_W * log10(1.0 + t) / log10(1.0 + (double)pn->t_max);
}

/* y: 0 (or 10^LOG_Y_MIN) at the bottom, 1 at the top. Points below the
 * bottom are drawn outside the plot area and clipped. */
static double panel_y(const panel *pn, double p)
{
    double frac = p;
    if (pn->log_y)
        frac = (log10(p > 1e-300 ? p : 1e-300) - LOG_Y_MIN) / -LOG_Y_MIN;
    return pn->top + PANEL_H * (1.0 - frac);
}

static const run_record *find_run(const run_record *runs, size_t n_runs,
                                  float beta, method_id method, const char *data)
{
    if (!data)
        return NULL;
    for (size_t r = 0; r < n_runs; r++)
        if (runs[r].spec.beta == beta && runs[r].spec.method == method &&
            strcmp(runs[r].spec.data, data) == 0)
            return &runs[r];
    return NULL;
}

/* Horizontal grid lines and labels: 0, 1/4, ..., 1 or 1, 1e-4, ..., 1e-16. */
static void svg_y_axis(FILE *f, const panel *pn)
{
    for (int i = 0; i <= 4; i++) {
        double p = pn->log_y ? pow(10.0, LOG_Y_MIN * i / 4.0) : i / 4.0;
        double y = panel_y(pn, p);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e4e4e4'/>\n",
                pn->left, y, pn->left + PANEL_W, y);
        if (pn->log_y && i > 0)
            fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' class='tick'>"
                       "10<tspan dy='-5' font-size='8'>%d</tspan></text>\n",
                    pn->left - 5.0, y + 4.0, (int)(LOG_Y_MIN * i / 4.0));
        else
            fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' class='tick'>%g</text>\n",
                    pn->left - 5.0, y + 4.0, p);
    }
}

/* Vertical grid lines, ticks and labels at 0, 10, 100, ... up to t_max. */
static void svg_x_axis(FILE *f, const panel *pn)
{
    for (long t = 1; t <= pn->t_max; t *= 10) {
        long tick = t == 1 ? 0 : t;
        double x = panel_x(pn, (double)tick);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e4e4e4'/>\n",
                x, pn->top, x, pn->top + PANEL_H);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n",
                x, pn->top + PANEL_H, x, pn->top + PANEL_H + 4.0);
        if (tick < 1000)
            fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' class='tick'>%ld</text>\n",
                    x, pn->top + PANEL_H + 16.0, tick);
        else
            fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' class='tick'>"
                       "10<tspan dy='-5' font-size='8'>%d</tspan></text>\n",
                    x, pn->top + PANEL_H + 16.0, (int)lround(log10((double)tick)));
    }
}

/* Grid, ticks, frame and axis titles of one panel, and its clip path. */
static void svg_axes(FILE *f, const panel *pn, int x_title, int y_title)
{
    svg_y_axis(f, pn);
    svg_x_axis(f, pn);
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#333'/>\n",
            pn->left, pn->top, PANEL_W, PANEL_H);
    fprintf(f, "<clipPath id='clip%d'><rect x='%.1f' y='%.1f' width='%.1f' height='%.1f'/>"
               "</clipPath>\n",
            pn->id, pn->left, pn->top - 2.0, PANEL_W, PANEL_H + 4.0);
    if (x_title)
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' class='axis'>"
                   "gradient steps (log scale)</text>\n",
                pn->left + PANEL_W / 2.0, pn->top + PANEL_H + 34.0);
    if (y_title)
        fprintf(f, "<text transform='translate(%.1f,%.1f) rotate(-90)' "
                   "text-anchor='middle' class='axis'>&#960;(y)</text>\n",
                pn->left - 40.0, pn->top + PANEL_H / 2.0);
}

/* p(y = action) along a trajectory. */
static void svg_trajectory(FILE *f, const panel *pn, const trajectory *t,
                           int action, const char *dash)
{
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.8'%s%s%s points='",
            ACTION_COLOUR[action], dash ? " stroke-dasharray='" : "",
            dash ? dash : "", dash ? "'" : "");
    for (size_t i = 0; i < t->n; i++)
        fprintf(f, "%.1f,%.1f ", panel_x(pn, (double)t->iter[i]),
                panel_y(pn, t->p[i][action]));
    fprintf(f, "'/>\n");
}

/* The analytic optimum of p(y = action): a dotted horizontal line. */
static void svg_optimum(FILE *f, const panel *pn, double p, int action)
{
    double y = panel_y(pn, p);
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
               "stroke-width='1.2' stroke-dasharray='1.5 3' opacity='0.9'/>\n",
            pn->left, y, pn->left + PANEL_W, y, ACTION_COLOUR[action]);
}

static void svg_panel(FILE *f, const panel *pn, const run_record *solid,
                      const run_record *dashed)
{
    fprintf(f, "<g clip-path='url(#clip%d)'>\n", pn->id);
    for (int y = 0; y < N_ACTIONS; y++) {
        const run_record *any = solid ? solid : dashed;
        if (any)
            svg_optimum(f, pn, any->optimum[y], y);
        if (dashed)
            svg_trajectory(f, pn, &dashed->result.traj, y, "5 3");
        if (solid)
            svg_trajectory(f, pn, &solid->result.traj, y, NULL);
    }
    fprintf(f, "</g>\n");
}

/* Title and legend along the top. */
static void svg_header(FILE *f, double width)
{
    fprintf(f, "<text x='%.1f' y='24' text-anchor='middle' class='title'>"
               "Three-armed bandit: tabular softmax policy trained with libprefloss "
               "(s = [10, 9.593, 7.8], &#960;_ref = &#956; uniform)</text>\n",
            width / 2.0);
    double x = MARGIN_L, y = 50.0;
    for (int a = 0; a < N_ACTIONS; a++, x += 85.0) {
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='3'/>\n",
                x, y - 4.0, x + 22.0, y - 4.0, ACTION_COLOUR[a]);
        fprintf(f, "<text x='%.1f' y='%.1f' class='legend'>&#960;(y%d)</text>\n",
                x + 28.0, y, a);
    }
    static const struct { const char *dash, *label; } STYLES[] = {
        {NULL, "population (exact expected loss) / deterministic data"},
        {"5 3", "sampled, N = 20,000 pairs"},
        {"1.5 3", "analytic optimum"},
    };
    for (size_t i = 0; i < sizeof STYLES / sizeof STYLES[0]; i++) {
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333' "
                   "stroke-width='1.8'%s%s%s/>\n",
                x, y - 4.0, x + 30.0, y - 4.0, STYLES[i].dash ? " stroke-dasharray='" : "",
                STYLES[i].dash ? STYLES[i].dash : "", STYLES[i].dash ? "'" : "");
        fprintf(f, "<text x='%.1f' y='%.1f' class='legend'>%s</text>\n",
                x + 36.0, y, STYLES[i].label);
        x += 60.0 + 6.2 * (double)strlen(STYLES[i].label);
    }
}

int write_svg(const char *path, const run_record *runs, size_t n_runs,
              const float *betas, size_t n_betas)
{
    const double width = MARGIN_L + N_COLUMNS * PANEL_W + (N_COLUMNS - 1) * GAP_X + 20.0;
    const double height = MARGIN_T + (double)n_betas * PANEL_H +
                          (double)(n_betas - 1) * GAP_Y + MARGIN_B;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
               "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
               "viewBox='0 0 %.0f %.0f' font-family='DejaVu Sans, Helvetica, Arial, sans-serif'>\n",
            width, height, width, height);
    fprintf(f, "<style>.title{font-size:15px;font-weight:bold}.legend{font-size:12px}"
               ".col{font-size:13px;font-weight:bold}.row{font-size:14px;font-weight:bold}"
               ".sub{font-size:11px;fill:#444}.tick{font-size:10px;fill:#333}.axis{font-size:11px;fill:#333}</style>\n");
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    svg_header(f, width);

    for (int c = 0; c < N_COLUMNS; c++) {
        const column_spec *col = &COLUMNS[c];
        panel pn = {MARGIN_L + c * (PANEL_W + GAP_X), MARGIN_T, 1, col->log_y, 0};
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' class='col'>%s</text>\n",
                pn.left + PANEL_W / 2.0, MARGIN_T - 26.0, col->title);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' class='sub'>%s</text>\n",
                pn.left + PANEL_W / 2.0, MARGIN_T - 10.0, col->subtitle);
        /* one x range per column: the longest run in it */
        for (size_t r = 0; r < n_runs; r++)
            if (runs[r].spec.method == col->method &&
                (strcmp(runs[r].spec.data, col->solid) == 0 ||
                 (col->dashed && strcmp(runs[r].spec.data, col->dashed) == 0)) &&
                runs[r].spec.iterations > pn.t_max)
                pn.t_max = runs[r].spec.iterations;
        for (size_t b = 0; b < n_betas; b++) {
            pn.top = MARGIN_T + (double)b * (PANEL_H + GAP_Y);
            pn.id = c * (int)n_betas + (int)b;
            if (c == 0)
                fprintf(f, "<text x='8' y='%.1f' class='row'>&#946; = %g</text>\n",
                        pn.top + PANEL_H / 2.0 + 5.0, (double)betas[b]);
            svg_axes(f, &pn, b + 1 == n_betas, c == 0);
            svg_panel(f, &pn, find_run(runs, n_runs, betas[b], col->method, col->solid),
                      find_run(runs, n_runs, betas[b], col->method, col->dashed));
        }
    }
    fprintf(f, "</svg>\n");
    return fclose(f) == 0 ? 0 : -1;
}
