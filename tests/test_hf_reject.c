// test_hf_reject.c — what loading a Hugging Face checkpoint refuses
// (model/hf_weights.h), each from a checkpoint directory made from the untied
// fixture (tests/data/hf/untied) and damaged one way, each message naming the
// file and the tensor: a tensor missing, one too many, a shape other than
// config.json's, a tied config over a file whose lm_head differs (and the
// same file with lm_head equal to the embedding, which loads), an index naming
// a file outside its directory, a shard other than the one holding the
// tensor, a file that is not there, a tensor twice, a shard tensor it does not
// name; a file cut short; a directory with no weights. transformers 4.x's
// rotary_emb.inv_freq buffers load.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json_file.h"
#include "model/hf_export.h"
#include "model/hf_weights.h"
#include "testutil.h"

typedef struct {
    int n;
    slm_st_out t[32];
    float *data[32];
} tensors;

// The untied fixture's tensors as fp32 arrays.
static void fixture_tensors(tensors *ts) {
    slm_hf_weights w;
    slm_err err;
    memset(ts, 0, sizeof *ts);
    if (slm_hf_weights_open(&w, t_source_path("tests/data/hf/untied"), &err)) return;
    for (int i = 0; i < w.files[0].n && ts->n < 32; i++) {
        const slm_st_tensor *s = &w.files[0].t[i];
        float *d = malloc(slm_st_numel(s) * sizeof(float));
        slm_st_to_f32(s, d);
        ts->data[ts->n] = d;
        ts->t[ts->n++] = (slm_st_out){strdup(s->name), s->ndim, {s->shape[0], s->ndim > 1 ? s->shape[1] : 1}, d};
    }
    slm_hf_weights_close(&w);
}

static void tensors_free(tensors *ts) {
    for (int i = 0; i < ts->n; i++) {
        free((char *)ts->t[i].name);
        free(ts->data[i]);
    }
}

static slm_st_out *find_out(tensors *ts, const char *name) {
    for (int i = 0; i < ts->n; i++)
        if (!strcmp(ts->t[i].name, name)) return &ts->t[i];
    return NULL;
}

// The fixture's config.json with `key` set to the JSON `value` (NULL: as it is), into dir/config.json.
static void write_config(const char *dir, const char *key, const char *value) {
    slm_err err;
    cJSON *root = slm_json_read_file(t_source_path("tests/data/hf/untied/config.json"), "config", &err);
    if (key) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, key);
        cJSON_AddItemToObject(root, key, cJSON_Parse(value));
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    slm_json_write_file(path, "config", root, &err);
    cJSON_Delete(root);
}

// A checkpoint directory `name`: config.json (key = value, or as it is) and model.safetensors of ts[0, n).
static const char *make_dir(const char *name, const tensors *ts, int n, const char *key, const char *value) {
    static char dir[4096];
    char path[4200];
    snprintf(dir, sizeof dir, "%s", t_tmp_path(name));
    snprintf(path, sizeof path, "mkdir -p '%s'", dir);
    if (system(path)) return dir;
    write_config(dir, key, value);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    slm_err err;
    slm_st_write(path, ts->t, n, SLM_ST_F32, &err);
    return dir;
}

// Loads dir (config and weights) into a CPU model; the error message, or NULL when it loaded.
static const char *try_load(const char *dir) {
    static slm_err err;
    slm_model_config cfg;
    slm_model m;
    slm_backend *be = slm_backend_cpu();
    int rc = slm_hf_config_of(dir, &cfg, &err);
    if (!rc) rc = slm_model_init(&m, &cfg, be, 0, &err) || slm_hf_load_model(dir, &m, &err);
    if (!rc || m.be) slm_model_free(&m);
    slm_backend_destroy(be);
    return rc ? err.msg : NULL;
}

static void expect(const char *dir, const char *file, const char *want, const char *what) {
    const char *msg = try_load(dir);
    t_check(msg && strstr(msg, file) && strstr(msg, want), "%s is refused: %s", what, msg ? msg : "(loaded)");
}

static void check_tensors(tensors *ts) {
    slm_st_out *up = find_out(ts, "model.layers.1.mlp.up_proj.weight"), saved = *up;
    *up = ts->t[ts->n - 1];  // dropped: the last one takes its place
    expect(make_dir("missing", ts, ts->n - 1, NULL, NULL), "missing/model.safetensors",
           "tensor 'model.layers.1.mlp.up_proj.weight' is missing", "a tensor missing");
    *up = saved;
    ts->t[ts->n] = (slm_st_out){"model.layers.2.input_layernorm.weight", 1, {32, 1}, ts->data[0]};
    expect(make_dir("extra", ts, ts->n + 1, NULL, NULL), "extra/model.safetensors",
           "unexpected tensor 'model.layers.2.input_layernorm.weight'", "a layer too many");
    ts->t[ts->n] = (slm_st_out){"model.layers.0.self_attn.rotary_emb.inv_freq", 1, {4, 1}, ts->data[0]};
    const char *msg = try_load(make_dir("inv_freq", ts, ts->n + 1, NULL, NULL));
    t_check(!msg, "a 4.x rotary_emb.inv_freq buffer loads: %s", msg ? msg : "ok");
    expect(make_dir("shape", ts, ts->n, "intermediate_size", "40"), "shape/model.safetensors",
           "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [48, 32], the model of config.json has [40, 32]",
           "a shape other than config.json's");
    expect(make_dir("tied", ts, ts->n, "tie_word_embeddings", "true"), "tied/model.safetensors",
           "tensor 'lm_head.weight' differs from model.embed_tokens.weight", "a tied config over a different lm_head");
    slm_st_out *head = find_out(ts, "lm_head.weight"), *emb = find_out(ts, "model.embed_tokens.weight");
    const float *head_data = head->data;
    head->data = emb->data;
    msg = try_load(make_dir("tied_same", ts, ts->n, "tie_word_embeddings", "true"));
    t_check(!msg, "a tied config over an lm_head equal to the embedding loads: %s", msg ? msg : "ok");
    head->data = head_data;
}

// An index made by the exporter (3 shards), then damaged: entry `key` set to the string `file` (NULL: removed).
static const char *damaged_index(const char *name, const char *key, const char *file, int twice) {
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", t_tmp_path(name));
    slm_model_config cfg;
    slm_model m;
    slm_err err;
    slm_backend *be = slm_backend_cpu();
    if (slm_hf_config_of(t_source_path("tests/data/hf/untied"), &cfg, &err) || slm_model_init(&m, &cfg, be, 0, &err) ||
        slm_hf_load_model(t_source_path("tests/data/hf/untied"), &m, &err) ||
        slm_hf_export(dir, &cfg, &m.layout, m.params, 0, 30000, &err))
        t_check(0, "index %s: %s", name, err.msg);
    slm_model_free(&m);
    slm_backend_destroy(be);
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    cJSON *root = slm_json_read_file(path, "index", &err), *map = cJSON_GetObjectItem(root, "weight_map");
    if (!twice) cJSON_DeleteItemFromObjectCaseSensitive(map, key);
    if (file) cJSON_AddStringToObject(map, key, file);  // twice: a second entry of the same name
    slm_json_write_file(path, "index", root, &err);
    cJSON_Delete(root);
    return dir;
}

static void check_index(void) {
    const char *q = "model.layers.0.self_attn.q_proj.weight";
    expect(damaged_index("outside", q, "../model-00001-of-00003.safetensors", 0),
           "outside/model.safetensors.index.json",
           "tensor 'model.layers.0.self_attn.q_proj.weight' is mapped to ../model-00001-of-00003.safetensors, not a "
           "file name beside the index",
           "an index naming a file outside its directory");
    expect(damaged_index("wrong", q, "model-00003-of-00003.safetensors", 0), "wrong/model-00003-of-00003.safetensors",
           "tensor 'model.layers.0.self_attn.q_proj.weight' is not in model-00003-of-00003.safetensors, the shard its "
           "index names",
           "an index naming the wrong shard");
    expect(damaged_index("absent", q, "model-00004-of-00003.safetensors", 0),
           "absent/model.safetensors.index.json names", "cannot open", "an index naming a file that is not there");
    expect(damaged_index("unnamed", q, NULL, 0), "unnamed/model-0000",
           "tensor 'model.layers.0.self_attn.q_proj.weight' is here, but the index", "a shard tensor the index omits");
    expect(damaged_index("twice", q, "model-00001-of-00003.safetensors", 1), "twice/model.safetensors.index.json",
           "tensor 'model.layers.0.self_attn.q_proj.weight' is named twice", "an index naming a tensor twice");
}

static void check_files(tensors *ts) {
    const char *dir = make_dir("cut", ts, ts->n, NULL, NULL);
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "r+b");
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fclose(f);
        if (truncate(path, n / 2)) t_check(0, "truncate %s", path);
    }
    expect(dir, "cut/model.safetensors", "past the data", "a file cut to half");
    const char *empty = t_tmp_path("empty");
    snprintf(path, sizeof path, "mkdir -p '%s'", empty);
    if (!system(path)) write_config(empty, NULL, NULL);
    expect(empty, "empty", "neither model.safetensors nor model.safetensors.index.json", "a directory with no weights");
}

int main(void) {
    tensors ts;
    fixture_tensors(&ts);
    t_check(ts.n == 21, "the untied fixture's 21 tensors");
    check_tensors(&ts);
    check_index();
    check_files(&ts);
    tensors_free(&ts);
    return t_finish("test_hf_reject");
}
