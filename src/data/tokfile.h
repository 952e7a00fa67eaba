// tokfile.h — the token file: what `slm tokenize` writes and `slm train` reads.
// Layout, little-endian (docs/formats.md):
//   bytes  0..7   magic "SLMTOKS1"
//          8..11  u32 version (1)
//         12..15  u32 token width in bytes: 2 when vocab <= 65536, else 4
//         16..23  u64 token count
//         24..27  u32 vocabulary the tokens were made with (0 = unknown)
//         28..31  u32 reserved (0)
//   then count tokens of that width.
// Key decision: the reader maps the file and checks everything once at open —
// header fields, the exact file size, and that every token is below the
// vocabulary (one pass over the tokens: about a second per billion, worth it
// so that the trainer can trust every id it is handed).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct {
    int width;                  // bytes per token: 2 or 4
    uint64_t count;             // tokens
    uint32_t vocab;             // vocabulary the tokens were made with, 0 = unknown
    const unsigned char *data;  // private: the tokens, inside the mapping
    void *map;                  // private: the mapped file (NULL: bytes in memory)
    size_t map_bytes;
} slm_tokfile;

// Opens and validates PATH; on failure tf is left closed and err names the file,
// what was expected and what was found.
int slm_tokfile_open(slm_tokfile *tf, const char *path, slm_err *err);
// The same checks over n bytes already in memory (name for messages); tf then
// points into bytes, which must outlive it, and slm_tokfile_close unmaps nothing.
int slm_tokfile_open_memory(slm_tokfile *tf, const void *bytes, size_t n, const char *name, slm_err *err);
// Token i, i < tf->count.
uint32_t slm_tokfile_get(const slm_tokfile *tf, uint64_t i);
void slm_tokfile_close(slm_tokfile *tf);
// Writes n tokens made with vocabulary `vocab` (0 = unknown, then width 4).
// Written atomically: a temporary file in the same directory, fsynced, renamed.
int slm_tokfile_write(const char *path, const uint32_t *tokens, uint64_t n, uint32_t vocab, slm_err *err);
