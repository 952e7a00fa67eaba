// step_times.c — step times and their statistics (step_times.h).
#include "train/step_times.h"

#include <math.h>
#include <stdlib.h>

#include "core/err.h"

void slm_step_times_init(slm_step_times *t, int expected_steps, int warmup_steps, int first_step) {
    *t = (slm_step_times){
        .cap = expected_steps > 0 ? expected_steps : 1, .warmup_steps = warmup_steps, .first_step = first_step};
    t->time_s = slm_xcalloc((size_t)t->cap, sizeof(double));
    t->wait_s = slm_xcalloc((size_t)t->cap, sizeof(double));
}

void slm_step_times_free(slm_step_times *t) {
    free(t->time_s);
    free(t->wait_s);
    t->time_s = t->wait_s = NULL;
}

void slm_step_times_add(slm_step_times *t, int step, double time_s, double wait_s) {
    if (t->n == t->cap) {
        t->cap *= 2;
        t->time_s = realloc(t->time_s, (size_t)t->cap * sizeof(double));
        t->wait_s = realloc(t->wait_s, (size_t)t->cap * sizeof(double));
        if (!t->time_s || !t->wait_s) slm_die(SLM_EXIT_FAIL, "out of host memory for step times");
    }
    t->time_s[t->n] = time_s;
    t->wait_s[t->n] = wait_s;
    t->n++;
    t->sum_s += time_s;
    if (step >= t->warmup_steps) t->timed_s += time_s;
}

double slm_step_times_mean_s(const slm_step_times *t) { return t->sum_s / t->n; }

static double percentile(const double *sorted, int n, double q) {
    if (n == 0) return NAN;
    double pos = q * (n - 1);
    int lo = (int)pos;
    int hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void slm_step_times_stats(slm_step_times *t, slm_step_stats *out) {
    int untimed = t->warmup_steps - t->first_step < 0 ? 0 : t->warmup_steps - t->first_step;
    if (untimed >= t->n) untimed = 0;
    const int n_timed = t->n - untimed;
    double wait_sum = 0.0, time_sum = 0.0;
    for (int i = untimed; i < t->n; i++) {
        wait_sum += t->wait_s[i];
        time_sum += t->time_s[i];
    }
    out->comm_frac = time_sum > 0 ? wait_sum / time_sum : 0.0;
    double *timed = t->time_s + untimed;
    qsort(timed, (size_t)n_timed, sizeof(double), cmp_double);
    out->median_s = percentile(timed, n_timed, 0.5);
    out->p10_s = percentile(timed, n_timed, 0.1);
    out->p90_s = percentile(timed, n_timed, 0.9);
}
