// record.c — writes result records with cJSON; derived figures (tokens per
// device, FLOPs per token, MFU, cost) are computed here, once, from the
// measured ones.
#include "core/record.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/jsonl.h"
#include "slm_version.h"  // generated at build time: SLM_GIT_COMMIT

void slm_record_init(slm_record *r, const slm_run_config *rc, const char *source) {
    memset(r, 0, sizeof *r);
    r->source = source;
    r->status = "ok";
    r->run = *rc;
    r->nodes = 1;
    r->step_time_s = r->step_time_p10_s = r->step_time_p90_s = NAN;
    r->tokens_per_s = r->peak_flops_per_device = NAN;
    r->comm_time_frac = NAN;
    r->price_per_device_hour = NAN;
    r->final_loss = r->val_loss = r->target_loss = NAN;
}

void slm_record_derive(const slm_record *r, slm_record_derived *d) {
    const slm_run_config *rc = &r->run;
    double world = rc->world_size, dollars_per_s = r->price_per_device_hour * world / 3600.0;
    d->tokens_per_s_per_device = r->tokens_per_s / world;
    d->flops_per_token = slm_flops_per_token(&rc->model, rc->seq_len);
    d->mfu = d->flops_per_token * r->tokens_per_s / (world * r->peak_flops_per_device);
    d->tokens_per_dollar = r->tokens_per_s / dollars_per_s;
    d->dollars_per_billion_tokens = 1e9 / r->tokens_per_s * dollars_per_s;
    d->dollars_spent = r->train_tokens ? r->train_tokens / r->tokens_per_s * dollars_per_s : NAN;
    d->loss_per_dollar = (isfinite(r->val_loss) ? r->val_loss : r->final_loss) / d->dollars_spent;
    d->dollars_to_target_loss = r->target_tokens ? r->target_tokens / r->tokens_per_s * dollars_per_s : NAN;
}

// The hash of rc with `backend` and `dtype` as their text.
static void hash_with(const slm_run_config *rc, const char *backend, const char *dtype, char out[17]) {
    const slm_model_config *c = &rc->model;
    const slm_rope_scaling *rs = &c->rope_scaling;
    char text[512], scaling[128] = "";  // RoPE scaling only when on: the hashes of models without it stand
    if (rs->factor)
        snprintf(scaling, sizeof scaling, " llama3 %g %g %g %d", rs->factor, rs->low_freq_factor, rs->high_freq_factor,
                 rs->original_max_pos);
    snprintf(text, sizeof text,
             "L%d C%d H%d KV%d F%d V%d T%d tie%d theta%g%s eps%g | mb%d gb%d ws%d | %s %s%s %s %s | mem%zu",
             c->n_layers, c->d_model, c->n_heads, c->n_kv_heads, c->ffn_dim, c->vocab, rc->seq_len, c->tie_embeddings,
             c->rope_theta, scaling, c->norm_eps, rc->micro_batch, rc->global_batch, rc->world_size,
             slm_attention_names[rc->attention], slm_strategy_names[rc->strategy],
             rc->overlap ? "" : " overlap-off",  // the default keeps older hashes
             backend, dtype, rc->mem_limit);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = text; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void slm_config_hash(const slm_run_config *rc, char out[17]) {
    hash_with(rc, slm_backend_names[rc->backend], slm_dtype_name(rc->dtype), out);
}

void slm_config_hash_any_device(const slm_run_config *rc, char out[17]) { hash_with(rc, "any", "any", out); }

static void num(cJSON *o, const char *key, double v) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void str(cJSON *o, const char *key, const char *v) {
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *to_json(const slm_record *r) {
    const slm_run_config *rc = &r->run;
    const slm_model_config *c = &rc->model;
    cJSON *o = cJSON_CreateObject();
    char hash[17], date[32], host[128] = "unknown", versions[128];
    slm_config_hash(rc, hash);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    gethostname(host, sizeof host - 1);
    snprintf(versions, sizeof versions, "slm %s; cJSON %s", SLM_GIT_COMMIT, cJSON_Version());
    double world = rc->world_size;
    slm_record_derived d;
    slm_record_derive(r, &d);

    num(o, "schema", SLM_RECORD_SCHEMA);
    str(o, "source", r->source);
    if (r->basis[0]) str(o, "prediction_basis", r->basis);
    str(o, "status", r->status);
    str(o, "message", r->message);
    str(o, "config_hash", r->config_hash[0] ? r->config_hash : hash);
    str(o, "model", c->name);
    int64_t params = slm_param_count(c);
    num(o, "params", params >= 0 ? (double)params : NAN);  // null: a shape that could not run
    num(o, "n_layers", c->n_layers);
    num(o, "d_model", c->d_model);
    num(o, "n_heads", c->n_heads);
    num(o, "n_kv_heads", c->n_kv_heads);
    num(o, "ffn_dim", c->ffn_dim);
    num(o, "vocab", c->vocab);
    num(o, "seq_len", rc->seq_len);
    num(o, "micro_batch", rc->micro_batch);
    num(o, "global_batch", rc->global_batch);
    num(o, "grad_accum", slm_grad_accum(rc));
    str(o, "attention", slm_attention_names[rc->attention]);
    str(o, "strategy", slm_strategy_names[rc->strategy]);
    cJSON_AddBoolToObject(o, "overlap", rc->overlap);
    num(o, "world_size", world);
    num(o, "nodes", r->nodes);
    str(o, "backend", slm_backend_names[rc->backend]);
    str(o, "device", r->device);
    str(o, "dtype", slm_dtype_name(rc->dtype));
    num(o, "mem_limit_bytes", rc->mem_limit ? (double)rc->mem_limit : NAN);
    num(o, "step_time_s", r->step_time_s);
    num(o, "step_time_p10_s", r->step_time_p10_s);
    num(o, "step_time_p90_s", r->step_time_p90_s);
    num(o, "tokens_per_s", r->tokens_per_s);
    num(o, "tokens_per_s_per_device", d.tokens_per_s_per_device);
    num(o, "flops_per_token", d.flops_per_token);
    num(o, "peak_flops_per_device", r->peak_flops_per_device);
    str(o, "peak_flops_source", r->peak_flops_source[0] ? r->peak_flops_source : NULL);
    num(o, "mfu", d.mfu);
    num(o, "peak_mem_bytes", r->peak_mem_bytes ? (double)r->peak_mem_bytes : NAN);
    static const char *mem_keys[SLM_MEM_NCAT] = {"mem_params_bytes",      "mem_grads_bytes",     "mem_optimizer_bytes",
                                                 "mem_activations_bytes", "mem_attention_bytes", "mem_comm_bytes",
                                                 "mem_workspace_bytes"};
    for (int i = 0; i < SLM_MEM_NCAT; i++) num(o, mem_keys[i], r->peak_mem_bytes ? (double)r->mem_bytes[i] : NAN);
    num(o, "comm_time_frac", r->comm_time_frac);
    num(o, "price_per_device_hour", r->price_per_device_hour);
    str(o, "price_source", r->price_source[0] ? r->price_source : NULL);
    num(o, "tokens_per_dollar", d.tokens_per_dollar);
    num(o, "dollars_per_billion_tokens", d.dollars_per_billion_tokens);
    num(o, "train_tokens", r->train_tokens ? (double)r->train_tokens : NAN);
    num(o, "final_loss", r->final_loss);
    num(o, "val_loss", r->val_loss);
    num(o, "dollars_spent", d.dollars_spent);
    num(o, "loss_per_dollar", d.loss_per_dollar);
    num(o, "target_loss", r->target_loss);
    num(o, "tokens_to_target_loss", r->target_tokens ? (double)r->target_tokens : NAN);
    num(o, "dollars_to_target_loss", d.dollars_to_target_loss);
    str(o, "git_commit", r->git_commit[0] ? r->git_commit : SLM_GIT_COMMIT);
    str(o, "date", r->date[0] ? r->date : date);
    str(o, "host", r->host[0] ? r->host : host);
    str(o, "versions", r->versions[0] ? r->versions : versions);
    return o;
}

int slm_record_append(const char *path, const slm_record *r, slm_err *err) {
    cJSON *o = to_json(r);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line) return slm_fail(err, "out of memory formatting a result record");
    int ret = slm_jsonl_append(path, line, "the result record", err);
    free(line);
    return ret;
}
