// safetensors.h — Hugging Face's weight files (the safetensors format): an
// 8-byte little-endian header length N, N bytes of JSON giving each tensor's
// dtype, shape and [begin, end) byte offsets into the data after the header
// (and "__metadata__", a map of strings), then the data.
//
// The parser works on bytes in memory (slm_st_parse), so a fuzz target and
// the tests can hand it any buffer; a file is mapped (mmap) and parsed in
// place, nothing copied until a tensor is converted. Everything in the header
// is checked before a byte of data is trusted, and every refusal is one line
// naming the file and the tensor: a header longer than the file or over
// 100 MB, JSON that is not an object of tensor entries, an unknown dtype, a
// shape whose bytes disagree with its offsets, offsets past the data,
// overlapping tensors, a name given twice. Reads F32, BF16 and F16, converted
// to fp32; writes F32 or BF16 (the atomic way, core/atomic_file.h).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum { SLM_ST_F32, SLM_ST_BF16, SLM_ST_F16 } slm_st_dtype;
extern const char *const slm_st_dtype_names[3];  // "F32", "BF16", "F16", as the header spells them

enum { SLM_ST_MAX_DIMS = 8 };
#define SLM_ST_MAX_HEADER 100000000ull  // bytes of header JSON, as the safetensors library allows

typedef struct {
    char *name;
    slm_st_dtype dtype;
    int ndim;
    int64_t shape[SLM_ST_MAX_DIMS];
    size_t begin, end;          // byte offsets into the data
    const unsigned char *data;  // the tensor's bytes (end - begin), in the buffer
} slm_st_tensor;

typedef struct {
    char path[4096];   // for messages
    int n;             // tensors
    slm_st_tensor *t;  // sorted by name
    void *map;         // the mapped file (slm_st_open), else NULL
    size_t map_len;
} slm_st_file;

// Parses buf[0, len) as a safetensors file (path names it in messages). The
// tensors point into buf, which must outlive f. -1 with err set when the
// bytes are not a well-formed safetensors file of F32, BF16 and F16 tensors;
// f is then empty and needs no close.
int slm_st_parse(slm_st_file *f, const void *buf, size_t len, const char *path, slm_err *err);
// Maps the file at path and parses it.
int slm_st_open(slm_st_file *f, const char *path, slm_err *err);
void slm_st_close(slm_st_file *f);

// The tensor of that name, or NULL.
const slm_st_tensor *slm_st_find(const slm_st_file *f, const char *name);
// Elements of a tensor (the parser checked that the product fits).
size_t slm_st_numel(const slm_st_tensor *t);
size_t slm_st_dtype_bytes(slm_st_dtype d);
// The tensor's elements as fp32 into out[numel]: F32 as it is, BF16 and F16
// widened exactly (subnormals, infinities and NaNs kept).
void slm_st_to_f32(const slm_st_tensor *t, float *out);

// One tensor to write: fp32 values, a shape of 1 or 2 dims.
typedef struct {
    const char *name;  // plain: letters, digits, '.', '_' (the layout's names)
    int ndim;
    int64_t shape[2];
    const float *data;
} slm_st_out;

// Writes the tensors, in order, to path in dtype (F32, or BF16 rounded to
// nearest even), with __metadata__ {"format": "pt"} as transformers expects;
// the header padded with spaces to a multiple of 8 bytes. Atomic: a temporary
// file, fsynced, renamed over path.
int slm_st_write(const char *path, const slm_st_out *t, int n, slm_st_dtype dtype, slm_err *err);
// Bytes of one tensor's data in dtype (what sharding counts, as transformers does).
size_t slm_st_tensor_bytes(const slm_st_out *t, slm_st_dtype dtype);
