// cmd_train.c — `slm train`: parse and validate the run flags, train, print the
// summary, and append the result record when --out is given.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "core/err.h"
#include "core/record.h"
#include "measure/result.h"
#include "parallel/comm_select.h"
#include "train/trainer.h"

static void print_summary(const slm_run_config *rc, const slm_train_result *r) {
    printf("\n%s: %d steps of %d sequences x %d tokens (micro batch %d, gradient accumulation %d), %s attention\n",
           rc->model.name, r->steps_done, rc->global_batch, rc->seq_len, rc->micro_batch, slm_grad_accum(rc),
           slm_attention_names[rc->attention]);
    printf("  loss          %.4f (train, last step)", r->final_loss);
    if (!isnan(r->val_loss)) printf("   %.4f (validation)", r->val_loss);
    printf("\n  step time     %.3f s median (p10 %.3f, p90 %.3f)\n", r->step_time_s, r->step_time_p10_s,
           r->step_time_p90_s);
    printf("  throughput    %.0f tokens/s on %s\n", r->tokens_per_s, r->device);
    slm_record rec;
    slm_record_derived d;
    slm_record_from_train(&rec, rc, r);
    slm_record_derive(&rec, &d);
    if (isfinite(d.mfu)) {  // against the peak `slm peak` cached, or (cuda) the GPU's datasheet peak
        printf("  MFU           %.1f%% of the %.1f GFLOP/s %s peak ", 100 * d.mfu, rec.peak_flops_per_device / 1e9,
               slm_dtype_name(rc->dtype));
        if (!strncmp(rec.peak_flops_source, "slm peak:", 9))
            printf("measured by `slm peak`\n");
        else
            printf("(%s)\n", rec.peak_flops_source);
    } else {
        printf("  MFU           unknown: no %s peak cached for %s (run `slm peak`)\n", slm_dtype_name(rc->dtype),
               r->device);
    }
    printf("  wall time     %.1f s for %lld tokens\n", r->elapsed_s, r->train_tokens);
    printf("  peak memory   %.1f MiB:", r->mem.peak_total / 1048576.0);
    for (int c = 0; c < SLM_MEM_NCAT; c++)
        if (r->mem.at_peak[c]) printf(" %s %.1f", slm_mem_cat_names[c], r->mem.at_peak[c] / 1048576.0);
    printf("%s\n", r->world_size > 1 ? " (the rank with the largest peak)" : "");
    if (r->device_peak_bytes)
        printf(
            "  GPU in use    %.1f MiB at its peak (cudaMemGetInfo%s: the above plus the CUDA context, cuBLASLt's\n"
            "                workspace and the ops' scratch)\n",
            r->device_peak_bytes / 1048576.0, r->world_size > 1 ? ", rank 0" : "");
    slm_print_ranks(stdout, r);
}

int slm_cmd_train(int argc, char **argv) {
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    slm_run_flag_text text;
    slm_flag flags[SLM_RUN_FLAGS_MAX];
    int n = 0;
    slm_run_flags_add(flags, &n, &rc, &text, RUN_FLAGS_MODEL | RUN_FLAGS_TRAIN);
    slm_flags_parse(
        flags, n, argc, argv, "slm train [flags]",
        "Trains a LLaMA-style model on the CPU (fp32) or a GPU (--backend cuda: bf16 compute, fp32\n"
        "master weights and optimizer state; the default when a GPU is present): micro batches\n"
        "accumulated to the global batch, AdamW with warmup and cosine decay, validation loss every\n"
        "--eval-every steps, checkpoints (--save) that --resume continues bitwise identically.\n"
        "Data-parallel: mpirun -np N slm train --strategy ddp|fsdp-full|fsdp-grad-op ... (docs/distributed.md).\n"
        "example: slm train --model small --data corpus.tok --steps 200 --save small.ckpt");
    slm_run_flags_finish(&rc, &text);

    slm_train_result res;
    if (!slm_train_for_result(&rc, &res)) return res.status == SLM_STATUS_OK ? SLM_EXIT_OK : SLM_EXIT_FAIL;
    if (res.status != SLM_STATUS_OK) {
        fprintf(stderr, "slm: %s\n", res.message);
    } else {
        print_summary(&rc, &res);
    }
    if (rc.out) {
        slm_record rec;
        slm_record_from_train(&rec, &rc, &res);
        slm_err err;
        if (slm_record_append(rc.out, &rec, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
        if (res.status == SLM_STATUS_OK) printf("  record        appended to %s\n", rc.out);
    }
    return res.status == SLM_STATUS_OK ? SLM_EXIT_OK : SLM_EXIT_FAIL;
}
