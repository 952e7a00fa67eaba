// test_nccl_strategies.c — the four strategies through the trainer on the
// cuda backend, with the `nccl` communicator at world size 1: `ddp`,
// `fsdp-full` and `fsdp-grad-op` against `single`, under vanilla and flash
// attention; and first the same on the cpu backend (fp32, the `single`
// communicator, vanilla), which runs everywhere and checks the comparison
// itself. Model: `tiny` with 2 heads of 64 (so flash runs) and 1 kv head;
// seq 64, micro batch 4 = global batch, 5 steps of synthetic data, gradient
// clipping off, then a checkpoint of each run.
// What is expected, and why: at world size 1 every collective is a copy (a
// sum or mean over one rank, a gather or scatter of one block), an FSDP
// shard is the whole unit, and both backends are deterministic (the CUDA
// one: test_cuda_model, two runs bitwise identical), so no strategy reorders
// a reduction and all four give the same numbers. On the CPU that holds
// (measured here: losses and checkpoints identical). Checked: each step's loss
// within 2^-8 (bf16's unit roundoff) of single's, relative, and the final
// fp32 parameters and AdamW moments in the checkpoint bitwise equal to
// single's (clipping is off: the global norm's sum over an FSDP layout with
// padding may round differently, and with clipping on that would reach the
// update).
// The cuda part is skipped, after printing why, without a GPU. Slow: the cpu
// part trains 4 runs.
// label: gpu
// label: slow
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/run_config.h"
#include "testutil.h"
#include "train/trainer.h"

enum { STEPS = 5, HEADER_BYTES = 256 };  // checkpoint.h: the shard file's header

typedef struct {
    double loss[STEPS];
    int n_loss;
    unsigned char *ckpt;  // the payload after the header: parameters, m, v (fp32)
    size_t ckpt_bytes;
} run_out;

static void read_losses(const char *path, run_out *o) {
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "\"loss\":");
        if (p && o->n_loss < STEPS) o->loss[o->n_loss++] = strtod(p + 7, NULL);
    }
    if (f) fclose(f);
}

static void read_payload(const char *path, run_out *o) {
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (size > HEADER_BYTES) {
        o->ckpt_bytes = (size_t)size - HEADER_BYTES;
        o->ckpt = malloc(o->ckpt_bytes);
        fseek(f, HEADER_BYTES, SEEK_SET);
        if (fread(o->ckpt, 1, o->ckpt_bytes, f) != o->ckpt_bytes) o->ckpt_bytes = 0;
    }
    fclose(f);
}

static int train(const char *backend, slm_strategy_kind strategy, slm_attention attention, run_out *o) {
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    slm_err err;
    if (slm_preset("tiny", &rc.model, &err)) return -1;
    snprintf(rc.model.name, sizeof rc.model.name, "custom");
    rc.model.n_heads = 2;  // head dim 128 / 2 = 64
    rc.model.n_kv_heads = 1;
    rc.seq_len = 64;
    rc.micro_batch = rc.global_batch = 4;
    rc.world_size = 1;
    rc.attention = attention;
    rc.strategy = strategy;
    if (slm_backend_kind_parse(backend, &rc.backend)) return -1;
    rc.dtype = slm_backend_default_dtype(rc.backend);
    rc.steps = STEPS;
    rc.warmup_steps = 0;
    rc.min_lr = rc.lr / 10;  // the defaults leave it to the flags (-1: unset)
    rc.data = "synthetic";
    rc.grad_clip = 0.0f;
    rc.log_every = 1;
    rc.eval_batches = 1;
    char log_name[64], ckpt_name[64];
    snprintf(log_name, sizeof log_name, "%s-%s-%s.jsonl", backend, slm_strategy_names[strategy],
             slm_attention_names[attention]);
    snprintf(ckpt_name, sizeof ckpt_name, "%s-%s-%s.ckpt", backend, slm_strategy_names[strategy],
             slm_attention_names[attention]);
    char log_path[512], ckpt_path[512];
    snprintf(log_path, sizeof log_path, "%s", t_tmp_path(log_name));
    snprintf(ckpt_path, sizeof ckpt_path, "%s", t_tmp_path(ckpt_name));
    rc.log_file = log_path;
    rc.save = ckpt_path;
    slm_train_result res;
    if (slm_run_config_validate(&rc, &err) || slm_backend_check(rc.backend, rc.dtype, rc.attention, &rc.model, &err) ||
        slm_train(&rc, &res, &err)) {
        printf("%s/%s: %s\n", slm_strategy_names[strategy], slm_attention_names[attention], err.msg);
        return -1;
    }
    if (res.status != SLM_STATUS_OK) {
        printf("%s/%s: %s\n", slm_strategy_names[strategy], slm_attention_names[attention], res.message);
        return -1;
    }
    read_losses(log_path, o);
    read_payload(ckpt_path, o);
    return 0;
}

// The four strategies on `backend` under `att`, against single.
static void compare(const char *backend, slm_attention att) {
    const double tol = ldexp(1.0, -8);
    const char *comm = strcmp(backend, "cuda") ? "single" : "nccl";
    run_out ref = {0};
    int bad = train(backend, SLM_STRATEGY_SINGLE, att, &ref);
    t_check(!bad && ref.n_loss == STEPS && ref.ckpt_bytes > 0,
            "single/%s on %s: %d steps logged, a checkpoint of %zu bytes after its header", slm_attention_names[att],
            backend, ref.n_loss, ref.ckpt_bytes);
    if (bad) return;
    for (int s = SLM_STRATEGY_DDP; s <= SLM_STRATEGY_FSDP_GRAD_OP; s++) {
        run_out o = {0};
        bad = train(backend, (slm_strategy_kind)s, att, &o);
        const char *name = slm_strategy_names[s];
        t_check(!bad && o.n_loss == STEPS, "%s/%s on %s with %s at world size 1: %d steps logged", name,
                slm_attention_names[att], backend, comm, o.n_loss);
        double worst = 0.0;
        for (int i = 0; i < o.n_loss && i < ref.n_loss; i++) {
            double rel = fabs(o.loss[i] - ref.loss[i]) / fabs(ref.loss[i]);
            if (rel > worst) worst = rel;
        }
        t_check(o.n_loss == STEPS && worst <= tol,
                "%s/%s on %s: every loss within 2^-8 of single's (worst %.3g; step 1 %.6f vs %.6f)", name,
                slm_attention_names[att], backend, worst, o.loss[0], ref.loss[0]);
        t_check(o.ckpt_bytes == ref.ckpt_bytes && o.ckpt && !memcmp(o.ckpt, ref.ckpt, ref.ckpt_bytes),
                "%s/%s on %s: final fp32 parameters, m and v bitwise equal to single's (%zu bytes)", name,
                slm_attention_names[att], backend, o.ckpt_bytes);
        free(o.ckpt);
    }
    free(ref.ckpt);
}

int main(void) {
    compare("cpu", SLM_ATTN_VANILLA);
    if (slm_cuda_devices() == 0) {
        printf("skipped: no GPU (the cuda part)\n");
    } else {
        compare("cuda", SLM_ATTN_VANILLA);
        compare("cuda", SLM_ATTN_FLASH);
    }
    return t_finish("test_nccl_strategies");
}
