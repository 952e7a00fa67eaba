// report.c — the report of report.h. Figures take, at each plotted point, the
// best record over the dimensions the figure does not show (the study's
// rule); an OOM is marked where no record at that point fitted.
#include "report/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/doc.h"
#include "report/plot.h"

typedef struct {
    const slm_record *r;
    slm_record_derived d;
    char model[96];         // the preset's name; a custom shape spelled out, so two shapes are two models
    char device_type[128];  // the device without its threads per rank ("AMD EPYC (2 threads)": "AMD EPYC")
    int main_seq;           // the sequence length most measured for this model: findings and figures other than
                            // those against sequence length compare at it, as the study compares at 1024
    int predicted;          // "source":"predicted": its own series (dashed) and said so in the findings
} row;

typedef struct {
    row *rows;
    int n;
} data;

typedef char model_name[96];

static int is_ok(const row *w) { return !strcmp(w->r->status, "ok") && isfinite(w->r->tokens_per_s); }
static int is_oom(const row *w) { return !strcmp(w->r->status, "oom"); }

// ---- what a figure shows: x, series and y of a record ----
typedef enum { BY_ATTENTION, BY_STRATEGY, BY_DEVICE, BY_DTYPE } series_kind;
typedef enum { X_DEVICES, X_MICRO_BATCH, X_SEQ_LEN } x_kind;
// Against sequence length, per sequence and per token on one device, so that records of other batches and
// device counts compare.
typedef enum { Y_TOKENS_PER_S, Y_TOKENS_PER_DOLLAR, Y_PEAK_GIB, Y_ATTENTION_MIB_PER_SEQ, Y_STEP_S_PER_KTOKEN } y_kind;

// A predicted record's series is the measured one's name with " (predicted)" (plot.h draws it dashed).
static void series_name(const row *w, series_kind k, char *out, size_t cap) {
    const slm_record *r = w->r;
    const char *name = k == BY_ATTENTION  ? slm_attention_names[r->run.attention]
                       : k == BY_STRATEGY ? slm_strategy_names[r->run.strategy]
                       : k == BY_DTYPE    ? slm_dtype_name(r->run.dtype)
                                          : w->device_type;
    snprintf(out, cap, "%.100s%s", name, w->predicted ? SLM_PLOT_PREDICTED : "");
}

static double x_of(const row *w, x_kind k) {
    const slm_run_config *rc = &w->r->run;
    return k == X_DEVICES ? rc->world_size : k == X_MICRO_BATCH ? rc->micro_batch : rc->seq_len;
}

static double y_of(const row *w, y_kind k) {
    const slm_record *r = w->r;
    switch (k) {
        case Y_TOKENS_PER_S:
            return r->tokens_per_s;
        case Y_TOKENS_PER_DOLLAR:
            return w->d.tokens_per_dollar;
        case Y_PEAK_GIB:
            return r->peak_mem_bytes ? r->peak_mem_bytes / 1073741824.0 : NAN;
        case Y_ATTENTION_MIB_PER_SEQ:
            return r->peak_mem_bytes ? r->mem_bytes[SLM_MEM_ATTENTION] / 1048576.0 / r->run.micro_batch : NAN;
        case Y_STEP_S_PER_KTOKEN:
            return r->step_time_s * r->run.world_size * 1000.0 / ((double)r->run.global_batch * r->run.seq_len);
    }
    return NAN;
}

static int y_maximize(y_kind k) { return k == Y_TOKENS_PER_S || k == Y_TOKENS_PER_DOLLAR; }

static void panel_title(const row *w, char *out, size_t cap) {
    double p = (double)slm_param_count(&w->r->run.model);
    snprintf(out, cap, "%s (%.3g%s parameters)", w->model, p >= 1e9 ? p / 1e9 : p / 1e6, p >= 1e9 ? "B" : "M");
}

typedef struct {
    const char *name, *title, *xlabel, *ylabel, *caption;
    x_kind x;
    series_kind s;
    y_kind y;
} fig_spec;

static const fig_spec figures[] = {
    {"throughput_devices_attention", "Throughput against devices, by attention", "devices (ranks)", "tokens/s",
     "tokens/s against the number of devices, one panel per model, a series per attention kernel", X_DEVICES,
     BY_ATTENTION, Y_TOKENS_PER_S},
    {"throughput_devices_strategy", "Throughput against devices, by strategy", "devices (ranks)", "tokens/s",
     "tokens/s against the number of devices, a series per parallel strategy", X_DEVICES, BY_STRATEGY, Y_TOKENS_PER_S},
    {"throughput_devices_device", "Throughput against devices, by device type", "devices (ranks)", "tokens/s",
     "tokens/s against the number of devices, a series per device type", X_DEVICES, BY_DEVICE, Y_TOKENS_PER_S},
    {"cost_devices_attention", "Tokens per dollar against devices, by attention", "devices (ranks)", "tokens per USD",
     "tokens per dollar against the number of devices, a series per attention kernel", X_DEVICES, BY_ATTENTION,
     Y_TOKENS_PER_DOLLAR},
    {"cost_devices_strategy", "Tokens per dollar against devices, by strategy", "devices (ranks)", "tokens per USD",
     "tokens per dollar against the number of devices, a series per parallel strategy", X_DEVICES, BY_STRATEGY,
     Y_TOKENS_PER_DOLLAR},
    {"cost_devices_device", "Tokens per dollar against devices, by device type", "devices (ranks)", "tokens per USD",
     "tokens per dollar against the number of devices, a series per device type", X_DEVICES, BY_DEVICE,
     Y_TOKENS_PER_DOLLAR},
    {"throughput_devices_dtype", "Throughput against devices, by dtype", "devices (ranks)", "tokens/s",
     "tokens/s against the number of devices, a series per compute dtype (fp32, bf16)", X_DEVICES, BY_DTYPE,
     Y_TOKENS_PER_S},
    {"cost_devices_dtype", "Tokens per dollar against devices, by dtype", "devices (ranks)", "tokens per USD",
     "tokens per dollar against the number of devices, a series per compute dtype (fp32, bf16)", X_DEVICES, BY_DTYPE,
     Y_TOKENS_PER_DOLLAR},
    {"throughput_micro_batch", "Throughput against micro batch, by strategy", "micro batch (sequences per device)",
     "tokens/s", "tokens/s against the per-device micro batch, a series per strategy", X_MICRO_BATCH, BY_STRATEGY,
     Y_TOKENS_PER_S},
    {"cost_micro_batch", "Tokens per dollar against micro batch, by strategy", "micro batch (sequences per device)",
     "tokens per USD", "tokens per dollar against the micro batch: where it stops rising, a larger batch buys nothing",
     X_MICRO_BATCH, BY_STRATEGY, Y_TOKENS_PER_DOLLAR},
    {"memory_micro_batch", "Peak memory against micro batch, by strategy", "micro batch (sequences per device)",
     "peak memory per device (GiB)",
     "peak memory (the largest over ranks) against the micro batch; each point the "
     "lowest over the dimensions not shown",
     X_MICRO_BATCH, BY_STRATEGY, Y_PEAK_GIB},
    {"attention_memory_seq_len", "Attention memory against sequence length", "sequence length (tokens)",
     "attention memory per sequence (MiB)",
     "memory attention keeps beyond q, k, v and its output, at the peak, per sequence of the micro batch; the "
     "lowest over the dimensions not shown",
     X_SEQ_LEN, BY_ATTENTION, Y_ATTENTION_MIB_PER_SEQ},
    {"step_time_seq_len", "Step time against sequence length", "sequence length (tokens)",
     "step time per 1000 tokens per device (s)",
     "median optimizer step time per 1000 tokens each device trains, against the sequence length; the lowest over "
     "the dimensions not shown",
     X_SEQ_LEN, BY_ATTENTION, Y_STEP_S_PER_KTOKEN},
};
enum { N_FIGURES = sizeof figures / sizeof figures[0] };

typedef struct {
    char panel[160], series[128];
    double x, y;
    int ok, oom;
} cell;

// Builds the figure: the best y at each (panel, series, x); OOM where nothing fitted. Returns -1 past its bounds.
static int build_figure(const data *D, const fig_spec *fs, slm_figure *f) {
    memset(f, 0, sizeof *f);
    snprintf(f->title, sizeof f->title, "%s", fs->title);
    snprintf(f->xlabel, sizeof f->xlabel, "%s", fs->xlabel);
    snprintf(f->ylabel, sizeof f->ylabel, "%s", fs->ylabel);
    f->logx = 1;
    cell *cells = slm_xcalloc((size_t)D->n + 1, sizeof *cells);
    int n = 0, maximize = y_maximize(fs->y);
    for (int i = 0; i < D->n; i++) {
        const row *w = &D->rows[i];
        double y = y_of(w, fs->y);
        int ok = is_ok(w) && isfinite(y) && y > 0, oom = is_oom(w);
        if ((!ok && !oom) || (fs->x != X_SEQ_LEN && w->r->run.seq_len != w->main_seq)) continue;
        char panel[160];
        panel_title(w, panel, sizeof panel);
        char series[128];
        series_name(w, fs->s, series, sizeof series);
        double x = x_of(w, fs->x);
        cell *c = NULL;
        for (int j = 0; j < n && !c; j++)
            if (cells[j].x == x && !strcmp(cells[j].panel, panel) && !strcmp(cells[j].series, series)) c = &cells[j];
        if (!c) {
            c = &cells[n++];
            snprintf(c->panel, sizeof c->panel, "%s", panel);
            snprintf(c->series, sizeof c->series, "%s", series);
            c->x = x;
        }
        if (oom) c->oom = 1;
        if (ok && (!c->ok || (maximize ? y > c->y : y < c->y))) c->y = y, c->ok = 1;
    }
    double top = 0;
    for (int j = 0; j < n; j++)
        if (cells[j].ok) top = fmax(top, cells[j].y);
    f->logy = y_maximize(fs->y);
    if (fs->y == Y_PEAK_GIB && top < 1) {  // small models: MiB reads better
        for (int j = 0; j < n; j++) cells[j].y *= 1024;
        snprintf(f->ylabel, sizeof f->ylabel, "peak memory per device (MiB)");
    }
    int ret = 0;
    for (int j = 0; j < n && !ret; j++)
        if (cells[j].ok || cells[j].oom)
            ret = slm_figure_add(f, cells[j].panel, cells[j].series, cells[j].x, cells[j].y, !cells[j].ok);
    free(cells);
    return ret;
}

// ---- findings ----

// Same configuration except the attention kernel.
static int twin_other_attention(const row *w, const row *ref) {
    const slm_run_config *a = &w->r->run, *b = &ref->r->run;
    return a->attention != b->attention && a->strategy == b->strategy && a->world_size == b->world_size &&
           a->micro_batch == b->micro_batch && a->global_batch == b->global_batch && a->seq_len == b->seq_len &&
           a->dtype == b->dtype && !strcmp(w->device_type, ref->device_type);
}

// Same attention, strategy, devices, dtype and sequence length: the micro batch varies.
static int same_but_batch(const row *w, const row *ref) {
    const slm_run_config *a = &w->r->run, *b = &ref->r->run;
    return a->attention == b->attention && a->strategy == b->strategy && a->world_size == b->world_size &&
           a->seq_len == b->seq_len && a->dtype == b->dtype && !strcmp(w->device_type, ref->device_type);
}

static void describe(const row *w, char *out, size_t cap) {
    const slm_run_config *rc = &w->r->run;
    snprintf(out, cap, "%s attention, %s on %d x %s in %s, micro batch %d (global %d)",
             slm_attention_names[rc->attention], slm_strategy_names[rc->strategy], rc->world_size, w->device_type,
             slm_dtype_name(rc->dtype), rc->micro_batch, rc->global_batch);
}

static const char *human_bytes(double bytes, char out[32]) {
    if (bytes >= 1073741824.0)
        snprintf(out, 32, "%.3g GiB", bytes / 1073741824.0);
    else
        snprintf(out, 32, "%.3g MiB", bytes / 1048576.0);
    return out;
}

static double objective(const row *w, int by_cost) { return by_cost ? w->d.tokens_per_dollar : w->r->tokens_per_s; }

static void finding(slm_doc *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(slm_doc *doc, const char *fmt, ...) {
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    slm_doc_text(doc, 1, "%s", text);
    printf("  - %s\n", text);
}

// The dimensions the findings rank the winner along, each value's best against it.
typedef enum { DIM_ATTENTION, DIM_STRATEGY, DIM_DTYPE, N_DIMS } dim_kind;
static const int dim_values[N_DIMS] = {2, 4, 3};  // slm_attention, slm_strategy_kind, slm_dtype (no record has fp64)
static const char *const dim_plural[N_DIMS] = {"attention kernels", "strategies", "dtypes"};

static int dim_value(const row *w, int k) {
    const slm_run_config *rc = &w->r->run;
    return k == DIM_ATTENTION ? (int)rc->attention : k == DIM_STRATEGY ? (int)rc->strategy : (int)rc->dtype;
}

// The name of value v of dimension k.
static const char *value_name(int k, int v) {
    return k == DIM_ATTENTION  ? slm_attention_names[v]
           : k == DIM_STRATEGY ? slm_strategy_names[v]
                               : slm_dtype_name((slm_dtype)v);
}

// The best ok row of the model, at its main sequence length, whose value of dimension k is v; of any for k = -1.
static const row *best_with(const data *D, const char *model, int by_cost, int k, int v) {
    const row *best = NULL;
    for (int i = 0; i < D->n; i++) {
        const row *w = &D->rows[i];
        if (is_ok(w) && !strcmp(w->model, model) && w->r->run.seq_len == w->main_seq &&
            (k < 0 || dim_value(w, k) == v) && isfinite(objective(w, by_cost)) &&
            (!best || objective(w, by_cost) > objective(best, by_cost)))
            best = w;
    }
    return best;
}

// Whether an ok record of the model carries a price: its findings then rank by tokens per dollar.
static int any_priced(const data *D, const char *model) {
    int by_cost = 0;
    for (int i = 0; i < D->n; i++)
        if (is_ok(&D->rows[i]) && !strcmp(D->rows[i].model, model) && isfinite(D->rows[i].d.tokens_per_dollar))
            by_cost = 1;
    return by_cost;
}

// The model's heading, and the winner: what it is, its throughput, price and MFU, whether it is predicted.
static void winner_finding(slm_doc *doc, const row *win, const char *unit, const char *title, const char *what) {
    printf("%s, at sequence length %d:\n", title, win->main_seq);
    char heading[220];
    snprintf(heading, sizeof heading, "%s, at sequence length %d", title, win->main_seq);
    slm_doc_heading(doc, 3, heading);
    char cost[96] = "";
    if (isfinite(win->d.tokens_per_dollar)) snprintf(cost, sizeof cost, ", %.4g tokens/$", win->d.tokens_per_dollar);
    if (isfinite(win->d.mfu))
        snprintf(cost + strlen(cost), sizeof cost - strlen(cost), ", MFU %.1f%%", 100 * win->d.mfu);
    if (win->predicted)
        finding(doc, "Predicted, not measured: the figures of this model come from slm predict (%s).", win->r->basis);
    finding(doc, "Winner by %s: %s — %.4g tokens/s%s%s.", unit, what, win->r->tokens_per_s, cost,
            win->predicted ? " (predicted)" : "");
}

// By how much: the best of every other value of dimension k against the winner.
static void others_finding(slm_doc *doc, const data *D, const char *model, int by_cost, const row *win, int k) {
    char line[1024] = "";
    for (int v = 0; v < dim_values[k]; v++) {
        if (v == dim_value(win, k)) continue;
        const row *other = best_with(D, model, by_cost, k, v);
        if (!other) continue;
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s's best is %.1f%% lower (%.4g)",
                 line[0] ? "; " : "", value_name(k, v), 100 * (1 - objective(other, by_cost) / objective(win, by_cost)),
                 objective(other, by_cost));
    }
    if (line[0]) finding(doc, "Other %s, against the winner: %s.", dim_plural[k], line);
}

// For the summary: every value of dimension k by its best, best first, against the winner.
static void ranking_of(const data *D, const char *model, int by_cost, const row *win, int k, char *out, size_t cap) {
    int n_values = dim_values[k], done[4] = {0};
    for (int r = 0; r < n_values; r++) {  // selection by objective, best first
        const row *best = NULL;
        int best_v = -1;
        for (int v = 0; v < n_values; v++) {
            const row *w = done[v] ? NULL : best_with(D, model, by_cost, k, v);
            if (w && (!best || objective(w, by_cost) > objective(best, by_cost))) best = w, best_v = v;
        }
        if (!best) break;
        done[best_v] = 1;
        size_t len = strlen(out);
        if (!len)
            snprintf(out, cap, "%s", value_name(k, best_v));
        else
            snprintf(out + len, cap - len, ", %s %+.1f%%", value_name(k, best_v),
                     100 * (objective(best, by_cost) / objective(win, by_cost) - 1));
    }
}

// Why, attention: its share of the FLOPs, and the same configuration's step with the other kernel.
static void attention_finding(slm_doc *doc, const data *D, const char *model, const row *win) {
    const slm_model_config *c = &win->r->run.model;
    double attn_flops = 12.0 * c->n_layers * c->n_heads * slm_head_dim(c) * win->r->run.seq_len;
    const row *twin = NULL;
    char twin_text[300] = "no record with the other attention kernel at the same configuration to compare";
    for (int i = 0; i < D->n; i++)
        if (!strcmp(D->rows[i].model, model) && twin_other_attention(&D->rows[i], win) && is_ok(&D->rows[i]))
            twin = &D->rows[i];
    for (int i = 0; i < D->n && !twin; i++)
        if (is_oom(&D->rows[i]) && !strcmp(D->rows[i].model, model) && twin_other_attention(&D->rows[i], win))
            snprintf(twin_text, sizeof twin_text, "%s attention runs out of memory at the same configuration",
                     slm_attention_names[D->rows[i].r->run.attention]);
    if (twin)
        snprintf(twin_text, sizeof twin_text,
                 "at the same configuration %s attention's step takes %.4g s against %.4g s (%+.1f%%)",
                 slm_attention_names[twin->r->run.attention], twin->r->step_time_s, win->r->step_time_s,
                 100 * (twin->r->step_time_s / win->r->step_time_s - 1));
    finding(doc, "Attention: %.1f%% of the model FLOPs per token at sequence %d; %s.",
            100 * attn_flops / win->d.flops_per_token, win->r->run.seq_len, twin_text);
}

// The best multi-device run of the winner's model, sequence length, attention, dtype and device type, by tokens/s
// per device; NULL when there is none.
static const row *best_multi_device(const data *D, const char *model, const row *win) {
    const row *multi = NULL;
    for (int i = 0; i < D->n; i++) {
        const row *w = &D->rows[i];
        if (is_ok(w) && !strcmp(w->model, model) && w->r->run.world_size > 1 &&
            w->r->run.seq_len == win->r->run.seq_len && w->r->run.attention == win->r->run.attention &&
            w->r->run.dtype == win->r->run.dtype && !strcmp(w->device_type, win->device_type) &&
            (!multi || w->d.tokens_per_s_per_device > multi->d.tokens_per_s_per_device))
            multi = w;
    }
    return multi;
}

// Why, communication: the share of the winner's step spent on it; for a one-device winner, how far the best
// multi-device run falls behind.
static void communication_finding(slm_doc *doc, const data *D, const char *model, const row *win) {
    if (win->r->run.world_size == 1) {
        const row *multi = best_multi_device(D, model, win);
        char comm[96] = "; its communication share was not measured";
        if (multi && isfinite(multi->r->comm_time_frac))
            snprintf(comm, sizeof comm, "; %.1f%% of its step waits on communication", 100 * multi->r->comm_time_frac);
        if (multi)
            finding(doc,
                    "Communication: the winner runs on one device and waits on no one; the best multi-device run "
                    "of its attention, dtype and device type (%s, %d devices) reaches %.1f%% of its per-device "
                    "throughput%s.",
                    slm_strategy_names[multi->r->run.strategy], multi->r->run.world_size,
                    100 * multi->d.tokens_per_s_per_device / win->d.tokens_per_s_per_device, comm);
        else
            finding(doc,
                    "Communication: none; every measured run of this model, attention, dtype and device type is on "
                    "one device.");
    } else if (isfinite(win->r->comm_time_frac)) {
        finding(doc, "Communication: %.1f%% of the winner's step time is spent waiting on communication.",
                100 * win->r->comm_time_frac);
    } else {
        finding(doc, "Communication: the record does not say how much of the step is communication (null).");
    }
}

// Why, memory headroom, and where the batch stops paying: among the records that differ from the winner only in
// the micro batch.
static void memory_and_batch_findings(slm_doc *doc, const data *D, const char *model, int by_cost, const row *win,
                                      const char *unit) {
    double peak = (double)win->r->peak_mem_bytes, cap = (double)win->r->run.mem_limit;
    int largest_ok = 0, smallest_oom = 0;
    const row *sat = NULL;
    for (int i = 0; i < D->n; i++) {
        const row *w = &D->rows[i];
        if (strcmp(w->model, model) || !same_but_batch(w, win)) continue;
        int mb = w->r->run.micro_batch;
        if (is_ok(w) && mb > largest_ok) largest_ok = mb;
        if (is_oom(w) && (!smallest_oom || mb < smallest_oom)) smallest_oom = mb;
        if (is_ok(w) && objective(w, by_cost) >= 0.95 * objective(win, by_cost) &&
            (!sat || mb < sat->r->run.micro_batch))
            sat = w;
    }
    char oom_text[160] = "", peak_text[32], cap_text[32];
    if (smallest_oom) snprintf(oom_text, sizeof oom_text, "; micro batch %d ran out of memory", smallest_oom);
    if (cap > 0)
        finding(doc, "Memory: peak %s of the %s cap, %.0f%% headroom; the largest micro batch that fitted is %d%s.",
                human_bytes(peak, peak_text), human_bytes(cap, cap_text), 100 * (1 - peak / cap), largest_ok, oom_text);
    else
        finding(doc,
                "Memory: peak %s (no --mem-limit set, so no headroom to state); the largest micro batch "
                "measured is %d%s.",
                human_bytes(peak, peak_text), largest_ok, oom_text);
    if (sat && sat->r->run.micro_batch < win->r->run.micro_batch)
        finding(doc, "Batch: %s saturates early: micro batch %d is already within 5%% of the best (%d).", unit,
                sat->r->run.micro_batch, win->r->run.micro_batch);
    else
        finding(doc, "Batch: %s still rose up to the winner's micro batch %d among the batches measured.", unit,
                win->r->run.micro_batch);
}

// The findings of one model, and its row of the summary across models.
static void model_findings(slm_doc *doc, const data *D, const char *model, slm_table *summary) {
    int by_cost = any_priced(D, model);
    const row *win = best_with(D, model, by_cost, -1, 0);
    const char *unit = by_cost ? "tokens/$" : "tokens/s";
    char what[400], title[160];
    panel_title(win, title, sizeof title);
    describe(win, what, sizeof what);
    winner_finding(doc, win, unit, title, what);
    char ranking[N_DIMS][512] = {"", "", ""};  // for the summary: each attention, strategy and dtype, best first
    for (int k = 0; k < N_DIMS; k++) {
        others_finding(doc, D, model, by_cost, win, k);
        ranking_of(D, model, by_cost, win, k, ranking[k], sizeof ranking[k]);
    }
    attention_finding(doc, D, model, win);
    communication_finding(doc, D, model, win);
    memory_and_batch_findings(doc, D, model, by_cost, win, unit);
    slm_table_row(summary, "%s\t%d\t%s\t%s\t%s\t%s\t%s", title, win->main_seq, unit, what, ranking[0], ranking[1],
                  ranking[2]);
}

// ---- tables ----

static const char *fmt_num(char *buf, size_t cap, double v, const char *fmt) {
    if (isfinite(v))
        snprintf(buf, cap, fmt, v);
    else
        snprintf(buf, cap, "null");
    return buf;
}

static void records_table(const data *D, slm_table *t) {
    static const char *const head[] = {
        "model",    "attention",     "strategy",   "devices",  "micro batch",     "global batch", "seq",
        "dtype",    "device",        "status",     "tokens/s", "tokens/s/device", "tokens/$",     "step s (p10-p90)",
        "peak GiB", "attention MiB", "comm share", "MFU",      "message"};
    slm_table_init(t, 19, head);
    for (int i = 0; i < D->n; i++) {
        const row *w = &D->rows[i];
        const slm_record *r = w->r;
        char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32];
        char steps[112];
        snprintf(steps, sizeof steps, "%s (%s-%s)", fmt_num(d, 32, r->step_time_s, "%.4g"),
                 fmt_num(e, 32, r->step_time_p10_s, "%.4g"), fmt_num(f, 32, r->step_time_p90_s, "%.4g"));
        slm_table_row(t, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", w->model,
                      slm_attention_names[r->run.attention], slm_strategy_names[r->run.strategy], r->run.world_size,
                      r->run.micro_batch, r->run.global_batch, r->run.seq_len, slm_dtype_name(r->run.dtype),
                      r->device[0] ? r->device : "null", r->status, fmt_num(a, 32, r->tokens_per_s, "%.0f"),
                      fmt_num(b, 32, w->d.tokens_per_s_per_device, "%.0f"),
                      fmt_num(c, 32, w->d.tokens_per_dollar, "%.4g"), steps,
                      fmt_num(g, 32, r->peak_mem_bytes ? r->peak_mem_bytes / 1073741824.0 : NAN, "%.3f"),
                      fmt_num(h, 32, r->peak_mem_bytes ? r->mem_bytes[SLM_MEM_ATTENTION] / 1048576.0 : NAN, "%.1f"),
                      fmt_num(e, 32, r->comm_time_frac, "%.3f"), fmt_num(f, 32, w->d.mfu, "%.3f"), r->message);
    }
}

// The best row per (model, attention, strategy).
static void best_table(const data *D, const model_name *models, int n_models, slm_table *t) {
    static const char *const head[] = {"model", "attention", "strategy", "best tokens/s", "at", "best tokens/$", "at"};
    slm_table_init(t, 7, head);
    for (int m = 0; m < n_models; m++)
        for (int a = 0; a < 2; a++)
            for (int s = 0; s < 4; s++) {
                const row *bt = NULL, *bc = NULL;
                for (int i = 0; i < D->n; i++) {
                    const row *w = &D->rows[i];
                    if (!is_ok(w) || strcmp(w->model, models[m]) || (int)w->r->run.attention != a ||
                        (int)w->r->run.strategy != s)
                        continue;
                    if (!bt || w->r->tokens_per_s > bt->r->tokens_per_s) bt = w;
                    if (isfinite(w->d.tokens_per_dollar) && (!bc || w->d.tokens_per_dollar > bc->d.tokens_per_dollar))
                        bc = w;
                }
                if (!bt) continue;
                char at_t[64], at_c[64] = "", c[32];
                snprintf(at_t, sizeof at_t, "%d dev, mb %d, seq %d", bt->r->run.world_size, bt->r->run.micro_batch,
                         bt->r->run.seq_len);
                if (bc)
                    snprintf(at_c, sizeof at_c, "%d dev, mb %d, seq %d", bc->r->run.world_size, bc->r->run.micro_batch,
                             bc->r->run.seq_len);
                slm_table_row(t, "%s\t%s\t%s\t%.0f\t%s\t%s\t%s", models[m], slm_attention_names[a],
                              slm_strategy_names[s], bt->r->tokens_per_s, at_t,
                              fmt_num(c, sizeof c, bc ? bc->d.tokens_per_dollar : NAN, "%.4g"), bc ? at_c : "null");
            }
}

// The best ok row of the model on device type dev in dtype dt, at the model's main sequence length, by tokens/$
// (by_cost) or tokens/s; NULL when there is none.
static const row *best_in_dtype(const data *D, const char *model, const char *dev, int dt, int by_cost) {
    const row *best = NULL;
    for (int i = 0; i < D->n; i++) {
        const row *w = &D->rows[i];
        if (is_ok(w) && !strcmp(w->model, model) && !strcmp(w->device_type, dev) && (int)w->r->run.dtype == dt &&
            w->r->run.seq_len == w->main_seq && isfinite(objective(w, by_cost)) &&
            (!best || objective(w, by_cost) > objective(best, by_cost)))
            best = w;
    }
    return best;
}

static const char *config_text(const row *w, char *out, size_t cap) {
    const slm_run_config *rc = &w->r->run;
    snprintf(out, cap, "%s %s x%d mb %d", slm_attention_names[rc->attention], slm_strategy_names[rc->strategy],
             rc->world_size, rc->micro_batch);
    return out;
}

// Row i is the first of its model, device type and dtype among the rows that dtype_table compares.
static int first_of_its_dtype(const data *D, int i) {
    const row *w = &D->rows[i];
    for (int j = 0; j < i; j++) {
        const row *x = &D->rows[j];
        if (is_ok(x) && x->r->run.seq_len == x->main_seq && !strcmp(x->model, w->model) &&
            !strcmp(x->device_type, w->device_type) && x->r->run.dtype == w->r->run.dtype)
            return 0;
    }
    return 1;
}

// fp32 against bf16: per model and device type, each dtype's best configuration by tokens/s and by tokens/$ (at
// the model's main sequence length), the MFU of the latter (against its dtype's peak) and its tokens/$ (tokens/s
// where the model's records carry no price) against fp32's best.
static void dtype_table(const data *D, const model_name *models, int n_models, slm_table *t) {
    static const char *const head[] = {"model",         "device", "dtype", "best tokens/s", "at",
                                       "best tokens/$", "at",     "MFU",   "against fp32"};
    slm_table_init(t, 9, head);
    for (int m = 0; m < n_models; m++)
        for (int i = 0; i < D->n; i++) {
            const row *w = &D->rows[i];
            if (!is_ok(w) || strcmp(w->model, models[m]) || w->r->run.seq_len != w->main_seq ||
                !first_of_its_dtype(D, i))
                continue;
            int dt = (int)w->r->run.dtype, by_cost = any_priced(D, models[m]);
            const row *bt = best_in_dtype(D, models[m], w->device_type, dt, 0);
            const row *bc = best_in_dtype(D, models[m], w->device_type, dt, 1);
            const row *best = by_cost ? bc : bt;
            const row *ref = best_in_dtype(D, models[m], w->device_type, SLM_F32, by_cost);
            char at_t[96], at_c[96] = "null", c[32], mfu[32], vs[32] = "null";
            if (bc) config_text(bc, at_c, sizeof at_c);
            if (ref && best)
                snprintf(vs, sizeof vs, "%+.1f%% %s", 100 * (objective(best, by_cost) / objective(ref, by_cost) - 1),
                         by_cost ? "tokens/$" : "tokens/s");
            slm_table_row(t, "%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s", models[m], w->device_type,
                          slm_dtype_name((slm_dtype)dt), bt->r->tokens_per_s, config_text(bt, at_t, sizeof at_t),
                          fmt_num(c, sizeof c, bc ? bc->d.tokens_per_dollar : NAN, "%.4g"), at_c,
                          fmt_num(mfu, sizeof mfu, best ? 100 * best->d.mfu : NAN, "%.1f%%"), vs);
        }
}

// Records that were not measured, grouped by their message, with the configurations (the first few).
static void not_run_table(const data *D, slm_table *t) {
    static const char *const head[] = {"status", "records", "configurations", "message"};
    slm_table_init(t, 4, head);
    int *counted = slm_xcalloc((size_t)D->n + 1, sizeof(int));
    for (int i = 0; i < D->n; i++) {
        const row *w = &D->rows[i];
        if (is_ok(w) || counted[i]) continue;
        int n = 0;
        char configs[512] = "";
        for (int j = i; j < D->n; j++) {
            const row *x = &D->rows[j];
            if (counted[j] || is_ok(x) || strcmp(x->r->status, w->r->status) || strcmp(x->r->message, w->r->message))
                continue;
            counted[j] = 1;
            const slm_run_config *rc = &x->r->run;
            size_t len = strlen(configs);
            if (++n <= 4)
                snprintf(configs + len, sizeof configs - len, "%s%s %s %s x%d mb %d seq %d", n > 1 ? "; " : "",
                         x->model, slm_attention_names[rc->attention], slm_strategy_names[rc->strategy], rc->world_size,
                         rc->micro_batch, rc->seq_len);
        }
        if (n > 4) snprintf(configs + strlen(configs), sizeof configs - strlen(configs), "; and %d more", n - 4);
        slm_table_row(t, "%s\t%d\t%s\t%s", w->r->status, n, configs, w->r->message);
    }
    free(counted);
}

static int make_dir(const char *path, slm_err *err) {
    struct stat st;
    if (mkdir(path, 0755) && (stat(path, &st) || !S_ISDIR(st.st_mode)))
        return slm_fail(err, "cannot make the directory %s", path);
    return 0;
}

// A CPU's device string ends with its threads per rank, which differ between
// one process and ranks sharing the machine: the type leaves them out.
static void set_model_and_device(row *w) {
    const slm_model_config *c = &w->r->run.model;
    if (strcmp(c->name, "custom"))
        snprintf(w->model, sizeof w->model, "%s", c->name);
    else
        snprintf(w->model, sizeof w->model, "custom %dL-%dd-%dh-%dkv-%dffn-%dv", c->n_layers, c->d_model, c->n_heads,
                 c->n_kv_heads, c->ffn_dim, c->vocab);
    const char *dev = w->r->device[0] ? w->r->device : "unknown device";
    const char *paren = strrchr(dev, '(');
    size_t len = paren && paren > dev && strstr(paren, "thread") ? (size_t)(paren - dev) : strlen(dev);
    while (len && dev[len - 1] == ' ') len--;
    snprintf(w->device_type, sizeof w->device_type, "%.*s", (int)len, dev);
}

// The sequence length of the most measured (status ok) records of the model; the longer on a tie.
static int main_seq(const data *D, const char *model) {
    int best = 0, best_n = -1, n_seqs = 0;
    int *seqs = slm_xcalloc((size_t)D->n + 1, sizeof(int)), *counts = slm_xcalloc((size_t)D->n + 1, sizeof(int));
    for (int i = 0; i < D->n; i++) {
        const slm_record *r = D->rows[i].r;
        if (strcmp(D->rows[i].model, model)) continue;
        int k = 0;
        while (k < n_seqs && seqs[k] != r->run.seq_len) k++;
        if (k == n_seqs) seqs[n_seqs++] = r->run.seq_len;
        counts[k] += !strcmp(r->status, "ok");
    }
    for (int k = 0; k < n_seqs; k++)
        if (counts[k] > best_n || (counts[k] == best_n && seqs[k] > best)) best = seqs[k], best_n = counts[k];
    free(seqs);
    free(counts);
    return best;
}

static int model_order(const void *a, const void *b) {
    const row *x = *(const row *const *)a, *y = *(const row *const *)b;
    int64_t px = slm_param_count(&x->r->run.model), py = slm_param_count(&y->r->run.model);
    return (px > py) - (px < py);
}

typedef struct {
    int n_ok, n_oom, n_priced, n_predicted, n_repeated, n_not_run;
} tally;

// Every record (all: the records and not-run tables), and one per configuration (D: figures, findings, best):
// a configuration measured more than once (slm sweep --rounds) counts by its median record.
static void load_rows(const slm_results *res, data *all, data *D, tally *t) {
    *all = (data){slm_xcalloc((size_t)res->n + 1, sizeof(row)), res->n};
    *t = (tally){0};
    int *order = slm_xcalloc((size_t)res->n + 1, sizeof(int)), *pick = slm_xcalloc((size_t)res->n + 1, sizeof(int)),
        *repeats = slm_xcalloc((size_t)res->n + 1, sizeof(int));
    for (int i = 0; i < res->n; i++) {
        row *w = &all->rows[i];
        w->r = &res->recs[i];
        w->predicted = !strcmp(res->recs[i].source, "predicted");
        slm_record_derive(&res->recs[i], &w->d);
        set_model_and_device(w);
        t->n_not_run += !is_ok(w) && !is_oom(w);
        order[i] = i;
    }
    D->n = slm_results_median_per_config(res->recs, order, res->n, pick, repeats);
    D->rows = slm_xcalloc((size_t)D->n + 1, sizeof(row));
    for (int j = 0; j < D->n; j++) {
        D->rows[j] = all->rows[pick[j]];
        const row *w = &D->rows[j];
        t->n_repeated += repeats[j] > 1;
        t->n_predicted += w->predicted;
        t->n_ok += is_ok(w);
        t->n_oom += is_oom(w);
        t->n_priced += is_ok(w) && isfinite(w->d.tokens_per_dollar);
    }
    free(order);
    free(pick);
    free(repeats);
}

// The models, smallest first, by the first record of each.
static model_name *models_by_size(const data *D, int *n) {
    const row **firsts = slm_xcalloc((size_t)D->n + 1, sizeof *firsts);
    int n_models = 0;
    for (int i = 0; i < D->n; i++) {
        int seen = 0;
        for (int m = 0; m < n_models && !seen; m++) seen = !strcmp(firsts[m]->model, D->rows[i].model);
        if (!seen) firsts[n_models++] = &D->rows[i];
    }
    qsort(firsts, (size_t)n_models, sizeof *firsts, model_order);
    model_name *models = slm_xcalloc((size_t)n_models + 1, sizeof *models);
    for (int m = 0; m < n_models; m++) snprintf(models[m], sizeof models[m], "%s", firsts[m]->model);
    free(firsts);
    *n = n_models;
    return models;
}

// Every row's main_seq: its model's, as main_seq counts it over the configurations.
static void set_main_seqs(data *all, data *D, const model_name *models, int n_models) {
    for (int m = 0; m < n_models; m++) {
        int seq = main_seq(D, models[m]);
        for (int i = 0; i < D->n; i++)
            if (!strcmp(D->rows[i].model, models[m])) D->rows[i].main_seq = seq;
        for (int i = 0; i < all->n; i++)
            if (!strcmp(all->rows[i].model, models[m])) all->rows[i].main_seq = seq;
    }
}

// The Data section: what the records are and how they are counted; its summary on stdout.
static void data_section(slm_doc *doc, const slm_results *res, const data *D, const char *sources, const tally *t) {
    slm_doc_heading(doc, 2, "Data");
    slm_doc_text(doc, 0,
                 "%d records of %d configurations from %s: %d measured (in the figures), %d out of memory (marked "
                 "with crosses where no configuration at that point fitted), %d not run (listed at the end with "
                 "their messages). Every record is in tables/records.csv. Each plotted point is the best "
                 "configuration over the dimensions the figure does not show, at each model's most measured "
                 "sequence length (the figures against sequence length excepted); the findings compare at that "
                 "length too.",
                 res->n, D->n, sources, t->n_ok, t->n_oom, t->n_not_run);
    if (t->n_repeated)
        slm_doc_text(doc, 0,
                     "%d configuration%s measured more than once (slm sweep --rounds): each counts by its median "
                     "record by step time, in the figures, the findings and the best table.",
                     t->n_repeated, t->n_repeated == 1 ? " was" : "s were");
    if (t->n_predicted)
        slm_doc_text(doc, 0,
                     "%d of the records are predicted by slm predict (the performance model, docs/predict.md), not "
                     "measured: their series are dashed with open markers and named \"(predicted)\", and the "
                     "findings of a model whose winner is predicted say so.",
                     t->n_predicted);
    if (t->n_ok > t->n_priced)
        slm_doc_text(doc, 0,
                     "%d measured records carry no price, so they are left out of the tokens-per-dollar "
                     "figures (bench --price or --prices gives one).",
                     t->n_ok - t->n_priced);
    printf(
        "report: %d records of %d configurations from %s: %d measured or predicted (%d predicted), %d oom, %d not "
        "run; %d measured more than once, each by its median record\n",
        res->n, D->n, sources, t->n_ok, t->n_predicted, t->n_oom, t->n_not_run, t->n_repeated);
}

// The Findings section, each model's and the summary across them (into summary), also on stdout.
static void findings_section(slm_doc *doc, const data *D, const model_name *models, int n_models, slm_table *summary) {
    slm_doc_heading(doc, 2, "Findings");
    printf("findings:\n");
    static const char *const summary_head[] = {
        "model", "sequence", "by", "winner", "attention, best first", "strategy, best first", "dtype, best first"};
    slm_table_init(summary, 7, summary_head);
    for (int m = 0; m < n_models; m++) {
        int any = 0;
        for (int i = 0; i < D->n && !any; i++) any = is_ok(&D->rows[i]) && !strcmp(D->rows[i].model, models[m]);
        if (any) {
            model_findings(doc, D, models[m], summary);
        } else {
            slm_doc_heading(doc, 3, models[m]);
            finding(doc, "No configuration of %s was measured: see the records not run below.", models[m]);
        }
    }
    slm_doc_heading(doc, 3, "Across model sizes (each the best of its kind, against the winner)");
    slm_doc_table(doc, summary);
    printf("across model sizes (each the best of its kind, against the winner):\n");
    for (int r = 1; r < summary->n_rows; r++)
        printf("  %s: %s | %s | %s\n", summary->cells[r * 7], summary->cells[r * 7 + 4], summary->cells[r * 7 + 5],
               summary->cells[r * 7 + 6]);
}

// The Figures section: each figure drawn under figdir, or said not drawn when no record has its figures.
static int figures_section(slm_doc *doc, const data *D, const char *figdir, slm_err *err) {
    char svg[4400], png_rel[4400];
    slm_doc_heading(doc, 2, "Figures");
    for (int k = 0; k < N_FIGURES; k++) {
        slm_figure f;
        if (build_figure(D, &figures[k], &f))
            return slm_fail(err, "figure %s: more than %d models, %d series or %d points per series", figures[k].name,
                            SLM_PLOT_PANELS, SLM_PLOT_SERIES, SLM_PLOT_POINTS);
        if (!slm_figure_points(&f)) {
            slm_doc_text(doc, 0, "Not drawn: %s — no record has the figures it needs%s.", figures[k].title,
                         figures[k].y == Y_TOKENS_PER_DOLLAR ? " (a price)" : "");
            printf("  not drawn: %s (no data)\n", figures[k].name);
            continue;
        }
        if (slm_figure_draw(&f, figdir, figures[k].name, err)) return -1;
        snprintf(svg, sizeof svg, "%s/%s.svg", figdir, figures[k].name);
        snprintf(png_rel, sizeof png_rel, "figures/%s.png", figures[k].name);
        slm_doc_figure(doc, png_rel, svg, figures[k].caption);
    }
    return 0;
}

// Writes the table as tabdir/name.csv and .md; -1 when it cannot.
static int write_table(const slm_table *t, const char *tabdir, const char *name) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", tabdir, name);
    return slm_table_write(t, path);
}

// The tables: the best and the not-run in the document; records, best, not-run and summary (built with the
// findings) written under tabdir. -1 when a table cannot be written.
static int tables_section(slm_doc *doc, const data *all, const data *D, const model_name *models, int n_models,
                          const slm_table *summary, const char *tabdir) {
    slm_table records = {0}, best = {0}, dtypes = {0}, not_run = {0};
    records_table(all, &records);
    best_table(D, models, n_models, &best);
    dtype_table(D, models, n_models, &dtypes);
    not_run_table(all, &not_run);
    slm_doc_heading(doc, 2, "Best configuration per model, attention and strategy");
    slm_doc_table(doc, &best);
    slm_doc_heading(doc, 2, "fp32 against bf16: the best configuration of each dtype per model and device type");
    slm_doc_text(doc, 0,
                 "At each model's most measured sequence length; MFU is against the peak of the record's own "
                 "dtype (slm peak --dtype, or the datasheet's), and the last column compares the dtype's best "
                 "with fp32's on the same device type.");
    slm_doc_table(doc, &dtypes);
    slm_doc_heading(doc, 2, "Records not measured");
    if (not_run.n_rows > 1)
        slm_doc_table(doc, &not_run);
    else
        slm_doc_text(doc, 0, "None: every record was measured.");
    int bad = write_table(&records, tabdir, "records");
    bad |= write_table(&best, tabdir, "best");
    bad |= write_table(&dtypes, tabdir, "dtype");
    bad |= write_table(&not_run, tabdir, "not_run");
    bad |= write_table(summary, tabdir, "summary");
    slm_table_free(&records);
    slm_table_free(&best);
    slm_table_free(&dtypes);
    slm_table_free(&not_run);
    return bad;
}

int slm_report_build(const slm_results *res, const char *sources, const char *out_dir, slm_err *err) {
    char path[4400], html[4400], figdir[4200], tabdir[4200];
    snprintf(figdir, sizeof figdir, "%s/figures", out_dir);
    snprintf(tabdir, sizeof tabdir, "%s/tables", out_dir);
    if (make_dir(out_dir, err) || make_dir(figdir, err) || make_dir(tabdir, err)) return -1;
    data all, D;
    tally t;
    load_rows(res, &all, &D, &t);
    int n_models;
    model_name *models = models_by_size(&D, &n_models);
    set_main_seqs(&all, &D, models, n_models);

    slm_doc doc = {0};
    snprintf(path, sizeof path, "%s/report.md", out_dir);
    snprintf(html, sizeof html, "%s/report.html", out_dir);
    int ret = -1;
    slm_table summary = {0};
    if (slm_doc_open(&doc, path, html, "Training cost report")) {
        slm_fail(err, "cannot write %s", path);
        goto done;
    }
    data_section(&doc, res, &D, sources, &t);
    findings_section(&doc, &D, models, n_models, &summary);
    if (figures_section(&doc, &D, figdir, err)) goto done;
    int bad = tables_section(&doc, &all, &D, models, n_models, &summary, tabdir);
    bad |= slm_doc_close(&doc);
    if (bad) {
        slm_fail(err, "cannot write the report's files under %s", out_dir);
        goto done;
    }
    ret = 0;
done:
    if (ret && doc.md) slm_doc_close(&doc);
    slm_table_free(&summary);
    free(models);
    free(D.rows);
    free(all.rows);
    return ret;
}
