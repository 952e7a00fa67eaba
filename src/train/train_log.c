// train_log.c — the progress line and the per-step log (train_log.h).
#include "train/train_log.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The step of a line of the log as read back (len bytes), or -1 when it is not a whole line of a step.
static int step_of(const char *line, ssize_t len) {
    int step;
    if (len < 1 || line[len - 1] != '\n' || sscanf(line, "{\"step\":%d", &step) != 1) return -1;
    return step;
}

// On a resume at step `start`: the log from its first line that is not a
// whole line of a step up to `start` on (the steps the stopped run logged after
// its checkpoint, a line cut short) is cut off, so the log holds each step
// once; says what it removed.
static int trim_after(const char *path, int start, slm_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;  // a new log
    char *line = NULL;
    size_t cap = 0;
    long long at = 0, cut = -1;
    int removed = 0, first = -1, last = -1;
    for (ssize_t len; (len = getline(&line, &cap, f)) >= 0; at += len) {
        const int step = step_of(line, len);
        if (cut < 0 && step >= 0 && step <= start) continue;
        if (cut < 0) cut = at;
        removed++;
        if (step > start && first < 0) first = step;
        if (step > start) last = step;
    }
    free(line);
    fclose(f);
    if (cut < 0) return 0;
    if (truncate(path, (off_t)cut)) return slm_fail(err, "cannot trim --log-file %s: %s", path, strerror(errno));
    char steps[64] = "";
    if (first >= 0) snprintf(steps, sizeof steps, ": steps %d to %d, logged again as they run", first, last);
    printf("--log-file %s: removed %d line%s after the checkpoint's step %d%s\n", path, removed,
           removed == 1 ? "" : "s", start, steps);
    return 0;
}

int slm_train_log_open(slm_train_log *l, const slm_run_config *rc, int lead, int start, slm_err *err) {
    *l = (slm_train_log){.lead = lead,
                         .path = rc->log_file,
                         .tokens_per_step = (double)rc->global_batch * rc->seq_len,
                         .steps = rc->steps};
    slm_progress_init(&l->prog, rc->log_every);
    if (!lead || !rc->log_file) return 0;
    if (start && trim_after(rc->log_file, start, err)) return -1;
    if (!(l->file = fopen(rc->log_file, start ? "a" : "w")))
        return slm_fail(err, "cannot write --log-file %s: %s", rc->log_file, strerror(errno));
    return 0;
}

static int write_failed(const slm_train_log *l, slm_err *err) {
    return slm_fail(err, "writing --log-file %s failed: %s (disk full?)", l->path, strerror(errno));
}

int slm_train_log_close(slm_train_log *l, slm_err *err) {
    int failed = l->file && fclose(l->file);
    l->file = NULL;
    return failed ? write_failed(l, err) : 0;
}

static int json_field(FILE *f, const char *key, double v, const char *fmt) {
    if (isnan(v)) return 0;
    return fprintf(f, ",\"%s\":", key) < 0 || fprintf(f, fmt, v) < 0;
}

// One line of --log-file (when there is one), flushed; a figure that is NAN is left out.
static int write_line(const slm_train_log *l, int step, double loss, double val_loss, float lr, float norm, double dt,
                      double tok_s, slm_err *err) {
    FILE *f = l->file;
    if (!f) return 0;
    int bad = fprintf(f, "{\"step\":%d", step) < 0;
    bad |= json_field(f, "loss", loss, "%.9g");
    bad |= json_field(f, "val_loss", val_loss, "%.9g");
    if (step > 0) bad |= json_field(f, "lr", lr, "%.9g");
    bad |= json_field(f, "grad_norm", norm, "%.9g");
    bad |= json_field(f, "step_time_s", dt, "%.6f");
    bad |= json_field(f, "tokens_per_s", tok_s, "%.1f");
    bad |= fputs("}\n", f) < 0;
    bad |= fflush(f) != 0;
    return bad ? write_failed(l, err) : 0;
}

int slm_train_log_baseline(slm_train_log *l, double val_loss, slm_err *err) {
    if (l->lead) printf("step %5d/%d | val %.4f (before training)\n", 0, l->steps, val_loss);
    return write_line(l, 0, NAN, val_loss, 0.0f, NAN, NAN, NAN, err);
}

int slm_train_log_step(slm_train_log *l, const slm_step_report *s, int total, int force, double mean_step_s,
                       double elapsed_s, slm_err *err) {
    if (!l->lead) return 0;
    const double tok_s = l->tokens_per_step / s->time_s;
    char elapsed[32], eta[32], val_text[32] = "";
    slm_format_duration(elapsed, sizeof elapsed, elapsed_s);
    slm_format_duration(eta, sizeof eta, mean_step_s * (total - s->step));
    const int val = !isnan(s->val_loss);
    if (val) snprintf(val_text, sizeof val_text, " | val %.4f", s->val_loss);
    slm_progress_update(&l->prog, force || val,
                        "step %5d/%d | loss %.4f%s | lr %.2e | %8.0f tok/s | elapsed %s | eta %s", s->step, total,
                        s->loss, val_text, s->lr, tok_s, elapsed, eta);
    if (val) slm_progress_break(&l->prog);
    return write_line(l, s->step, s->loss, s->val_loss, s->lr, s->grad_norm, s->time_s, tok_s, err);
}

void slm_train_log_break(slm_train_log *l) {
    if (l->lead) slm_progress_break(&l->prog);
}
