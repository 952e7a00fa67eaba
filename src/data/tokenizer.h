// tokenizer.h — slm's own byte-level BPE (bpe.h) or a Hugging Face
// tokenizer.json (hf_tokenizer.h) behind one set of calls, for the commands
// that encode and decode with either.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "data/bpe.h"
#include "data/hf_tokenizer.h"

typedef struct {
    slm_bpe *bpe;  // exactly one of the two
    slm_hftok *hf;
} slm_tokenizer;

uint32_t slm_tokenizer_vocab(const slm_tokenizer *t);
// The ids of text[0..n): malloc'd, *n_tokens of them; *n_repaired: the
// ill-formed UTF-8 subparts a Hugging Face tokenizer read as U+FFFD (0 for
// slm's, which takes any bytes). NULL with err when encoding failed.
uint32_t *slm_tokenizer_encode(const slm_tokenizer *t, const unsigned char *text, size_t n, size_t *n_tokens,
                               size_t *n_repaired, slm_err *err);
// The bytes of one token; NULL and *len = 0 for an id that names none.
const unsigned char *slm_tokenizer_token_bytes(const slm_tokenizer *t, uint32_t id, size_t *len);
void slm_tokenizer_free(slm_tokenizer *t);
