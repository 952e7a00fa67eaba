// safetensors.c — the reader of safetensors.h: the header parsed with cJSON
// from the buffer in place, each entry checked on its own (dtype, shape,
// offsets against the data), then all of them together: names sorted to find
// one given twice, offsets sorted to find two tensors sharing bytes.
#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/bf16.h"

const char *const slm_st_dtype_names[3] = {"F32", "BF16", "F16"};

static const double MAX_EXACT = 9007199254740992.0;  // 2^53: every integer below is a double exactly

size_t slm_st_dtype_bytes(slm_st_dtype d) { return d == SLM_ST_F32 ? 4 : 2; }

size_t slm_st_numel(const slm_st_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    return n;
}

static void free_tensors(slm_st_file *f) {
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    free(f->t);
    f->t = NULL;
    f->n = 0;
}

// A JSON number that is an integer in [0, 2^53], into *out.
static int json_size(const cJSON *it, double *out) {
    if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > MAX_EXACT ||
        it->valuedouble != floor(it->valuedouble))
        return -1;
    *out = it->valuedouble;
    return 0;
}

static int parse_dtype(const slm_st_file *f, const char *name, const cJSON *it, slm_st_dtype *out, slm_err *err) {
    if (!cJSON_IsString(it)) return slm_fail(err, "%s: tensor '%s' has no \"dtype\" string", f->path, name);
    for (int d = 0; d < 3; d++)
        if (!strcmp(it->valuestring, slm_st_dtype_names[d])) {
            *out = (slm_st_dtype)d;
            return 0;
        }
    return slm_fail(err, "%s: tensor '%s' has dtype '%s' (expected F32, BF16 or F16)", f->path, name, it->valuestring);
}

// The shape into t, its element count checked against overflow; *bytes: its size in t's dtype.
static int parse_shape(const slm_st_file *f, slm_st_tensor *t, const cJSON *it, double *bytes, slm_err *err) {
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) > SLM_ST_MAX_DIMS)
        return slm_fail(err, "%s: tensor '%s' has no \"shape\" of at most %d sizes", f->path, t->name, SLM_ST_MAX_DIMS);
    double n = (double)slm_st_dtype_bytes(t->dtype), d;
    const cJSON *dim;
    t->ndim = 0;
    cJSON_ArrayForEach(dim, it) {
        if (json_size(dim, &d))
            return slm_fail(err, "%s: tensor '%s' has a shape size that is not an integer >= 0", f->path, t->name);
        t->shape[t->ndim++] = (int64_t)d;
        n *= d;
    }
    if (n > MAX_EXACT) return slm_fail(err, "%s: tensor '%s' has a shape of over 2^53 bytes", f->path, t->name);
    *bytes = n;
    return 0;
}

// One header entry into t, checked against the data's size.
static int parse_entry(const slm_st_file *f, const cJSON *e, slm_st_tensor *t, size_t data_len, slm_err *err) {
    if (!cJSON_IsObject(e)) return slm_fail(err, "%s: tensor '%s' is not a JSON object", f->path, t->name);
    double bytes = 0, b, end;
    if (parse_dtype(f, t->name, cJSON_GetObjectItemCaseSensitive(e, "dtype"), &t->dtype, err) ||
        parse_shape(f, t, cJSON_GetObjectItemCaseSensitive(e, "shape"), &bytes, err))
        return -1;
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || json_size(cJSON_GetArrayItem(offs, 0), &b) ||
        json_size(cJSON_GetArrayItem(offs, 1), &end) || b > end)
        return slm_fail(err, "%s: tensor '%s' has no \"data_offsets\" [begin, end] with 0 <= begin <= end", f->path,
                        t->name);
    if (end > (double)data_len)
        return slm_fail(err, "%s: tensor '%s' has data_offsets [%.0f, %.0f] past the data (%zu bytes after the header)",
                        f->path, t->name, b, end, data_len);
    if (end - b != bytes)
        return slm_fail(err, "%s: tensor '%s' of %d dims in %s is %.0f bytes, but its data_offsets span %.0f", f->path,
                        t->name, t->ndim, slm_st_dtype_names[t->dtype], bytes, end - b);
    t->begin = (size_t)b;
    t->end = (size_t)end;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const slm_st_tensor *)a)->name, ((const slm_st_tensor *)b)->name);
}
static int by_begin(const void *a, const void *b) {
    const slm_st_tensor *x = *(const slm_st_tensor *const *)a, *y = *(const slm_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

// No name twice, no two tensors sharing a byte (empty tensors hold none).
static int check_together(const slm_st_file *f, slm_err *err) {
    qsort(f->t, (size_t)f->n, sizeof *f->t, by_name);
    for (int i = 1; i < f->n; i++)
        if (!strcmp(f->t[i - 1].name, f->t[i].name))
            return slm_fail(err, "%s: tensor '%s' appears twice in the header", f->path, f->t[i].name);
    const slm_st_tensor **order = slm_xcalloc((size_t)f->n + 1, sizeof *order);
    int m = 0, rc = 0;
    for (int i = 0; i < f->n; i++)
        if (f->t[i].end > f->t[i].begin) order[m++] = &f->t[i];
    qsort(order, (size_t)m, sizeof *order, by_begin);
    for (int i = 1; i < m && !rc; i++)
        if (order[i]->begin < order[i - 1]->end)
            rc = slm_fail(err, "%s: tensors '%s' and '%s' overlap (bytes [%zu, %zu) and [%zu, %zu) of the data)",
                          f->path, order[i - 1]->name, order[i]->name, order[i - 1]->begin, order[i - 1]->end,
                          order[i]->begin, order[i]->end);
    free(order);
    return rc;
}

static int check_metadata(const slm_st_file *f, const cJSON *meta, slm_err *err) {
    const cJSON *it;
    int ok = cJSON_IsObject(meta);
    if (ok) cJSON_ArrayForEach(it, meta) ok &= cJSON_IsString(it);
    return ok ? 0 : slm_fail(err, "%s: \"__metadata__\" is not an object of strings", f->path);
}

// The entries of the parsed header into f->t.
static int parse_entries(slm_st_file *f, const cJSON *root, const unsigned char *data, size_t data_len, slm_err *err) {
    f->t = slm_xcalloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *f->t);
    for (const cJSON *e = root->child; e; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            if (check_metadata(f, e, err)) return -1;
            continue;
        }
        slm_st_tensor *t = &f->t[f->n++];
        t->name = strdup(e->string);
        if (!t->name) slm_die(SLM_EXIT_FAIL, "out of host memory");
        if (parse_entry(f, e, t, data_len, err)) return -1;
        t->data = data + t->begin;
    }
    return check_together(f, err);
}

// Whether text[0, n) is padding only (what may follow the header's JSON).
static int padding_only(const char *text, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r' && text[i] != 0) return 0;
    return 1;
}

// The header's JSON: an object, followed by nothing but padding; NULL with err set.
static cJSON *parse_header(const slm_st_file *f, const char *text, size_t n, slm_err *err) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t pos = at && at >= text && at <= text + n ? (size_t)(at - text) : 0;
        slm_fail(err, "%s: the safetensors header is not valid JSON (at byte %zu of the file)", f->path, pos + 8);
    } else if (!cJSON_IsObject(root)) {
        slm_fail(err, "%s: the safetensors header is not a JSON object", f->path);
    } else if (!end || end < text || end > text + n || !padding_only(end, (size_t)(text + n - end))) {
        slm_fail(err, "%s: bytes other than spaces follow the JSON of the safetensors header", f->path);
    } else {
        return root;
    }
    cJSON_Delete(root);
    return NULL;
}

int slm_st_parse(slm_st_file *f, const void *buf, size_t len, const char *path, slm_err *err) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    const unsigned char *b = buf;
    uint64_t n = 0;
    if (len < 8)
        return slm_fail(err, "%s: not a safetensors file (%zu bytes, shorter than the 8-byte header length)", path,
                        len);
    for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
    if (n > SLM_ST_MAX_HEADER)
        return slm_fail(err, "%s: a safetensors header of %llu bytes is absurdly large (at most %llu)", path,
                        (unsigned long long)n, SLM_ST_MAX_HEADER);
    if (n > len - 8)
        return slm_fail(err, "%s: the safetensors header of %llu bytes is longer than the file (%zu bytes)", path,
                        (unsigned long long)n, len);
    cJSON *root = parse_header(f, (const char *)b + 8, (size_t)n, err);
    if (!root) return -1;
    int rc = parse_entries(f, root, b + 8 + n, len - 8 - (size_t)n, err);
    cJSON_Delete(root);
    if (rc) free_tensors(f);
    return rc;
}

int slm_st_open(slm_st_file *f, const char *path, slm_err *err) {
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return slm_fail(err, "cannot open %s", path);
    struct stat st;
    void *map = NULL;
    size_t len = 0;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        len = (size_t)st.st_size;
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) map = NULL;
    }
    close(fd);
    if (!map && len) return slm_fail(err, "%s: cannot map the file into memory", path);
    if (slm_st_parse(f, map ? map : "", len, path, err)) {
        if (map) munmap(map, len);
        return -1;
    }
    f->map = map;
    f->map_len = len;
    return 0;
}

void slm_st_close(slm_st_file *f) {
    free_tensors(f);
    if (f->map) munmap(f->map, f->map_len);
    memset(f, 0, sizeof *f);
}

const slm_st_tensor *slm_st_find(const slm_st_file *f, const char *name) {
    slm_st_tensor key = {.name = (char *)name};
    return f->n ? bsearch(&key, f->t, (size_t)f->n, sizeof *f->t, by_name) : NULL;
}

// IEEE half to float, exactly: normals rebiased, subnormals scaled, inf and NaN kept.
static float f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0) {
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    uint32_t u = sign | (exp == 0x1f ? 0x7f800000u : (exp + 112u) << 23) | man << 13;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

void slm_st_to_f32(const slm_st_tensor *t, float *out) {
    const size_t n = slm_st_numel(t);
    if (t->dtype == SLM_ST_F32) {
        memcpy(out, t->data, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, t->data + 2 * i, 2);
        out[i] = t->dtype == SLM_ST_BF16 ? slm_f32_from_bf16(h) : f16_to_f32(h);
    }
}
