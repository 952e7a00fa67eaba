// hf_bpe.h — the BPE model of a tokenizer.json ("model": {"type": "BPE"}) as
// tokenizers runs it on byte-level pieces: each byte starts as the token of
// its character (byte_level.h), then the merge of lowest rank among adjacent
// pairs applies, the leftmost first, until none does (models/bpe/word.rs);
// with ignore_merges a piece that is itself in the vocabulary is that token.
// Merges are "a b" strings or ["a", "b"] pairs; a merge listed twice keeps
// its later rank, as tokenizers' map does. A byte whose character is not in
// the vocabulary becomes unk_token (runs of them one, with fuse_unk) or, with
// none, nothing. Refused: another model type (named), byte_fallback
// (SentencePiece's), dropout, a continuing_subword_prefix or
// end_of_word_suffix, a merge of tokens not in the vocabulary or whose
// concatenation is not, a string or an id listed twice, ids past 2^24.
#pragma once
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "data/ids.h"

typedef struct slm_hf_bpe slm_hf_bpe;

// model: the "model" object; path names the file in messages. NULL with err.
slm_hf_bpe *slm_hf_bpe_parse(const cJSON *model, const char *path, slm_err *err);
void slm_hf_bpe_free(slm_hf_bpe *m);
// Appends the tokens of the piece bytes[0..n) to out. Not for two threads at once.
void slm_hf_bpe_encode(slm_hf_bpe *m, const unsigned char *bytes, size_t n, slm_ids *out);
// The vocabulary's entries, and one more than its largest id.
uint32_t slm_hf_bpe_count(const slm_hf_bpe *m);
uint32_t slm_hf_bpe_id_limit(const slm_hf_bpe *m);
// The id of the token spelled s[0..n) in the vocabulary (its characters), or -1.
long slm_hf_bpe_id_of(const slm_hf_bpe *m, const char *s, size_t n);
// The spelling of id in the vocabulary (NUL-terminated), or NULL for an id it lacks.
const char *slm_hf_bpe_token(const slm_hf_bpe *m, uint32_t id);
