// plot.h — figures in the study's form, drawn by gnuplot: one panel per
// model size, series (lines with points) inside each, OOM points marked with
// a red cross at the foot of the panel. A series whose name ends with
// SLM_PLOT_PREDICTED is drawn dashed with open markers: predicted points
// beside measured ones. Each figure is a gnuplot script with
// its data inline (NAME.gp, kept for redrawing), rendered to NAME.png and NAME.svg.
#pragma once
#include "core/err.h"

#define SLM_PLOT_PREDICTED " (predicted)"

enum { SLM_PLOT_PANELS = 8, SLM_PLOT_SERIES = 12, SLM_PLOT_POINTS = 48 };

typedef struct {
    char name[64];
    int n, n_oom;
    double x[SLM_PLOT_POINTS], y[SLM_PLOT_POINTS], oom_x[SLM_PLOT_POINTS];
} slm_series;

typedef struct {
    char title[160];
    int n_series;
    slm_series series[SLM_PLOT_SERIES];
} slm_panel;

typedef struct {
    char title[160], xlabel[80], ylabel[80];
    int logx, logy;  // logx: base 2 (devices, batch sizes, lengths); logy: in panels whose values span 20x or more
    int n_panels;
    slm_panel panels[SLM_PLOT_PANELS];
} slm_figure;

// Adds a point (oom: a marker at x instead) to the series of the panel,
// keeping x sorted; -1 when a bound above is passed.
int slm_figure_add(slm_figure *f, const char *panel, const char *series, double x, double y, int oom);
// The number of points (OOM markers included) in the figure.
int slm_figure_points(const slm_figure *f);
// Writes DIR/NAME.gp and runs gnuplot for DIR/NAME.png and DIR/NAME.svg.
int slm_figure_draw(const slm_figure *f, const char *dir, const char *name, slm_err *err);
