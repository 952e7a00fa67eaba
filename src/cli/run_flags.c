// run_flags.c — the shared run flags and their resolution into slm_run_config.
#include "cli/run_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/path.h"
#include "model/hf_weights.h"
#include "parallel/comm_select.h"
#include "train/init_from.h"

static void add(slm_flag *flags, int *n, slm_flag f) {
    SLM_ASSERT(*n < SLM_RUN_FLAGS_MAX, "more than SLM_RUN_FLAGS_MAX (%d) flags", SLM_RUN_FLAGS_MAX);
    flags[(*n)++] = f;
}

void slm_run_flags_add(slm_flag *flags, int *n, slm_run_config *rc, slm_run_flag_text *t, int which) {
    memset(t, 0, sizeof *t);
    t->model = "small";
    t->attention = slm_attention_names[rc->attention];
    t->strategy = slm_strategy_names[rc->strategy];
    t->overlap = rc->overlap ? "on" : "off";
    t->seed = (int64_t)rc->seed;
    add(flags, n,
        (slm_flag){"--model", FLAG_STR, &t->model,
                   "tiny|small|100m|500m|1b|2b, a JSON model file, or a Hugging Face directory (its config.json) "
                   "[small]",
                   &t->seen_model});
    add(flags, n, (slm_flag){"--n-layers", FLAG_INT, &t->n_layers, "override the model's layers", &t->seen_shape[0]});
    add(flags, n, (slm_flag){"--d-model", FLAG_INT, &t->d_model, "override the width", &t->seen_shape[1]});
    add(flags, n, (slm_flag){"--n-heads", FLAG_INT, &t->n_heads, "override the query heads", &t->seen_shape[2]});
    add(flags, n,
        (slm_flag){"--n-kv-heads", FLAG_INT, &t->n_kv_heads, "override the key/value heads", &t->seen_shape[3]});
    add(flags, n, (slm_flag){"--ffn-dim", FLAG_INT, &t->ffn_dim, "override the SwiGLU width", &t->seen_shape[4]});
    add(flags, n, (slm_flag){"--vocab", FLAG_INT, &t->vocab, "override the vocabulary size", &t->seen_shape[5]});
    add(flags, n,
        (slm_flag){"--max-seq-len", FLAG_INT, &t->max_seq_len, "override the model's maximum sequence length",
                   &t->seen_shape[6]});
    add(flags, n, (slm_flag){"--rope-theta", FLAG_FLOAT, &t->rope_theta, "override RoPE's theta", &t->seen_shape[7]});
    add(flags, n, (slm_flag){"--norm-eps", FLAG_FLOAT, &t->norm_eps, "override RMSNorm's epsilon", &t->seen_shape[8]});
    add(flags, n,
        (slm_flag){"--tie-embeddings", FLAG_BOOL, &t->tie_embeddings, "share the LM head with the embedding",
                   &t->seen_shape[9]});
    add(flags, n,
        (slm_flag){"--seq-len", FLAG_INT, &rc->seq_len, "tokens per sequence [the model's maximum]", &t->seen_seq_len});
    add(flags, n, (slm_flag){"--micro-batch", FLAG_INT, &rc->micro_batch, "sequences per device per micro step [8]"});
    add(flags, n,
        (slm_flag){"--global-batch", FLAG_INT, &rc->global_batch,
                   "sequences per optimizer step (gradient accumulation) [8]"});
    add(flags, n, (slm_flag){"--attention", FLAG_STR, &t->attention, "vanilla|flash [vanilla]"});
    add(flags, n,
        (slm_flag){"--strategy", FLAG_STR, &t->strategy,
                   "single|ddp|fsdp-full|fsdp-grad-op [single]; launch N ranks with mpirun -np N"});
    add(flags, n,
        (slm_flag){"--overlap", FLAG_STR, &t->overlap,
                   "on|off: DDP all-reduces during the backward, FSDP prefetches the next unit [on]"});
    add(flags, n, (slm_flag){"--dtype", FLAG_STR, &t->dtype, "fp32|bf16 [fp32 on cpu, bf16 on cuda]"});
    add(flags, n, (slm_flag){"--backend", FLAG_STR, &t->backend, "cpu|cuda [cuda when a GPU is present, else cpu]"});
    add(flags, n,
        (slm_flag){"--allow-emulated-bf16", FLAG_BOOL, &t->allow_emulated_bf16,
                   "let --dtype bf16 run on a CPU without bf16 instructions (slowly: to check the numerics); "
                   "sets SLM_ALLOW_EMULATED_BF16=1 for the ranks and points it starts"});
    add(flags, n,
        (slm_flag){"--mem-limit", FLAG_BYTES, &rc->mem_limit,
                   "fail as out of memory past this many bytes (K, M, G) [none]"});
    if (!(which & RUN_FLAGS_TRAIN)) return;
    add(flags, n, (slm_flag){"--steps", FLAG_INT, &rc->steps, "optimizer steps [100]"});
    add(flags, n,
        (slm_flag){"--warmup-steps", FLAG_INT, &rc->warmup_steps, "linear warmup steps [10% of steps]",
                   &t->seen_warmup});
    add(flags, n, (slm_flag){"--data", FLAG_STR, &rc->data, "token file (slm tokenize), or synthetic [synthetic]"});
    add(flags, n,
        (slm_flag){"--val-data", FLAG_STR, &rc->val_data, "validation token file [hold out --val-frac of --data]"});
    add(flags, n, (slm_flag){"--val-frac", FLAG_FLOAT, &rc->val_frac, "share of --data held out for validation [0.1]"});
    add(flags, n, (slm_flag){"--seed", FLAG_I64, &t->seed, "seed of initialisation and synthetic data [1337]"});
    add(flags, n, (slm_flag){"--lr", FLAG_FLOAT, &rc->lr, "peak learning rate [1e-3]"});
    add(flags, n,
        (slm_flag){"--min-lr", FLAG_FLOAT, &rc->min_lr, "learning rate at the end of the cosine [lr/10]",
                   &t->seen_min_lr});
    add(flags, n,
        (slm_flag){"--weight-decay", FLAG_FLOAT, &rc->weight_decay,
                   "AdamW decoupled weight decay, matrices only [0.1]"});
    add(flags, n, (slm_flag){"--beta1", FLAG_FLOAT, &rc->beta1, "AdamW beta1 [0.9]"});
    add(flags, n, (slm_flag){"--beta2", FLAG_FLOAT, &rc->beta2, "AdamW beta2 [0.95]"});
    add(flags, n, (slm_flag){"--adam-eps", FLAG_FLOAT, &rc->adam_eps, "AdamW epsilon [1e-8]"});
    add(flags, n,
        (slm_flag){"--grad-clip", FLAG_FLOAT, &rc->grad_clip, "clip the global gradient norm, 0 = off [1.0]"});
    add(flags, n,
        (slm_flag){"--eval-every", FLAG_INT, &rc->eval_every,
                   "validation loss every N steps, 0 = only at the end [50]"});
    add(flags, n, (slm_flag){"--eval-batches", FLAG_INT, &rc->eval_batches, "micro batches per validation [8]"});
    add(flags, n,
        (slm_flag){"--log-every", FLAG_INT, &rc->log_every, "progress line every N steps when not on a terminal [10]"});
    add(flags, n, (slm_flag){"--log-file", FLAG_STR, &rc->log_file, "per-step metrics as JSON Lines"});
    add(flags, n,
        (slm_flag){"--save", FLAG_STR, &rc->save, "checkpoint file, written at the end (and every --save-every)"});
    add(flags, n,
        (slm_flag){"--save-every", FLAG_INT, &rc->save_every, "checkpoint every N steps, 0 = only at the end [0]"});
    add(flags, n,
        (slm_flag){"--resume", FLAG_STR, &rc->resume, "continue from this checkpoint (same model and batch)"});
    add(flags, n,
        (slm_flag){"--init-from", FLAG_STR, &rc->init_from,
                   "start from these weights at step 0 with a fresh optimizer: a Hugging Face directory, "
                   "FILE.safetensors (config.json beside it) or an slm checkpoint; the model is theirs, shape flags "
                   "override what the tensors allow (docs/hf.md)"});
    add(flags, n,
        (slm_flag){"--run-steps", FLAG_INT, &rc->run_steps,
                   "stop this process after N steps, checkpointing (time-limited jobs); --resume goes on"});
    add(flags, n, (slm_flag){"--out", FLAG_STR, &rc->out, "append the run's result record (JSON Lines)"});
}

static int lookup(const char *flag, const char *value, const char *const *names, int n, slm_err *err) {
    for (int i = 0; i < n; i++)
        if (!strcmp(value, names[i])) return i;
    char expected[128] = "";
    for (int i = 0; i < n; i++) {
        strncat(expected, names[i], sizeof expected - strlen(expected) - 1);
        if (i + 1 < n) strncat(expected, "|", sizeof expected - strlen(expected) - 1);
    }
    return slm_fail(err, "%s: unknown value '%s' (expected %s)", flag, value, expected);
}

// The model before the shape flags: --init-from's source's, a Hugging Face
// directory's config.json, a JSON model file over the small preset, or a preset.
static int resolve_model(slm_run_config *rc, const slm_run_flag_text *t, slm_err *err) {
    size_t len = strlen(t->model);
    slm_err why;
    if (rc->init_from && t->seen_model)
        return slm_fail(err, "--init-from takes the model from %s; leave out --model (shape flags override it)",
                        rc->init_from);
    if (rc->init_from && rc->resume)
        return slm_fail(err, "--init-from starts a new run and --resume continues one: give one of them");
    if (rc->init_from) {
        if (slm_source_config(rc->init_from, &rc->model, &why)) return slm_fail(err, "--init-from: %s", why.msg);
    } else if (slm_is_dir(t->model)) {
        if (slm_hf_config_of(t->model, &rc->model, &why)) return slm_fail(err, "--model: %s", why.msg);
    } else if (len > 5 && !strcmp(t->model + len - 5, ".json")) {
        slm_preset("small", &rc->model, NULL);  // fields the file leaves out
        snprintf(rc->model.name, sizeof rc->model.name, "custom");
        if (slm_model_config_read_json(t->model, &rc->model, err)) return -1;
    } else if (slm_preset(t->model, &rc->model, &why)) {
        return slm_fail(err, "--model: %s", why.msg);
    }
    return 0;
}

int slm_run_flags_resolve(slm_run_config *rc, slm_run_flag_text *t, slm_err *err) {
    if (resolve_model(rc, t, err)) return -1;
    int *shape[] = {&rc->model.n_layers, &rc->model.d_model, &rc->model.n_heads, &rc->model.n_kv_heads,
                    &rc->model.ffn_dim,  &rc->model.vocab,   &rc->model.seq_len};
    int given[] = {t->n_layers, t->d_model, t->n_heads, t->n_kv_heads, t->ffn_dim, t->vocab, t->max_seq_len};
    int custom = 0;
    for (int i = 0; i < 7; i++)
        if (t->seen_shape[i]) *shape[i] = given[i], custom = 1;
    if (t->seen_shape[7]) rc->model.rope_theta = t->rope_theta, custom = 1;
    if (t->seen_shape[8]) rc->model.norm_eps = t->norm_eps, custom = 1;
    if (t->seen_shape[9]) rc->model.tie_embeddings = 1, custom = 1;
    if (t->seen_shape[2] && !t->seen_shape[3]) rc->model.n_kv_heads = rc->model.n_heads;
    if (custom) snprintf(rc->model.name, sizeof rc->model.name, "custom");
    if (!t->seen_seq_len) rc->seq_len = rc->model.seq_len;
    int attention = lookup("--attention", t->attention, slm_attention_names, 2, err);
    int strategy = lookup("--strategy", t->strategy, slm_strategy_names, 4, err);
    static const char *const on_off[2] = {"off", "on"};
    int overlap = lookup("--overlap", t->overlap, on_off, 2, err);
    if (attention < 0 || strategy < 0 || overlap < 0) return -1;
    rc->overlap = overlap;
    rc->attention = (slm_attention)attention;
    rc->strategy = (slm_strategy_kind)strategy;
    if (t->allow_emulated_bf16) setenv("SLM_ALLOW_EMULATED_BF16", "1", 1);  // read by slm_cpu_bf16_refusal
    if (t->seed < 0) return slm_fail(err, "--seed must be >= 0 (got %lld)", (long long)t->seed);
    rc->seed = (uint64_t)t->seed;
    if (slm_run_flags_backend(t, &rc->backend, err)) return -1;
    rc->dtype = slm_backend_default_dtype(rc->backend);
    if (t->dtype && (slm_dtype_parse(t->dtype, &rc->dtype) || rc->dtype == SLM_F64))  // fp64 is no compute dtype
        return slm_fail(err, "--dtype %s is not a dtype (expected fp32 or bf16)", t->dtype);
    if (t->seen_warmup && rc->warmup_steps < 0)
        return slm_fail(err, "--warmup-steps must be >= 0 (got %d)", rc->warmup_steps);
    if (t->seen_min_lr && rc->min_lr < 0) return slm_fail(err, "--min-lr must be >= 0 (got %g)", rc->min_lr);
    if (rc->warmup_steps < 0) rc->warmup_steps = rc->steps / 10;
    if (rc->min_lr < 0) rc->min_lr = rc->lr / 10;
    return 0;
}

int slm_run_flags_backend(const slm_run_flag_text *t, slm_backend_kind *out, slm_err *err) {
    if (!t->backend) {
        *out = slm_backend_default();
        return 0;
    }
    if (slm_backend_kind_parse(t->backend, out))
        return slm_fail(err, "--backend %s is not a backend (expected cpu or cuda)", t->backend);
    return 0;
}

int slm_run_flags_validate(const slm_run_config *rc, slm_err *err) {
    if (slm_run_config_validate(rc, err)) return -1;
    return slm_backend_check(rc->backend, rc->dtype, rc->attention, &rc->model, err);
}

void slm_run_flags_finish(slm_run_config *rc, slm_run_flag_text *t) {
    slm_err err;
    slm_backend_kind backend;
    if (slm_run_flags_backend(t, &backend, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    rc->world_size = slm_comm_world_for_backend(backend);
    if (slm_run_flags_resolve(rc, t, &err) || slm_run_flags_validate(rc, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
}
