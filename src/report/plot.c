#include "report/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static slm_series *series_of(slm_figure *f, const char *panel, const char *series) {
    slm_panel *p = NULL;
    for (int i = 0; i < f->n_panels && !p; i++)
        if (!strcmp(f->panels[i].title, panel)) p = &f->panels[i];
    if (!p) {
        if (f->n_panels == SLM_PLOT_PANELS) return NULL;
        p = &f->panels[f->n_panels++];
        snprintf(p->title, sizeof p->title, "%s", panel);
    }
    for (int i = 0; i < p->n_series; i++)
        if (!strcmp(p->series[i].name, series)) return &p->series[i];
    if (p->n_series == SLM_PLOT_SERIES) return NULL;
    slm_series *s = &p->series[p->n_series++];
    snprintf(s->name, sizeof s->name, "%s", series);
    return s;
}

static void insert_sorted(double *x, double *y, int *n, double xv, double yv) {
    int i = *n;
    while (i > 0 && x[i - 1] > xv) {
        x[i] = x[i - 1];
        if (y) y[i] = y[i - 1];
        i--;
    }
    x[i] = xv;
    if (y) y[i] = yv;
    (*n)++;
}

int slm_figure_add(slm_figure *f, const char *panel, const char *series, double x, double y, int oom) {
    slm_series *s = series_of(f, panel, series);
    if (!s || (oom ? s->n_oom : s->n) == SLM_PLOT_POINTS) return -1;
    if (oom)
        insert_sorted(s->oom_x, NULL, &s->n_oom, x, 0);
    else
        insert_sorted(s->x, s->y, &s->n, x, y);
    return 0;
}

int slm_figure_points(const slm_figure *f) {
    int n = 0;
    for (int p = 0; p < f->n_panels; p++)
        for (int s = 0; s < f->panels[p].n_series; s++) n += f->panels[p].series[s].n + f->panels[p].series[s].n_oom;
    return n;
}

static void panel_range(const slm_panel *p, double *lo, double *hi) {
    *lo = INFINITY, *hi = -INFINITY;
    for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < p->series[s].n; i++) *lo = fmin(*lo, p->series[s].y[i]), *hi = fmax(*hi, p->series[s].y[i]);
}

// A log axis where the panel's values span orders of magnitude.
static int panel_logy(const slm_figure *f, const slm_panel *p) {
    double lo, hi;
    panel_range(p, &lo, &hi);
    return f->logy && lo > 0 && hi > 20 * lo;
}

// Where a panel's OOM crosses sit: below its lowest point.
static double oom_y(const slm_figure *f, const slm_panel *p) {
    double lo, hi;
    panel_range(p, &lo, &hi);
    if (!isfinite(lo)) return 1;
    return panel_logy(f, p) ? lo / 1.6 : 0;
}

static void plot_body(FILE *gp, const slm_figure *f, int rows, int cols) {
    fprintf(gp, "set multiplot layout %d,%d title \"%s\" font \",15\"\n", rows, cols, f->title);
    for (int p = 0; p < f->n_panels; p++) {
        const slm_panel *pn = &f->panels[p];
        fprintf(gp, "set title \"%s\" font \",13\"\nset xlabel \"%s\"\nset ylabel \"%s\"\n", pn->title, f->xlabel,
                f->ylabel);
        fprintf(gp, f->logx ? "set logscale x 2\n" : "unset logscale x\n");
        fprintf(gp, panel_logy(f, pn) ? "set logscale y\nset yrange [*:*]\n" : "unset logscale y\nset yrange [0:*]\n");
        fprintf(gp, "set offsets graph 0.05, graph 0.05, graph 0.08, graph 0.05\n");
        fprintf(gp, "plot ");
        int first = 1;
        for (int s = 0; s < pn->n_series; s++) {
            if (pn->series[s].n == 0) continue;
            const char *name = pn->series[s].name;
            size_t len = strlen(name), tag = strlen(SLM_PLOT_PREDICTED);
            int predicted = len > tag && !strcmp(name + len - tag, SLM_PLOT_PREDICTED);
            fprintf(gp, "%s$p%ds%d with linespoints lw 2 %s ps 1.2 lc %d title \"%s\"", first ? "" : ", ", p, s,
                    predicted ? "dt 2 pt 6" : "pt 7", s + 1, name);
            first = 0;
        }
        for (int s = 0; s < pn->n_series; s++)
            if (pn->series[s].n_oom) {
                fprintf(gp, "%s$p%do%d with points pt 2 ps 2.2 lw 3 lc %d title \"%s: OOM\"", first ? "" : ", ", p, s,
                        s + 1, pn->series[s].name);
                first = 0;
            }
        fprintf(gp, "\n");
    }
    fprintf(gp, "unset multiplot\n");
}

int slm_figure_draw(const slm_figure *f, const char *dir, const char *name, slm_err *err) {
    char gp_path[4200], err_path[4200], cmd[8600];
    if (strchr(dir, '\'') || strchr(dir, '"')) return slm_fail(err, "report directory %s: quotes in the path", dir);
    snprintf(gp_path, sizeof gp_path, "%s/%s.gp", dir, name);
    snprintf(err_path, sizeof err_path, "%s/%s.gp.err", dir, name);
    FILE *gp = fopen(gp_path, "w");
    if (!gp) return slm_fail(err, "cannot write %s", gp_path);
    int cols = f->n_panels < 3 ? f->n_panels : f->n_panels == 4 ? 2 : 3;
    if (cols < 1) cols = 1;
    int rows = (f->n_panels + cols - 1) / cols;
    if (rows < 1) rows = 1;
    int w = 560 * cols, h = 460 * rows + 40;
    fprintf(gp, "# %s — drawn by slm report; run `gnuplot %s.gp` to redraw\n", f->title, name);
    for (int p = 0; p < f->n_panels; p++) {
        const slm_panel *pn = &f->panels[p];
        double y = oom_y(f, pn);
        for (int s = 0; s < pn->n_series; s++) {
            const slm_series *se = &pn->series[s];
            if (se->n) {
                fprintf(gp, "$p%ds%d << EOD\n", p, s);
                for (int i = 0; i < se->n; i++) fprintf(gp, "%.9g %.9g\n", se->x[i], se->y[i]);
                fprintf(gp, "EOD\n");
            }
            if (se->n_oom) {
                fprintf(gp, "$p%do%d << EOD\n", p, s);
                for (int i = 0; i < se->n_oom; i++) fprintf(gp, "%.9g %.9g\n", se->oom_x[i], y);
                fprintf(gp, "EOD\n");
            }
        }
    }
    fprintf(gp, "set grid\nset key below horizontal font \",10\"\nset format y \"%%g\"\n");
    fprintf(gp, "set terminal pngcairo size %d,%d font \"Sans,11\"\nset output \"%s/%s.png\"\n", w, h, dir, name);
    plot_body(gp, f, rows, cols);
    fprintf(gp, "set output\nset terminal svg size %d,%d font \"Sans,11\" background rgb \"white\"\n", w, h);
    fprintf(gp, "set output \"%s/%s.svg\"\n", dir, name);
    plot_body(gp, f, rows, cols);
    fprintf(gp, "set output\n");
    if (fclose(gp)) return slm_fail(err, "cannot write %s", gp_path);
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>'%s'", gp_path, err_path);
    int status = system(cmd);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 127) return slm_fail(err, "gnuplot is not installed (apt-get install gnuplot-nox, or make deps)");
    if (code != 0) {
        char first[300] = "";
        FILE *e = fopen(err_path, "r");
        while (e && fgets(first, sizeof first, e) && strspn(first, " \t\n^") == strlen(first)) continue;
        if (e) fclose(e);
        first[strcspn(first, "\n")] = 0;
        return slm_fail(err, "gnuplot failed on %s: %s", gp_path, first);
    }
    remove(err_path);
    return 0;
}
