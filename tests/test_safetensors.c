// test_safetensors.c — the safetensors reader and writer (model/safetensors.h):
// files transformers wrote (tests/data/hf) parse; F32 and BF16 written and read
// back (F32 bit for bit, BF16 as the rounding of each value); F16 widened
// exactly (zeros, subnormals, normals, the largest, infinities, NaN); every
// refusal of the reader from a damaged header, each message naming the file
// and the tensor; a truncated file on disk refused; and thousands of random
// damages of a good file parsed without reading a byte outside it (the
// sanitizer build makes that a crash).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/bf16.h"
#include "model/safetensors.h"
#include "testutil.h"

// A file image: the 8-byte length of `json`, json, then data_len zero bytes (malloc'd, exactly sized).
static unsigned char *image(const char *json, size_t data_len, size_t *len) {
    const size_t n = strlen(json);
    *len = 8 + n + data_len;
    unsigned char *b = calloc(*len, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(b + 8, json, n);
    return b;
}

// Parses json + data_len bytes and expects a refusal whose message holds `want` and the file's name.
static void refused(const char *json, size_t data_len, const char *want, const char *what) {
    size_t len;
    unsigned char *b = image(json, data_len, &len);
    slm_st_file f;
    slm_err err = {{0}};
    int rc = slm_st_parse(&f, b, len, "bad.safetensors", &err);
    t_check(rc == -1 && strstr(err.msg, want) && !strncmp(err.msg, "bad.safetensors: ", 17), "%s is refused: %s", what,
            err.msg);
    if (rc == 0) slm_st_close(&f);
    free(b);
}

static void check_refusals(void) {
    const char *w = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    size_t len;
    unsigned char *b = image(w, 16, &len);
    slm_st_file f;
    slm_err err;
    t_check(slm_st_parse(&f, b, len, "good.safetensors", &err) == 0 && f.n == 1, "a well-formed file parses");
    slm_st_close(&f);
    t_check(slm_st_parse(&f, b, 5, "bad.safetensors", &err) == -1 && strstr(err.msg, "shorter than the 8-byte"),
            "a file of 5 bytes is refused: %s", err.msg);
    t_check(slm_st_parse(&f, b, len - 20, "bad.safetensors", &err) == -1 && strstr(err.msg, "longer than the file"),
            "a header longer than the file is refused: %s", err.msg);
    b[3] = 0x10;  // 2^28 bytes of header
    t_check(slm_st_parse(&f, b, len, "bad.safetensors", &err) == -1 && strstr(err.msg, "absurdly large"),
            "a header of 256 MB is refused: %s", err.msg);
    free(b);
    refused("{\"w\":{\"dtype\":\"F32\"", 0, "not valid JSON", "a header that is not JSON");
    refused("[1, 2]", 0, "not a JSON object", "a header that is an array");
    refused("{}  xx", 0, "bytes other than spaces", "bytes after the header's JSON");
    refused("{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16, "tensor 'w' has dtype 'F64'",
            "an F64 tensor");
    refused("{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,1]}}", 16, "tensor 'w' has dtype 'Q4'",
            "an unknown dtype");
    refused("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", 16, "tensor 'w' has no \"shape\"",
            "a missing shape");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,2],\"data_offsets\":[0,16]}}", 16, "tensor 'w' has a shape size",
            "a negative size");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,0]}}", 16,
            "tensor 'w' has no \"data_offsets\"", "offsets that run backwards");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}", 16,
            "tensor 'w' has data_offsets [8, 24] past", "offsets past the data");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 32,
            "tensor 'w' of 2 dims in F32 is 24 bytes", "a shape whose bytes disagree with its offsets");
    refused(
        "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
        "\"v\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[4,12]}}",
        16, "tensors 'w' and 'v' overlap", "two tensors sharing bytes");
    refused(
        "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
        "\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}",
        16, "tensor 'w' appears twice", "a name given twice");
    refused("{\"__metadata__\":{\"format\":3}}", 0, "\"__metadata__\" is not an object of strings",
            "metadata that is not strings");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
            "tensor 'w' has no \"shape\" of at most 8", "a shape of 9 dims");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
            "tensor 'w' has a shape of over 2^53 bytes", "a shape whose bytes overflow");
}

// F32 written and read back bit for bit, BF16 as each value's rounding; the header padded to 8 bytes.
static void check_round_trip(void) {
    enum { R = 5, C = 7 };
    float a[R * C], v[C];
    uint64_t seed = 3;
    t_fill_uniform(a, R * C, &seed, -2, 2);
    t_fill_uniform(v, C, &seed, -1, 1);
    a[0] = INFINITY, a[1] = -0.0f, a[2] = 1e-40f, a[3] = NAN, a[4] = 3.4e38f;
    const slm_st_out out[2] = {{"model.layers.0.mlp.up_proj.weight", 2, {R, C}, a}, {"model.norm.weight", 1, {C}, v}};
    for (int d = 0; d < 2; d++) {
        const slm_st_dtype dt = d ? SLM_ST_BF16 : SLM_ST_F32;
        const char *path = t_tmp_path(d ? "bf16.safetensors" : "f32.safetensors");
        slm_err err;
        slm_st_file f;
        int ok = slm_st_write(path, out, 2, dt, &err) == 0 && slm_st_open(&f, path, &err) == 0;
        t_check(ok, "write and read back %s: %s", slm_st_dtype_names[dt], ok ? "ok" : err.msg);
        if (!ok) continue;
        uint64_t hlen;
        memcpy(&hlen, f.map, 8);
        int same = f.n == 2 && hlen % 8 == 0;
        for (int i = 0; i < 2 && same; i++) {
            const slm_st_tensor *t = slm_st_find(&f, out[i].name);
            size_t n = out[i].ndim == 2 ? R * C : C;
            float got[R * C];
            same = t && t->dtype == dt && t->ndim == out[i].ndim && slm_st_numel(t) == n;
            if (same) slm_st_to_f32(t, got);
            for (size_t j = 0; j < n && same; j++) {
                float want = d ? slm_f32_from_bf16(slm_bf16_from_f32(out[i].data[j])) : out[i].data[j];
                same = !memcmp(&want, &got[j], 4);
            }
        }
        t_check(same, "%s: both tensors, shapes and every value as written (%s), header %llu bytes",
                slm_st_dtype_names[dt], d ? "rounded to bf16" : "bit for bit", (unsigned long long)hlen);
        slm_st_close(&f);
    }
}

static void check_f16(void) {
    static const uint16_t h[] = {0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00};
    static const float want[] = {0.0f, -0.0f, 0x1p-24f, 0x3ffp-24f, 0x1p-14f,
                                 1.0f, -2.0f, 65504.0f, INFINITY,   -INFINITY};
    enum { N = sizeof h / sizeof h[0] };
    char json[128];
    snprintf(json, sizeof json, "{\"h\":{\"dtype\":\"F16\",\"shape\":[%d],\"data_offsets\":[0,%d]}}", N + 1,
             2 * (N + 1));
    size_t len;
    unsigned char *b = image(json, 2 * (N + 1), &len);
    unsigned char *data = b + len - 2 * (N + 1);
    memcpy(data, h, sizeof h);
    data[2 * N] = 0x00, data[2 * N + 1] = 0x7e;  // NaN
    slm_st_file f;
    slm_err err;
    float got[N + 1];
    int ok = slm_st_parse(&f, b, len, "f16.safetensors", &err) == 0;
    if (ok) slm_st_to_f32(&f.t[0], got);
    for (int i = 0; i < N && ok; i++) ok = !memcmp(&got[i], &want[i], 4);
    t_check(ok && isnan(got[N]), "F16 widened exactly: zeros, subnormals, normals, 65504, infinities, NaN");
    if (f.n) slm_st_close(&f);
    free(b);
}

// Transformers' own files parse; one cut short is refused, naming a tensor past the end.
static void check_hf_files(void) {
    static const char *const files[] = {"tests/data/hf/untied/model.safetensors",
                                        "tests/data/hf/bf16/model.safetensors",
                                        "tests/data/hf/sharded/model-00002-of-00004.safetensors"};
    static const slm_st_dtype dts[] = {SLM_ST_F32, SLM_ST_BF16, SLM_ST_F32};
    for (int i = 0; i < 3; i++) {
        slm_st_file f;
        slm_err err;
        int ok = slm_st_open(&f, t_source_path(files[i]), &err) == 0;
        t_check(ok && f.n > 0 && f.t[0].dtype == dts[i], "%s: %d tensors of %s", files[i], ok ? f.n : 0,
                ok ? slm_st_dtype_names[f.t[0].dtype] : err.msg);
        if (ok) slm_st_close(&f);
    }
    size_t n;
    unsigned char *whole = t_read_file(t_source_path(files[0]), &n);
    t_write_file("cut.safetensors", whole, n < 4096 ? n : 4096);
    free(whole);
    slm_st_file f;
    slm_err err;
    t_check(slm_st_open(&f, t_tmp_path("cut.safetensors"), &err) == -1 &&
                strstr(err.msg, "cut.safetensors: tensor '") && strstr(err.msg, "past the data"),
            "a file cut to 4096 bytes is refused: %s", err.msg);
}

// Random damage to a good file: the parser answers 0 or -1 and never reads outside the buffer.
static void check_damage(void) {
    const char *json =
        "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],"
        "\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
        "\"c\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[32,36]}}";
    size_t len;
    unsigned char *good = image(json, 36, &len);
    uint64_t seed = 11;
    int parsed = 0, refused_n = 0;
    for (int i = 0; i < 4000; i++) {
        size_t n = len;
        unsigned char *b = malloc(n);
        memcpy(b, good, n);
        const int kind = (int)(t_rand_u64(&seed) % 4);
        for (int k = 0; k < 1 + (int)(t_rand_u64(&seed) % 4); k++) {
            size_t at = t_rand_u64(&seed) % (kind == 0 ? 8 : n);  // kind 0: the length field
            b[at] = kind == 3 ? (unsigned char)"0123456789[]{},:\"-e."[t_rand_u64(&seed) % 20]
                              : (unsigned char)(b[at] ^ (1u << (t_rand_u64(&seed) % 8)));
        }
        if (kind == 2) n = t_rand_u64(&seed) % (n + 1);  // and cut short
        slm_st_file f;
        slm_err err;
        if (slm_st_parse(&f, b, n, "damaged.safetensors", &err) == 0) {
            float out[8];
            for (int t = 0; t < f.n; t++)
                if (slm_st_numel(&f.t[t]) <= 8) slm_st_to_f32(&f.t[t], out);
            slm_st_close(&f);
            parsed++;
        } else {
            refused_n++;
        }
        free(b);
    }
    free(good);
    t_check(parsed + refused_n == 4000, "4000 damaged files: %d refused, %d still well-formed, none read outside",
            refused_n, parsed);
}

int main(void) {
    check_refusals();
    check_round_trip();
    check_f16();
    check_hf_files();
    check_damage();
    return t_finish("test_safetensors");
}
