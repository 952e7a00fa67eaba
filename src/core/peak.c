// peak.c — the peak cache of peak.h, read and written with cJSON.
#include "core/peak.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/json_file.h"

static void cache_dir(char *out, size_t len) {
    const char *dir = getenv("SLM_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (dir && *dir)
        snprintf(out, len, "%s", dir);
    else if (xdg && *xdg)
        snprintf(out, len, "%s/slm", xdg);
    else
        snprintf(out, len, "%s/.cache/slm", home && *home ? home : ".");
}

void slm_peak_cache_path(char *out, size_t len) {
    char dir[4000];
    cache_dir(dir, sizeof dir);
    snprintf(out, len, "%s/peak.json", dir);
}

// The whole cache, or an empty one when there is no readable file.
static cJSON *cache_read(void) {
    char path[4096];
    slm_peak_cache_path(path, sizeof path);
    FILE *f = fopen(path, "rb");
    cJSON *root = NULL;
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        if (n > 0 && n < (1 << 24)) {
            char *text = slm_xmalloc((size_t)n + 1);
            text[fread(text, 1, (size_t)n, f)] = 0;
            root = cJSON_Parse(text);
            free(text);
        }
        fclose(f);
    }
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "peaks"))) {
        cJSON_Delete(root);
        root = cJSON_CreateObject();
        cJSON_AddArrayToObject(root, "peaks");
    }
    return root;
}

static int entry_is(const cJSON *e, const char *device, const char *dtype) {
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "device"));
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "dtype"));
    return d && t && !strcmp(d, device) && !strcmp(t, dtype);
}

int slm_peak_lookup(const char *device, const char *dtype, slm_peak *p) {
    cJSON *root = cache_read(), *e;
    int found = -1;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "peaks")) {
        const cJSON *flops = cJSON_GetObjectItemCaseSensitive(e, "flops_per_s");
        if (!entry_is(e, device, dtype) || !cJSON_IsNumber(flops) || !(flops->valuedouble > 0) ||
            !isfinite(flops->valuedouble))
            continue;  // not a measured peak (1e999 reads as inf): no MFU rather than an MFU of 0
        const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "method"));
        const char *date = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "date"));
        p->flops_per_s = flops->valuedouble;
        snprintf(p->method, sizeof p->method, "%s", method ? method : "unknown method");
        snprintf(p->date, sizeof p->date, "%s", date ? date : "unknown date");
        found = 0;
    }
    cJSON_Delete(root);
    return found;
}

// mkdir -p for the cache directory.
static int make_dirs(const char *dir, slm_err *err) {
    char path[4000];
    snprintf(path, sizeof path, "%s", dir);
    for (char *s = path + 1;; s++) {
        if (*s != '/' && *s) continue;
        char was = *s;
        *s = 0;
        if (mkdir(path, 0755) && errno != EEXIST)
            return slm_fail(err, "cannot make the peak cache directory %s (set SLM_CACHE_DIR to a writable one)", path);
        if (!was) return 0;
        *s = was;
    }
}

int slm_peak_store(const char *device, const char *dtype, const slm_peak *p, slm_err *err) {
    char dir[4000], path[4096];
    cache_dir(dir, sizeof dir);
    slm_peak_cache_path(path, sizeof path);
    if (make_dirs(dir, err)) return -1;
    cJSON *root = cache_read(), *peaks = cJSON_GetObjectItemCaseSensitive(root, "peaks");
    for (int i = cJSON_GetArraySize(peaks) - 1; i >= 0; i--)
        if (entry_is(cJSON_GetArrayItem(peaks, i), device, dtype)) cJSON_DeleteItemFromArray(peaks, i);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "device", device);
    cJSON_AddStringToObject(e, "dtype", dtype);
    cJSON_AddNumberToObject(e, "flops_per_s", p->flops_per_s);
    cJSON_AddStringToObject(e, "method", p->method);
    cJSON_AddStringToObject(e, "date", p->date);
    cJSON_AddItemToArray(peaks, e);
    int ret = slm_json_write_file(path, "peak cache", root, err);
    cJSON_Delete(root);
    return ret;
}

void slm_peak_describe(const slm_peak *p, char *out, size_t len) {
    snprintf(out, len, "slm peak: %s, %s", p->method, p->date);
}
