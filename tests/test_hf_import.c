// test_hf_import.c — Hugging Face checkpoints in and out (model/hf_weights.h,
// model/hf_export.h), on the fixtures of tests/reference/make_hf_fixtures.py:
//   import: each fixture's config.json and weights into the CPU backend
//   (fp32), then the logits of its reference batch against transformers',
//   max|a − ref| / max|ref| ≤ 1e-5, and the loss, |a − ref| ≤ 1e-5·|ref|.
//   The bf16 fixture's weights widen to fp32 exactly and its reference is
//   float32 compute over them, so the same bounds hold. The llama3 fixture
//   run without its RoPE scaling misses by far more (> 1e-3): the scaling is
//   what matches.
//   export: F32 re-imports bit for bit; BF16 re-imports as each weight's
//   rounding, and exporting that again gives the same bytes; sharded past a
//   small shard size (with an index) re-imports bit for bit, and a later
//   single-file export into the same directory leaves no shard or index.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/bf16.h"
#include "core/json_file.h"
#include "model/hf_export.h"
#include "model/hf_weights.h"
#include "testutil.h"

static const char *const FIXTURES[] = {"untied", "tied", "bf16", "sharded", "llama3"};
enum { N_FIXTURES = 5 };

typedef struct {
    int B, T, V;
    int *inputs, *targets;
    float *logits, loss;
} reference;

static int *ints(const cJSON *a) {
    int *out = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(int)), i = 0;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next) out[i++] = e->valueint;
    return out;
}

static int ref_load(const char *dir, reference *r) {
    char path[4200];
    snprintf(path, sizeof path, "%s/reference.json", dir);
    slm_err err;
    cJSON *root = slm_json_read_file(path, "reference", &err);
    if (!root) return -1;
    r->B = cJSON_GetObjectItem(root, "batch")->valueint;
    r->T = cJSON_GetObjectItem(root, "seq")->valueint;
    r->V = cJSON_GetObjectItem(root, "vocab")->valueint;
    r->loss = (float)cJSON_GetObjectItem(root, "loss")->valuedouble;
    r->inputs = ints(cJSON_GetObjectItem(root, "inputs"));
    r->targets = ints(cJSON_GetObjectItem(root, "targets"));
    const cJSON *l = cJSON_GetObjectItem(root, "logits");
    r->logits = calloc((size_t)cJSON_GetArraySize(l) + 1, sizeof(float));
    int i = 0;
    for (const cJSON *e = l->child; e; e = e->next) r->logits[i++] = (float)e->valuedouble;
    cJSON_Delete(root);
    return 0;
}

static void ref_free(reference *r) {
    free(r->inputs);
    free(r->targets);
    free(r->logits);
}

// The model of path (an HF directory or a file in one) on the CPU, with activations for B × T; -1 with err.
static int load(const char *path, const slm_model_config *cfg, int B, int T, slm_backend *be, slm_model *m,
                slm_err *err) {
    return slm_model_init(m, cfg, be, 0, err) || slm_model_alloc_acts(m, B, T, SLM_ATTN_VANILLA, err) ||
                   slm_hf_load_model(path, m, err)
               ? -1
               : 0;
}

// Logits and loss of m on the reference batch against the reference; the logits' relative error into *rel.
static void run_batch(slm_model *m, const reference *r, float *logits, double *rel, float *loss) {
    const size_t n = (size_t)r->B * r->T * r->V;
    slm_model_forward(m, r->inputs, NULL, r->B, r->T, 0.0f);
    m->be->to_host(logits, m->logits, n * sizeof(float));
    *rel = t_max_rel_err(logits, r->logits, n, 1e-30);
    *loss = slm_model_forward(m, r->inputs, r->targets, r->B, r->T, 0.0f);
}

static void check_import(const char *name, slm_backend *be) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", t_source_path("tests/data/hf"));
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/%s", name);
    reference r;
    slm_model_config cfg;
    slm_model m;
    slm_err err;
    if (ref_load(dir, &r) || slm_hf_config_of(dir, &cfg, &err) || load(dir, &cfg, r.B, r.T, be, &m, &err)) {
        t_check(0, "%s: load: %s", name, err.msg);
        return;
    }
    float *logits = malloc((size_t)r.B * r.T * r.V * sizeof(float)), loss;
    double rel;
    run_batch(&m, &r, logits, &rel, &loss);
    t_check(rel <= 1e-5, "%s: logits of HF's batch, max rel err %.2e (<= 1e-5)", name, rel);
    t_check(fabsf(loss - r.loss) <= 1e-5f * fabsf(r.loss), "%s: loss %.7f, HF's %.7f (rel %.1e, <= 1e-5)", name, loss,
            r.loss, fabs(loss - r.loss) / r.loss);
    if (cfg.rope_scaling.factor) {  // the same weights without the scaling: far off
        slm_model plain;
        cfg.rope_scaling.factor = 0;
        if (!load(dir, &cfg, r.B, r.T, be, &plain, &err)) {
            double rel_plain;
            run_batch(&plain, &r, logits, &rel_plain, &loss);
            t_check(rel_plain > 1e-3, "%s: without its RoPE scaling the logits miss by %.2e (> 1e-3)", name, rel_plain);
            slm_model_free(&plain);
        }
    }
    free(logits);
    slm_model_free(&m);
    ref_free(&r);
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *x = t_read_file(a, &na), *y = t_read_file(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

// Exports m to dir and loads it back into *back (a model of the same config); -1 with err.
static int export_and_load(const slm_model *m, const char *dir, int bf16, uint64_t shard, slm_backend *be,
                           slm_model *back, slm_err *err) {
    slm_model_config cfg;
    return slm_hf_export(dir, &m->cfg, &m->layout, m->params, bf16, shard, err) || slm_hf_config_of(dir, &cfg, err) ||
                   load(dir, &cfg, 1, 8, be, back, err)
               ? -1
               : 0;
}

static int same_params(const slm_model *a, const slm_model *b, int rounded) {
    if (a->layout.total != b->layout.total) return 0;
    for (size_t i = 0; i < a->layout.total; i++) {
        float want = rounded ? slm_f32_from_bf16(slm_bf16_from_f32(a->params[i])) : a->params[i];
        if (memcmp(&want, &b->params[i], sizeof want)) return 0;
    }
    return 1;
}

static void check_export(const char *name, slm_backend *be) {
    char src[4096], out[4096], path_a[4200], path_b[4300];
    snprintf(src, sizeof src, "%s/%s", t_source_path("tests/data/hf"), name);
    slm_model_config cfg;
    slm_model m, f32, b16, again;
    slm_err err;
    if (slm_hf_config_of(src, &cfg, &err) || load(src, &cfg, 1, 8, be, &m, &err)) {
        t_check(0, "%s: load: %s", name, err.msg);
        return;
    }
    snprintf(out, sizeof out, "%s", t_tmp_path(name));
    int ok = !export_and_load(&m, out, 0, 5000000000ull, be, &f32, &err);
    t_check(ok && same_params(&m, &f32, 0), "%s: exported in F32 and imported, bit for bit%s%s", name, ok ? "" : ": ",
            ok ? "" : err.msg);
    if (ok) slm_model_free(&f32);
    snprintf(path_a, sizeof path_a, "%s/model.safetensors", out);
    snprintf(path_b, sizeof path_b, "%s.bf16", path_a);
    ok = !export_and_load(&m, out, 1, 5000000000ull, be, &b16, &err) && !rename(path_a, path_b);
    t_check(ok && same_params(&m, &b16, 1), "%s: exported in BF16 and imported: each weight's bf16 rounding", name);
    ok = ok && !export_and_load(&b16, out, 1, 5000000000ull, be, &again, &err);
    t_check(ok && same_file(path_a, path_b), "%s: that exported in BF16 again: the same bytes", name);
    if (ok) slm_model_free(&again);
    slm_model_free(&b16);
    slm_model_free(&m);
}

// Sharded past 20 KB: shards and an index, imported bit for bit; then one file again: no shard or index left.
static void check_shards(slm_backend *be) {
    char src[4096], out[4096], index[4200], shard[4200];
    snprintf(src, sizeof src, "%s/untied", t_source_path("tests/data/hf"));
    slm_model_config cfg;
    slm_model m, back;
    slm_err err;
    if (slm_hf_config_of(src, &cfg, &err) || load(src, &cfg, 1, 8, be, &m, &err)) {
        t_check(0, "untied: load: %s", err.msg);
        return;
    }
    snprintf(out, sizeof out, "%s", t_tmp_path("sharded"));
    snprintf(index, sizeof index, "%s/model.safetensors.index.json", out);
    snprintf(shard, sizeof shard, "%s/model-00001-of-00005.safetensors", out);
    int ok = !export_and_load(&m, out, 0, 20000, be, &back, &err);
    t_check(ok && same_params(&m, &back, 0) && !access(index, F_OK) && !access(shard, F_OK),
            "sharded at 20 KB into 5 files and an index, imported bit for bit%s%s", ok ? "" : ": ", ok ? "" : err.msg);
    if (ok) slm_model_free(&back);
    ok = !export_and_load(&m, out, 0, 5000000000ull, be, &back, &err);
    t_check(ok && same_params(&m, &back, 0) && access(index, F_OK) && access(shard, F_OK),
            "then exported as one file into the same directory: the index and the shards are gone");
    if (ok) slm_model_free(&back);
    slm_model_free(&m);
}

int main(void) {
    slm_backend *be = slm_backend_cpu();
    for (int i = 0; i < N_FIXTURES; i++) check_import(FIXTURES[i], be);
    for (int i = 0; i < N_FIXTURES; i++) check_export(FIXTURES[i], be);
    check_shards(be);
    slm_backend_destroy(be);
    return t_finish("test_hf_import");
}
