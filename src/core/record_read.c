// record_read.c — reads a result record back from its JSON line, for sweep
// (which points are done) and report. Strict: every field the writer writes
// must be there, null or of its type, so a damaged or foreign line is an
// error naming the field, never a record with silent holes. Derived figures
// (tokens per dollar, MFU, …) are not read: slm_record_derive recomputes them.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/record.h"

typedef struct {
    const cJSON *o;
    slm_err *err;
    int failed;
} reader;

static const cJSON *field(reader *rd, const char *key) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(rd->o, key);
    if (!it && !rd->failed) rd->failed = 1, slm_fail(rd->err, "field \"%s\" is missing", key);
    return it;
}

// A number, or NaN for null.
static double num(reader *rd, const char *key) {
    const cJSON *it = field(rd, key);
    if (!it || cJSON_IsNull(it)) return NAN;
    if (!cJSON_IsNumber(it)) {
        if (!rd->failed) rd->failed = 1, slm_fail(rd->err, "field \"%s\" must be a number or null", key);
        return NAN;
    }
    return it->valuedouble;
}

// A whole number that must be known, within [lo, hi].
static long long whole(reader *rd, const char *key, double lo, double hi) {
    double v = num(rd, key);
    if (rd->failed) return 0;
    if (!(v >= lo && v <= hi && v == floor(v))) {
        rd->failed = 1;
        slm_fail(rd->err, "field \"%s\" must be an integer in [%.0f, %.0f] (got %g)", key, lo, hi, v);
        return 0;
    }
    return (long long)v;
}

// A string copied into out (cap bytes); "" for null.
static void text(reader *rd, const char *key, char *out, size_t cap) {
    const cJSON *it = field(rd, key);
    out[0] = 0;
    if (!it || cJSON_IsNull(it)) return;
    if (!cJSON_IsString(it)) {
        if (!rd->failed) rd->failed = 1, slm_fail(rd->err, "field \"%s\" must be a string or null", key);
        return;
    }
    snprintf(out, cap, "%s", it->valuestring);
}

// One of names[0..n-1]; the index, or -1 (err set).
static int choice(reader *rd, const char *key, const char *const *names, int n) {
    char v[64];
    text(rd, key, v, sizeof v);
    if (rd->failed) return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) return i;
    rd->failed = 1;
    char expected[128] = "";
    for (int i = 0; i < n; i++)
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s", i ? "|" : "", names[i]);
    slm_fail(rd->err, "field \"%s\" is '%s' (expected %s)", key, slm_quote(v).text, expected);
    return -1;
}

// A true/false field added to schema 1 after its first records: absent reads as `absent`.
static int later_flag(reader *rd, const char *key, int absent) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(rd->o, key);
    if (!it) return absent;
    if (!cJSON_IsBool(it) && !rd->failed) rd->failed = 1, slm_fail(rd->err, "field \"%s\" must be true or false", key);
    return cJSON_IsTrue(it);
}

// A string added to schema 1 after its first records: absent reads as "".
static void later_text(reader *rd, const char *key, char *out, size_t cap) {
    out[0] = 0;
    if (cJSON_GetObjectItemCaseSensitive(rd->o, key)) text(rd, key, out, cap);
}

// A size of the configuration: within [1, hi]; any int in an error record (given).
static int size_field(reader *rd, const char *key, double hi, int given) {
    return (int)(given ? whole(rd, key, -2147483648.0, 2147483647.0) : whole(rd, key, 1, hi));
}

// A token count: 0 for null, else a whole number in [0, 9e18] (a long long).
static long long tokens(reader *rd, const char *key) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(rd->o, key);
    return it && cJSON_IsNull(it) ? 0 : whole(rd, key, 0, 9e18);
}

static size_t bytes(reader *rd, const char *key) {
    double v = num(rd, key);
    return v >= 0 && v < 1e19 ? (size_t)v : 0;
}

// The head is tied when the parameter count says so (the shape fields do not
// carry it). Of a shape that cannot be counted, which only an error record
// may hold, the writer wrote null.
static void read_tied(reader *rd, slm_model_config *c, int given) {
    c->tie_embeddings = 0;
    long long untied = slm_param_count(c);
    if (untied >= 0) {
        long long params = whole(rd, "params", 0, 9e18);  // up to 1.2e18 for a shape validation bounds
        c->tie_embeddings = params == untied - (long long)c->vocab * c->d_model;
    } else if (!given) {
        rd->failed = 1, slm_fail(rd->err, "the model shape cannot be counted (more heads than d_model, or too large)");
    } else if (!cJSON_IsNull(field(rd, "params"))) {
        rd->failed = 1, slm_fail(rd->err, "field \"params\" must be null for a shape that cannot be counted");
    }
}

static const char *const sources[] = {"measured", "predicted"};
static const char *const statuses[] = {"ok", "oom", "error"};
static const char *const dtypes[] = {"fp32", "bf16"};     // the compute dtypes a run may have,
static const slm_dtype dtype_of[] = {SLM_F32, SLM_BF16};  // as slm_dtype_name names them
static const char *const mem_keys[SLM_MEM_NCAT] = {
    "mem_params_bytes",    "mem_grads_bytes", "mem_optimizer_bytes", "mem_activations_bytes",
    "mem_attention_bytes", "mem_comm_bytes",  "mem_workspace_bytes"};
// Written by the writer as derived figures: checked present, then recomputed.
static const char *const derived_keys[] = {"params",
                                           "grad_accum",
                                           "tokens_per_s_per_device",
                                           "flops_per_token",
                                           "mfu",
                                           "tokens_per_dollar",
                                           "dollars_per_billion_tokens",
                                           "dollars_spent",
                                           "loss_per_dollar",
                                           "dollars_to_target_loss"};

static void read_fields(reader *rd, slm_record *r) {
    slm_run_config *rc = &r->run;
    slm_model_config *c = &rc->model;
    if (whole(rd, "schema", 0, 1e9) != SLM_RECORD_SCHEMA && !rd->failed) {
        rd->failed = 1;
        slm_fail(rd->err, "schema %g is not %d, the one this build reads", num(rd, "schema"), SLM_RECORD_SCHEMA);
        return;
    }
    int source = choice(rd, "source", sources, 2), status = choice(rd, "status", statuses, 3);
    if (rd->failed) return;
    r->source = sources[source];
    r->status = statuses[status];
    later_text(rd, "prediction_basis", r->basis, sizeof r->basis);
    text(rd, "message", r->message, sizeof r->message);
    text(rd, "config_hash", r->config_hash, sizeof r->config_hash);
    char model[32];
    text(rd, "model", model, sizeof model);
    if (slm_preset(model, c, NULL)) {  // custom: the record's shape, LLaMA's constants
        slm_preset("small", c, NULL);
        snprintf(c->name, sizeof c->name, "%s", model[0] ? model : "custom");
    }
    const int given = status == 2;  // an error record: the configuration as given, maybe why it could not run
    c->n_layers = size_field(rd, "n_layers", 1e6, given);
    c->d_model = size_field(rd, "d_model", 1e7, given);
    c->n_heads = size_field(rd, "n_heads", 1e6, given);
    c->n_kv_heads = size_field(rd, "n_kv_heads", 1e6, given);
    c->ffn_dim = size_field(rd, "ffn_dim", 1e8, given);
    c->vocab = size_field(rd, "vocab", 1e8, given);
    rc->seq_len = size_field(rd, "seq_len", 1e8, given);
    if (c->seq_len < rc->seq_len) c->seq_len = rc->seq_len;
    rc->micro_batch = size_field(rd, "micro_batch", 1e8, given);
    rc->global_batch = size_field(rd, "global_batch", 1e9, given);
    rc->attention = (slm_attention)choice(rd, "attention", slm_attention_names, 2);
    rc->strategy = (slm_strategy_kind)choice(rd, "strategy", slm_strategy_names, 4);
    rc->overlap = later_flag(rd, "overlap", 1);  // records before the field: the default, overlapped
    rc->world_size = (int)whole(rd, "world_size", 1, 1e7);
    r->nodes = (int)whole(rd, "nodes", 1, 1e7);
    int backend = choice(rd, "backend", slm_backend_names, SLM_BACKEND_NKINDS), dtype = choice(rd, "dtype", dtypes, 2);
    if (rd->failed) return;
    rc->backend = (slm_backend_kind)backend;
    rc->dtype = dtype_of[dtype];
    text(rd, "device", r->device, sizeof r->device);
    rc->mem_limit = bytes(rd, "mem_limit_bytes");
    r->step_time_s = num(rd, "step_time_s");
    r->step_time_p10_s = num(rd, "step_time_p10_s");
    r->step_time_p90_s = num(rd, "step_time_p90_s");
    r->tokens_per_s = num(rd, "tokens_per_s");
    r->peak_flops_per_device = num(rd, "peak_flops_per_device");
    text(rd, "peak_flops_source", r->peak_flops_source, sizeof r->peak_flops_source);
    r->peak_mem_bytes = bytes(rd, "peak_mem_bytes");
    for (int i = 0; i < SLM_MEM_NCAT; i++) r->mem_bytes[i] = bytes(rd, mem_keys[i]);
    r->comm_time_frac = num(rd, "comm_time_frac");
    r->price_per_device_hour = num(rd, "price_per_device_hour");
    text(rd, "price_source", r->price_source, sizeof r->price_source);
    r->train_tokens = tokens(rd, "train_tokens");
    r->final_loss = num(rd, "final_loss");
    r->val_loss = num(rd, "val_loss");
    r->target_loss = num(rd, "target_loss");
    r->target_tokens = tokens(rd, "tokens_to_target_loss");
    text(rd, "git_commit", r->git_commit, sizeof r->git_commit);
    text(rd, "date", r->date, sizeof r->date);
    text(rd, "host", r->host, sizeof r->host);
    text(rd, "versions", r->versions, sizeof r->versions);
    for (size_t i = 0; i < sizeof derived_keys / sizeof derived_keys[0]; i++) field(rd, derived_keys[i]);
    if (rd->failed) return;
    read_tied(rd, c, given);
}

int slm_record_parse(const char *line, slm_record *r, slm_err *err) {
    cJSON *o = cJSON_Parse(line);
    if (!o) return slm_fail(err, "not valid JSON");
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return slm_fail(err, "not a JSON object");
    }
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    slm_record_init(r, &rc, "measured");
    reader rd = {o, err, 0};
    read_fields(&rd, r);
    cJSON_Delete(o);
    return rd.failed ? -1 : 0;
}
