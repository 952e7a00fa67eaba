// step_times.h — the time of every optimizer step and of its wait on
// communication, and their statistics: the median and p10/p90 of the step
// time and the share spent waiting, over the timed steps. The warm-up steps
// (--warmup-steps, counted from step 0, so a resumed run past them has none)
// are left out unless the run has no other.
#pragma once

typedef struct {
    double *time_s, *wait_s;  // per step run by this process [n]
    int n, cap;
    int warmup_steps, first_step;
    double sum_s;    // all steps
    double timed_s;  // steps past the warm-up
} slm_step_times;

typedef struct {
    double median_s, p10_s, p90_s;
    double comm_frac;  // waiting on communication / step time, over the timed steps
} slm_step_stats;

void slm_step_times_init(slm_step_times *t, int expected_steps, int warmup_steps, int first_step);
void slm_step_times_free(slm_step_times *t);
void slm_step_times_add(slm_step_times *t, int step, double time_s, double wait_s);
double slm_step_times_mean_s(const slm_step_times *t);
// Sorts the timed steps' times in place.
void slm_step_times_stats(slm_step_times *t, slm_step_stats *out);
