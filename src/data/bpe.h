// bpe.h — a byte-level BPE tokenizer. Token ids 0–255 are the bytes; merge i
// makes token 256+i from two earlier tokens. Training pre-splits the text into
// chunks (a run of letters, of digits or of other punctuation, each with one
// leading space; or a run of whitespace; at most 128 bytes each) so that merges
// never cross them, then repeatedly merges the most frequent adjacent pair
// (ties: the smallest pair of ids, so training is deterministic). Encoding
// applies, inside each chunk, the earliest-made merge that applies until none
// does. Any byte string round-trips exactly, invalid UTF-8 and NULs included.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct slm_bpe slm_bpe;

// vocab_size in [256, 1<<20]. Stops early when no pair occurs twice: the
// vocabulary is then smaller than asked (see slm_bpe_vocab_size).
int slm_bpe_train(slm_bpe **out, const unsigned char *text, size_t n, int vocab_size, slm_err *err);
// File (little-endian): magic "SLMBPE01", u32 version (1), u32 merges M, then
// M pairs of u32 ids. Written atomically; the reader rejects a wrong magic or
// version, a size that disagrees with M, and a merge of tokens not made yet.
int slm_bpe_save(const slm_bpe *t, const char *path, slm_err *err);
int slm_bpe_load(slm_bpe **out, const char *path, slm_err *err);
// The same from the file's bytes already in memory (name for messages).
int slm_bpe_load_memory(slm_bpe **out, const unsigned char *buf, size_t bytes, const char *name, slm_err *err);
int slm_bpe_vocab_size(const slm_bpe *t);
// Token ids of text[0..n): malloc'd, *n_tokens of them (at most n).
uint32_t *slm_bpe_encode(const slm_bpe *t, const unsigned char *text, size_t n, size_t *n_tokens);
// The bytes of one token (for streaming decode); NULL and *len = 0 when id is
// outside the vocabulary.
const unsigned char *slm_bpe_token_bytes(const slm_bpe *t, uint32_t id, size_t *len);
// The bytes of n tokens, concatenated: malloc'd, *n_bytes of them. Ids
// outside the vocabulary contribute nothing.
unsigned char *slm_bpe_decode(const slm_bpe *t, const uint32_t *tokens, size_t n, size_t *n_bytes);
void slm_bpe_free(slm_bpe *t);
// The two tokens merge i (0 ≤ i < vocab - 256) joins into token 256+i.
void slm_bpe_merge(const slm_bpe *t, int i, uint32_t *a, uint32_t *b);

// The pre-splitting, for writing it in other terms (bpe_hf.c): each byte's
// class, and the longest chunk in bytes.
enum { SLM_BPE_SPACE, SLM_BPE_LETTER, SLM_BPE_DIGIT, SLM_BPE_PUNCT, SLM_BPE_CLASSES };
enum { SLM_BPE_MAX_CHUNK = 128 };
int slm_bpe_byte_class(unsigned char c);
