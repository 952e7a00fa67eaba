// cmd_bench.c — `slm bench`: measures one configuration as docs/benchmarks.md says
// (warm-up steps not counted, then at least --min-steps steps and --min-time
// seconds; median, p10, p90), prices it, and appends one result record.
// With --train-tokens it is a loss run instead: train on real text for that
// many tokens and record the validation loss, the dollars and loss per dollar.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/bench_flags.h"
#include "cli/commands.h"
#include "core/err.h"
#include "core/record.h"
#include "measure/hardware.h"
#include "measure/prices.h"
#include "measure/result.h"
#include "parallel/comm_select.h"
#include "train/trainer.h"

// The prices-file entry a GPU is priced by: the hardware catalog's entry that
// matches its name (data/hardware.json); NULL when the catalog or the entry is missing.
static const char *gpu_price_entry(const char *gpu_name, char *out, size_t len) {
    const char *path = slm_hw_default_path();
    slm_hw_catalog cat;
    slm_err err;
    if (!path || slm_hw_load(path, &cat, &err)) return NULL;
    const slm_hw *hw = slm_hw_match(&cat, gpu_name);
    if (hw) snprintf(out, len, "%s", hw->price);
    slm_hw_free(&cat);
    return hw ? out : NULL;
}

// The device-hour price: --price, else the prices file's entry for the device
// type: --device-type, or on cuda the GPU's entry (gpu_name: the device the
// run used), or "cpu"; a CPU rank has its host's vCPUs shared by the ranks on
// that host.
static void resolve_price(const slm_bench_options *bf, const slm_run_config *rc, int nodes, const char *gpu_name,
                          slm_price *out) {
    out->usd_per_device_hour = NAN;
    out->source[0] = 0;
    if (bf->seen_price) {
        out->usd_per_device_hour = bf->price;
        snprintf(out->source, sizeof out->source, "--price %g", bf->price);
        return;
    }
    const char *path = bf->prices ? bf->prices : slm_prices_default_path();
    if (!path) {
        if (slm_comm_run()->rank == 0)
            printf("note: no data/prices.json here and no --price: tokens per dollar stay unknown (null)\n");
        return;
    }
    char entry[32];
    const char *device = bf->device_type                   ? bf->device_type
                         : rc->backend != SLM_BACKEND_CUDA ? "cpu"
                                                           : gpu_price_entry(gpu_name, entry, sizeof entry);
    if (!device) {
        if (slm_comm_run()->rank == 0)
            printf("note: %s is not in data/hardware.json: give --device-type or --price for tokens per dollar\n",
                   gpu_name);
        return;
    }
    double vcpus_per_rank = (double)sysconf(_SC_NPROCESSORS_ONLN) * nodes / rc->world_size;
    slm_err err;
    if (slm_price_lookup(path, device, vcpus_per_rank, out, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
}

// Tokens trained when the validation loss first reached target, from the
// per-step log the trainer wrote; 0 when it never did.
static long long tokens_to_target(const char *log_path, double target, double tokens_per_step) {
    FILE *f = fopen(log_path, "r");
    if (!f) return 0;
    char line[1024];
    long long tokens = 0;
    while (!tokens && fgets(line, sizeof line, f)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "val_loss");
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(o, "step");
        if (cJSON_IsNumber(val) && cJSON_IsNumber(step) && val->valuedouble <= target && step->valueint > 0)
            tokens = (long long)(step->valueint * tokens_per_step);
        cJSON_Delete(o);
    }
    fclose(f);
    return tokens;
}

static void print_summary(const slm_record *r, int warmup, const slm_train_result *res) {
    const slm_run_config *rc = &r->run;
    slm_record_derived d;
    slm_record_derive(r, &d);
    printf("\nbench %s: %s attention, %s x %d, micro batch %d, global batch %d, seq %d, %s on %s\n", rc->model.name,
           slm_attention_names[rc->attention], slm_strategy_names[rc->strategy], rc->world_size, rc->micro_batch,
           rc->global_batch, rc->seq_len, slm_dtype_name(rc->dtype), r->device);
    printf("  step time     %.4f s median (p10 %.4f, p90 %.4f) over %d steps after %d warm-up\n", r->step_time_s,
           r->step_time_p10_s, r->step_time_p90_s, res->steps_done - warmup, warmup);
    printf("  throughput    %.0f tokens/s (%.0f per device); %.3g FLOPs/token", r->tokens_per_s,
           d.tokens_per_s_per_device, d.flops_per_token);
    if (isfinite(d.mfu)) printf(", MFU %.1f%%", 100 * d.mfu);
    if (d.mfu > 1)  // no run beats the peak: the cached figure was measured while something else ran
        printf(
            "\n  warning       MFU above 100%%: the reference peak (%.1f GFLOP/s, %s) is below this run's %.1f "
            "GFLOP/s per device; measure it again on a quiet machine: slm peak",
            r->peak_flops_per_device / 1e9, r->peak_flops_source, d.flops_per_token * d.tokens_per_s_per_device / 1e9);
    printf("\n  peak memory   %.1f MiB:", r->peak_mem_bytes / 1048576.0);
    for (int c = 0; c < SLM_MEM_NCAT; c++)
        if (r->mem_bytes[c]) printf(" %s %.1f", slm_mem_cat_names[c], r->mem_bytes[c] / 1048576.0);
    printf("\n");
    if (isfinite(r->price_per_device_hour))
        printf("  cost          $%.4g per device-hour: %.4g tokens/$, $%.4g per billion tokens\n",
               r->price_per_device_hour, d.tokens_per_dollar, d.dollars_per_billion_tokens);
    if (r->train_tokens) {
        printf("  loss          %.4f validation after %lld tokens ($%.4g): %.4g loss per dollar\n", r->val_loss,
               r->train_tokens, d.dollars_spent, d.loss_per_dollar);
        if (isfinite(r->target_loss))
            printf("  target        loss %.4f %s\n", r->target_loss,
                   r->target_tokens ? "reached" : "not reached within --train-tokens");
        if (r->target_tokens)
            printf("                after %lld tokens, $%.4g\n", r->target_tokens, d.dollars_to_target_loss);
    }
}

// The flags into rc and bf, resolved and validated for this job's world size; with --target-loss and no
// --log-file, the loss curve goes to log_path (len bytes: a file under /tmp) to find where it crossed the target.
static void parse_config(int argc, char **argv, slm_run_config *rc, slm_bench_options *bf, char *log_path, size_t len) {
    slm_run_config_defaults(rc);
    slm_run_flag_text text;
    slm_flag flags[SLM_BENCH_FLAGS_MAX];
    int n = slm_bench_flags(flags, rc, &text, bf);
    slm_flags_parse(flags, n, argc, argv, "slm bench [flags]",
                    "Measures one configuration (docs/benchmarks.md): --warmup-steps steps [3] untimed, then at least\n"
                    "--min-steps steps and --min-time seconds; median step time with p10/p90, tokens/s, peak memory\n"
                    "by category, tokens per dollar. Appends one result record to --out (JSON Lines).\n"
                    "examples: slm bench --model small --attention flash --micro-batch 8 --out results.jsonl\n"
                    "          slm bench --model tiny --data train.tok --train-tokens 2000000 --target-loss 4.5");
    slm_err err;
    slm_backend_kind backend;
    if (slm_run_flags_backend(&text, &backend, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    rc->world_size = slm_comm_world_for_backend(backend);
    if (slm_bench_resolve(rc, &text, bf, &err) || slm_run_flags_validate(rc, &err))
        slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    if (bf->seen_target && !rc->log_file) {  // the loss curve, to find where it crossed the target
        snprintf(log_path, len, "/tmp/slm-bench-log.%ld.jsonl", (long)getpid());
        rc->log_file = log_path;
    }
}

// The losses of the record: none from a throughput run, else with --target-loss the tokens it took to reach it
// (read from the run's log, then the temporary log_path, when there is one, removed).
static void record_losses(slm_record *rec, const slm_run_config *rc, const slm_bench_options *bf,
                          const char *log_path) {
    const double step_tokens = (double)rc->global_batch * rc->seq_len;
    if (!bf->train_tokens) {  // a throughput run on any data: its losses say nothing
        rec->train_tokens = 0;
        rec->final_loss = rec->val_loss = NAN;
    } else if (bf->seen_target) {
        rec->target_loss = bf->target_loss;
        rec->target_tokens = tokens_to_target(rc->log_file, bf->target_loss, step_tokens);
        if (log_path[0]) remove(log_path);
    }
}

// Says how the run went (its summary, or its error on stderr) and appends its record to --out.
static void report(const slm_record *rec, const slm_run_config *rc, const slm_train_result *res) {
    if (res->status != SLM_STATUS_OK) {
        fprintf(stderr, "slm: %s\n", res->message);
    } else {
        print_summary(rec, rc->warmup_steps < res->steps_done ? rc->warmup_steps : 0, res);
        slm_print_ranks(stdout, res);
    }
    if (rc->out) {
        slm_err err;
        if (slm_record_append(rc->out, rec, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
        if (res->status == SLM_STATUS_OK) printf("  record        appended to %s\n", rc->out);
    }
}

int slm_cmd_bench(int argc, char **argv) {
    slm_run_config rc;
    slm_bench_options bf;
    char log_path[64] = "";
    parse_config(argc, argv, &rc, &bf, log_path, sizeof log_path);

    slm_price price = {.usd_per_device_hour = NAN};
    // a bad prices file stops the bench before it runs; on cuda the GPU is known once the run has opened it
    const int gpu_priced_after = rc.backend == SLM_BACKEND_CUDA && !bf.device_type && !bf.seen_price;
    if (!gpu_priced_after) resolve_price(&bf, &rc, 1, NULL, &price);
    slm_train_result res;
    if (!slm_train_for_result(&rc, &res)) return res.status == SLM_STATUS_OK ? SLM_EXIT_OK : SLM_EXIT_FAIL;
    slm_record rec;
    slm_record_from_train(&rec, &rc, &res);
    if (res.status != SLM_STATUS_ERROR && (res.nodes > 1 || gpu_priced_after))
        resolve_price(&bf, &rc, res.nodes, res.device, &price);
    if (res.status == SLM_STATUS_OK) snprintf(rec.message, sizeof rec.message, "benchmarked");
    rec.price_per_device_hour = price.usd_per_device_hour;
    snprintf(rec.price_source, sizeof rec.price_source, "%s", price.source);
    record_losses(&rec, &rc, &bf, log_path);
    report(&rec, &rc, &res);
    return res.status == SLM_STATUS_OK ? SLM_EXIT_OK : SLM_EXIT_FAIL;
}
