// hf_export.c — writing a checkpoint directory (hf_export.h): tensors planned
// into shards, the stale form removed, the shards, the index, the configs.
#include "model/hf_export.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hf_config.h"
#include "core/json_file.h"
#include "core/path.h"
#include "model/safetensors.h"

static int make_dir(const char *dir, slm_err *err) {
    if (mkdir(dir, 0777) && !(errno == EEXIST && slm_is_dir(dir)))
        return slm_fail(err, "cannot make the directory %s (does its parent exist?)", dir);
    return 0;
}

static void join(char *out, size_t len, const char *dir, const char *name) { snprintf(out, len, "%s/%s", dir, name); }

// The shard files an existing index in dir names (plain names only), to remove
// once the new checkpoint is written; the index itself removed now.
static cJSON *take_old_index(const char *dir) {
    char path[4200];
    join(path, sizeof path, dir, "model.safetensors.index.json");
    slm_err ignored;
    cJSON *root = slm_path_exists(path) ? slm_json_read_file(path, "index", &ignored) : NULL;
    unlink(path);
    return root;
}

static void remove_old_shards(const char *dir, const cJSON *old, char **kept, int n_kept) {
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(old, "weight_map");
    char path[4200];
    for (const cJSON *e = cJSON_IsObject(map) ? map->child : NULL; e; e = e->next) {
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !strcmp(e->valuestring, "..")) continue;
        int keep = 0;
        for (int i = 0; i < n_kept && !keep; i++) keep = !strcmp(kept[i], e->valuestring);
        join(path, sizeof path, dir, e->valuestring);
        if (!keep) unlink(path);
    }
}

// Each tensor's shard (first[s] .. first[s+1]) as transformers splits: a new shard when the next would pass the size.
static int plan_shards(const slm_st_out *t, int n, slm_st_dtype dt, uint64_t shard_bytes, int *first) {
    int shards = 0;
    uint64_t size = 0;
    for (int i = 0; i < n; i++) {
        const uint64_t b = slm_st_tensor_bytes(&t[i], dt);
        if (i == 0 || size + b > shard_bytes) {
            first[shards++] = i;
            size = 0;
        }
        size += b;
    }
    first[shards] = n;
    return shards;
}

static int write_index(const char *dir, const slm_st_out *t, int n, slm_st_dtype dt, const int *first, int shards,
                       char **names, slm_err *err) {
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(root, "metadata");
    cJSON *map = cJSON_AddObjectToObject(root, "weight_map");
    uint64_t total = 0;
    for (int s = 0; s < shards; s++)
        for (int i = first[s]; i < first[s + 1]; i++) {
            total += slm_st_tensor_bytes(&t[i], dt);
            cJSON_AddStringToObject(map, t[i].name, names[s]);
        }
    cJSON_AddNumberToObject(meta, "total_size", (double)total);
    char path[4200];
    join(path, sizeof path, dir, "model.safetensors.index.json");
    int rc = slm_json_write_file(path, "safetensors index", root, err);
    cJSON_Delete(root);
    return rc;
}

// The weights: one file, or the shards and their index; the stale form removed first.
static int write_weights(const char *dir, const slm_st_out *t, int n, slm_st_dtype dt, uint64_t shard_bytes,
                         slm_err *err) {
    int *first = slm_xcalloc((size_t)n + 1, sizeof(int));
    const int shards = plan_shards(t, n, dt, shard_bytes, first);
    char **names = slm_xcalloc((size_t)shards, sizeof *names), path[4200];
    for (int s = 0; s < shards; s++) {
        names[s] = slm_xmalloc(64);
        if (shards == 1)
            snprintf(names[s], 64, "model.safetensors");
        else
            snprintf(names[s], 64, "model-%05d-of-%05d.safetensors", s + 1, shards);
    }
    cJSON *old = take_old_index(dir);
    join(path, sizeof path, dir, "model.safetensors");
    if (shards > 1) unlink(path);
    int rc = 0;
    for (int s = 0; s < shards && !rc; s++) {
        join(path, sizeof path, dir, names[s]);
        rc = slm_st_write(path, t + first[s], first[s + 1] - first[s], dt, err);
    }
    if (!rc && shards > 1) rc = write_index(dir, t, n, dt, first, shards, names, err);
    if (!rc) remove_old_shards(dir, old, names, shards);
    cJSON_Delete(old);
    for (int s = 0; s < shards; s++) free(names[s]);
    free(names);
    free(first);
    return rc;
}

static int write_generation_config(const char *dir, slm_err *err) {
    char path[4200];
    join(path, sizeof path, dir, "generation_config.json");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "_from_model_config", 1);
    int rc = slm_json_write_file(path, "generation_config.json", root, err);
    cJSON_Delete(root);
    return rc;
}

int slm_hf_export(const char *dir, const slm_model_config *c, const slm_param_layout *lay, const float *params,
                  int bf16, uint64_t shard_bytes, slm_err *err) {
    if (make_dir(dir, err)) return -1;
    slm_st_out *t = slm_xcalloc((size_t)lay->n_tensors, sizeof *t);
    for (int i = 0; i < lay->n_tensors; i++) {
        const slm_tensor *s = &lay->tensors[i];
        t[i] = (slm_st_out){s->name, s->ndim, {s->rows, s->cols}, params + s->offset};
    }
    char path[4200];
    join(path, sizeof path, dir, "config.json");
    int rc = write_weights(dir, t, lay->n_tensors, bf16 ? SLM_ST_BF16 : SLM_ST_F32, shard_bytes, err) ||
                     slm_hf_config_write(path, c, bf16, err) || write_generation_config(dir, err)
                 ? -1
                 : 0;
    free(t);
    return rc;
}
