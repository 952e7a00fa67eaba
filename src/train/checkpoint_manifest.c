// checkpoint_manifest.c — shard names and the manifest of an FSDP checkpoint
// (checkpoint_manifest.h).
#include "train/checkpoint_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic_file.h"

void slm_ckpt_shard_name(char *out, size_t len, const char *path, uint64_t step, uint64_t id, int r, int W) {
    snprintf(out, len, "%s.step%llu.%08llx.rank%d-of-%d", path, (unsigned long long)step, (unsigned long long)id, r, W);
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void slm_ckpt_dir_of(char *out, size_t len, const char *path) {
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(out, len, "%.*s", (int)n, path);
}

static char *read_text(const char *path, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = slm_xmalloc(max + 1);
    size_t n = fread(text, 1, max, f);
    fclose(f);
    text[n] = 0;
    return text;
}

cJSON *slm_ckpt_manifest_shards(cJSON **root, const char *path) {
    char *text = read_text(path, 1 << 20);
    *root = text && text[0] == '{' ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(*root, "format");
    cJSON *shards = cJSON_GetObjectItemCaseSensitive(*root, "shards");
    return cJSON_IsString(fmt) && !strcmp(fmt->valuestring, SLM_CKPT_MANIFEST_FORMAT) && cJSON_IsArray(shards) ? shards
                                                                                                               : NULL;
}

void slm_ckpt_remove_shards(const char *path, const cJSON *old, const cJSON *keep) {
    char dir[4096], name[4096];
    slm_ckpt_dir_of(dir, sizeof dir, path);
    const cJSON *item, *now;
    cJSON_ArrayForEach(item, old) {
        if (!cJSON_IsString(item) || strchr(item->valuestring, '/')) continue;
        int kept = 0;
        cJSON_ArrayForEach(now, keep) kept |= cJSON_IsString(now) && !strcmp(now->valuestring, item->valuestring);
        snprintf(name, sizeof name, "%s%s", dir, item->valuestring);
        if (!kept) unlink(name);
    }
}

int slm_ckpt_manifest_write(const char *path, uint64_t step, uint64_t id, int W, slm_err *err) {
    cJSON *root = cJSON_CreateObject(), *names = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "format", SLM_CKPT_MANIFEST_FORMAT);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "world_size", W);
    cJSON_AddNumberToObject(root, "step", (double)step);
    char name[4096];
    for (int r = 0; r < W; r++) {
        slm_ckpt_shard_name(name, sizeof name, path, step, id, r, W);
        cJSON_AddItemToArray(names, cJSON_CreateString(base_name(name)));
    }
    cJSON_AddItemToObject(root, "shards", names);
    char *text = cJSON_Print(root);
    slm_atomic_file af;
    int rc = slm_atomic_open(&af, path, "checkpoint manifest", err);
    if (!rc) rc = slm_atomic_commit(&af, fputs(text, af.f) < 0 || fputc('\n', af.f) == EOF, err);
    free(text);
    cJSON_Delete(root);
    return rc;
}
