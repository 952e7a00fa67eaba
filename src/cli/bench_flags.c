#include "cli/bench_flags.h"

#include <limits.h>
#include <math.h>
#include <string.h>

// The run flags a benchmark does not take: it decides the steps itself and keeps no checkpoint.
static int bench_takes(const char *name) {
    static const char *const not_taken[] = {"--steps", "--save", "--save-every", "--resume", "--run-steps"};
    for (size_t i = 0; i < sizeof not_taken / sizeof not_taken[0]; i++)
        if (!strcmp(name, not_taken[i])) return 0;
    return 1;
}

int slm_bench_flags(slm_flag *flags, slm_run_config *rc, slm_run_flag_text *t, slm_bench_options *o) {
    rc->warmup_steps = 3;
    rc->eval_every = 0;
    rc->eval_batches = 2;
    *o = (slm_bench_options){.min_steps = 10, .min_time_s = 10.0f};
    slm_flag all[SLM_RUN_FLAGS_MAX];
    int n_all = 0, n = 0;
    slm_run_flags_add(all, &n_all, rc, t, RUN_FLAGS_MODEL | RUN_FLAGS_TRAIN);
    for (int i = 0; i < n_all; i++)
        if (bench_takes(all[i].name)) flags[n++] = all[i];
    for (int i = 0; i < n; i++)  // here the warm-up is also the untimed steps
        if (!strcmp(flags[i].name, "--warmup-steps"))
            flags[i].help = "warm-up steps, not timed (also the learning rate's linear warmup) [3]";
    flags[n++] = (slm_flag){"--min-steps", FLAG_INT, &o->min_steps, "timed steps at least, after the warm-up [10]"};
    flags[n++] = (slm_flag){"--min-time", FLAG_FLOAT, &o->min_time_s, "timed seconds at least [10]"};
    flags[n++] =
        (slm_flag){"--price", FLAG_FLOAT, &o->price, "USD per device-hour [from the prices file]", &o->seen_price};
    flags[n++] = (slm_flag){"--prices", FLAG_STR, &o->prices, "prices file [data/prices.json]"};
    flags[n++] = (slm_flag){"--device-type", FLAG_STR, &o->device_type,
                            "entry of the prices file: A100-40GB|A100-80GB|H100-80GB|H200|cpu [the backend's]"};
    flags[n++] = (slm_flag){"--train-tokens", FLAG_I64, &o->train_tokens,
                            "loss run: train on --data for this many tokens, record loss per dollar"};
    flags[n++] = (slm_flag){"--target-loss", FLAG_FLOAT, &o->target_loss,
                            "with --train-tokens: record the dollars to reach this validation loss", &o->seen_target};
    return n;
}

int slm_bench_resolve(slm_run_config *rc, slm_run_flag_text *t, slm_bench_options *o, slm_err *err) {
    if (o->min_steps < 1) return slm_fail(err, "--min-steps must be positive (got %d)", o->min_steps);
    if (!(o->min_time_s >= 0)) return slm_fail(err, "--min-time must be >= 0 (got %g)", o->min_time_s);
    if (o->seen_price && !(o->price > 0)) return slm_fail(err, "--price must be positive (got %g)", o->price);
    if (o->seen_target && !o->train_tokens) return slm_fail(err, "--target-loss needs --train-tokens");
    if (o->train_tokens < 0) return slm_fail(err, "--train-tokens must be positive");
    if (o->train_tokens && !strcmp(rc->data, "synthetic"))
        return slm_fail(err, "--train-tokens trains on real text: give --data FILE (made by slm tokenize)");
    if (rc->warmup_steps < 0) return slm_fail(err, "--warmup-steps must be >= 0");
    if ((int64_t)rc->warmup_steps + o->min_steps > INT_MAX)
        return slm_fail(err, "--warmup-steps %d and --min-steps %d make more than %d steps", rc->warmup_steps,
                        o->min_steps, INT_MAX);
    if (slm_run_flags_resolve(rc, t, err)) return -1;
    rc->steps = rc->warmup_steps + o->min_steps;
    rc->min_time_s = o->min_time_s;
    if (o->train_tokens) {  // the steps follow from the token budget, whatever time they take
        double step_tokens = (double)rc->global_batch * rc->seq_len;
        double steps = ceil((double)o->train_tokens / step_tokens);
        if (steps > 1e9) return slm_fail(err, "--train-tokens %lld is too many steps", (long long)o->train_tokens);
        rc->steps = (int)steps;
        rc->min_time_s = 0;
        if (rc->warmup_steps >= rc->steps)
            return slm_fail(err, "--train-tokens %lld is %d steps, not more than --warmup-steps %d",
                            (long long)o->train_tokens, rc->steps, rc->warmup_steps);
        if (!rc->eval_every) rc->eval_every = rc->steps / 20 > 0 ? rc->steps / 20 : 1;
    }
    return 0;
}
