// bpe.h — a byte-level BPE tokenizer. Token ids 0–255 are the bytes; each
// merge adds one token made of two earlier ones. Training pre-splits the text
// into chunks (a word with its leading space, a number, a punctuation run, a
// whitespace run) so merges never cross them, then repeatedly merges the most
// frequent adjacent pair (ties: the smallest pair of ids). Any byte string
// round-trips exactly, invalid UTF-8 and NUL bytes included.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct slm_bpe slm_bpe;

// vocab_size in [256, 1<<20]; stops early when no pair occurs twice.
int slm_bpe_train(slm_bpe **out, const unsigned char *text, size_t n, int vocab_size, slm_err *err);
// File: magic "SLMBPE01", u32 version, u32 merges, then each merge as two u32 ids.
int slm_bpe_save(const slm_bpe *t, const char *path, slm_err *err);
int slm_bpe_load(slm_bpe **out, const char *path, slm_err *err);
int slm_bpe_vocab_size(const slm_bpe *t);
uint32_t *slm_bpe_encode(const slm_bpe *t, const unsigned char *text, size_t n, size_t *n_tokens);  // malloc'd
const unsigned char *slm_bpe_token_bytes(const slm_bpe *t, uint32_t id, size_t *len);
unsigned char *slm_bpe_decode(const slm_bpe *t, const uint32_t *tokens, size_t n, size_t *n_bytes);  // malloc'd
void slm_bpe_free(slm_bpe *t);
