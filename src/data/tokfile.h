// tokfile.h — the token file: a 32-byte header (magic "SLMTOKS1", version,
// token width 2 or 4 bytes, token count, vocabulary size), then the tokens,
// little-endian. The reader checks every header field and the file size, and
// that every token is below the vocabulary, before handing out a token.
#pragma once
#include <stdint.h>

#include "core/err.h"

typedef struct {
    int width;                  // bytes per token: 2 or 4
    uint64_t count;             // tokens
    uint32_t vocab;             // vocabulary the tokens were made with, 0 = unknown
    const unsigned char *data;  // the tokens (mapped)
    void *map;
    size_t map_bytes;
} slm_tokfile;

int slm_tokfile_open(slm_tokfile *tf, const char *path, slm_err *err);
uint32_t slm_tokfile_get(const slm_tokfile *tf, uint64_t i);
void slm_tokfile_close(slm_tokfile *tf);
// Width 2 when vocab <= 65536, else 4. Written atomically (temp file, fsync, rename).
int slm_tokfile_write(const char *path, const uint32_t *tokens, uint64_t n, uint32_t vocab, slm_err *err);
