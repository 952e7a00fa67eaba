// train_log.c — the progress line and the per-step log (train_log.h).
#include "train/train_log.h"

#include <math.h>

int slm_train_log_open(slm_train_log *l, const slm_run_config *rc, int lead, int start, slm_err *err) {
    *l = (slm_train_log){.lead = lead, .tokens_per_step = (double)rc->global_batch * rc->seq_len, .steps = rc->steps};
    slm_progress_init(&l->prog, rc->log_every);
    if (lead && rc->log_file && !(l->file = fopen(rc->log_file, start ? "a" : "w")))
        return slm_fail(err, "cannot write --log-file %s", rc->log_file);
    return 0;
}

void slm_train_log_close(slm_train_log *l) {
    if (l->file) fclose(l->file);
    l->file = NULL;
}

static void json_field(FILE *f, const char *key, double v, const char *fmt) {
    if (isnan(v)) return;
    fprintf(f, ",\"%s\":", key);
    fprintf(f, fmt, v);
}

// One line of --log-file; a figure that is NAN is left out.
static void write_line(FILE *f, int step, double loss, double val_loss, float lr, float norm, double dt, double tok_s) {
    if (!f) return;
    fprintf(f, "{\"step\":%d", step);
    json_field(f, "loss", loss, "%.9g");
    json_field(f, "val_loss", val_loss, "%.9g");
    if (step > 0) json_field(f, "lr", lr, "%.9g");
    json_field(f, "grad_norm", norm, "%.9g");
    json_field(f, "step_time_s", dt, "%.6f");
    json_field(f, "tokens_per_s", tok_s, "%.1f");
    fputs("}\n", f);
    fflush(f);
}

void slm_train_log_baseline(slm_train_log *l, double val_loss) {
    if (l->lead) printf("step %5d/%d | val %.4f (before training)\n", 0, l->steps, val_loss);
    write_line(l->file, 0, NAN, val_loss, 0.0f, NAN, NAN, NAN);
}

void slm_train_log_step(slm_train_log *l, const slm_step_report *s, int total, int force, double mean_step_s,
                        double elapsed_s) {
    if (!l->lead) return;
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
    write_line(l->file, s->step, s->loss, s->val_loss, s->lr, s->grad_norm, s->time_s, tok_s);
}

void slm_train_log_break(slm_train_log *l) {
    if (l->lead) slm_progress_break(&l->prog);
}
