// safetensors_write.c — the writer of safetensors.h: the header built with
// cJSON (offsets are integers below 10^15, which cJSON prints as digits),
// padded with spaces to 8 bytes so every tensor starts aligned, then the data
// in the order given, converted to BF16 in chunks when asked.
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bf16.h"
#include "core/atomic_file.h"
#include "model/safetensors.h"

enum { CHUNK = 1 << 16 };

static size_t numel_of(const slm_st_out *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    return n;
}

size_t slm_st_tensor_bytes(const slm_st_out *t, slm_st_dtype dtype) { return numel_of(t) * slm_st_dtype_bytes(dtype); }

// The header JSON, unpadded (free with free()).
static char *header_json(const slm_st_out *t, int n, slm_st_dtype dtype) {
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(root, "__metadata__");
    cJSON_AddStringToObject(meta, "format", "pt");
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        const size_t bytes = slm_st_tensor_bytes(&t[i], dtype);
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name), *shape = cJSON_AddArrayToObject(e, "shape");
        cJSON *offs = cJSON_CreateArray();
        cJSON_AddStringToObject(e, "dtype", slm_st_dtype_names[dtype]);
        for (int d = 0; d < t[i].ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + bytes)));
        cJSON_AddItemToObject(e, "data_offsets", offs);
        off += bytes;
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    SLM_ASSERT(text, "cJSON could not print a safetensors header");
    return text;
}

// The tensor's values in dtype, chunk after chunk.
static int write_data(FILE *f, const slm_st_out *t, slm_st_dtype dtype, uint16_t *buf) {
    const size_t n = numel_of(t);
    if (dtype == SLM_ST_F32) return fwrite(t->data, sizeof(float), n, f) != n;
    for (size_t i = 0; i < n; i += CHUNK) {
        const size_t k = n - i < CHUNK ? n - i : CHUNK;
        for (size_t j = 0; j < k; j++) buf[j] = slm_bf16_from_f32(t->data[i + j]);
        if (fwrite(buf, sizeof *buf, k, f) != k) return -1;
    }
    return 0;
}

int slm_st_write(const char *path, const slm_st_out *t, int n, slm_st_dtype dtype, slm_err *err) {
    SLM_ASSERT(dtype == SLM_ST_F32 || dtype == SLM_ST_BF16, "safetensors are written in F32 or BF16");
    char *json = header_json(t, n, dtype);
    const size_t len = strlen(json), padded = (len + 7) / 8 * 8;
    unsigned char head[8];
    for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    slm_atomic_file af;
    if (slm_atomic_open(&af, path, "safetensors file", err)) {
        free(json);
        return -1;
    }
    int bad = fwrite(head, 1, 8, af.f) != 8 || fwrite(json, 1, len, af.f) != len;
    for (size_t i = len; i < padded && !bad; i++) bad = fputc(' ', af.f) == EOF;
    free(json);
    uint16_t *buf = slm_xmalloc(CHUNK * sizeof(uint16_t));
    for (int i = 0; i < n && !bad; i++) bad = write_data(af.f, &t[i], dtype, buf) != 0;
    free(buf);
    return slm_atomic_commit(&af, bad, err);
}
