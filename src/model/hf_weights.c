// hf_weights.c — opening a checkpoint's files (hf_weights.h): one safetensors
// file, or an index and its shards, the index cross-checked against the
// shards so that every tensor is in exactly the one file the index says.
#include "model/hf_weights.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_file.h"
#include "core/path.h"

void slm_hf_weights_close(slm_hf_weights *w) {
    for (int i = 0; i < w->n_files; i++) slm_st_close(&w->files[i]);
    free(w->files);
    memset(w, 0, sizeof *w);
}

const slm_st_tensor *slm_hf_weights_find(const slm_hf_weights *w, const char *name, const slm_st_file **file) {
    for (int i = 0; i < w->n_files; i++) {
        const slm_st_tensor *t = slm_st_find(&w->files[i], name);
        if (t) {
            if (file) *file = &w->files[i];
            return t;
        }
    }
    return NULL;
}

static int open_files(slm_hf_weights *w, const char *const *paths, int n, slm_err *err) {
    w->files = slm_xcalloc((size_t)n, sizeof *w->files);
    for (int i = 0; i < n; i++, w->n_files++)
        if (slm_st_open(&w->files[i], paths[i], err)) return -1;
    return 0;
}

// A shard's name as the index gives it: a plain file name beside the index.
static int plain_name(const char *s) { return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, ".."); }

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Every entry names a plain file, no tensor twice; the distinct files, in order, into names[] (n of them).
static int index_files(const char *path, const cJSON *map, char **names, int *n, slm_err *err) {
    const int count = cJSON_GetArraySize(map);
    char **keys = slm_xcalloc((size_t)count + 1, sizeof *keys);
    int k = 0, rc = 0;
    *n = 0;
    for (const cJSON *e = map->child; e && !rc; e = e->next) {
        keys[k++] = e->string;
        if (!cJSON_IsString(e) || !plain_name(e->valuestring)) {
            rc = slm_fail(err, "%s: tensor '%s' is mapped to %s, not a file name beside the index", path, e->string,
                          cJSON_IsString(e) ? e->valuestring : "something other than a string");
            break;
        }
        int seen = 0;
        for (int i = 0; i < *n && !seen; i++) seen = !strcmp(names[i], e->valuestring);
        if (!seen) names[(*n)++] = e->valuestring;
    }
    qsort(keys, (size_t)k, sizeof *keys, by_string);
    for (int i = 1; i < k && !rc; i++)
        if (!strcmp(keys[i - 1], keys[i]))
            rc = slm_fail(err, "%s: tensor '%s' is named twice in its weight_map", path, keys[i]);
    free(keys);
    return rc;
}

// Each tensor of each shard is where the index says, and each the index names is there.
static int cross_check(const slm_hf_weights *w, const char *path, const cJSON *map, char **names, slm_err *err) {
    for (const cJSON *e = map->child; e; e = e->next) {
        int i = 0;
        while (strcmp(names[i], e->valuestring)) i++;
        if (!slm_st_find(&w->files[i], e->string))
            return slm_fail(err, "%s: tensor '%s' is not in %s, the shard its index names for it", w->files[i].path,
                            e->string, e->valuestring);
    }
    for (int i = 0; i < w->n_files; i++)
        for (int t = 0; t < w->files[i].n; t++) {
            const char *name = w->files[i].t[t].name;
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(map, name);
            if (!e || strcmp(e->valuestring, names[i]))
                return slm_fail(err, "%s: tensor '%s' is here, but the index %s %s", w->files[i].path, name, path,
                                e ? "names another shard for it" : "does not name it");
        }
    return 0;
}

static int open_index(slm_hf_weights *w, const char *path, slm_err *err) {
    cJSON *root = slm_json_read_file(path, "safetensors index", err);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!root) return -1;
    int rc = 0, n = 0;
    char **names = slm_xcalloc((size_t)cJSON_GetArraySize(map) + 1, sizeof *names);
    char **paths = slm_xcalloc((size_t)cJSON_GetArraySize(map) + 1, sizeof *paths);
    const char *slash = strrchr(path, '/');
    const int dir_len = slash ? (int)(slash - path) + 1 : 0;
    if (!cJSON_IsObject(map) || !map->child)
        rc = slm_fail(err, "%s: no \"weight_map\" of tensors to files (not a safetensors index)", path);
    if (!rc) rc = index_files(path, map, names, &n, err);
    for (int i = 0; i < n && !rc; i++) {
        paths[i] = slm_xmalloc((size_t)dir_len + strlen(names[i]) + 1);
        sprintf(paths[i], "%.*s%s", dir_len, path, names[i]);
    }
    slm_err why;
    if (!rc && open_files(w, (const char *const *)paths, n, &why))
        rc = slm_fail(err, "%s (a shard the index %s names)", why.msg, path);
    if (!rc) rc = cross_check(w, path, map, names, err);
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(names);
    cJSON_Delete(root);
    return rc;
}

int slm_hf_weights_open(slm_hf_weights *w, const char *path, slm_err *err) {
    memset(w, 0, sizeof *w);
    char file[4096];
    snprintf(file, sizeof file, "%s", path);
    if (slm_is_dir(path)) {
        snprintf(file, sizeof file, "%s/model.safetensors", path);
        if (!slm_path_exists(file)) snprintf(file, sizeof file, "%s/model.safetensors.index.json", path);
        if (!slm_path_exists(file))
            return slm_fail(err, "%s: neither model.safetensors nor model.safetensors.index.json is in it", path);
    }
    snprintf(w->where, sizeof w->where, "%s", file);
    const char *one[1] = {file};
    int rc = slm_ends_with(file, ".json") ? open_index(w, file, err) : open_files(w, one, 1, err);
    if (rc) slm_hf_weights_close(w);
    return rc;
}
